package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/internal/coreshape"
)

// This file holds the "blockchain" methods of Bitcoin Core's help that
// read and steer the block chain; the mempool's are in mempoolrpc.go.

// blockchainInfo is getblockchaininfo's answer.
type blockchainInfo struct {
	Chain                string  `json:"chain"`
	Blocks               int32   `json:"blocks"`
	Headers              int32   `json:"headers"`
	BestBlockHash        string  `json:"bestblockhash"`
	Difficulty           float64 `json:"difficulty"`
	Time                 int64   `json:"time"`
	MedianTime           int64   `json:"mediantime"`
	VerificationProgress float64 `json:"verificationprogress"`
	InitialBlockDownload bool    `json:"initialblockdownload"`
	ChainWork            string  `json:"chainwork"`
	SizeOnDisk           int64   `json:"size_on_disk"`
	Pruned               bool    `json:"pruned"`
	PruneHeight          *int32  `json:"pruneheight,omitempty"`
	AutomaticPruning     *bool   `json:"automatic_pruning,omitempty"`
	PruneTargetSize      *int64  `json:"prune_target_size,omitempty"`
	Warnings             string  `json:"warnings"`
}

var getBlockchainInfoDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns an object containing various state info regarding blockchain processing.",
	results: []resultDoc{rObj("", "",
		rStr("chain", "current network name (main, test, regtest, or a custom network's name)"),
		rNum("blocks", "the height of the most-work fully-validated chain. The genesis block has height 0"),
		rNum("headers", "the current number of headers we have validated"),
		rStr("bestblockhash", "the hash of the currently best block"),
		rNum("difficulty", "the current difficulty"),
		rTime("time", "The block time expressed in "+unixTime),
		rTime("mediantime", "The median block time expressed in "+unixTime),
		rNum("verificationprogress", "estimate of verification progress [0..1]"),
		rBool("initialblockdownload", "(debug information) estimate of whether this node is in Initial Block Download mode"),
		rHex("chainwork", "total amount of work in active chain, in hexadecimal"),
		rNum("size_on_disk", "the estimated size of the block and undo files and the chain database on disk"),
		rBool("pruned", "if the blocks are subject to pruning"),
		rNum("pruneheight", "height of the last block pruned, plus one (only present if pruning is enabled)").opt(),
		rBool("automatic_pruning", "whether automatic pruning is enabled (only present if pruning is enabled)").opt(),
		rNum("prune_target_size", "the target size used by pruning (only present if automatic pruning is enabled)").opt(),
		rStr("warnings", "any network and blockchain warnings"),
	)},
	examples: exBoth("", ""),
}

func (s *Server) getBlockchainInfo(context.Context, args) (any, error) {
	best := s.cfg.Chain.BestSnapshot()
	headers := s.cfg.Chain.HeaderCount()
	progress := 1.0
	if headers > 0 && best.Height < headers {
		progress = float64(best.Height) / float64(headers)
	}
	info := blockchainInfo{
		Chain:                s.cfg.Chain.Network().Name,
		Blocks:               best.Height,
		Headers:              headers,
		BestBlockHash:        best.Hash.String(),
		Difficulty:           difficulty(best.Bits),
		Time:                 best.Time.Unix(),
		MedianTime:           best.MedianTime.Unix(),
		VerificationProgress: progress,
		InitialBlockDownload: s.cfg.Chain.IsInitialBlockDownload(),
		ChainWork:            chainWorkHex(best.ChainWork),
		SizeOnDisk:           s.cfg.Chain.DiskSize(),
	}
	if ps := s.cfg.Chain.PruneState(); ps.Enabled {
		info.Pruned = true
		info.PruneHeight, info.AutomaticPruning = &ps.Height, &ps.Automatic
		if ps.Automatic {
			info.PruneTargetSize = &ps.Target
		}
	}
	return info, nil
}

var getBlockCountDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns the height of the most-work fully-validated chain.\nThe genesis block has height 0.",
	results:  []resultDoc{rNum("", "The current block count")},
	examples: exBoth("", ""),
}

func (s *Server) getBlockCount(context.Context, args) (any, error) {
	return s.cfg.Chain.BestSnapshot().Height, nil
}

var getBestBlockHashDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns the hash of the best (tip) block in the most-work fully-validated chain.",
	results:  []resultDoc{rHex("", "the block hash, hex-encoded")},
	examples: exBoth("", ""),
}

