package chain

import (
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// InvalidateBlock marks a block invalid as if it had broken a rule, with all
// its descendants, disconnecting it first if it is on the best chain; the
// tip then moves to the best chain without it (Bitcoin Core's
// invalidateblock). The mark is stored and survives restarts.
//
// This function is safe for concurrent access; calls are serialized.
func (b *BlockChain) InvalidateBlock(hash chainhash.Hash) error {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return ErrClosed
	}
	node := b.lookupNode(hash)
	if node == nil {
		return fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	if node.parent == nil {
		return ErrInvalidateGenesis
	}
	if b.best.contains(node) {
		if err := b.checkReorgData(b.best.tip(), node.parent, node.parent); err != nil {
			return err
		}
	}
	for b.best.contains(node) {
		if err := b.disconnectTip(); err != nil {
			return err
		}
	}
	if err := b.markInvalid(node); err != nil {
		return err
	}
	b.rebuildCandidates()
	return b.activateBestChain()
}

// ReconsiderBlock removes the invalid marks from a block, its descendants
// and its ancestors, and moves the tip to the best chain again (Bitcoin
// Core's reconsiderblock). A block that really breaks a rule is marked again
// when it is connected.
//
// This function is safe for concurrent access; calls are serialized.
func (b *BlockChain) ReconsiderBlock(hash chainhash.Hash) error {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return ErrClosed
	}
	node := b.lookupNode(hash)
	if node == nil {
		return fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	const failed = statusValidateFailed | statusInvalidAncestor
	var changed []*blockNode
	b.chainLock.Lock()
	for _, n := range b.index {
		if n.status&failed != 0 && n.height >= node.height && n.Ancestor(node.height) == node {
			n.status &^= failed
			changed = append(changed, n)
		}
	}
	for a := node.parent; a != nil; a = a.parent {
		if a.status&failed != 0 {
			a.status &^= failed
			changed = append(changed, a)
		}
	}
	b.chainLock.Unlock()
	if err := b.writeIndexNow(changed...); err != nil {
		return err
	}
	b.rebuildCandidates()
	clear(b.connectErrs)
	return b.activateBestChain()
}

// rebuildCandidates makes every valid block with a full data chain a
// candidate again; activation prunes those with less work than the tip.
// This function MUST be called with the process lock held.
func (b *BlockChain) rebuildCandidates() {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	for _, n := range b.index {
		if n.dataChain && !n.status.knownInvalid() {
			b.candidates[n] = struct{}{}
		}
	}
}

// lookupNode returns the index node of hash, or nil.
//
// This function is safe for concurrent access.
func (b *BlockChain) lookupNode(hash chainhash.Hash) *blockNode {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	return b.index[hash]
}
