package electrum

import (
	"cmp"
	"errors"
	"slices"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/mempool"
)

// memTx is what the server keeps of one pool transaction.
type memTx struct {
	fee   int64
	vsize int64
	// unconfirmedParent: it spends an output of another pool transaction
	// (height -1 in the protocol's histories).
	unconfirmedParent bool
	scripts           []chain.ScriptHash
	outs              []memOut
	spends            []memSpend
}

// memOut is an output of a pool transaction.
type memOut struct {
	sh    chain.ScriptHash
	index uint32
	value int64
}

// memSpend is an output a pool transaction spends.
type memSpend struct {
	sh    chain.ScriptHash
	op    wire.OutPoint
	value int64
}

// memIndex indexes the transaction pool by script hash. The server
// refreshes it when the pool's sequence number moves: new transactions are
// read from the pool, gone ones dropped, and the scripts either touched
// are reported so that subscribers hear of them.
type memIndex struct {
	pool  Mempool
	chain Chain

	mu       sync.RWMutex
	seq      uint64
	txs      map[chainhash.Hash]*memTx
	byScript map[chain.ScriptHash]map[chainhash.Hash]struct{}
}

func newMemIndex(pool Mempool, c Chain) *memIndex {
	return &memIndex{pool: pool, chain: c, seq: ^uint64(0), txs: map[chainhash.Hash]*memTx{},
		byScript: map[chain.ScriptHash]map[chainhash.Hash]struct{}{}}
}

