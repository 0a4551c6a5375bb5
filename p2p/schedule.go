package p2p

import (
	"context"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain"
)

// blockSched is the block download's scheduler: pure code, with no network,
// goroutine or clock of its own. The missing blocks, the peers and the
// time go in (plan); the requests to send and the one to take away from a
// stalling peer come out, and the state records them. The downloader
// sends the requests and reports what became of them (fetchBlocks), under
// its lock.
type blockSched struct {
	// baseStall and stall are the configured and current stall timeouts.
	baseStall, stall time.Duration
	inFlight         map[chainhash.Hash]*blockFetch
	perPeer          map[peer.ID]int
	// streams counts each peer's open block requests (at most
	// streamsPerPeer, under the server's maxBlockRequestsPerPeer).
	streams map[peer.ID]int
	// lowest is the lowest missing block and lowestSince when it became
	// so: the stall clock runs from the later of that and its request.
	lowest      chainhash.Hash
	lowestSince time.Time
	// resting maps peers that stalled, or whose request failed, to when
	// they may be asked again.
	resting map[peer.ID]time.Time
	// lacks holds blocks a peer answered without; it is forgotten when the
	// peer reports a new best block.
	lacks map[peer.ID]map[chainhash.Hash]struct{}
	// stalls counts the requests taken away.
	stalls int
}

// blockFetch is one request in flight.
type blockFetch struct {
	peer      peer.ID
	since     time.Time
	cancel    context.CancelFunc // set by the downloader when it sends it
	cancelled bool               // taken away for stalling
}

// blockRequest is a request plan decided: batch, from fetch's peer.
type blockRequest struct {
	fetch *blockFetch
	batch []chain.BlockRef
}

func newBlockSched(stall time.Duration) blockSched {
	return blockSched{
		baseStall: stall,
		stall:     stall,
		inFlight:  make(map[chainhash.Hash]*blockFetch),
		perPeer:   make(map[peer.ID]int),
		streams:   make(map[peer.ID]int),
		resting:   make(map[peer.ID]time.Time),
		lacks:     make(map[peer.ID]map[chainhash.Hash]struct{}),
	}
}

// plan decides what the download of missing (in height order, not empty)
// needs at now from peers: the request of the lowest missing block to take
// away from its peer if that peer stalls the download (stalled, marked
// cancelled; the caller cancels it), and new requests for the blocks not
// in flight, which it records as in flight.
func (s *blockSched) plan(missing []chain.BlockRef, peers []candidate, now time.Time) (stalled *blockFetch, requests []blockRequest) {
	for id, until := range s.resting {
		if now.After(until) {
			delete(s.resting, id)
		}
	}
	stalled = s.checkStall(missing, peers, now)
	return stalled, s.schedule(missing, peers, now)
}

// serves reports whether the peer can be asked for the block at height.
func (c *candidate) serves(height int32) bool { return height <= c.height && height >= c.lowest }

// checkStall takes the lowest missing block's request away from its peer
// when that block has held up the download (been the lowest missing, and
// in flight) longer than the stall timeout and some other peer has room
// to fetch it (Core's BLOCK_STALLING_TIMEOUT): the peer rests, and the
// timeout doubles.
func (s *blockSched) checkStall(missing []chain.BlockRef, peers []candidate, now time.Time) *blockFetch {
	if s.lowest != missing[0].Hash {
		s.lowest, s.lowestSince = missing[0].Hash, now
	}
	f, ok := s.inFlight[missing[0].Hash]
	if !ok || f.cancelled || now.Sub(f.since) < s.stall || now.Sub(s.lowestSince) < s.stall {
		return nil
	}
	for _, c := range peers {
		if c.id != f.peer && s.perPeer[c.id] < peerWindow && s.resting[c.id].IsZero() && c.serves(missing[0].Height) {
			s.resting[f.peer] = now.Add(stalledRest)
			s.stalls++
			s.stall = min(2*s.stall, maxStallTimeout)
			f.cancelled = true
			return f
		}
	}
	return nil
}

// schedule hands the missing blocks not in flight to peers with room in
// their windows, fewest in flight first, in batches of blockBatch: never a
// block above a peer's height, nor one it answered without.
func (s *blockSched) schedule(missing []chain.BlockRef, peers []candidate, now time.Time) []blockRequest {
	var out []blockRequest
	peers = append([]candidate(nil), peers...)
	sort.SliceStable(peers, func(i, j int) bool { return s.perPeer[peers[i].id] < s.perPeer[peers[j].id] })
	next := 0 // missing[:next] are taken or skipped for every peer so far
	for _, c := range peers {
		if !s.resting[c.id].IsZero() {
			continue
		}
		for s.perPeer[c.id]+blockBatch <= peerWindow && s.streams[c.id] < streamsPerPeer {
			var batch []chain.BlockRef
			for i := next; i < len(missing) && len(batch) < blockBatch; i++ {
				ref := missing[i]
				if _, busy := s.inFlight[ref.Hash]; busy || !c.serves(ref.Height) {
					continue
				}
				if _, lacks := s.lacks[c.id][ref.Hash]; lacks {
					continue
				}
				batch = append(batch, ref)
			}
			if len(batch) == 0 {
				break
			}
			f := &blockFetch{peer: c.id, since: now}
			for _, ref := range batch {
				s.inFlight[ref.Hash] = f
			}
			s.perPeer[c.id] += len(batch)
			s.streams[c.id]++
			out = append(out, blockRequest{fetch: f, batch: batch})
		}
		for next < len(missing) {
			if _, busy := s.inFlight[missing[next].Hash]; !busy {
				break
			}
			next++
		}
	}
	return out
}

// delivered records that a block of f arrived (or was processed).
func (s *blockSched) delivered(f *blockFetch, hash chainhash.Hash) {
	if s.inFlight[hash] == f {
		delete(s.inFlight, hash)
	}
	s.perPeer[f.peer]--
}

// finished records the end of f's request: pending are the blocks of it
// that did not arrive; complete says the peer answered in full, so it
// lacks those; failed says the request failed, so the peer rests.
func (s *blockSched) finished(f *blockFetch, pending map[chainhash.Hash]bool, complete, failed bool, now time.Time) {
	p := f.peer
	for h := range pending {
		if s.inFlight[h] == f {
			delete(s.inFlight, h)
		}
		if complete {
			if s.lacks[p] == nil {
				s.lacks[p] = make(map[chainhash.Hash]struct{})
			}
			s.lacks[p][h] = struct{}{}
		}
	}
	s.perPeer[p] -= len(pending)
	if s.perPeer[p] <= 0 {
		delete(s.perPeer, p)
	}
	if s.streams[p]--; s.streams[p] <= 0 {
		delete(s.streams, p)
	}
	if complete {
		s.stall = max(s.baseStall, s.stall*85/100)
	}
	if failed {
		s.resting[p] = now.Add(stalledRest)
	}
}
