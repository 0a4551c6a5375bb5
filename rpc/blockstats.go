package rpc

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/internal/coreshape"
)

// This file holds getblockstats, Core's per-block statistics from the
// block and its undo data.

var getBlockStatsDoc = methodDoc{
	category: catBlockchain,
	desc: "Compute per block statistics for a given window. All amounts are in base units (satoshis in Bitcoin).\n" +
		"It won't work for some heights with pruning.",
	args: []argDoc{
		reqArg("hash_or_height", argNum, "The block hash or height of the target block").oneOf("string or numeric"),
		optArg("stats", argArr, "all values", "Values to plot (see result below)",
			optArg("height", argStr, "", "Selected statistic"),
			optArg("time", argStr, "", "Selected statistic"),
		),
	},
	results: []resultDoc{rObj("", "",
		rNum("avgfee", "Average fee in the block").opt(),
		rNum("avgfeerate", "Average feerate (in base units per virtual byte)").opt(),
		rNum("avgtxsize", "Average transaction size").opt(),
		rHex("blockhash", "The block hash (to check for potential reorgs)").opt(),
		rArr("feerate_percentiles", "Feerates at the 10th, 25th, 50th, 75th, and 90th percentile weight unit (in base units per virtual byte)",
			rNum("", "The 10th percentile feerate"),
			rNum("", "The 25th percentile feerate"),
			rNum("", "The 50th percentile feerate"),
			rNum("", "The 75th percentile feerate"),
			rNum("", "The 90th percentile feerate"),
		).opt(),
		rNum("height", "The height of the block").opt(),
		rNum("ins", "The number of inputs (excluding coinbase)").opt(),
		rNum("maxfee", "Maximum fee in the block").opt(),
		rNum("maxfeerate", "Maximum feerate (in base units per virtual byte)").opt(),
		rNum("maxtxsize", "Maximum transaction size").opt(),
		rNum("medianfee", "Truncated median fee in the block").opt(),
		rNum("mediantime", "The block median time past").opt(),
		rNum("mediantxsize", "Truncated median transaction size").opt(),
		rNum("minfee", "Minimum fee in the block").opt(),
		rNum("minfeerate", "Minimum feerate (in base units per virtual byte)").opt(),
		rNum("mintxsize", "Minimum transaction size").opt(),
		rNum("outs", "The number of outputs").opt(),
		rNum("subsidy", "The block subsidy").opt(),
		rNum("swtotal_size", "Total size of all segwit transactions").opt(),
		rNum("swtotal_weight", "Total weight of all segwit transactions").opt(),
		rNum("swtxs", "The number of segwit transactions").opt(),
		rNum("time", "The block time").opt(),
		rNum("total_out", "Total amount in all outputs (excluding coinbase and thus reward [ie subsidy + totalfee])").opt(),
		rNum("total_size", "Total size of all non-coinbase transactions").opt(),
		rNum("total_weight", "Total weight of all non-coinbase transactions").opt(),
		rNum("totalfee", "The fee total").opt(),
		rNum("txs", "The number of transactions (including coinbase)").opt(),
		rNum("utxo_increase", "The increase/decrease in the number of unspent outputs (not discounting op_return and similar)").opt(),
		rNum("utxo_size_inc", "The increase/decrease in size for the utxo index (not discounting op_return and similar)").opt(),
		rNum("utxo_increase_actual", "The increase/decrease in the number of unspent outputs, not counting unspendables").opt(),
		rNum("utxo_size_inc_actual", "The increase/decrease in size for the utxo index, not counting unspendables").opt(),
	)},
	examples: []exampleLine{
		exCLI(`'"` + exampleHash + `"' '["minfeerate","avgfeerate"]'`),
		exCLI(`1000 '["minfeerate","avgfeerate"]'`),
		exRPC(`"` + exampleHash + `", ["minfeerate","avgfeerate"]`),
		exRPC(`1000, ["minfeerate","avgfeerate"]`),
	},
}

// perUTXOOverhead is Core's PER_UTXO_OVERHEAD: an outpoint, a height and a
// coinbase flag, added to each output's size in utxo_size_inc.
const perUTXOOverhead = 36 + 4 + 1

