package mempool

import (
	"math/bits"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/google/btree"
)

// The pool keeps, for every entry, the totals over it and its in-pool
// ancestors, and over it and its in-pool descendants (Bitcoin Core's
// CTxMemPoolEntry), updated as entries come and go; and two ordered indexes
// over them (Core's mapTx): by descendant score, lowest first, for
// eviction, and by ancestor package fee rate, highest first, for block
// assembly. Every change costs O(log n) in the pool's size per entry whose
// totals it changes, and those are bounded by the chain limits: nothing
// scans the pool.

// aggregate is a total over a set of pool transactions.
type aggregate struct {
	count                     int
	vsize, weight, fee, sigOp int64
}

func (a *aggregate) add(b aggregate) {
	a.count += b.count
	a.vsize += b.vsize
	a.weight += b.weight
	a.fee += b.fee
	a.sigOp += b.sigOp
}

func (a *aggregate) sub(b aggregate) {
	a.count -= b.count
	a.vsize -= b.vsize
	a.weight -= b.weight
	a.fee -= b.fee
	a.sigOp -= b.sigOp
}

// self is the entry's own aggregate.
func (e *entry) self() aggregate {
	return aggregate{count: 1, vsize: e.vsize, weight: e.weight, fee: e.fee, sigOp: e.sigOpCost}
}

// rateLess reports whether fee rate fa/wa is below fb/wb, exactly (the
// products may pass 64 bits). Sizes are positive, fees not negative.
func rateLess(fa, wa, fb, wb int64) bool {
	hl, ll := bits.Mul64(uint64(fa), uint64(wb))
	hr, lr := bits.Mul64(uint64(fb), uint64(wa))
	return hl < hr || (hl == hr && ll < lr)
}

// txidLess orders txids as their hex strings sort (the bytes reversed).
func txidLess(a, b *chainhash.Hash) bool {
	for i := chainhash.HashSize - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// byAncestorScore orders entries for block assembly: the highest fee rate
// of the package an entry makes with its ancestors (fee over weight) first,
// ties by txid.
func byAncestorScore(a, b *entry) bool {
	if rateLess(b.anc.fee, b.anc.weight, a.anc.fee, a.anc.weight) {
		return true
	}
	if rateLess(a.anc.fee, a.anc.weight, b.anc.fee, b.anc.weight) {
		return false
	}
	return txidLess(&a.txid, &b.txid)
}

// descendantScore returns the fee and size of an entry's descendant
// score: the higher of its own fee rate and that of it with its
// descendants (Core's CompareTxMemPoolEntryByDescendantScore), so that a
// transaction paying well is not evicted for a poor child.
func descendantScore(e *entry) (fee, size int64) {
	if rateLess(e.desc.fee, e.desc.vsize, e.fee, e.vsize) {
		return e.fee, e.vsize
	}
	return e.desc.fee, e.desc.vsize
}

// byDescendantScore orders entries for eviction: the lowest descendant
// score first, ties by txid.
func byDescendantScore(a, b *entry) bool {
	fa, sa := descendantScore(a)
	fb, sb := descendantScore(b)
	if rateLess(fa, sa, fb, sb) {
		return true
	}
	if rateLess(fb, sb, fa, sa) {
		return false
	}
	return txidLess(&a.txid, &b.txid)
}

// poolIndex holds the ordered indexes.
type poolIndex struct {
	byAnc  *btree.BTreeG[*entry]
	byDesc *btree.BTreeG[*entry]
}

func newPoolIndex() poolIndex {
	return poolIndex{
		byAnc:  btree.NewG(32, byAncestorScore),
		byDesc: btree.NewG(32, byDescendantScore),
	}
}

// changeAnc applies f to e's ancestor totals, keeping the index in order.
// This function MUST be called with the pool lock held (for writes).
func (p *TxPool) changeAnc(e *entry, f func(*aggregate)) {
	p.index.byAnc.Delete(e)
	f(&e.anc)
	p.index.byAnc.ReplaceOrInsert(e)
}

// changeDesc applies f to e's descendant totals, keeping the index in
// order.
// This function MUST be called with the pool lock held (for writes).
func (p *TxPool) changeDesc(e *entry, f func(*aggregate)) {
	p.index.byDesc.Delete(e)
	f(&e.desc)
	p.index.byDesc.ReplaceOrInsert(e)
}

// recount sets e's totals from its relatives, walked.
// This function MUST be called with the pool lock held (for writes).
func (p *TxPool) recount(e *entry) {
	p.changeAnc(e, func(a *aggregate) {
		*a = e.self()
		for _, x := range p.ancestorsLocked(e) {
			a.add(x.self())
		}
	})
	p.changeDesc(e, func(d *aggregate) {
		*d = e.self()
		for _, x := range p.descendantsLocked(e) {
			d.add(x.self())
		}
	})
}

// indexAddedLocked sets the totals of e, just linked into the pool, and
// updates its relatives'. A new transaction has no children in the pool:
// its ancestors each gain it. One returning from a disconnected block may
// have some; then e, its ancestors and its descendants are counted again.
// This function MUST be called with the pool lock held (for writes).
func (p *TxPool) indexAddedLocked(e *entry) {
	ancestors := p.ancestorsLocked(e)
	if len(e.children) == 0 {
		self := e.self()
		e.anc, e.desc = self, self
		for _, a := range ancestors {
			e.anc.add(a.self())
			p.changeDesc(a, func(d *aggregate) { d.add(self) })
		}
		p.index.byAnc.ReplaceOrInsert(e)
		p.index.byDesc.ReplaceOrInsert(e)
		return
	}
	e.anc, e.desc = e.self(), e.self()
	p.index.byAnc.ReplaceOrInsert(e)
	p.index.byDesc.ReplaceOrInsert(e)
	for _, x := range append(ancestors, p.descendantsLocked(e)...) {
		p.recount(x)
	}
	p.recount(e)
}

// unindexStagedLocked takes out of the indexes a set of entries about to
// be removed that holds every descendant of each: their ancestors outside
// the set lose them from their descendant totals (Core's RemoveStaged).
// This function MUST be called with the pool lock held (for writes),
// before the entries are unlinked.
func (p *TxPool) unindexStagedLocked(set map[*entry]struct{}) {
	for x := range set {
		self := x.self()
		for _, a := range p.ancestorsLocked(x) {
			if _, removed := set[a]; !removed {
				p.changeDesc(a, func(d *aggregate) { d.sub(self) })
			}
		}
	}
	for x := range set {
		p.index.byAnc.Delete(x)
		p.index.byDesc.Delete(x)
	}
}

// unindexConfirmedLocked takes out of the indexes an entry removed alone,
// its descendants staying (it was confirmed): they lose it from their
// ancestor totals. Its in-pool ancestors, if any, were confirmed before it
// in the same block; should one remain, the relatives are counted again
// once the entry is unlinked (recountAfter).
// This function MUST be called with the pool lock held (for writes),
// before the entry is unlinked.
func (p *TxPool) unindexConfirmedLocked(e *entry) (recountAfter []*entry) {
	p.index.byAnc.Delete(e)
	p.index.byDesc.Delete(e)
	descendants := p.descendantsLocked(e)
	if len(e.parents) > 0 {
		return append(p.ancestorsLocked(e), descendants...)
	}
	self := e.self()
	for _, d := range descendants {
		p.changeAnc(d, func(a *aggregate) { a.sub(self) })
	}
	return nil
}
