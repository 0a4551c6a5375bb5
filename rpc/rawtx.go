package rpc

import (
	"context"
	"errors"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/minio/sha256-simd"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/internal/coreshape"
)

// This file holds the "rawtransactions" methods of Bitcoin Core's help
// that look transactions up and decode them; sendrawtransaction and
// testmempoolaccept, which go through the pool, are in mempoolrpc.go.

var getRawTransactionDoc = methodDoc{
	category: catRawTx,
	desc: "By default, this call only returns a transaction if it is in the mempool. If the node keeps the transaction index\n" +
		"(cairn node --txindex) and no blockhash argument is passed, it will return the transaction if it is in the mempool or any block.\n" +
		"If a blockhash argument is passed, it will return the transaction if\n" +
		"the specified block is available and the transaction is in that block.\n\n" +
		"Hint: Use cairn wallet history for wallet transactions.\n\n" +
		"If verbosity is 0 or omitted, returns the serialized transaction as a hex-encoded string.\n" +
		"If verbosity is 1, returns a JSON Object with information about the transaction.\n" +
		"If verbosity is 2, returns a JSON Object with information about the transaction, including fee and prevout information.",
	args: []argDoc{
		reqArg("txid", argStr, "The transaction id"),
		optArg("verbosity", argNum, "0", "0 for hex-encoded data, 1 for a JSON object, and 2 for JSON object with fee and prevout.\n"+
			"A boolean is taken as Core's old verbose: true for 1, false for 0").alias("verbose").oneOf("numeric or boolean"),
		optArg("blockhash", argHex, "", "The block in which to look for the transaction"),
	},
	results: []resultDoc{
		rHex("", "The serialized transaction as a hex-encoded string for 'txid'").when("if verbosity is not set or set to 0"),
		rObj("", "", append([]resultDoc{
			rBool("in_active_chain", "Whether specified block is in the active chain or not (only present with explicit \"blockhash\" argument)").opt(),
			rHex("blockhash", "the block hash (absent for a mempool transaction)").opt(),
			rNum("confirmations", "The confirmations (0 for a block off the active chain)").opt(),
			rTime("blocktime", "The block time expressed in "+unixTime+" (only for a block of the active chain)").opt(),
			rTime("time", "Same as \"blocktime\"").opt(),
			rHex("hex", "The serialized, hex-encoded data for 'txid'"),
		}, txDocFields()...)...).when("if verbosity is set to 1"),
		rObj("", "",
			rElision("Same output as verbosity = 1"),
			rAmount("fee", "transaction fee in "+coinUnit+", omitted if block undo data is not available").opt(),
			rArr("vin", "", rObj("", "utxo being spent, omitted if block undo data is not available",
				rElision("Same output as verbosity = 1"),
				prevoutDoc(),
			)),
		).when("for verbosity = 2"),
	},
	examples: []exampleLine{
		exCLI(`"mytxid"`), exCLI(`"mytxid" 1`), exRPC(`"mytxid", 1`),
		exCLI(`"mytxid" 0 "myblockhash"`), exCLI(`"mytxid" 1 "myblockhash"`), exCLI(`"mytxid" 2 "myblockhash"`),
	},
}