// blockStats is getblockstats's answer: every statistic, in Core's order.
type blockStats struct {
	AvgFee             int64    `json:"avgfee"`
	AvgFeeRate         int64    `json:"avgfeerate"`
	AvgTxSize          int64    `json:"avgtxsize"`
	BlockHash          string   `json:"blockhash"`
	FeeRatePercentiles [5]int64 `json:"feerate_percentiles"`
	Height             int32    `json:"height"`
	Ins                int64    `json:"ins"`
	MaxFee             int64    `json:"maxfee"`
	MaxFeeRate         int64    `json:"maxfeerate"`
	MaxTxSize          int64    `json:"maxtxsize"`
	MedianFee          int64    `json:"medianfee"`
	MedianTime         int64    `json:"mediantime"`
	MedianTxSize       int64    `json:"mediantxsize"`
	MinFee             int64    `json:"minfee"`
	MinFeeRate         int64    `json:"minfeerate"`
	MinTxSize          int64    `json:"mintxsize"`
	Outs               int64    `json:"outs"`
	Subsidy            int64    `json:"subsidy"`
	SwTotalSize        int64    `json:"swtotal_size"`
	SwTotalWeight      int64    `json:"swtotal_weight"`
	SwTxs              int64    `json:"swtxs"`
	Time               int64    `json:"time"`
	TotalOut           int64    `json:"total_out"`
	TotalSize          int64    `json:"total_size"`
	TotalWeight        int64    `json:"total_weight"`
	TotalFee           int64    `json:"totalfee"`
	Txs                int64    `json:"txs"`
	UTXOIncrease       int64    `json:"utxo_increase"`
	UTXOSizeInc        int64    `json:"utxo_size_inc"`
	UTXOIncreaseActual int64    `json:"utxo_increase_actual"`
	UTXOSizeIncActual  int64    `json:"utxo_size_inc_actual"`
}

func (s *Server) getBlockStats(_ context.Context, a args) (any, error) {
	info, err := s.hashOrHeight(a)
	if err != nil {
		return nil, err
	}
	var selected []string
	if a.has(1) {
		list, err := a.list(1)
		if err != nil {
			return nil, err
		}
		for i := range list {
			name, err := list.str(i)
			if err != nil {
				return nil, err
			}
			selected = append(selected, name)
		}
	}
	block, err := s.readBlock(info.Hash)
	if err != nil {
		return nil, err
	}
	spent := make([][]coreshape.Spent, len(block.Transactions))
	if info.Height > 0 {
		// As Core's GetUndoChecked.
		entries, err := s.cfg.Chain.SpentOutputs(info.Hash, block)
		if errors.Is(err, chain.ErrBlockPruned) {
			return nil, errorf(codeMisc, "Undo data not available (pruned data)")
		} else if err != nil {
			return nil, errorf(codeMisc, "Can't read undo data from disk")
		}
		if spent, err = splitSpent(block, entries); err != nil {
			return nil, err
		}
	}
	st := computeBlockStats(block, spent, info.Height, &s.cfg.Chain.Network().Consensus)
	st.BlockHash, st.MedianTime, st.Time = info.Hash.String(), info.MedianTime, info.Header.Timestamp.Unix()
	if len(selected) == 0 {
		return st, nil
	}
	// Only the statistics asked for, each by its name.
	all := map[string]json.RawMessage{}
	if err := json.Unmarshal(mustJSON(st), &all); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(selected))
	for _, name := range selected {
		v, ok := all[name]
		if !ok {
			return nil, errorf(codeInvalidParameter, "Invalid selected statistic '%s'", name)
		}
		out[name] = v
	}
	return out, nil
}

// hashOrHeight resolves getblockstats's first argument, a block hash or a
// height of the active chain, to the block.
func (s *Server) hashOrHeight(a args) (*chain.BlockInfo, error) {
	if jsonType(a[0]) == "number" {
		height, err := a.int32At(0, 0)
		if err != nil {
			return nil, err
		}
		tip := s.cfg.Chain.BestSnapshot().Height
		switch {
		case height < 0:
			return nil, errorf(codeInvalidParameter, "Target block height %d is negative", height)
		case height > tip:
			return nil, errorf(codeInvalidParameter, "Target block height %d after current tip %d", height, tip)
		}
		h, err := s.cfg.Chain.BlockHashByHeight(height)
		if err != nil {
			return nil, errorf(codeInvalidParameter, "Block height out of range")
		}
		return s.blockInfo(h)
	}
	hash, err := a.hash(0, "hash_or_height")
	if err != nil {
		return nil, err
	}
	return s.blockInfo(hash)
}