func (s *Server) getBestBlockHash(context.Context, args) (any, error) {
	return s.cfg.Chain.BestSnapshot().Hash.String(), nil
}

var getDifficultyDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns the proof-of-work difficulty as a multiple of the minimum difficulty.",
	results:  []resultDoc{rNum("", "the proof-of-work difficulty as a multiple of the minimum difficulty.")},
	examples: exBoth("", ""),
}

func (s *Server) getDifficulty(context.Context, args) (any, error) {
	return difficulty(s.cfg.Chain.BestSnapshot().Bits), nil
}

var getBlockHashDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns hash of block in best-block-chain at height provided.",
	args:     []argDoc{reqArg("height", argNum, "The height index")},
	results:  []resultDoc{rHex("", "The block hash")},
	examples: exBoth("1000", "1000"),
}

func (s *Server) getBlockHash(_ context.Context, a args) (any, error) {
	height, err := a.int32At(0, 0)
	if err != nil {
		return nil, err
	}
	hash, err := s.cfg.Chain.BlockHashByHeight(height)
	if err != nil {
		return nil, errorf(codeInvalidParameter, "Block height out of range")
	}
	return hash.String(), nil
}

// blockInfo looks a block up, mapping "unknown" to Core's -5.
func (s *Server) blockInfo(hash chainhash.Hash) (*chain.BlockInfo, error) {
	info, err := s.cfg.Chain.BlockInfo(hash)
	if errors.Is(err, chain.ErrUnknownBlock) {
		return nil, errorf(codeInvalidAddress, "Block not found")
	}
	return info, err
}

var getBlockDoc = methodDoc{
	category: catBlockchain,
	desc: "If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'.\n" +
		"If verbosity is 1, returns an Object with information about block <hash>.\n" +
		"If verbosity is 2, returns an Object with information about block <hash> and information about each transaction.\n" +
		"If verbosity is 3, returns an Object with information about block <hash> and information about each transaction, including prevout information for inputs (only where the block's undo data is kept: not pruned, and connected once).",
	args: []argDoc{
		reqArg("blockhash", argHex, "The block hash"),
		optArg("verbosity", argNum, "1", "0 for hex-encoded data, 1 for a JSON object, 2 for JSON object with transaction data, and 3 for JSON object with transaction data including prevout information for inputs.\n"+
			"A boolean is taken as Core's old verbose: true for 1, false for 0").alias("verbose").oneOf("numeric or boolean"),
	},
	results: []resultDoc{
		rHex("", "A string that is serialized, hex-encoded data for block 'hash'").when("for verbosity = 0"),
		rObj("", "",
			rHex("hash", "the block hash (same as provided)"),
			rNum("confirmations", "The number of confirmations, or -1 if the block is not on the main chain"),
			rNum("size", "The block size"),
			rNum("strippedsize", "The block size excluding witness data"),
			rNum("weight", "The block weight as defined in BIP 141"),
			rNum("height", "The block height or index"),
			rNum("version", "The block version"),
			rHex("versionHex", "The block version formatted in hexadecimal"),
			rHex("merkleroot", "The merkle root"),
			rArr("tx", "The transaction ids", rHex("", "The transaction id")),
			rTime("time", "The block time expressed in "+unixTime),
			rTime("mediantime", "The median block time expressed in "+unixTime),
			rNum("nonce", "The nonce"),
			rHex("bits", "The bits"),
			rNum("difficulty", "The difficulty"),
			rHex("chainwork", "Expected number of hashes required to produce the chain up to this block (in hex)"),
			rNum("nTx", "The number of transactions in the block"),
			rHex("previousblockhash", "The hash of the previous block (absent for the genesis block)").opt(),
			rHex("nextblockhash", "The hash of the next block (only for a block of the main chain below its tip)").opt(),
		).when("for verbosity = 1"),
		rObj("", "",
			rElision("Same output as verbosity = 1"),
			rArr("tx", "", rObj("", "",
				rElision("The transactions in the format of the getrawtransaction RPC, without its block fields. Different from verbosity = 1 \"tx\" result"),
				rAmount("fee", "The transaction fee in "+coinUnit+", omitted if block undo data is not available").opt(),
			)),
		).when("for verbosity = 2"),
		rObj("", "",
			rElision("Same output as verbosity = 2"),
			rArr("tx", "", rObj("", "",
				rArr("vin", "", rObj("", "",
					rElision("The same output as verbosity = 2"),
					prevoutDoc(),
				)),
			)),
		).when("for verbosity = 3"),
	},
	examples: exBoth(`"`+exampleHash+`"`, `"`+exampleHash+`"`),
}

