package mempool

import (
	"hash/maphash"
	"sort"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// What the network needs to announce pool transactions by wtxid and serve
// them to the peers that ask (Bitcoin Core's wtxid relay, BIP339).

// wtxidKey is the 64-bit key of a wtxid in byWTxID: 16 bytes a slot where
// the whole hash takes 40. The seed is the process's secret, so no one can
// make two wtxids share a key on purpose; by chance, one in 2^64 pairs
// does, and then only the newer is found by wtxid (a peer would offer the
// older again and be told it is already pooled).
func (p *TxPool) wtxidKey(wtxid chainhash.Hash) uint64 {
	return maphash.Bytes(p.wtxSeed, wtxid[:])
}

// byWTxIDLocked returns the entry with this wtxid.
// This function MUST be called with the pool lock held.
func (p *TxPool) byWTxIDLocked(wtxid chainhash.Hash) (*entry, bool) {
	e, ok := p.byWTxID[p.wtxidKey(wtxid)]
	if !ok || e.wtxid != wtxid {
		return nil, false
	}
	return e, true
}

// HaveWTx reports whether the pool holds the transaction with this wtxid.
func (p *TxPool) HaveWTx(wtxid chainhash.Hash) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.byWTxIDLocked(wtxid)
	return ok
}

// RawTx returns the serialization of the pool transaction with this
// wtxid. The bytes are shared: the caller must not modify them.
func (p *TxPool) RawTx(wtxid chainhash.Hash) ([]byte, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.byWTxIDLocked(wtxid)
	if !ok {
		return nil, false
	}
	return e.raw, true
}

// RelayOrder returns the wtxids of up to limit pool transactions in the
// order a peer should learn of them: parents before their children (by
// generation: a transaction without pool parents is 0, any other one more
// than its deepest parent), then the highest fee rate, as Bitcoin Core's
// CompareInvMempoolOrder sorts by ancestor count. When the pool holds more
// than limit, those left out are the lowest-paying of the deepest
// generations. It costs O(n log n) in the pool's size.
func (p *TxPool) RelayOrder(limit int) []chainhash.Hash {
	p.mu.RLock()
	defer p.mu.RUnlock()
	type item struct {
		wtxid     chainhash.Hash
		depth     int
		fee, size int64
	}
	depth := make(map[*entry]int, len(p.pool))
	var generation func(e *entry) int
	generation = func(e *entry) int {
		if d, ok := depth[e]; ok {
			return d
		}
		d := 0
		for parent := range e.parents {
			d = max(d, generation(parent)+1)
		}
		depth[e] = d
		return d
	}
	items := make([]item, 0, len(p.pool))
	for _, e := range p.pool {
		items = append(items, item{e.wtxid, generation(e), e.fee, e.vsize})
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.depth != b.depth {
			return a.depth < b.depth
		}
		if l, r := a.fee*b.size, b.fee*a.size; l != r {
			return l > r
		}
		return string(a.wtxid[:]) < string(b.wtxid[:])
	})
	if len(items) > limit {
		items = items[:limit]
	}
	out := make([]chainhash.Hash, len(items))
	for i, it := range items {
		out[i] = it.wtxid
	}
	return out
}
