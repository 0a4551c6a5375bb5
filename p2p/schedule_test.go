package p2p

import (
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
)

// missingBlocks returns n missing blocks at heights 1..n.
func missingBlocks(n int) []chain.BlockRef {
	out := make([]chain.BlockRef, n)
	for i := range out {
		out[i] = chain.BlockRef{Hash: chainhash.Hash{byte(i), byte(i >> 8), 0xbb}, Height: int32(i + 1)}
	}
	return out
}

// schedPeer is a peer at height, as the scheduler sees it.
func schedPeer(id string, height int32) candidate {
	return candidate{id: peer.ID(id), height: height, work: big.NewInt(int64(height))}
}

// requested sums what requests hand to each peer, checking that no block
// is handed out twice.
func requested(t *testing.T, reqs []blockRequest, seen map[chainhash.Hash]peer.ID) map[peer.ID]int {
	t.Helper()
	out := make(map[peer.ID]int)
	for _, r := range reqs {
		if len(r.batch) > blockBatch {
			t.Fatalf("a batch of %d blocks", len(r.batch))
		}
		for _, ref := range r.batch {
			if p, dup := seen[ref.Hash]; dup {
				t.Fatalf("block at %d handed to %s and %s", ref.Height, p, r.fetch.peer)
			}
			seen[ref.Hash] = r.fetch.peer
		}
		out[r.fetch.peer] += len(r.batch)
	}
	return out
}

