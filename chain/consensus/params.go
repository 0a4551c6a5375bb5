package consensus

import (
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// Units and limits shared by every network.
const (
	// CoinValue is the number of base units in one coin.
	CoinValue = 100_000_000
	// MaxMoney is the largest amount any output or sum of outputs may carry.
	MaxMoney = 21_000_000 * CoinValue

	// MaxBlockWeight is the BIP141 block weight limit.
	MaxBlockWeight = 4_000_000
	// MaxBlockSigOpsCost is the BIP141 block sigop cost limit.
	MaxBlockSigOpsCost = 80_000
	// WitnessScaleFactor is the weight of one non-witness byte.
	WitnessScaleFactor = 4
	// MedianTimeBlocks is how many blocks the median time past spans.
	MedianTimeBlocks = 11

	// MinCoinbaseScriptLen and MaxCoinbaseScriptLen bound the coinbase
	// scriptSig [bad-cb-length].
	MinCoinbaseScriptLen = 2
	MaxCoinbaseScriptLen = 100
)

// Params are the consensus rules of one network: everything a validator
// needs to decide whether a block is valid, and nothing about addresses,
// ports or discovery (package chainparams wraps it with those).
type Params struct {
	// PowLimit is the easiest target a block may have; PowLimitBits is the
	// same value in compact form.
	PowLimit     *big.Int
	PowLimitBits uint32

	// TargetSpacing is the desired time between blocks, and AsertHalfLife
	// the time over which ASERT doubles or halves the target when blocks
	// come too slowly or too fast. With NoRetargeting every block must
	// carry PowLimitBits (regtest).
	TargetSpacing time.Duration
	AsertHalfLife time.Duration
	NoRetargeting bool

	// MaxFutureBlockTime is how far ahead of the local clock a block's
	// timestamp may be [time-too-new].
	MaxFutureBlockTime time.Duration

	// BaseSubsidy is the block reward of the first era, halved every
	// SubsidyHalvingInterval blocks.
	BaseSubsidy            int64
	SubsidyHalvingInterval int32

	// CoinbaseMaturity is how many confirmations a coinbase output needs
	// before it can be spent.
	CoinbaseMaturity int32

	// MinimumChainWork is the least chain work a peer's headers must lead
	// to before the node stores them (Bitcoin Core's nMinimumChainWork):
	// the work of a block the release knows to be on the network's chain.
	// Nil or zero: none (regtest, new custom networks).
	MinimumChainWork *big.Int

	// Soft fork activation heights. Zero means active from the genesis
	// block on (the default for every built-in network).
	BIP34Height   int32
	BIP65Height   int32
	BIP66Height   int32
	CSVHeight     int32
	SegwitHeight  int32
	TaprootHeight int32

	// The genesis block is the ASERT anchor: its bits are the anchor bits
	// and its time minus TargetSpacing is the anchor parent time.
	GenesisHash chainhash.Hash
	GenesisTime int64
	GenesisBits uint32
}
