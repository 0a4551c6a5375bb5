package explorer

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"net/http"
	"slices"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/internal/coreshape"
	"github.com/cairnchain/cairn/mempool"
)

// This file serves the paths of mempool.space's own API (/api/v1/) that
// its client library, @mempool/mempool.js, reads: blocks with their fee
// statistics, the difficulty and hash rate, and fee recommendations.

// blockExtras is mempool.space's "extras" of a block: what its
// transactions paid, from the outputs they spent.
type blockExtras struct {
	Reward          int64        `json:"reward"`
	TotalFees       int64        `json:"totalFees"`
	AvgFee          int64        `json:"avgFee"`
	AvgFeeRate      int64        `json:"avgFeeRate"`
	MedianFee       float64      `json:"medianFee"`
	FeeRange        []float64    `json:"feeRange"`
	CoinbaseRaw     string       `json:"coinbaseRaw"`
	CoinbaseAddress string       `json:"coinbaseAddress,omitempty"`
	TotalInputs     int          `json:"totalInputs"`
	TotalOutputs    int          `json:"totalOutputs"`
	UtxoSetChange   int          `json:"utxoSetChange"`
	Pool            poolJSON     `json:"pool"`
	MatchRate       *float64     `json:"matchRate"`
	Header          string       `json:"header"`
	Orphans         []orphanJSON `json:"orphans"`
}

// poolJSON names the mining pool; Cairn knows none.
type poolJSON struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// orphanJSON is a stale block beside a main-chain block.
type orphanJSON struct {
	Height int32  `json:"height"`
	Hash   string `json:"hash"`
}

type blockV1JSON struct {
	blockJSON
	Extras blockExtras `json:"extras"`
}

// percentiles are the points of feeRange: minimum, 10%, 25%, median, 75%,
// 90% and maximum, as mempool.space gives them.
var percentiles = []float64{0, 0.10, 0.25, 0.50, 0.75, 0.90, 1}

// rateRange returns the percentiles of sorted fee rates (sat/vB).
func rateRange(rates []float64) []float64 {
	out := make([]float64, len(percentiles))
	if len(rates) == 0 {
		return out
	}
	for i, p := range percentiles {
		out[i] = rates[int(math.Round(p*float64(len(rates)-1)))]
	}
	return out
}

func (s *Server) blockV1(d *blockData) (*blockV1JSON, error) {
	base, err := s.blockOf(d.info)
	if err != nil {
		return nil, err
	}
	out := &blockV1JSON{blockJSON: *base}
	x := &out.Extras
	x.Pool = poolJSON{Name: "Unknown", Slug: "unknown"}
	x.FeeRange = make([]float64, len(percentiles))
	x.Orphans = []orphanJSON{}
	var hdr bytes.Buffer
	_ = d.info.Header.Serialize(&hdr)
	x.Header = hex.EncodeToString(hdr.Bytes())
	cb := d.block.Transactions[0]
	x.CoinbaseRaw = hex.EncodeToString(cb.TxIn[0].SignatureScript)
	for _, o := range cb.TxOut {
		x.Reward += o.Value
		if x.CoinbaseAddress == "" {
			_, x.CoinbaseAddress = coreshape.ClassifyScript(o.PkScript, s.params)
		}
	}
	var rates []float64
	for i := range d.block.Transactions {
		tx := d.block.Transactions[i]
		x.TotalOutputs += len(tx.TxOut)
		if i == 0 {
			continue
		}
		x.TotalInputs += len(tx.TxIn)
		f := d.txOf(i)
		fee := f.fee()
		x.TotalFees += fee
		rates = append(rates, float64(fee)/float64((consensus.TxWeight(tx)+3)/4))
	}
	x.UtxoSetChange = x.TotalOutputs - x.TotalInputs
	if n := len(rates); n > 0 {
		x.AvgFee = x.TotalFees / int64(n)
		vsize := int64(out.Weight+3) / 4
		x.AvgFeeRate = x.TotalFees / max(vsize, 1)
		slices.Sort(rates)
		x.FeeRange = rateRange(rates)
		x.MedianFee = x.FeeRange[3]
	}
	for _, tip := range s.cfg.Chain.ChainTips() {
		// Stale blocks at this height: the tips of branches one block
		// long that fork just below it.
		if tip.Status != "active" && tip.Height == d.info.Height && tip.BranchLen == 1 {
			x.Orphans = append(x.Orphans, orphanJSON{Height: tip.Height, Hash: tip.Hash.String()})
		}
	}
	return out, nil
}

