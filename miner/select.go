package miner

import (
	"container/heap"
	"context"
	"math/bits"
	"sort"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool"
)

// TxDesc describes a pool transaction for block assembly.
type TxDesc struct {
	Tx        *wire.MsgTx
	TxID      chainhash.Hash
	Fee       int64
	Weight    int64
	SigOpCost int64
	// Parents are the txids of the pool transactions it spends.
	Parents []chainhash.Hash
}

// TxSource chooses the transactions of the next block on tip within a
// weight and sigop budget, parents before children, and totals their fees:
// the mempool does it from its own indexes (cmd adapts it), TxList from a
// plain list.
type TxSource interface {
	SelectForBlock(tip chainhash.Hash, maxWeight, maxSigOpCost int64) (selected []*TxDesc, fees int64)
}

// PoolSource is the TxSource of a transaction pool, which chooses from its
// own ancestor-score index.
type PoolSource struct{ Pool *mempool.TxPool }

// SelectForBlock implements TxSource. It first lets the pool catch up with
// tip, which it follows a moment behind the chain: taken earlier, its
// choice could hold transactions tip's block confirmed, and the block
// would be invalid.
func (s PoolSource) SelectForBlock(tip chainhash.Hash, maxWeight, maxSigOpCost int64) ([]*TxDesc, int64) {
	s.Pool.WaitSynced(context.Background(), tip)
	descs, fees := s.Pool.SelectForBlock(maxWeight, maxSigOpCost)
	out := make([]*TxDesc, len(descs))
	for i, d := range descs {
		out[i] = &TxDesc{Tx: d.Tx, TxID: d.TxID, Fee: d.Fee, Weight: d.Weight, SigOpCost: d.SigOpCost, Parents: d.Parents}
	}
	return out, fees
}

// TxList is a TxSource over a fixed list, chosen by SelectTransactions.
// Every parent a transaction names must be in the list.
type TxList []*TxDesc

// SelectForBlock implements TxSource; the list is the same on any tip.
func (l TxList) SelectForBlock(_ chainhash.Hash, maxWeight, maxSigOpCost int64) ([]*TxDesc, int64) {
	return SelectTransactions(l, maxWeight, maxSigOpCost)
}

// Space the coinbase is given within the block limits (Bitcoin Core's
// reservation).
const (
	coinbaseReservedWeight = 4_000
	coinbaseReservedSigOps = 400
)

// SelectTransactions picks transactions for a block by ancestor fee rate,
// as Bitcoin Core assembles blocks: repeatedly the transaction whose
// package (itself and its not yet selected in-pool ancestors) pays the most
// per weight unit, parents before children, skipping packages that would
// exceed the remaining weight or sigop budget; after each package the
// package scores of its descendants are updated. Children therefore pay for
// their parents. The result is in a valid block order. It runs in
// O(n log n) for pools whose chains are bounded (the pool's limit is 25).
func SelectTransactions(descs []*TxDesc, maxWeight, maxSigOpCost int64) (selected []*TxDesc, fees int64) {
	nodes := make(map[chainhash.Hash]*selNode, len(descs))
	for _, d := range descs {
		nodes[d.TxID] = &selNode{d: d}
	}
	for _, n := range nodes {
		for _, p := range n.d.Parents {
			parent, ok := nodes[p]
			if !ok {
				n.orphan = true // a parent is missing: never placeable
				continue
			}
			n.parents = append(n.parents, parent)
			parent.children = append(parent.children, n)
		}
	}
	h := &selHeap{}
	for _, n := range nodes {
		n.ancestors = n.ancestorSet()
		n.fee, n.weight, n.sigops = n.d.Fee, n.d.Weight, n.d.SigOpCost
		for _, a := range n.ancestors {
			n.fee += a.d.Fee
			n.weight += a.d.Weight
			n.sigops += a.d.SigOpCost
			if a.orphan {
				n.orphan = true
			}
		}
		if !n.orphan {
			heap.Push(h, selItem{n: n, fee: n.fee, weight: n.weight, version: n.version})
		}
	}
	weight, sigops := int64(0), int64(0)
	for h.Len() > 0 {
		it := heap.Pop(h).(selItem)
		n := it.n
		if n.included || n.failed || it.version != n.version {
			continue
		}
		if weight+n.weight > maxWeight || sigops+n.sigops > maxSigOpCost {
			n.failed = true // too big now; smaller packages may still fit
			continue
		}
		pkg := make([]*selNode, 0, len(n.ancestors)+1)
		for _, a := range n.ancestors {
			if !a.included {
				pkg = append(pkg, a)
			}
		}
		sort.Slice(pkg, func(i, j int) bool {
			if len(pkg[i].ancestors) != len(pkg[j].ancestors) {
				return len(pkg[i].ancestors) < len(pkg[j].ancestors)
			}
			return pkg[i].d.TxID.String() < pkg[j].d.TxID.String()
		})
		pkg = append(pkg, n)
		for _, m := range pkg {
			m.included = true
			selected = append(selected, m.d)
			fees += m.d.Fee
		}
		weight += n.weight
		sigops += n.sigops
		// Descendants of what was included no longer count it in their
		// packages.
		for _, m := range pkg {
			for _, dsc := range m.descendantSet() {
				if dsc.included {
					continue
				}
				dsc.fee -= m.d.Fee
				dsc.weight -= m.d.Weight
				dsc.sigops -= m.d.SigOpCost
				dsc.version++
				if !dsc.failed {
					heap.Push(h, selItem{n: dsc, fee: dsc.fee, weight: dsc.weight, version: dsc.version})
				}
			}
		}
	}
	return selected, fees
}

// selNode is a candidate of SelectTransactions with its current package.
type selNode struct {
	d                   *TxDesc
	parents, children   []*selNode
	ancestors           []*selNode
	fee, weight, sigops int64 // of the package: unselected ancestors and itself
	version             int
	included, failed    bool
	orphan              bool
}

// ancestorSet returns every in-pool ancestor of n.
func (n *selNode) ancestorSet() []*selNode {
	return walk(n, func(m *selNode) []*selNode { return m.parents })
}

// descendantSet returns every in-pool descendant of n.
func (n *selNode) descendantSet() []*selNode {
	return walk(n, func(m *selNode) []*selNode { return m.children })
}

func walk(n *selNode, next func(*selNode) []*selNode) []*selNode {
	seen := map[*selNode]bool{n: true}
	var out []*selNode
	stack := []*selNode{n}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, m := range next(cur) {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
				stack = append(stack, m)
			}
		}
	}
	return out
}

// selItem is a heap entry; stale when its version is behind its node's.
type selItem struct {
	n           *selNode
	fee, weight int64
	version     int
}

// selHeap orders packages by fee rate, highest first (ties by txid).
type selHeap []selItem

func (h selHeap) Len() int { return len(h) }
func (h selHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	// Exact: the products of a fee and a weight may pass 64 bits.
	hl, ll := bits.Mul64(uint64(a.fee), uint64(b.weight))
	hr, lr := bits.Mul64(uint64(b.fee), uint64(a.weight))
	if hl != hr || ll != lr {
		return hl > hr || (hl == hr && ll > lr)
	}
	return a.n.d.TxID.String() < b.n.d.TxID.String()
}
func (h selHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *selHeap) Push(x any)   { *h = append(*h, x.(selItem)) }
func (h *selHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// blockLimits returns the weight and sigop budget left for transactions.
func blockLimits() (int64, int64) {
	return consensus.MaxBlockWeight - coinbaseReservedWeight, consensus.MaxBlockSigOpsCost - coinbaseReservedSigOps
}
