package consensus

import (
	"errors"
	"fmt"
)

// ErrorKind identifies a kind of consensus rule violation. It implements
// error so that a RuleError can wrap it and callers can match it with
// errors.Is.
type ErrorKind string

// Error implements the error interface.
func (e ErrorKind) Error() string { return string(e) }

// RejectReason returns Bitcoin Core's reject reason for the kind, such as
// "bad-txnmrklroot", or "" for a kind unknown to the table.
func (e ErrorKind) RejectReason() string { return rejectReasons[e] }

// Kinds of consensus rule violations. Each comment gives the reject reason the
// kind maps to in brackets.
const (
	// ErrHighHash: the header hash is above its target, or the target
	// encoded in bits is negative, zero, overflows or is easier than the
	// network's proof-of-work limit [high-hash].
	ErrHighHash = ErrorKind("ErrHighHash")

	// ErrUnexpectedDifficulty: bits differ from what the difficulty
	// algorithm requires after the parent [bad-diffbits].
	ErrUnexpectedDifficulty = ErrorKind("ErrUnexpectedDifficulty")

	// ErrTimeTooOld: the timestamp is not after the median time of the
	// previous eleven blocks [time-too-old].
	ErrTimeTooOld = ErrorKind("ErrTimeTooOld")

	// ErrTimeTooNew: the timestamp is too far ahead of the local clock
	// [time-too-new]. A block failing only this rule may become valid
	// later and is not remembered as invalid.
	ErrTimeTooNew = ErrorKind("ErrTimeTooNew")

	// ErrBadVersion: the block version is below what an active soft fork
	// (BIP34, BIP66, BIP65) requires [bad-version].
	ErrBadVersion = ErrorKind("ErrBadVersion")

	// ErrBlockLength: the block has no transactions, or its size without
	// witness data exceeds the weight limit on its own [bad-blk-length].
	ErrBlockLength = ErrorKind("ErrBlockLength")

	// ErrFirstTxNotCoinbase: the first transaction is not a coinbase
	// [bad-cb-missing].
	ErrFirstTxNotCoinbase = ErrorKind("ErrFirstTxNotCoinbase")

	// ErrMultipleCoinbases: a transaction other than the first is a
	// coinbase [bad-cb-multiple].
	ErrMultipleCoinbases = ErrorKind("ErrMultipleCoinbases")

	// ErrBadMerkleRoot: the header's merkle root does not commit to the
	// block's transactions [bad-txnmrklroot].
	ErrBadMerkleRoot = ErrorKind("ErrBadMerkleRoot")

	// ErrDuplicateTx: the transaction list repeats its tail so that its
	// merkle root equals that of a shorter list (CVE-2012-2459)
	// [bad-txns-duplicate].
	ErrDuplicateTx = ErrorKind("ErrDuplicateTx")

	// ErrBlockWeightTooHigh: the block weight exceeds MaxBlockWeight
	// [bad-blk-weight].
	ErrBlockWeightTooHigh = ErrorKind("ErrBlockWeightTooHigh")

	// ErrTooManySigOps: the block's sigop cost exceeds MaxBlockSigOpsCost
	// [bad-blk-sigops].
	ErrTooManySigOps = ErrorKind("ErrTooManySigOps")

	// ErrBadCoinbaseScriptLen: the coinbase scriptSig is shorter than 2 or
	// longer than 100 bytes [bad-cb-length].
	ErrBadCoinbaseScriptLen = ErrorKind("ErrBadCoinbaseScriptLen")

	// ErrBadCoinbaseHeight: the coinbase scriptSig does not start with the
	// BIP34 serialization of the block height [bad-cb-height].
	ErrBadCoinbaseHeight = ErrorKind("ErrBadCoinbaseHeight")

	// ErrBadCoinbaseValue: the coinbase pays out more than subsidy plus
	// fees [bad-cb-amount].
	ErrBadCoinbaseValue = ErrorKind("ErrBadCoinbaseValue")

	// ErrBadWitnessNonceSize: the coinbase witness is not a single 32-byte
	// reserved value [bad-witness-nonce-size].
	ErrBadWitnessNonceSize = ErrorKind("ErrBadWitnessNonceSize")

	// ErrBadWitnessCommitment: the coinbase's witness commitment does not
	// match the block's witness merkle root [bad-witness-merkle-match].
	ErrBadWitnessCommitment = ErrorKind("ErrBadWitnessCommitment")

	// ErrUnexpectedWitness: a transaction carries witness data but the
	// block has no witness commitment, or segwit is not active
	// [unexpected-witness].
	ErrUnexpectedWitness = ErrorKind("ErrUnexpectedWitness")

	// ErrNoTxInputs: a transaction has no inputs [bad-txns-vin-empty].
	ErrNoTxInputs = ErrorKind("ErrNoTxInputs")

	// ErrNoTxOutputs: a transaction has no outputs [bad-txns-vout-empty].
	ErrNoTxOutputs = ErrorKind("ErrNoTxOutputs")

	// ErrTxTooBig: a transaction's size without witness data exceeds the
	// block weight limit on its own [bad-txns-oversize].
	ErrTxTooBig = ErrorKind("ErrTxTooBig")

	// ErrBadTxOutValue: an output value is negative [bad-txns-vout-negative].
	ErrBadTxOutValue = ErrorKind("ErrBadTxOutValue")

	// ErrTxOutValueTooLarge: an output value exceeds MaxMoney
	// [bad-txns-vout-toolarge].
	ErrTxOutValueTooLarge = ErrorKind("ErrTxOutValueTooLarge")

	// ErrTxOutTotalTooLarge: the sum of a transaction's outputs exceeds
	// MaxMoney [bad-txns-txouttotal-toolarge].
	ErrTxOutTotalTooLarge = ErrorKind("ErrTxOutTotalTooLarge")

	// ErrDuplicateTxInputs: a transaction spends the same outpoint twice
	// [bad-txns-inputs-duplicate].
	ErrDuplicateTxInputs = ErrorKind("ErrDuplicateTxInputs")

	// ErrBadTxInput: a transaction other than a coinbase spends the null
	// outpoint [bad-txns-prevout-null].
	ErrBadTxInput = ErrorKind("ErrBadTxInput")

	// ErrUnfinalizedTx: a transaction's lock time is not satisfied at the
	// block's height and median time past [bad-txns-nonfinal].
	ErrUnfinalizedTx = ErrorKind("ErrUnfinalizedTx")

	// ErrSequenceLockNotMet: a BIP68 relative lock time is not satisfied
	// [bad-txns-nonfinal].
	ErrSequenceLockNotMet = ErrorKind("ErrSequenceLockNotMet")

	// ErrMissingOrSpentInput: an input spends an output that does not
	// exist or is already spent [bad-txns-inputs-missingorspent].
	ErrMissingOrSpentInput = ErrorKind("ErrMissingOrSpentInput")

	// ErrImmatureSpend: an input spends a coinbase output before it has
	// CoinbaseMaturity confirmations [bad-txns-premature-spend-of-coinbase].
	ErrImmatureSpend = ErrorKind("ErrImmatureSpend")

	// ErrInputValuesOutOfRange: the inputs' values or their sum leave the
	// range 0..MaxMoney [bad-txns-inputvalues-outofrange].
	ErrInputValuesOutOfRange = ErrorKind("ErrInputValuesOutOfRange")

	// ErrAccumulatedFeeOutOfRange: the fees of a block's transactions sum
	// to more than MaxMoney [bad-txns-accumulated-fee-outofrange].
	ErrAccumulatedFeeOutOfRange = ErrorKind("ErrAccumulatedFeeOutOfRange")

	// ErrSpendTooHigh: a transaction spends more than its inputs hold
	// [bad-txns-in-belowout].
	ErrSpendTooHigh = ErrorKind("ErrSpendTooHigh")

	// ErrOverwriteTx: before BIP34, a transaction would overwrite unspent
	// outputs of an earlier transaction with the same txid [bad-txns-BIP30].
	ErrOverwriteTx = ErrorKind("ErrOverwriteTx")

	// ErrScriptValidation: an input's scripts fail under the consensus
	// flags [mandatory-script-verify-flag-failed].
	ErrScriptValidation = ErrorKind("ErrScriptValidation")
)

