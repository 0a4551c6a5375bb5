package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	ldberrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// openTest opens a database in a fresh temporary directory and closes it
// when the test ends.
func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(dir, 8)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dir
}

// write applies one batch of puts and fails the test on error.
func write(t *testing.T, db *DB, kv ...string) {
	t.Helper()
	b := new(Batch)
	for i := 0; i+1 < len(kv); i += 2 {
		b.Put([]byte(kv[i]), []byte(kv[i+1]))
	}
	if err := db.Write(b, false); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// TestOpenLocked ensures a second Open of a directory in use fails with an
// error wrapping ErrLocked, and succeeds once the first is closed.
func TestOpenLocked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := Open(dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Open(dir, 8)
	if !errors.Is(err, ErrLocked) {
		if second != nil {
			second.Close()
		}
		t.Fatalf("second open: got %v, want %v", err, ErrLocked)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(dir, 8)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	again.Close()
}

// TestOpenNotADirectory ensures Open refuses a path that is a file.
func TestOpenNotADirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(path, 8); err == nil {
		db.Close()
		t.Fatal("Open of a file succeeded")
	}
}

// TestGetMissing ensures Get of a missing key returns ErrNotFound and Has
// reports false, and that both see a key once written and not once deleted.
func TestGetMissing(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	if v, err := db.Get([]byte("k")); !errors.Is(err, ErrNotFound) || v != nil {
		t.Fatalf("Get of a missing key: %q, %v; want %v", v, err, ErrNotFound)
	}
	if ok, err := db.Has([]byte("k")); ok || err != nil {
		t.Fatalf("Has of a missing key: %v, %v", ok, err)
	}
	write(t, db, "k", "v")
	if v, err := db.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("Get: %q, %v", v, err)
	}
	if ok, err := db.Has([]byte("k")); !ok || err != nil {
		t.Fatalf("Has: %v, %v", ok, err)
	}
	b := new(Batch)
	b.Delete([]byte("k"))
	if err := db.Write(b, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Get([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after delete: %v, want %v", err, ErrNotFound)
	}
}

// TestBatch ensures a batch applies its puts and deletes in order, copies
// what it is given, reports its length and size, empties on Reset, and that
// what it wrote survives a reopen.
func TestBatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := Open(dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	write(t, db, "old", "1", "gone", "2")

	b := new(Batch)
	if b.Len() != 0 || b.Size() != 0 {
		t.Fatalf("empty batch: len %d size %d", b.Len(), b.Size())
	}
	key, val := []byte("new"), []byte("3")
	b.Put(key, val)
	key[0], val[0] = 'X', 'X' // the batch holds copies
	b.Delete([]byte("gone"))
	b.Put([]byte("old"), []byte("4"))
	b.Put([]byte("temp"), []byte("5"))
	b.Delete([]byte("temp"))
	if b.Len() != 5 || b.Size() == 0 {
		t.Fatalf("batch: len %d size %d, want 5 records", b.Len(), b.Size())
	}
	if err := db.Write(b, true); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if b.Len() != 0 {
		t.Fatalf("len %d after Reset", b.Len())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]string{"new": "3", "old": "4"}
	got := make(map[string]string)
	if err := db.ForEach(nil, func(k, v []byte) error { got[string(k)] = string(v); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after reopen: %v, want %v", got, want)
	}
}

// TestBatchAtomicity ensures a reader never sees part of a batch: while
// batches set a group of keys to the same new value, every iteration over
// the group finds one value throughout.
func TestBatchAtomicity(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	const keys = 20
	keyOf := func(i int) []byte { return []byte(fmt.Sprintf("g/%02d", i)) }
	put := func(gen int) error {
		b := new(Batch)
		for i := 0; i < keys; i++ {
			b.Put(keyOf(i), []byte(fmt.Sprint(gen)))
		}
		b.Put([]byte("h"), []byte(fmt.Sprint(gen))) // outside the prefix
		return db.Write(b, false)
	}
	if err := put(0); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for gen := 1; gen <= 300; gen++ {
			if err := put(gen); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			wg.Wait()
			if reads == 0 {
				t.Log("the writer finished before the first read")
			}
			return
		default:
		}
		var first []byte
		n := 0
		err := db.ForEach([]byte("g/"), func(k, v []byte) error {
			if first == nil {
				first = slices.Clone(v)
			} else if !bytes.Equal(v, first) {
				return fmt.Errorf("key %s holds generation %s, key %s generation %s", keyOf(0), first, k, v)
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatalf("partial batch seen: %v", err)
		}
		if n != keys {
			t.Fatalf("iteration saw %d keys, want %d", n, keys)
		}
	}
}

// TestForEachPrefix ensures ForEach visits exactly the keys with the prefix,
// in key order, and stops at the first error of fn, returning it.
func TestForEachPrefix(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	write(t, db, "a", "1", "b", "2", "b\x00", "3", "ba", "4", "b\xff", "5", "b\xff\xff", "6", "c", "7", "\xff", "8")
	tests := []struct {
		name   string
		prefix []byte
		want   []string
	}{
		{name: "all", prefix: nil, want: []string{"a", "b", "b\x00", "ba", "b\xff", "b\xff\xff", "c", "\xff"}},
		{name: "b", prefix: []byte("b"), want: []string{"b", "b\x00", "ba", "b\xff", "b\xff\xff"}},
		{name: "b 0xff", prefix: []byte("b\xff"), want: []string{"b\xff", "b\xff\xff"}},
		{name: "0xff", prefix: []byte("\xff"), want: []string{"\xff"}},
		{name: "none", prefix: []byte("d"), want: nil},
	}
	for _, test := range tests {
		var got []string
		if err := db.ForEach(test.prefix, func(k, _ []byte) error { got = append(got, string(k)); return nil }); err != nil {
			t.Errorf("%q: %v", test.name, err)
			continue
		}
		if !slices.Equal(got, test.want) {
			t.Errorf("%q: got %q, want %q", test.name, got, test.want)
		}
	}

	stop := errors.New("stop")
	calls := 0
	err := db.ForEach([]byte("b"), func(k, _ []byte) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("ForEach with fn failing on the second key: %v after %d calls", err, calls)
	}
}

// TestSnapshot ensures a snapshot keeps showing the database as it was
// when taken, through Get and ForEach, while later writes land.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	write(t, db, "a1", "x", "a2", "y")
	snap, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	b := new(Batch)
	b.Delete([]byte("a1"))
	b.Put([]byte("a3"), []byte("z"))
	b.Put([]byte("a2"), []byte("w"))
	if err := db.Write(b, false); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := snap.ForEach([]byte("a"), func(k, v []byte) error { got = append(got, string(k)+"="+string(v)); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1=x", "a2=y"}; !slices.Equal(got, want) {
		t.Errorf("snapshot holds %q, want %q", got, want)
	}
	if v, err := snap.Get([]byte("a1")); err != nil || string(v) != "x" {
		t.Errorf("snapshot Get(a1) = %q, %v", v, err)
	}
	if _, err := snap.Get([]byte("a3")); !errors.Is(err, ErrNotFound) {
		t.Errorf("snapshot Get(a3): %v, want ErrNotFound", err)
	}
	if v, _ := db.Get([]byte("a2")); string(v) != "w" {
		t.Errorf("database Get(a2) = %q after the write", v)
	}
}

// TestUseAfterClose ensures calls on a closed database return errors rather
// than panic.
func TestUseAfterClose(t *testing.T) {
	t.Parallel()
	db, err := Open(t.TempDir(), 8)
	if err != nil {
		t.Fatal(err)
	}
	write(t, db, "k", "v")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b := new(Batch)
	b.Put([]byte("k"), []byte("w"))
	calls := []struct {
		name string
		call func() error
	}{
		{name: "Get", call: func() error { _, err := db.Get([]byte("k")); return err }},
		{name: "Has", call: func() error { _, err := db.Has([]byte("k")); return err }},
		{name: "Write", call: func() error { return db.Write(b, true) }},
		{name: "ForEach", call: func() error { return db.ForEach(nil, func(_, _ []byte) error { return nil }) }},
	}
	for _, c := range calls {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
					t.Errorf("%q after Close panicked: %v", c.name, r)
				}
			}()
			return c.call()
		}()
		if err == nil {
			t.Errorf("%q after Close: no error", c.name)
		}
	}
}

// Damage done to database files by TestCorruptedFiles.
func overwriteMiddle(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	n := min(fi.Size()/2, 256)
	writeAt(t, path, fi.Size()/2-n/2, bytes.Repeat([]byte{0xa5}, int(n)))
}

func overwriteStart(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, path, 0, bytes.Repeat([]byte{0x5a}, int(min(fi.Size(), 64))))
}

