package blockfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

var testMagic = [4]byte{0xca, 0x12, 0x4e, 0x01}

func payload(i, n int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, n)
	copy(b, fmt.Sprint(i))
	return b
}

// TestWriteReadRollover ensures records come back as written, a file takes
// no block past its size limit, undo data goes to the undo file of its
// block's number, and the records (sizes, heights, counts) say what the
// files hold once synced.
func TestWriteReadRollover(t *testing.T) {
	dir := DirFS(t.TempDir())
	s, err := Open(dir, testMagic, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetMaxFileSize(10_000)
	var pos, undo []Pos
	for i := 0; i < 20; i++ {
		p, err := s.WriteBlock(payload(i, 1500), int32(100-i))
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, p)
		u, err := s.WriteUndo(p.File, chainhash.Hash{byte(i)}, payload(i, 300))
		if err != nil {
			t.Fatal(err)
		}
		undo = append(undo, u)
	}
	// 1508 bytes a record: six to a 10,000-byte file.
	if pos[5].File != 0 || pos[6].File != 1 || pos[19].File != 3 {
		t.Fatalf("files of blocks 5, 6, 19: %d, %d, %d; want 0, 1, 3", pos[5].File, pos[6].File, pos[19].File)
	}
	if s.Durable(pos[0], false) || s.Durable(undo[0], true) {
		t.Fatal("a record is durable before any sync")
	}
	infos, err := s.Sync()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 4 {
		t.Fatalf("%d changed records after the first sync, want 4", len(infos))
	}
	if fi := infos[1]; fi.Blocks != 6 || fi.Size != 6*1508 || fi.UndoSize != 6*(8+300+32) || fi.HeightMin != 89 || fi.HeightMax != 94 {
		t.Fatalf("record of file 1: %+v", fi)
	}
	if !s.Durable(pos[19], false) || !s.Durable(undo[19], true) {
		t.Fatal("a synced record is not durable")
	}
	if again, _ := s.Sync(); len(again) != 0 {
		t.Fatalf("a sync with nothing written changed %d records", len(again))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	recs := make([]FileInfo, len(infos))
	for n, fi := range infos {
		recs[n] = fi
	}
	s, err = Open(dir, testMagic, recs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, p := range pos {
		got, err := s.ReadBlock(p)
		if err != nil || !bytes.Equal(got, payload(i, 1500)) {
			t.Fatalf("block %d: %v", i, err)
		}
		u, err := s.ReadUndo(undo[i], chainhash.Hash{byte(i)})
		if err != nil || !bytes.Equal(u, payload(i, 300)) {
			t.Fatalf("undo %d: %v", i, err)
		}
	}
	if _, err := s.ReadUndo(undo[3], chainhash.Hash{4}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("undo data read for the wrong block: %v, want a checksum failure", err)
	}
	if _, err := s.ReadBlock(Pos{File: 0, Offset: pos[1].Offset + 1, Len: pos[1].Len}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a block read at a wrong offset: %v, want ErrCorrupt", err)
	}
	// New blocks go on in the last file.
	p, err := s.WriteBlock(payload(99, 100), 1)
	if err != nil || p.File != 3 {
		t.Fatalf("the next block went to file %d (%v), want 3", p.File, err)
	}
}

// TestOpenChecksRecords ensures a file shorter than its durable record is
// refused (it lost synced data), a longer one is taken with what follows
// counted as not durable, and an unknown file is taken as it is.
func TestOpenChecksRecords(t *testing.T) {
	root := t.TempDir()
	dir := DirFS(root)
	s, _ := Open(dir, testMagic, nil)
	a, _ := s.WriteBlock(payload(1, 1000), 1)
	infos, _ := s.Sync()
	b, _ := s.WriteBlock(payload(2, 1000), 2) // after the sync
	s.Close()
	rec := []FileInfo{infos[0]}

	s, err := Open(dir, testMagic, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Durable(a, false) || s.Durable(b, false) {
		t.Fatal("durability of the records before and after the sync is wrong")
	}
	if got, err := s.ReadBlock(b); err != nil || !bytes.Equal(got, payload(2, 1000)) {
		t.Fatalf("the record written after the sync: %v", err)
	}
	s.Close()

	if err := os.Truncate(filepath.Join(root, BlockName(0)), 500); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, testMagic, rec); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a block file shorter than its synced record: %v, want ErrCorrupt", err)
	}

	s, err = Open(dir, testMagic, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Infos(); len(got) != 1 || got[0].Size != 500 {
		t.Fatalf("an unknown file is taken as %+v", got)
	}
}

// TestPrune ensures pruned files are read no more, deleted only once their
// records were synced, and deleted again on open if a crash left them.
func TestPrune(t *testing.T) {
	root := t.TempDir()
	dir := DirFS(root)
	s, _ := Open(dir, testMagic, nil)
	s.SetMaxFileSize(3000)
	var pos []Pos
	for i := 0; i < 6; i++ {
		p, _ := s.WriteBlock(payload(i, 1400), int32(i))
		s.WriteUndo(p.File, chainhash.Hash{}, []byte{1})
		pos = append(pos, p)
	}
	s.Sync()
	usage := s.Usage()
	s.MarkPruned([]uint32{0, 1})
	if _, err := s.ReadBlock(pos[0]); !errors.Is(err, ErrPruned) {
		t.Fatalf("a pruned block read: %v, want ErrPruned", err)
	}
	if _, err := os.Stat(filepath.Join(root, BlockName(0))); err != nil {
		t.Fatal("a pruned file was deleted before its record was synced")
	}
	if err := s.RemovePruned(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, BlockName(0))); err != nil {
		t.Fatal("a pruned file was deleted before its record was synced")
	}
	infos, _ := s.Sync()
	if !infos[0].Pruned || !infos[1].Pruned || len(infos) != 2 {
		t.Fatalf("records after pruning: %+v", infos)
	}
	if got := s.Usage(); got >= usage || got != usage-2*(2*1408+2*(8+1+32)) {
		t.Fatalf("usage %d after pruning two of three files (was %d)", got, usage)
	}
	// A crash before the files went: the next open deletes them.
	s.Close()
	all := s.Infos()
	s, err := Open(dir, testMagic, all)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names, _ := dir.List()
	slices.Sort(names)
	if want := []string{BlockName(2), UndoName(2)}; !slices.Equal(names, want) {
		t.Fatalf("files after reopening with two pruned: %v, want %v", names, want)
	}
	if got, err := s.ReadBlock(pos[5]); err != nil || !bytes.Equal(got, payload(5, 1400)) {
		t.Fatalf("a kept block: %v", err)
	}
}

// TestFileInfoEncoding round-trips a record and refuses a damaged one.
func TestFileInfoEncoding(t *testing.T) {
	fi := FileInfo{Blocks: 7, Size: 1 << 27, UndoSize: 12345, HeightMin: -1, HeightMax: 1 << 30, Pruned: true}
	b, _ := fi.MarshalBinary()
	var got FileInfo
	if err := got.UnmarshalBinary(b); err != nil || got != fi {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if err := got.UnmarshalBinary(b[:len(b)-1]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a short record: %v", err)
	}
}