// getRawTransaction answers from the given block or the transaction index.
func (s *Server) getRawTransaction(_ context.Context, a args) (any, error) {
	txid, err := a.hash(0, "txid")
	if err != nil {
		return nil, err
	}
	verbosity := int64(0)
	if a.has(1) {
		// Core accepts a bool or a verbosity number.
		if b, berr := a.boolAt(1, false); berr == nil {
			if b {
				verbosity = 1
			}
		} else if verbosity, err = a.int64At(1, 0); err != nil {
			return nil, errorf(codeType, "verbosity must be a number or a bool")
		}
	}
	verbose := verbosity > 0
	var tx *wire.MsgTx
	var block *wire.MsgBlock // tx's, when verbosity 2 needs it
	var blockHash chainhash.Hash
	inActive := false
	if txid == consensus.TxHash(s.cfg.Chain.Network().Genesis.Transactions[0]) {
		return nil, errorf(codeInvalidAddress, "The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved")
	}
	if a.has(2) {
		blockHash, err = a.hash(2, "blockhash")
		if err != nil {
			return nil, err
		}
		info, err := s.blockInfo(blockHash)
		if err != nil {
			return nil, err
		}
		inActive = info.MainChain
		if block, err = s.cfg.Chain.BlockByHash(blockHash); err != nil {
			return nil, errorf(codeMisc, "Block not available")
		}
		for _, t := range block.Transactions {
			if consensus.TxHash(t) == txid {
				tx = t
				break
			}
		}
		if tx == nil {
			return nil, errorf(codeInvalidAddress, "No such transaction found in the provided block. Use gettransaction for wallet transactions.")
		}
	} else if ptx := s.poolTx(txid); ptx != nil {
		// In the pool: no block, no confirmations.
		if !verbose {
			return txHex(ptx), nil
		}
		return rawTxResult{txWithHex: txWithHex{txResult: txJSON(ptx, s.cfg.Chain.Network().AddressParams()), Hex: txHex(ptx)}}, nil
	} else {
		var loc chain.TxLocation
		tx, loc, err = s.cfg.Chain.FetchTransaction(txid)
		if err != nil {
			if !s.cfg.Chain.TxIndexEnabled() {
				return nil, errorf(codeInvalidAddress, "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries.")
			}
			return nil, errorf(codeInvalidAddress, "No such mempool or blockchain transaction.")
		}
		blockHash = loc.BlockHash
		inActive = true
	}
	if !verbose {
		return txHex(tx), nil
	}
	// Verbosity 2 adds the fee and the prevouts from the block's undo data,
	// where there is some (Core's getrawtransaction: none for a coinbase).
	var spent []coreshape.Spent
	if verbosity >= 2 && !consensus.IsCoinBaseTx(tx) {
		if spent, err = s.txSpent(tx, block, blockHash); err != nil {
			return nil, err
		}
	}
	out := rawTxResult{txWithHex: txWithHex{txResult: coreshape.TxJSONSpent(tx, s.cfg.Chain.Network().AddressParams(), spent, true), Hex: txHex(tx)}}
	if info, err := s.cfg.Chain.BlockInfo(blockHash); err == nil {
		// As Core: confirmations 0 and no times for a block off the
		// active chain.
		out.BlockHash = blockHash.String()
		confirmations := int32(0)
		if info.MainChain {
			confirmations = info.Confirmations
			out.Time = info.Header.Timestamp.Unix()
			out.Blocktime = out.Time
		}
		out.Confirmations = &confirmations
	}
	if a.has(2) {
		out.InActiveChain = &inActive
	}
	return out, nil
}

// txSpent is what tx spends, from the undo data of its block (block, or
// read by hash when nil); nil where the block has none.
func (s *Server) txSpent(tx *wire.MsgTx, block *wire.MsgBlock, hash chainhash.Hash) ([]coreshape.Spent, error) {
	if block == nil {
		var err error
		if block, err = s.cfg.Chain.BlockByHash(hash); err != nil {
			if errors.Is(err, chain.ErrNoBlockData) {
				return nil, nil
			}
			return nil, errorf(codeInternal, "Block data expected but can't be read. This could be due to disk corruption or a conflict with a pruning event.")
		}
	}
	byTx, err := s.spentByTx(hash, block)
	if err != nil || byTx == nil {
		return nil, err
	}
	txid := consensus.TxHash(tx)
	for i, t := range block.Transactions {
		if t == tx || consensus.TxHash(t) == txid {
			return byTx[i], nil
		}
	}
	return nil, nil
}

// rawTxResult is getrawtransaction's verbose answer.
type rawTxResult struct {
	txWithHex
	InActiveChain *bool  `json:"in_active_chain,omitempty"`
	BlockHash     string `json:"blockhash,omitempty"`
	Confirmations *int32 `json:"confirmations,omitempty"`
	Time          int64  `json:"time,omitempty"`
	Blocktime     int64  `json:"blocktime,omitempty"`
}

