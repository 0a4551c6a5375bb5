package p2p

import (
	"context"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/p2p/internal/hostile"
)

// bigClaim is a status claiming far more work than any test chain has.
func bigClaim() hostile.Status {
	return hostile.Status{Best: chainhash.Hash{1}, Height: 1 << 20, Work: new(big.Int).Lsh(big.NewInt(1), 41)}
}

// TestStallingHeadersPeerReplaced ensures a peer claiming the most work
// that never answers a headers request costs it headersPenalty when the
// request times out, is not asked again for a while even when it claims a
// new best block, and that the node syncs its headers and blocks from the
// next peer's claim meanwhile (Core disconnects a peer that times out a
// headers request).
func TestStallingHeadersPeerReplaced(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := honestChain(10)
	net := chainparams.Regtest()
	honest := chainOf(t, ctx, g, 10)
	victim := chainOf(t, ctx, g, 0, func(c *Config) { c.headersTimeout = time.Second })

	staller, err := hostile.New(ctx, hostile.Network{Name: net.Name, Genesis: net.GenesisHash()})
	if err != nil {
		t.Fatal(err)
	}
	defer staller.Close()
	var asked atomic.Int32
	staller.ServeHeaders(func([]chainhash.Hash) []wire.BlockHeader {
		asked.Add(1)
		<-ctx.Done() // never answers
		return nil
	})
	staller.SetStatus(bigClaim())
	if _, err := staller.Connect(ctx, victim.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the headers request to the staller", func() bool { return asked.Load() == 1 })
	connect(t, ctx, victim, honest)
	waitFor(t, 20*time.Second, "the sync from the honest peer", tipIs(victim, g.Block("b9").BlockHash()))
	if s := victim.node.bans.score(staller.ID()); s != headersPenalty {
		t.Fatalf("the staller's score is %d, want %d", s, headersPenalty)
	}
	// A new claim does not get it asked again while it rests.
	claim := bigClaim()
	claim.Best = chainhash.Hash{2}
	staller.SetStatus(claim)
	if _, err := staller.Connect(ctx, victim.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := asked.Load(); n != 1 {
		t.Fatalf("the staller was asked for headers %d times", n)
	}
}

// TestFalseWorkClaimCosts ensures a peer whose headers end short of the
// work its status claimed costs it headersPenalty and that the node takes
// the next peer's claim, syncing the chain from it.
func TestFalseWorkClaimCosts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := honestChain(10)
	net := chainparams.Regtest()
	honest := chainOf(t, ctx, g, 10)
	victim := chainOf(t, ctx, g, 0)

	liar, err := hostile.New(ctx, hostile.Network{Name: net.Name, Genesis: net.GenesisHash()})
	if err != nil {
		t.Fatal(err)
	}
	defer liar.Close()
	var asked atomic.Int32
	liar.ServeHeaders(func(locator []chainhash.Hash) []wire.BlockHeader {
		asked.Add(1)
		if len(locator) == 0 || locator[len(locator)-1] != net.GenesisHash() || locator[0] != net.GenesisHash() {
			return nil
		}
		// Three real headers, and nothing of the work it claims.
		return []wire.BlockHeader{g.Block("b0").Header, g.Block("b1").Header, g.Block("b2").Header}
	})
	liar.SetStatus(bigClaim())
	if _, err := liar.Connect(ctx, victim.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the liar's penalty", func() bool {
		return victim.node.bans.score(liar.ID()) == headersPenalty
	})
	connect(t, ctx, victim, honest)
	waitFor(t, 20*time.Second, "the sync from the honest peer", tipIs(victim, g.Block("b9").BlockHash()))
	if n := asked.Load(); n != 1 {
		t.Fatalf("the liar was asked for headers %d times", n)
	}
}
