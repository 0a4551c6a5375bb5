package chain

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/internal/blockfile"
	"github.com/cairnchain/cairn/chain/internal/store"
	"github.com/cairnchain/cairn/chain/utxo"
)

// The block and undo files. A block's body is appended to the files when
// it is accepted and its undo data when it is connected; neither is synced
// then. The index record that points to them is written at once but
// without a sync, so that a killed process loses nothing; every flush
// syncs the files before its own synced batch, which makes all earlier
// index writes durable. After a power loss, an index record may therefore
// point to data written after the last flush that never reached the disk:
// on start, every record beyond what the last flush recorded as synced is
// checked before it is trusted (verifyUnsynced).

// openBlockFiles opens the block files of a database of the current schema.
func (b *BlockChain) openBlockFiles() error {
	var infos []blockfile.FileInfo
	err := b.db.ForEach([]byte{prefixFile}, func(k, v []byte) error {
		if len(k) != 5 {
			return fmt.Errorf("%w: block file key %x", ErrCorruptDatabase, k)
		}
		var fi blockfile.FileInfo
		if err := fi.UnmarshalBinary(v); err != nil {
			return fmt.Errorf("%w: %v", ErrCorruptDatabase, err)
		}
		n := int(k[1])<<24 | int(k[2])<<16 | int(k[3])<<8 | int(k[4])
		if n != len(infos) {
			return fmt.Errorf("%w: block file record %d follows %d", ErrCorruptDatabase, n, len(infos)-1)
		}
		infos = append(infos, fi)
		return nil
	})
	if err != nil {
		return fmt.Errorf("chain: read block file records: %w", err)
	}
	return b.openFileStore(infos)
}

// openFileStore opens the block files with the records infos.
func (b *BlockChain) openFileStore(infos []blockfile.FileInfo) error {
	files, err := blockfile.Open(b.blockFS, fileMagic(b.network.GenesisHash()), infos)
	if err != nil {
		if errors.Is(err, blockfile.ErrCorrupt) {
			return fmt.Errorf("%w: block files in %s: %v; the folder was damaged after the node synced it: "+
				"delete the network's chain and blocks folders to download the chain again", ErrCorruptDatabase, b.cfg.BlocksDir, err)
		}
		return fmt.Errorf("chain: open block files in %s: %w", b.cfg.BlocksDir, err)
	}
	switch {
	case b.cfg.maxBlockFile > 0:
		files.SetMaxFileSize(b.cfg.maxBlockFile)
	case b.cfg.FastPrune:
		files.SetMaxFileSize(fastPruneFileSize)
	}
	b.files = files
	b.db.BeforeJournalSync(files.SyncData)
	return nil
}

// fastPruneFileSize is the block file size of Config.FastPrune (Core's
// -fastprune uses 64 KiB).
const fastPruneFileSize = 64 << 10

// fileMagic is the 4 bytes that start each record of the block files: the
// first bytes of the network's genesis hash (Cairn's networks have no
// message magic; this ties the files to their network all the same).
func fileMagic(genesis chainhash.Hash) [4]byte {
	return [4]byte(genesis[:4])
}

// clearBlockFiles deletes the block and undo files of a database being
// created or migrated: nothing refers to them.
func (b *BlockChain) clearBlockFiles() error {
	names, err := b.blockFS.List()
	if err != nil {
		return fmt.Errorf("chain: list %s: %w", b.cfg.BlocksDir, err)
	}
	for _, name := range names {
		if len(name) == len("blk00000.dat") && (name[:3] == "blk" || name[:3] == "rev") {
			b.log.Warn("deleting a block file no index refers to", "file", name)
			if err := b.blockFS.Remove(name); err != nil {
				return fmt.Errorf("chain: %w", err)
			}
		}
	}
	return nil
}

// verifyUnsynced checks, after the index is loaded, every block and undo
// record written after the last flush synced the files: those a power
// loss cut or tore are marked as not stored (the block is downloaded
// again, the undo data made again when the block is connected). It then
// tells the block files what each of them holds.
// This function MUST be called with the process lock held, or before the
// chain is shared.
func (b *BlockChain) verifyUnsynced() error {
	type contents struct {
		blocks   uint32
		min, max int32
	}
	files := make(map[uint32]*contents)
	lost := 0
	for _, n := range b.index {
		if n.status&statusDataStored != 0 && !b.files.Durable(n.dataPos, false) {
			if err := b.checkUnsyncedBlock(n); err != nil {
				b.log.Warn("a block written before the last shutdown is damaged; it will be fetched again",
					"hash", n.hash, "height", n.height, "err", err)
				n.status &^= statusDataStored | statusUndoStored
				b.dirtyNodes[n] = struct{}{}
				lost++
			}
		}
		if n.status&statusUndoStored != 0 && !b.files.Durable(n.undoPos, true) {
			if _, err := b.files.ReadUndo(n.undoPos, n.hash); err != nil {
				n.status &^= statusUndoStored
				b.dirtyNodes[n] = struct{}{}
			}
		}
		if n.status&statusDataStored != 0 {
			c := files[n.dataPos.File]
			if c == nil {
				c = &contents{min: n.height, max: n.height}
				files[n.dataPos.File] = c
			}
			c.blocks++
			c.min, c.max = min(c.min, n.height), max(c.max, n.height)
		}
	}
	for i, fi := range b.files.Infos() {
		if fi.Pruned {
			continue
		}
		c := files[uint32(i)]
		if c == nil {
			c = &contents{min: -1, max: -1}
		}
		b.files.SetContents(uint32(i), c.blocks, c.min, c.max)
	}
	if lost > 0 {
		b.log.Warn("blocks lost with the writes a power loss cut", "blocks", lost)
	}
	b.unsyncedLost = lost
	return nil
}

