package consensus

import (
	"math/big"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// zeroHash is the all-zero hash of the null outpoint.
var zeroHash chainhash.Hash

// BlockWeight returns the BIP141 weight of a block: its size without
// witness data times three plus its full size.
func BlockWeight(block *wire.MsgBlock) int {
	return block.SerializeSizeStripped()*(WitnessScaleFactor-1) + block.SerializeSize()
}

// TxWeight returns the BIP141 weight of a transaction.
func TxWeight(tx *wire.MsgTx) int {
	return tx.SerializeSizeStripped()*(WitnessScaleFactor-1) + tx.SerializeSize()
}

// CheckTransactionSanity performs the context-free checks of a transaction
// (Bitcoin Core's CheckTransaction): inputs and outputs present, size, output
// values, duplicate inputs and the shape of coinbase and null inputs.
//
// These checks are context free.
func CheckTransactionSanity(tx *wire.MsgTx) error {
	if len(tx.TxIn) == 0 {
		return ruleError(ErrNoTxInputs, "transaction has no inputs")
	}
	if len(tx.TxOut) == 0 {
		return ruleError(ErrNoTxOutputs, "transaction has no outputs")
	}
	if size := tx.SerializeSizeStripped(); size*WitnessScaleFactor > MaxBlockWeight {
		return ruleError(ErrTxTooBig, "transaction size %d without witness exceeds the block weight limit", size)
	}
	var total int64
	for i, out := range tx.TxOut {
		switch {
		case out.Value < 0:
			return ruleError(ErrBadTxOutValue, "output %d has negative value %d", i, out.Value)
		case out.Value > MaxMoney:
			return ruleError(ErrTxOutValueTooLarge, "output %d value %d exceeds max money", i, out.Value)
		}
		total += out.Value
		if total > MaxMoney {
			return ruleError(ErrTxOutTotalTooLarge, "sum of outputs exceeds max money")
		}
	}
	seen := make(map[wire.OutPoint]struct{}, len(tx.TxIn))
	for _, in := range tx.TxIn {
		if _, dup := seen[in.PreviousOutPoint]; dup {
			return ruleError(ErrDuplicateTxInputs, "transaction spends %v twice", in.PreviousOutPoint)
		}
		seen[in.PreviousOutPoint] = struct{}{}
	}
	if IsCoinBaseTx(tx) {
		if n := len(tx.TxIn[0].SignatureScript); n < MinCoinbaseScriptLen || n > MaxCoinbaseScriptLen {
			return ruleError(ErrBadCoinbaseScriptLen,
				"coinbase scriptSig is %d bytes, want %d to %d", n, MinCoinbaseScriptLen, MaxCoinbaseScriptLen)
		}
		return nil
	}
	for i, in := range tx.TxIn {
		if in.PreviousOutPoint.Index == wire.MaxPrevOutIndex && in.PreviousOutPoint.Hash == zeroHash {
			return ruleError(ErrBadTxInput, "input %d of a non-coinbase spends the null outpoint", i)
		}
	}
	return nil
}

// CheckBlockHeaderSanity checks a header's proof of work against its own
// bits and the network's limit.
//
// These checks are context free.
func CheckBlockHeaderSanity(h *wire.BlockHeader, powLimit *big.Int) error {
	return CheckProofOfWork(BlockHash(h), h.Bits, powLimit)
}

// CheckBlockSanity performs the context-free checks of a block (Bitcoin
// Core's CheckBlock): proof of work, merkle root and its CVE-2012-2459
// mutation, duplicate transactions, size, the coinbase position, every transaction's sanity, and the
// legacy sigop limit. On success it returns the block's txids, which callers
// reuse rather than hash again.
//
// These checks are context free.
func CheckBlockSanity(block *wire.MsgBlock, powLimit *big.Int) ([]chainhash.Hash, error) {
	if err := CheckBlockHeaderSanity(&block.Header, powLimit); err != nil {
		return nil, err
	}
	txids := TxHashes(block)
	root, mutated := CalcMerkleRoot(txids)
	if root != block.Header.MerkleRoot {
		return nil, ruleError(ErrBadMerkleRoot, "merkle root %v does not match header's %v",
			root, block.Header.MerkleRoot)
	}
	if mutated {
		return nil, ruleError(ErrDuplicateTx, "transaction list repeats its tail (CVE-2012-2459)")
	}
	// A transaction twice anywhere else makes the block invalid too (the
	// second copy spends spent outputs); btcd's checkBlockSanity refuses it
	// here, so that such a block is never stored, rather than when its
	// connection fails.
	seen := make(map[chainhash.Hash]struct{}, len(txids))
	for _, id := range txids {
		if _, dup := seen[id]; dup {
			return nil, ruleError(ErrDuplicateTx, "transaction %v appears twice", id)
		}
		seen[id] = struct{}{}
	}
	n := len(block.Transactions)
	if n == 0 || n*WitnessScaleFactor > MaxBlockWeight ||
		block.SerializeSizeStripped()*WitnessScaleFactor > MaxBlockWeight {
		return nil, ruleError(ErrBlockLength, "block has %d transactions or exceeds the size limit", n)
	}
	if !IsCoinBaseTx(block.Transactions[0]) {
		return nil, ruleError(ErrFirstTxNotCoinbase, "first transaction is not a coinbase")
	}
	sigOps := 0
	for i, tx := range block.Transactions {
		if i > 0 && IsCoinBaseTx(tx) {
			return nil, ruleError(ErrMultipleCoinbases, "transaction %d is a second coinbase", i)
		}
		if err := CheckTransactionSanity(tx); err != nil {
			return nil, RuleError{Err: err.(RuleError).Err,
				Description: "transaction " + txids[i].String() + ": " + err.Error()}
		}
		sigOps += CountLegacySigOps(tx)
	}
	if sigOps*WitnessScaleFactor > MaxBlockSigOpsCost {
		return nil, ruleError(ErrTooManySigOps, "legacy sigop cost %d exceeds %d",
			sigOps*WitnessScaleFactor, MaxBlockSigOpsCost)
	}
	return txids, nil
}
