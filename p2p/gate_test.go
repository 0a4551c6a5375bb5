package p2p

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// holdGate holds the blocks it is told to and records peers' headers.
type holdGate struct {
	mu    sync.Mutex
	held  map[chainhash.Hash]bool
	shown *chainhash.Hash
	heard []chainhash.Hash
}

func (g *holdGate) Hold(h chainhash.Hash) bool { g.mu.Lock(); defer g.mu.Unlock(); return g.held[h] }

func (g *holdGate) PeerBlock(h *wire.BlockHeader) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.heard = append(g.heard, h.BlockHash())
}

func (g *holdGate) Shown() (chainhash.Hash, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shown == nil {
		return chainhash.Hash{}, false
	}
	return *g.shown, true
}

func (g *holdGate) heardOf(h chainhash.Hash) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, x := range g.heard {
		if x == h {
			return true
		}
	}
	return false
}

// TestBlockGate ensures a gate holds back the announcement of a block its
// node connected, and the node's status shows peers the gate's tip so
// that they do not fetch it; Announce releases it; and the gate hears of
// the blocks peers relay.
func TestBlockGate(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	b0, b1 := g.NextBlock("b0", nil, nil), g.NextBlock("b1", nil, nil)
	now := func() time.Time { return g.Now().Add(time.Hour) }
	gate := &holdGate{held: map[chainhash.Hash]bool{b1.BlockHash(): true}}
	a := newTestNode(t, ctx, net, now, func(c *Config) { c.Gate = gate })
	b := newTestNode(t, ctx, net, now)
	connect(t, ctx, a, b)
	waitFor(t, 10*time.Second, "handshake", func() bool { return a.node.PeerCount() == 1 && b.node.PeerCount() == 1 })
	waitMeshed(t, a.node, b.node)

	if _, err := a.chain.ProcessBlock(b0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "b0 at B", tipIs(b, b0.BlockHash()))

	shown := b0.BlockHash()
	gate.mu.Lock()
	gate.shown = &shown
	gate.mu.Unlock()
	if _, err := a.chain.ProcessBlock(b1); err != nil {
		t.Fatal(err)
	}
	if st := a.node.ourStatus(); st.Best != b0.BlockHash().String() || st.Height != 1 {
		t.Fatalf("status shows %s at %d while b1 is held", st.Best, st.Height)
	}
	// Several status rounds (300 ms) and gossip: nothing leaks.
	time.Sleep(2 * time.Second)
	if tipIs(b, b1.BlockHash())() || b.chain.HaveHeader(b1.BlockHash()) {
		t.Fatal("B learned of the held block")
	}
	// Asked for headers, A shows none past b0: the held block's header
	// would have B wait for a block no one serves.
	for _, locator := range [][]chainhash.Hash{{net.GenesisHash()}, {b0.BlockHash()}} {
		headers, err := b.node.sync.requestHeaders(ctx, a.node.ID(), locator)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range headers {
			if h.BlockHash() == b1.BlockHash() {
				t.Fatalf("A served the held block's header after %v", locator[0])
			}
		}
	}

	gate.mu.Lock()
	gate.shown = nil
	gate.mu.Unlock()
	if err := a.node.Announce(ctx, b1.BlockHash()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "b1 at B once released", tipIs(b, b1.BlockHash()))

	b2 := g.NextBlock("b2", nil, nil)
	if _, err := b.chain.ProcessBlock(b2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "A's gate to hear of B's block", func() bool { return gate.heardOf(b2.BlockHash()) })
	if err := a.node.Announce(ctx, chainhash.Hash{1}); err == nil {
		t.Fatal("announced a block the chain does not have")
	}
}