// Kinds returned by block processing (package chain) rather than by a rule of
// this package. They share the one reject-reason table.
const (
	// ErrMissingParent: the block's parent is unknown; the caller should
	// hold the block and fetch its ancestors [prev-blk-not-found].
	ErrMissingParent = ErrorKind("ErrMissingParent")

	// ErrInvalidAncestor: the block descends from a block known to be
	// invalid [bad-prevblk].
	ErrInvalidAncestor = ErrorKind("ErrInvalidAncestor")

	// ErrDuplicateBlock: the block is already stored [duplicate].
	ErrDuplicateBlock = ErrorKind("ErrDuplicateBlock")

	// ErrKnownInvalid: the block is already known to be invalid
	// [duplicate-invalid].
	ErrKnownInvalid = ErrorKind("ErrKnownInvalid")
)

// rejectReasons maps each kind to Bitcoin Core's reject reason. This table is
// the only place reasons are spelled; RPC and peers read them from here.
var rejectReasons = map[ErrorKind]string{
	ErrHighHash:                 "high-hash",
	ErrUnexpectedDifficulty:     "bad-diffbits",
	ErrTimeTooOld:               "time-too-old",
	ErrTimeTooNew:               "time-too-new",
	ErrBadVersion:               "bad-version",
	ErrBlockLength:              "bad-blk-length",
	ErrFirstTxNotCoinbase:       "bad-cb-missing",
	ErrMultipleCoinbases:        "bad-cb-multiple",
	ErrBadMerkleRoot:            "bad-txnmrklroot",
	ErrDuplicateTx:              "bad-txns-duplicate",
	ErrBlockWeightTooHigh:       "bad-blk-weight",
	ErrTooManySigOps:            "bad-blk-sigops",
	ErrBadCoinbaseScriptLen:     "bad-cb-length",
	ErrBadCoinbaseHeight:        "bad-cb-height",
	ErrBadCoinbaseValue:         "bad-cb-amount",
	ErrBadWitnessNonceSize:      "bad-witness-nonce-size",
	ErrBadWitnessCommitment:     "bad-witness-merkle-match",
	ErrUnexpectedWitness:        "unexpected-witness",
	ErrNoTxInputs:               "bad-txns-vin-empty",
	ErrNoTxOutputs:              "bad-txns-vout-empty",
	ErrTxTooBig:                 "bad-txns-oversize",
	ErrBadTxOutValue:            "bad-txns-vout-negative",
	ErrTxOutValueTooLarge:       "bad-txns-vout-toolarge",
	ErrTxOutTotalTooLarge:       "bad-txns-txouttotal-toolarge",
	ErrDuplicateTxInputs:        "bad-txns-inputs-duplicate",
	ErrBadTxInput:               "bad-txns-prevout-null",
	ErrUnfinalizedTx:            "bad-txns-nonfinal",
	ErrSequenceLockNotMet:       "bad-txns-nonfinal",
	ErrMissingOrSpentInput:      "bad-txns-inputs-missingorspent",
	ErrImmatureSpend:            "bad-txns-premature-spend-of-coinbase",
	ErrInputValuesOutOfRange:    "bad-txns-inputvalues-outofrange",
	ErrSpendTooHigh:             "bad-txns-in-belowout",
	ErrAccumulatedFeeOutOfRange: "bad-txns-accumulated-fee-outofrange",
	ErrOverwriteTx:              "bad-txns-BIP30",
	ErrScriptValidation:         "mandatory-script-verify-flag-failed",
	ErrMissingParent:            "prev-blk-not-found",
	ErrInvalidAncestor:          "bad-prevblk",
	ErrDuplicateBlock:           "duplicate",
	ErrKnownInvalid:             "duplicate-invalid",
}

// RuleError is a consensus rule violation: an ErrorKind plus a description
// of the offending data. Match the kind with errors.Is.
type RuleError struct {
	Err         error
	Description string
}

// Error implements the error interface.
func (e RuleError) Error() string { return e.Description }

// Unwrap returns the underlying ErrorKind.
func (e RuleError) Unwrap() error { return e.Err }

// ruleError builds a RuleError of the given kind with a formatted
// description.
func ruleError(kind ErrorKind, format string, args ...any) RuleError {
	return RuleError{Err: kind, Description: fmt.Sprintf(format, args...)}
}

// RejectReason returns Bitcoin Core's reject reason for err, or "" when err
// does not wrap an ErrorKind of the table.
func RejectReason(err error) string {
	var kind ErrorKind
	if errors.As(err, &kind) {
		return kind.RejectReason()
	}
	return ""
}
