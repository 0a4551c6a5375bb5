// Package policy holds Bitcoin Core's standardness policy: the limits and
// fee rates under which a node relays and pools a transaction (Core's
// policy/policy.h and policy/rbf.h), and the checks that need nothing but
// the transaction and the scripts it spends.
//
// It is a leaf: it reads no chain or pool state, so that a wallet can price
// and shape its transactions as the network will judge them without
// linking the validator, the UTXO set or the pool.
package policy

import (
	"fmt"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Bitcoin Core's default relay policy.
const (
	// DefaultMinRelayFeeRate is the minimum fee rate, in base units per
	// 1,000 virtual bytes (1 sat/vB).
	DefaultMinRelayFeeRate = 1000
	// IncrementalRelayFeeRate is the fee rate, per 1,000 vbytes, that a
	// replacement must add for its own size, and by which a full pool
	// raises its minimum above the fee rate of what it evicted.
	IncrementalRelayFeeRate = 1000
	// DustRelayFeeRate is the fee rate, per 1,000 vbytes, at which an
	// output costs more to spend than it is worth (Core's dust relay fee).
	DustRelayFeeRate = 3000
	// MaxStandardTxWeight is the largest standard transaction.
	MaxStandardTxWeight = 400_000
	// MinStandardTxNonWitnessSize is the smallest standard transaction
	// without witness data (CVE-2017-12842).
	MinStandardTxNonWitnessSize = 65
	// MaxStandardScriptSigSize bounds a standard scriptSig.
	MaxStandardScriptSigSize = 1650
	// MaxStandardTxSigOpsCost bounds a standard transaction's sigop cost.
	MaxStandardTxSigOpsCost = consensus.MaxBlockSigOpsCost / 5
	// MaxP2SHSigOps bounds the sigops of a standard P2SH redeem script.
	MaxP2SHSigOps = 15
	// MaxOpReturnRelay bounds a standard OP_RETURN output script.
	MaxOpReturnRelay = 83
	// DefaultAncestorLimit and DefaultDescendantLimit bound unconfirmed
	// chains (count, the transaction itself included).
	DefaultAncestorLimit   = 25
	DefaultDescendantLimit = 25
	// DefaultChainSizeLimit bounds the virtual size of an unconfirmed
	// chain, in vbytes.
	DefaultChainSizeLimit = 101_000
	// MaxReplacements bounds the transactions one replacement evicts
	// (BIP125 rule 5).
	MaxReplacements = 100
)

// Core's limits on standard witnesses.
const (
	// MaxStandardP2WSHScriptSize bounds a standard P2WSH witness script.
	MaxStandardP2WSHScriptSize = 3600
	// MaxStandardP2WSHStackItems bounds the stack items of a standard
	// P2WSH witness, the script excluded.
	MaxStandardP2WSHStackItems = 100
	// MaxStandardP2WSHStackItemSize bounds each of those items.
	MaxStandardP2WSHStackItemSize = 80
	// MaxStandardTapscriptStackItemSize bounds each stack item of a
	// standard tapscript spend.
	MaxStandardTapscriptStackItemSize = 80
)

// annexTag marks the last item of a taproot witness as an annex (BIP341).
const annexTag = 0x50

// StandardScriptFlags are the script checks of relay policy: consensus's
// plus the standardness flags.
const StandardScriptFlags = txscript.StandardVerifyFlags

// Error is a transaction that breaks a standardness rule: Bitcoin Core's
// reject reason, and a detail for people.
type Error struct {
	// Reason is Core's reject reason ("dust", "tx-size", ...).
	Reason string
	// Detail explains the breach; it may be empty.
	Detail string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Reason
	}
	return e.Reason + " (" + e.Detail + ")"
}

