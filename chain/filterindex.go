package chain

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/gcs/builder"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/internal/store"
	"github.com/cairnchain/cairn/chain/utxo"
)

// The block filter index keeps, for every block connected while it is on
// (and, when it is turned on, every block of the main chain), the block's
// BIP158 basic filter and its filter header, as Bitcoin Core's
// -blockfilterindex does. Records are keyed by block hash:
// a filter depends only on its block and the outputs the block spends,
// which the hash fixes, so the records of disconnected blocks stay valid
// and are kept. The index tip ('F') is written in the same batch as the
// chain state, so the two agree after a crash.

// calcBasicFilter builds block's BIP158 basic filter from the block and
// the outputs it spends (its undo data, in any order), and the filter's
// header chained onto prevHeader, the previous block's filter header (all
// zeros for the genesis block). It returns the stored record: the header,
// then the filter serialized as Bitcoin Core's getblockfilter shows it (N
// as a compact size, then the Golomb-coded set).
//
// This function is safe for concurrent access.
func calcBasicFilter(block *wire.MsgBlock, spent []*utxo.Entry, prevHeader chainhash.Hash) ([]byte, chainhash.Hash, error) {
	prevScripts := make([][]byte, len(spent))
	for i, e := range spent {
		prevScripts[i] = e.PkScript
	}
	// BuildBasicFilter keys the filter with the block hash's first 16
	// bytes and leaves out empty and OP_RETURN output scripts and empty
	// spent scripts, as BIP158 says.
	filter, err := builder.BuildBasicFilter(block, prevScripts)
	if err != nil {
		return nil, chainhash.Hash{}, fmt.Errorf("chain: build basic filter: %w", err)
	}
	header, err := builder.MakeHeaderForFilter(filter, prevHeader)
	if err != nil {
		return nil, chainhash.Hash{}, fmt.Errorf("chain: basic filter header: %w", err)
	}
	raw, err := filter.NBytes()
	if err != nil {
		return nil, chainhash.Hash{}, fmt.Errorf("chain: serialize basic filter: %w", err)
	}
	return encodeFilterRecord(header, raw), header, nil
}

// encodeFilterRecord serializes a filter record: header, then filter.
func encodeFilterRecord(header chainhash.Hash, filter []byte) []byte {
	rec := make([]byte, chainhash.HashSize+len(filter))
	copy(rec, header[:])
	copy(rec[chainhash.HashSize:], filter)
	return rec
}

// decodeFilterRecord splits a filter record into header and filter. The
// filter must at least hold its element count.
func decodeFilterRecord(v []byte) ([]byte, chainhash.Hash, error) {
	if len(v) < chainhash.HashSize+1 {
		return nil, chainhash.Hash{}, fmt.Errorf("%w: block filter record of %d bytes", ErrCorruptDatabase, len(v))
	}
	return v[chainhash.HashSize:], chainhash.Hash(v[:chainhash.HashSize]), nil
}

// filterRecord returns the stored or pending filter record of a block, or
// an error wrapping store.ErrNotFound.
//
// This function MUST be called with the process lock held.
func (b *BlockChain) filterRecord(hash *chainhash.Hash) ([]byte, error) {
	if rec, ok := b.pendingFilters[*hash]; ok {
		return rec, nil
	}
	rec, err := b.db.Get(hashKey(prefixFilter, hash))
	if err != nil {
		return nil, fmt.Errorf("chain: read block filter of %v: %w", hash, err)
	}
	return rec, nil
}

// prevFilterHeader returns the filter header of node's parent: the previous
// header node's own filter chains onto. The genesis block's is all zeros.
//
// This function MUST be called with the process lock held.
func (b *BlockChain) prevFilterHeader(node *blockNode) (chainhash.Hash, error) {
	if node.parent == nil {
		return chainhash.Hash{}, nil
	}
	rec, err := b.filterRecord(&node.parent.hash)
	if errors.Is(err, store.ErrNotFound) {
		return chainhash.Hash{}, fmt.Errorf("%w: block filter index lacks %v, the parent of %v",
			ErrCorruptDatabase, node.parent.hash, node.hash)
	}
	if err != nil {
		return chainhash.Hash{}, err
	}
	_, header, err := decodeFilterRecord(rec)
	return header, err
}

