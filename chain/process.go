package chain

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/internal/store"
)

// ProcessResult tells what became of an accepted block.
type ProcessResult struct {
	Hash chainhash.Hash
	// MainChain: the block is on the best chain after processing.
	MainChain bool
}

// ProcessBlock validates a block and, if it is acceptable, stores it and
// moves the tip to the best chain. Errors:
//   - a block whose parent is unknown: ErrMissingParent (nothing stored;
//     fetch the parent and try again);
//   - a block already stored: ErrDuplicateBlock; one known to be invalid:
//     ErrKnownInvalid; a descendant of one: ErrInvalidAncestor;
//   - a rule violation: its RuleError. The block is remembered as invalid
//     unless the failure could come from a mutated body (merkle or witness
//     malleation) or only from the future-time rule.
//
// A block that connects fine but is not on the best chain is stored and
// returns MainChain false. A block on the best chain that fails when
// connected returns its rule error; the chain stays on the best valid chain.
//
// The chain keeps a reference to block (and hands it to subscribers): the
// caller must not modify it afterwards.
//
// This function is safe for concurrent access; calls are serialized.
func (b *BlockChain) ProcessBlock(block *wire.MsgBlock) (ProcessResult, error) {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return ProcessResult{}, ErrClosed
	}
	return b.processBlock(block, consensus.BlockHash(&block.Header))
}

// maxUnrequestedAhead is how far above the tip an unrequested block may be
// and still be stored: Bitcoin Core's MIN_BLOCKS_TO_KEEP, which its
// AcceptBlock uses for fTooFarAhead.
const maxUnrequestedAhead = 288

// ProcessUnrequestedBlock is ProcessBlock for a block the node did not ask
// for (a peer's gossip, an orphan whose parent came): such a block is
// stored, header included, only when its chain has at least the work of the
// tip and it is at most maxUnrequestedAhead blocks above it, as Bitcoin
// Core's AcceptBlock stores an unrequested block only when
// fHasMoreOrSameWork and not fTooFarAhead (and net_processing passes
// min_pow_checked only for a block whose chain reaches the anti-DoS work
// threshold). Otherwise it returns an error wrapping ErrNotWanted and
// stores nothing: anyone can make a valid block on a fork from an old
// block, and nobody should be able to fill a node's disk with them.
//
// Blocks the node asked for (sync), mined itself or received by RPC
// (submitblock, which Core forces) go through ProcessBlock.
func (b *BlockChain) ProcessUnrequestedBlock(block *wire.MsgBlock) (ProcessResult, error) {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return ProcessResult{}, ErrClosed
	}
	hash := consensus.BlockHash(&block.Header)
	if err := b.wantUnrequested(&block.Header, hash); err != nil {
		return ProcessResult{Hash: hash}, err
	}
	return b.processBlock(block, hash)
}

// WantsUnrequested reports, from the header alone, what
// ProcessUnrequestedBlock would say of its block before looking at the
// body: nil when the body would be examined, ErrDuplicateBlock when it is
// stored already, ErrKnownInvalid or ErrInvalidAncestor, ErrMissingParent,
// a header rule error, or an error wrapping ErrNotWanted. Peers' blocks are
// judged by it before they are decoded.
func (b *BlockChain) WantsUnrequested(h *wire.BlockHeader) error {
	hash := consensus.BlockHash(h)
	b.chainLock.RLock()
	node := b.index[hash]
	var status blockStatus
	if node != nil {
		status = node.status // changes under the chain lock
	}
	b.chainLock.RUnlock()
	if status&statusDataStored != 0 {
		return ruleErr(ErrDuplicateBlock, "block %v is already stored", hash)
	}
	if status.knownInvalid() {
		return ruleErr(ErrKnownInvalid, "block %v is known to be invalid", hash)
	}
	if node == nil {
		if err := consensus.CheckBlockHeaderSanity(h, b.params.PowLimit); err != nil {
			return err
		}
	}
	return b.wantUnrequested(h, hash)
}

// wantUnrequested applies ProcessUnrequestedBlock's rule to header h: its
// parent must be known and valid, and its chain's work at least the tip's,
// within maxUnrequestedAhead blocks of it.
func (b *BlockChain) wantUnrequested(h *wire.BlockHeader, hash chainhash.Hash) error {
	b.chainLock.RLock()
	parent := b.index[h.PrevBlock]
	invalid := parent != nil && parent.status.knownInvalid()
	b.chainLock.RUnlock()
	if parent == nil {
		return ruleErr(ErrMissingParent, "parent %v of block %v is unknown", h.PrevBlock, hash)
	}
	if invalid {
		return ruleErr(ErrInvalidAncestor, "block %v descends from invalid block %v", hash, parent.hash)
	}
	tip := b.bestState.Load()
	work := consensus.CalcWork(h.Bits)
	work.Add(work, parent.workSum)
	if work.Cmp(tip.ChainWork) < 0 {
		return fmt.Errorf("%w: block %v at height %d has less chain work than the tip",
			ErrNotWanted, hash, parent.height+1)
	}
	if parent.height+1 > tip.Height+maxUnrequestedAhead {
		return fmt.Errorf("%w: block %v at height %d is more than %d blocks above the tip",
			ErrNotWanted, hash, parent.height+1, maxUnrequestedAhead)
	}
	return nil
}

