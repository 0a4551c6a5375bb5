package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

// maxTipAge is how old the tip may be before the node counts as catching up
// (Bitcoin Core's DEFAULT_MAX_TIP_AGE).
const maxTipAge = 24 * time.Hour

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
	Warnings             string  `json:"warnings"`
}

func (s *Server) getBlockchainInfo(context.Context, args) (any, error) {
	best := s.cfg.Chain.BestSnapshot()
	headers := s.cfg.Chain.HeaderCount()
	progress := 1.0
	if headers > 0 && best.Height < headers {
		progress = float64(best.Height) / float64(headers)
	}
	return blockchainInfo{
		Chain:                s.cfg.Chain.Network().Name,
		Blocks:               best.Height,
		Headers:              headers,
		BestBlockHash:        best.Hash.String(),
		Difficulty:           difficulty(best.Bits),
		Time:                 best.Time.Unix(),
		MedianTime:           best.MedianTime.Unix(),
		VerificationProgress: progress,
		InitialBlockDownload: time.Since(best.Time) > maxTipAge || best.Height < headers,
		ChainWork:            chainWorkHex(best.ChainWork),
		SizeOnDisk:           s.cfg.Chain.DiskSize(),
	}, nil
}

func (s *Server) getBlockCount(context.Context, args) (any, error) {
	return s.cfg.Chain.BestSnapshot().Height, nil
}

func (s *Server) getBestBlockHash(context.Context, args) (any, error) {
	return s.cfg.Chain.BestSnapshot().Hash.String(), nil
}

func (s *Server) getDifficulty(context.Context, args) (any, error) {
	return difficulty(s.cfg.Chain.BestSnapshot().Bits), nil
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
			return nil, errorf(codeType, "verbosity must be a number (0, 1 or 2) or a bool")
		}
	}
	if verbosity < 0 || verbosity > 3 {
		return nil, errorf(codeInvalidParameter, "Verbosity must be in range 0..3")
	}
	info, err := s.blockInfo(hash)
	if err != nil {
		return nil, err
	}
	block, err := s.cfg.Chain.BlockByHash(hash)
	if errors.Is(err, chain.ErrNoBlockData) {
		return nil, errorf(codeMisc, "Block not available (not fully downloaded)")
	}
	if err != nil {
		return nil, errorf(codeDatabase, "Can't read block from disk: %v", err)
	}
	if verbosity == 0 {
		var buf bytes.Buffer
		_ = block.Serialize(&buf)
		return hex.EncodeToString(buf.Bytes()), nil
	}
	return blockJSON(info, block, int(verbosity), s.cfg.Chain.Network().AddressParams()), nil
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
	BestBlock     string                     `json:"bestblock"`
	Confirmations int64                      `json:"confirmations"`
	Value         float64                    `json:"value"`
	ScriptPubKey  btcjson.ScriptPubKeyResult `json:"scriptPubKey"`
	Coinbase      bool                       `json:"coinbase"`
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

func (s *Server) invalidateBlock(_ context.Context, a args) (any, error) {
	hash, err := a.hash(0, "blockhash")
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Chain.InvalidateBlock(hash); err != nil {
		return nil, chainError(err)
	}
	return nil, nil
}

func (s *Server) reconsiderBlock(_ context.Context, a args) (any, error) {
	hash, err := a.hash(0, "blockhash")
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Chain.ReconsiderBlock(hash); err != nil {
		return nil, chainError(err)
	}
	return nil, nil
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

// chainError maps chain errors to Core's codes.
func chainError(err error) error {
	switch {
	case errors.Is(err, chain.ErrUnknownBlock):
		return errorf(codeInvalidAddress, "Block not found")
	case errors.Is(err, chain.ErrInvalidateGenesis):
		return errorf(codeMisc, "The genesis block cannot be invalidated")
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

// indexInfo is one entry of getindexinfo.
type indexInfo struct {
	Synced          bool  `json:"synced"`
	BestBlockHeight int32 `json:"best_block_height"`
}

func (s *Server) getIndexInfo(_ context.Context, a args) (any, error) {
	// Both indexes are brought up to the tip when the chain opens and
	// move with it, so they are always synced.
	out := map[string]indexInfo{}
	height := s.cfg.Chain.BestSnapshot().Height
	if s.cfg.Chain.TxIndexEnabled() {
		out["txindex"] = indexInfo{Synced: true, BestBlockHeight: height}
	}
	if s.cfg.Chain.BlockFilterIndexEnabled() {
		out["basic block filter index"] = indexInfo{Synced: true, BestBlockHeight: height}
	}
	if a.has(0) {
		name, err := a.str(0)
		if err != nil {
			return nil, err
		}
		if v, ok := out[name]; ok {
			return map[string]indexInfo{name: v}, nil
		}
		return map[string]indexInfo{}, nil
	}
	return out, nil
}

// getRawTransaction answers from the given block or the transaction index.
func (s *Server) getRawTransaction(_ context.Context, a args) (any, error) {
	txid, err := a.hash(0, "txid")
	if err != nil {
		return nil, err
	}
	verbose := false
	if a.has(1) {
		// Core accepts a bool or a verbosity number.
		if b, berr := a.boolAt(1, false); berr == nil {
			verbose = b
		} else {
			v, err := a.int64At(1, 0)
			if err != nil {
				return nil, errorf(codeType, "verbose must be a bool or a number")
			}
			verbose = v > 0
		}
	}
	var tx *wire.MsgTx
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
		block, err := s.cfg.Chain.BlockByHash(blockHash)
		if err != nil {
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
	out := rawTxResult{txWithHex: txWithHex{txResult: txJSON(tx, s.cfg.Chain.Network().AddressParams()), Hex: txHex(tx)}}
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

// rawTxResult is getrawtransaction's verbose answer.
type rawTxResult struct {
	txWithHex
	InActiveChain *bool  `json:"in_active_chain,omitempty"`
	BlockHash     string `json:"blockhash,omitempty"`
	Confirmations *int32 `json:"confirmations,omitempty"`
	Time          int64  `json:"time,omitempty"`
	Blocktime     int64  `json:"blocktime,omitempty"`
}
