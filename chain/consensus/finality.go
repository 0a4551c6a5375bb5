package consensus

import "github.com/btcsuite/btcd/wire"

// LockTimeThreshold divides lock times: below it a lock time is a block
// height, at or above it a Unix time.
const LockTimeThreshold = 500_000_000

// BIP68 sequence number fields.
const (
	SequenceLockTimeDisabled    = 1 << 31
	SequenceLockTimeIsSeconds   = 1 << 22
	SequenceLockTimeMask        = 0x0000ffff
	SequenceLockTimeGranularity = 9
)

// IsFinalTx reports whether tx may be included in a block at blockHeight
// whose lock-time cutoff is blockTime (the median time past of the previous
// block once BIP113 is active).
func IsFinalTx(tx *wire.MsgTx, blockHeight int32, blockTime int64) bool {
	if tx.LockTime == 0 {
		return true
	}
	lockTime := int64(tx.LockTime)
	cutoff := blockTime
	if lockTime < LockTimeThreshold {
		cutoff = int64(blockHeight)
	}
	if lockTime < cutoff {
		return true
	}
	for _, in := range tx.TxIn {
		if in.Sequence != wire.MaxTxInSequenceNum {
			return false
		}
	}
	return true
}

// SequenceLock is the BIP68 relative lock of a transaction: it may be
// included only in a block whose height is above MinHeight and whose
// previous block's median time past is above MinTime. -1 means no lock.
type SequenceLock struct {
	MinHeight int32
	MinTime   int64
}

// CalcSequenceLock computes tx's BIP68 lock. inputHeights[i] is the height of
// the block that created the output input i spends (the next block's height
// for an output not yet confirmed), and medianTimeAt(h) returns the median
// time past of the block at height h on the chain being checked.
//
// Transactions whose version, read as unsigned (as Bitcoin Core reads it),
// is below 2, and inputs with the disable flag, impose no lock.
func CalcSequenceLock(tx *wire.MsgTx, inputHeights []int32, medianTimeAt func(height int32) int64) SequenceLock {
	lock := SequenceLock{MinHeight: -1, MinTime: -1}
	if uint32(tx.Version) < 2 || IsCoinBaseTx(tx) {
		return lock
	}
	for i, in := range tx.TxIn {
		seq := in.Sequence
		if seq&SequenceLockTimeDisabled != 0 {
			continue
		}
		coinHeight := inputHeights[i]
		value := int64(seq & SequenceLockTimeMask)
		if seq&SequenceLockTimeIsSeconds != 0 {
			prev := coinHeight - 1
			if prev < 0 {
				prev = 0
			}
			t := medianTimeAt(prev) + value<<SequenceLockTimeGranularity - 1
			if t > lock.MinTime {
				lock.MinTime = t
			}
		} else {
			h := coinHeight + int32(value) - 1
			if h > lock.MinHeight {
				lock.MinHeight = h
			}
		}
	}
	return lock
}

// SequenceLockActive reports whether lock is satisfied by a block at
// blockHeight whose previous block has median time past prevMedianTime.
func SequenceLockActive(lock SequenceLock, blockHeight int32, prevMedianTime int64) bool {
	return lock.MinHeight < blockHeight && lock.MinTime < prevMedianTime
}
