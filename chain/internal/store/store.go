// Package store is the chain's key-value storage: a thin layer over goleveldb
// that converts its errors once, at this edge, so that nothing above it
// imports goleveldb. Every change that must be atomic goes through one
// [Batch] written by [DB.Write].
package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/syndtr/goleveldb/leveldb"
	ldberrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/journal"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

var (
	// ErrNotFound is returned by [DB.Get] for a missing key.
	ErrNotFound = errors.New("store: not found")

	// ErrCorruption is wrapped by every error caused by damaged database
	// files; the node must stop and the operator repair or resync.
	ErrCorruption = errors.New("store: database corruption")

	// ErrLocked is returned by [Open] when another process holds the
	// database.
	ErrLocked = errors.New("store: database is in use by another process")
)

// DB is an open key-value database.
type DB struct {
	ldb     *leveldb.DB
	stor    storage.Storage
	journal *journalSyncStorage // nil in tests of bare storages
	dir     string
}

// Open opens (creating if needed) the database in dir. cacheMiB sizes
// goleveldb's block cache.
func Open(dir string, cacheMiB int) (*DB, error) {
	if err := checkJournals(dir); err != nil {
		return nil, err
	}
	stor, err := storage.OpenFile(dir, false)
	if err != nil {
		return nil, convertErr(fmt.Sprintf("open %s", dir), err)
	}
	db, err := openStorage(&journalSyncStorage{Storage: stor}, options(cacheMiB))
	if err != nil {
		stor.Close()
		return nil, convertErr(fmt.Sprintf("open %s", dir), err)
	}
	db.dir = dir
	return db, nil
}

// OpenStorage opens (creating if needed) the database kept in stor, as Open
// does in a directory, with a memtable of writeBuffer bytes (0: Open's); the
// DB closes stor. Tests use it to run the chain on a storage that simulates
// power cuts, with a small memtable so that the journal rotates often.
func OpenStorage(stor storage.Storage, cacheMiB, writeBuffer int) (*DB, error) {
	o := options(cacheMiB)
	if writeBuffer > 0 {
		o.WriteBuffer = writeBuffer
	}
	db, err := openStorage(&journalSyncStorage{Storage: stor}, o)
	if err != nil {
		return nil, convertErr("open", err)
	}
	return db, nil
}

// options returns the goleveldb options of a database with a block cache
// of cacheMiB (at least 8).
func options(cacheMiB int) *opt.Options {
	return &opt.Options{
		BlockCacheCapacity: max(cacheMiB, 8) * opt.MiB,
		WriteBuffer:        32 * opt.MiB,
		Filter:             filter.NewBloomFilter(10),
		Compression:        opt.NoCompression,
	}
}

// openStorage opens the database kept in stor, which the DB closes.
func openStorage(stor storage.Storage, o *opt.Options) (*DB, error) {
	ldb, err := leveldb.Open(stor, o)
	if err != nil {
		return nil, err
	}
	js, _ := stor.(*journalSyncStorage)
	return &DB{ldb: ldb, stor: stor, journal: js}, nil
}

// journalSyncStorage makes goleveldb sync each write-ahead journal before
// it closes it. goleveldb closes the journal it rotates away from (when a
// memtable fills) without a sync, so a batch written without sync just
// before the rotation could be lost in a power cut while a synced batch
// written after it, in the next journal, survives: the node would find a
// durable record that refers to data that is gone (an index entry without
// its block, a tip without its index entry). With every journal synced
// when closed, a synced write makes everything written before it durable,
// which is what the chain relies on. Before any journal sync it runs the
// hook set by BeforeJournalSync: the chain syncs its block files there, so
// that whatever durable record a sync makes of an index entry, the block
// it points to is durable first.
type journalSyncStorage struct {
	storage.Storage
	hook atomic.Pointer[func() error]
}

// Create implements storage.Storage.
func (s *journalSyncStorage) Create(fd storage.FileDesc) (storage.Writer, error) {
	w, err := s.Storage.Create(fd)
	if err != nil || fd.Type != storage.TypeJournal {
		return w, err
	}
	return journalWriter{w, s}, nil
}

// beforeSync runs the hook, if any.
func (s *journalSyncStorage) beforeSync() error {
	if h := s.hook.Load(); h != nil {
		return (*h)()
	}
	return nil
}

// journalWriter is a journal writer that runs the hook before each sync
// and syncs before it closes.
type journalWriter struct {
	storage.Writer
	s *journalSyncStorage
}

// Sync implements storage.Syncer.
func (w journalWriter) Sync() error {
	if err := w.s.beforeSync(); err != nil {
		return err
	}
	return w.Writer.Sync()
}

// Close implements io.Closer.
func (w journalWriter) Close() error {
	serr := w.Sync()
	return errors.Join(serr, w.Writer.Close())
}

// BeforeJournalSync makes fn run before every sync of the write-ahead
// journal (a synced write, or the rotation to a new journal); an error
// fails the write.
func (db *DB) BeforeJournalSync(fn func() error) { db.journal.hook.Store(&fn) }

// DiskSize returns the bytes the database's files take.
func (db *DB) DiskSize() int64 {
	if db.dir == "" {
		return 0 // a storage opened by OpenStorage
	}
	var total int64
	entries, _ := os.ReadDir(db.dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
	}
	return total
}

