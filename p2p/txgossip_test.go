package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/mempool"
)

// poolNode is a chain, a mempool following it, and a p2p node over both.
type poolNode struct {
	chain *chain.BlockChain
	pool  *mempool.TxPool
	node  *Node
}

// TestTransactionGossip ensures a transaction the first node of a line of
// three accepts reaches the pools of the others through the middle one,
// and that an invalid one (a bad signature) is not relayed.
func TestTransactionGossip(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	key, _ := btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("p2p tx key")))
	pk := chaintest.P2WPKHScript(key)
	g.NextBlock("fund", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = pk })
	for i := 0; i < 100; i++ {
		g.NextBlock("m"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	mk := func() *poolNode {
		c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		for _, name := range append([]string{"fund"}, names("m", 100)...) {
			if _, err := c.ProcessBlock(g.Block(name)); err != nil {
				t.Fatal(err)
			}
		}
		pool := mempool.New(mempool.Config{Chain: c, Now: now})
		go pool.Run(ctx)
		n, err := New(ctx, Config{Chain: c, Mempool: pool, Dir: t.TempDir(), StatusInterval: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		go n.Run(ctx)
		return &poolNode{chain: c, pool: pool, node: n}
	}
	a, b, c := mk(), mk(), mk()
	for _, pair := range [][2]*poolNode{{a, b}, {b, c}} {
		if err := pair[0].node.Connect(ctx, pair[1].node.Addrs()[0]); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "handshakes", func() bool { return b.node.PeerCount() == 2 })
	time.Sleep(time.Second) // let the gossip streams come up

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

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + itoa(i)
	}
	return out
}
