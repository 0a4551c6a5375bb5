package mempool

import (
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Bitcoin Core's default relay policy.
const (
	// DefaultMinRelayFeeRate is the minimum fee rate, in base units per
	// 1,000 virtual bytes (1 sat/vB).
	DefaultMinRelayFeeRate = 1000
	// MaxStandardTxWeight is the largest standard transaction.
	MaxStandardTxWeight = 400_000
	// MinStandardTxNonWitnessSize is the smallest standard transaction
	// without witness data (CVE-2017-12842).
	MinStandardTxNonWitnessSize = 65
	// MaxStandardScriptSigSize bounds a standard scriptSig.
	MaxStandardScriptSigSize = 1650
	// MaxStandardTxSigOpsCost bounds a standard transaction's sigop cost.
	MaxStandardTxSigOpsCost = consensus.MaxBlockSigOpsCost / 5
	// MaxOpReturnRelay bounds a standard OP_RETURN output script.
	MaxOpReturnRelay = 83
	// DefaultAncestorLimit and DefaultDescendantLimit bound unconfirmed
	// chains (count, the transaction itself included).
	DefaultAncestorLimit   = 25
	DefaultDescendantLimit = 25
	// DefaultChainSizeLimit bounds the virtual size of an unconfirmed
	// chain, in vbytes.
	DefaultChainSizeLimit = 101_000
	// maxReplacements bounds the transactions one replacement evicts.
	maxReplacements = 100
	// dustRelayFeeRate is Core's dust relay fee, per 1,000 vbytes.
	dustRelayFeeRate = 3000
)

// standardScriptFlags are the script checks of relay policy: consensus's
// plus the standardness flags.
const standardScriptFlags = txscript.StandardVerifyFlags

// vsize returns a transaction's virtual size: weight / 4, rounded up.
func vsize(weight int64) int64 { return (weight + 3) / 4 }

// feeFor returns the fee a rate (per 1,000 vbytes) asks of size vbytes; a
// positive rate asks at least one unit (Core's CFeeRate::GetFee).
func feeFor(rate, size int64) int64 {
	fee := rate * size / 1000
	if fee == 0 && rate > 0 && size > 0 {
		fee = 1
	}
	return fee
}

// DustThreshold returns the smallest non-dust value of an output (Core's
// GetDustThreshold at the default dust relay fee).
func DustThreshold(out *wire.TxOut) int64 {
	if isUnspendable(out.PkScript) {
		return 0
	}
	size := int64(out.SerializeSize())
	if isWitnessProgram(out.PkScript) {
		size += 32 + 4 + 1 + (107 / 4) + 4 // input spending it, witness discounted
	} else {
		size += 32 + 4 + 1 + 107 + 4
	}
	return size * dustRelayFeeRate / 1000
}

func isUnspendable(pk []byte) bool {
	return (len(pk) > 0 && pk[0] == txscript.OP_RETURN) || len(pk) > txscript.MaxScriptSize
}

func isWitnessProgram(pk []byte) bool { return txscript.IsWitnessProgram(pk) }

// checkStandard applies Core's IsStandardTx: version, size, scriptSig
// shape, output script types, OP_RETURN count and size, and dust.
func checkStandard(tx *wire.MsgTx, weight int64) *RejectError {
	if tx.Version < 1 || tx.Version > 3 {
		return reject(RejectNonstandard, "version", "version %d is not 1, 2 or 3", tx.Version)
	}
	if weight > MaxStandardTxWeight {
		return reject(RejectNonstandard, "tx-size", "weight %d over %d", weight, MaxStandardTxWeight)
	}
	if tx.SerializeSizeStripped() < MinStandardTxNonWitnessSize {
		return reject(RejectNonstandard, "tx-size-small", "%d bytes without witness, at least %d",
			tx.SerializeSizeStripped(), MinStandardTxNonWitnessSize)
	}
	for i, in := range tx.TxIn {
		if len(in.SignatureScript) > MaxStandardScriptSigSize {
			return reject(RejectNonstandard, "scriptsig-size", "input %d scriptSig of %d bytes", i, len(in.SignatureScript))
		}
		if !txscript.IsPushOnlyScript(in.SignatureScript) {
			return reject(RejectNonstandard, "scriptsig-not-pushonly", "input %d", i)
		}
	}
	nullData := 0
	for i, out := range tx.TxOut {
		pk := out.PkScript
		if len(pk) > 0 && pk[0] == txscript.OP_RETURN {
			// Core's TxoutType::NULL_DATA: OP_RETURN and pushes only.
			if len(pk) > MaxOpReturnRelay || !txscript.IsPushOnlyScript(pk[1:]) {
				return reject(RejectNonstandard, "scriptpubkey", "output %d OP_RETURN of %d bytes or with non-push opcodes", i, len(pk))
			}
			nullData++
			continue
		}
		switch class := txscript.GetScriptClass(pk); {
		case class == txscript.NonStandardTy && !isWitnessProgram(pk):
			return reject(RejectNonstandard, "scriptpubkey", "output %d script is not a standard type", i)
		case class == txscript.MultiSigTy:
			// Bare multisig is standard only as m-of-n, 1 <= m <= n <= 3.
			n, m, err := txscript.CalcMultiSigStats(pk)
			if err != nil || m < 1 || n < m || n > 3 {
				return reject(RejectNonstandard, "scriptpubkey", "output %d bare multisig %d-of-%d", i, m, n)
			}
		}
		if out.Value < DustThreshold(out) {
			return reject(RejectNonstandard, "dust", "output %d of %d below %d", i, out.Value, DustThreshold(out))
		}
	}
	if nullData > 1 {
		return reject(RejectNonstandard, "multi-op-return", "%d OP_RETURN outputs", nullData)
	}
	return nil
}

// checkInputsStandard applies Core's AreInputsStandard: every spent output
// is of a standard type, and a P2SH redeem script has at most 15 sigops.
func checkInputsStandard(tx *wire.MsgTx, prevScripts [][]byte) *RejectError {
	for i, in := range tx.TxIn {
		pk := prevScripts[i]
		class := txscript.GetScriptClass(pk)
		switch {
		case class == txscript.NonStandardTy && !isWitnessProgram(pk):
			return reject(RejectNonstandard, "bad-txns-nonstandard-inputs", "input %d spends a nonstandard script", i)
		case class == txscript.ScriptHashTy:
			if n := txscript.GetPreciseSigOpCount(in.SignatureScript, pk, true); n > 15 {
				return reject(RejectNonstandard, "bad-txns-nonstandard-inputs", "input %d P2SH with %d sigops", i, n)
			}
		}
	}
	return nil
}

// Core's limits on standard witnesses (policy.h).
const (
	maxStandardP2WSHScriptSize    = 3600
	maxStandardP2WSHStackItems    = 100
	maxStandardP2WSHStackItem     = 80
	maxStandardTapscriptStackItem = 80
	annexTag                      = 0x50
)

// checkWitnessStandard applies Core's IsWitnessStandard: no witness for
// inputs that are not witness programs, P2WSH scripts and stacks within
// their limits, no annex, and tapscript stack items within theirs.
func checkWitnessStandard(tx *wire.MsgTx, prevScripts [][]byte) *RejectError {
	for i, in := range tx.TxIn {
		if len(in.Witness) == 0 {
			continue
		}
		pk := prevScripts[i]
		p2sh := false
		if txscript.IsPayToScriptHash(pk) {
			pushes, err := txscript.PushedData(in.SignatureScript)
			if err != nil || len(pushes) == 0 {
				return reject(RejectNonstandard, "bad-witness-nonstandard", "input %d", i)
			}
			pk, p2sh = pushes[len(pushes)-1], true
		}
		version, program, err := txscript.ExtractWitnessProgramInfo(pk)
		if err != nil {
			return reject(RejectNonstandard, "bad-witness-nonstandard", "input %d has a witness but spends no witness program", i)
		}
		stack := in.Witness
		switch {
		case version == 0 && len(program) == 32:
			script := stack[len(stack)-1]
			items := stack[:len(stack)-1]
			if len(script) > maxStandardP2WSHScriptSize || len(items) > maxStandardP2WSHStackItems {
				return reject(RejectNonstandard, "bad-witness-nonstandard", "input %d P2WSH script or stack too large", i)
			}
			for _, item := range items {
				if len(item) > maxStandardP2WSHStackItem {
					return reject(RejectNonstandard, "bad-witness-nonstandard", "input %d P2WSH stack item of %d bytes", i, len(item))
				}
			}
		case version == 1 && len(program) == 32 && !p2sh:
			if len(stack) >= 2 && len(stack[len(stack)-1]) > 0 && stack[len(stack)-1][0] == annexTag {
				return reject(RejectNonstandard, "bad-witness-nonstandard", "input %d carries an annex", i)
			}
			if len(stack) >= 2 {
				// Script path: control block last, script before it.
				for _, item := range stack[:len(stack)-2] {
					if len(item) > maxStandardTapscriptStackItem {
						return reject(RejectNonstandard, "bad-witness-nonstandard", "input %d tapscript stack item of %d bytes", i, len(item))
					}
				}
			}
		}
	}
	return nil
}