// checkJournals refuses to open a database whose write-ahead journal is
// damaged in the middle. goleveldb, by default, skips a damaged journal
// block and replays the batches after it, which would apply a later atomic
// batch without an earlier one. Damage at the very end is what a crash in
// the middle of a write leaves, and is fine: the batches before it are
// whole.
func checkJournals(dir string) error {
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	for _, path := range logs {
		if err := checkJournal(path); err != nil {
			return err
		}
	}
	return nil
}

// dropRecorder remembers that the journal reader skipped damaged data.
type dropRecorder struct{ dropped error }

func (d *dropRecorder) Drop(err error) {
	if d.dropped == nil {
		d.dropped = err
	}
}

// checkJournal reads one journal through and reports damage followed by an
// intact record.
func checkJournal(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	defer f.Close()
	drops := &dropRecorder{}
	r := journal.NewReader(f, drops, false, true)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("journal %s: %w: %v", filepath.Base(path), ErrCorruption, err)
		}
		if _, err := io.Copy(io.Discard, rec); err != nil {
			drops.Drop(err)
			continue
		}
		if drops.dropped != nil {
			return fmt.Errorf("journal %s: %w: damaged data before intact records: %v",
				filepath.Base(path), ErrCorruption, drops.dropped)
		}
	}
}

// convertErr maps a goleveldb error to this package's sentinels.
func convertErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, leveldb.ErrNotFound):
		return ErrNotFound
	case ldberrors.IsCorrupted(err):
		return fmt.Errorf("%s: %w: %v", op, ErrCorruption, err)
	case isLockErr(err):
		return fmt.Errorf("%s: %w", op, ErrLocked)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isLockErr reports whether err is goleveldb's failure to take the
// directory's file lock (flock returns EWOULDBLOCK).
func isLockErr(err error) bool {
	return errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN)
}

// Close closes the database.
func (db *DB) Close() error {
	err := db.ldb.Close()
	return convertErr("close", errors.Join(err, db.stor.Close()))
}

// Get returns the value stored under key, or ErrNotFound.
func (db *DB) Get(key []byte) ([]byte, error) {
	v, err := db.ldb.Get(key, nil)
	if err != nil {
		return nil, convertErr("get", err)
	}
	return v, nil
}

// Has reports whether key is stored.
func (db *DB) Has(key []byte) (bool, error) {
	ok, err := db.ldb.Has(key, nil)
	return ok, convertErr("has", err)
}

// Batch collects puts and deletes that [DB.Write] applies atomically. The
// zero value is an empty batch.
type Batch struct {
	b leveldb.Batch
}

// NewBatch returns an empty batch with room for about sizeHint bytes of
// records, so that a large batch is not copied again and again as it grows.
func NewBatch(sizeHint int) *Batch {
	return &Batch{b: *leveldb.MakeBatch(sizeHint)}
}

// Put records a put of key to value. Both are copied.
func (b *Batch) Put(key, value []byte) { b.b.Put(key, value) }

// Delete records a delete of key.
func (b *Batch) Delete(key []byte) { b.b.Delete(key) }

// Len returns the number of records.
func (b *Batch) Len() int { return b.b.Len() }

// Size returns the batch's size in bytes.
func (b *Batch) Size() int { return len(b.b.Dump()) }

// Reset empties the batch.
func (b *Batch) Reset() { b.b.Reset() }

// Write applies batch atomically: after a crash either all of it or none of
// it is in the database. With sync it also waits for the disk.
func (db *DB) Write(b *Batch, sync bool) error {
	return convertErr("write", db.ldb.Write(&b.b, &opt.WriteOptions{Sync: sync}))
}

// ForEach calls fn for every key with the given prefix, in key order, until
// fn returns an error. key and value are only valid during the call.
func (db *DB) ForEach(prefix []byte, fn func(key, value []byte) error) error {
	it := db.ldb.NewIterator(util.BytesPrefix(prefix), nil)
	defer it.Release()
	for it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return convertErr("iterate", it.Error())
}

// Compact rewrites the tables holding keys with prefix, so that the space
// of deleted records is given back.
func (db *DB) Compact(prefix []byte) error {
	return convertErr("compact", db.ldb.CompactRange(*util.BytesPrefix(prefix)))
}

// Snapshot is a consistent, read-only view of the database as it was when
// taken; writes after that do not show in it. It must be released.
type Snapshot struct {
	snap *leveldb.Snapshot
}

// Snapshot takes a snapshot of the database.
func (db *DB) Snapshot() (*Snapshot, error) {
	s, err := db.ldb.GetSnapshot()
	if err != nil {
		return nil, convertErr("snapshot", err)
	}
	return &Snapshot{snap: s}, nil
}

// Get returns the value stored under key when the snapshot was taken, or
// ErrNotFound.
func (s *Snapshot) Get(key []byte) ([]byte, error) {
	v, err := s.snap.Get(key, nil)
	if err != nil {
		return nil, convertErr("get", err)
	}
	return v, nil
}

// ForEach is [DB.ForEach] on the snapshot.
func (s *Snapshot) ForEach(prefix []byte, fn func(key, value []byte) error) error {
	it := s.snap.NewIterator(util.BytesPrefix(prefix), nil)
	defer it.Release()
	for it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return convertErr("iterate", it.Error())
}

// Release frees the snapshot. It may be called more than once.
func (s *Snapshot) Release() { s.snap.Release() }