func overwriteEnd(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	n := min(fi.Size(), 48)
	writeAt(t, path, fi.Size()-n, bytes.Repeat([]byte{0x33}, int(n)))
}

func truncateHalf(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// truncateTail cuts the last 500 bytes, as a crash in the middle of a
// journal write may.
func truncateTail(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, max(0, fi.Size()-500)); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptedFiles writes corruptionKeys keys in batches of
// corruptionBatch.
const (
	corruptionKeys  = 400
	corruptionBatch = 10
)

func corruptionKey(i int) []byte { return []byte(fmt.Sprintf("key%05d", i)) }

func corruptionValue(i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("value of %05d;", i)), 60)
}

// readOutcome is what reading a damaged database gave: one error (or nil)
// per step (open, each Get, the full iteration), a Get of a missing key
// counting as no error, and which keys read back with their values.
type readOutcome struct {
	steps []string
	errs  []error
	// found[i]: key i read back with its value, by Get and by the
	// iteration; other is the number of keys the iteration found that
	// were never written or had another value.
	found []bool
	other int
}

// intact reports whether every key read back with its value.
func (o *readOutcome) intact() bool {
	return len(o.found) == corruptionKeys && o.other == 0 && !slices.Contains(o.found, false)
}

// prefix reports whether the keys that read back are a whole number of the
// first batches written, and nothing else.
func (o *readOutcome) prefix() bool {
	n := slices.Index(o.found, false)
	if n < 0 {
		n = len(o.found)
	}
	return o.other == 0 && n%corruptionBatch == 0 && !slices.Contains(o.found[n:], true)
}

