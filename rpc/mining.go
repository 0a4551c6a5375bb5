package rpc

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

// This file holds Bitcoin Core's "mining" methods: the network's and the
// local miner's figures, templates for external miners, and the
// submission of their blocks and headers.

// miningInfo is getmininginfo's answer: Core's fields plus the local
// miner's hashespersec.
type miningInfo struct {
	Blocks           int32   `json:"blocks"`
	CurrentBlockTx   int     `json:"currentblocktx"`
	CurrentBlockSize int     `json:"currentblockweight"`
	Difficulty       float64 `json:"difficulty"`
	NetworkHashPS    float64 `json:"networkhashps"`
	PooledTx         int     `json:"pooledtx"`
	Chain            string  `json:"chain"`
	HashesPerSec     float64 `json:"hashespersec"`
	Warnings         string  `json:"warnings"`
}

var getMiningInfoDoc = methodDoc{
	category: catMining,
	desc:     "Returns a json object containing mining-related information.",
	results: []resultDoc{rObj("", "",
		rNum("blocks", "The current block"),
		rNum("currentblocktx", "The number of transactions in the tip block (Core: in the last assembled block)"),
		rNum("currentblockweight", "The weight of the tip block (Core: of the last assembled block)"),
		rNum("difficulty", "The current difficulty"),
		rNum("networkhashps", fmt.Sprintf("The network hashes per second (over the last %d blocks)", defaultHashPSBlocks)),
		rNum("pooledtx", "The size of the mempool"),
		rStr("chain", "current network name (main, test, regtest, or a custom network's name)"),
		rNum("hashespersec", "Cairn's: the hashes per second of this node's miner (0 when it is not mining)"),
		rStr("warnings", "any network and blockchain warnings"),
	)},
	examples: exBoth("", ""),
}

func (s *Server) getMiningInfo(context.Context, args) (any, error) {
	best := s.cfg.Chain.BestSnapshot()
	ps, err := s.networkHashPS(defaultHashPSBlocks, best.Height)
	if err != nil {
		return nil, err
	}
	info := miningInfo{
		Blocks:           best.Height,
		CurrentBlockTx:   best.NumTxns,
		CurrentBlockSize: best.Weight,
		Difficulty:       difficulty(best.Bits),
		NetworkHashPS:    ps,
		Chain:            s.cfg.Chain.Network().Name,
	}
	if s.cfg.Mining != nil {
		info.HashesPerSec = s.cfg.Mining.HashesPerSec()
	}
	if s.cfg.Mempool != nil {
		info.PooledTx = s.cfg.Mempool.Count()
	}
	return info, nil
}

var getNetworkHashPSDoc = methodDoc{
	category: catMining,
	desc: "Returns the estimated network hashes per second based on the last n blocks.\n" +
		"Pass in [nblocks] to override # of blocks, -1 specifies all blocks since the genesis block.\n" +
		"Pass in [height] to estimate the network speed at the time when a certain block was found.",
	args: []argDoc{
		optArg("nblocks", argNum, fmt.Sprint(defaultHashPSBlocks), fmt.Sprintf("The number of previous blocks to calculate estimate from, or -1 for all blocks since the genesis block (0 or less than -1 means %d).", defaultHashPSBlocks)),
		optArg("height", argNum, "-1", "To estimate at the time of the given height."),
	},
	results:  []resultDoc{rNum("", "Hashes per second estimated")},
	examples: exBoth("", ""),
}

func (s *Server) getNetworkHashPS(_ context.Context, a args) (any, error) {
	n, err := a.int64At(0, defaultHashPSBlocks)
	if err != nil {
		return nil, err
	}
	best := s.cfg.Chain.BestSnapshot()
	height, err := a.int64At(1, -1)
	if err != nil {
		return nil, err
	}
	if height < -1 || height > int64(best.Height) {
		return nil, errorf(codeInvalidParameter, "Block does not exist at specified height")
	}
	if height == -1 {
		height = int64(best.Height)
	}
	if n < -1 || n == 0 {
		n = defaultHashPSBlocks // no difficulty periods under ASERT
	}
	if n == -1 || n > height {
		n = height
	}
	return s.networkHashPS(int32(n), int32(height))
}

// defaultHashPSBlocks is how many blocks getnetworkhashps and
// getmininginfo estimate from by default: Core's default window.
const defaultHashPSBlocks = 120