// checkUnsyncedBlock reads a block written after the last sync and checks
// that it is whole: its header is the node's and its transactions match
// the header's merkle root (and the witness commitment).
func (b *BlockChain) checkUnsyncedBlock(n *blockNode) error {
	raw, err := b.files.ReadBlock(n.dataPos)
	if err != nil {
		return err
	}
	block, err := decodeStoredBlock(raw, &n.hash)
	if err != nil {
		return err
	}
	if h := consensus.BlockHash(&block.Header); h != n.hash {
		return fmt.Errorf("the file holds block %v", h)
	}
	if _, err := consensus.CheckBlockSanity(block, b.params.PowLimit); err != nil {
		return err
	}
	return nil
}

// storeBlockData appends a block's body to the block files and records
// where. It is written, not yet synced.
// This function MUST be called with the process lock held.
func (b *BlockChain) storeBlockData(n *blockNode, raw []byte) error {
	pos, err := b.files.WriteBlock(raw, n.height)
	if err != nil {
		return fmt.Errorf("chain: store block %v: %w", n.hash, err)
	}
	b.chainLock.Lock()
	n.dataPos = pos
	n.status |= statusDataStored
	n.status &^= statusPruned
	b.chainLock.Unlock()
	return nil
}

// storeUndo appends the undo data of a connected block to the undo file of
// its block file, unless it is there from an earlier connection (the
// outputs a block spends are fixed by its ancestors).
// This function MUST be called with the process lock held.
func (b *BlockChain) storeUndo(n *blockNode, block *wire.MsgBlock, spent []*utxo.Entry) error {
	if n.status&statusUndoStored != 0 {
		return nil
	}
	undo, err := encodeUndo(block, spent)
	if err != nil {
		return err
	}
	pos, err := b.files.WriteUndo(n.dataPos.File, n.hash, undo)
	if err != nil {
		return fmt.Errorf("chain: store undo data of %v: %w", n.hash, err)
	}
	b.chainLock.Lock()
	n.undoPos = pos
	n.status |= statusUndoStored
	b.chainLock.Unlock()
	return nil
}

// rawBlock reads a stored block's serialization.
// This function is safe for concurrent access.
func (b *BlockChain) rawBlock(n *blockNode) ([]byte, error) {
	b.chainLock.RLock()
	pos, status := n.dataPos, n.status
	b.chainLock.RUnlock()
	if status&statusDataStored == 0 {
		if status&statusPruned != 0 {
			return nil, fmt.Errorf("%w: %w: %v", ErrNoBlockData, ErrBlockPruned, n.hash)
		}
		return nil, fmt.Errorf("%w: %v", ErrNoBlockData, n.hash)
	}
	raw, err := b.files.ReadBlock(pos)
	if errors.Is(err, blockfile.ErrPruned) {
		return nil, fmt.Errorf("%w: %w: %v", ErrNoBlockData, ErrBlockPruned, n.hash)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read block %v: %v", ErrCorruptDatabase, n.hash, err)
	}
	return raw, nil
}

// readBlock reads and decodes a stored block.
// This function is safe for concurrent access.
func (b *BlockChain) readBlock(n *blockNode) (*wire.MsgBlock, error) {
	raw, err := b.rawBlock(n)
	if err != nil {
		return nil, err
	}
	return decodeStoredBlock(raw, &n.hash)
}

// readUndo reads and decodes a block's undo data; block is the block.
// This function is safe for concurrent access.
func (b *BlockChain) readUndo(n *blockNode, block *wire.MsgBlock) ([]*utxo.Entry, error) {
	b.chainLock.RLock()
	pos, status := n.undoPos, n.status
	b.chainLock.RUnlock()
	if status&statusUndoStored == 0 {
		return nil, fmt.Errorf("%w: no undo data for block %v at height %d", ErrNoBlockData, n.hash, n.height)
	}
	raw, err := b.files.ReadUndo(pos, n.hash)
	if errors.Is(err, blockfile.ErrPruned) {
		return nil, fmt.Errorf("%w: %w: undo data of %v", ErrNoBlockData, ErrBlockPruned, n.hash)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: undo data of %v: %v", ErrCorruptDatabase, n.hash, err)
	}
	return decodeUndo(raw, block)
}

