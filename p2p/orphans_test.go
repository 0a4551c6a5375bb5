package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestOrphanBlocksConnectWithTheirParent ensures orphans wait until their
// parent connects and then connect in turn, grandchildren included.
func TestOrphanBlocksConnectWithTheirParent(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	for i := 0; i < 4; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	a := newTestNode(t, ctx, net, now)
	if _, err := a.chain.ProcessBlock(g.Block("b0")); err != nil {
		t.Fatal(err)
	}
	a.node.orphans.add(g.Block("b3"), "peer", time.Now())
	a.node.orphans.add(g.Block("b2"), "peer", time.Now())
	if _, err := a.chain.ProcessBlock(g.Block("b1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the orphans to connect", tipIs(a, g.Block("b3").BlockHash()))
	if a.node.orphans.len() != 0 {
		t.Fatalf("%d orphans left", a.node.orphans.len())
	}
}

// TestOrphanBlocksBounded ensures the pool evicts its oldest orphan when
// full and drops expired ones.
func TestOrphanBlocksBounded(t *testing.T) {
	t.Parallel()
	g := chaintest.New(chainparams.Regtest())
	for i := 0; i < maxOrphanBlocks+2; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	o := newOrphanBlocks()
	start := time.Now()
	for i := 0; i < maxOrphanBlocks+1; i++ {
		o.add(g.Block("b"+itoa(i)), "peer", start)
	}
	if o.len() != maxOrphanBlocks {
		t.Fatalf("%d orphans, want %d", o.len(), maxOrphanBlocks)
	}
	if got := o.takeChildren(g.Block("b0").Header.PrevBlock); len(got) != 0 {
		t.Fatal("the oldest orphan was not evicted")
	}
	if got := o.takeChildren(g.Block("b0").BlockHash()); len(got) != 1 || got[0] != g.Block("b1") {
		t.Fatalf("children of b0: %d blocks", len(got))
	}
	o.expire(start.Add(orphanBlockTTL + time.Second))
	if o.len() != 0 {
		t.Fatalf("%d orphans after expiry, want 0", o.len())
	}
	o.add(g.Block("b"+itoa(maxOrphanBlocks+1)), "peer", start.Add(orphanBlockTTL+time.Second))
	if o.len() != 1 {
		t.Fatalf("%d orphans after expiry, want 1", o.len())
	}
}

// witnessHeavy returns a block (not valid: only its decoded size matters)
// whose one transaction carries items empty witness items, distinct by
// nonce: each costs a slice header once decoded.
func witnessHeavy(nonce uint32, items int) *wire.MsgBlock {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{Witness: make(wire.TxWitness, items)})
	tx.AddTxOut(&wire.TxOut{})
	b := wire.NewMsgBlock(&wire.BlockHeader{Nonce: nonce})
	_ = b.AddTransaction(tx)
	return b
}

// TestOrphanBlocksBoundedByBytes ensures the pool is bounded by the memory
// its decoded blocks take, per peer and in all: witness-heavy blocks from
// one peer push out that peer's oldest, not others', and a block bigger
// than a peer's share is not kept at all.
func TestOrphanBlocksBoundedByBytes(t *testing.T) {
	t.Parallel()
	items := (maxOrphanBytesPerPeer / 3) / 24 // a third of a peer's share
	o := newOrphanBlocks()
	now := time.Now()
	other := witnessHeavy(1000, 10)
	o.add(other, "honest", now)
	for i := uint32(0); i < 10; i++ {
		if !o.add(witnessHeavy(i, items), "flooder", now) {
			t.Fatalf("block %d refused", i)
		}
		if total, mine := o.size("flooder"); mine > maxOrphanBytesPerPeer || total > maxOrphanBytes {
			t.Fatalf("after %d blocks: %d bytes from the flooder, %d in all", i+1, mine, total)
		}
	}
	if got := o.takeChildren(other.Header.PrevBlock); len(got) != 3 { // other + the flooder's last two
		t.Fatalf("%d orphans on the zero parent, want the honest one and the flooder's last 2", len(got))
	}
	if _, mine := o.size("flooder"); mine != 0 {
		t.Fatalf("%d bytes still counted for the flooder", mine)
	}
	if o.add(witnessHeavy(99, maxOrphanBytesPerPeer/24+1), "flooder", now) {
		t.Fatal("a block over a peer's share was kept")
	}
	// Many peers together stay under the total.
	for p := 0; p < 20; p++ {
		o.add(witnessHeavy(uint32(200+p), items), peer.ID("p"+itoa(p)), now)
	}
	if total, _ := o.size(""); total > maxOrphanBytes {
		t.Fatalf("%d bytes held, over %d", total, maxOrphanBytes)
	}
}
