package miner

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/mempool"
)

// TestPoolSelectionMatchesReference ensures the pool's block assembly, which
// works from its ancestor-score index, chooses what SelectTransactions
// chooses from the whole list when everything fits (the same transactions
// in the same order), and under tight limits stays within them with
// parents first. The pool holds random trees of spends with random fees.
func TestPoolSelectionMatchesReference(t *testing.T) {
	t.Parallel()
	c, g := newChain(t)
	key, _ := btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("assembly test key")))
	pk := chaintest.P2WPKHScript(key)
	hashes, err := g.GenerateToAddress(context.Background(), 130, pk, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	pool := mempool.New(mempool.Config{Chain: c})
	rng := rand.New(rand.NewPCG(7, 8))
	var free []chaintest.SpendableOut
	for _, h := range hashes[:30] {
		b, err := c.BlockByHash(h)
		if err != nil {
			t.Fatal(err)
		}
		cb := b.Transactions[0]
		free = append(free, chaintest.SpendableOut{OutPoint: wire.OutPoint{Hash: cb.TxHash()}, Amount: cb.TxOut[0].Value, PkScript: pk, Key: key})
	}
	for len(pool.TxIDs()) < 300 && len(free) > 0 {
		i := rng.IntN(len(free))
		ins := []chaintest.SpendableOut{free[i]}
		free = append(free[:i], free[i+1:]...)
		if len(free) > 0 && rng.IntN(4) == 0 {
			j := rng.IntN(len(free))
			ins = append(ins, free[j])
			free = append(free[:j], free[j+1:]...)
		}
		n := 1 + rng.IntN(3)
		tx, err := chaintest.SpendP2WPKH(ins, chaintest.SplitEvenly(ins, n, int64(150+rng.IntN(20_000))), pk)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.ProcessTransaction(tx, false); err != nil {
			continue // a chain limit: the outputs stay spent in this test
		}
		for o := range tx.TxOut {
			free = append(free, chaintest.SpendableOut{OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: uint32(o)},
				Amount: tx.TxOut[o].Value, PkScript: pk, Key: key})
		}
	}
	var list TxList
	for _, d := range pool.Descs() {
		list = append(list, &TxDesc{Tx: d.Tx, TxID: d.TxID, Fee: d.Fee, Weight: d.Weight, SigOpCost: d.SigOpCost, Parents: d.Parents})
	}
	t.Logf("%d pool transactions", len(list))
	ids := func(sel []*TxDesc) []chainhash.Hash {
		out := make([]chainhash.Hash, len(sel))
		for i, d := range sel {
			out[i] = d.TxID
		}
		return out
	}
	src := PoolSource{pool}
	tip := c.BestSnapshot().Hash
	want, wantFees := list.SelectForBlock(tip, 1<<40, 1<<40)
	got, gotFees := src.SelectForBlock(tip, 1<<40, 1<<40)
	if len(got) != len(list) || gotFees != wantFees {
		t.Fatalf("everything fits: the pool chose %d for %d, the reference %d for %d", len(got), gotFees, len(want), wantFees)
	}
	for i, id := range ids(got) {
		if id != want[i].TxID {
			t.Fatalf("everything fits: position %d is %v, the reference has %v", i, id, want[i].TxID)
		}
	}
	total := int64(0)
	for _, d := range list {
		total += d.Weight
	}
	for _, limit := range []int64{total / 2, total / 5, 4000} {
		got, fees := src.SelectForBlock(tip, limit, 1<<40)
		_, refFees := list.SelectForBlock(tip, limit, 1<<40)
		seen := make(map[chainhash.Hash]bool)
		var weight, sum int64
		for _, d := range got {
			for _, p := range d.Parents {
				if !seen[p] {
					t.Fatalf("limit %d: %v comes before its parent %v", limit, d.TxID, p)
				}
			}
			seen[d.TxID] = true
			weight += d.Weight
			sum += d.Fee
		}
		if weight > limit || sum != fees {
			t.Fatalf("limit %d: weight %d, fees %d (said %d)", limit, weight, sum, fees)
		}
		t.Logf("limit %d: %d transactions, fees %d (reference %d)", limit, len(got), fees, refFees)
		if fees*100 < refFees*95 {
			t.Fatalf("limit %d: fees %d, far below the reference's %d", limit, fees, refFees)
		}
	}
}

// TestGenerateWaitsForPool ensures a block generated right after another
// takes the pool's transactions only once the pool has heard of the first
// block: the pool follows the chain a moment behind, and a template taken
// earlier carried the transaction the first block had just confirmed, so
// the chain refused the second block (a propagation run's funding failed
// so).
func TestGenerateWaitsForPool(t *testing.T) {
	t.Parallel()
	c, g := newChain(t)
	key, _ := btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("pool lag test key")))
	pk := chaintest.P2WPKHScript(key)
	hashes, err := g.GenerateToAddress(context.Background(), 101, pk, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	pool := mempool.New(mempool.Config{Chain: c})
	// The pool hears of each block 200 ms after the chain connects it.
	sub := c.Subscribe()
	defer sub.Close()
	go func() {
		for n := range sub.C() {
			time.Sleep(200 * time.Millisecond)
			pool.HandleNotification(n)
		}
	}()
	b, err := c.BlockByHash(hashes[0])
	if err != nil {
		t.Fatal(err)
	}
	cb := b.Transactions[0]
	in := []chaintest.SpendableOut{{OutPoint: wire.OutPoint{Hash: cb.TxHash()}, Amount: cb.TxOut[0].Value, PkScript: pk, Key: key}}
	tx, err := chaintest.SpendP2WPKH(in, chaintest.SplitEvenly(in, 1, 1000), pk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.ProcessTransaction(tx, false); err != nil {
		t.Fatal(err)
	}
	g.Txs = PoolSource{pool}
	mined, err := g.GenerateToAddress(context.Background(), 2, pk, 1<<20)
	if err != nil {
		t.Fatalf("the second block took the pool's stale choice: %v", err)
	}
	first, err := c.BlockByHash(mined[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Transactions) != 2 || first.Transactions[1].TxHash() != tx.TxHash() {
		t.Fatalf("the first block holds %d transactions, not the pool's one", len(first.Transactions)-1)
	}
}
