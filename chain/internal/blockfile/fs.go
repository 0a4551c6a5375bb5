package blockfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FS is the directory the block files live in: the operating system's, or
// in tests one that simulates power cuts.
type FS interface {
	// Open opens the named file for reading and writing, creating it
	// when create is set; a missing file is os.ErrNotExist otherwise.
	Open(name string, create bool) (File, error)
	// Remove deletes the named file.
	Remove(name string) error
	// List returns the names of the files in the directory.
	List() ([]string, error)
}

// File is an open block or undo file.
type File interface {
	io.ReaderAt
	io.WriterAt
	// Size returns the file's length.
	Size() (int64, error)
	// Sync makes what was written durable.
	Sync() error
	Close() error
}

// DirFS is the FS of a directory on disk, created when missing.
type DirFS string

// Open implements FS.
func (d DirFS) Open(name string, create bool) (File, error) {
	flag := os.O_RDWR
	if create {
		if err := os.MkdirAll(string(d), 0o700); err != nil {
			return nil, err
		}
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(filepath.Join(string(d), name), flag, 0o600)
	if err != nil {
		return nil, err
	}
	if create {
		// A new file's directory entry must be durable before anything
		// durable refers to the file.
		if err := syncDir(string(d)); err != nil {
			f.Close()
			return nil, err
		}
	}
	return osFile{f}, nil
}

// Remove implements FS.
func (d DirFS) Remove(name string) error { return os.Remove(filepath.Join(string(d), name)) }

// List implements FS.
func (d DirFS) List() ([]string, error) {
	entries, err := os.ReadDir(string(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

// syncDir syncs a directory, so that the files created in it stay.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
