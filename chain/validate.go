package chain

import (
	"fmt"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

func ruleErr(kind consensus.ErrorKind, format string, args ...any) error {
	return consensus.RuleError{Err: kind, Description: fmt.Sprintf(format, args...)}
}

// checkHeaderContext checks the rules of a header that need its ancestors:
// difficulty, median time past, the future-time limit and the minimum
// version of active soft forks.
//
// This function needs the parent's index node; it does not lock.
func checkHeaderContext(h *wire.BlockHeader, parent *blockNode, p *consensus.Params, now int64) error {
	height := parent.height + 1
	if want := consensus.CalcNextRequiredBits(p, parent.height, parent.timestamp); h.Bits != want {
		return ruleErr(ErrUnexpectedDifficulty, "block bits %08x, difficulty algorithm requires %08x", h.Bits, want)
	}
	t := h.Timestamp.Unix()
	if mtp := parent.MedianTimePast(); t <= mtp {
		return ruleErr(ErrTimeTooOld, "block time %d is not after median time past %d", t, mtp)
	}
	if limit := now + int64(p.MaxFutureBlockTime.Seconds()); t > limit {
		return ruleErr(ErrTimeTooNew, "block time %d is more than %v ahead of the local clock %d",
			t, p.MaxFutureBlockTime, now)
	}
	if (h.Version < 2 && height >= p.BIP34Height) ||
		(h.Version < 3 && height >= p.BIP66Height) ||
		(h.Version < 4 && height >= p.BIP65Height) {
		return ruleErr(ErrBadVersion, "bad-version(0x%08x): rejected by an active soft fork", uint32(h.Version))
	}
	return nil
}

// checkBlockContext checks the rules of a block that need its height and
// parent but not the UTXO set (Bitcoin Core's ContextualCheckBlock): every
// transaction final, the BIP34 coinbase height, the witness commitment, and
// the weight limit.
//
// This function needs the parent's index node; it does not lock.
func checkBlockContext(block *wire.MsgBlock, parent *blockNode, p *consensus.Params) error {
	height := parent.height + 1
	cutoff := block.Header.Timestamp.Unix()
	if height >= p.CSVHeight {
		cutoff = parent.MedianTimePast()
	}
	for _, tx := range block.Transactions {
		if !consensus.IsFinalTx(tx, height, cutoff) {
			return ruleErr(ErrUnfinalizedTx, "transaction %v is not final at height %d (lock time %d)",
				consensus.TxHash(tx), height, tx.LockTime)
		}
	}
	if height >= p.BIP34Height {
		if err := consensus.CheckCoinbaseHeight(block.Transactions[0], height); err != nil {
			return err
		}
	}
	if err := consensus.CheckWitnessCommitment(block, height >= p.SegwitHeight); err != nil {
		return err
	}
	if w := consensus.BlockWeight(block); w > consensus.MaxBlockWeight {
		return ruleErr(ErrBlockWeightTooHigh, "block weight %d exceeds %d", w, consensus.MaxBlockWeight)
	}
	return nil
}