// poolTx returns a pool transaction, or nil.
func (s *Server) poolTx(txid chainhash.Hash) *wire.MsgTx {
	if s.cfg.Mempool == nil {
		return nil
	}
	tx, err := s.cfg.Mempool.FetchTransaction(txid)
	if err != nil {
		return nil
	}
	return tx
}

// decodeTx decodes a serialized transaction from untrusted bytes, with
// witness data when the bytes hold it (as Core's decoderawtransaction tries
// both). iswitness forces one form when given.
func decodeTx(raw []byte, iswitness *bool) (*wire.MsgTx, error) {
	if iswitness == nil || *iswitness {
		if tx, err := consensus.DecodeTx(raw); err == nil {
			return tx, nil
		}
	}
	if iswitness == nil || !*iswitness {
		if tx, err := consensus.DecodeTxNoWitness(raw); err == nil {
			return tx, nil
		}
	}
	return nil, errorf(codeDeserialization, "TX decode failed")
}

var decodeRawTransactionDoc = methodDoc{
	category: catRawTx,
	desc:     "Return a JSON object representing the serialized, hex-encoded transaction.",
	args: []argDoc{
		reqArg("hexstring", argHex, "The transaction hex string"),
		optArg("iswitness", argBool, "depends on heuristic tests", "Whether the transaction hex is a serialized witness transaction.\n"+
			"If iswitness is not present, witness deserialization is tried first, then non-witness deserialization.\n"+
			"If true, only witness deserialization will be tried.\n"+
			"If false, only non-witness deserialization will be tried.\n"+
			"This boolean should reflect whether the transaction has inputs\n"+
			"(e.g. fully valid, or on-chain transactions), if known by the caller."),
	},
	results:  []resultDoc{rObj("", "", txDocFields()...)},
	examples: exBoth(`"hexstring"`, `"hexstring"`),
}

func (s *Server) decodeRawTransaction(_ context.Context, a args) (any, error) {
	raw, err := a.hexBytes(0, errorf(codeDeserialization, "TX decode failed"))
	if err != nil {
		return nil, err
	}
	var iswitness *bool
	if a.has(1) {
		b, err := a.boolAt(1, true)
		if err != nil {
			return nil, err
		}
		iswitness = &b
	}
	tx, err := decodeTx(raw, iswitness)
	if err != nil {
		return nil, err
	}
	return txJSON(tx, s.cfg.Chain.Network().AddressParams()), nil
}

// decodeScriptResult is decodescript's answer.
type decodeScriptResult struct {
	Asm     string         `json:"asm"`
	Desc    string         `json:"desc"`
	Address string         `json:"address,omitempty"` // before type, as Core's ScriptToUniv writes them
	Type    string         `json:"type"`
	P2SH    string         `json:"p2sh,omitempty"`
	Segwit  *segwitWrapped `json:"segwit,omitempty"`
}

// segwitWrapped describes the script's segwit (P2WSH or P2WPKH) version.
type segwitWrapped struct {
	Asm        string `json:"asm"`
	Desc       string `json:"desc"`
	Hex        string `json:"hex"`
	Address    string `json:"address,omitempty"`
	Type       string `json:"type"`
	P2SHSegwit string `json:"p2sh-segwit,omitempty"`
}

var decodeScriptDoc = methodDoc{
	category: catRawTx,
	desc:     "Decode a hex-encoded script.",
	args:     []argDoc{reqArg("hexstring", argHex, "the hex-encoded script")},
	results: []resultDoc{rObj("", "",
		rStr("asm", "Disassembly of the script"),
		rStr("desc", "Inferred descriptor for the script"),
		rStr("type", "The output type (e.g. "+scriptTypeNames+")"),
		rStr("address", "The address (only if a well-defined address exists)").opt(),
		rStr("p2sh", "address of P2SH script wrapping this redeem script (not returned for types that should not be wrapped)").opt(),
		rObj("segwit", "Result of a witness output script wrapping this redeem script (not returned for types that should not be wrapped)",
			rStr("asm", "Disassembly of the output script"),
			rStr("desc", "Inferred descriptor for the script"),
			rHex("hex", "The raw output script bytes, hex-encoded"),
			rStr("type", "The type of the output script (e.g. witness_v0_keyhash or witness_v0_scripthash)"),
			rStr("address", "The address (only if a well-defined address exists)").opt(),
			rStr("p2sh-segwit", "address of the P2SH script wrapping this witness redeem script").opt(),
		).opt(),
	)},
	examples: exBoth(`"hexstring"`, `"hexstring"`),
}

