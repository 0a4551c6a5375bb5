package mempool

import (
	"container/heap"
	"sort"
)

// Block assembly gives up on a nearly full block after this many packages
// in a row did not fit (Bitcoin Core's MAX_CONSECUTIVE_FAILURES and
// BLOCK_FULL_ENOUGH_WEIGHT_DELTA).
const (
	maxConsecutiveFailures = 1000
	blockFullEnoughWeight  = 4000
)

// SelectForBlock chooses transactions for the next block within maxWeight
// and maxSigOpCost, as Bitcoin Core's BlockAssembler.addPackageTxs does:
// packages (a transaction with its ancestors not yet chosen) by fee rate,
// highest first, from the ancestor-score index; a package whose ancestors
// were partly chosen is scored again without them. Parents come before
// children. It returns the transactions in block order and their fees.
// It walks the index once and decodes only what it chooses: its cost grows
// with the block, not with the pool.
func (p *TxPool) SelectForBlock(maxWeight, maxSigOpCost int64) ([]*TxDesc, int64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	a := assembler{
		inBlock:  make(map[*entry]bool),
		failed:   make(map[*entry]bool),
		modified: make(map[*entry]*modEntry),
	}
	var chosen []*entry
	var fees, weight, sigOps int64
	failures := 0
	next := p.index.byAnc.Min
	var cursor *entry
	if e, ok := next(); ok {
		cursor = e
	}
	advance := func() {
		var after *entry
		p.index.byAnc.AscendGreaterOrEqual(cursor, func(e *entry) bool {
			if e == cursor {
				return true
			}
			after = e
			return false
		})
		cursor = after
	}
	for {
		// The next candidate of the index that is neither chosen, nor
		// failed, nor scored again (those come from the modified heap).
		for cursor != nil && (a.inBlock[cursor] || a.failed[cursor] || a.modified[cursor] != nil) {
			advance()
		}
		top := a.top()
		if cursor == nil && top == nil {
			break
		}
		// The better of the two.
		var e *entry
		var pkg aggregate
		fromModified := false
		if top != nil && (cursor == nil || packageLess(cursor, cursor.anc, top.e, top.pkg)) {
			e, pkg, fromModified = top.e, top.pkg, true
		} else {
			e, pkg = cursor, cursor.anc
		}
		if weight+pkg.weight > maxWeight || sigOps+pkg.sigOp > maxSigOpCost {
			if fromModified {
				a.failed[e] = true
			} else {
				advance()
			}
			failures++
			if failures > maxConsecutiveFailures && weight > maxWeight-blockFullEnoughWeight {
				break
			}
			continue
		}
		failures = 0
		if !fromModified {
			advance()
		}
		// The package: e and its ancestors not yet in, parents first
		// (fewer ancestors first).
		members := []*entry{e}
		for _, x := range p.ancestorsLocked(e) {
			if !a.inBlock[x] {
				members = append(members, x)
			}
		}
		sort.SliceStable(members, func(i, j int) bool {
			if members[i].anc.count != members[j].anc.count {
				return members[i].anc.count < members[j].anc.count
			}
			return txidLess(&members[i].txid, &members[j].txid)
		})
		for _, m := range members {
			a.inBlock[m] = true
			chosen = append(chosen, m)
			fees += m.fee
		}
		weight += pkg.weight
		sigOps += pkg.sigOp
		// Descendants of what went in no longer count it in their
		// packages (Core's UpdatePackagesForAdded).
		for _, m := range members {
			self := m.self()
			for _, d := range p.descendantsLocked(m) {
				if a.inBlock[d] {
					continue
				}
				a.lower(d, self)
			}
		}
	}
	out := make([]*TxDesc, len(chosen))
	for i, e := range chosen {
		out[i] = &TxDesc{Tx: e.msgTx(), TxID: e.txid, WTxID: e.wtxid, Fee: e.fee, Weight: e.weight, VSize: e.vsize,
			SigOpCost: e.sigOpCost, Time: e.entryTime(), Height: e.height,
			AncestorCount: e.anc.count, DescendantCount: e.desc.count, AncestorSize: e.anc.vsize,
			DescendantSize: e.desc.vsize, AncestorFees: e.anc.fee, DescendantFees: e.desc.fee}
		for parent := range e.parents {
			out[i].Parents = append(out[i].Parents, parent.txid)
		}
		sortHashes(out[i].Parents)
	}
	return out, fees
}

// packageLess reports whether package a ranks below package b: a lower fee
// rate (fee over weight), or the same and a later txid.
func packageLess(a *entry, pa aggregate, b *entry, pb aggregate) bool {
	if rateLess(pa.fee, pa.weight, pb.fee, pb.weight) {
		return true
	}
	if rateLess(pb.fee, pb.weight, pa.fee, pa.weight) {
		return false
	}
	return txidLess(&b.txid, &a.txid)
}

// assembler is SelectForBlock's state: what is in, what failed (packages
// scored again that did not fit: Core's failedTx), and the packages scored
// again since some of their ancestors went in (Core's mapModifiedTx), in a
// heap whose stale items are skipped.
type assembler struct {
	inBlock, failed map[*entry]bool
	modified        map[*entry]*modEntry
	heap            modHeap
}

// modEntry is a package scored again.
type modEntry struct {
	e       *entry
	pkg     aggregate
	version int
}

// modItem is a heap item, stale when its version is behind its entry's.
type modItem struct {
	m       *modEntry
	pkg     aggregate
	version int
}

// lower takes x out of d's package.
func (a *assembler) lower(d *entry, x aggregate) {
	m := a.modified[d]
	if m == nil {
		m = &modEntry{e: d, pkg: d.anc}
		a.modified[d] = m
	}
	m.pkg.sub(x)
	m.version++
	if !a.failed[d] {
		heap.Push(&a.heap, modItem{m: m, pkg: m.pkg, version: m.version})
	}
}

// top returns the best package scored again, dropping stale items and
// those chosen or failed.
func (a *assembler) top() *modEntry {
	for a.heap.Len() > 0 {
		it := a.heap[0]
		if it.version == it.m.version && !a.inBlock[it.m.e] && !a.failed[it.m.e] {
			return it.m
		}
		heap.Pop(&a.heap)
	}
	return nil
}

type modHeap []modItem

func (h modHeap) Len() int { return len(h) }
func (h modHeap) Less(i, j int) bool {
	return packageLess(h[j].m.e, h[j].pkg, h[i].m.e, h[i].pkg)
}
func (h modHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *modHeap) Push(x any)   { *h = append(*h, x.(modItem)) }
func (h *modHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
