// Package coreshape shapes chain data into Bitcoin Core's JSON results, for
// every server that answers in them (JSON-RPC, the Electrum protocol's
// verbose transactions).
package coreshape

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"strconv"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Coins converts base units to coins, as Core prints amounts: the float
// nearest the exact decimal [consensus.FormatCoins] writes, since btcjson's
// results hold amounts as float64 (JSON prints it as the shortest decimal
// that reads back as that float, 0.1 for 10,000,000 units).
func Coins(units int64) float64 {
	f, _ := strconv.ParseFloat(consensus.FormatCoins(units), 64)
	return f
}

// TxResult is a decoded transaction as Bitcoin Core's decoderawtransaction
// shows it.
type TxResult struct {
	Txid     string      `json:"txid"`
	Hash     string      `json:"hash"`
	Version  uint32      `json:"version"`
	Size     int         `json:"size"`
	Vsize    int         `json:"vsize"`
	Weight   int         `json:"weight"`
	LockTime uint32      `json:"locktime"`
	Vin      []VinResult `json:"vin"`
	Vout     []Vout      `json:"vout"`
	// Fee is shown where the spent outputs are known (from the block's
	// undo data) and the transaction is not a coinbase.
	Fee *float64 `json:"fee,omitempty"`
}

// Vout is one output as Core shows it.
type Vout struct {
	Value        float64      `json:"value"`
	N            uint32       `json:"n"`
	ScriptPubKey ScriptPubKey `json:"scriptPubKey"`
}

// ScriptPubKey is an output script as Core's ScriptToUniv shows it.
type ScriptPubKey struct {
	Asm     string `json:"asm"`
	Desc    string `json:"desc"`
	Hex     string `json:"hex"`
	Address string `json:"address,omitempty"`
	Type    string `json:"type"`
}

// VinResult is one input: a coinbase's script, or the outpoint and
// scriptSig of any other; txinwitness for both when present, as in Core.
type VinResult struct {
	Coinbase  string             `json:"coinbase,omitempty"`
	Txid      string             `json:"txid,omitempty"`
	Vout      *uint32            `json:"vout,omitempty"`
	ScriptSig *btcjson.ScriptSig `json:"scriptSig,omitempty"`
	Witness   []string           `json:"txinwitness,omitempty"`
	Prevout   *Prevout           `json:"prevout,omitempty"`
	Sequence  uint32             `json:"sequence"`
}

// Prevout is the output an input spends, as Core's verbosity 3 (getblock)
// and 2 (getrawtransaction) show it.
type Prevout struct {
	Generated    bool         `json:"generated"` // a coinbase's output
	Height       int32        `json:"height"`
	Value        float64      `json:"value"`
	ScriptPubKey ScriptPubKey `json:"scriptPubKey"`
}

// TxJSON decodes a transaction as decoderawtransaction shows it.
func TxJSON(tx *wire.MsgTx, params *chaincfg.Params) TxResult {
	return TxJSONSpent(tx, params, nil, false)
}

// Spent is an output an input spends, as a block's undo data holds it.
type Spent struct {
	Value    int64
	PkScript []byte
	Height   int32
	Coinbase bool // it is a coinbase's output
}

// TxJSONSpent is TxJSON with what the transaction's inputs spend, one per
// input (nil for a coinbase or where unknown): the fee, as Core's TxToUniv
// shows it with undo data, and with prevouts each input's previous output
// too.
func TxJSONSpent(tx *wire.MsgTx, params *chaincfg.Params, spent []Spent, prevouts bool) TxResult {
	weight := consensus.TxWeight(tx)
	r := TxResult{
		Txid:     consensus.TxHash(tx).String(),
		Hash:     consensus.WitnessHash(tx).String(),
		Version:  uint32(tx.Version),
		Size:     tx.SerializeSize(),
		Vsize:    (weight + 3) / 4,
		Weight:   weight,
		LockTime: tx.LockTime,
		Vin:      make([]VinResult, len(tx.TxIn)),
		Vout:     make([]Vout, len(tx.TxOut)),
	}
	coinbase := consensus.IsCoinBaseTx(tx)
	for i, in := range tx.TxIn {
		v := VinResult{Sequence: in.Sequence}
		if coinbase {
			v.Coinbase = hex.EncodeToString(in.SignatureScript)
		} else {
			v.Txid = in.PreviousOutPoint.Hash.String()
			index := in.PreviousOutPoint.Index
			v.Vout = &index
			v.ScriptSig = &btcjson.ScriptSig{Asm: ScriptAsm(in.SignatureScript, true), Hex: hex.EncodeToString(in.SignatureScript)}
			if prevouts && len(spent) == len(tx.TxIn) {
				e := spent[i]
				v.Prevout = &Prevout{Generated: e.Coinbase, Height: e.Height, Value: Coins(e.Value),
					ScriptPubKey: ScriptPubKeyJSON(e.PkScript, params)}
			}
		}
		for _, w := range in.Witness {
			v.Witness = append(v.Witness, hex.EncodeToString(w))
		}
		r.Vin[i] = v
	}
	for i, out := range tx.TxOut {
		r.Vout[i] = Vout{Value: Coins(out.Value), N: uint32(i), ScriptPubKey: ScriptPubKeyJSON(out.PkScript, params)}
	}
	if !coinbase && len(spent) == len(tx.TxIn) {
		var fee int64
		for _, e := range spent {
			fee += e.Value
		}
		for _, out := range tx.TxOut {
			fee -= out.Value
		}
		f := Coins(fee)
		r.Fee = &f
	}
	return r
}