func (s *Server) getBlock(_ context.Context, a args) (any, error) {
	hash, err := a.hash(0, "blockhash")
	if err != nil {
		return nil, err
	}
	verbosity := int64(1)
	if a.has(1) {
		// Core also takes the old boolean "verbose".
		if b, berr := a.boolAt(1, true); berr == nil {
			if !b {
				verbosity = 0
			}
		} else if verbosity, err = a.int64At(1, 1); err != nil {
			return nil, errorf(codeType, "verbosity must be a number (0 to 3) or a bool")
		}
	}
	if verbosity < 0 || verbosity > 3 {
		return nil, errorf(codeInvalidParameter, "Verbosity must be in range 0..3")
	}
	info, err := s.blockInfo(hash)
	if err != nil {
		return nil, err
	}
	// Verbosity 0 is the stored bytes as they are, decoded by no one.
	raw, err := s.cfg.Chain.RawBlock(hash)
	if err != nil {
		return nil, blockReadError(err)
	}
	if verbosity == 0 {
		return hex.EncodeToString(raw), nil
	}
	block, err := decodeRawBlock(raw)
	if err != nil {
		return nil, errorf(codeDatabase, "Can't read block from disk: %v", err)
	}
	var spent [][]coreshape.Spent
	if verbosity >= 2 {
		if spent, err = s.spentByTx(hash, block); err != nil {
			return nil, err
		}
	}
	return blockJSON(info, block, int(verbosity), s.cfg.Chain.Network().AddressParams(), spent), nil
}

// blockReadError is Core's answer to a block that cannot be read.
func blockReadError(err error) error {
	switch {
	case errors.Is(err, chain.ErrBlockPruned):
		return errorf(codeMisc, "Block not available (pruned data)")
	case errors.Is(err, chain.ErrNoBlockData):
		return errorf(codeMisc, "Block not available (not fully downloaded)")
	}
	return errorf(codeDatabase, "Can't read block from disk: %v", err)
}

// spentByTx splits a block's undo data by transaction, as blockJSON and
// getrawtransaction take it: nil for the coinbase. It is nil, with no
// error, where the block has no undo data (never connected, or pruned); an
// undo record that cannot be read is Core's internal error.
func (s *Server) spentByTx(hash chainhash.Hash, b *wire.MsgBlock) ([][]coreshape.Spent, error) {
	entries, err := s.cfg.Chain.SpentOutputs(hash, b)
	if errors.Is(err, chain.ErrNoBlockData) {
		return nil, nil
	}
	if err != nil {
		return nil, errUndoUnreadable
	}
	return splitSpent(b, entries)
}

// errUndoUnreadable is Core's answer to undo data that is recorded but
// cannot be read.
var errUndoUnreadable = errorf(codeInternal, "Undo data expected but can't be read. This could be due to disk corruption or a conflict with a pruning event.")

// splitSpent splits a block's undo entries (every input's spent output,
// the coinbase's left out) by transaction: nil for the coinbase.
func splitSpent(b *wire.MsgBlock, entries []*utxo.Entry) ([][]coreshape.Spent, error) {
	out := make([][]coreshape.Spent, len(b.Transactions))
	for i, tx := range b.Transactions[1:] {
		if len(entries) < len(tx.TxIn) {
			return nil, errUndoUnreadable
		}
		sp := make([]coreshape.Spent, len(tx.TxIn))
		for j, e := range entries[:len(tx.TxIn)] {
			sp[j] = coreshape.Spent{Value: e.Amount, PkScript: e.PkScript, Height: e.Height, Coinbase: e.IsCoinBase}
		}
		out[i+1], entries = sp, entries[len(tx.TxIn):]
	}
	return out, nil
}

