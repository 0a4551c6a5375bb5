package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/p2p/internal/hostile"
)

// TestStatusFailureKeepsPeer ensures a handshaken peer whose periodic
// status exchanges fail (its streams reset, as on a busy machine) stays
// connected, while one that answers with a malformed status is dropped.
// Dropping a peer for every missed exchange made thirty busy nodes drop
// and reconnect to each other 2,500 times in twelve minutes, each time
// announcing their whole pools again (Core drops a silent peer only after
// its 20-minute TIMEOUT_INTERVAL).
func TestStatusFailureKeepsPeer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	victim := newTestNode(t, ctx, net, nil, func(c *Config) { c.StatusInterval = 100 * time.Millisecond })
	p, err := hostile.New(ctx, hostile.Network{Name: net.Name, Genesis: net.GenesisHash()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetStatus(hostile.Status{Best: net.GenesisHash(), Work: victim.chain.BestSnapshot().ChainWork})
	if _, err := p.Connect(ctx, victim.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the handshake", func() bool { return victim.node.PeerCount() == 1 })
	p.SetStatusAnswer(hostile.ResetStatus)
	// Twenty exchanges fail.
	time.Sleep(2 * time.Second)
	if victim.node.PeerCount() != 1 || !p.Connected(victim.node.ID()) {
		t.Fatal("the peer was dropped for status exchanges that failed")
	}
	p.SetStatusAnswer(hostile.GarbleStatus)
	waitFor(t, 10*time.Second, "the drop of the peer answering garbage", func() bool {
		return victim.node.PeerCount() == 0 && !p.Connected(victim.node.ID())
	})
}
