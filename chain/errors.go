package chain

import (
	"errors"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Error kinds, re-exported from package consensus so that callers of chain
// need not import it. See consensus for each kind's rule and reject reason.
const (
	ErrHighHash                 = consensus.ErrHighHash
	ErrUnexpectedDifficulty     = consensus.ErrUnexpectedDifficulty
	ErrTimeTooOld               = consensus.ErrTimeTooOld
	ErrTimeTooNew               = consensus.ErrTimeTooNew
	ErrBadVersion               = consensus.ErrBadVersion
	ErrBlockLength              = consensus.ErrBlockLength
	ErrFirstTxNotCoinbase       = consensus.ErrFirstTxNotCoinbase
	ErrMultipleCoinbases        = consensus.ErrMultipleCoinbases
	ErrBadMerkleRoot            = consensus.ErrBadMerkleRoot
	ErrDuplicateTx              = consensus.ErrDuplicateTx
	ErrBlockWeightTooHigh       = consensus.ErrBlockWeightTooHigh
	ErrTooManySigOps            = consensus.ErrTooManySigOps
	ErrBadCoinbaseScriptLen     = consensus.ErrBadCoinbaseScriptLen
	ErrBadCoinbaseHeight        = consensus.ErrBadCoinbaseHeight
	ErrBadCoinbaseValue         = consensus.ErrBadCoinbaseValue
	ErrBadWitnessNonceSize      = consensus.ErrBadWitnessNonceSize
	ErrBadWitnessCommitment     = consensus.ErrBadWitnessCommitment
	ErrUnexpectedWitness        = consensus.ErrUnexpectedWitness
	ErrNoTxInputs               = consensus.ErrNoTxInputs
	ErrNoTxOutputs              = consensus.ErrNoTxOutputs
	ErrTxTooBig                 = consensus.ErrTxTooBig
	ErrBadTxOutValue            = consensus.ErrBadTxOutValue
	ErrTxOutValueTooLarge       = consensus.ErrTxOutValueTooLarge
	ErrTxOutTotalTooLarge       = consensus.ErrTxOutTotalTooLarge
	ErrDuplicateTxInputs        = consensus.ErrDuplicateTxInputs
	ErrBadTxInput               = consensus.ErrBadTxInput
	ErrUnfinalizedTx            = consensus.ErrUnfinalizedTx
	ErrSequenceLockNotMet       = consensus.ErrSequenceLockNotMet
	ErrMissingOrSpentInput      = consensus.ErrMissingOrSpentInput
	ErrImmatureSpend            = consensus.ErrImmatureSpend
	ErrInputValuesOutOfRange    = consensus.ErrInputValuesOutOfRange
	ErrSpendTooHigh             = consensus.ErrSpendTooHigh
	ErrAccumulatedFeeOutOfRange = consensus.ErrAccumulatedFeeOutOfRange
	ErrOverwriteTx              = consensus.ErrOverwriteTx
	ErrScriptValidation         = consensus.ErrScriptValidation
	ErrMissingParent            = consensus.ErrMissingParent
	ErrInvalidAncestor          = consensus.ErrInvalidAncestor
	ErrDuplicateBlock           = consensus.ErrDuplicateBlock
	ErrKnownInvalid             = consensus.ErrKnownInvalid
)

// RuleError is a consensus rule violation; see consensus.RuleError.
type RuleError = consensus.RuleError

// Sentinels of operations that are not rule violations.
var (
	// ErrUnknownBlock is returned by lookups, InvalidateBlock and
	// ReconsiderBlock for a hash the index does not hold.
	ErrUnknownBlock = errors.New("chain: block not found")

	// ErrNoBlockData is returned when a block's header is known but its
	// data is not stored.
	ErrNoBlockData = errors.New("chain: block data not available")

	// ErrBlockPruned is returned, with ErrNoBlockData, when the block's
	// data was stored and has been pruned.
	ErrBlockPruned = errors.New("chain: block data pruned")

	// ErrTxNotFound is returned by FetchTransaction when the transaction
	// index has no entry (or is off).
	ErrTxNotFound = errors.New("chain: transaction not found")

	// ErrFilterIndexOff is returned (wrapped) by BlockFilter when the
	// block filter index is off (Config.BlockFilterIndex).
	ErrFilterIndexOff = errors.New("chain: the block filter index is off")

	// ErrFilterNotFound is returned by BlockFilter for a known block the
	// block filter index has no filter of: one never connected to the
	// main chain.
	ErrFilterNotFound = errors.New("chain: block filter not found")

	// ErrInvalidateGenesis is returned by InvalidateBlock for the genesis
	// block.
	ErrInvalidateGenesis = errors.New("chain: the genesis block cannot be invalidated")

	// ErrWrongNetwork is returned by New when the database belongs to a
	// network with another genesis block.
	ErrWrongNetwork = errors.New("chain: database belongs to another network")

	// ErrClosed is returned by calls after Close.
	ErrClosed = errors.New("chain: closed")

	// ErrNotWanted is returned by ProcessUnrequestedBlock for a block it
	// does not store: its chain has less work than the tip, or it is too
	// far above it. It is not a rule violation: the block may be valid.
	ErrNotWanted = errors.New("chain: unrequested block not stored")
)

// RejectReason returns Bitcoin Core's reject reason for err ("bad-txnmrklroot",
// "duplicate", ...), or "" when err is not a rule violation.
func RejectReason(err error) string { return consensus.RejectReason(err) }

// isRuleError reports whether err is a rule violation (as opposed to an IO
// or internal failure).
func isRuleError(err error) bool {
	var re consensus.RuleError
	return errors.As(err, &re)
}
