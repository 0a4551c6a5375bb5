package p2p

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// testNode is a chain with a p2p node over it.
type testNode struct {
	chain *chain.BlockChain
	node  *Node
}

// newTestNode starts a node on a fresh chain of net.
func newTestNode(t testing.TB, ctx context.Context, net *chainparams.Network, now func() time.Time, opts ...func(*Config)) *testNode {
	t.Helper()
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cfg := Config{Chain: c, Dir: t.TempDir(), Logger: testLogger(t), StatusInterval: 300 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	n, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	go n.Run(ctx)
	return &testNode{chain: c, node: n}
}

func connect(t testing.TB, ctx context.Context, a, b *testNode) {
	t.Helper()
	if err := a.node.Connect(ctx, b.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	// The bounds say how long things take on an idle machine; make test
	// runs mining end-to-end tests beside these, so a slow pass is not a
	// failure (a passing test never waits longer than it must).
	deadline := time.Now().Add(3 * d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tipIs(n *testNode, h chainhash.Hash) func() bool {
	return func() bool { return n.chain.BestSnapshot().Hash == h }
}

// TestSyncAndHandshake ensures that a node joining a peer with more work
// syncs its whole chain through the status handshake and the block-locator
// stream, and that the handshake drops a peer of another network.
func TestSyncAndHandshake(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	for i := 0; i < 30; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	a := newTestNode(t, ctx, net, now)
	for i := 0; i < 30; i++ {
		if _, err := a.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	b := newTestNode(t, ctx, net, now)
	connect(t, ctx, b, a)
	waitFor(t, 20*time.Second, "the new node to sync", tipIs(b, g.Tip().BlockHash()))
	if a.node.PeerCount() != 1 || b.node.PeerCount() != 1 {
		t.Fatalf("peers after handshake: a %d, b %d", a.node.PeerCount(), b.node.PeerCount())
	}
	// b started at genesis and now has a's chain; a has b's start.
	waitFor(t, 5*time.Second, "statuses after the sync", func() bool {
		p := a.node.Peers()
		return len(p) == 1 && p[0].Height == 30
	})
	if p := b.node.Peers()[0]; p.StartingHeight != 30 || p.SyncedHeaders != 30 || p.SyncedBlocks != 30 {
		t.Fatalf("b's view of a: %+v", p)
	}
	if p := a.node.Peers()[0]; p.StartingHeight != 0 || p.SyncedBlocks != 30 {
		t.Fatalf("a's view of b: %+v", p)
	}

	other, err := chainparams.ParseSpec([]byte(`{"name":"othernet","genesis":{"time":1795305600,"message":"other"}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := newTestNode(t, ctx, other, now)
	_ = o.node.Connect(ctx, a.node.Addrs()[0])
	waitFor(t, 5*time.Second, "the other network's peer to be dropped", func() bool {
		return o.node.PeerCount() == 0 && a.node.PeerCount() == 1 &&
			len(o.node.host.Network().ConnsToPeer(a.node.ID())) == 0
	})
}

// TestRelayLine ensures that blocks connected on one end of a line of three
// nodes reach the other end through the middle one: by gossip once the
// streams are up, and by the status exchange and sync for what gossip lost
// before (here the blocks go out at once, before the mesh settles).
func TestRelayLine(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	for i := 0; i < 25; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	a := newTestNode(t, ctx, net, now)
	b := newTestNode(t, ctx, net, now)
	c := newTestNode(t, ctx, net, now)
	connect(t, ctx, a, b)
	connect(t, ctx, b, c)
	waitFor(t, 10*time.Second, "handshakes", func() bool {
		return a.node.PeerCount() == 1 && b.node.PeerCount() == 2 && c.node.PeerCount() == 1
	})
	// Early blocks: no settling time, so gossip may lose them.
	for i := 0; i < 20; i++ {
		if _, err := a.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "C to catch up", tipIs(c, g.Block("b19").BlockHash()))
	// Later blocks travel by gossip through the settled mesh.
	time.Sleep(time.Second)
	for i := 20; i < 25; i++ {
		if _, err := a.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	waitFor(t, 20*time.Second, "C to follow A", tipIs(c, g.Tip().BlockHash()))
	t.Logf("five more blocks reached the far end in %v", time.Since(start))
}

// TestIdentityPersists ensures the node's peer ID survives a restart.
func TestIdentityPersists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k1, err := loadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := loadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equals(k2) {
		t.Fatal("identity changed between loads")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// testLogger logs through t when CAIRN_P2P_DEBUG is set.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("CAIRN_P2P_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
