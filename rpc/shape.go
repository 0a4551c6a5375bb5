package rpc

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/internal/coreshape"
)

// This file shapes chain data into Bitcoin Core's JSON results.

// difficulty returns Core's difficulty for bits (coreshape.Difficulty).
func difficulty(bits uint32) float64 { return coreshape.Difficulty(bits) }

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

// blockJSON is getblock's answer. spent holds what each transaction's
// inputs spend (nil where the undo data is not available): with verbosity
// 2, each transaction then shows its fee; with 3, its inputs' prevouts too.
func blockJSON(info *chain.BlockInfo, b *wire.MsgBlock, verbosity int, params *chaincfg.Params, spent [][]coreshape.Spent) blockResult {
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
			var sp []coreshape.Spent
			if spent != nil {
				sp = spent[i]
			}
			txs[i] = txWithHex{txResult: coreshape.TxJSONSpent(tx, params, sp, verbosity >= 3), Hex: txHex(tx)}
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

// txWithHex is a decoded transaction with its serialization, as getblock
// (verbosity 2) and getrawtransaction (verbose) show it.
type txWithHex struct {
	txResult
	Hex string `json:"hex"`
}

// scriptPubKeyDoc documents scriptPubKeyJSON's answer as the field key.
func scriptPubKeyDoc(key string) resultDoc {
	return rObj(key, "",
		rStr("asm", "Disassembly of the output script"),
		rStr("desc", "Inferred descriptor for the output"),
		rHex("hex", "The raw output script bytes, hex-encoded"),
		rStr("address", "The address (only if a well-defined address exists)").opt(),
		rStr("type", "The type (one of: "+scriptTypeNames+")"),
	)
}

// prevoutDoc documents an input's prevout, as verbosity 3 of getblock and 2
// of getrawtransaction show it.
func prevoutDoc() resultDoc {
	return rObj("prevout", "(Only if undo information is available)",
		rBool("generated", "Coinbase or not"),
		rNum("height", "The height of the prevout"),
		rAmount("value", "The value in "+coinUnit),
		scriptPubKeyDoc("scriptPubKey"),
	).opt()
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

// The shapes shared with the other servers live in internal/coreshape.
type (
	txResult     = coreshape.TxResult
	vinResult    = coreshape.VinResult
	scriptPubKey = coreshape.ScriptPubKey
)

func coins(units int64) float64 { return coreshape.Coins(units) }

func txJSON(tx *wire.MsgTx, params *chaincfg.Params) txResult { return coreshape.TxJSON(tx, params) }

func scriptPubKeyJSON(pkScript []byte, params *chaincfg.Params) scriptPubKey {
	return coreshape.ScriptPubKeyJSON(pkScript, params)
}

func classifyScript(pk []byte, params *chaincfg.Params) (string, string) {
	return coreshape.ClassifyScript(pk, params)
}