// readBlock reads and decodes a stored block, with Core's errors for one
// whose data is not kept.
func (s *Server) readBlock(hash chainhash.Hash) (*wire.MsgBlock, error) {
	raw, err := s.cfg.Chain.RawBlock(hash)
	if err != nil {
		return nil, blockReadError(err)
	}
	block, err := decodeRawBlock(raw)
	if err != nil {
		return nil, errorf(codeDatabase, "Can't read block from disk: %v", err)
	}
	return block, nil
}

// decodeRawBlock decodes a stored block.
func decodeRawBlock(raw []byte) (*wire.MsgBlock, error) {
	var block wire.MsgBlock
	if err := block.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, err
	}
	return &block, nil
}

var getBlockHeaderDoc = methodDoc{
	category: catBlockchain,
	desc: "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.\n" +
		"If verbose is true, returns an Object with information about blockheader <hash>.",
	args: []argDoc{
		reqArg("blockhash", argHex, "The block hash"),
		optArg("verbose", argBool, "true", "true for a json object, false for the hex-encoded data"),
	},
	results: []resultDoc{
		rObj("", "",
			rHex("hash", "the block hash (same as provided)"),
			rNum("confirmations", "The number of confirmations, or -1 if the block is not on the main chain"),
			rNum("height", "The block height or index"),
			rNum("version", "The block version"),
			rHex("versionHex", "The block version formatted in hexadecimal"),
			rHex("merkleroot", "The merkle root"),
			rTime("time", "The block time expressed in "+unixTime),
			rTime("mediantime", "The median block time expressed in "+unixTime),
			rNum("nonce", "The nonce"),
			rHex("bits", "The bits"),
			rNum("difficulty", "The difficulty"),
			rHex("chainwork", "Expected number of hashes required to produce the chain up to this block (in hex)"),
			rNum("nTx", "The number of transactions in the block (0 if only its header is known)"),
			rHex("previousblockhash", "The hash of the previous block (absent for the genesis block)").opt(),
			rHex("nextblockhash", "The hash of the next block (only for a block of the main chain below its tip)").opt(),
		).when("for verbose = true"),
		rHex("", "A string that is serialized, hex-encoded data for block 'hash'").when("for verbose=false"),
	},
	examples: exBoth(`"`+exampleHash+`"`, `"`+exampleHash+`"`),
}

func (s *Server) getBlockHeader(_ context.Context, a args) (any, error) {
	hash, err := a.hash(0, "blockhash")
	if err != nil {
		return nil, err
	}
	verbose, err := a.boolAt(1, true)
	if err != nil {
		return nil, err
	}
	info, err := s.blockInfo(hash)
	if err != nil {
		return nil, err
	}
	if !verbose {
		var buf bytes.Buffer
		_ = info.Header.Serialize(&buf)
		return hex.EncodeToString(buf.Bytes()), nil
	}
	nTx := 0
	if info.HaveData {
		if b, err := s.cfg.Chain.BlockByHash(hash); err == nil {
			nTx = len(b.Transactions)
		}
	}
	return headerJSON(info, nTx), nil
}

var getChainTipsDoc = methodDoc{
	category: catBlockchain,
	desc:     "Return information about all known tips in the block tree, including the main chain as well as orphaned branches.",
	results: []resultDoc{rArr("", "", rObj("", "",
		rNum("height", "height of the chain tip"),
		rHex("hash", "block hash of the tip"),
		rNum("branchlen", "zero for main chain, otherwise length of branch connecting the tip to the main chain"),
		rStr("status", "status of the chain, \"active\" for the main chain\n"+
			"Possible values for status:\n"+
			"1.  \"invalid\"               This branch contains at least one invalid block\n"+
			"2.  \"headers-only\"          Not all blocks for this branch are available, but the headers are valid\n"+
			"3.  \"valid-headers\"         All blocks are available for this branch, but they were never fully validated\n"+
			"4.  \"valid-fork\"            This branch is not part of the active chain, but is fully validated\n"+
			"5.  \"active\"                This is the tip of the active main chain, which is certainly valid"),
	))},
	examples: exBoth("", ""),
}

func (s *Server) getChainTips(context.Context, args) (any, error) {
	tips := s.cfg.Chain.ChainTips()
	out := make([]btcjson.GetChainTipsResult, len(tips))
	for i, t := range tips {
		out[i] = btcjson.GetChainTipsResult{Height: t.Height, Hash: t.Hash.String(), BranchLen: t.BranchLen, Status: t.Status}
	}
	return out, nil
}

