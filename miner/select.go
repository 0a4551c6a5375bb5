package miner

import (
	"sort"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
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

// TxSource offers the transactions a block may hold: the mempool
// implements it. Every parent a transaction names must be in the same list.
type TxSource interface {
	MiningCandidates() []*TxDesc
}

// Space the coinbase is given within the block limits (Bitcoin Core's
// reservation).
const (
	coinbaseReservedWeight = 4_000
	coinbaseReservedSigOps = 400
)

// SelectTransactions picks transactions for a block by ancestor fee rate:
// repeatedly the transaction whose package (itself and its not yet selected
// in-pool ancestors) pays the most per weight unit, parents before
// children, skipping packages that would exceed the remaining weight or
// sigop budget. Children therefore pay for their parents. The result is in
// a valid block order.
func SelectTransactions(descs []*TxDesc, maxWeight, maxSigOpCost int64) (selected []*TxDesc, fees int64) {
	byID := make(map[chainhash.Hash]*TxDesc, len(descs))
	for _, d := range descs {
		byID[d.TxID] = d
	}
	done := make(map[chainhash.Hash]bool, len(descs))
	failed := make(map[chainhash.Hash]bool)
	weight, sigops := int64(0), int64(0)

	// pkg returns d's unselected ancestors and d, parents first.
	var pkg func(d *TxDesc, seen map[chainhash.Hash]bool, out []*TxDesc) []*TxDesc
	pkg = func(d *TxDesc, seen map[chainhash.Hash]bool, out []*TxDesc) []*TxDesc {
		if seen[d.TxID] || done[d.TxID] {
			return out
		}
		seen[d.TxID] = true
		for _, p := range d.Parents {
			if pd, ok := byID[p]; ok {
				out = pkg(pd, seen, out)
			}
		}
		return append(out, d)
	}

	order := append([]*TxDesc(nil), descs...)
	sort.Slice(order, func(i, j int) bool { return order[i].TxID.String() < order[j].TxID.String() })
	for {
		var best []*TxDesc
		var bestFee, bestWeight int64
		for _, d := range order {
			if done[d.TxID] || failed[d.TxID] {
				continue
			}
			p := pkg(d, map[chainhash.Hash]bool{}, nil)
			var f, w int64
			ok := true
			for _, m := range p {
				if failed[m.TxID] || !allParentsKnown(m, byID) {
					ok = false
					break
				}
				f += m.Fee
				w += m.Weight
			}
			if !ok {
				failed[d.TxID] = true
				continue
			}
			// Higher fee rate first: f/w > bestFee/bestWeight.
			if best == nil || f*bestWeight > bestFee*w {
				best, bestFee, bestWeight = p, f, w
			}
		}
		if best == nil {
			return selected, fees
		}
		var s int64
		for _, m := range best {
			s += m.SigOpCost
		}
		if weight+bestWeight > maxWeight || sigops+s > maxSigOpCost {
			// Too big now; smaller packages may still fit.
			failed[best[len(best)-1].TxID] = true
			continue
		}
		for _, m := range best {
			done[m.TxID] = true
			selected = append(selected, m)
		}
		weight += bestWeight
		sigops += s
		fees += bestFee
	}
}

// allParentsKnown reports whether every parent d names is in the list: a
// transaction whose parent is missing cannot be placed.
func allParentsKnown(d *TxDesc, byID map[chainhash.Hash]*TxDesc) bool {
	for _, p := range d.Parents {
		if _, ok := byID[p]; !ok {
			return false
		}
	}
	return true
}

// blockLimits returns the weight and sigop budget left for transactions.
func blockLimits() (int64, int64) {
	return consensus.MaxBlockWeight - coinbaseReservedWeight, consensus.MaxBlockSigOpsCost - coinbaseReservedSigOps
}
