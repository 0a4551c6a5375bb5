package consensus

import (
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// CountLegacySigOps returns the sigops of tx's scriptSigs and output scripts,
// counted the legacy (inaccurate) way. These counts are context free.
func CountLegacySigOps(tx *wire.MsgTx) int {
	n := 0
	for _, in := range tx.TxIn {
		n += txscript.GetSigOpCount(in.SignatureScript)
	}
	for _, out := range tx.TxOut {
		n += txscript.GetSigOpCount(out.PkScript)
	}
	return n
}

// CalcTxSigOpCost returns tx's BIP141 sigop cost: legacy and P2SH sigops
// (when p2sh is set) at WitnessScaleFactor each, plus witness sigops (when
// segwit is set). prevScripts[i] is the output script input i spends; it is
// ignored for a coinbase.
func CalcTxSigOpCost(tx *wire.MsgTx, prevScripts [][]byte, p2sh, segwit bool) int {
	cost := CountLegacySigOps(tx) * WitnessScaleFactor
	if IsCoinBaseTx(tx) {
		return cost
	}
	for i, in := range tx.TxIn {
		pk := prevScripts[i]
		if p2sh && txscript.IsPayToScriptHash(pk) {
			cost += txscript.GetPreciseSigOpCount(in.SignatureScript, pk, true) * WitnessScaleFactor
		}
		if segwit {
			cost += txscript.GetWitnessSigOpCount(in.SignatureScript, pk, in.Witness)
		}
	}
	return cost
}
