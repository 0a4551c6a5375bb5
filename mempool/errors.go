package mempool

import (
	"errors"
	"fmt"

	"github.com/cairnchain/cairn/mempool/policy"
)

// RejectCode classifies a rejection.
type RejectCode int

const (
	// RejectInvalid: the transaction breaks a consensus rule.
	RejectInvalid RejectCode = iota + 1
	// RejectNonstandard: it breaks a relay policy rule.
	RejectNonstandard
	// RejectInsufficientFee: it pays too little (relay fee, replacement).
	RejectInsufficientFee
	// RejectDuplicate: it is already in the pool.
	RejectDuplicate
	// RejectAlreadyKnown: it is already confirmed in the chain.
	RejectAlreadyKnown
	// RejectMissingInputs: an input is neither unspent nor in the pool.
	RejectMissingInputs
	// RejectConflict: it conflicts with the pool in a way replacement does
	// not allow.
	RejectConflict
	// RejectPremature: it spends a coinbase before maturity. Invalid in the
	// next block, but valid a block later: a peer one block ahead relays it
	// in good faith (Bitcoin Core's TX_PREMATURE_SPEND, never punished).
	RejectPremature
)

// RejectError is a transaction the pool refuses, with Bitcoin Core's reject
// reason.
type RejectError struct {
	Code   RejectCode
	Reason string
	// Detail explains the rejection for people; it may be empty.
	Detail string
	// Err is the underlying error, if any (a consensus RuleError, a
	// *policy.Error).
	Err error
}

// Error implements error.
func (e *RejectError) Error() string {
	if e.Detail == "" {
		return e.Reason
	}
	return e.Reason + " (" + e.Detail + ")"
}

// Unwrap returns the underlying error.
func (e *RejectError) Unwrap() error { return e.Err }

func reject(code RejectCode, reason, format string, args ...any) *RejectError {
	return &RejectError{Code: code, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// nonstandard makes a breach of standardness policy a rejection.
func nonstandard(err error) *RejectError {
	re := &RejectError{Code: RejectNonstandard, Reason: "nonstandard", Detail: err.Error(), Err: err}
	var pe *policy.Error
	if errors.As(err, &pe) {
		re.Reason, re.Detail = pe.Reason, pe.Detail
	}
	return re
}

// Reason returns the reject reason of err, or "" if it is not a rejection.
func Reason(err error) string {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Reason
	}
	return ""
}

// Sentinels of operations that are not rejections.
var (
	// ErrNotInPool is returned by lookups of a transaction the pool does
	// not hold.
	ErrNotInPool = errors.New("mempool: transaction not in the pool")
)
