package p2p

import (
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Bounds of the orphan-block pool: a few blocks' worth of look-ahead is
// all gossip needs while sync fetches the ancestors (sync fetches them
// anyway: an orphan dropped costs a download, never a block). The pool is
// bounded by the memory its decoded blocks take, in total and per peer
// that sent them, not by their count alone: a 4 MB block of empty witness
// items decodes to some 90 MB. Bitcoin Core keeps no orphan blocks at all.
const (
	maxOrphanBlocks       = 64
	maxOrphanBytes        = 32 << 20
	maxOrphanBytesPerPeer = 8 << 20
	orphanBlockTTL        = 20 * time.Minute
	// maxOrphanEasier bounds how much easier than the tip's target an
	// orphan's may be (a factor of 4): an orphan is taken as a block just
	// ahead of the chain, whose difficulty ASERT keeps near the tip's,
	// so a flood of blocks at the pow limit (cheap on every network)
	// never reaches the pool.
	maxOrphanEasier = 4
)

// orphanBlocks holds gossiped blocks whose parent is unknown until the
// parent connects. The oldest is evicted when a bound is reached, and
// expired ones are dropped on a timer (expire).
type orphanBlocks struct {
	mu       sync.Mutex
	byHash   map[chainhash.Hash]*orphanBlock
	byParent map[chainhash.Hash][]chainhash.Hash
	order    []chainhash.Hash // arrival order, for eviction
	bytes    int
	perPeer  map[peer.ID]int
}

type orphanBlock struct {
	block *wire.MsgBlock
	from  peer.ID
	size  int // consensus.DecodedSize
	added time.Time
}

func newOrphanBlocks() *orphanBlocks {
	return &orphanBlocks{byHash: make(map[chainhash.Hash]*orphanBlock), byParent: make(map[chainhash.Hash][]chainhash.Hash),
		perPeer: make(map[peer.ID]int)}
}

// add keeps block, sent by from, until its parent connects. A block over
// the per-peer bound by itself is not kept; otherwise the oldest orphans
// (of from first, when it is over its own bound) make room.
func (o *orphanBlocks) add(block *wire.MsgBlock, from peer.ID, now time.Time) bool {
	hash := consensus.BlockHash(&block.Header)
	size := consensus.DecodedSize(block)
	if size > maxOrphanBytesPerPeer {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.byHash[hash]; ok {
		return true
	}
	o.expireLocked(now)
	for o.perPeer[from]+size > maxOrphanBytesPerPeer {
		o.removeLocked(o.oldestOfLocked(from))
	}
	for len(o.byHash) >= maxOrphanBlocks || o.bytes+size > maxOrphanBytes {
		o.removeLocked(o.order[0])
	}
	o.byHash[hash] = &orphanBlock{block: block, from: from, size: size, added: now}
	parent := block.Header.PrevBlock
	o.byParent[parent] = append(o.byParent[parent], hash)
	o.order = append(o.order, hash)
	o.bytes += size
	o.perPeer[from] += size
	return true
}

// oldestOfLocked returns the oldest orphan from sent.
// This function MUST be called with o.mu held.
func (o *orphanBlocks) oldestOfLocked(from peer.ID) chainhash.Hash {
	for _, h := range o.order {
		if o.byHash[h].from == from {
			return h
		}
	}
	return chainhash.Hash{}
}

// expire drops the orphans older than orphanBlockTTL.
func (o *orphanBlocks) expire(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expireLocked(now)
}

// expireLocked is expire.
// This function MUST be called with o.mu held.
func (o *orphanBlocks) expireLocked(now time.Time) {
	for len(o.order) > 0 && o.expired(o.order[0], now) {
		o.removeLocked(o.order[0])
	}
}

// size returns the decoded bytes held in all and for from.
func (o *orphanBlocks) size(from peer.ID) (total, ofPeer int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes, o.perPeer[from]
}

// expired reports whether the orphan hash outlived orphanBlockTTL.
// This function MUST be called with o.mu held.
func (o *orphanBlocks) expired(hash chainhash.Hash, now time.Time) bool {
	e, ok := o.byHash[hash]
	return !ok || now.Sub(e.added) > orphanBlockTTL
}

// removeLocked drops one orphan.
// This function MUST be called with o.mu held.
func (o *orphanBlocks) removeLocked(hash chainhash.Hash) {
	for i, h := range o.order {
		if h == hash {
			o.order = append(o.order[:i], o.order[i+1:]...)
			break
		}
	}
	e, ok := o.byHash[hash]
	if !ok {
		return
	}
	delete(o.byHash, hash)
	o.bytes -= e.size
	if o.perPeer[e.from] -= e.size; o.perPeer[e.from] <= 0 {
		delete(o.perPeer, e.from)
	}
	parent := e.block.Header.PrevBlock
	kids := o.byParent[parent]
	for i, h := range kids {
		if h == hash {
			kids = append(kids[:i], kids[i+1:]...)
			break
		}
	}
	if len(kids) == 0 {
		delete(o.byParent, parent)
	} else {
		o.byParent[parent] = kids
	}
}

// takeChildren removes and returns the orphans whose parent is hash.
func (o *orphanBlocks) takeChildren(parent chainhash.Hash) []*wire.MsgBlock {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*wire.MsgBlock
	for _, h := range append([]chainhash.Hash(nil), o.byParent[parent]...) {
		out = append(out, o.byHash[h].block)
		o.removeLocked(h)
	}
	return out
}

// takeIf removes and returns the orphans whose parent satisfies known.
func (o *orphanBlocks) takeIf(known func(parent chainhash.Hash) bool) []*wire.MsgBlock {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*wire.MsgBlock
	for parent, kids := range o.byParent {
		if !known(parent) {
			continue
		}
		for _, h := range append([]chainhash.Hash(nil), kids...) {
			out = append(out, o.byHash[h].block)
			o.removeLocked(h)
		}
	}
	return out
}

// len returns how many orphans are held.
func (o *orphanBlocks) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.byHash)
}

// adoptOrphans processes the orphans waiting for parent, which just
// connected; each that connects in turn frees its own children through
// the chain's next notification. Gossip did not forward an orphan, so once
// it connects it is announced like a block of our own.
func (n *Node) adoptOrphans(parent chainhash.Hash) {
	for _, block := range n.orphans.takeChildren(parent) {
		n.mu.Lock()
		delete(n.gossiped, consensus.BlockHash(&block.Header))
		n.mu.Unlock()
		if _, err := n.cfg.Chain.ProcessUnrequestedBlock(block); err != nil {
			n.log.Debug("orphan block not connected", "hash", block.BlockHash(), "err", err)
		}
	}
}

// retryOrphans processes the orphans whose parent header is now known:
// the chain stores a block once its header connects, so they need not wait
// for their parents' blocks (sync downloads those).
func (n *Node) retryOrphans() {
	for _, block := range n.orphans.takeIf(n.cfg.Chain.HaveHeader) {
		n.mu.Lock()
		delete(n.gossiped, consensus.BlockHash(&block.Header))
		n.mu.Unlock()
		if _, err := n.cfg.Chain.ProcessUnrequestedBlock(block); err != nil {
			n.log.Debug("orphan block not stored", "hash", block.BlockHash(), "err", err)
		}
	}
}
