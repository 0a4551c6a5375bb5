// Package faultstore is a goleveldb storage in memory that simulates power
// cuts, LevelDB's fault-injection technique: it knows, for every file, how
// much of it was synced, and can say what a power cut would leave, every
// file cut back to its last sync. Tests use it to show that what the chain
// writes without a sync can never be left referred to by something durable.
package faultstore

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/syndtr/goleveldb/leveldb/storage"
)

// Storage is a goleveldb storage.Storage in memory that can be cut, with
// the block files beside it, cut at the same instant.
type Storage struct {
	storage.Storage // the files as written

	// Files holds the block files.
	Files *Files
	seed  uint64
	// TornJournals: a cut keeps, half of the times, a random part of
	// what was written to a journal after its last sync.
	TornJournals bool

	mu     sync.Mutex
	synced map[storage.FileDesc]int64
	// data holds every file's bytes as written (goleveldb's memory
	// storage does not let a file open for writing be read).
	data map[storage.FileDesc]*bytes.Buffer
	// journals counts the journals created, journalSyncs the syncs of
	// any journal.
	journals     int
	journalSyncs uint64
	// holdTables, while open, blocks the creation of table files.
	holdTables chan struct{}
}

// New returns an empty storage whose cuts of the block files draw from
// seed.
func New(seed uint64) *Storage {
	return &Storage{Storage: storage.NewMemStorage(), synced: make(map[storage.FileDesc]int64),
		data: make(map[storage.FileDesc]*bytes.Buffer), Files: NewFiles(seed), seed: seed}
}

// Journals returns the number of write-ahead journals created so far.
func (s *Storage) Journals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.journals
}

// JournalSyncs returns the number of syncs of any journal so far. A write
// that returned before the count grew is durable: goleveldb writes one
// journal at a time, in order.
func (s *Storage) JournalSyncs() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.journalSyncs
}

// HoldTables blocks the creation of table files until the returned
// function is called, so that a test decides when goleveldb's background
// compaction may write the memtable it rotated away from.
func (s *Storage) HoldTables() (release func()) {
	hold := make(chan struct{})
	s.mu.Lock()
	s.holdTables = hold
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.holdTables = nil
			s.mu.Unlock()
			close(hold)
		})
	}
}

// Create implements storage.Storage.
func (s *Storage) Create(fd storage.FileDesc) (storage.Writer, error) {
	s.mu.Lock()
	hold := s.holdTables
	s.mu.Unlock()
	if hold != nil && fd.Type == storage.TypeTable {
		<-hold
	}
	w, err := s.Storage.Create(fd)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.synced[fd] = 0
	s.data[fd] = new(bytes.Buffer)
	if fd.Type == storage.TypeJournal {
		s.journals++
	}
	s.mu.Unlock()
	return &writer{Writer: w, s: s, fd: fd}, nil
}

// Rename implements storage.Storage; the synced length moves along.
func (s *Storage) Rename(oldfd, newfd storage.FileDesc) error {
	if err := s.Storage.Rename(oldfd, newfd); err != nil {
		return err
	}
	s.mu.Lock()
	s.synced[newfd], s.data[newfd] = s.synced[oldfd], s.data[oldfd]
	delete(s.synced, oldfd)
	delete(s.data, oldfd)
	s.mu.Unlock()
	return nil
}

// Remove implements storage.Storage.
func (s *Storage) Remove(fd storage.FileDesc) error {
	if err := s.Storage.Remove(fd); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.synced, fd)
	delete(s.data, fd)
	s.mu.Unlock()
	return nil
}

// writer counts what is written and what is synced.
type writer struct {
	storage.Writer
	s       *Storage
	fd      storage.FileDesc
	written int64
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	w.written += int64(n)
	w.s.mu.Lock()
	w.s.data[w.fd].Write(p[:n])
	w.s.mu.Unlock()
	return n, err
}

func (w *writer) Sync() error {
	w.s.mu.Lock()
	w.s.synced[w.fd] = w.written
	if w.fd.Type == storage.TypeJournal {
		w.s.journalSyncs++
	}
	w.s.mu.Unlock()
	return w.Writer.Sync()
}

// PowerCut returns a new storage holding what a power cut now would leave:
// every database file cut back to its last sync, all of it synced (with
// TornJournals, a journal keeps half of the times a random part of what was
// written after its last sync), and the block files as Files' cut leaves
// them. The meta (CURRENT), which goleveldb
// writes only after it synced the manifest it names, is kept. The storage
// goes on working; the cut is a copy.
func (s *Storage) PowerCut() (*Storage, error) {
	// Both at one instant: a flush syncs the block files, then the
	// journal, and a cut between the two copies must not see the second
	// without the first.
	s.Files.mu.Lock()
	defer s.Files.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seed++
	out := New(s.seed)
	out.TornJournals = s.TornJournals
	out.Files = s.Files.cutLocked(s.seed)
	for fd, buf := range s.data {
		keep := min(s.synced[fd], int64(buf.Len()))
		if s.TornJournals && fd.Type == storage.TypeJournal && s.Files.rng.IntN(2) == 0 {
			// The disk may have written back part of what followed
			// the last sync: a prefix, torn at its end.
			keep += s.Files.rng.Int64N(int64(buf.Len()) - keep + 1)
		}
		w, err := out.Storage.Create(fd)
		if err != nil {
			return nil, fmt.Errorf("faultstore: copy %v: %w", fd, err)
		}
		if _, err := w.Write(buf.Bytes()[:keep]); err != nil {
			return nil, fmt.Errorf("faultstore: copy %v: %w", fd, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("faultstore: copy %v: %w", fd, err)
		}
		out.data[fd] = bytes.NewBuffer(bytes.Clone(buf.Bytes()[:keep]))
		out.synced[fd] = keep
	}
	if meta, err := s.Storage.GetMeta(); err == nil {
		if err := out.Storage.SetMeta(meta); err != nil {
			return nil, fmt.Errorf("faultstore: copy meta: %w", err)
		}
	}
	return out, nil
}