func (s *Server) blockV1Handler(w http.ResponseWriter, r *http.Request) {
	info, ok := s.blockHash(w, r)
	if !ok {
		return
	}
	d, err := s.blockData(info.Hash)
	if err == nil {
		var out *blockV1JSON
		if out, err = s.blockV1(d); err == nil {
			jsonReply(w, out)
			return
		}
	}
	fail(w, http.StatusNotFound, "Block data not available: "+err.Error())
}

// blocksV1PerPage is how many blocks /api/v1/blocks lists, as mempool.space.
const blocksV1PerPage = 15

func (s *Server) blocksV1(w http.ResponseWriter, r *http.Request) {
	start, ok := s.startHeight(w, r)
	if !ok {
		return
	}
	out := []*blockV1JSON{}
	for h := start; h >= 0 && len(out) < blocksV1PerPage; h-- {
		hash, err := s.cfg.Chain.BlockHashByHeight(h)
		if err != nil {
			break
		}
		d, err := s.blockData(hash)
		if err != nil {
			break // pruned below: the list ends there
		}
		b, err := s.blockV1(d)
		if err != nil {
			break
		}
		out = append(out, b)
	}
	jsonReply(w, out)
}

// adjustmentJSON is mempool.space's /api/v1/difficulty-adjustment. ASERT
// sets every block's target, so the "epoch" is one block: the next
// adjustment is the next block's, and difficultyChange is the change the
// next block's target makes (it depends only on the tip, so it is known).
type adjustmentJSON struct {
	ProgressPercent       float64 `json:"progressPercent"`
	DifficultyChange      float64 `json:"difficultyChange"`
	EstimatedRetargetDate int64   `json:"estimatedRetargetDate"`
	RemainingBlocks       int     `json:"remainingBlocks"`
	RemainingTime         int64   `json:"remainingTime"`
	PreviousRetarget      float64 `json:"previousRetarget"`
	PreviousTime          int64   `json:"previousTime"`
	NextRetargetHeight    int32   `json:"nextRetargetHeight"`
	TimeAvg               int64   `json:"timeAvg"`
	AdjustedTimeAvg       int64   `json:"adjustedTimeAvg"`
	TimeOffset            int64   `json:"timeOffset"`
	ExpectedBlocks        float64 `json:"expectedBlocks"`
}

// avgWindow is how many recent blocks timeAvg and the current hash rate
// average over (a day of Bitcoin's blocks).
const avgWindow = 144

// headerAt returns the main-chain header at a height.
func (s *Server) headerAt(height int32) (*chain.BlockInfo, error) {
	hash, err := s.cfg.Chain.BlockHashByHeight(height)
	if err != nil {
		return nil, err
	}
	return s.cfg.Chain.BlockInfo(hash)
}

func (s *Server) difficultyAdjustment(w http.ResponseWriter, _ *http.Request) {
	best := s.cfg.Chain.BestSnapshot()
	tip, err := s.headerAt(best.Height)
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	spacing := s.cfg.Chain.Network().Consensus.TargetSpacing
	now := time.Now()
	tipTime := tip.Header.Timestamp
	out := adjustmentJSON{RemainingBlocks: 1, NextRetargetHeight: best.Height + 1, PreviousTime: tipTime.Unix()}
	out.TimeAvg = spacing.Milliseconds()
	if best.Height > 0 {
		from := max(0, best.Height-avgWindow)
		if first, err := s.headerAt(from); err == nil {
			out.TimeAvg = tipTime.Sub(first.Header.Timestamp).Milliseconds() / int64(best.Height-from)
		}
		if parent, err := s.headerAt(best.Height - 1); err == nil {
			out.PreviousRetarget = change(parent.Header.Bits, tip.Header.Bits)
		}
	}
	out.AdjustedTimeAvg = out.TimeAvg
	out.DifficultyChange = change(tip.Header.Bits, s.cfg.Chain.CalcNextRequiredBits())
	out.EstimatedRetargetDate = tipTime.Add(spacing).UnixMilli()
	out.RemainingTime = max(0, out.EstimatedRetargetDate-now.UnixMilli())
	out.ProgressPercent = min(100, 100*float64(now.Sub(tipTime))/float64(spacing))
	out.ExpectedBlocks = float64(now.Sub(tipTime)) / float64(spacing)
	jsonReply(w, out)
}

