// Package blockfile keeps block bodies and their undo data in append-only
// flat files, as Bitcoin Core does: blocks in blk?????.dat, each as the
// network magic, its length and its serialization; the outputs each block
// spent in the rev?????.dat of the same number, each as the magic, its
// length, the data and a checksum (double SHA-256 of the block hash and the
// data). A file is closed to new blocks at MaxFileSize. The chain's index
// keeps where each block and undo record is ([Pos]) and, per file, a
// [FileInfo]; the files are synced before the index that points into them
// is written, so that no index entry can outlive its body after a power
// loss. Old files are deleted whole when the node prunes.
//
// Nothing here knows the chain: the caller says what to write and where to
// read, and keeps the index.
package blockfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// MaxFileSize is the size at which a block file takes no more blocks
// (Bitcoin Core's MAX_BLOCKFILE_SIZE).
const MaxFileSize = 128 << 20

const (
	frameHeader   = 8 // magic and length
	checksumBytes = chainhash.HashSize
	// maxWriters bounds the files held open for appending.
	maxWriters = 8
)

var (
	// ErrCorrupt is wrapped by errors about files whose contents are not
	// what the index says.
	ErrCorrupt = errors.New("blockfile: damaged block file")
	// ErrPruned is wrapped by reads of a file deleted by pruning.
	ErrPruned = errors.New("blockfile: block data pruned")
)

// Pos locates a record's data: the file number, the offset of its first
// byte (past the frame header) and its length.
type Pos struct {
	File, Offset, Len uint32
}

// FileInfo describes one block file and its undo file (Bitcoin Core's
// CBlockFileInfo).
type FileInfo struct {
	// Blocks is the number of blocks written to the file.
	Blocks uint32
	// Size and UndoSize are the lengths of the block and undo files.
	Size, UndoSize uint32
	// HeightMin and HeightMax bound the heights of its blocks.
	HeightMin, HeightMax int32
	// Pruned: the files were deleted.
	Pruned bool
}

// fileInfoLen is the length of an encoded FileInfo.
const fileInfoLen = 4*5 + 1

