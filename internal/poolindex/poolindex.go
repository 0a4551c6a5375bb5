// Package poolindex indexes the transaction pool by output script, for the
// servers that answer questions about addresses (the Electrum server and
// the explorer). It follows the pool by its sequence number rather than by
// a hook in the pool, so the pool pays nothing for it when no server runs.
package poolindex

import (
	"errors"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/mempool"
)

// Pool is what the index reads of the transaction pool. *mempool.TxPool
// implements it.
type Pool interface {
	Sequence() uint64
	TxIDsWithSequence() ([]chainhash.Hash, uint64)
	Entry(txid chainhash.Hash) (*mempool.TxDesc, error)
	FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, error)
	Output(op wire.OutPoint) (*wire.TxOut, bool)
}

var _ Pool = (*mempool.TxPool)(nil)

// Chain is what the index reads of the chain: the outputs pool
// transactions spend. *chain.BlockChain implements it.
type Chain interface {
	FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error)
}

// Tx is what the index keeps of one pool transaction. It must not be
// changed by callers.
type Tx struct {
	Fee   int64
	VSize int64
	// UnconfirmedParent: it spends an output of another pool transaction
	// (height -1 in the Electrum protocol's histories).
	UnconfirmedParent bool
	// Scripts are the scripts it pays or spends, each once.
	Scripts []chain.ScriptHash
	Outs    []Out
	Spends  []Spend
}

// Out is an output of a pool transaction (unspendable ones are left out).
type Out struct {
	Script chain.ScriptHash
	Index  uint32
	Value  int64
}

// Spend is an output a pool transaction spends.
type Spend struct {
	Script chain.ScriptHash
	Op     wire.OutPoint
	Value  int64
}

// Index indexes the pool by script hash; it is safe for concurrent use.
// Refresh brings it up to the pool:
// new transactions are read from the pool, gone ones dropped, and the
// scripts either touched are returned so that subscribers can hear of
// them. A nil pool gives an index that is always empty.
type Index struct {
	pool  Pool
	chain Chain

	mu       sync.RWMutex
	seq      uint64
	txs      map[chainhash.Hash]*Tx
	byScript map[chain.ScriptHash]map[chainhash.Hash]struct{}
}

// New returns an empty index of pool; the first Refresh fills it.
func New(pool Pool, c Chain) *Index {
	return &Index{pool: pool, chain: c, seq: ^uint64(0), txs: map[chainhash.Hash]*Tx{},
		byScript: map[chain.ScriptHash]map[chainhash.Hash]struct{}{}}
}

