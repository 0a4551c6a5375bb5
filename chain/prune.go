package chain

import (
	"errors"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/internal/blockfile"
	"github.com/cairnchain/cairn/chain/internal/store"
)

// Pruning, as Bitcoin Core's -prune: whole old block files and their undo
// files are deleted, never one holding any of the last MinBlocksToKeep
// blocks of the chain, so that the node can still reorganize that deep and
// serve recent blocks.
const (
	// MinPruneTarget is the smallest automatic pruning target (Core's
	// MIN_DISK_SPACE_FOR_BLOCK_FILES, 550 MiB).
	MinPruneTarget = 550 << 20
	// MinBlocksToKeep is how many blocks up to the tip are never pruned
	// (Core's MIN_BLOCKS_TO_KEEP).
	MinBlocksToKeep = 288
	// pruneBuffer is how far under the target automatic pruning keeps
	// the files, so that the blocks written until the next check stay
	// under it (Core's BLOCKFILE_CHUNK_SIZE + UNDOFILE_CHUNK_SIZE), or a
	// tenth of the target if less.
	pruneBuffer = 17 << 20
	// keyPruned marks a database some of whose block files were pruned.
	keyPruned = 'P'
)

var (
	// ErrPruneMode is returned for an operation pruning forbids or needs:
	// the transaction index with pruning, pruning without prune mode, a
	// pruned database opened without prune mode.
	ErrPruneMode = errors.New("chain: prune mode")
	// ErrPrunedReorg is returned when the best chain needs undo data or
	// blocks that were pruned: a reorganization deeper than the node
	// keeps. The node stays on its chain.
	ErrPrunedReorg = errors.New("chain: reorganization past pruned blocks")
)

// pruneAfterHeight returns the height below which a chain is never pruned
// (Core's nPruneAfterHeight, from the network).
func pruneAfterHeight(b *BlockChain) int32 { return b.network.PruneAfterHeight }

// PruneState describes the node's pruning (getblockchaininfo's fields).
type PruneState struct {
	// Enabled: the node may delete block files (Core's "pruned").
	Enabled bool
	// Automatic: it does so by itself to stay under Target bytes.
	Automatic bool
	Target    int64
	// Height is the lowest height of the main chain with its block
	// stored when blocks were pruned (Core's pruneheight), else 0.
	Height int32
}

// PruneState returns the pruning settings and the lowest stored block.
//
// This function is safe for concurrent access.
func (b *BlockChain) PruneState() PruneState {
	return PruneState{
		Enabled:   b.cfg.Prune,
		Automatic: b.cfg.PruneTarget > 0,
		Target:    b.cfg.PruneTarget,
		Height:    b.pruneHeight.Load(),
	}
}

// checkPrune refuses what Core refuses: the transaction index with
// pruning (it points into blocks that would be gone) and a target under
// the minimum. A target implies prune mode.
func (cfg *Config) checkPrune() error {
	if cfg.PruneTarget > 0 {
		cfg.Prune = true
	}
	if cfg.Prune && cfg.TxIndex {
		return fmt.Errorf("%w is incompatible with the transaction index (--txindex)", ErrPruneMode)
	}
	if cfg.PruneTarget > 0 && cfg.PruneTarget < MinPruneTarget && !cfg.smallPruneTarget {
		return fmt.Errorf("%w: a target of %d MiB is below the minimum of %d MiB", ErrPruneMode,
			cfg.PruneTarget>>20, MinPruneTarget>>20)
	}
	return nil
}

// loadPruneState checks a pruned database against the configuration and
// finds the lowest stored block.
// This function MUST be called before the chain is shared.
func (b *BlockChain) loadPruneState() error {
	pruned, err := b.db.Has([]byte{keyPruned})
	if err != nil {
		return fmt.Errorf("chain: %w", err)
	}
	if pruned && !b.cfg.Prune {
		return fmt.Errorf("%w: the block files in %s were pruned; start with --prune again, or delete the "+
			"chain and blocks folders to download the whole chain", ErrPruneMode, b.cfg.BlocksDir)
	}
	if pruned {
		b.updatePruneHeight()
	}
	return nil
}

// updatePruneHeight finds the lowest main-chain block above which all
// blocks are stored (Core's GetFirstStoredBlock).
// This function MUST be called with the process lock held.
func (b *BlockChain) updatePruneHeight() {
	n := b.best.tip()
	for n.parent != nil && n.parent.status&statusDataStored != 0 {
		n = n.parent
	}
	b.pruneHeight.Store(n.height)
}

// PruneBlockchain deletes the block files whose blocks are all at or below
// height, keeping the last MinBlocksToKeep blocks whatever height says
// (Core's pruneblockchain). It returns the height of the last block pruned
// (-1 if none is).
//
// This function is safe for concurrent access; calls are serialized.
func (b *BlockChain) PruneBlockchain(height int32) (int32, error) {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return 0, ErrClosed
	}
	if !b.cfg.Prune {
		return 0, fmt.Errorf("%w: cannot prune blocks because the node is not in prune mode", ErrPruneMode)
	}
	tip := b.best.tip().height
	if tip < pruneAfterHeight(b) {
		return 0, fmt.Errorf("%w: the chain (height %d) is too short for pruning (%d)", ErrPruneMode, tip, pruneAfterHeight(b))
	}
	height = min(height, tip-MinBlocksToKeep)
	if files := b.filesToPrune(height, 0); len(files) > 0 {
		b.markPruned(files)
		if err := b.flush(false); err != nil {
			return 0, err
		}
	}
	return b.pruneHeight.Load() - 1, nil
}

