package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestTransactionRelay ensures a transaction the first node of a line of
// three accepts reaches the pools of the others through the middle one.
func TestTransactionRelay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 0)
	g, key, pk := f.g, f.key, f.pk
	mk := func() *poolNode { return newPoolNode(t, ctx, net, f) }
	a, b, c := mk(), mk(), mk()
	connectPools(t, ctx, a, b)
	connectPools(t, ctx, b, c)
	waitFor(t, 10*time.Second, "handshakes", func() bool { return b.node.PeerCount() == 2 })

	out := g.CoinbaseOut("fund")
	out.Key = key
	good, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{out}, []int64{out.Amount - 1000}, pk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.ProcessTransaction(good, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the transaction at the far end", func() bool { return c.pool.Have(good.TxHash()) })
	if !b.pool.Have(good.TxHash()) {
		t.Fatal("the middle node does not hold the transaction")
	}
}

// TestReorgReturnsTransactions ensures a transaction confirmed only on the
// losing side of a partition returns to the pools when the sides join,
// reaches the winning side's pools by announcement, and confirms again
// there.
//
//	fan -> a1 (spends T)                (side A)
//	    \-> c1 -> c2 -> c3 (spends T)   (side C: more work; c3 mined later)
func TestReorgReturnsTransactions(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 1)
	tx := f.spends[0]
	f.g.NextBlock("a1", nil, []*wire.MsgTx{tx})
	f.g.SetTip("fan")
	f.g.NextBlock("c1", nil, nil)
	f.g.NextBlock("c2", nil, nil)
	a1, a2 := newPoolNode(t, ctx, net, f), newPoolNode(t, ctx, net, f)
	c1, c2 := newPoolNode(t, ctx, net, f), newPoolNode(t, ctx, net, f)
	connectPools(t, ctx, a1, a2)
	connectPools(t, ctx, c1, c2)
	waitFor(t, 10*time.Second, "the handshake of side A", func() bool { return a1.node.PeerCount() == 1 })
	// As in life, the transaction is relayed before it is mined: the
	// nodes of side A have then been told of it, and are not told again.
	if _, err := a1.pool.ProcessTransaction(tx, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the transaction on both nodes of side A", func() bool { return a2.pool.Have(tx.TxHash()) })
	if _, err := a1.chain.ProcessBlock(f.g.Block("a1")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"c1", "c2"} {
		if _, err := c1.chain.ProcessBlock(f.g.Block(name)); err != nil {
			t.Fatal(err)
		}
	}
	all := []*poolNode{a1, a2, c1, c2}
	tipOf := func(name string) func(*poolNode) bool {
		return func(n *poolNode) bool { return n.chain.BestSnapshot().Hash == f.g.Block(name).BlockHash() }
	}
	waitFor(t, 20*time.Second, "each side to agree", func() bool {
		return tipOf("a1")(a2) && tipOf("c2")(c2)
	})

	connectPools(t, ctx, a2, c2) // the partition heals
	waitFor(t, 30*time.Second, "every node on the chain with more work, the transaction in every pool", func() bool {
		for _, n := range all {
			if !tipOf("c2")(n) || !n.pool.Have(tx.TxHash()) {
				return false
			}
		}
		return true
	})

	c3 := f.g.NextBlock("c3", nil, []*wire.MsgTx{tx})
	if _, err := c1.chain.ProcessBlock(c3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the transaction confirmed again everywhere", func() bool {
		for _, n := range all {
			if !tipOf("c3")(n) || n.pool.Have(tx.TxHash()) {
				return false
			}
		}
		return true
	})
}
