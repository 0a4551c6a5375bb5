package p2p

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	pubsub "github.com/libp2p/go-libp2p-pubsub"

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

// txFixture is a chain whose blocks "fund", "m0".."m99" and "fan" leave
// spendable P2WPKH outputs, and signed transactions spending them one
// each, none mined yet.
type txFixture struct {
	g      *chaintest.Generator
	key    *btcec.PrivateKey
	pk     []byte
	setup  []string // the blocks every node starts with
	spends []*wire.MsgTx
}

// newTxFixture builds a fixture with n spending transactions.
func newTxFixture(t testing.TB, net *chainparams.Network, n int) *txFixture {
	t.Helper()
	f := &txFixture{g: chaintest.New(net)}
	f.key, _ = btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("p2p tx key")))
	f.pk = chaintest.P2WPKHScript(f.key)
	f.g.NextBlock("fund", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = f.pk })
	for i := 0; i < 100; i++ {
		f.g.NextBlock("m"+itoa(i), nil, nil)
	}
	f.setup = append([]string{"fund"}, names("m", 100)...)
	if n == 0 {
		return f
	}
	out := f.g.CoinbaseOut("fund")
	out.Key = f.key
	values := make([]int64, n)
	for i := range values {
		values[i] = (out.Amount - 100_000) / int64(n)
	}
	fan, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{out}, values, f.pk)
	if err != nil {
		t.Fatal(err)
	}
	f.g.NextBlock("fan", nil, []*wire.MsgTx{fan})
	f.setup = append(f.setup, "fan")
	for _, o := range chaintest.TxOuts(fan) {
		o.Key = f.key
		tx, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{o}, []int64{o.Amount - 1000}, f.pk)
		if err != nil {
			t.Fatal(err)
		}
		f.spends = append(f.spends, tx)
	}
	return f
}

// now is a clock at which every block of the fixture is in the past.
func (f *txFixture) now() time.Time { return f.g.Now().Add(time.Hour) }

// newChain opens a chain holding the fixture's setup blocks.
func (f *txFixture) newChain(t testing.TB, net *chainparams.Network) *chain.BlockChain {
	t.Helper()
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, name := range f.setup {
		if _, err := c.ProcessBlock(f.g.Block(name)); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// newPoolNode starts a pool node holding the fixture's setup blocks.
func newPoolNode(t testing.TB, ctx context.Context, net *chainparams.Network, f *txFixture, opts ...func(*Config)) *poolNode {
	t.Helper()
	c := f.newChain(t, net)
	// Every transaction the pool takes is announced, as cairn node wires
	// it; the network starts after the pool, hence the indirection.
	var network atomic.Pointer[Node]
	pool := mempool.New(mempool.Config{Chain: c, Now: f.now, OnAccepted: func(descs []*mempool.TxDesc) {
		if n := network.Load(); n != nil {
			for _, d := range descs {
				n.AnnounceTxs(d.WTxID)
			}
		}
	}})
	cfg := Config{Chain: c, Mempool: pool, Dir: t.TempDir(), Logger: testLogger(t), StatusInterval: 300 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	n, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	network.Store(n)
	t.Cleanup(func() { n.Close() })
	go pool.Run(ctx)
	go n.Run(ctx)
	return &poolNode{chain: c, pool: pool, node: n}
}

// connectPools connects a to b.
func connectPools(t testing.TB, ctx context.Context, a, b *poolNode) {
	t.Helper()
	if err := a.node.Connect(ctx, b.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
}

// waitMeshed waits until each node sees the other in every gossip topic
// and then for the router's next heartbeat (each second), which grafts
// them into each other's mesh: from then on messages are forwarded
// between them, not only published.
func waitMeshed(t testing.TB, a, b *Node) {
	t.Helper()
	waitFor(t, 10*time.Second, "gossip topics joined", func() bool {
		for _, pair := range [][2]*Node{{a, b}, {b, a}} {
			for _, topic := range []*pubsub.Topic{pair[0].blocks, pair[0].compact} {
				if !slices.Contains(topic.ListPeers(), pair[1].ID()) {
					return false
				}
			}
		}
		return true
	})
	time.Sleep(1200 * time.Millisecond)
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + itoa(i)
	}
	return out
}