// networkHashPS estimates hashes per second as Core does: the work of the n
// blocks ending at height over the span between their extreme times.
func (s *Server) networkHashPS(n, height int32) (float64, error) {
	if n <= 0 || height <= 0 {
		return 0, nil
	}
	if n > height {
		n = height
	}
	end, err := s.blockInfoAt(height)
	if err != nil {
		return 0, err
	}
	start, err := s.blockInfoAt(height - n)
	if err != nil {
		return 0, err
	}
	minTime, maxTime := end.Header.Timestamp.Unix(), end.Header.Timestamp.Unix()
	for h := height - n; h < height; h++ {
		info, err := s.blockInfoAt(h)
		if err != nil {
			return 0, err
		}
		t := info.Header.Timestamp.Unix()
		minTime, maxTime = min(minTime, t), max(maxTime, t)
	}
	if minTime == maxTime {
		return 0, nil
	}
	work := new(big.Int).Sub(end.ChainWork, start.ChainWork)
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(work), big.NewFloat(float64(maxTime-minTime))).Float64()
	return f, nil
}

// blockTemplateResult is getblocktemplate's answer (BIP22/23, segwit).
type blockTemplateResult struct {
	Capabilities             []string         `json:"capabilities"`
	Version                  int32            `json:"version"`
	Rules                    []string         `json:"rules"`
	VBAvailable              map[string]int   `json:"vbavailable"`
	VBRequired               int              `json:"vbrequired"`
	PreviousBlockHash        string           `json:"previousblockhash"`
	Transactions             []templateTxJSON `json:"transactions"`
	CoinbaseAux              map[string]any   `json:"coinbaseaux"`
	CoinbaseValue            int64            `json:"coinbasevalue"`
	LongPollID               string           `json:"longpollid"`
	Target                   string           `json:"target"`
	MinTime                  int64            `json:"mintime"`
	Mutable                  []string         `json:"mutable"`
	NonceRange               string           `json:"noncerange"`
	SigOpLimit               int              `json:"sigoplimit"`
	SizeLimit                int              `json:"sizelimit"`
	WeightLimit              int              `json:"weightlimit"`
	CurTime                  int64            `json:"curtime"`
	Bits                     string           `json:"bits"`
	Height                   int32            `json:"height"`
	DefaultWitnessCommitment string           `json:"default_witness_commitment,omitempty"`
}

type templateTxJSON struct {
	Data    string `json:"data"`
	TxID    string `json:"txid"`
	Hash    string `json:"hash"`
	Depends []int  `json:"depends"`
	Fee     int64  `json:"fee"`
	SigOps  int64  `json:"sigops"`
	Weight  int64  `json:"weight"`
}

// templateRequest is getblocktemplate's optional argument.
type templateRequest struct {
	Mode  string   `json:"mode"`
	Rules []string `json:"rules"`
}

