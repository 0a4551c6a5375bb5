package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestTransactionGossip ensures a transaction the first node of a line of
// three accepts reaches the pools of the others through the middle one,
// and that an invalid one (a bad signature) is not relayed.
func TestTransactionGossip(t *testing.T) {
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
	waitMeshed(t, a.node, b.node)
	waitMeshed(t, b.node, c.node)

	out := g.CoinbaseOut("fund")
	out.Key = key
	bad, _ := chaintest.SpendP2WPKH([]chaintest.SpendableOut{out}, []int64{out.Amount - 5000}, pk)
	bad.TxIn[0].Witness[0][10] ^= 1 // break the signature
	a.node.PublishTx(ctx, bad)
	good, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{out}, []int64{out.Amount - 1000}, pk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.ProcessTransaction(good, false); err != nil {
		t.Fatal(err)
	}
	a.node.PublishTx(ctx, good)
	waitFor(t, 10*time.Second, "the transaction at the far end", func() bool { return c.pool.Have(good.TxHash()) })
	if !b.pool.Have(good.TxHash()) || b.pool.Have(bad.TxHash()) || c.pool.Have(bad.TxHash()) {
		t.Fatal("relay reached the wrong pools")
	}
}