// readBack opens a database with open and reads every key back, turning a
// panic into a test failure. notFound tells a Get of a missing key.
func readBack(t *testing.T, what string, notFound func(error) bool,
	open func() (get func([]byte) ([]byte, error), each func(func(k, v []byte) error) error, close func() error, err error),
) (out readOutcome) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v\n%s", what, r, debug.Stack())
		}
	}()
	step := func(name string, err error) {
		out.steps = append(out.steps, name)
		out.errs = append(out.errs, err)
	}
	get, each, closeDB, err := open()
	step("open", err)
	if err != nil {
		return out
	}
	defer closeDB()
	out.found = make([]bool, corruptionKeys)
	for i := range out.found {
		v, err := get(corruptionKey(i))
		if notFound(err) {
			err = nil
		}
		step(fmt.Sprintf("get %s", corruptionKey(i)), err)
		out.found[i] = err == nil && bytes.Equal(v, corruptionValue(i))
	}
	seen := make([]bool, corruptionKeys)
	err = each(func(k, v []byte) error {
		var i int
		if _, err := fmt.Sscanf(string(k), "key%05d", &i); err != nil || i < 0 || i >= corruptionKeys ||
			!bytes.Equal(k, corruptionKey(i)) || !bytes.Equal(v, corruptionValue(i)) {
			out.other++
			return nil
		}
		seen[i] = true
		return nil
	})
	step("iterate", err)
	for i := range out.found {
		if seen[i] != out.found[i] {
			out.found[i] = false
			out.other++
		}
	}
	return out
}

// ldbOptions are the goleveldb options of Open, to read a damaged database
// the way Open does but without this package's error conversion.
func ldbOptions() *opt.Options {
	return &opt.Options{
		BlockCacheCapacity: 8 * opt.MiB,
		WriteBuffer:        32 * opt.MiB,
		Filter:             filter.NewBloomFilter(10),
		Compression:        opt.NoCompression,
	}
}

// isLdbCorruption reports whether goleveldb classifies err, or an error it
// wraps, as corruption.
func isLdbCorruption(err error) bool {
	var c1 *ldberrors.ErrCorrupted
	return ldberrors.IsCorrupted(err) || errors.As(err, &c1)
}

// copyDir copies the files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "LOCK" || e.IsDir() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
	return dst
}