// txOutResult is gettxout's answer.
type txOutResult struct {
	BestBlock     string       `json:"bestblock"`
	Confirmations int64        `json:"confirmations"`
	Value         float64      `json:"value"`
	ScriptPubKey  scriptPubKey `json:"scriptPubKey"`
	Coinbase      bool         `json:"coinbase"`
}

var getTxOutDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns details about an unspent transaction output.",
	args: []argDoc{
		reqArg("txid", argStr, "The transaction id"),
		reqArg("n", argNum, "vout number"),
		optArg("include_mempool", argBool, "true", "Whether to include the mempool. Note that an unspent output that is spent in the mempool won't appear."),
	},
	results: []resultDoc{
		rNull("").when("If the UTXO was not found"),
		rObj("", "",
			rHex("bestblock", "The hash of the block at the tip of the chain"),
			rNum("confirmations", "The number of confirmations (0 for an output of a mempool transaction)"),
			rAmount("value", "The transaction value in "+coinUnit),
			scriptPubKeyDoc("scriptPubKey"),
			rBool("coinbase", "Coinbase or not"),
		).when("Otherwise"),
	},
	examples: exBoth(`"mytxid" 1`, `"mytxid", 1`),
}

func (s *Server) getTxOut(_ context.Context, a args) (any, error) {
	txid, err := a.hash(0, "txid")
	if err != nil {
		return nil, err
	}
	n, err := a.int64At(1, 0)
	if err != nil {
		return nil, err
	}
	if n < 0 || n > 0xffffffff {
		return nil, errorf(codeInvalidParameter, "Invalid output index %d", n)
	}
	includeMempool, err := a.boolAt(2, true)
	if err != nil {
		return nil, err
	}
	best := s.cfg.Chain.BestSnapshot()
	op := wire.OutPoint{Hash: txid, Index: uint32(n)}
	if includeMempool && s.cfg.Mempool != nil {
		if s.cfg.Mempool.IsSpent(op) {
			return nil, nil // spent by a pool transaction
		}
		if out, ok := s.cfg.Mempool.Output(op); ok {
			return txOutResult{
				BestBlock:    best.Hash.String(),
				Value:        coins(out.Value),
				ScriptPubKey: scriptPubKeyJSON(out.PkScript, s.cfg.Chain.Network().AddressParams()),
			}, nil
		}
	}
	e, err := s.cfg.Chain.FetchUtxoEntry(op)
	if err != nil {
		return nil, errorf(codeDatabase, "%v", err)
	}
	if e == nil {
		return nil, nil
	}
	return txOutResult{
		BestBlock:     best.Hash.String(),
		Confirmations: int64(best.Height - e.Height + 1),
		Value:         coins(e.Amount),
		ScriptPubKey:  scriptPubKeyJSON(e.PkScript, s.cfg.Chain.Network().AddressParams()),
		Coinbase:      e.IsCoinBase,
	}, nil
}

// txOutSetInfo is gettxoutsetinfo's answer.
type txOutSetInfo struct {
	Height         int32   `json:"height"`
	BestBlock      string  `json:"bestblock"`
	Transactions   int64   `json:"transactions"`
	TxOuts         int64   `json:"txouts"`
	BogoSize       int64   `json:"bogosize"`
	HashSerialized string  `json:"hash_serialized_3,omitempty"`
	TotalAmount    float64 `json:"total_amount"`
}

var getTxOutSetInfoDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns statistics about the unspent transaction output set.\nNote this call may take some time.",
	args: []argDoc{
		optArg("hash_type", argStr, `"hash_serialized_3"`, "Which UTXO set hash should be calculated. Options: 'hash_serialized_3' "+
			"(Cairn's: the SHA-256 of the set serialized in outpoint order, not comparable with Bitcoin Core's), 'none'."),
	},
	results: []resultDoc{rObj("", "",
		rNum("height", "The block height (index) of the returned statistics"),
		rHex("bestblock", "The hash of the block at which these statistics are calculated"),
		rNum("txouts", "The number of unspent transaction outputs"),
		rNum("bogosize", "Database-independent, meaningless metric indicating the UTXO set size"),
		rHex("hash_serialized_3", "The serialized hash (only present if 'hash_serialized_3' hash_type is chosen)").opt(),
		rNum("transactions", "The number of transactions with unspent outputs"),
		rAmount("total_amount", "The total amount of coins in the UTXO set"),
	)},
	examples: []exampleLine{exCLI(""), exCLI(`"none"`), exRPC(""), exRPC(`"none"`)},
}

