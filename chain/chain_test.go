package chain

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestSpendAndRestart ensures a chain that spends mature coinbases connects,
// keeps the same tip and UTXO set across a restart, and indexes its
// transactions.
func TestSpendAndRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("b", 101)
	out := h.g.CoinbaseOut("b0")
	h.g.NextBlock("spend", &out, nil)
	h.acceptTip()
	checkUtxoSet(t, h.chain)

	h.restart()
	h.expectTip("spend")
	checkUtxoSet(t, h.chain)

	tx := h.g.Block("spend").Transactions[1]
	got, loc, err := h.chain.FetchTransaction(tx.TxHash())
	if err != nil || got.TxHash() != tx.TxHash() || loc.Index != 1 {
		t.Fatalf("FetchTransaction: %v %v %v", got, loc, err)
	}
}

// TestImmatureSpend ensures a coinbase output cannot be spent before 100
// confirmations.
func TestImmatureSpend(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("b", 99)
	out := h.g.CoinbaseOut("b0")
	h.g.NextBlock("early", &out, nil)
	h.reject("early", ErrImmatureSpend)
	h.expectTip("b98")
}

// TestReorg ensures a heavier side chain of several blocks replaces the
// main chain, that equal work keeps the chain seen first, and that the
// UTXO set matches the new chain.
//
//	genesis -> ... -> b101 -> s0 -> s1
//	                       \-> f0 -> f1 -> f2
func TestReorg(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("b", 102)
	out0, out1 := h.g.CoinbaseOut("b0"), h.g.CoinbaseOut("b1")
	h.g.NextBlock("s0", &out0, nil)
	h.acceptTip()
	h.g.NextBlock("s1", &out1, nil)
	h.acceptTip()

	h.g.SetTip("b101")
	h.g.NextBlock("f0", &out1, nil)
	if res := h.accept("f0"); res.MainChain {
		t.Fatal("side block f0 on the main chain")
	}
	h.g.NextBlock("f1", nil, nil)
	if res := h.accept("f1"); res.MainChain {
		t.Fatal("equal-work f1 replaced the chain seen first")
	}
	h.expectTip("s1")
	h.g.NextBlock("f2", &out0, nil)
	h.acceptTip()
	checkUtxoSet(t, h.chain)

	h.restart()
	h.expectTip("f2")
	checkUtxoSet(t, h.chain)
}

// TestReorgToInvalidBranch ensures that when a heavier branch holds a block
// that fails on connection, it and its descendants are marked invalid and
// the chain returns to the best valid chain.
//
//	... -> b101 -> s0
//	           \-> f0 -> f1(double spend of b0's coinbase) -> f2
func TestReorgToInvalidBranch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("b", 102)
	out0 := h.g.CoinbaseOut("b0")
	h.g.NextBlock("s0", nil, nil)
	h.acceptTip()

	h.g.SetTip("b101")
	h.g.NextBlock("f0", &out0, nil)
	h.accept("f0")
	h.g.NextBlock("f1", &out0, nil)
	h.reject("f1", ErrMissingOrSpentInput)
	h.expectTip("s0")
	checkUtxoSet(t, h.chain)

	h.g.NextBlock("f2", nil, nil)
	h.reject("f2", ErrInvalidAncestor)
	h.reject("f1", ErrKnownInvalid)
}

// TestOrphanAndHeadersFirst ensures a block with an unknown parent is
// refused with ErrMissingParent and that headers and blocks may arrive out of
// order.
func TestOrphanAndHeadersFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b1 := h.g.NextBlock("b1", nil, nil)
	b2 := h.g.NextBlock("b2", nil, nil)
	b3 := h.g.NextBlock("b3", nil, nil)
	h.reject("b2", ErrMissingParent)

	if n, err := h.chain.ProcessHeaders([]wire.BlockHeader{b1.Header, b2.Header, b3.Header}); err != nil || n != 3 {
		t.Fatalf("ProcessHeaders: %d, %v", n, err)
	}
	if res := h.accept("b3"); res.MainChain {
		t.Fatal("b3 on the main chain before its parents")
	}
	h.accept("b2")
	h.accept("b1")
	h.expectTip("b3")
	h.reject("b3", ErrDuplicateBlock)
}

// TestInvalidateReconsider ensures InvalidateBlock moves the tip to the best
// other chain and ReconsiderBlock brings the block back.
func TestInvalidateReconsider(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("b", 5)
	h.g.SetTip("b2")
	h.g.NextBlock("f3", nil, nil)
	h.accept("f3")

	hash := h.g.Block("b3").BlockHash()
	if err := h.chain.InvalidateBlock(hash); err != nil {
		t.Fatal(err)
	}
	h.expectTip("f3")
	h.restart()
	h.expectTip("f3")
	if err := h.chain.ReconsiderBlock(hash); err != nil {
		t.Fatal(err)
	}
	h.expectTip("b4")
	if err := h.chain.InvalidateBlock(h.g.Block("genesis").BlockHash()); !errors.Is(err, ErrInvalidateGenesis) {
		t.Fatalf("invalidate genesis: %v", err)
	}
}

// TestNotifications ensures subscribers see connects and disconnects in
// order.
func TestNotifications(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sub := h.chain.Subscribe()
	defer sub.Close()
	h.mine("b", 2)
	h.g.SetTip("genesis")
	h.g.NextBlock("f1", nil, nil)
	h.accept("f1")
	h.g.NextBlock("f2", nil, nil)
	h.accept("f2")
	h.g.NextBlock("f3", nil, nil)
	h.accept("f3")
	want := []string{"+b0", "+b1", "-b1", "-b0", "+f1", "+f2", "+f3"}
	for i, w := range want {
		n := <-sub.C()
		sign := "+"
		if n.Type == BlockDisconnected {
			sign = "-"
		}
		if got := sign + h.g.NameOf(n.Hash); got != w {
			t.Fatalf("notification %d: got %s, want %s", i, got, w)
		}
	}
	_ = chaintest.OpTrueScript
}