func (s *Server) decodeScript(_ context.Context, a args) (any, error) {
	script, err := a.hexBytes(0, errorf(codeInvalidParameter, "argument must be hexadecimal string"))
	if err != nil {
		return nil, err
	}
	params := s.cfg.Chain.Network().AddressParams()
	pk := scriptPubKeyJSON(script, params)
	out := decodeScriptResult{Asm: pk.Asm, Desc: pk.Desc, Type: pk.Type, Address: pk.Address}
	if !canWrap(script, pk.Type) {
		return out, nil
	}
	if addr, err := btcutil.NewAddressScriptHash(script, params); err == nil {
		out.P2SH = addr.EncodeAddress()
	}
	if canWrapP2WSH(script, pk.Type) {
		out.Segwit = segwitOf(script, pk.Type, params)
	}
	return out, nil
}

// canWrap is Bitcoin Core's rule for offering a P2SH wrapping of a script:
// a type that may be wrapped, valid opcodes, within the size limit, and no
// tapscript-only opcodes.
func canWrap(script []byte, typ string) bool {
	switch typ {
	case "multisig", "nonstandard", "pubkey", "pubkeyhash", "witness_v0_keyhash", "witness_v0_scripthash":
	default:
		return false
	}
	if len(script) > txscript.MaxScriptSize {
		return false
	}
	tok := txscript.MakeScriptTokenizer(0, script)
	for tok.Next() {
		if op := tok.Opcode(); op == txscript.OP_CHECKSIGADD || isOpSuccess(op) {
			return false
		}
	}
	return tok.Err() == nil
}

// canWrapP2WSH is Core's rule for offering a segwit version: scripts that
// are not already witness programs, with compressed public keys only.
func canWrapP2WSH(script []byte, typ string) bool {
	switch typ {
	case "nonstandard", "pubkeyhash":
		return true
	case "multisig", "pubkey":
		pushes, err := txscript.PushedData(script)
		if err != nil {
			return false
		}
		for _, p := range pushes {
			if len(p) != 1 && len(p) != 33 {
				return false // an uncompressed key cannot be used with segwit
			}
		}
		return true
	}
	return false
}

// isOpSuccess reports BIP342's OP_SUCCESSx opcodes.
func isOpSuccess(op byte) bool {
	return op == 80 || op == 98 || (op >= 126 && op <= 129) || (op >= 131 && op <= 134) ||
		(op >= 137 && op <= 138) || (op >= 141 && op <= 142) || (op >= 149 && op <= 153) ||
		(op >= 187 && op <= 254)
}

// segwitOf returns the segwit version of a script: P2WPKH for P2PKH and
// P2PK, P2WSH for anything else.
func segwitOf(script []byte, typ string, params *chaincfg.Params) *segwitWrapped {
	var addr btcutil.Address
	var err error
	switch typ {
	case "pubkeyhash":
		addr, err = btcutil.NewAddressWitnessPubKeyHash(script[3:23], params)
	case "pubkey":
		pushes, _ := txscript.PushedData(script)
		addr, err = btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pushes[0]), params)
	default:
		h := hashSHA256(script)
		addr, err = btcutil.NewAddressWitnessScriptHash(h[:], params)
	}
	if err != nil {
		return nil
	}
	w, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil
	}
	pk := scriptPubKeyJSON(w, params)
	sw := &segwitWrapped{Asm: pk.Asm, Desc: pk.Desc, Hex: pk.Hex, Type: pk.Type, Address: pk.Address}
	if p2sh, err := btcutil.NewAddressScriptHash(w, params); err == nil {
		sw.P2SHSegwit = p2sh.EncodeAddress()
	}
	return sw
}

// hashSHA256 is SHA-256, with which segwit hashes witness scripts.
func hashSHA256(b []byte) [32]byte { return sha256.Sum256(b) }
