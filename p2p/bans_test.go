package p2p

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestInvalidBlockBansSender ensures a peer gossiping a block that breaks
// a consensus rule is banned and disconnected, cannot connect again, that
// the block reaches no one else, and that the ban survives a restart.
func TestInvalidBlockBansSender(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	bad := g.NextBlock("bad", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].Value++ })
	now := func() time.Time { return g.Now().Add(time.Hour) }
	honestDir := t.TempDir()
	mk := func(dir string) *testNode {
		c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		n, err := New(ctx, Config{Chain: c, Dir: dir, StatusInterval: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		go n.Run(ctx)
		return &testNode{chain: c, node: n}
	}
	honest, evil, other := mk(honestDir), mk(t.TempDir()), mk(t.TempDir())
	connect(t, ctx, evil, honest)
	connect(t, ctx, honest, other)
	waitFor(t, 10*time.Second, "handshakes", func() bool { return honest.node.PeerCount() == 2 })
	time.Sleep(time.Second) // let the gossip streams come up

	var buf bytes.Buffer
	_ = bad.Serialize(&buf)
	if err := evil.node.blocks.Publish(ctx, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the ban", func() bool {
		bans := honest.node.Banned()
		return len(bans) == 1 && bans[0].Address == evil.node.ID().String()
	})
	waitFor(t, 5*time.Second, "the router to score the sender down", func() bool {
		return honest.node.gossipScore(evil.node.ID()) <= invalidMessageWeight
	})
	waitFor(t, 5*time.Second, "the disconnection", func() bool { return len(honest.node.host.Network().ConnsToPeer(evil.node.ID())) == 0 })
	if err := evil.node.Connect(ctx, honest.node.Addrs()[0]); err == nil && len(honest.node.host.Network().ConnsToPeer(evil.node.ID())) > 0 {
		t.Fatal("banned peer connected again")
	}
	time.Sleep(300 * time.Millisecond)
	if other.chain.HaveHeader(bad.BlockHash()) || honest.chain.BestSnapshot().Height != 0 {
		t.Fatal("the invalid block travelled")
	}

	// Written in the background, within a second.
	waitFor(t, 5*time.Second, "the ban on disk", func() bool {
		bans, err := loadBans(honestDir)
		return err == nil && bans.banned(evil.node.ID())
	})
	if err := honest.node.ClearBanned(); err != nil || len(honest.node.Banned()) != 0 {
		t.Fatalf("clearbanned: %v", err)
	}
	if err := honest.node.SetBan("not a peer id", true, 0); err == nil {
		t.Fatal("setban accepted a bad peer ID")
	}
}

// TestMisbehaviourLowersGossipScore ensures the node's misbehaviour score
// reaches the gossip router before it amounts to a ban.
func TestMisbehaviourLowersGossipScore(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	a, b := newTestNode(t, ctx, net, nil), newTestNode(t, ctx, net, nil)
	connect(t, ctx, a, b)
	waitFor(t, 10*time.Second, "the handshake", func() bool { return a.node.PeerCount() == 1 })
	a.node.Misbehaving(b.node.ID(), 30, "test")
	waitFor(t, 5*time.Second, "a negative gossip score", func() bool { return a.node.gossipScore(b.node.ID()) <= -30 })
	if a.node.Peers()[0].GossipScore > -30 || len(a.node.Banned()) != 0 {
		t.Fatalf("peer info %+v, bans %v", a.node.Peers(), a.node.Banned())
	}
}
