package miner

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
)

// Selfish is the selfish mining strategy of Eyal and Sirer ("Majority is
// not Enough: Bitcoin Mining is Vulnerable", FC 2014, Algorithm 1), for
// research on emulated-hash-rate chains only (cairn node --strategy
// selfish): the node mines on its own private chain and withholds its
// blocks, releasing them to race, or override, each block the others find.
//
// The node itself keeps the private chain: its own blocks connect first
// (its chain prefers the first block seen at a height), and it moves to
// the others' chain when that one becomes longer, which is the strategy's
// "adopt". What Selfish decides is only when each block of its own is
// announced (p2p.BlockGate: Hold, and Announce to release), and what the
// node shows peers as its tip meanwhile (Shown), so that they do not fetch
// the withheld blocks. Lengths are heights: the public chain is the
// highest block any peer has relayed or the node has released; the
// private chain is the node's own best.
type Selfish struct {
	// Chain gives the heights of blocks by hash.
	Chain interface {
		BlockInfo(hash chainhash.Hash) (*chain.BlockInfo, error)
	}
	Logger *slog.Logger

	// announce releases a stored block to the peers (SetAnnounce).
	announce atomic.Pointer[func(chainhash.Hash)]

	mu sync.Mutex
	// withheld are the node's own blocks not yet released, lowest
	// first; release, if not nil, carries blocks to Announce.
	withheld []heldBlock
	// branch is the private branch's length (privateBranchLen).
	branch int
	// public and private are the two chains' heights.
	public, private int32
	// released holds blocks just decided for release before the chain
	// stored them: Hold lets them through when they connect.
	released map[chainhash.Hash]bool
	queue    chan []chainhash.Hash
	once     sync.Once
}

type heldBlock struct {
	hash, prev chainhash.Hash
	height     int32
}

func (s *Selfish) init() {
	s.once.Do(func() {
		s.released = make(map[chainhash.Hash]bool)
		s.queue = make(chan []chainhash.Hash, 64)
		go func() {
			for hashes := range s.queue {
				for _, h := range hashes {
					if f := s.announce.Load(); f != nil {
						(*f)(h)
					}
				}
			}
		}()
	})
}

// SetAnnounce gives the strategy the network's way to release a stored
// block (p2p's Node.Announce), once the network runs; blocks are released
// in height order, on one goroutine.
func (s *Selfish) SetAnnounce(f func(hash chainhash.Hash)) { s.announce.Store(&f) }

func (s *Selfish) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Mined is told of each block the node's miner found, before the chain
// has it (Miner.Mined): "my pool found a block".
func (s *Selfish) Mined(b *wire.MsgBlock, hash chainhash.Hash, height int32) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.branch == 0 {
		// No private branch: the block's parent is the public tip.
		s.public = max(s.public, height-1)
		s.private = s.public
	}
	lead := s.private - s.public // Δprev
	s.withheld = append(s.withheld, heldBlock{hash: hash, prev: b.Header.PrevBlock, height: height})
	s.branch++
	s.private = max(s.private, height)
	if lead == 0 && s.branch == 2 {
		// A tie the node's branch now wins: release it all.
		s.log().Info("selfish: won the race, releasing the branch", "height", height)
		s.releaseAll(hash)
		s.branch, s.public = 0, s.private
		return
	}
	s.log().Info("selfish: withholding", "hash", hash, "height", height, "lead", s.private-s.public)
}

// PeerBlock is told of each block a peer relays: "others found a block"
// when it lengthens the public chain.
func (s *Selfish) PeerBlock(h *wire.BlockHeader) {
	s.init()
	parent, err := s.Chain.BlockInfo(h.PrevBlock)
	if err != nil {
		return // an orphan: its height is unknown until its parent comes
	}
	height := parent.Height + 1
	s.mu.Lock()
	defer s.mu.Unlock()
	// Its own blocks come back no higher than the public chain: each
	// release raises it to the block released.
	if height <= s.public {
		return
	}
	if s.branch == 0 {
		s.private = s.public
	}
	lead := s.private - s.public // Δprev
	s.public = height
	switch {
	case lead <= 0:
		// They are ahead: adopt their chain (the node moves to it).
		s.withheld, s.branch, s.private = nil, 0, height
	case lead == 1:
		// Now even: release the block at their height and race.
		s.log().Info("selfish: racing", "height", height)
		s.releaseTo(height)
	case lead == 2:
		// One ahead of them: release everything and win.
		s.log().Info("selfish: overriding", "height", height)
		s.releaseAll(chainhash.Hash{})
		s.branch, s.public = 0, s.private
	default:
		// Far ahead: release the block at their height, keep the rest.
		s.releaseTo(height)
	}
}

// releaseTo releases the withheld blocks up to height.
func (s *Selfish) releaseTo(height int32) {
	var out []chainhash.Hash
	for len(s.withheld) > 0 && s.withheld[0].height <= height {
		out = append(out, s.withheld[0].hash)
		s.withheld = s.withheld[1:]
	}
	s.send(out, chainhash.Hash{})
}

// releaseAll releases every withheld block; unstored, if set, is a block
// the chain does not have yet, let through when it connects.
func (s *Selfish) releaseAll(unstored chainhash.Hash) {
	var out []chainhash.Hash
	for _, b := range s.withheld {
		out = append(out, b.hash)
	}
	s.withheld = nil
	s.send(out, unstored)
}

func (s *Selfish) send(hashes []chainhash.Hash, unstored chainhash.Hash) {
	var stored []chainhash.Hash
	for _, h := range hashes {
		if h == unstored {
			s.released[h] = true
			continue
		}
		stored = append(stored, h)
	}
	if len(stored) > 0 {
		s.queue <- stored
	}
}

// Hold reports whether the node holds back the announcement of a block it
// connected: its own blocks that are still withheld.
func (s *Selfish) Hold(hash chainhash.Hash) bool {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released[hash] {
		delete(s.released, hash)
		return false
	}
	for _, b := range s.withheld {
		if b.hash == hash {
			return true
		}
	}
	return false
}

// Shown is the block below the first withheld one: the tip the peers
// know of.
func (s *Selfish) Shown() (chainhash.Hash, bool) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.withheld) == 0 {
		return chainhash.Hash{}, false
	}
	return s.withheld[0].prev, true
}