var getBlockTemplateDoc = methodDoc{
	category: catMining,
	desc: "It returns data needed to construct a block to work on.\n" +
		"Cairn answers in template mode only: no proposals and no long polling (submit blocks with submitblock).\n" +
		"For full specification, see BIPs 22, 23, 9, and 145:\n" +
		"    https://github.com/bitcoin/bips/blob/master/bip-0022.mediawiki\n" +
		"    https://github.com/bitcoin/bips/blob/master/bip-0023.mediawiki\n" +
		"    https://github.com/bitcoin/bips/blob/master/bip-0009.mediawiki#getblocktemplate_changes\n" +
		"    https://github.com/bitcoin/bips/blob/master/bip-0145.mediawiki",
	args: []argDoc{
		optArg("template_request", argObj, "{}", "Format of the template",
			optArg("mode", argStr, "", "This must be set to \"template\" or omitted"),
			optArg("capabilities", argArr, "", "A list of strings (accepted and ignored)",
				optArg("str", argStr, "", "client side supported feature, 'longpoll', 'coinbasevalue', 'proposal', 'serverlist', 'workid'")),
			reqArg("rules", argArr, "A list of strings",
				reqArg("segwit", argStr, "(literal) indicates client side segwit support"),
				optArg("str", argStr, "", "other client side supported softfork deployment")),
		),
	},
	results: []resultDoc{rObj("", "",
		rNum("version", "The preferred block version"),
		rArr("rules", "specific block rules that are to be enforced",
			rStr("", "name of a rule the client must understand to some extent; see BIP 9 for format")),
		rObjDyn("vbavailable", "set of pending, supported versionbit (BIP 9) softfork deployments (always empty)",
			rNum("rulename", "identifies the bit number as indicating acceptance and readiness for the named softfork rule")),
		rArr("capabilities", "", rStr("", "A supported feature, for example 'proposal'")),
		rNum("vbrequired", "bit mask of versionbits the server requires set in submissions"),
		rStr("previousblockhash", "The hash of current highest block"),
		rArr("transactions", "contents of non-coinbase transactions that should be included in the next block",
			rObj("", "",
				rHex("data", "transaction data encoded in hexadecimal (byte-for-byte)"),
				rHex("txid", "transaction hash excluding witness data, shown in byte-reversed hex"),
				rHex("hash", "transaction hash including witness data, shown in byte-reversed hex"),
				rArr("depends", "array of numbers",
					rNum("", "transactions before this one (by 1-based index in 'transactions' list) that must be present in the final block if this one is")),
				rNum("fee", "difference in value between transaction inputs and outputs (in base units)"),
				rNum("sigops", "total SigOps cost, as counted for purposes of block limits"),
				rNum("weight", "total transaction weight, as counted for purposes of block limits"),
			)),
		rObjDyn("coinbaseaux", "data that should be included in the coinbase's scriptSig content (always empty)",
			rHex("key", "values must be in the coinbase (keys may be ignored)")),
		rNum("coinbasevalue", "maximum allowable input to coinbase transaction, including the generation award and transaction fees (in base units)"),
		rStr("longpollid", "an id of this template (Cairn does not long-poll)"),
		rStr("target", "The hash target"),
		rTime("mintime", "The minimum timestamp appropriate for the next block time, expressed in "+unixTime),
		rArr("mutable", "list of ways the block template may be changed",
			rStr("", "A way the block template may be changed, e.g. 'time', 'transactions', 'prevblock'")),
		rHex("noncerange", "A range of valid nonces"),
		rNum("sigoplimit", "limit of sigops in blocks"),
		rNum("sizelimit", "limit of block size"),
		rNum("weightlimit", "limit of block weight"),
		rTime("curtime", "current timestamp in "+unixTime),
		rStr("bits", "compressed target of next block"),
		rNum("height", "The height of the next block"),
		rStr("default_witness_commitment", "a valid witness commitment for the unmodified block template").opt(),
	)},
	examples: exBoth(`'{"rules": ["segwit"]}'`, `{"rules": ["segwit"]}`),
}

func (s *Server) getBlockTemplate(_ context.Context, a args) (any, error) {
	var req templateRequest
	if a.has(0) {
		if err := json.Unmarshal(a[0], &req); err != nil {
			return nil, typeError(a[0], "object")
		}
	}
	if req.Mode != "" && req.Mode != "template" {
		return nil, errorf(codeInvalidParameter, "Invalid mode %q (only template mode is supported; submit blocks with submitblock)", req.Mode)
	}
	if !contains(req.Rules, "segwit") {
		return nil, errorf(codeInvalidParameter, "getblocktemplate must be called with the segwit rule set (call with {\"rules\": [\"segwit\"]})")
	}
	if s.cfg.Generator == nil {
		return nil, errorf(codeMisc, "this node has no block assembler")
	}
	t, err := s.cfg.Generator.BlockTemplate()
	if err != nil {
		return nil, errorf(codeMisc, "building template: %v", err)
	}
	txs := make([]templateTxJSON, len(t.Txs))
	for i, tx := range t.Txs {
		deps := tx.Depends
		if deps == nil {
			deps = []int{}
		}
		txs[i] = templateTxJSON{
			Data: txHex(tx.Tx), TxID: consensus.TxHash(tx.Tx).String(), Hash: consensus.WitnessHash(tx.Tx).String(),
			Depends: deps, Fee: tx.Fee, SigOps: tx.SigOpCost, Weight: tx.Weight,
		}
	}
	out := blockTemplateResult{
		Capabilities:      []string{"proposal"},
		Version:           t.Version,
		Rules:             []string{"csv", "!segwit", "taproot"},
		VBAvailable:       map[string]int{},
		PreviousBlockHash: t.PrevHash.String(),
		Transactions:      txs,
		CoinbaseAux:       map[string]any{},
		CoinbaseValue:     t.CoinbaseValue,
		LongPollID:        t.PrevHash.String() + strconv.Itoa(len(txs)),
		Target:            fmt.Sprintf("%064x", t.Target),
		MinTime:           t.MinTime.Unix(),
		Mutable:           []string{"time", "transactions", "prevblock"},
		NonceRange:        "00000000ffffffff",
		SigOpLimit:        consensus.MaxBlockSigOpsCost,
		SizeLimit:         consensus.MaxBlockWeight,
		WeightLimit:       consensus.MaxBlockWeight,
		CurTime:           t.CurTime.Unix(),
		Bits:              fmt.Sprintf("%08x", t.Bits),
		Height:            t.Height,
	}
	if t.WitnessCommitment != nil {
		out.DefaultWitnessCommitment = hex.EncodeToString(t.WitnessCommitment)
	}
	return out, nil
}

