package p2p

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

// presyncChain returns the headers of n blocks on genesis (prefix names
// them, so two calls give two different chains) and genesis's index entry.
func presyncChain(t *testing.T, net *chainparams.Network, prefix string, n int) ([]wire.BlockHeader, *chain.BlockInfo) {
	t.Helper()
	g := chaintest.New(net)
	if prefix != "a" {
		g.SetExtraNonce(uint64(len(prefix)) << 40)
	}
	headers := make([]wire.BlockHeader, n)
	for i := range headers {
		headers[i] = g.NextBlock(prefix+itoa(i), nil, nil).Header
	}
	genesis := net.Genesis.Header
	return headers, &chain.BlockInfo{Hash: net.GenesisHash(), Header: genesis, Height: 0,
		ChainWork: consensus.CalcWork(genesis.Bits), MedianTime: genesis.Timestamp.Unix()}
}

// workAt returns the chain work at height h of a regtest chain.
func workAt(net *chainparams.Network, h int) *big.Int {
	w := consensus.CalcWork(net.Consensus.PowLimitBits)
	return w.Mul(w, big.NewInt(int64(h+1)))
}

// TestPresyncHonestChain ensures a chain that reaches the threshold is
// stored only after it was downloaded twice, in order, and completely, and
// that headers wait in a buffer no larger than its bound meanwhile.
func TestPresyncHonestChain(t *testing.T) {
	t.Parallel()
	net := chainparams.Regtest()
	headers, start := presyncChain(t, net, "a", 300)
	s := newHeadersPresync(&net.Consensus, start, []chainhash.Hash{start.Hash}, workAt(net, 250), time.Now())
	s.period, s.bufferSize = 7, 100
	for _, batch := range [][]wire.BlockHeader{headers[:100], headers[100:200], headers[200:300]} {
		ready, done, err := s.feed(batch)
		if err != nil || done || len(ready) != 0 {
			t.Fatalf("presync: %d ready, done %v, %v", len(ready), done, err)
		}
		if s.redownload != nil {
			break
		}
	}
	if s.redownload == nil {
		t.Fatal("the presync never reached the threshold")
	}
	if loc := s.locator(); len(loc) != 1 || loc[0] != start.Hash {
		t.Fatalf("the redownload does not start from the start: %v", loc)
	}
	var stored []wire.BlockHeader
	for i := 0; i < 300 && s.redownload != nil; i += 100 {
		ready, done, err := s.feed(headers[i : i+100])
		if err != nil {
			t.Fatal(err)
		}
		if len(s.buffer) > s.bufferSize {
			t.Fatalf("%d headers buffered, over %d", len(s.buffer), s.bufferSize)
		}
		stored = append(stored, ready...)
		if done {
			break
		}
	}
	if len(stored) != 300 {
		t.Fatalf("%d headers released, want all 300 (the threshold is in the last batch)", len(stored))
	}
	for i := range stored {
		if stored[i].BlockHash() != headers[i].BlockHash() {
			t.Fatalf("header %d released out of order", i)
		}
	}
}

// TestPresyncRefusals ensures a presync stops on what an honest peer
// cannot send (a broken link, a wrong difficulty), on a redownload of
// another chain than the one presynced, on more headers than time allows,
// and on an answer that no longer follows (benign).
func TestPresyncRefusals(t *testing.T) {
	t.Parallel()
	net := chainparams.Regtest()
	headers, start := presyncChain(t, net, "a", 60)
	other, _ := presyncChain(t, net, "bb", 60)
	threshold := workAt(net, 40)
	fresh := func() *headersPresync {
		s := newHeadersPresync(&net.Consensus, start, []chainhash.Hash{start.Hash}, threshold, time.Now())
		s.period = 1
		return s
	}

	gap := append(append([]wire.BlockHeader(nil), headers[:5]...), headers[6:10]...)
	if _, _, err := fresh().feed(gap); !errors.Is(err, errPresyncInvalid) {
		t.Errorf("a gap: %v", err)
	}
	easy := append([]wire.BlockHeader(nil), headers[:3]...)
	easy[2].Bits = 0x207ffffe
	if _, _, err := fresh().feed(easy); !errors.Is(err, errPresyncInvalid) {
		t.Errorf("a wrong difficulty: %v", err)
	}
	s := fresh()
	if _, _, err := s.feed(headers[:10]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.feed(headers[20:30]); !errors.Is(err, errPresyncMoved) {
		t.Errorf("an answer not following the last header: %v", err)
	}

	s = fresh()
	if _, _, err := s.feed(headers); err != nil || s.redownload == nil {
		t.Fatalf("presync: %v", err)
	}
	if _, _, err := s.feed(other); !errors.Is(err, errPresyncMismatch) {
		t.Errorf("redownload of another chain: %v", err)
	}

	// Time allows 6 headers a second after the start's median time past,
	// plus the future limit: with the clock there, only a few.
	early := time.Unix(start.MedianTime, 0).Add(-net.Consensus.MaxFutureBlockTime).Add(time.Second)
	s = newHeadersPresync(&net.Consensus, start, []chainhash.Hash{start.Hash}, threshold, early)
	s.period, s.maxCommits = 1, 6
	if _, _, err := s.feed(headers[:30]); !errors.Is(err, errPresyncTooLong) {
		t.Errorf("more headers than time allows: %v", err)
	}
	if len(s.commits) > 1 {
		t.Errorf("%d words of commitments kept", len(s.commits))
	}
}

// TestHeadersBelowThresholdNotStored runs the presync against real peers
// on a network whose minimum chain work is 2,200 blocks: a peer whose
// chain of 2,100 blocks (a full answer and more) never reaches it leaves
// nothing in the index and is not penalized (it may just be behind); a
// peer with 2,300 blocks gets its headers stored after they were
// downloaded twice, and the node syncs from it.
func TestHeadersBelowThresholdNotStored(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	net.Consensus.MinimumChainWork = workAt(net, 2200)
	g := chaintest.New(net)
	for i := 0; i < 2300; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	holding := func(n int) *testNode {
		tn := newTestNode(t, ctx, net, now)
		for i := 0; i < n; i++ {
			if _, err := tn.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		return tn
	}
	low, high, fresh := holding(2100), holding(2300), newTestNode(t, ctx, net, now)

	connect(t, ctx, fresh, low)
	waitFor(t, 10*time.Second, "the low chain's headers to be fetched", func() bool {
		fresh.node.sync.mu.Lock()
		defer fresh.node.sync.mu.Unlock()
		return fresh.node.sync.headersDone[low.node.ID()] != ""
	})
	if n := fresh.chain.HeaderCount(); n != 0 {
		t.Fatalf("%d headers of a chain below the minimum chain work stored", n)
	}
	if s := fresh.node.bans.score(low.node.ID()); s != 0 {
		t.Fatalf("a peer behind the minimum chain work scored %d", s)
	}

	connect(t, ctx, fresh, high)
	waitFor(t, 60*time.Second, "the sync from the high chain", tipIs(fresh, g.Block("b2299").BlockHash()))
}