// filesToPrune chooses block files to delete: none holding a block above
// lastPrunable, nor the file being written; with a target, only until the
// files are pruneBuffer under it (Core's FindFilesToPrune), else all.
// This function MUST be called with the process lock held.
func (b *BlockChain) filesToPrune(lastPrunable int32, target int64) []uint32 {
	infos := b.files.Infos()
	cur := b.files.Current()
	usage := b.files.Usage()
	buffer := min(pruneBuffer, target/10)
	if target > 0 && usage+buffer < target {
		return nil
	}
	var out []uint32
	for n, fi := range infos {
		if uint32(n) >= cur {
			break
		}
		if fi.Pruned || (fi.Size == 0 && fi.UndoSize == 0) || fi.HeightMax > lastPrunable {
			continue
		}
		out = append(out, uint32(n))
		usage -= int64(fi.Size) + int64(fi.UndoSize)
		if target > 0 && usage+buffer < target {
			break
		}
	}
	return out
}

// maybePrune marks the files automatic pruning deletes, for the flush
// that must follow. It reports whether it marked any.
// This function MUST be called with the process lock held.
func (b *BlockChain) maybePrune() bool {
	target := b.cfg.PruneTarget
	if target <= 0 || b.files.Usage()+min(pruneBuffer, target/10) < target {
		return false
	}
	tip := b.best.tip().height
	if tip < pruneAfterHeight(b) {
		return false
	}
	files := b.filesToPrune(tip-MinBlocksToKeep, b.cfg.PruneTarget)
	if len(files) == 0 {
		return false
	}
	b.markPruned(files)
	return true
}

// markPruned marks files as pruned and every block in them as having had
// its data; the next flush writes that, then deletes the files.
// This function MUST be called with the process lock held.
func (b *BlockChain) markPruned(files []uint32) {
	blocks := 0
	b.chainLock.Lock()
	for _, n := range b.index {
		inData := n.status&statusDataStored != 0 && slices.Contains(files, n.dataPos.File)
		inUndo := n.status&statusUndoStored != 0 && slices.Contains(files, n.undoPos.File)
		if !inData && !inUndo {
			continue
		}
		if inData {
			n.status = n.status&^statusDataStored | statusPruned
			n.dataPos = blockfile.Pos{}
			blocks++
		}
		n.status &^= statusUndoStored
		n.undoPos = blockfile.Pos{}
		b.dirtyNodes[n] = struct{}{}
	}
	b.chainLock.Unlock()
	for _, n := range b.recent.order {
		if node := b.index[n]; node != nil && node.status&statusDataStored == 0 {
			delete(b.recent.blocks, n)
		}
	}
	b.recent.order = slices.DeleteFunc(b.recent.order, func(h chainhash.Hash) bool {
		_, ok := b.recent.blocks[h]
		return !ok
	})
	b.files.MarkPruned(files)
	b.prunePending = true
	b.log.Info("pruning block files", "files", files, "blocks", blocks)
}

// writePruned adds to a flush batch the mark of a pruned database.
// This function MUST be called with the process lock held.
func (b *BlockChain) writePruned(batch *store.Batch) {
	if b.prunePending {
		batch.Put([]byte{keyPruned}, []byte{1})
	}
}

// removePruned deletes the files of a flush that recorded them pruned.
// This function MUST be called with the process lock held.
func (b *BlockChain) removePruned() error {
	if !b.prunePending {
		return nil
	}
	b.prunePending = false
	b.updatePruneHeight()
	if err := b.files.RemovePruned(); err != nil {
		return fmt.Errorf("chain: %w", err)
	}
	return nil
}

// checkReorgData reports whether moving the tip from tip to best over fork
// has all it needs: the undo data of every block to disconnect, the data of
// every block to connect.
// This function MUST be called with the process lock held.
func (b *BlockChain) checkReorgData(tip, fork, best *blockNode) error {
	for n := tip; n != fork; n = n.parent {
		if n.status&statusUndoStored == 0 {
			return fmt.Errorf("%w: moving the tip to %v at height %d needs a reorganization %d blocks "+
				"deep, past the undo data kept (blocks pruned up to height %d)",
				ErrPrunedReorg, best.hash, best.height, tip.height-fork.height, b.pruneHeight.Load()-1)
		}
	}
	for n := best; n != fork; n = n.parent {
		if n.status&statusDataStored == 0 {
			return fmt.Errorf("%w: block %v at height %d is pruned; the chain of %v needs it",
				ErrPrunedReorg, n.hash, n.height, best.hash)
		}
	}
	return nil
}