func nonstandard(reason, format string, args ...any) error {
	return &Error{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// VirtualSize returns a transaction's virtual size: weight / 4, rounded up
// (Core's GetVirtualTransactionSize without the sigop adjustment).
func VirtualSize(weight int64) int64 { return (weight + 3) / 4 }

// Fee returns the fee a rate (per 1,000 vbytes) asks of vsize vbytes; a
// positive rate asks at least one unit (Core's CFeeRate::GetFee).
func Fee(rate, vsize int64) int64 {
	fee := rate * vsize / 1000
	if fee == 0 && rate > 0 && vsize > 0 {
		fee = 1
	}
	return fee
}

// DustThreshold returns the smallest non-dust value of an output (Core's
// GetDustThreshold at the default dust relay fee): what spending it costs
// at DustRelayFeeRate. Provably unspendable outputs have none.
func DustThreshold(out *wire.TxOut) int64 {
	if isUnspendable(out.PkScript) {
		return 0
	}
	size := int64(out.SerializeSize())
	if txscript.IsWitnessProgram(out.PkScript) {
		size += 32 + 4 + 1 + (107 / 4) + 4 // input spending it, witness discounted
	} else {
		size += 32 + 4 + 1 + 107 + 4
	}
	return size * DustRelayFeeRate / 1000
}

// IsDust reports whether an output is worth less than its dust threshold
// (Core's IsDust).
func IsDust(out *wire.TxOut) bool { return out.Value < DustThreshold(out) }

// isUnspendable reports whether a script can never be spent: it starts
// with OP_RETURN or is over the script size limit.
func isUnspendable(pk []byte) bool {
	return (len(pk) > 0 && pk[0] == txscript.OP_RETURN) || len(pk) > txscript.MaxScriptSize
}

// CheckTransactionStandard applies Core's IsStandardTx to a transaction of
// the given weight: version, size, scriptSig shape, output script types,
// OP_RETURN count and size, and dust. A breach is an *Error.
func CheckTransactionStandard(tx *wire.MsgTx, weight int64) error {
	if tx.Version < 1 || tx.Version > 3 {
		return nonstandard("version", "version %d is not 1, 2 or 3", tx.Version)
	}
	if weight > MaxStandardTxWeight {
		return nonstandard("tx-size", "weight %d over %d", weight, MaxStandardTxWeight)
	}
	if tx.SerializeSizeStripped() < MinStandardTxNonWitnessSize {
		return nonstandard("tx-size-small", "%d bytes without witness, at least %d",
			tx.SerializeSizeStripped(), MinStandardTxNonWitnessSize)
	}
	for i, in := range tx.TxIn {
		if len(in.SignatureScript) > MaxStandardScriptSigSize {
			return nonstandard("scriptsig-size", "input %d scriptSig of %d bytes", i, len(in.SignatureScript))
		}
		if !txscript.IsPushOnlyScript(in.SignatureScript) {
			return nonstandard("scriptsig-not-pushonly", "input %d", i)
		}
	}
	nullData := 0
	for i, out := range tx.TxOut {
		pk := out.PkScript
		if len(pk) > 0 && pk[0] == txscript.OP_RETURN {
			// Core's TxoutType::NULL_DATA: OP_RETURN and pushes only.
			if len(pk) > MaxOpReturnRelay || !txscript.IsPushOnlyScript(pk[1:]) {
				return nonstandard("scriptpubkey", "output %d OP_RETURN of %d bytes or with non-push opcodes", i, len(pk))
			}
			nullData++
			continue
		}
		switch class := txscript.GetScriptClass(pk); {
		case class == txscript.NonStandardTy && !txscript.IsWitnessProgram(pk):
			return nonstandard("scriptpubkey", "output %d script is not a standard type", i)
		case class == txscript.MultiSigTy:
			// Bare multisig is standard only as m-of-n, 1 <= m <= n <= 3.
			n, m, err := txscript.CalcMultiSigStats(pk)
			if err != nil || m < 1 || n < m || n > 3 {
				return nonstandard("scriptpubkey", "output %d bare multisig %d-of-%d", i, m, n)
			}
		}
		if IsDust(out) {
			return nonstandard("dust", "output %d of %d below %d", i, out.Value, DustThreshold(out))
		}
	}
	if nullData > 1 {
		return nonstandard("multi-op-return", "%d OP_RETURN outputs", nullData)
	}
	return nil
}

// CheckInputsStandard applies Core's AreInputsStandard: every spent output,
// whose script prevScripts holds by input, is of a standard type, and a
// P2SH redeem script has at most MaxP2SHSigOps sigops. A breach is an
// *Error.
func CheckInputsStandard(tx *wire.MsgTx, prevScripts [][]byte) error {
	for i, in := range tx.TxIn {
		pk := prevScripts[i]
		class := txscript.GetScriptClass(pk)
		switch {
		case class == txscript.NonStandardTy && !txscript.IsWitnessProgram(pk):
			return nonstandard("bad-txns-nonstandard-inputs", "input %d spends a nonstandard script", i)
		case class == txscript.ScriptHashTy:
			if n := txscript.GetPreciseSigOpCount(in.SignatureScript, pk, true); n > MaxP2SHSigOps {
				return nonstandard("bad-txns-nonstandard-inputs", "input %d P2SH with %d sigops", i, n)
			}
		}
	}
	return nil
}

// CheckWitnessStandard applies Core's IsWitnessStandard: no witness for
// inputs that are not witness programs, P2WSH scripts and stacks within
// their limits, no annex, and tapscript stack items within theirs.
// prevScripts holds the spent output scripts by input. A breach is an
// *Error.
func CheckWitnessStandard(tx *wire.MsgTx, prevScripts [][]byte) error {
	for i, in := range tx.TxIn {
		if len(in.Witness) == 0 {
			continue
		}
		pk := prevScripts[i]
		p2sh := false
		if txscript.IsPayToScriptHash(pk) {
			pushes, err := txscript.PushedData(in.SignatureScript)
			if err != nil || len(pushes) == 0 {
				return nonstandard("bad-witness-nonstandard", "input %d", i)
			}
			pk, p2sh = pushes[len(pushes)-1], true
		}
		version, program, err := txscript.ExtractWitnessProgramInfo(pk)
		if err != nil {
			return nonstandard("bad-witness-nonstandard", "input %d has a witness but spends no witness program", i)
		}
		stack := in.Witness
		switch {
		case version == 0 && len(program) == 32:
			script := stack[len(stack)-1]
			items := stack[:len(stack)-1]
			if len(script) > MaxStandardP2WSHScriptSize || len(items) > MaxStandardP2WSHStackItems {
				return nonstandard("bad-witness-nonstandard", "input %d P2WSH script or stack too large", i)
			}
			for _, item := range items {
				if len(item) > MaxStandardP2WSHStackItemSize {
					return nonstandard("bad-witness-nonstandard", "input %d P2WSH stack item of %d bytes", i, len(item))
				}
			}
		case version == 1 && len(program) == 32 && !p2sh:
			if len(stack) >= 2 && len(stack[len(stack)-1]) > 0 && stack[len(stack)-1][0] == annexTag {
				return nonstandard("bad-witness-nonstandard", "input %d carries an annex", i)
			}
			if len(stack) >= 2 {
				// Script path: control block last, script before it.
				for _, item := range stack[:len(stack)-2] {
					if len(item) > MaxStandardTapscriptStackItemSize {
						return nonstandard("bad-witness-nonstandard", "input %d tapscript stack item of %d bytes", i, len(item))
					}
				}
			}
		}
	}
	return nil
}
