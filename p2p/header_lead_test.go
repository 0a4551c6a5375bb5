package p2p

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/p2p/internal/hostile"
)

// TestHeaderLeadKeepsRelay ensures that headers of blocks a peer withholds
// do not silence the node. A hostile peer serves the headers of a two-block
// branch it never delivers; the node then connects a competing block of
// its own at the height below them, and that block must still go out by
// gossip. It did not when the node announced only blocks at or above its
// best header: a selfish miner leaking the headers of its private chain
// stopped the honest nodes from relaying the blocks that race it, their
// own included (Core stays silent only in initial block download).
func TestHeaderLeadKeepsRelay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := honestChain(10)
	// The withheld branch: x10 and x11 on b9 (a later timestamp keeps x10
	// apart from b10).
	g.NextBlock("x10", nil, nil, chaintest.WithTimestamp(g.Block("b9").Header.Timestamp.Add(90*time.Second)))
	g.NextBlock("x11", nil, nil)
	g.SetTip("b9")
	b10 := g.NextBlock("b10", nil, nil)
	// Whole-block relay, which the hostile peer's topic carries, and no
	// status exchanges after the handshake: b10 can reach the peer by
	// gossip alone.
	victim := chainOf(t, ctx, g, 10, func(c *Config) {
		c.BlockRelay = RelayFull
		c.StatusInterval = time.Hour
	})
	leaker, err := hostile.New(ctx, hostile.Network{Name: net.Name, Genesis: net.GenesisHash()})
	if err != nil {
		t.Fatal(err)
	}
	defer leaker.Close()
	leaker.ServeHeaders(func([]chainhash.Hash) []wire.BlockHeader {
		return []wire.BlockHeader{g.Block("x10").Header, g.Block("x11").Header}
	})
	x11 := g.Block("x11").BlockHash()
	claim := consensus.CalcWork(g.Block("x11").Header.Bits)
	claim.Mul(claim, big.NewInt(2)).Add(claim, victim.chain.BestSnapshot().ChainWork)
	leaker.SetStatus(hostile.Status{Best: x11, Height: g.Height("x11"), Work: claim})
	node, err := leaker.Connect(ctx, victim.node.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaker.WaitMeshed(ctx, node); err != nil {
		t.Fatal(err)
	}
	// The node's side too: it sends what it publishes only to peers it
	// knows are on the topic, and a busy machine can deliver the peer's
	// subscription late.
	waitFor(t, 5*time.Second, "the node to see the peer on the block topic", func() bool {
		return slices.Contains(victim.node.blocks.ListPeers(), leaker.ID())
	})
	waitFor(t, 10*time.Second, "the leaked headers", func() bool { return victim.chain.HaveHeader(x11) })
	if _, h, _ := victim.chain.BestHeader(); h != g.Height("x11") || h != victim.chain.BestSnapshot().Height+2 {
		t.Fatalf("best header at %d, tip at %d", h, victim.chain.BestSnapshot().Height)
	}
	// The node's miner finds b10.
	if _, err := victim.chain.ProcessBlock(b10); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !leaker.Heard(b10.BlockHash()) {
		if time.Now().After(deadline) {
			t.Fatalf("b10 never reached the peer on the block topic (node tip %v, the peer on its topic %v, connected %v, ban score %d)",
				victim.chain.BestSnapshot().Hash == b10.BlockHash(), slices.Contains(victim.node.blocks.ListPeers(), leaker.ID()),
				leaker.Connected(node), victim.node.bans.score(leaker.ID()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAnnounces ensures what a connected block's announcement depends on:
// not in initial block download, and fewer than maxBlocksToAnnounce blocks
// under the tip.
func TestAnnounces(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := honestChain(20)
	n := chainOf(t, ctx, g, 20)
	tip := n.chain.BestSnapshot()
	for _, c := range []struct {
		height int32
		want   bool
	}{{tip.Height, true}, {tip.Height - maxBlocksToAnnounce + 1, true}, {tip.Height - maxBlocksToAnnounce, false}, {1, false}} {
		if got := n.node.announces(tip.Hash, c.height); got != c.want {
			t.Errorf("a block at %d under a tip at %d: announced %v", c.height, tip.Height, got)
		}
	}
	// A tip older than a day by the node's clock: initial download.
	late := newTestNode(t, ctx, chainparams.Regtest(), func() time.Time { return g.Now().Add(48 * time.Hour) })
	for i := 0; i < 20; i++ {
		if _, err := late.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if late.node.announces(tip.Hash, tip.Height) {
		t.Error("a node in initial block download announced its tip")
	}
}
