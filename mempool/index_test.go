package mempool

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/wire"
	"github.com/google/btree"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// checkIndex verifies the kept totals of every entry against its walked
// relatives, the pool totals, and that both indexes hold exactly the pool,
// in order.
func (p *TxPool) checkIndex(t testing.TB) {
	t.Helper()
	p.mu.RLock()
	defer p.mu.RUnlock()
	var vsizes, fees int64
	for _, e := range p.pool {
		anc, desc := e.self(), e.self()
		for _, a := range p.ancestorsLocked(e) {
			anc.add(a.self())
		}
		for _, d := range p.descendantsLocked(e) {
			desc.add(d.self())
		}
		if e.anc != anc || e.desc != desc {
			t.Fatalf("%v: kept ancestor totals %+v, walked %+v; descendant %+v, walked %+v", e.txid, e.anc, anc, e.desc, desc)
		}
		vsizes += e.vsize
		fees += e.fee
	}
	if vsizes != p.vsizes || fees != p.fees {
		t.Fatalf("pool totals %d vB %d fees, entries add up to %d, %d", p.vsizes, p.fees, vsizes, fees)
	}
	for name, tree := range map[string]interface {
		Len() int
	}{"ancestor": p.index.byAnc, "descendant": p.index.byDesc} {
		if tree.Len() != len(p.pool) {
			t.Fatalf("the %s index holds %d entries, the pool %d", name, tree.Len(), len(p.pool))
		}
	}
	for name, idx := range map[string]struct {
		tree *btree.BTreeG[*entry]
		less func(a, b *entry) bool
	}{"ancestor": {p.index.byAnc, byAncestorScore}, "descendant": {p.index.byDesc, byDescendantScore}} {
		var prev *entry
		idx.tree.Ascend(func(e *entry) bool {
			if p.pool[e.txid] != e {
				t.Fatalf("the %s index holds %v, not in the pool", name, e.txid)
			}
			if prev != nil && idx.less(e, prev) {
				t.Fatalf("the %s index is out of order at %v", name, e.txid)
			}
			prev = e
			return true
		})
	}
}

// TestIndexRandomOps ensures the kept totals and indexes stay exact through
// a random mix of everything that changes the pool: chains and trees of
// spends, replacements, confirmations, reorganizations returning
// transactions with children in the pool, expiry and eviction.
func TestIndexRandomOps(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 40)
	rng := rand.New(rand.NewPCG(1, 2))
	h.pool.cfg.MaxPoolBytes = 12_000 // a dozen transactions or so: evictions
	var outs []chaintest.SpendableOut
	for i := 0; i < 40; i++ {
		outs = append(outs, h.coinbase(i))
	}
	var mined []*wire.MsgBlock
	var accepted, replaced, blocks, disconnected, evictions int
	take := func() (chaintest.SpendableOut, bool) {
		for len(outs) > 0 {
			i := rng.IntN(len(outs))
			o := outs[i]
			outs = append(outs[:i], outs[i+1:]...)
			if h.pool.IsSpent(o.OutPoint) {
				continue
			}
			if _, err := h.chain.FetchUtxoEntry(o.OutPoint); err == nil {
				return o, true
			}
			if _, ok := h.pool.Output(o.OutPoint); ok {
				return o, true
			}
		}
		return chaintest.SpendableOut{}, false
	}
	for step := 0; step < 400; step++ {
		switch op := rng.IntN(10); {
		case op < 6: // a spend of one or two outputs into one to three
			in, ok := take()
			if !ok {
				continue
			}
			ins := []chaintest.SpendableOut{in}
			if rng.IntN(3) == 0 {
				if in2, ok := take(); ok {
					ins = append(ins, in2)
				}
			}
			tx := h.spend(ins, 1+rng.IntN(3), int64(200+rng.IntN(5000)))
			if _, err := h.pool.ProcessTransaction(tx, false); err == nil {
				accepted++
				for i := range tx.TxOut {
					outs = append(outs, h.out(tx, uint32(i)))
				}
			} else {
				outs = append(outs, ins...) // refused: the outputs stay free
			}
		case op == 6: // a replacement of a pool transaction, paying more
			descs := h.pool.Descs()
			if len(descs) == 0 {
				continue
			}
			d := descs[rng.IntN(len(descs))]
			var ins []chaintest.SpendableOut
			for _, in := range d.Tx.TxIn {
				o := chaintest.SpendableOut{OutPoint: in.PreviousOutPoint, Key: h.key, PkScript: h.pk}
				if e, err := h.chain.FetchUtxoEntry(in.PreviousOutPoint); err == nil && e != nil {
					o.Amount = e.Amount
				} else if out, ok := h.pool.Output(in.PreviousOutPoint); ok {
					o.Amount = out.Value
				} else {
					ins = nil
					break
				}
				ins = append(ins, o)
			}
			if ins == nil {
				continue
			}
			tx := h.spend(ins, 1, d.DescendantFees+int64(2000+rng.IntN(20000)))
			if res, err := h.pool.ProcessTransaction(tx, false); err == nil && len(res.Replaced) > 0 {
				replaced++
				outs = append(outs, h.out(tx, 0))
			}
		case op == 7: // a block with some of the pool
			var txs []*wire.MsgTx
			sel, _ := h.pool.SelectForBlock(int64(2000*(1+rng.IntN(4))), 80_000)
			for _, d := range sel {
				txs = append(txs, d.Tx)
			}
			mined = append(mined, h.mine(fmt.Sprintf("m%d", step), txs...))
			blocks++
		case op == 8 && len(mined) > 0: // the last block disconnected
			b := mined[len(mined)-1]
			mined = mined[:len(mined)-1]
			if err := h.chain.InvalidateBlock(b.BlockHash()); err != nil {
				t.Fatal(err)
			}
			h.pool.HandleNotification(chain.Notification{Type: chain.BlockDisconnected, Block: b})
			h.g.SetTip(h.g.NameOf(h.chain.BestSnapshot().Hash))
			disconnected++
		default: // time passes: expiry of the oldest
			h.clock = h.clock.Add(h.pool.cfg.Expiry / 50)
			h.pool.Expire()
		}
		h.pool.checkIndex(t)
		if in := h.pool.Info(); in.MinFeeRate > in.MinRelayFeeRate {
			evictions++
		}
	}
	info := h.pool.Info()
	t.Logf("%d accepted, %d replacements, %d blocks, %d disconnected, %d steps with a raised minimum fee; %d in the pool",
		accepted, replaced, blocks, disconnected, evictions, info.Size)
	if info.Size == 0 || replaced == 0 || blocks == 0 || disconnected == 0 || evictions == 0 {
		t.Fatal("the test did not exercise every change (see the counts)")
	}
}
