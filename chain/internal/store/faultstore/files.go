package faultstore

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"sync"

	"github.com/cairnchain/cairn/chain/internal/blockfile"
)

// Files is a directory of block files in memory (a blockfile.FS) that
// knows how much of each file was synced. A power cut keeps the synced
// part of each file and a random part of what was written after it, torn
// at times (a range of it zeroed), as a disk that wrote some pages back
// and not others would leave it.
type Files struct {
	mu    sync.Mutex
	files map[string]*memFile
	rng   *rand.Rand
}

type memFile struct {
	data   []byte
	synced int
}

// NewFiles returns an empty directory whose cuts draw from seed.
func NewFiles(seed uint64) *Files {
	return &Files{files: make(map[string]*memFile), rng: rand.New(rand.NewPCG(seed, 0x66696c6573))}
}

// Open implements blockfile.FS.
func (d *Files) Open(name string, create bool) (blockfile.File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.files[name]
	if f == nil {
		if !create {
			return nil, fmt.Errorf("faultstore: open %s: %w", name, os.ErrNotExist)
		}
		f = &memFile{}
		d.files[name] = f
	}
	return &handle{d: d, f: f, name: name}, nil
}

// Remove implements blockfile.FS.
func (d *Files) Remove(name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.files[name] == nil {
		return fmt.Errorf("faultstore: remove %s: %w", name, os.ErrNotExist)
	}
	delete(d.files, name)
	return nil
}

// List implements blockfile.FS.
func (d *Files) List() ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(d.files))
	for name := range d.files {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// cutLocked returns what a power cut would leave of the files.
// This function MUST be called with d.mu held.
func (d *Files) cutLocked(seed uint64) *Files {
	out := NewFiles(seed)
	for name, f := range d.files {
		keep := f.synced
		if unsynced := len(f.data) - f.synced; unsynced > 0 {
			keep += d.rng.IntN(unsynced + 1)
		}
		data := append([]byte(nil), f.data[:keep]...)
		if torn := keep - f.synced; torn > 0 && d.rng.IntN(2) == 0 {
			from := f.synced + d.rng.IntN(torn)
			clear(data[from:min(keep, from+4096)])
		}
		out.files[name] = &memFile{data: data, synced: keep}
	}
	return out
}

// handle is an open file.
type handle struct {
	d    *Files
	f    *memFile
	name string
}

func (h *handle) ReadAt(p []byte, off int64) (int, error) {
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	if off >= int64(len(h.f.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *handle) WriteAt(p []byte, off int64) (int, error) {
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	if end := int(off) + len(p); end > len(h.f.data) {
		h.f.data = append(h.f.data, make([]byte, end-len(h.f.data))...)
	}
	copy(h.f.data[off:], p)
	return len(p), nil
}

func (h *handle) Size() (int64, error) {
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	return int64(len(h.f.data)), nil
}

func (h *handle) Sync() error {
	h.d.mu.Lock()
	defer h.d.mu.Unlock()
	h.f.synced = len(h.f.data)
	return nil
}

func (h *handle) Close() error { return nil }
