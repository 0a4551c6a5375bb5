package chain

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/internal/store"
)

// syncTxIndex makes the transaction index match the stored tip, rebuilding
// it from the main chain's blocks when it was off or belongs to another tip.
// The genesis coinbase is not indexed, as in Bitcoin Core.
func (b *BlockChain) syncTxIndex() error {
	tip := b.best.tip()
	v, err := b.db.Get([]byte{keyTxIndexTip})
	if err == nil && len(v) == chainhash.HashSize && chainhash.Hash(v) == tip.hash {
		return nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("chain: read tx index tip: %w", err)
	}
	b.log.Info("building transaction index", "blocks", tip.height)
	batch := new(store.Batch)
	err = b.db.ForEach([]byte{prefixTxIndex}, func(k, _ []byte) error {
		batch.Delete(append([]byte(nil), k...))
		return nil
	})
	if err != nil {
		return fmt.Errorf("chain: clear tx index: %w", err)
	}
	for h := int32(1); h <= tip.height; h++ {
		n := b.best[h]
		block, err := b.readBlock(n)
		if err != nil {
			return err
		}
		for i, tx := range block.Transactions {
			txid := consensus.TxHash(tx)
			batch.Put(hashKey(prefixTxIndex, &txid), encodeTxLocation(TxLocation{BlockHash: n.hash, Index: uint32(i)}))
		}
		if batch.Size() > 16<<20 {
			if err := b.db.Write(batch, false); err != nil {
				return fmt.Errorf("chain: build tx index: %w", err)
			}
			batch.Reset()
		}
	}
	batch.Put([]byte{keyTxIndexTip}, tip.hash[:])
	if err := b.db.Write(batch, true); err != nil {
		return fmt.Errorf("chain: build tx index: %w", err)
	}
	return nil
}

// FetchTransaction returns a confirmed transaction of the main chain from the
// transaction index, with its location. It returns ErrTxNotFound when the
// index is off or has no such transaction.
//
// This function is safe for concurrent access.
func (b *BlockChain) FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, TxLocation, error) {
	if !b.cfg.TxIndex {
		return nil, TxLocation{}, fmt.Errorf("%w: the transaction index is off (--txindex)", ErrTxNotFound)
	}
	// pendingTx belongs to the writer; take the process lock to read it
	// consistently with the database.
	b.processLock.Lock()
	raw, pending := b.pendingTx[txid]
	var err error
	if !pending {
		raw, err = b.db.Get(hashKey(prefixTxIndex, &txid))
	}
	b.processLock.Unlock()
	if errors.Is(err, store.ErrNotFound) || (pending && raw == nil) {
		return nil, TxLocation{}, fmt.Errorf("%w: %v", ErrTxNotFound, txid)
	}
	if err != nil {
		return nil, TxLocation{}, fmt.Errorf("chain: tx index: %w", err)
	}
	loc, err := decodeTxLocation(raw)
	if err != nil {
		return nil, TxLocation{}, err
	}
	block, err := b.BlockByHash(loc.BlockHash)
	if err != nil {
		return nil, loc, err
	}
	if int(loc.Index) >= len(block.Transactions) {
		return nil, loc, fmt.Errorf("%w: tx index points past block %v", ErrCorruptDatabase, loc.BlockHash)
	}
	return block.Transactions[loc.Index], loc, nil
}

// TxIndexEnabled reports whether the transaction index is kept.
func (b *BlockChain) TxIndexEnabled() bool { return b.cfg.TxIndex }