// syncBlockFiles makes the block files durable and puts their changed
// records into batch, which must be written after (and only after) this.
// This function MUST be called with the process lock held.
func (b *BlockChain) syncBlockFiles(batch *store.Batch) error {
	infos, err := b.files.Sync()
	if err != nil {
		return fmt.Errorf("chain: %w", err)
	}
	for n, fi := range infos {
		v, _ := fi.MarshalBinary()
		batch.Put(fileKey(n), v)
	}
	return nil
}

// migrateV1 moves the blocks and undo data of a schema version 1 database
// (stored in it) to the block files, and rewrites the index to point to
// them, in one batch written after the files are synced: interrupted at
// any point, the database is still version 1 and whole, and the next
// start begins again.
// This function MUST be called before the chain is shared.
func (b *BlockChain) migrateV1() error {
	start := time.Now()
	b.log.Warn("moving the blocks out of the database into block files; this is done once",
		"blocks_dir", b.cfg.BlocksDir)
	if err := b.clearBlockFiles(); err != nil {
		return err
	}
	if err := b.openFileStore(nil); err != nil {
		return err
	}
	var recs []indexRecord
	err := b.db.ForEach([]byte{prefixIndex}, func(k, v []byte) error {
		r, err := decodeIndexRecord(v, true)
		if err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("chain: migrate: read block index: %w", err)
	}
	sortRecords(recs)
	batch := store.NewBatch(len(recs) * (indexRecordLen + 2*posLen + 48))
	moved, last := 0, time.Now()
	for i := range recs {
		r := &recs[i]
		hash := consensus.BlockHash(&r.header)
		if r.status&statusDataStored != 0 {
			raw, err := b.db.Get(hashKey(prefixBlockV1, &hash))
			if err != nil {
				return fmt.Errorf("chain: migrate: block %v: %w", hash, err)
			}
			if r.dataPos, err = b.files.WriteBlock(raw, r.height); err != nil {
				return fmt.Errorf("chain: migrate: %w", err)
			}
			batch.Delete(hashKey(prefixBlockV1, &hash))
			moved++
			undo, err := b.db.Get(hashKey(prefixUndoV1, &hash))
			if err == nil {
				undo, err = reencodeUndoV1(raw, &hash, undo)
			}
			switch {
			case err == nil:
				if r.undoPos, err = b.files.WriteUndo(r.dataPos.File, hash, undo); err != nil {
					return fmt.Errorf("chain: migrate: %w", err)
				}
				r.status |= statusUndoStored
				batch.Delete(hashKey(prefixUndoV1, &hash))
			case !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("chain: migrate: undo data of %v: %w", hash, err)
			}
		}
		batch.Put(hashKey(prefixIndex, &hash), encodeRecord(r))
		if time.Since(last) > 10*time.Second {
			b.log.Info("moving blocks", "done", moved, "of_index_records", len(recs), "height", r.height)
			last = time.Now()
		}
	}
	// Undo data of blocks whose index record lost them, if any, goes too.
	err = b.db.ForEach([]byte{prefixUndoV1}, func(k, _ []byte) error {
		batch.Delete(append([]byte(nil), k...))
		return nil
	})
	if err != nil {
		return fmt.Errorf("chain: migrate: %w", err)
	}
	if err := b.syncBlockFiles(batch); err != nil {
		return err
	}
	batch.Put([]byte{keyVersion}, []byte{schemaVersion})
	if err := b.db.Write(batch, true); err != nil {
		return fmt.Errorf("chain: migrate: write the new index: %w", err)
	}
	if err := b.db.Compact([]byte{prefixBlockV1}); err != nil {
		return fmt.Errorf("chain: migrate: compact: %w", err)
	}
	if err := b.db.Compact([]byte{prefixUndoV1}); err != nil {
		return fmt.Errorf("chain: migrate: compact: %w", err)
	}
	b.log.Warn("blocks moved to block files", "blocks", moved, "bytes", b.files.Usage(),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// reencodeUndoV1 turns undo data as schema version 1 kept it into this
// version's encoding; raw is its block.
func reencodeUndoV1(raw []byte, hash *chainhash.Hash, v1 []byte) ([]byte, error) {
	block, err := decodeStoredBlock(raw, hash)
	if err != nil {
		return nil, err
	}
	spent, err := decodeUndoV1(v1)
	if err != nil {
		return nil, fmt.Errorf("undo data of %v: %w", hash, err)
	}
	undo, err := encodeUndo(block, spent)
	if err != nil {
		return nil, fmt.Errorf("%w: undo data of %v: %v", ErrCorruptDatabase, hash, err)
	}
	return undo, nil
}

// sortRecords orders index records by height, so that parents come first.
func sortRecords(recs []indexRecord) {
	slices.SortStableFunc(recs, func(a, b indexRecord) int { return cmp.Compare(a.height, b.height) })
}