// processBlock is ProcessBlock's work.
// This function MUST be called with the process lock held.
func (b *BlockChain) processBlock(block *wire.MsgBlock, hash chainhash.Hash) (ProcessResult, error) {
	res := ProcessResult{Hash: hash}

	node, err := b.acceptHeader(&block.Header, hash)
	if err != nil {
		return res, err
	}
	if node.status&statusDataStored != 0 {
		return res, ruleErr(ErrDuplicateBlock, "block %v is already stored", hash)
	}
	txids, err := consensus.CheckBlockSanity(block, b.params.PowLimit)
	if err != nil {
		return res, b.rejectBlock(node, err)
	}
	if err := checkBlockContext(block, node.parent, b.params); err != nil {
		return res, b.rejectBlock(node, err)
	}

	if err := b.storeBlockData(node, serializeBlock(block)); err != nil {
		return res, err
	}
	node.seq = b.nextSeq
	b.nextSeq++
	// The record goes out at once, unsynced: a killed process keeps the
	// block; after a power loss, the start checks it (verifyUnsynced).
	batch := store.NewBatch(indexRecordLen + 2*posLen + 64)
	b.chainLock.RLock()
	batch.Put(hashKey(prefixIndex, &hash), encodeIndexRecord(node))
	b.chainLock.RUnlock()
	if err := b.db.Write(batch, false); err != nil {
		b.chainLock.Lock()
		node.status &^= statusDataStored
		b.chainLock.Unlock()
		return res, fmt.Errorf("chain: store block %v: %w", hash, err)
	}
	delete(b.dirtyNodes, node)
	b.recent.add(hash, block, txids)
	b.linkData(node)

	clear(b.connectErrs)
	err = b.activateBestChain()
	res.MainChain = b.best.contains(node)
	if err != nil {
		return res, err
	}
	if node.status.knownInvalid() {
		return res, b.connectError(node)
	}
	return res, nil
}

// connectError returns why node, accepted but marked invalid while the
// chain was activated, failed: its own connect error, or that of the
// ancestor that failed.
// This function MUST be called with the process lock held.
func (b *BlockChain) connectError(node *blockNode) error {
	if err, ok := b.connectErrs[node]; ok {
		return err
	}
	for n, err := range b.connectErrs {
		if node.Ancestor(n.height) == n {
			return ruleErr(ErrInvalidAncestor, "block %v descends from block %v, which failed: %v", node.hash, n.hash, err)
		}
	}
	return ruleErr(ErrInvalidAncestor, "block %v descends from an invalid block", node.hash)
}

// rejectBlock handles a block that failed the checks before storage: unless
// the failure could be a mutation of a valid block, the header is marked
// invalid for good.
// This function MUST be called with the process lock held.
func (b *BlockChain) rejectBlock(node *blockNode, err error) error {
	if !isRuleError(err) || consensus.IsMutationError(err) {
		return err
	}
	if werr := b.markInvalid(node); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// acceptHeader returns the index node of a header, adding it after the
// header checks if it is new. A header failing only the future-time rule is
// not added, so it may be accepted later.
// This function MUST be called with the process lock held.
func (b *BlockChain) acceptHeader(h *wire.BlockHeader, hash chainhash.Hash) (*blockNode, error) {
	b.chainLock.RLock()
	node := b.index[hash]
	parent := b.index[h.PrevBlock]
	b.chainLock.RUnlock()
	if node != nil {
		if node.status.knownInvalid() {
			return nil, ruleErr(ErrKnownInvalid, "block %v is known to be invalid", hash)
		}
		return node, nil
	}
	if err := consensus.CheckBlockHeaderSanity(h, b.params.PowLimit); err != nil {
		return nil, err
	}
	if parent == nil {
		return nil, ruleErr(ErrMissingParent, "parent %v of block %v is unknown", h.PrevBlock, hash)
	}
	if parent.status.knownInvalid() {
		return nil, ruleErr(ErrInvalidAncestor, "block %v descends from invalid block %v", hash, parent.hash)
	}
	if err := checkHeaderContext(h, parent, b.params, b.now().Unix()); err != nil {
		if consensus.RejectReason(err) == "time-too-new" {
			return nil, err
		}
		// Not stored, as Core's AcceptBlockHeader adds nothing to its
		// index for a header failing ContextualCheckBlockHeader: an
		// invalid header costs its sender (its proof of work, the
		// penalty) and must not cost the node memory and disk for good.
		return nil, err
	}
	node = newBlockNode(h, hash, parent)
	node.seq = b.nextSeq
	b.nextSeq++
	b.addNode(node)
	b.dirtyNodes[node] = struct{}{}
	return node, nil
}

// addNode inserts n in the index.
func (b *BlockChain) addNode(n *blockNode) {
	b.chainLock.Lock()
	b.index[n.hash] = n
	if !n.status.knownInvalid() && (b.bestHeader == nil || n.workSum.Cmp(b.bestHeader.workSum) > 0) {
		b.bestHeader = n
	}
	b.chainLock.Unlock()
}

// ProcessHeaders validates and stores headers that arrive before their
// blocks (headers-first sync). Each header must connect to a known one
// (earlier ones of the same call count). It returns the number accepted and
// the first error.
//
// This function is safe for concurrent access; calls are serialized.
func (b *BlockChain) ProcessHeaders(headers []wire.BlockHeader) (int, error) {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return 0, ErrClosed
	}
	var added []*blockNode
	var err error
	n := 0
	for i := range headers {
		h := &headers[i]
		var node *blockNode
		node, err = b.acceptHeader(h, consensus.BlockHash(h))
		if err != nil {
			break
		}
		if _, dirty := b.dirtyNodes[node]; dirty {
			added = append(added, node)
		}
		n++
	}
	if len(added) > 0 {
		if werr := b.writeIndexNow(added...); werr != nil {
			return n, errors.Join(err, werr)
		}
		for _, a := range added {
			delete(b.dirtyNodes, a)
		}
	}
	return n, err
}