// computeBlockStats is Core's getblockstats arithmetic over a block and
// the outputs each of its transactions spends (splitSpent's answer).
func computeBlockStats(block *wire.MsgBlock, spent [][]coreshape.Spent, height int32, p *consensus.Params) *blockStats {
	st := &blockStats{Height: height, Txs: int64(len(block.Transactions)), Subsidy: consensus.CalcBlockSubsidy(height, p)}
	minFee, minFeeRate, minTxSize := int64(-1), int64(-1), int64(-1)
	var fees, sizes []int64
	type rateWeight struct{ rate, weight int64 }
	var rates []rateWeight
	var utxos int64
	for i, tx := range block.Transactions {
		st.Outs += int64(len(tx.TxOut))
		var out int64
		for _, o := range tx.TxOut {
			out += o.Value
			size := int64(o.SerializeSize()) + perUTXOOverhead
			st.UTXOSizeInc += size
			// Genesis outputs never enter the UTXO set, nor do
			// unspendable ones.
			if height == 0 || utxo.IsUnspendable(o.PkScript) {
				continue
			}
			utxos++
			st.UTXOSizeIncActual += size
		}
		if i == 0 {
			continue // the coinbase: no input, no fee
		}
		st.Ins += int64(len(tx.TxIn))
		st.TotalOut += out
		size, weight := int64(tx.SerializeSize()), int64(consensus.TxWeight(tx))
		sizes = append(sizes, size)
		st.MaxTxSize = max(st.MaxTxSize, size)
		if minTxSize < 0 || size < minTxSize {
			minTxSize = size
		}
		st.TotalSize += size
		st.TotalWeight += weight
		if tx.HasWitness() {
			st.SwTxs++
			st.SwTotalSize += size
			st.SwTotalWeight += weight
		}
		var in int64
		for _, e := range spent[i] {
			in += e.Value
			size := int64((&wire.TxOut{Value: e.Value, PkScript: e.PkScript}).SerializeSize()) + perUTXOOverhead
			st.UTXOSizeInc -= size
			st.UTXOSizeIncActual -= size
		}
		fee := in - out
		fees = append(fees, fee)
		st.MaxFee = max(st.MaxFee, fee)
		if minFee < 0 || fee < minFee {
			minFee = fee
		}
		st.TotalFee += fee
		rate := int64(0)
		if weight > 0 {
			rate = fee * consensus.WitnessScaleFactor / weight
		}
		rates = append(rates, rateWeight{rate, weight})
		st.MaxFeeRate = max(st.MaxFeeRate, rate)
		if minFeeRate < 0 || rate < minFeeRate {
			minFeeRate = rate
		}
	}
	st.MinFee, st.MinFeeRate, st.MinTxSize = max(minFee, 0), max(minFeeRate, 0), max(minTxSize, 0)
	if n := int64(len(block.Transactions)) - 1; n > 0 {
		st.AvgFee, st.AvgTxSize = st.TotalFee/n, st.TotalSize/n
	}
	if st.TotalWeight > 0 {
		st.AvgFeeRate = st.TotalFee * consensus.WitnessScaleFactor / st.TotalWeight
	}
	st.MedianFee, st.MedianTxSize = truncatedMedian(fees), truncatedMedian(sizes)
	st.UTXOIncrease = st.Outs - st.Ins
	st.UTXOIncreaseActual = utxos - st.Ins

	// Core's CalculatePercentilesByWeight: the rate at which the
	// cumulative weight, in rate order, first reaches each percentile.
	slices.SortFunc(rates, func(x, y rateWeight) int {
		return cmp.Or(cmp.Compare(x.rate, y.rate), cmp.Compare(x.weight, y.weight))
	})
	tw := float64(st.TotalWeight)
	marks := [5]float64{tw / 10, tw / 4, tw / 2, tw * 3 / 4, tw * 9 / 10}
	next, cumulative := 0, int64(0)
	for _, r := range rates {
		cumulative += r.weight
		for next < len(marks) && float64(cumulative) >= marks[next] {
			st.FeeRatePercentiles[next] = r.rate
			next++
		}
	}
	for ; next < len(marks) && len(rates) > 0; next++ {
		st.FeeRatePercentiles[next] = rates[len(rates)-1].rate
	}
	return st
}

// truncatedMedian is Core's CalculateTruncatedMedian: the middle value, or
// the integer mean of the middle two; 0 for none.
func truncatedMedian(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return v[len(v)/2]
}
