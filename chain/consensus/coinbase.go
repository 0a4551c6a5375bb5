package consensus

import (
	"bytes"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// witnessCommitmentHeader starts the BIP141 commitment output script:
// OP_RETURN, a 36-byte push, and the commitment tag 0xaa21a9ed.
var witnessCommitmentHeader = []byte{txscript.OP_RETURN, txscript.OP_DATA_36, 0xaa, 0x21, 0xa9, 0xed}

// witnessCommitmentScriptLen is the shortest script that holds a commitment.
const witnessCommitmentScriptLen = 38

// IsCoinBaseTx reports whether tx is a coinbase: exactly one input, spending
// the null outpoint (zero hash, index 0xffffffff).
func IsCoinBaseTx(tx *wire.MsgTx) bool {
	if len(tx.TxIn) != 1 {
		return false
	}
	prev := &tx.TxIn[0].PreviousOutPoint
	return prev.Index == wire.MaxPrevOutIndex && prev.Hash == chainhash.Hash{}
}

// CoinbaseHeightPrefix returns the BIP34 height prefix of a coinbase
// scriptSig, serialized as Bitcoin Core's CScript() << height: OP_0 for
// zero, OP_1..OP_16 for 1..16, and a minimal script-number push otherwise.
func CoinbaseHeightPrefix(height int32) []byte {
	switch {
	case height == 0:
		return []byte{txscript.OP_0}
	case height >= 1 && height <= 16:
		return []byte{txscript.OP_1 + byte(height-1)}
	}
	num := scriptNum(int64(height))
	return append([]byte{byte(len(num))}, num...)
}

// scriptNum serializes n as a minimal little-endian sign-magnitude script
// number.
func scriptNum(n int64) []byte {
	if n == 0 {
		return nil
	}
	neg := n < 0
	m := uint64(n)
	if neg {
		m = uint64(-n)
	}
	var out []byte
	for m > 0 {
		out = append(out, byte(m&0xff))
		m >>= 8
	}
	if out[len(out)-1]&0x80 != 0 {
		if neg {
			out = append(out, 0x80)
		} else {
			out = append(out, 0x00)
		}
	} else if neg {
		out[len(out)-1] |= 0x80
	}
	return out
}

// CheckCoinbaseHeight checks the BIP34 rule: the coinbase scriptSig of a
// block at height starts with [CoinbaseHeightPrefix] of that height.
func CheckCoinbaseHeight(coinbase *wire.MsgTx, height int32) error {
	want := CoinbaseHeightPrefix(height)
	if len(coinbase.TxIn) == 0 || !bytes.HasPrefix(coinbase.TxIn[0].SignatureScript, want) {
		return ruleError(ErrBadCoinbaseHeight,
			"coinbase scriptSig does not start with the serialized height %d", height)
	}
	return nil
}

// WitnessCommitmentIndex returns the index of the coinbase output that holds
// the BIP141 witness commitment (the last output that matches), or -1.
func WitnessCommitmentIndex(coinbase *wire.MsgTx) int {
	for i := len(coinbase.TxOut) - 1; i >= 0; i-- {
		script := coinbase.TxOut[i].PkScript
		if len(script) >= witnessCommitmentScriptLen && bytes.HasPrefix(script, witnessCommitmentHeader) {
			return i
		}
	}
	return -1
}

// CalcWitnessCommitment returns the commitment hash for a witness merkle
// root and the coinbase's 32-byte witness reserved value.
func CalcWitnessCommitment(witnessRoot chainhash.Hash, reserved []byte) chainhash.Hash {
	var buf [64]byte
	copy(buf[:32], witnessRoot[:])
	copy(buf[32:], reserved)
	return DoubleHashH(buf[:])
}

// WitnessCommitmentScript returns the coinbase output script that commits
// to the given commitment hash.
func WitnessCommitmentScript(commitment chainhash.Hash) []byte {
	script := make([]byte, 0, witnessCommitmentScriptLen)
	script = append(script, witnessCommitmentHeader...)
	return append(script, commitment[:]...)
}

// BlockHasWitness reports whether any transaction of the block carries
// witness data.
func BlockHasWitness(block *wire.MsgBlock) bool {
	for _, tx := range block.Transactions {
		if tx.HasWitness() {
			return true
		}
	}
	return false
}

// CheckWitnessCommitment checks the BIP141 rules on witness data. With segwit
// active and a commitment output present, the coinbase witness must be one
// 32-byte reserved value and the commitment must match the block's witness
// merkle root. Without a commitment (or before segwit), no transaction may
// carry witness data.
//
// These checks are context free apart from the activation flag.
func CheckWitnessCommitment(block *wire.MsgBlock, segwitActive bool) error {
	if len(block.Transactions) == 0 {
		return ruleError(ErrBlockLength, "block has no transactions")
	}
	coinbase := block.Transactions[0]
	idx := -1
	if segwitActive {
		idx = WitnessCommitmentIndex(coinbase)
	}
	if idx >= 0 {
		if len(coinbase.TxIn) == 0 {
			return ruleError(ErrFirstTxNotCoinbase, "coinbase has no inputs")
		}
		witness := coinbase.TxIn[0].Witness
		if len(witness) != 1 || len(witness[0]) != 32 {
			return ruleError(ErrBadWitnessNonceSize,
				"coinbase witness must be a single 32-byte reserved value")
		}
		root := CalcWitnessMerkleRoot(block.Transactions)
		want := CalcWitnessCommitment(root, witness[0])
		got := coinbase.TxOut[idx].PkScript[len(witnessCommitmentHeader):witnessCommitmentScriptLen]
		if !bytes.Equal(got, want[:]) {
			return ruleError(ErrBadWitnessCommitment,
				"witness commitment %x does not match witness merkle root (want %x)", got, want[:])
		}
		return nil
	}
	for i, tx := range block.Transactions {
		if tx.HasWitness() {
			return ruleError(ErrUnexpectedWitness,
				"transaction %d has witness data but the block commits to none", i)
		}
	}
	return nil
}

// IsMutationError reports whether err is a failure that a third party could
// cause by altering a valid block's body without changing its header (merkle
// and witness malleation). Such a failure must not mark the header invalid:
// the genuine body may still arrive.
func IsMutationError(err error) bool {
	switch RejectReason(err) {
	case "bad-txnmrklroot", "bad-txns-duplicate", "bad-witness-nonce-size",
		"bad-witness-merkle-match", "unexpected-witness":
		return true
	}
	return false
}
