package miner

import (
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

func desc(id byte, fee, weight int64, parents ...byte) *TxDesc {
	d := &TxDesc{TxID: chainhash.Hash{id}, Fee: fee, Weight: weight, SigOpCost: 4}
	for _, p := range parents {
		d.Parents = append(d.Parents, chainhash.Hash{p})
	}
	return d
}

// TestSelectTransactions ensures selection by ancestor fee rate: a rich
// child lifts its poor parent ahead of a middling transaction, parents come
// before children, limits are respected, and orphans are left out.
func TestSelectTransactions(t *testing.T) {
	t.Parallel()
	ids := func(sel []*TxDesc) []byte {
		var out []byte
		for _, d := range sel {
			out = append(out, d.TxID[0])
		}
		return out
	}
	tests := []struct {
		name      string
		descs     []*TxDesc
		maxWeight int64
		maxSigOps int64
		want      []byte
		wantFees  int64
	}{
		{
			name:      "by fee rate",
			descs:     []*TxDesc{desc(1, 100, 400), desc(2, 300, 400), desc(3, 200, 400)},
			maxWeight: 10_000, maxSigOps: 1000,
			want: []byte{2, 3, 1}, wantFees: 600,
		},
		{
			name: "child pays for parent",
			// parent 1 alone: 10/400; with child 2: 810/800 beats 3: 300/400.
			descs:     []*TxDesc{desc(1, 10, 400), desc(2, 800, 400, 1), desc(3, 300, 400)},
			maxWeight: 10_000, maxSigOps: 1000,
			want: []byte{1, 2, 3}, wantFees: 1110,
		},
		{
			name:      "weight limit skips a package that does not fit",
			descs:     []*TxDesc{desc(1, 1000, 900), desc(2, 100, 400), desc(3, 50, 400)},
			maxWeight: 800, maxSigOps: 1000,
			want: []byte{2, 3}, wantFees: 150,
		},
		{
			name:      "sigop limit",
			descs:     []*TxDesc{desc(1, 100, 400), desc(2, 90, 400)},
			maxWeight: 10_000, maxSigOps: 4,
			want: []byte{1}, wantFees: 100,
		},
		{
			name:      "parent missing from the pool",
			descs:     []*TxDesc{desc(1, 100, 400, 9), desc(2, 50, 400)},
			maxWeight: 10_000, maxSigOps: 1000,
			want: []byte{2}, wantFees: 50,
		},
		{
			name:      "empty pool",
			maxWeight: 10_000, maxSigOps: 1000,
		},
	}
	for _, test := range tests {
		sel, fees := SelectTransactions(test.descs, test.maxWeight, test.maxSigOps)
		if got := ids(sel); string(got) != string(test.want) || fees != test.wantFees {
			t.Errorf("%q: selected %v fees %d, want %v fees %d", test.name, got, fees, test.want, test.wantFees)
		}
	}
}
