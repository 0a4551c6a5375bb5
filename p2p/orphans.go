package p2p

import (
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Bounds of the orphan-block pool: a few blocks' worth of look-ahead is
// all gossip needs while sync fetches the ancestors; anything more is
// either stale or an attempt to fill our memory.
const (
	maxOrphanBlocks = 64
	orphanBlockTTL  = 20 * time.Minute
)

// orphanBlocks holds gossiped blocks whose parent is unknown until the
// parent connects. The oldest is evicted when full.
type orphanBlocks struct {
	mu       sync.Mutex
	byHash   map[chainhash.Hash]*orphanBlock
	byParent map[chainhash.Hash][]chainhash.Hash
	order    []chainhash.Hash // arrival order, for eviction
}

type orphanBlock struct {
	block *wire.MsgBlock
	added time.Time
}

func newOrphanBlocks() *orphanBlocks {
	return &orphanBlocks{byHash: make(map[chainhash.Hash]*orphanBlock), byParent: make(map[chainhash.Hash][]chainhash.Hash)}
}

// add keeps block until its parent connects.
func (o *orphanBlocks) add(block *wire.MsgBlock, now time.Time) {
	hash := consensus.BlockHash(&block.Header)
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.byHash[hash]; ok {
		return
	}
	for len(o.byHash) >= maxOrphanBlocks || (len(o.order) > 0 && o.expired(o.order[0], now)) {
		o.removeLocked(o.order[0])
	}
	o.byHash[hash] = &orphanBlock{block: block, added: now}
	parent := block.Header.PrevBlock
	o.byParent[parent] = append(o.byParent[parent], hash)
	o.order = append(o.order, hash)
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
		if _, err := n.cfg.Chain.ProcessBlock(block); err != nil {
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
		if _, err := n.cfg.Chain.ProcessBlock(block); err != nil {
			n.log.Debug("orphan block not stored", "hash", block.BlockHash(), "err", err)
		}
	}
}