// Refresh brings the index up to the pool and returns the scripts whose
// unconfirmed history changed. With full, every transaction's
// unconfirmed-parent flag is checked again (after a block, a parent may
// have confirmed; after a reorganization, one may have returned).
func (m *Index) Refresh(full bool) map[chain.ScriptHash]struct{} {
	touched := map[chain.ScriptHash]struct{}{}
	if m.pool == nil {
		return touched
	}
	seq := m.pool.Sequence()
	m.mu.RLock()
	same := seq == m.seq
	m.mu.RUnlock()
	if same && !full {
		return touched
	}
	ids, seq := m.pool.TxIDsWithSequence()
	now := make(map[chainhash.Hash]struct{}, len(ids))
	var added []chainhash.Hash
	m.mu.RLock()
	for _, id := range ids {
		now[id] = struct{}{}
		if _, ok := m.txs[id]; !ok {
			added = append(added, id)
		}
	}
	var gone []chainhash.Hash
	for id := range m.txs {
		if _, ok := now[id]; !ok {
			gone = append(gone, id)
		}
	}
	m.mu.RUnlock()

	// Read the new transactions outside the lock: the pool and the chain
	// are consulted per input.
	fresh := make(map[chainhash.Hash]*Tx, len(added))
	for _, id := range added {
		if t := m.load(id); t != nil {
			fresh[id] = t
		}
	}
	var flags map[chainhash.Hash]bool
	if full {
		flags = make(map[chainhash.Hash]bool)
		m.mu.RLock()
		for id := range m.txs {
			if d, err := m.pool.Entry(id); err == nil {
				flags[id] = len(d.Parents) > 0
			}
		}
		m.mu.RUnlock()
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	// Concurrent refreshes may have applied some of this one's changes
	// already: each is applied once.
	for _, id := range gone {
		t := m.txs[id]
		if t == nil {
			continue
		}
		delete(m.txs, id)
		for _, sh := range t.Scripts {
			touched[sh] = struct{}{}
			set := m.byScript[sh]
			delete(set, id)
			if len(set) == 0 {
				delete(m.byScript, sh)
			}
		}
	}
	for id, t := range fresh {
		if _, ok := m.txs[id]; ok {
			continue
		}
		m.txs[id] = t
		for _, sh := range t.Scripts {
			touched[sh] = struct{}{}
			set := m.byScript[sh]
			if set == nil {
				set = map[chainhash.Hash]struct{}{}
				m.byScript[sh] = set
			}
			set[id] = struct{}{}
		}
	}
	for id, flag := range flags {
		if t := m.txs[id]; t != nil && t.UnconfirmedParent != flag {
			// A copy: readers may hold the old one outside the lock.
			c := *t
			c.UnconfirmedParent = flag
			m.txs[id] = &c
			for _, sh := range t.Scripts {
				touched[sh] = struct{}{}
			}
		}
	}
	m.seq = seq
	return touched
}

// load reads one pool transaction and the scripts it pays and spends, or
// returns nil if it left the pool meanwhile or spends an output that can
// no longer be found (it is then about to leave the pool).
func (m *Index) load(id chainhash.Hash) *Tx {
	d, err := m.pool.Entry(id)
	if err != nil {
		return nil
	}
	t := &Tx{Fee: d.Fee, VSize: d.VSize, UnconfirmedParent: len(d.Parents) > 0}
	seen := map[chain.ScriptHash]struct{}{}
	add := func(sh chain.ScriptHash) {
		if _, ok := seen[sh]; !ok {
			seen[sh] = struct{}{}
			t.Scripts = append(t.Scripts, sh)
		}
	}
	for _, in := range d.Tx.TxIn {
		var pk []byte
		var value int64
		if out, ok := m.pool.Output(in.PreviousOutPoint); ok {
			pk, value = out.PkScript, out.Value
		} else {
			e, err := m.chain.FetchUtxoEntry(in.PreviousOutPoint)
			if err != nil || e == nil {
				return nil
			}
			pk, value = e.PkScript, e.Amount
		}
		sh := chain.HashScript(pk)
		t.Spends = append(t.Spends, Spend{Script: sh, Op: in.PreviousOutPoint, Value: value})
		add(sh)
	}
	for i, out := range d.Tx.TxOut {
		if utxo.IsUnspendable(out.PkScript) {
			continue
		}
		sh := chain.HashScript(out.PkScript)
		t.Outs = append(t.Outs, Out{Script: sh, Index: uint32(i), Value: out.Value})
		add(sh)
	}
	return t
}

// Touches reports whether any pool transaction pays or spends the script.
func (m *Index) Touches(sh chain.ScriptHash) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byScript[sh]) > 0
}

// Script returns the pool transactions that pay or spend the script.
func (m *Index) Script(sh chain.ScriptHash) map[chainhash.Hash]*Tx {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := m.byScript[sh]
	out := make(map[chainhash.Hash]*Tx, len(set))
	for id := range set {
		out[id] = m.txs[id]
	}
	return out
}

// Each calls fn for every indexed transaction, under the index's read
// lock: fn must not call the index.
func (m *Index) Each(fn func(txid chainhash.Hash, t *Tx)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for id, t := range m.txs {
		fn(id, t)
	}
}

// Get returns what the index holds of one transaction, or nil.
func (m *Index) Get(txid chainhash.Hash) *Tx {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.txs[txid]
}

// FetchTx returns the pool transaction txid, or an error wrapping
// mempool.ErrNotInPool.
func (m *Index) FetchTx(txid chainhash.Hash) (*wire.MsgTx, error) {
	if m.pool == nil {
		return nil, mempool.ErrNotInPool
	}
	tx, err := m.pool.FetchTransaction(txid)
	if err != nil {
		return nil, errors.Join(mempool.ErrNotInPool, err)
	}
	return tx, nil
}
