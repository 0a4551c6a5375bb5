package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"maps"
	"slices"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// This file holds Core's proofs that transactions are in a block:
// gettxoutproof builds a BIP37 merkle block, verifytxoutproof checks one
// against the active chain.

var getTxOutProofDoc = methodDoc{
	category: catBlockchain,
	desc: "Returns a hex-encoded proof that \"txid\" was included in a block.\n\n" +
		"NOTE: By default this function only works sometimes. This is when there is an\n" +
		"unspent output in the utxo for this transaction. To make it always work,\n" +
		"you need to maintain a transaction index, using the --txindex command line option or\n" +
		"specify the block in which the transaction is included manually (by blockhash).",
	args: []argDoc{
		reqArg("txids", argArr, "The txids to filter", reqArg("txid", argStr, "A transaction hash")),
		optArg("blockhash", argHex, "", "If specified, looks for txid in the block with this hash"),
	},
	results:  []resultDoc{rStr("data", "A string that is a serialized, hex-encoded data for the proof.")},
	examples: exBoth(`'["mytxid"]'`, `["mytxid"]`),
}

// maxOutputsPerBlock is Core's MAX_OUTPUTS_PER_BLOCK: gettxoutproof
// looks for an unspent output of a txid at every index below it.
const maxOutputsPerBlock = consensus.MaxBlockWeight / (9 * consensus.WitnessScaleFactor)

func (s *Server) getTxOutProof(ctx context.Context, a args) (any, error) {
	list, err := a.list(0)
	if err != nil {
		return nil, err
	}
	txids := make(map[chainhash.Hash]bool, len(list))
	for i := range list {
		h, err := list.hash(i, "txid")
		if err != nil {
			return nil, err
		}
		if txids[h] {
			s, _ := list.str(i)
			return nil, errorf(codeInvalidParameter, "Invalid parameter, duplicated txid: %s", s)
		}
		txids[h] = true
	}

	// More than a block can hold are never all in one (Core finds that
	// out after searching for each).
	notAll := errorf(codeInvalidAddress, "Not all transactions found in specified or retrieved block")
	if len(txids) > consensus.MaxBlockTxs {
		return nil, notAll
	}
	var blockHash chainhash.Hash
	if a.has(1) {
		if blockHash, err = a.hash(1, "blockhash"); err != nil {
			return nil, err
		}
		if _, err := s.blockInfo(blockHash); err != nil {
			return nil, err
		}
	} else if blockHash, err = s.txBlock(ctx, txids); err != nil {
		return nil, err
	}
	block, err := s.readBlock(blockHash)
	if err != nil {
		return nil, err
	}
	ids := make([]chainhash.Hash, len(block.Transactions))
	matched := 0
	for i, tx := range block.Transactions {
		ids[i] = consensus.TxHash(tx)
		if txids[ids[i]] {
			matched++
		}
	}
	if matched != len(txids) {
		return nil, notAll
	}
	mb := consensus.NewMerkleBlock(&block.Header, ids, func(i int) bool { return txids[ids[i]] })
	var buf bytes.Buffer
	if err := mb.BtcEncode(&buf, wire.ProtocolVersion, wire.BaseEncoding); err != nil {
		return nil, errorf(codeInternal, "%v", err)
	}
	return hex.EncodeToString(buf.Bytes()), nil
}

// txBlock finds the block of txids as Core's gettxoutproof does without a
// block hash: the block of an unspent output of any of them, else the
// transaction index's block of the first, in the order of Core's std::set
// (their bytes as stored). Each txid without an unspent output costs up to
// maxOutputsPerBlock lookups, so the search stops when the caller goes.
func (s *Server) txBlock(ctx context.Context, txids map[chainhash.Hash]bool) (chainhash.Hash, error) {
	if len(txids) == 0 {
		return chainhash.Hash{}, errorf(codeInvalidParameter, "Invalid parameter, txids must not be empty without a blockhash")
	}
	order := slices.SortedFunc(maps.Keys(txids), func(x, y chainhash.Hash) int { return bytes.Compare(x[:], y[:]) })
	for _, txid := range order {
		if ctx.Err() != nil {
			return chainhash.Hash{}, errorf(codeMisc, "gettxoutproof: %v", ctx.Err())
		}
		if h, ok := s.unspentOutputBlock(txid); ok {
			return h, nil
		}
	}
	if _, loc, err := s.cfg.Chain.FetchTransaction(order[0]); err == nil {
		return loc.BlockHash, nil
	}
	return chainhash.Hash{}, errorf(codeInvalidAddress, "Transaction not yet in block")
}

// unspentOutputBlock is the main-chain block of an unspent output of txid,
// found as Core's AccessByTxid finds one: by trying every output index a
// block could hold, lowest first.
func (s *Server) unspentOutputBlock(txid chainhash.Hash) (chainhash.Hash, bool) {
	for n := uint32(0); n < maxOutputsPerBlock; n++ {
		e, err := s.cfg.Chain.FetchUtxoEntry(wire.OutPoint{Hash: txid, Index: n})
		if err != nil || e == nil {
			continue
		}
		h, err := s.cfg.Chain.BlockHashByHeight(e.Height)
		return h, err == nil
	}
	return chainhash.Hash{}, false
}

var verifyTxOutProofDoc = methodDoc{
	category: catBlockchain,
	desc: "Verifies that a proof points to a transaction in a block, returning the transaction it commits to\n" +
		"and throwing an RPC error if the block is not in our best chain",
	args: []argDoc{reqArg("proof", argHex, "The hex-encoded proof generated by gettxoutproof")},
	results: []resultDoc{rArr("", "",
		rHex("", "The txid(s) which the proof commits to, or empty array if the proof cannot be validated."))},
	examples: exBoth(`"proof"`, `"proof"`),
}

func (s *Server) verifyTxOutProof(_ context.Context, a args) (any, error) {
	raw, err := a.hexBytes(0, errorf(codeInvalidParameter, "proof must be hexadecimal string"))
	if err != nil {
		return nil, err
	}
	var mb wire.MsgMerkleBlock
	r := bytes.NewReader(raw)
	if err := mb.BtcDecode(r, wire.ProtocolVersion, wire.BaseEncoding); err != nil || r.Len() != 0 {
		return nil, errorf(codeDeserialization, "proof decode failed")
	}
	out := []string{}
	root, matches, _, err := consensus.ExtractMatches(&mb)
	if err != nil || root != mb.Header.MerkleRoot {
		return out, nil
	}
	hash := mb.Header.BlockHash()
	info, err := s.cfg.Chain.BlockInfo(hash)
	nTx := 0
	if err == nil && info.MainChain {
		nTx = s.blockTxCount(hash)
	}
	if nTx == 0 {
		return nil, errorf(codeInvalidAddress, "Block not found in chain")
	}
	if nTx == int(mb.Transactions) {
		for _, h := range matches {
			out = append(out, h.String())
		}
	}
	return out, nil
}

// blockTxCount is the number of transactions of a stored block, read from
// its serialization without decoding it; 0 where its data is not kept.
func (s *Server) blockTxCount(hash chainhash.Hash) int {
	raw, err := s.cfg.Chain.RawBlock(hash)
	if err != nil || len(raw) < wire.MaxBlockHeaderPayload {
		return 0
	}
	n, err := wire.ReadVarInt(bytes.NewReader(raw[wire.MaxBlockHeaderPayload:]), 0)
	if err != nil {
		return 0
	}
	return int(n)
}