func (s *Server) getTxOutSetInfo(_ context.Context, a args) (any, error) {
	hashType := "hash_serialized_3"
	if a.has(0) {
		ht, err := a.str(0)
		if err != nil {
			return nil, err
		}
		if ht != "hash_serialized_3" && ht != "none" {
			return nil, errorf(codeInvalidParameter, "%s is not a valid hash_type (want hash_serialized_3 or none)", ht)
		}
		hashType = ht
	}
	st, err := s.cfg.Chain.UtxoSetStats()
	if err != nil {
		return nil, errorf(codeInternal, "Unable to read UTXO set: %v", err)
	}
	out := txOutSetInfo{
		Height:       st.Height,
		BestBlock:    st.BestHash.String(),
		Transactions: st.Transactions,
		TxOuts:       st.TxOuts,
		BogoSize:     st.BogoSize,
		TotalAmount:  coins(st.TotalAmount),
	}
	if hashType == "hash_serialized_3" {
		out.HashSerialized = hex.EncodeToString(st.Hash[:])
	}
	return out, nil
}

var invalidateBlockDoc = methodDoc{
	category: catBlockchain,
	desc:     "Permanently marks a block as invalid, as if it violated a consensus rule.",
	args:     []argDoc{reqArg("blockhash", argHex, "the hash of the block to mark as invalid")},
	results:  []resultDoc{rNull("")},
	examples: exBoth(`"blockhash"`, `"blockhash"`),
}

func (s *Server) invalidateBlock(ctx context.Context, a args) (any, error) {
	hash, err := a.hash(0, "blockhash")
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Chain.InvalidateBlock(hash); err != nil {
		return nil, chainError(err)
	}
	s.settlePool(ctx)
	return nil, nil
}

var pruneBlockchainDoc = methodDoc{
	category: catBlockchain,
	desc: "Deletes the block and undo files whose blocks are all at or below a height, keeping the last 288 blocks.\n" +
		"Needs prune mode (cairn node --prune).",
	args: []argDoc{reqArg("height", argNum, "The block height to prune up to. May be set to a discrete height, or to a "+unixTime+"\n"+
		"to prune blocks whose block time is at least 2 hours older than the provided timestamp.")},
	results:  []resultDoc{rNum("", "Height of the last block pruned")},
	examples: exBoth("1000", "1000"),
}

// timestampWindow is how far block times may run behind each other
// (Core's TIMESTAMP_WINDOW, 2 hours).
const timestampWindow = 2 * 60 * 60

func (s *Server) pruneBlockchain(_ context.Context, a args) (any, error) {
	height, err := a.int64At(0, 0)
	if err != nil {
		return nil, err
	}
	if !s.cfg.Chain.PruneState().Enabled {
		return nil, errorf(codeMisc, "Cannot prune blocks because node is not in prune mode.")
	}
	if height < 0 {
		return nil, errorf(codeInvalidParameter, "Negative block height.")
	}
	best := s.cfg.Chain.BestSnapshot()
	// More than a billion is no height but a time (Sep 2001 on).
	if height > 1_000_000_000 {
		h, ok := s.earliestBlockAtLeast(height - timestampWindow)
		if !ok {
			return nil, errorf(codeInvalidParameter, "Could not find block with at least the specified timestamp.")
		}
		height = int64(h)
	}
	if height > int64(best.Height) {
		return nil, errorf(codeInvalidParameter, "Blockchain is shorter than the attempted prune height.")
	}
	last, err := s.cfg.Chain.PruneBlockchain(int32(height))
	if errors.Is(err, chain.ErrPruneMode) {
		return nil, errorf(codeMisc, "Blockchain is too short for pruning.")
	}
	if err != nil {
		return nil, errorf(codeDatabase, "%v", err)
	}
	return last, nil
}