// ScriptPubKeyJSON describes an output script: asm, the inferred
// descriptor, hex, the address when it has one, and Core's type name.
func ScriptPubKeyJSON(pkScript []byte, params *chaincfg.Params) ScriptPubKey {
	typ, addr := ClassifyScript(pkScript, params)
	return ScriptPubKey{Asm: ScriptAsm(pkScript, false), Desc: Descriptor(pkScript, typ, addr),
		Hex: hex.EncodeToString(pkScript), Address: addr, Type: typ}
}

// ClassifyScript names an output script's type as Bitcoin Core's Solver
// does and returns its address, if it has one. Witness programs are
// classified here because btcd calls versions 2 to 16 nonstandard.
func ClassifyScript(pk []byte, params *chaincfg.Params) (string, string) {
	if txscript.IsWitnessProgram(pk) {
		version, program, err := txscript.ExtractWitnessProgramInfo(pk)
		if err == nil {
			switch {
			case version == 0 && len(program) == 20:
				a, _ := btcutil.NewAddressWitnessPubKeyHash(program, params)
				return "witness_v0_keyhash", a.EncodeAddress()
			case version == 0 && len(program) == 32:
				a, _ := btcutil.NewAddressWitnessScriptHash(program, params)
				return "witness_v0_scripthash", a.EncodeAddress()
			case version == 0:
				return "nonstandard", ""
			case version == 1 && len(program) == 32:
				a, _ := btcutil.NewAddressTaproot(program, params)
				return "witness_v1_taproot", a.EncodeAddress()
			case version == 1 && bytes.Equal(program, anchorProgram):
				return "anchor", witnessAddress(params.Bech32HRPSegwit, version, program)
			}
			return "witness_unknown", witnessAddress(params.Bech32HRPSegwit, version, program)
		}
	}
	class, addrs, _, _ := txscript.ExtractPkScriptAddrs(pk, params)
	addr := ""
	if len(addrs) == 1 && class != txscript.PubKeyTy && class != txscript.MultiSigTy {
		addr = addrs[0].EncodeAddress()
	}
	return scriptType(class), addr
}

// anchorProgram is the witness v1 program of a pay-to-anchor output.
var anchorProgram = []byte{0x4e, 0x73}

// witnessAddress encodes any witness program as a bech32m address (BIP350).
func witnessAddress(hrp string, version int, program []byte) string {
	data, err := bech32.ConvertBits(program, 8, 5, true)
	if err != nil {
		return ""
	}
	a, err := bech32.EncodeM(hrp, append([]byte{byte(version)}, data...))
	if err != nil {
		return ""
	}
	return a
}

// scriptType maps btcd's script classes to Bitcoin Core's type names.
func scriptType(c txscript.ScriptClass) string {
	switch c {
	case txscript.PubKeyHashTy:
		return "pubkeyhash"
	case txscript.ScriptHashTy:
		return "scripthash"
	case txscript.WitnessV0PubKeyHashTy:
		return "witness_v0_keyhash"
	case txscript.WitnessV0ScriptHashTy:
		return "witness_v0_scripthash"
	case txscript.WitnessV1TaprootTy:
		return "witness_v1_taproot"
	case txscript.PubKeyTy:
		return "pubkey"
	case txscript.MultiSigTy:
		return "multisig"
	case txscript.NullDataTy:
		return "nulldata"
	case txscript.WitnessUnknownTy:
		return "witness_unknown"
	}
	return "nonstandard"
}

// Difficulty returns Core's difficulty for bits: the minimum-difficulty
// target 0x1d00ffff divided by the target.
func Difficulty(bits uint32) float64 {
	target, _, _ := consensus.CompactToBig(bits)
	if target.Sign() <= 0 {
		return 0
	}
	limit, _, _ := consensus.CompactToBig(0x1d00ffff)
	f, _ := new(big.Rat).SetFrac(limit, target).Float64()
	return f
}