// change is the percent change of difficulty from bits a to bits b.
func change(a, b uint32) float64 {
	da, db := coreshape.Difficulty(a), coreshape.Difficulty(b)
	if da == 0 {
		return 0
	}
	return 100 * (db/da - 1)
}

// hashrateJSON is mempool.space's /api/v1/mining/hashrate/:interval.
type hashrateJSON struct {
	Hashrates         []hashratePoint   `json:"hashrates"`
	Difficulty        []difficultyPoint `json:"difficulty"`
	CurrentHashrate   float64           `json:"currentHashrate"`
	CurrentDifficulty float64           `json:"currentDifficulty"`
}

type hashratePoint struct {
	Timestamp   int64   `json:"timestamp"`
	AvgHashrate float64 `json:"avgHashrate"`
}

type difficultyPoint struct {
	Time       int64   `json:"time"`
	Height     int32   `json:"height"`
	Difficulty float64 `json:"difficulty"`
	Adjustment float64 `json:"adjustment"`
}

// hashrateIntervals are mempool.space's intervals.
var hashrateIntervals = map[string]time.Duration{
	"1m": 30 * 24 * time.Hour, "3m": 91 * 24 * time.Hour, "6m": 182 * 24 * time.Hour,
	"1y": 365 * 24 * time.Hour, "2y": 730 * 24 * time.Hour, "3y": 1095 * 24 * time.Hour, "all": 0,
}

// hashratePoints is how many points a hash rate series has at most.
const hashratePoints = 120

// hashrateSeries estimates the network's hash rate over the main chain's
// blocks from height from to the tip, in at most hashratePoints buckets:
// each bucket's work divided by the time it took.
func (s *Server) hashrateSeries(from int32) (*hashrateJSON, error) {
	tip := s.cfg.Chain.BestSnapshot().Height
	out := &hashrateJSON{Hashrates: []hashratePoint{}, Difficulty: []difficultyPoint{}}
	from = max(from, 1)
	if tip < from {
		return out, nil
	}
	step := max(1, (tip-from+1+hashratePoints-1)/hashratePoints)
	prev, err := s.headerAt(from - 1)
	if err != nil {
		return nil, err
	}
	prevDiff := coreshape.Difficulty(prev.Header.Bits)
	for lo := from; lo <= tip; lo += step {
		hi := min(lo+step-1, tip)
		work := new(big.Int)
		var last *chain.BlockInfo
		for h := lo; h <= hi; h++ {
			info, err := s.headerAt(h)
			if err != nil {
				return nil, err
			}
			work.Add(work, consensus.CalcWork(info.Header.Bits))
			last = info
		}
		secs := last.Header.Timestamp.Sub(prev.Header.Timestamp).Seconds()
		rate := 0.0
		if secs > 0 {
			w, _ := new(big.Float).SetInt(work).Float64()
			rate = w / secs
		}
		diff := coreshape.Difficulty(last.Header.Bits)
		out.Hashrates = append(out.Hashrates, hashratePoint{Timestamp: last.Header.Timestamp.Unix(), AvgHashrate: rate})
		adj := 1.0
		if prevDiff > 0 {
			adj = diff / prevDiff
		}
		out.Difficulty = append(out.Difficulty, difficultyPoint{Time: last.Header.Timestamp.Unix(), Height: hi,
			Difficulty: diff, Adjustment: adj})
		prev, prevDiff = last, diff
	}
	out.CurrentDifficulty = out.Difficulty[len(out.Difficulty)-1].Difficulty
	// The current rate: over the last avgWindow blocks.
	cur, err := s.hashrateSeriesTail(tip)
	if err != nil {
		return nil, err
	}
	out.CurrentHashrate = cur
	return out, nil
}

// hashrateSeriesTail is the hash rate over the last avgWindow blocks.
func (s *Server) hashrateSeriesTail(tip int32) (float64, error) {
	from := max(0, tip-avgWindow)
	if tip == from {
		return 0, nil
	}
	first, err := s.headerAt(from)
	if err != nil {
		return 0, err
	}
	work := new(big.Int)
	var last *chain.BlockInfo
	for h := from + 1; h <= tip; h++ {
		if last, err = s.headerAt(h); err != nil {
			return 0, err
		}
		work.Add(work, consensus.CalcWork(last.Header.Bits))
	}
	secs := last.Header.Timestamp.Sub(first.Header.Timestamp).Seconds()
	if secs <= 0 {
		return 0, nil
	}
	w, _ := new(big.Float).SetInt(work).Float64()
	return w / secs, nil
}