// TestBlockSchedule runs the download scheduler, pure code, through the
// cases that multi-node tests reach only by chance: windows filled fewest
// in flight first, heights, a peer that lies about what it has, a stall
// and its reassignment, no reassignment without someone to take it, a
// slow peer among fast ones, and a failed request.
func TestBlockSchedule(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	stall := 2 * time.Second

	t.Run("windows", func(t *testing.T) {
		s := newBlockSched(stall)
		missing := missingBlocks(100)
		// In order (all have room): the short peer takes what it has.
		peers := []candidate{schedPeer("short", 4), schedPeer("a", 100), schedPeer("b", 100)}
		stalled, reqs := s.plan(missing, peers, t0)
		if stalled != nil {
			t.Fatal("a stall before any request")
		}
		got := requested(t, reqs, map[chainhash.Hash]peer.ID{})
		if got["a"] != peerWindow || got["b"] != peerWindow || got["short"] != 4 {
			t.Fatalf("requested %v; want %d each and 4 from the peer at height 4", got, peerWindow)
		}
		for _, r := range reqs {
			for _, ref := range r.batch {
				if r.fetch.peer == "short" && ref.Height > 4 {
					t.Fatalf("block at %d asked of a peer at height 4", ref.Height)
				}
			}
		}
		// Full windows: nothing more until something arrives.
		if _, more := s.plan(missing, peers, t0.Add(time.Millisecond)); len(more) != 0 {
			t.Fatalf("%d requests beyond full windows", len(more))
		}
	})

	t.Run("pruned peer", func(t *testing.T) {
		// A pruned peer at height 1000 keeping blocks from 700 is asked
		// only for those; status says it keeps from 500, but it may have
		// pruned up to 1000 - 288 since, so only 714 and up.
		s := newBlockSched(stall)
		missing := missingBlocks(1000)
		pruned := schedPeer("pruned", 1000)
		pruned.lowest = (&status{Height: 1000, Pruned: 500}).lowestServed()
		if pruned.lowest != 714 {
			t.Fatalf("lowest served of a pruned peer at 1000 keeping from 500: %d, want 714", pruned.lowest)
		}
		_, reqs := s.plan(missing, []candidate{pruned}, t0)
		got := requested(t, reqs, map[chainhash.Hash]peer.ID{})
		if got["pruned"] == 0 {
			t.Fatal("the pruned peer was asked for nothing it keeps")
		}
		for _, r := range reqs {
			for _, ref := range r.batch {
				if ref.Height < 714 {
					t.Fatalf("block at %d asked of a peer keeping from 714", ref.Height)
				}
			}
		}
		if (&status{Height: 1000}).lowestServed() != 0 {
			t.Fatal("a full node's status limits what it is asked")
		}
	})

	t.Run("lying peer", func(t *testing.T) {
		// "liar" claims the whole chain but answers without the blocks:
		// it is not asked for them again, and "honest" gets them.
		s := newBlockSched(stall)
		missing := missingBlocks(8)
		_, reqs := s.plan(missing, []candidate{schedPeer("liar", 1000)}, t0)
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		pending := make(map[chainhash.Hash]bool)
		for _, ref := range reqs[0].batch {
			pending[ref.Hash] = true
		}
		s.finished(reqs[0].fetch, pending, true, false, t0)
		peers := []candidate{schedPeer("liar", 1000), schedPeer("honest", 8)}
		_, reqs = s.plan(missing, peers, t0.Add(time.Second))
		got := requested(t, reqs, map[chainhash.Hash]peer.ID{})
		if got["liar"] != 0 || got["honest"] != 8 {
			t.Fatalf("after the liar answered without them: %v", got)
		}
	})

	t.Run("stall and reassignment", func(t *testing.T) {
		s := newBlockSched(stall)
		missing := missingBlocks(8)
		_, reqs := s.plan(missing, []candidate{schedPeer("slow", 8)}, t0)
		slow := reqs[0].fetch
		peers := []candidate{schedPeer("slow", 8), schedPeer("fast", 8)}
		// Before the timeout nothing is taken away.
		if stalled, _ := s.plan(missing, peers, t0.Add(stall-time.Millisecond)); stalled != nil {
			t.Fatal("taken away before the stall timeout")
		}
		stalled, _ := s.plan(missing, peers, t0.Add(stall))
		if stalled != slow || !slow.cancelled || s.resting["slow"].IsZero() || s.stall != 2*stall || s.stalls != 1 {
			t.Fatalf("stalled %v, resting %v, stall timeout %v, stalls %d", stalled, s.resting, s.stall, s.stalls)
		}
		// The cancelled request ends; the blocks go to the fast peer only,
		// while the slow one rests.
		pending := make(map[chainhash.Hash]bool)
		for _, ref := range reqs[0].batch {
			pending[ref.Hash] = true
		}
		s.finished(slow, pending, false, false, t0.Add(stall))
		_, reqs = s.plan(missing, peers, t0.Add(stall+time.Millisecond))
		got := requested(t, reqs, map[chainhash.Hash]peer.ID{})
		if got["fast"] != 8 || got["slow"] != 0 {
			t.Fatalf("after the stall: %v", got)
		}
		// Rest over, the slow peer is asked again (for what is missing).
		s.inFlight = make(map[chainhash.Hash]*blockFetch)
		s.perPeer, s.streams = make(map[peer.ID]int), make(map[peer.ID]int)
		_, reqs = s.plan(missing, []candidate{schedPeer("slow", 8)}, t0.Add(stall+stalledRest+time.Second))
		if got := requested(t, reqs, map[chainhash.Hash]peer.ID{}); got["slow"] != 8 {
			t.Fatalf("after its rest the slow peer got %v", got)
		}
	})

	t.Run("no one to take it", func(t *testing.T) {
		// The only other peer does not have the block: it stays.
		s := newBlockSched(stall)
		missing := missingBlocks(8)
		_, reqs := s.plan(missing, []candidate{schedPeer("slow", 8)}, t0)
		peers := []candidate{schedPeer("slow", 8), schedPeer("behind", 0)}
		if stalled, _ := s.plan(missing, peers, t0.Add(10*stall)); stalled != nil || reqs[0].fetch.cancelled {
			t.Fatal("taken away with no peer able to fetch it")
		}
	})

	t.Run("slow peer among fast ones", func(t *testing.T) {
		// Three fast peers deliver at once; the slow one holds the lowest
		// block past the timeout and loses it, and the timeout decays
		// back as complete answers arrive.
		s := newBlockSched(stall)
		missing := missingBlocks(64)
		peers := []candidate{schedPeer("slow", 64), schedPeer("f1", 64), schedPeer("f2", 64), schedPeer("f3", 64)}
		_, reqs := s.plan(missing, peers, t0)
		var slowest *blockFetch
		for _, r := range reqs {
			if r.fetch.peer == "slow" && r.batch[0].Height == 1 {
				slowest = r.fetch
			}
			if r.fetch.peer == "slow" {
				continue
			}
			for _, ref := range r.batch {
				s.delivered(r.fetch, ref.Hash)
			}
			s.finished(r.fetch, map[chainhash.Hash]bool{}, true, false, t0)
		}
		if slowest == nil {
			t.Fatal("the slow peer, first by name, was not given the lowest blocks")
		}
		stalled, more := s.plan(missing, peers, t0.Add(stall))
		if stalled != slowest {
			t.Fatal("the slow peer kept the lowest block past the timeout")
		}
		for _, r := range more {
			if r.fetch.peer == "slow" {
				t.Fatal("the stalling peer was given more blocks")
			}
		}
		before := s.stall
		s.finished(&blockFetch{peer: "f1"}, map[chainhash.Hash]bool{}, true, false, t0)
		if s.stall >= before {
			t.Fatalf("the stall timeout did not decay: %v", s.stall)
		}
	})

	t.Run("failed request", func(t *testing.T) {
		// A peer whose request fails (it lacks the protocol, it reset)
		// rests, so that it is not retried in a loop.
		s := newBlockSched(stall)
		missing := missingBlocks(8)
		_, reqs := s.plan(missing, []candidate{schedPeer("broken", 8)}, t0)
		pending := make(map[chainhash.Hash]bool)
		for _, ref := range reqs[0].batch {
			pending[ref.Hash] = true
		}
		s.finished(reqs[0].fetch, pending, false, true, t0)
		if _, again := s.plan(missing, []candidate{schedPeer("broken", 8)}, t0.Add(time.Second)); len(again) != 0 {
			t.Fatal("a peer whose request failed was asked again at once")
		}
	})
}