// refresh brings the index up to the pool and returns the scripts whose
// unconfirmed history changed. With full, every transaction's
// unconfirmed-parent flag is checked again (after a block, a parent may
// have confirmed; after a reorganization, one may have returned).
func (m *memIndex) refresh(full bool) map[chain.ScriptHash]struct{} {
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
	fresh := make(map[chainhash.Hash]*memTx, len(added))
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
	for _, id := range gone {
		t := m.txs[id]
		delete(m.txs, id)
		for _, sh := range t.scripts {
			touched[sh] = struct{}{}
			set := m.byScript[sh]
			delete(set, id)
			if len(set) == 0 {
				delete(m.byScript, sh)
			}
		}
	}
	for id, t := range fresh {
		m.txs[id] = t
		for _, sh := range t.scripts {
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
		if t := m.txs[id]; t != nil && t.unconfirmedParent != flag {
			t.unconfirmedParent = flag
			for _, sh := range t.scripts {
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
func (m *memIndex) load(id chainhash.Hash) *memTx {
	d, err := m.pool.Entry(id)
	if err != nil {
		return nil
	}
	t := &memTx{fee: d.Fee, vsize: d.VSize, unconfirmedParent: len(d.Parents) > 0}
	seen := map[chain.ScriptHash]struct{}{}
	add := func(sh chain.ScriptHash) {
		if _, ok := seen[sh]; !ok {
			seen[sh] = struct{}{}
			t.scripts = append(t.scripts, sh)
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
		t.spends = append(t.spends, memSpend{sh: sh, op: in.PreviousOutPoint, value: value})
		add(sh)
	}
	for i, out := range d.Tx.TxOut {
		if utxo.IsUnspendable(out.PkScript) {
			continue
		}
		sh := chain.HashScript(out.PkScript)
		t.outs = append(t.outs, memOut{sh: sh, index: uint32(i), value: out.Value})
		add(sh)
	}
	return t
}

// history returns the script's pool transactions as the protocol orders
// them: those whose inputs are all confirmed (height 0) before those
// spending pool outputs (height -1), each group by txid as shown (the
// order ElectrumX settled on, so that status hashes agree).
func (m *memIndex) history(sh chain.ScriptHash) []historyEntry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := m.byScript[sh]
	out := make([]historyEntry, 0, len(set))
	for id := range set {
		t := m.txs[id]
		e := historyEntry{TxHash: id, Fee: t.fee}
		if t.unconfirmedParent {
			e.Height = -1
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b historyEntry) int {
		if a.Height != b.Height {
			return -cmp.Compare(a.Height, b.Height) // 0 before -1
		}
		return cmp.Compare(a.TxHash.String(), b.TxHash.String())
	})
	return out
}

// touches reports whether any pool transaction pays or spends the script.
func (m *memIndex) touches(sh chain.ScriptHash) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byScript[sh]) > 0
}

// poolPart returns what the pool adds to a script beside its confirmed
// unspent outputs (confirmed, from the caller's view): the script's outputs
// created in the pool and not spent there, the outpoints of it the pool
// spends, and the balance change (created less spent). A pool transaction
// the view has already confirmed (the index not yet refreshed after the
// block) is recognized by an output of it in confirmed, and left out, as
// are spends of outputs neither confirmed nor created in the pool (their
// spender confirmed).
func (m *memIndex) poolPart(sh chain.ScriptHash, confirmed map[wire.OutPoint]int64) ([]unspentOut, map[wire.OutPoint]struct{}, int64) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var outs []unspentOut
	created := map[wire.OutPoint]int64{}
	var txs []*memTx
	for id := range m.byScript[sh] {
		t := m.txs[id]
		mined := false
		for _, o := range t.outs {
			if _, ok := confirmed[wire.OutPoint{Hash: id, Index: o.index}]; ok && o.sh == sh {
				mined = true
			}
		}
		if mined {
			continue
		}
		txs = append(txs, t)
		for _, o := range t.outs {
			if o.sh == sh {
				op := wire.OutPoint{Hash: id, Index: o.index}
				created[op] = o.value
				outs = append(outs, unspentOut{hash: id, pos: o.index, value: o.value})
			}
		}
	}
	spent := map[wire.OutPoint]struct{}{}
	var delta int64
	for _, v := range created {
		delta += v
	}
	for _, t := range txs {
		for _, sp := range t.spends {
			if sp.sh != sh {
				continue
			}
			_, isConfirmed := confirmed[sp.op]
			_, isPooled := created[sp.op]
			if isConfirmed || isPooled {
				spent[sp.op] = struct{}{}
				delta -= sp.value
			}
		}
	}
	kept := outs[:0]
	for _, o := range outs {
		if _, ok := spent[wire.OutPoint{Hash: o.hash, Index: o.pos}]; !ok {
			kept = append(kept, o)
		}
	}
	slices.SortFunc(kept, func(a, b unspentOut) int {
		for i := chainhash.HashSize - 1; i >= 0; i-- {
			if a.hash[i] != b.hash[i] {
				return cmp.Compare(a.hash[i], b.hash[i])
			}
		}
		return cmp.Compare(a.pos, b.pos)
	})
	return kept, spent, delta
}

// feeHistogram returns the pool's fee histogram as ElectrumX computes it:
// virtual size by fee rate (sat/vB, to 0.1), merged from the highest rate
// down into bins of at least 100,000 vbytes that grow by 10% each, with
// the remainder under a bin's size left out.
func (m *memIndex) feeHistogram() [][2]float64 {
	m.mu.RLock()
	byRate := map[int64]int64{} // rate in 0.1 sat/vB -> vsize
	for _, t := range m.txs {
		if t.vsize > 0 {
			byRate[10*t.fee/t.vsize] += t.vsize
		}
	}
	m.mu.RUnlock()
	rates := make([]int64, 0, len(byRate))
	for r := range byRate {
		rates = append(rates, r)
	}
	slices.Sort(rates)
	slices.Reverse(rates)
	out := [][2]float64{}
	binSize := 100_000.0
	var cum int64
	prev := int64(-1)
	for _, r := range rates {
		size := byRate[r]
		if float64(size) > 2*binSize && cum > 0 && prev >= 0 {
			out = append(out, [2]float64{float64(prev) / 10, float64(cum)})
			cum = 0
			binSize *= 1.1
		}
		cum += size
		if float64(cum) > binSize {
			out = append(out, [2]float64{float64(r) / 10, float64(cum)})
			cum = 0
			binSize *= 1.1
		}
		prev = r
	}
	return out
}

// tx returns the pool transaction txid, or an error wrapping
// mempool.ErrNotInPool.
func (m *memIndex) tx(txid chainhash.Hash) (*wire.MsgTx, error) {
	if m.pool == nil {
		return nil, mempool.ErrNotInPool
	}
	tx, err := m.pool.FetchTransaction(txid)
	if err != nil {
		return nil, errors.Join(mempool.ErrNotInPool, err)
	}
	return tx, nil
}
