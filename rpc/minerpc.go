package rpc

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

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

func (s *Server) getMiningInfo(context.Context, args) (any, error) {
	best := s.cfg.Chain.BestSnapshot()
	ps, err := s.networkHashPS(120, best.Height)
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

func (s *Server) getNetworkHashPS(_ context.Context, a args) (any, error) {
	n, err := a.int64At(0, 120)
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
		n = 120 // no difficulty periods under ASERT: Core's default window
	}
	if n == -1 || n > height {
		n = height
	}
	return s.networkHashPS(int32(n), int32(height))
}

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

// blockInfoAt returns the main-chain block at height.
func (s *Server) blockInfoAt(height int32) (*chain.BlockInfo, error) {
	hash, err := s.cfg.Chain.BlockHashByHeight(height)
	if err != nil {
		return nil, errorf(codeInvalidParameter, "Block does not exist at specified height")
	}
	return s.blockInfo(hash)
}