// MarshalBinary encodes the info for the index.
func (fi FileInfo) MarshalBinary() ([]byte, error) {
	b := make([]byte, fileInfoLen)
	binary.LittleEndian.PutUint32(b[0:], fi.Blocks)
	binary.LittleEndian.PutUint32(b[4:], fi.Size)
	binary.LittleEndian.PutUint32(b[8:], fi.UndoSize)
	binary.LittleEndian.PutUint32(b[12:], uint32(fi.HeightMin))
	binary.LittleEndian.PutUint32(b[16:], uint32(fi.HeightMax))
	if fi.Pruned {
		b[20] = 1
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (fi *FileInfo) UnmarshalBinary(b []byte) error {
	if len(b) != fileInfoLen || b[20] > 1 {
		return fmt.Errorf("%w: file record of %d bytes", ErrCorrupt, len(b))
	}
	*fi = FileInfo{
		Blocks:    binary.LittleEndian.Uint32(b[0:]),
		Size:      binary.LittleEndian.Uint32(b[4:]),
		UndoSize:  binary.LittleEndian.Uint32(b[8:]),
		HeightMin: int32(binary.LittleEndian.Uint32(b[12:])),
		HeightMax: int32(binary.LittleEndian.Uint32(b[16:])),
		Pruned:    b[20] == 1,
	}
	return nil
}

// BlockName and UndoName are the names of file number n.
func BlockName(n uint32) string { return fmt.Sprintf("blk%05d.dat", n) }
func UndoName(n uint32) string  { return fmt.Sprintf("rev%05d.dat", n) }

// parseName returns the number and kind of a block or undo file name.
func parseName(name string) (n uint32, undo, ok bool) {
	var digits string
	switch {
	case strings.HasPrefix(name, "blk") && strings.HasSuffix(name, ".dat"):
		digits = name[3 : len(name)-4]
	case strings.HasPrefix(name, "rev") && strings.HasSuffix(name, ".dat"):
		digits, undo = name[3:len(name)-4], true
	default:
		return 0, false, false
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || len(digits) < 5 {
		return 0, false, false
	}
	return uint32(v), undo, true
}

// Store appends to and reads the block and undo files of one directory.
// Its methods are safe for concurrent access.
type Store struct {
	fs      FS
	magic   [4]byte
	maxSize int64

	mu sync.Mutex
	// infos are the files as written; durable as of the last Sync.
	infos   []FileInfo
	durable []FileInfo
	changed map[uint32]struct{}
	usage   int64 // the sum of the sizes in infos
	// writers are files open for appending, with their use order.
	writers map[string]File
	lru     []string
	dirty   map[string]struct{}
}

// Open opens the files of fsys. infos are the file records the index holds
// (nil for a new store): a file must be at least as long as its record says,
// since the record was written only after the file was synced; what lies
// beyond was written after the last sync and is for the caller to check
// (see [Store.Durable]). Files the records do not know yet are taken as
// they are; files of pruned records are deleted.
func Open(fsys FS, magic [4]byte, infos []FileInfo) (*Store, error) {
	s := &Store{
		fs:      fsys,
		magic:   magic,
		maxSize: MaxFileSize,
		infos:   append([]FileInfo(nil), infos...),
		durable: append([]FileInfo(nil), infos...),
		changed: make(map[uint32]struct{}),
		writers: make(map[string]File),
		dirty:   make(map[string]struct{}),
	}
	names, err := fsys.List()
	if err != nil {
		return nil, fmt.Errorf("blockfile: list: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		n, _, ok := parseName(name)
		if !ok {
			continue
		}
		if int(n) < len(s.infos) && s.infos[n].Pruned {
			if err := fsys.Remove(name); err != nil {
				return nil, fmt.Errorf("blockfile: remove pruned %s: %w", name, err)
			}
			continue
		}
		for int(n) >= len(s.infos) {
			s.changed[uint32(len(s.infos))] = struct{}{}
			s.infos = append(s.infos, FileInfo{HeightMin: -1, HeightMax: -1})
			s.durable = append(s.durable, FileInfo{HeightMin: -1, HeightMax: -1})
		}
	}
	for n := range s.infos {
		fi := &s.infos[n]
		if fi.Pruned {
			continue
		}
		for _, undo := range []bool{false, true} {
			size, err := s.fileSize(uint32(n), undo)
			if err != nil {
				return nil, err
			}
			rec := &fi.Size
			name := BlockName(uint32(n))
			if undo {
				rec, name = &fi.UndoSize, UndoName(uint32(n))
			}
			if size < int64(*rec) {
				return nil, fmt.Errorf("%w: %s has %d bytes, the index recorded %d after syncing it",
					ErrCorrupt, name, size, *rec)
			}
			if size > int64(*rec) {
				*rec = uint32(size)
				s.changed[uint32(n)] = struct{}{}
			}
		}
		s.usage += int64(fi.Size) + int64(fi.UndoSize)
	}
	return s, nil
}

// fileSize returns the length of a file, 0 when it does not exist.
func (s *Store) fileSize(n uint32, undo bool) (int64, error) {
	name := BlockName(n)
	if undo {
		name = UndoName(n)
	}
	f, err := s.fs.Open(name, false)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("blockfile: open %s: %w", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return 0, fmt.Errorf("blockfile: size of %s: %w", name, err)
	}
	return size, nil
}

// SetContents sets what file n holds (its block count and height range),
// as the caller's index says: after a crash, a file may hold blocks its
// durable record does not count.
func (s *Store) SetContents(n uint32, blocks uint32, heightMin, heightMax int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if int(n) >= len(s.infos) || s.infos[n].Pruned {
		return
	}
	fi := &s.infos[n]
	if fi.Blocks != blocks || fi.HeightMin != heightMin || fi.HeightMax != heightMax {
		fi.Blocks, fi.HeightMin, fi.HeightMax = blocks, heightMin, heightMax
		s.changed[n] = struct{}{}
	}
}

// SetMaxFileSize changes the size at which a file takes no more blocks
// (tests use small files).
func (s *Store) SetMaxFileSize(n int64) {
	s.mu.Lock()
	s.maxSize = n
	s.mu.Unlock()
}

// WriteBlock appends a block at height to the current file, or to a new
// one when it would pass the size limit, and returns where it is. It is
// not durable before the next Sync.
func (s *Store) WriteBlock(raw []byte, height int32) (Pos, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.infos) == 0 {
		s.newFileLocked()
	}
	n := uint32(len(s.infos) - 1)
	fi := &s.infos[n]
	if fi.Size > 0 && int64(fi.Size)+frameHeader+int64(len(raw)) > s.maxSize {
		n = s.newFileLocked()
		fi = &s.infos[n]
	}
	if int64(fi.Size)+frameHeader+int64(len(raw)) > 1<<32-1 {
		return Pos{}, fmt.Errorf("blockfile: %s would pass 4 GiB", BlockName(n))
	}
	frame := make([]byte, frameHeader, frameHeader+len(raw))
	copy(frame, s.magic[:])
	binary.LittleEndian.PutUint32(frame[4:], uint32(len(raw)))
	frame = append(frame, raw...)
	if err := s.appendLocked(BlockName(n), int64(fi.Size), frame); err != nil {
		return Pos{}, err
	}
	pos := Pos{File: n, Offset: fi.Size + frameHeader, Len: uint32(len(raw))}
	fi.Size += uint32(len(frame))
	s.usage += int64(len(frame))
	if fi.Blocks == 0 || height < fi.HeightMin {
		fi.HeightMin = height
	}
	if fi.Blocks == 0 || height > fi.HeightMax {
		fi.HeightMax = height
	}
	fi.Blocks++
	s.changed[n] = struct{}{}
	return pos, nil
}

// newFileLocked starts a new block file and returns its number.
// This function MUST be called with s.mu held.
func (s *Store) newFileLocked() uint32 {
	n := uint32(len(s.infos))
	s.infos = append(s.infos, FileInfo{HeightMin: -1, HeightMax: -1})
	s.durable = append(s.durable, FileInfo{HeightMin: -1, HeightMax: -1})
	s.changed[n] = struct{}{}
	return n
}

// WriteUndo appends the undo data of block hash, stored in block file
// file, to the undo file of the same number. It is not durable before the
// next Sync.
func (s *Store) WriteUndo(file uint32, hash chainhash.Hash, undo []byte) (Pos, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if int(file) >= len(s.infos) || s.infos[file].Pruned {
		return Pos{}, fmt.Errorf("%w: undo for %s", ErrPruned, BlockName(file))
	}
	fi := &s.infos[file]
	if int64(fi.UndoSize)+frameHeader+int64(len(undo))+checksumBytes > 1<<32-1 {
		return Pos{}, fmt.Errorf("blockfile: %s would pass 4 GiB", UndoName(file))
	}
	frame := make([]byte, frameHeader, frameHeader+len(undo)+checksumBytes)
	copy(frame, s.magic[:])
	binary.LittleEndian.PutUint32(frame[4:], uint32(len(undo)))
	frame = append(frame, undo...)
	sum := undoChecksum(hash, undo)
	frame = append(frame, sum[:]...)
	if err := s.appendLocked(UndoName(file), int64(fi.UndoSize), frame); err != nil {
		return Pos{}, err
	}
	pos := Pos{File: file, Offset: fi.UndoSize + frameHeader, Len: uint32(len(undo))}
	fi.UndoSize += uint32(len(frame))
	s.usage += int64(len(frame))
	s.changed[file] = struct{}{}
	return pos, nil
}

// undoChecksum is Bitcoin Core's undo checksum: the double SHA-256 of the
// block hash and the undo data.
func undoChecksum(hash chainhash.Hash, undo []byte) chainhash.Hash {
	b := make([]byte, 0, chainhash.HashSize+len(undo))
	b = append(b, hash[:]...)
	b = append(b, undo...)
	return chainhash.DoubleHashH(b)
}

// appendLocked writes data at offset off of the named file.
// This function MUST be called with s.mu held.
func (s *Store) appendLocked(name string, off int64, data []byte) error {
	f, err := s.writerLocked(name)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(data, off); err != nil {
		return fmt.Errorf("blockfile: write %s: %w", name, err)
	}
	s.dirty[name] = struct{}{}
	return nil
}

// writerLocked returns the named file open for appending, closing (after a
// sync, if written) the one used longest ago when too many are open.
// This function MUST be called with s.mu held.
func (s *Store) writerLocked(name string) (File, error) {
	for i, w := range s.lru {
		if w == name {
			copy(s.lru[i:], s.lru[i+1:])
			s.lru[len(s.lru)-1] = name
			return s.writers[name], nil
		}
	}
	if len(s.lru) >= maxWriters {
		if err := s.closeWriterLocked(s.lru[0]); err != nil {
			return nil, err
		}
	}
	f, err := s.fs.Open(name, true)
	if err != nil {
		return nil, fmt.Errorf("blockfile: open %s: %w", name, err)
	}
	s.writers[name] = f
	s.lru = append(s.lru, name)
	return f, nil
}

// closeWriterLocked syncs (if written) and closes an append handle.
// This function MUST be called with s.mu held.
func (s *Store) closeWriterLocked(name string) error {
	f := s.writers[name]
	if f == nil {
		return nil
	}
	if _, ok := s.dirty[name]; ok {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("blockfile: sync %s: %w", name, err)
		}
		delete(s.dirty, name)
	}
	delete(s.writers, name)
	for i, w := range s.lru {
		if w == name {
			s.lru = append(s.lru[:i], s.lru[i+1:]...)
			break
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("blockfile: close %s: %w", name, err)
	}
	return nil
}

// SyncData makes everything written so far durable, without taking note
// of it for the records (Sync does that).
func (s *Store) SyncData() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked()
}

// syncLocked syncs the files written since their last sync.
// This function MUST be called with s.mu held.
func (s *Store) syncLocked() error {
	names := make([]string, 0, len(s.dirty))
	for name := range s.dirty {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if w := s.writers[name]; w != nil {
			if err := w.Sync(); err != nil {
				return fmt.Errorf("blockfile: sync %s: %w", name, err)
			}
		}
		delete(s.dirty, name)
	}
	return nil
}

// Sync makes everything written so far durable and returns the records of
// the files that changed since the last Sync, for the caller to write to
// its index (after Sync, never before).
func (s *Store) Sync() (map[uint32]FileInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.syncLocked(); err != nil {
		return nil, err
	}
	out := make(map[uint32]FileInfo, len(s.changed))
	for n := range s.changed {
		out[n] = s.infos[n]
		s.durable[n] = s.infos[n]
	}
	clear(s.changed)
	return out, nil
}

// Durable reports whether the record at pos (undo: in the undo file) lies
// within what the index recorded as synced. A record beyond was written
// after the last Sync: after a power loss it may be gone or torn, and the
// caller checks it before trusting it.
func (s *Store) Durable(pos Pos, undo bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if int(pos.File) >= len(s.durable) {
		return false
	}
	fi := s.durable[pos.File]
	end := int64(pos.Offset) + int64(pos.Len)
	if undo {
		return end+checksumBytes <= int64(fi.UndoSize)
	}
	return end <= int64(fi.Size)
}

// ReadBlock returns the block stored at pos.
func (s *Store) ReadBlock(pos Pos) ([]byte, error) {
	return s.read(pos, false)
}

// ReadUndo returns the undo data of block hash stored at pos, after
// checking its checksum.
func (s *Store) ReadUndo(pos Pos, hash chainhash.Hash) ([]byte, error) {
	frame, err := s.read(pos, true)
	if err != nil {
		return nil, err
	}
	undo, sum := frame[:pos.Len], frame[pos.Len:]
	if want := undoChecksum(hash, undo); !bytes.Equal(sum, want[:]) {
		return nil, fmt.Errorf("%w: undo data of %v in %s at %d fails its checksum",
			ErrCorrupt, hash, UndoName(pos.File), pos.Offset)
	}
	return undo, nil
}

// read reads the record at pos with its frame header checked; an undo
// record comes with its checksum.
func (s *Store) read(pos Pos, undo bool) ([]byte, error) {
	name, extra := BlockName(pos.File), 0
	if undo {
		name, extra = UndoName(pos.File), checksumBytes
	}
	s.mu.Lock()
	pruned := int(pos.File) < len(s.infos) && s.infos[pos.File].Pruned
	s.mu.Unlock()
	if pruned || pos.Offset < frameHeader {
		if pruned {
			return nil, fmt.Errorf("%w: %s", ErrPruned, name)
		}
		return nil, fmt.Errorf("%w: record at %d of %s", ErrCorrupt, pos.Offset, name)
	}
	f, err := s.fs.Open(name, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing", ErrCorrupt, name)
	}
	if err != nil {
		return nil, fmt.Errorf("blockfile: open %s: %w", name, err)
	}
	defer f.Close()
	buf := make([]byte, frameHeader+int(pos.Len)+extra)
	if _, err := f.ReadAt(buf, int64(pos.Offset)-frameHeader); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s ends before the record at %d", ErrCorrupt, name, pos.Offset)
		}
		return nil, fmt.Errorf("blockfile: read %s: %w", name, err)
	}
	if !bytes.Equal(buf[:4], s.magic[:]) || binary.LittleEndian.Uint32(buf[4:]) != pos.Len {
		return nil, fmt.Errorf("%w: no record of %d bytes at %d of %s", ErrCorrupt, pos.Len, pos.Offset, name)
	}
	return buf[frameHeader:], nil
}

