package utxo

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/internal/store"
)

// ErrUtxoBackendCorruption is wrapped by backend errors caused by damaged
// storage.
var ErrUtxoBackendCorruption = errors.New("utxo: backend corruption")

// Backend stores the UTXO set below the cache.
type Backend interface {
	// FetchEntry returns the unspent output at op, or nil when there is
	// none.
	FetchEntry(op wire.OutPoint) (*Entry, error)
	// ForEach calls fn for every stored entry in key order.
	ForEach(fn func(op wire.OutPoint, e *Entry) error) error
}

// Writer receives the cache's changes; *store.Batch implements it. Put must
// copy key and value: the cache reuses its buffers.
type Writer interface {
	Put(key, value []byte)
	Delete(key []byte)
}

// LevelBackend is the Backend kept in the chain's database.
type LevelBackend struct {
	db *store.DB
}

// NewLevelBackend returns a backend over db.
func NewLevelBackend(db *store.DB) *LevelBackend { return &LevelBackend{db: db} }

// FetchEntry implements Backend.
func (l *LevelBackend) FetchEntry(op wire.OutPoint) (*Entry, error) {
	v, err := l.db.Get(Key(op))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, convertErr(err)
	}
	e, rest, err := DecodeEntry(v)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: entry %v: %v", ErrUtxoBackendCorruption, op, err)
	}
	return e, nil
}

// ForEach implements Backend.
func (l *LevelBackend) ForEach(fn func(op wire.OutPoint, e *Entry) error) error {
	err := l.db.ForEach(Prefix(), func(k, v []byte) error {
		op, err := DecodeKey(k)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUtxoBackendCorruption, err)
		}
		e, rest, err := DecodeEntry(v)
		if err != nil || len(rest) != 0 {
			return fmt.Errorf("%w: entry %v: %v", ErrUtxoBackendCorruption, op, err)
		}
		return fn(op, e)
	})
	return convertErr(err)
}

// convertErr maps storage corruption to ErrUtxoBackendCorruption.
func convertErr(err error) error {
	if errors.Is(err, store.ErrCorruption) {
		return fmt.Errorf("%w: %v", ErrUtxoBackendCorruption, err)
	}
	return err
}