// TestPruneDownloadWindow ensures a node pruning to a target requests
// blocks no further above its tip than a quarter of the target holds at
// the size of the blocks it received, so blocks stored ahead of the tip
// (which cannot be pruned yet) keep its files near the target; other
// nodes keep Core's window.
func TestPruneDownloadWindow(t *testing.T) {
	t.Parallel()
	net := chainparams.Regtest()
	open := func(target int64) *downloader {
		c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, PruneTarget: target})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return &downloader{n: &Node{cfg: Config{Chain: c}}}
	}
	full := open(0)
	full.noteBlockSize(1 << 20)
	if w := full.window(); w != downloadWindow {
		t.Fatalf("an unpruned node's window: %d, want %d", w, downloadWindow)
	}
	pruned := open(chain.MinPruneTarget)
	if w := pruned.window(); w != downloadWindow {
		t.Fatalf("before any block arrived: %d, want %d", w, downloadWindow)
	}
	for _, tc := range []struct {
		size int
		want int32
	}{{1_000_000, chain.MinPruneTarget / 4 / 1_000_000}, {200, downloadWindow}, {4_000_000, chain.MinPruneTarget / 4 / 4_000_000}, {16_000_000, minPruneWindow}} {
		d := open(chain.MinPruneTarget)
		for i := 0; i < 50; i++ {
			d.noteBlockSize(tc.size)
		}
		if w := d.window(); w != tc.want {
			t.Errorf("blocks of %d bytes: window %d, want %d", tc.size, w, tc.want)
		}
	}
}
