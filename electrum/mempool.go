package electrum

import (
	"cmp"
	"slices"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/internal/poolindex"
)

// history returns the script's pool transactions as the protocol orders
// them: those whose inputs are all confirmed (height 0) before those
// spending pool outputs (height -1), each group by txid as shown (the
// order ElectrumX settled on, so that status hashes agree).
func poolHistory(m *poolindex.Index, sh chain.ScriptHash) []historyEntry {
	set := m.Script(sh)
	out := make([]historyEntry, 0, len(set))
	for id, t := range set {
		e := historyEntry{TxHash: id, Fee: t.Fee}
		if t.UnconfirmedParent {
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

// poolPart returns what the pool adds to a script beside its confirmed
// unspent outputs (confirmed, from the caller's view): the script's outputs
// created in the pool and not spent there, the outpoints of it the pool
// spends, and the balance change (created less spent). A pool transaction
// the view has already confirmed (the index not yet refreshed after the
// block) is recognized by an output of it in confirmed, and left out, as
// are spends of outputs neither confirmed nor created in the pool (their
// spender confirmed).
func poolPart(m *poolindex.Index, sh chain.ScriptHash, confirmed map[wire.OutPoint]int64) ([]unspentOut, map[wire.OutPoint]struct{}, int64) {
	var outs []unspentOut
	created := map[wire.OutPoint]int64{}
	var txs []*poolindex.Tx
	for id, t := range m.Script(sh) {
		mined := false
		for _, o := range t.Outs {
			if _, ok := confirmed[wire.OutPoint{Hash: id, Index: o.Index}]; ok && o.Script == sh {
				mined = true
			}
		}
		if mined {
			continue
		}
		txs = append(txs, t)
		for _, o := range t.Outs {
			if o.Script == sh {
				op := wire.OutPoint{Hash: id, Index: o.Index}
				created[op] = o.Value
				outs = append(outs, unspentOut{hash: id, pos: o.Index, value: o.Value})
			}
		}
	}
	spent := map[wire.OutPoint]struct{}{}
	var delta int64
	for _, v := range created {
		delta += v
	}
	for _, t := range txs {
		for _, sp := range t.Spends {
			if sp.Script != sh {
				continue
			}
			_, isConfirmed := confirmed[sp.Op]
			_, isPooled := created[sp.Op]
			if isConfirmed || isPooled {
				spent[sp.Op] = struct{}{}
				delta -= sp.Value
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

// poolFeeHistogram returns the pool's fee histogram as ElectrumX computes it:
// virtual size by fee rate (sat/vB, to 0.1), merged from the highest rate
// down into bins of at least 100,000 vbytes that grow by 10% each, with
// the remainder under a bin's size left out.
func poolFeeHistogram(m *poolindex.Index) [][2]float64 {
	byRate := map[int64]int64{} // rate in 0.1 sat/vB -> vsize
	m.Each(func(_ chainhash.Hash, t *poolindex.Tx) {
		if t.VSize > 0 {
			byRate[10*t.Fee/t.VSize] += t.VSize
		}
	})
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