// Infos returns the records of all files, as written.
func (s *Store) Infos() []FileInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]FileInfo(nil), s.infos...)
}

// Usage returns the bytes the block and undo files take.
func (s *Store) Usage() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Current returns the number of the file new blocks go to.
func (s *Store) Current() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint32(max(len(s.infos)-1, 0))
}

// MarkPruned records files as pruned: they are read no more, and their
// records, changed, go out with the next Sync. The files themselves are
// deleted by RemovePruned, once the caller wrote the records and whatever
// pointed into the files.
func (s *Store) MarkPruned(files []uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range files {
		if int(n) >= len(s.infos) || s.infos[n].Pruned {
			continue
		}
		s.usage -= int64(s.infos[n].Size) + int64(s.infos[n].UndoSize)
		s.infos[n] = FileInfo{Pruned: true, HeightMin: s.infos[n].HeightMin, HeightMax: s.infos[n].HeightMax}
		s.changed[n] = struct{}{}
	}
}

// RemovePruned deletes the files of durable pruned records.
func (s *Store) RemovePruned() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.fs.List()
	if err != nil {
		return fmt.Errorf("blockfile: list: %w", err)
	}
	for _, name := range names {
		n, _, ok := parseName(name)
		if !ok || int(n) >= len(s.durable) || !s.durable[n].Pruned {
			continue
		}
		if err := s.closeWriterLocked(name); err != nil {
			return err
		}
		if err := s.fs.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("blockfile: remove %s: %w", name, err)
		}
	}
	return nil
}

// Close syncs and closes the open files.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for len(s.lru) > 0 {
		if err := s.closeWriterLocked(s.lru[0]); err != nil {
			errs = append(errs, err)
			name := s.lru[0]
			s.writers[name].Close()
			delete(s.writers, name)
			delete(s.dirty, name)
			s.lru = s.lru[1:]
		}
	}
	return errors.Join(errs...)
}