func (s *Server) hashrate(w http.ResponseWriter, r *http.Request) {
	interval := r.PathValue("interval")
	if interval == "" {
		interval = "all"
	}
	span, ok := hashrateIntervals[interval]
	if !ok {
		fail(w, http.StatusBadRequest, "Invalid interval: want 1m, 3m, 6m, 1y, 2y, 3y or all")
		return
	}
	from := int32(1)
	if span > 0 {
		// The first block within the interval before the tip's time.
		best := s.cfg.Chain.BestSnapshot()
		tip, err := s.headerAt(best.Height)
		if err != nil {
			fail(w, http.StatusInternalServerError, err.Error())
			return
		}
		since := tip.Header.Timestamp.Add(-span)
		lo, hi := int32(1), best.Height
		for lo < hi {
			mid := lo + (hi-lo)/2
			info, err := s.headerAt(mid)
			if err != nil {
				fail(w, http.StatusInternalServerError, err.Error())
				return
			}
			if info.Header.Timestamp.Before(since) {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		from = lo
	}
	out, err := s.hashrateSeries(from)
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	jsonReply(w, out)
}

// feesRecommendedJSON is mempool.space's /api/v1/fees/recommended, in
// sat/vB.
type feesRecommendedJSON struct {
	FastestFee  float64 `json:"fastestFee"`
	HalfHourFee float64 `json:"halfHourFee"`
	HourFee     float64 `json:"hourFee"`
	EconomyFee  float64 `json:"economyFee"`
	MinimumFee  float64 `json:"minimumFee"`
}

// feesRecommended answers the pool's estimates for 1, 3, 6 and 144 blocks
// (mempool.space's fastest, half hour, hour and economy at ten-minute
// blocks), each at least the pool's minimum; with no estimate yet, the
// minimum.
func (s *Server) feesRecommended(w http.ResponseWriter, _ *http.Request) {
	info := s.cfg.Mempool.Info()
	minRate := math.Ceil(float64(max(info.MinFeeRate, info.MinRelayFeeRate)) / 1000)
	est := func(target int) float64 {
		rate, err := s.cfg.Mempool.EstimateFee(target)
		if err != nil || rate <= 0 {
			return minRate
		}
		return max(minRate, math.Ceil(float64(rate)/1000))
	}
	out := feesRecommendedJSON{FastestFee: est(1), HalfHourFee: est(3), HourFee: est(6), EconomyFee: est(144), MinimumFee: minRate}
	// Each is at least the next slower one.
	out.HourFee = max(out.HourFee, out.EconomyFee)
	out.HalfHourFee = max(out.HalfHourFee, out.HourFee)
	out.FastestFee = max(out.FastestFee, out.HalfHourFee)
	jsonReply(w, out)
}

// mempoolBlockJSON is one projected block of /api/v1/fees/mempool-blocks.
type mempoolBlockJSON struct {
	BlockSize  int64     `json:"blockSize"`
	BlockVSize int64     `json:"blockVSize"`
	NTx        int       `json:"nTx"`
	TotalFees  int64     `json:"totalFees"`
	MedianFee  float64   `json:"medianFee"`
	FeeRange   []float64 `json:"feeRange"`
}

// mempoolBlocks is how many blocks the projection shows at most; the last
// holds the rest of the pool, as mempool.space's.
const mempoolBlocks = 8

// feesMempoolBlocks projects the pool into blocks: transactions by their
// ancestor package's fee rate (what a miner's selection ranks by, parents
// first), filled into blocks of the consensus weight limit.
func (s *Server) feesMempoolBlocks(w http.ResponseWriter, _ *http.Request) {
	descs := s.cfg.Mempool.Descs()
	rate := func(d *mempool.TxDesc) float64 {
		return min(float64(d.Fee)/float64(max(d.VSize, 1)), float64(d.AncestorFees)/float64(max(d.AncestorSize, 1)))
	}
	slices.SortFunc(descs, func(a, b *mempool.TxDesc) int {
		return cmp.Or(cmp.Compare(rate(b), rate(a)), cmp.Compare(a.AncestorCount, b.AncestorCount))
	})
	limit := int64(consensus.MaxBlockWeight / 4)
	out := []mempoolBlockJSON{}
	var rates []float64
	flush := func() {
		b := &out[len(out)-1]
		slices.Sort(rates)
		b.FeeRange = rateRange(rates)
		b.MedianFee = b.FeeRange[3]
		rates = rates[:0]
	}
	for _, d := range descs {
		if len(out) == 0 || (out[len(out)-1].BlockVSize+d.VSize > limit && len(out) < mempoolBlocks) {
			if len(out) > 0 {
				flush()
			}
			out = append(out, mempoolBlockJSON{})
		}
		b := &out[len(out)-1]
		b.BlockVSize += d.VSize
		b.BlockSize += int64(d.Tx.SerializeSize())
		b.NTx++
		b.TotalFees += d.Fee
		rates = append(rates, float64(d.Fee)/float64(max(d.VSize, 1)))
	}
	if len(out) > 0 {
		flush()
	}
	jsonReply(w, out)
}

// cpfpTx is a transaction of a CPFP answer.
type cpfpTx struct {
	TxID   string `json:"txid"`
	Fee    int64  `json:"fee"`
	Weight int64  `json:"weight"`
}

// cpfpJSON is mempool.space's /api/v1/cpfp/:txid: the pool ancestors and
// descendants of a transaction, and the fee rate a miner effectively gets
// for it (its ancestor package's rate, raised by the best package a
// descendant makes with it).
type cpfpJSON struct {
	Ancestors            []cpfpTx `json:"ancestors"`
	Descendants          []cpfpTx `json:"descendants"`
	BestDescendant       *cpfpTx  `json:"bestDescendant"`
	EffectiveFeePerVsize float64  `json:"effectiveFeePerVsize"`
	AdjustedVsize        int64    `json:"adjustedVsize"`
}

func (s *Server) cpfp(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("txid")
	txid, err := chainhash.NewHashFromStr(v)
	if err != nil || len(v) != 2*chainhash.HashSize {
		fail(w, http.StatusBadRequest, "Invalid hex string")
		return
	}
	d, err := s.cfg.Mempool.Entry(*txid)
	if errors.Is(err, mempool.ErrNotInPool) {
		// Confirmed (or unknown): no package; its own rate, if found.
		f, ferr := s.findTx(*txid)
		if ferr != nil {
			fail(w, http.StatusNotFound, "Transaction not found")
			return
		}
		vsize := int64(consensus.TxWeight(f.tx)+3) / 4
		jsonReply(w, cpfpJSON{Ancestors: []cpfpTx{}, Descendants: []cpfpTx{}, AdjustedVsize: vsize,
			EffectiveFeePerVsize: float64(f.fee()) / float64(vsize)})
		return
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := cpfpJSON{Ancestors: []cpfpTx{}, Descendants: []cpfpTx{}, AdjustedVsize: d.VSize}
	anc, _ := s.cfg.Mempool.Ancestors(*txid)
	for _, a := range anc {
		if a.TxID != *txid {
			out.Ancestors = append(out.Ancestors, cpfpTx{TxID: a.TxID.String(), Fee: a.Fee, Weight: a.Weight})
		}
	}
	out.EffectiveFeePerVsize = float64(d.AncestorFees) / float64(max(d.AncestorSize, 1))
	desc, _ := s.cfg.Mempool.Descendants(*txid)
	best := 0.0
	for _, c := range desc {
		if c.TxID == *txid {
			continue
		}
		ct := cpfpTx{TxID: c.TxID.String(), Fee: c.Fee, Weight: c.Weight}
		out.Descendants = append(out.Descendants, ct)
		if r := float64(c.AncestorFees) / float64(max(c.AncestorSize, 1)); r > best {
			best = r
			out.BestDescendant = &ct
		}
	}
	out.EffectiveFeePerVsize = max(out.EffectiveFeePerVsize, best)
	jsonReply(w, out)
}

// txMerkleBlockProof answers the BIP37 merkle block proving the
// transaction in its block, in hex (what Core's gettxoutproof answers).
func (s *Server) txMerkleBlockProof(w http.ResponseWriter, r *http.Request) {
	f, d, ok := s.confirmedTx(w, r)
	if !ok {
		return
	}
	mb := consensus.NewMerkleBlock(&d.block.Header, d.txids, func(i int) bool { return i == int(f.pos) })
	var buf bytes.Buffer
	if err := mb.BtcEncode(&buf, wire.ProtocolVersion, wire.BaseEncoding); err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	text(w, hex.EncodeToString(buf.Bytes()))
}
