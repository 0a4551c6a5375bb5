package rpc

import (
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// TestGetBlockStats checks getblockstats on b102 (txB, a witness spend of
// txA:0, and txC, a spend of b2's coinbase with an OP_RETURN output)
// against the statistics worked out from the transactions, then the
// genesis block, the selection of statistics, and the errors, as Core's.
func TestGetBlockStats(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	b102 := r.g.Block("b102")
	cb2Out := r.g.Block("b2").Transactions[0].TxOut[0]
	txs := []*wire.MsgTx{r.txB, r.txC}
	spent := [][]*wire.TxOut{{r.txA.TxOut[0]}, {cb2Out}}

	// utxoSize is an output's serialization plus Core's PER_UTXO_OVERHEAD.
	utxoSize := func(o *wire.TxOut) int64 {
		return int64(8+wire.VarIntSerializeSize(uint64(len(o.PkScript)))+len(o.PkScript)) + 41
	}
	var want blockStats
	want.BlockHash, want.Height, want.Txs = r.hash("b102"), 102, 3
	want.Subsidy = consensus.CalcBlockSubsidy(102, &r.net.Consensus)
	var utxos int64
	for _, tx := range b102.Transactions {
		want.Outs += int64(len(tx.TxOut))
		for _, o := range tx.TxOut {
			want.UTXOSizeInc += utxoSize(o)
			if len(o.PkScript) == 0 || o.PkScript[0] != txscript.OP_RETURN {
				utxos++
				want.UTXOSizeIncActual += utxoSize(o)
			}
		}
	}
	var fees, sizes, rates, weights []int64
	for i, tx := range txs {
		want.Ins += int64(len(tx.TxIn))
		fee := spent[i][0].Value
		want.UTXOSizeInc -= utxoSize(spent[i][0])
		want.UTXOSizeIncActual -= utxoSize(spent[i][0])
		for _, o := range tx.TxOut {
			fee -= o.Value
			want.TotalOut += o.Value
		}
		size, weight := int64(tx.SerializeSize()), int64(consensus.TxWeight(tx))
		fees, sizes, weights = append(fees, fee), append(sizes, size), append(weights, weight)
		rates = append(rates, fee*4/weight)
		want.TotalFee += fee
		want.TotalSize += size
		want.TotalWeight += weight
		if tx.HasWitness() {
			want.SwTxs++
			want.SwTotalSize += size
			want.SwTotalWeight += weight
		}
	}
	// The witness commitment and txC's OP_RETURN are unspendable.
	if want.SwTxs != 1 || utxos != want.Outs-2 {
		t.Fatalf("the test chain changed: %d segwit transactions, %d spendable outputs of %d", want.SwTxs, utxos, want.Outs)
	}
	want.MaxFee, want.MinFee = slices.Max(fees), slices.Min(fees)
	want.MaxFeeRate, want.MinFeeRate = slices.Max(rates), slices.Min(rates)
	want.MaxTxSize, want.MinTxSize = slices.Max(sizes), slices.Min(sizes)
	want.MedianFee, want.MedianTxSize = (fees[0]+fees[1])/2, (sizes[0]+sizes[1])/2
	want.AvgFee, want.AvgTxSize = want.TotalFee/2, want.TotalSize/2
	want.AvgFeeRate = want.TotalFee * 4 / want.TotalWeight
	want.UTXOIncrease, want.UTXOIncreaseActual = want.Outs-want.Ins, utxos-want.Ins
	// Two transactions: a percentile's rate is the lower one's while the
	// lower one's weight reaches the percentile's share of the total.
	lo, hi := 0, 1
	if rates[1] < rates[0] || (rates[1] == rates[0] && weights[1] < weights[0]) {
		lo, hi = 1, 0
	}
	for i, share := range []float64{0.10, 0.25, 0.50, 0.75, 0.90} {
		want.FeeRatePercentiles[i] = rates[hi]
		if float64(weights[lo]) >= share*float64(want.TotalWeight) {
			want.FeeRatePercentiles[i] = rates[lo]
		}
	}
	var header struct {
		Time, MedianTime int64
	}
	decode(t, mustCall(t, r.srv, "getblockheader", r.hash("b102")), &header)
	want.Time, want.MedianTime = header.Time, header.MedianTime

	for _, by := range []any{r.hash("b102"), 102} {
		var got blockStats
		res := mustCall(t, r.srv, "getblockstats", by)
		decode(t, res, &got)
		if got != want {
			t.Errorf("getblockstats %v:\n got %+v\nwant %+v", by, got, want)
		}
		if n := len(object(t, res)); n != 31 {
			t.Errorf("getblockstats %v: %d statistics, want Core's 31", by, n)
		}
	}

	// The genesis block: its outputs never enter the UTXO set.
	var g blockStats
	decode(t, mustCall(t, r.srv, "getblockstats", 0), &g)
	if g.Txs != 1 || g.Ins != 0 || g.Outs != 1 || g.UTXOIncrease != 1 || g.UTXOIncreaseActual != 0 || g.UTXOSizeIncActual != 0 ||
		g.TotalFee != 0 || g.MinFee != 0 || g.MinTxSize != 0 || g.FeeRatePercentiles != [5]int64{} {
		t.Errorf("genesis: %+v", g)
	}

	// Selected statistics only.
	res := mustCall(t, r.srv, "getblockstats", 102, []string{"minfeerate", "avgfeerate"})
	var sel map[string]int64
	decode(t, res, &sel)
	if len(sel) != 2 || sel["minfeerate"] != want.MinFeeRate || sel["avgfeerate"] != want.AvgFeeRate {
		t.Errorf("selected: %s", res)
	}

	for _, test := range []struct {
		name     string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{"unknown statistic", []any{102, []string{"height", "foo"}}, -8, "Invalid selected statistic 'foo'"},
		{"statistic not a string", []any{102, []any{1}}, -3, "not of expected type string"},
		{"stats not an array", []any{102, "height"}, -3, "not of expected type array"},
		{"negative height", []any{-1}, -8, "Target block height -1 is negative"},
		{"height above the tip", []any{104}, -8, "Target block height 104 after current tip 103"},
		{"unknown hash", []any{strings.Repeat("ab", 32)}, -5, "Block not found"},
		{"bad hash", []any{"00"}, -8, "hash_or_height must be of length 64"},
		{"header only", []any{r.hash("h101")}, -1, "Block not available"},
	} {
		callCase(t, r.srv, test.name, "getblockstats", test.params, test.wantCode, test.wantMsg)
	}
}