var submitBlockDoc = methodDoc{
	category: catMining,
	desc:     "Attempts to submit new block to network.\nSee https://en.bitcoin.it/wiki/BIP_0022 for full specification.",
	args: []argDoc{
		reqArg("hexdata", argHex, "the hex-encoded block data to submit"),
		optArg("dummy", argStr, "ignored", "dummy value, for compatibility with BIP22. This value is ignored."),
	},
	results: []resultDoc{
		rNull("").when("If the block was accepted to the best chain"),
		rStr("", "According to BIP22: \"duplicate\", \"duplicate-invalid\", \"inconclusive\" (stored, but not on the best chain)\n"+
			"or the reason the block was rejected").when("Otherwise"),
	},
	examples: exBoth(`"mydata"`, `"mydata"`),
}

// submitBlock returns null when the block became the tip, or a BIP22
// string: "duplicate", "duplicate-invalid", "inconclusive" (stored off the
// best chain), or the reject reason ("bad-txnmrklroot", ...).
func (s *Server) submitBlock(ctx context.Context, a args) (any, error) {
	raw, err := a.hexBytes(0, errorf(codeDeserialization, "Block decode failed"))
	if err != nil {
		return nil, err
	}
	block, err := consensus.DecodeBlock(raw)
	if err != nil {
		return nil, errorf(codeDeserialization, "Block decode failed")
	}
	if len(block.Transactions) == 0 || !consensus.IsCoinBaseTx(block.Transactions[0]) {
		return nil, errorf(codeDeserialization, "Block does not start with a coinbase")
	}
	res, err := s.cfg.Chain.ProcessBlock(block)
	if err != nil {
		if reason := chain.RejectReason(err); reason != "" {
			return reason, nil
		}
		return nil, errorf(codeMisc, "block not processed: %v", err)
	}
	if !res.MainChain {
		return "inconclusive", nil
	}
	s.settlePool(ctx)
	return nil, nil
}

// settlePool waits (at most a few seconds) until the pool has heard of
// the chain's tip: calls that move the tip (submitblock, generatetoaddress,
// generateblock, invalidateblock, reconsiderblock) return with the pool
// already valid on it, as Core's
// pool is updated within ActivateBestChain, so that a getrawmempool or a
// getblocktemplate right after one sees no transaction the new tip
// confirmed or conflicts with.
// It gives up early when ctx ends: a node stopping does not wait for a
// pool that has stopped listening.
func (s *Server) settlePool(ctx context.Context) {
	if s.cfg.Mempool != nil {
		s.cfg.Mempool.WaitSynced(ctx, s.cfg.Chain.BestSnapshot().Hash)
	}
}

var submitHeaderDoc = methodDoc{
	category: catMining,
	desc:     "Decode the given hexdata as a header and submit it as a candidate chain tip if valid.\nThrows when the header is invalid.",
	args:     []argDoc{reqArg("hexdata", argHex, "the hex-encoded block header data")},
	results:  []resultDoc{rNull("None")},
	examples: exBoth(`"aabbcc"`, `"aabbcc"`),
}

func (s *Server) submitHeader(_ context.Context, a args) (any, error) {
	raw, err := a.hexBytes(0, errorf(codeDeserialization, "Block header decode failed"))
	if err != nil {
		return nil, err
	}
	h, err := consensus.DecodeHeader(raw)
	if err != nil {
		return nil, errorf(codeDeserialization, "Block header decode failed")
	}
	if _, err := s.cfg.Chain.ProcessHeaders([]wire.BlockHeader{*h}); err != nil {
		switch {
		case errors.Is(err, chain.ErrMissingParent):
			return nil, errorf(codeVerify, "Must submit previous header (%s) first", h.PrevBlock)
		case chain.RejectReason(err) != "":
			return nil, errorf(codeVerify, "%s", chain.RejectReason(err))
		}
		return nil, errorf(codeMisc, "%v", err)
	}
	return nil, nil
}

// blockInfoAt returns the main-chain block at height.
func (s *Server) blockInfoAt(height int32) (*chain.BlockInfo, error) {
	hash, err := s.cfg.Chain.BlockHashByHeight(height)
	if err != nil {
		return nil, errorf(codeInvalidParameter, "Block does not exist at specified height")
	}
	return s.blockInfo(hash)
}
