package rpc

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

// This file shapes chain data into Bitcoin Core's JSON results.

// coins converts base units to coins, as Core prints amounts: the float
// nearest the exact decimal [consensus.FormatCoins] writes, since btcjson's
// results hold amounts as float64 (JSON prints it as the shortest decimal
// that reads back as that float, 0.1 for 10,000,000 units).
func coins(units int64) float64 {
	f, _ := strconv.ParseFloat(consensus.FormatCoins(units), 64)
	return f
}

// difficulty returns Core's difficulty for bits: the minimum-difficulty
// target 0x1d00ffff divided by the target.
func difficulty(bits uint32) float64 {
	target, _, _ := consensus.CompactToBig(bits)
	if target.Sign() <= 0 {
		return 0
	}
	limit, _, _ := consensus.CompactToBig(0x1d00ffff)
	f, _ := new(big.Rat).SetFrac(limit, target).Float64()
	return f
}

// chainWorkHex prints cumulative work as Core does: 64 hex digits.
func chainWorkHex(w *big.Int) string { return fmt.Sprintf("%064x", w) }

func bitsHex(bits uint32) string { return strconv.FormatUint(uint64(bits), 16) }

// headerResult is getblockheader's verbose answer.
type headerResult struct {
	btcjson.GetBlockHeaderVerboseResult
	MedianTime int64  `json:"mediantime"`
	ChainWork  string `json:"chainwork"`
	NTx        int    `json:"nTx"`
}

func headerJSON(info *chain.BlockInfo, nTx int) headerResult {
	h := &info.Header
	r := headerResult{
		GetBlockHeaderVerboseResult: btcjson.GetBlockHeaderVerboseResult{
			Hash:          info.Hash.String(),
			Confirmations: int64(info.Confirmations),
			Height:        info.Height,
			Version:       h.Version,
			VersionHex:    fmt.Sprintf("%08x", uint32(h.Version)),
			MerkleRoot:    h.MerkleRoot.String(),
			Time:          h.Timestamp.Unix(),
			Nonce:         uint64(h.Nonce),
			Bits:          bitsHex(h.Bits),
			Difficulty:    difficulty(h.Bits),
		},
		MedianTime: info.MedianTime,
		ChainWork:  chainWorkHex(info.ChainWork),
		NTx:        nTx,
	}
	if info.Height > 0 {
		r.PreviousHash = h.PrevBlock.String()
	}
	if info.NextHash != nil {
		r.NextHash = info.NextHash.String()
	}
	return r
}

// blockResult is getblock's answer at verbosity 1 (Tx holds txids) and 2
// (Tx holds decoded transactions).
type blockResult struct {
	Hash          string  `json:"hash"`
	Confirmations int64   `json:"confirmations"`
	Height        int32   `json:"height"`
	Version       int32   `json:"version"`
	VersionHex    string  `json:"versionHex"`
	MerkleRoot    string  `json:"merkleroot"`
	Time          int64   `json:"time"`
	MedianTime    int64   `json:"mediantime"`
	Nonce         uint32  `json:"nonce"`
	Bits          string  `json:"bits"`
	Difficulty    float64 `json:"difficulty"`
	ChainWork     string  `json:"chainwork"`
	NTx           int     `json:"nTx"`
	PreviousHash  string  `json:"previousblockhash,omitempty"`
	NextHash      string  `json:"nextblockhash,omitempty"`
	StrippedSize  int     `json:"strippedsize"`
	Size          int     `json:"size"`
	Weight        int     `json:"weight"`
	Tx            any     `json:"tx"`
}

func blockJSON(info *chain.BlockInfo, b *wire.MsgBlock, verbosity int, params *chaincfg.Params) blockResult {
	hr := headerJSON(info, len(b.Transactions))
	r := blockResult{
		Hash: hr.Hash, Confirmations: hr.Confirmations, Height: hr.Height, Version: hr.Version,
		VersionHex: hr.VersionHex, MerkleRoot: hr.MerkleRoot, Time: hr.Time, MedianTime: hr.MedianTime,
		Nonce: uint32(hr.Nonce), Bits: hr.Bits, Difficulty: hr.Difficulty, ChainWork: hr.ChainWork,
		NTx: hr.NTx, PreviousHash: hr.PreviousHash, NextHash: hr.NextHash,
		StrippedSize: b.SerializeSizeStripped(), Size: b.SerializeSize(), Weight: consensus.BlockWeight(b),
	}
	if verbosity >= 2 {
		txs := make([]txWithHex, len(b.Transactions))
		for i, tx := range b.Transactions {
			txs[i] = txWithHex{txResult: txJSON(tx, params), Hex: txHex(tx)}
		}
		r.Tx = txs
	} else {
		ids := make([]string, len(b.Transactions))
		for i, tx := range b.Transactions {
			ids[i] = consensus.TxHash(tx).String()
		}
		r.Tx = ids
	}
	return r
}

func txHex(tx *wire.MsgTx) string {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	return hex.EncodeToString(buf.Bytes())
}

// txResult is a decoded transaction as Bitcoin Core's decoderawtransaction
// shows it.
type txResult struct {
	Txid     string         `json:"txid"`
	Hash     string         `json:"hash"`
	Version  uint32         `json:"version"`
	Size     int            `json:"size"`
	Vsize    int            `json:"vsize"`
	Weight   int            `json:"weight"`
	LockTime uint32         `json:"locktime"`
	Vin      []vinResult    `json:"vin"`
	Vout     []btcjson.Vout `json:"vout"`
}