// TestCorruptedFiles ensures that damage to any file of the database, once
// data was written, is reported as an error (never a panic, and never data
// silently lost or altered), and that whenever goleveldb itself classifies
// the error as corruption it wraps ErrCorruption. The exception is a journal
// cut short, what a crash in the middle of a write leaves: the database
// must open and hold the batches written before, whole.
func TestCorruptedFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// rounds of writing the keys, each in a new session; tables:
		// reopen once more before the damage, which moves the last
		// round's data from the journal into sorted tables.
		rounds int
		tables bool
		glob   string
		damage func(*testing.T, string)
		// torn: the damage is a crash's, and must leave a prefix of
		// the batches without any error.
		torn bool
	}{
		{name: "table block garbage", rounds: 1, tables: true, glob: "*.ldb", damage: overwriteMiddle},
		{name: "table start garbage", rounds: 1, tables: true, glob: "*.ldb", damage: overwriteStart},
		{name: "table footer garbage", rounds: 1, tables: true, glob: "*.ldb", damage: overwriteEnd},
		{name: "table truncated", rounds: 1, tables: true, glob: "*.ldb", damage: truncateHalf},
		{name: "table missing", rounds: 1, tables: true, glob: "*.ldb", damage: remove},
		{name: "journal garbage", rounds: 1, glob: "*.log", damage: overwriteMiddle},
		{name: "journal start garbage", rounds: 1, glob: "*.log", damage: overwriteStart},
		{name: "journal torn tail", rounds: 1, glob: "*.log", damage: truncateTail, torn: true},
		{name: "manifest garbage", rounds: 1, tables: true, glob: "MANIFEST-*", damage: overwriteMiddle},
		{name: "manifest garbage, four sessions", rounds: 4, tables: true, glob: "MANIFEST-*", damage: overwriteMiddle},
		{name: "manifest start garbage", rounds: 1, tables: true, glob: "MANIFEST-*", damage: overwriteStart},
		{name: "manifest truncated", rounds: 4, tables: true, glob: "MANIFEST-*", damage: truncateHalf},
		{name: "current garbage", rounds: 1, tables: true, glob: "CURRENT", damage: overwriteStart},
		{name: "current missing", rounds: 1, tables: true, glob: "CURRENT", damage: remove},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			per := corruptionKeys / test.rounds
			for r := 0; r < test.rounds; r++ {
				db, err := Open(dir, 8)
				if err != nil {
					t.Fatal(err)
				}
				for i := r * per; i < (r+1)*per; i += corruptionBatch {
					b := new(Batch)
					for j := i; j < i+corruptionBatch; j++ {
						b.Put(corruptionKey(j), corruptionValue(j))
					}
					if err := db.Write(b, false); err != nil {
						t.Fatal(err)
					}
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if test.tables {
				db, err := Open(dir, 8)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
			files, err := filepath.Glob(filepath.Join(dir, test.glob))
			if err != nil || len(files) == 0 {
				t.Fatalf("no %s file to damage (%v)", test.glob, err)
			}
			for _, f := range files {
				test.damage(t, f)
			}
			rawDir := copyDir(t, dir)

			got := readBack(t, "store", func(err error) bool { return errors.Is(err, ErrNotFound) },
				func() (func([]byte) ([]byte, error), func(func(k, v []byte) error) error, func() error, error) {
					db, err := Open(dir, 8)
					if err != nil {
						return nil, nil, nil, err
					}
					return db.Get, func(fn func(k, v []byte) error) error { return db.ForEach(nil, fn) }, db.Close, nil
				})
			raw := readBack(t, "goleveldb", func(err error) bool { return errors.Is(err, leveldb.ErrNotFound) },
				func() (func([]byte) ([]byte, error), func(func(k, v []byte) error) error, func() error, error) {
					ldb, err := leveldb.OpenFile(rawDir, ldbOptions())
					if err != nil {
						return nil, nil, nil, err
					}
					get := func(k []byte) ([]byte, error) { return ldb.Get(k, nil) }
					each := func(fn func(k, v []byte) error) error {
						it := ldb.NewIterator(util.BytesPrefix(nil), nil)
						defer it.Release()
						for it.Next() {
							if err := fn(it.Key(), it.Value()); err != nil {
								return err
							}
						}
						return it.Error()
					}
					return get, each, ldb.Close, nil
				})

			var firstErr error
			for i, err := range got.errs {
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if i < len(raw.errs) && isLdbCorruption(raw.errs[i]) && !errors.Is(err, ErrCorruption) {
					t.Errorf("%s: goleveldb reports corruption (%v), store returns %v, which does not wrap %v",
						got.steps[i], raw.errs[i], err, ErrCorruption)
				}
			}
			lost := 0
			for _, ok := range got.found {
				if !ok {
					lost++
				}
			}
			switch {
			case test.torn:
				if firstErr != nil || !got.prefix() {
					t.Errorf("after a torn journal write: error %v, %d keys lost, %d unexpected; want a prefix of the batches",
						firstErr, lost, got.other)
				}
			case firstErr != nil:
				t.Logf("reported: %v", firstErr)
			case got.intact():
				t.Logf("the damage did not affect the data")
			default:
				t.Errorf("%d of %d keys lost or altered (%d unexpected records) without any error", lost, corruptionKeys, got.other)
			}
		})
	}
}