// earliestBlockAtLeast returns the height of the first main-chain block
// whose time, or that of a block before it, is at least t (Core's
// FindEarliestAtLeast over nTimeMax).
func (s *Server) earliestBlockAtLeast(t int64) (int32, bool) {
	best := s.cfg.Chain.BestSnapshot().Height
	for h := int32(0); h <= best; h++ {
		hash, err := s.cfg.Chain.BlockHashByHeight(h)
		if err != nil {
			return 0, false
		}
		info, err := s.cfg.Chain.BlockInfo(hash)
		if err != nil {
			return 0, false
		}
		if info.Header.Timestamp.Unix() >= t {
			return h, true
		}
	}
	return 0, false
}

var reconsiderBlockDoc = methodDoc{
	category: catBlockchain,
	desc: "Removes invalidity status of a block, its ancestors and its descendants, reconsider them for activation.\n" +
		"This can be used to undo the effects of invalidateblock.",
	args:     []argDoc{reqArg("blockhash", argHex, "the hash of the block to reconsider")},
	results:  []resultDoc{rNull("")},
	examples: exBoth(`"blockhash"`, `"blockhash"`),
}

func (s *Server) reconsiderBlock(ctx context.Context, a args) (any, error) {
	hash, err := a.hash(0, "blockhash")
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Chain.ReconsiderBlock(hash); err != nil {
		return nil, chainError(err)
	}
	s.settlePool(ctx)
	return nil, nil
}

// chainError maps chain errors to Core's codes.
func chainError(err error) error {
	switch {
	case errors.Is(err, chain.ErrUnknownBlock):
		return errorf(codeInvalidAddress, "Block not found")
	case errors.Is(err, chain.ErrInvalidateGenesis):
		return errorf(codeMisc, "The genesis block cannot be invalidated")
	case errors.Is(err, chain.ErrPrunedReorg):
		return errorf(codeMisc, "%v", err)
	case chain.RejectReason(err) != "":
		return errorf(codeVerify, "%s: %v", chain.RejectReason(err), err)
	}
	return errorf(codeDatabase, "%v", err)
}

// basicFilterType is the name of BIP158's basic filter type, the only one
// there is.
const basicFilterType = "basic"

// blockFilterResult is getblockfilter's answer.
type blockFilterResult struct {
	Filter string `json:"filter"`
	Header string `json:"header"`
}

var getBlockFilterDoc = methodDoc{
	category: catBlockchain,
	desc:     "Retrieve a BIP 157 content filter for a particular block.\nNeeds the block filter index (cairn node --blockfilterindex, on by default).",
	args: []argDoc{
		reqArg("blockhash", argHex, "The hash of the block"),
		optArg("filtertype", argStr, `"`+basicFilterType+`"`, "The type name of the filter"),
	},
	results: []resultDoc{rObj("", "",
		rHex("filter", "the hex-encoded filter data"),
		rHex("header", "the hex-encoded filter header"),
	)},
	examples: exBoth(`"`+exampleHash+`" "basic"`, `"`+exampleHash+`", "basic"`),
}

// getBlockFilter answers with a block's BIP158 filter and filter header,
// with Bitcoin Core's checks in Core's order: filter type, index, block.
func (s *Server) getBlockFilter(_ context.Context, a args) (any, error) {
	hash, err := a.hash(0, "blockhash")
	if err != nil {
		return nil, err
	}
	filterType := basicFilterType
	if a.has(1) {
		if filterType, err = a.str(1); err != nil {
			return nil, err
		}
	}
	if filterType != basicFilterType {
		return nil, errorf(codeInvalidAddress, "Unknown filtertype")
	}
	if !s.cfg.Chain.BlockFilterIndexEnabled() {
		return nil, errorf(codeMisc, "Index is not enabled for filtertype %s", filterType)
	}
	filter, header, err := s.cfg.Chain.BlockFilter(hash)
	switch {
	case errors.Is(err, chain.ErrUnknownBlock):
		return nil, errorf(codeInvalidAddress, "Block not found")
	case errors.Is(err, chain.ErrFilterNotFound):
		return nil, errorf(codeInvalidAddress, "Filter not found. Block was not connected to active chain.")
	case errors.Is(err, chain.ErrFilterIndexOff):
		return nil, errorf(codeMisc, "Index is not enabled for filtertype %s", filterType)
	case err != nil:
		return nil, errorf(codeDatabase, "Can't read block filter: %v", err)
	}
	return blockFilterResult{Filter: hex.EncodeToString(filter), Header: header.String()}, nil
}
