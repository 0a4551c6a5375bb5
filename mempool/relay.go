package mempool

import (
	"sort"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// What the network needs to announce pool transactions by wtxid and serve
// them to the peers that ask (Bitcoin Core's wtxid relay, BIP339).

// HaveWTx reports whether the pool holds the transaction with this wtxid.
func (p *TxPool) HaveWTx(wtxid chainhash.Hash) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.byWTxID[wtxid]
	return ok
}

// RawTx returns the serialization of the pool transaction with this
// wtxid. The bytes are shared: the caller must not modify them.
func (p *TxPool) RawTx(wtxid chainhash.Hash) ([]byte, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.byWTxID[wtxid]
	if !ok {
		return nil, false
	}
	return e.raw, true
}

// RelayOrder returns the wtxids of up to max pool transactions in the
// order a peer should learn of them: fewest in-pool ancestors first, so
// that every parent comes before its children, then the highest fee rate
// (Bitcoin Core's CompareInvMempoolOrder). When the pool holds more than
// max, those left out are the lowest-paying of the deepest packages.
func (p *TxPool) RelayOrder(max int) []chainhash.Hash {
	p.mu.RLock()
	defer p.mu.RUnlock()
	type item struct {
		wtxid     chainhash.Hash
		ancestors int
		fee, size int64
	}
	items := make([]item, 0, len(p.pool))
	for _, e := range p.pool {
		items = append(items, item{e.wtxid, len(p.ancestorsLocked(e)), e.fee, e.vsize})
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.ancestors != b.ancestors {
			return a.ancestors < b.ancestors
		}
		if l, r := a.fee*b.size, b.fee*a.size; l != r {
			return l > r
		}
		return string(a.wtxid[:]) < string(b.wtxid[:])
	})
	if len(items) > max {
		items = items[:max]
	}
	out := make([]chainhash.Hash, len(items))
	for i, it := range items {
		out[i] = it.wtxid
	}
	return out
}
