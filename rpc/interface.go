package rpc

import (
	"context"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/utxo"
)

// Chain is what the handlers need of the block chain. *chain.BlockChain
// implements it.
type Chain interface {
	Network() *chainparams.Network
	BestSnapshot() *chain.BestState
	HeaderCount() int32
	BlockHashByHeight(height int32) (chainhash.Hash, error)
	BlockByHash(hash chainhash.Hash) (*wire.MsgBlock, error)
	BlockInfo(hash chainhash.Hash) (*chain.BlockInfo, error)
	ChainTips() []chain.ChainTip
	FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error)
	UtxoSetStats() (*chain.UtxoStats, error)
	FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, chain.TxLocation, error)
	TxIndexEnabled() bool
	BlockFilter(hash chainhash.Hash) (filter []byte, header chainhash.Hash, err error)
	BlockFilterIndexEnabled() bool
	ProcessBlock(block *wire.MsgBlock) (chain.ProcessResult, error)
	ProcessHeaders(headers []wire.BlockHeader) (int, error)
	DiskSize() int64
	InvalidateBlock(hash chainhash.Hash) error
	ReconsiderBlock(hash chainhash.Hash) error
}

var _ Chain = (*chain.BlockChain)(nil)

// TemplateTx is one transaction of a block template.
type TemplateTx struct {
	Tx        *wire.MsgTx
	Fee       int64
	SigOpCost int64
	Weight    int64
	// Depends are the positions (1-based, as BIP22 counts) of the
	// template's transactions this one spends.
	Depends []int
}

// BlockTemplate is the next block's work for getblocktemplate.
type BlockTemplate struct {
	PrevHash          chainhash.Hash
	Height            int32
	Version           int32
	Bits              uint32
	Target            *big.Int
	CurTime, MinTime  time.Time
	Txs               []TemplateTx
	CoinbaseValue     int64
	WitnessCommitment []byte
}

// MiningStats reports the local miner (getmininginfo).
type MiningStats interface {
	HashesPerSec() float64
}

// Generator mines blocks on demand (generatetoaddress, generateblock) and
// assembles templates for external miners (getblocktemplate).
type Generator interface {
	// BlockTemplate returns the next block's template.
	BlockTemplate() (*BlockTemplate, error)
	// GenerateToAddress mines n blocks paying to pkScript, trying at most
	// maxTries nonces each, and returns their hashes.
	GenerateToAddress(ctx context.Context, n int, pkScript []byte, maxTries uint64) ([]chainhash.Hash, error)
	// GenerateBlock mines one block paying to pkScript holding exactly
	// txs (after the coinbase), and returns it; with submit false it is
	// not processed.
	GenerateBlock(ctx context.Context, pkScript []byte, txs []*wire.MsgTx, submit bool) (*wire.MsgBlock, error)
}
