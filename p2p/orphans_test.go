package p2p

import (
	"context"
	"testing"
	"time"

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
	a.node.orphans.add(g.Block("b3"), time.Now())
	a.node.orphans.add(g.Block("b2"), time.Now())
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
		o.add(g.Block("b"+itoa(i)), start)
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
	o.add(g.Block("b"+itoa(maxOrphanBlocks+1)), start.Add(orphanBlockTTL+time.Second))
	if o.len() != 1 {
		t.Fatalf("%d orphans after expiry, want 1", o.len())
	}
}