// indexBlockFilter builds the filter of block, about to be connected as
// node, and queues its record for the next flush. spent are the outputs the
// block spends.
//
// This function MUST be called with the process lock held.
func (b *BlockChain) indexBlockFilter(node *blockNode, block *wire.MsgBlock, spent []*utxo.Entry) error {
	prev, err := b.prevFilterHeader(node)
	if err != nil {
		return err
	}
	rec, _, err := calcBasicFilter(block, spent, prev)
	if err != nil {
		return fmt.Errorf("block %v: %w", node.hash, err)
	}
	b.pendingFilters[node.hash] = rec
	b.pendingBytes += int64(len(rec)) + 40
	return nil
}

// syncFilterIndex makes the block filter index cover the main chain up to
// the stored tip. When the index tip is a main-chain block, only the blocks
// above it are indexed; otherwise (the index was never on, or was off while
// the chain reorganized) every block from genesis is, from the stored
// blocks and undo data.
//
// This function MUST be called before the chain is shared, with no pending
// changes.
func (b *BlockChain) syncFilterIndex() error {
	tip := b.best.tip()
	v, err := b.db.Get([]byte{keyFilterTip})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("chain: read block filter index tip: %w", err)
	}
	start := int32(0)
	var prev chainhash.Hash
	if err == nil && len(v) == chainhash.HashSize {
		if n := b.index[chainhash.Hash(v)]; n != nil && b.best.contains(n) {
			if n == tip {
				return nil
			}
			if rec, err := b.db.Get(hashKey(prefixFilter, &n.hash)); err == nil {
				if _, h, err := decodeFilterRecord(rec); err == nil {
					start, prev = n.height+1, h
				}
			}
		}
	}
	b.log.Info("building block filter index", "from", start, "to", tip.height)
	batch := new(store.Batch)
	for h := start; h <= tip.height; h++ {
		n := b.best[h]
		block, err := b.readBlock(n)
		if err != nil {
			return fmt.Errorf("chain: build block filter index: %w", err)
		}
		var spent []*utxo.Entry
		if h > 0 {
			if spent, err = b.readUndo(n, block); err != nil {
				return fmt.Errorf("chain: build block filter index: %w", err)
			}
		}
		rec, header, err := calcBasicFilter(block, spent, prev)
		if err != nil {
			return fmt.Errorf("block %v: %w", n.hash, err)
		}
		batch.Put(hashKey(prefixFilter, &n.hash), rec)
		prev = header
		if batch.Size() > 16<<20 {
			if err := b.db.Write(batch, false); err != nil {
				return fmt.Errorf("chain: build block filter index: %w", err)
			}
			batch.Reset()
		}
	}
	batch.Put([]byte{keyFilterTip}, tip.hash[:])
	if err := b.db.Write(batch, true); err != nil {
		return fmt.Errorf("chain: build block filter index: %w", err)
	}
	return nil
}

// BlockFilter returns a block's BIP158 basic filter, serialized as Bitcoin
// Core's getblockfilter shows it (N as a compact size, then the
// Golomb-coded set; decode it with gcs.FromNBytes(builder.DefaultP,
// builder.DefaultM, filter)), and its filter header. Blocks that were on
// the main chain while the index was on have one, including blocks since
// disconnected. Errors: ErrFilterIndexOff when the index is off,
// ErrUnknownBlock for a hash the block index lacks, ErrFilterNotFound for a
// block without a filter (never connected), and ErrClosed after Close.
//
// This function is safe for concurrent access.
func (b *BlockChain) BlockFilter(hash chainhash.Hash) ([]byte, chainhash.Hash, error) {
	if !b.cfg.BlockFilterIndex {
		return nil, chainhash.Hash{}, fmt.Errorf("%w (--blockfilterindex)", ErrFilterIndexOff)
	}
	if b.lookupNode(hash) == nil {
		return nil, chainhash.Hash{}, fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	// pendingFilters belongs to the writer; take the process lock to
	// read it consistently with the database.
	b.processLock.Lock()
	var rec []byte
	err := ErrClosed
	if !b.closed {
		rec, err = b.filterRecord(&hash)
	}
	b.processLock.Unlock()
	if errors.Is(err, store.ErrNotFound) {
		return nil, chainhash.Hash{}, fmt.Errorf("%w: %v", ErrFilterNotFound, hash)
	}
	if err != nil {
		return nil, chainhash.Hash{}, err
	}
	filter, header, err := decodeFilterRecord(rec)
	if err != nil {
		return nil, chainhash.Hash{}, err
	}
	return append([]byte(nil), filter...), header, nil
}

// BlockFilterIndexEnabled reports whether the block filter index is kept.
//
// This function is safe for concurrent access.
func (b *BlockChain) BlockFilterIndexEnabled() bool { return b.cfg.BlockFilterIndex }