// vinResult is one input: a coinbase's script, or the outpoint and
// scriptSig of any other; txinwitness for both when present, as in Core.
type vinResult struct {
	Coinbase  string             `json:"coinbase,omitempty"`
	Txid      string             `json:"txid,omitempty"`
	Vout      *uint32            `json:"vout,omitempty"`
	ScriptSig *btcjson.ScriptSig `json:"scriptSig,omitempty"`
	Witness   []string           `json:"txinwitness,omitempty"`
	Sequence  uint32             `json:"sequence"`
}

// txWithHex is a decoded transaction with its serialization, as getblock
// (verbosity 2) and getrawtransaction (verbose) show it.
type txWithHex struct {
	txResult
	Hex string `json:"hex"`
}

// txJSON decodes a transaction as decoderawtransaction shows it.
func txJSON(tx *wire.MsgTx, params *chaincfg.Params) txResult {
	weight := consensus.TxWeight(tx)
	r := txResult{
		Txid:     consensus.TxHash(tx).String(),
		Hash:     consensus.WitnessHash(tx).String(),
		Version:  uint32(tx.Version),
		Size:     tx.SerializeSize(),
		Vsize:    (weight + 3) / 4,
		Weight:   weight,
		LockTime: tx.LockTime,
		Vin:      make([]vinResult, len(tx.TxIn)),
		Vout:     make([]btcjson.Vout, len(tx.TxOut)),
	}
	coinbase := consensus.IsCoinBaseTx(tx)
	for i, in := range tx.TxIn {
		v := vinResult{Sequence: in.Sequence}
		if coinbase {
			v.Coinbase = hex.EncodeToString(in.SignatureScript)
		} else {
			asm, _ := txscript.DisasmString(in.SignatureScript)
			v.Txid = in.PreviousOutPoint.Hash.String()
			index := in.PreviousOutPoint.Index
			v.Vout = &index
			v.ScriptSig = &btcjson.ScriptSig{Asm: asm, Hex: hex.EncodeToString(in.SignatureScript)}
		}
		for _, w := range in.Witness {
			v.Witness = append(v.Witness, hex.EncodeToString(w))
		}
		r.Vin[i] = v
	}
	for i, out := range tx.TxOut {
		r.Vout[i] = btcjson.Vout{Value: coins(out.Value), N: uint32(i), ScriptPubKey: scriptPubKeyJSON(out.PkScript, params)}
	}
	return r
}

// scriptPubKeyDoc documents scriptPubKeyJSON's answer as the field key.
func scriptPubKeyDoc(key string) resultDoc {
	return rObj(key, "",
		rStr("asm", "Disassembly of the output script"),
		rHex("hex", "The raw output script bytes, hex-encoded (absent for an empty script)").opt(),
		rStr("address", "The address (only if a well-defined address exists)").opt(),
		rStr("type", "The type (one of: "+scriptTypeNames+")"),
	)
}

// scriptTypeNames are the output types classifyScript names, in Core's
// order.
const scriptTypeNames = "nonstandard, anchor, pubkey, pubkeyhash, scripthash, multisig, nulldata, " +
	"witness_v0_scripthash, witness_v0_keyhash, witness_v1_taproot, witness_unknown"

// txDocFields document txJSON's answer, decoderawtransaction's.
func txDocFields() []resultDoc {
	return []resultDoc{
		rHex("txid", "The transaction id"),
		rHex("hash", "The transaction hash (differs from txid for witness transactions)"),
		rNum("size", "The serialized transaction size"),
		rNum("vsize", "The virtual transaction size (differs from size for witness transactions)"),
		rNum("weight", "The transaction's weight (between vsize*4-3 and vsize*4)"),
		rNum("version", "The version"),
		rTime("locktime", "The lock time"),
		rArr("vin", "", rObj("", "",
			rHex("coinbase", "The coinbase value (only if coinbase transaction)").opt(),
			rHex("txid", "The transaction id (if not coinbase transaction)").opt(),
			rNum("vout", "The output number (if not coinbase transaction)").opt(),
			rObj("scriptSig", "The script (if not coinbase transaction)",
				rStr("asm", "Disassembly of the signature script"),
				rHex("hex", "The raw signature script bytes, hex-encoded"),
			).opt(),
			rArr("txinwitness", "", rHex("", "hex-encoded witness data (if any)")).opt(),
			rNum("sequence", "The script sequence number"),
		)),
		rArr("vout", "", rObj("", "",
			rAmount("value", "The value in "+coinUnit),
			rNum("n", "index"),
			scriptPubKeyDoc("scriptPubKey"),
		)),
	}
}

// scriptPubKeyJSON describes an output script: asm, hex, Core's type name
// and the address when it has one.
func scriptPubKeyJSON(pkScript []byte, params *chaincfg.Params) btcjson.ScriptPubKeyResult {
	asm, _ := txscript.DisasmString(pkScript)
	typ, addr := classifyScript(pkScript, params)
	return btcjson.ScriptPubKeyResult{Asm: asm, Hex: hex.EncodeToString(pkScript), Type: typ, Address: addr}
}

// classifyScript names an output script's type as Bitcoin Core's Solver
// does and returns its address, if it has one. Witness programs are
// classified here because btcd calls versions 2 to 16 nonstandard.
func classifyScript(pk []byte, params *chaincfg.Params) (string, string) {
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
