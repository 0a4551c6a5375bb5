package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestSplitNetworkConverges ensures two halves of a network that mined
// apart settle on the chain with more work once they are joined again,
// whichever side it is on.
//
//	b0 .. b9 -> a10 .. a14          (side A, 5 blocks)
//	         \-> c10 .. c17         (side C, 8 blocks: more work)
func TestSplitNetworkConverges(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	for i := 0; i < 10; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	for i := 10; i < 15; i++ {
		g.NextBlock("a"+itoa(i), nil, nil)
	}
	g.SetTip("b9")
	for i := 10; i < 18; i++ {
		g.NextBlock("c"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	// Two nodes per side, joined within each side.
	a1, a2 := newTestNode(t, ctx, net, now), newTestNode(t, ctx, net, now)
	c1, c2 := newTestNode(t, ctx, net, now), newTestNode(t, ctx, net, now)
	connect(t, ctx, a1, a2)
	connect(t, ctx, c1, c2)
	feed := func(n *testNode, prefix string, from, to int) {
		for i := from; i < to; i++ {
			if _, err := n.chain.ProcessBlock(g.Block(prefix + itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	feed(a1, "b", 0, 10)
	feed(a1, "a", 10, 15)
	feed(c1, "b", 0, 10)
	feed(c1, "c", 10, 18)
	waitFor(t, 20*time.Second, "each side to agree", func() bool {
		return tipIs(a2, g.Block("a14").BlockHash())() && tipIs(c2, g.Block("c17").BlockHash())()
	})

	connect(t, ctx, a2, c2) // the partition heals
	for _, n := range []*testNode{a1, a2, c1, c2} {
		waitFor(t, 30*time.Second, "convergence on the chain with more work", tipIs(n, g.Block("c17").BlockHash()))
	}
}

// TestSyncFromSeveralPeers ensures a fresh node connected to three peers
// that hold 1,000 blocks catches up, downloading the blocks in parallel:
// every peer serves some, and hardly any block is fetched twice.
func TestSyncFromSeveralPeers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	const blocks = 1000
	for i := 0; i < blocks; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	var seeds []*testNode
	for range 3 {
		s := newTestNode(t, ctx, net, now)
		for i := 0; i < blocks; i++ {
			if _, err := s.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		seeds = append(seeds, s)
	}
	fresh := newTestNode(t, ctx, net, now)
	for _, s := range seeds {
		connect(t, ctx, fresh, s)
	}
	start := time.Now()
	waitFor(t, 60*time.Second, "the fresh node to sync", tipIs(fresh, g.Tip().BlockHash()))
	var served []int64
	total := int64(0)
	for _, s := range seeds {
		served = append(served, s.node.blocksServed.Load())
		total += s.node.blocksServed.Load()
	}
	t.Logf("synced %d blocks from %d peers in %v; blocks served per peer %v", blocks, len(seeds), time.Since(start), served)
	for i, n := range served {
		if n == 0 {
			t.Errorf("peer %d served no blocks: the download is not parallel", i)
		}
	}
	if total > blocks+blocks/20 {
		t.Errorf("peers served %d blocks for %d: blocks are downloaded more than once", total, blocks)
	}
}

// TestRelayMesh ensures blocks connected on any node of a six-node mesh
// (a ring with chords) reach every other node.
func TestRelayMesh(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	for i := 0; i < 6; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	nodes := make([]*testNode, 6)
	for i := range nodes {
		nodes[i] = newTestNode(t, ctx, net, now)
	}
	for i := range nodes {
		connect(t, ctx, nodes[i], nodes[(i+1)%len(nodes)])
	}
	connect(t, ctx, nodes[0], nodes[3])
	connect(t, ctx, nodes[1], nodes[4])
	for i := 0; i < 6; i++ {
		block := g.Block("b" + itoa(i))
		if _, err := nodes[i].chain.ProcessBlock(block); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			waitFor(t, 20*time.Second, "block "+itoa(i)+" to reach every node", tipIs(n, block.BlockHash()))
		}
	}
}

// TestStallingPeerLosesItsBlocks ensures a peer that takes block requests
// and never answers holds up the download only until the stall timeout:
// its blocks are asked of another peer, and it is not asked again for a
// while.
func TestStallingPeerLosesItsBlocks(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	const blocks = 300
	for i := 0; i < blocks; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	honest, staller := newTestNode(t, ctx, net, now), newTestNode(t, ctx, net, now)
	for _, s := range []*testNode{honest, staller} {
		for i := 0; i < blocks; i++ {
			if _, err := s.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	asked := make(chan struct{}, 100)
	staller.node.host.SetStreamHandler(staller.node.protocol("getblocks"), func(s network.Stream) {
		asked <- struct{}{}
		<-ctx.Done() // never answers
		_ = s.Reset()
	})
	fresh := newTestNode(t, ctx, net, now)
	connect(t, ctx, fresh, staller)
	connect(t, ctx, fresh, honest)
	start := time.Now()
	// Far less than blockRequestTimeout: only the stall detection can
	// free the staller's blocks this soon.
	waitFor(t, 20*time.Second, "the fresh node to sync", tipIs(fresh, g.Tip().BlockHash()))
	t.Logf("synced %d blocks past a stalling peer in %v", blocks, time.Since(start))
	if len(asked) == 0 {
		t.Fatal("the staller was never asked for blocks; the test proves nothing")
	}
	d := fresh.node.sync
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stalls == 0 || d.resting[staller.node.ID()].IsZero() {
		t.Fatalf("stalls %d, staller resting until %v: the stall was not detected", d.stalls, d.resting[staller.node.ID()])
	}
}
