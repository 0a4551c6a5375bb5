package mempool

import (
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestPoolLifecycle ensures a chain of unconfirmed transactions is
// accepted, a replacement paying more evicts the original with its child,
// a mined block takes its transactions out, a disconnected block returns
// them, and a save and load keeps the pool.
func TestPoolLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 3)
	parent := h.spend([]chaintest.SpendableOut{h.coinbase(0)}, 2, 1000)
	child := h.spend([]chaintest.SpendableOut{h.out(parent, 0)}, 1, 1000)
	for _, tx := range []*wire.MsgTx{parent, child} {
		if _, err := h.pool.ProcessTransaction(tx, false); err != nil {
			t.Fatalf("accept %v: %v", tx.TxHash(), err)
		}
	}
	if d, err := h.pool.Entry(child.TxHash()); err != nil || d.AncestorCount != 2 {
		t.Fatalf("child entry %+v, %v", d, err)
	}
	// Same input as parent, too little fee: refused.
	cheap := h.spend([]chaintest.SpendableOut{h.coinbase(0)}, 1, 1500)
	if _, err := h.pool.ProcessTransaction(cheap, false); Reason(err) != "insufficient fee" {
		t.Fatalf("cheap replacement: %v", err)
	}
	rich := h.spend([]chaintest.SpendableOut{h.coinbase(0)}, 1, 10_000)
	res, err := h.pool.ProcessTransaction(rich, false)
	if err != nil || len(res.Replaced) != 2 {
		t.Fatalf("replacement: %+v, %v", res, err)
	}
	if h.pool.Have(parent.TxHash()) || h.pool.Have(child.TxHash()) || !h.pool.Have(rich.TxHash()) {
		t.Fatal("replacement did not evict the original and its child")
	}

	other := h.spend([]chaintest.SpendableOut{h.coinbase(1)}, 1, 2000)
	if _, err := h.pool.ProcessTransaction(other, false); err != nil {
		t.Fatal(err)
	}
	seen := 0
	found := h.pool.TxsMatching(func(w chainhash.Hash) bool { seen++; return w == other.WitnessHash() })
	if seen != 2 || len(found) != 1 || found[other.WitnessHash()].TxHash() != other.TxHash() {
		t.Fatalf("TxsMatching saw %d wtxids and found %v", seen, found)
	}
	block := h.mine("m1", rich)
	if h.pool.Have(rich.TxHash()) || !h.pool.Have(other.TxHash()) {
		t.Fatal("mined transaction still in the pool, or the other gone")
	}
	if err := h.chain.InvalidateBlock(block.BlockHash()); err != nil {
		t.Fatal(err)
	}
	h.pool.HandleNotification(chain.Notification{Type: chain.BlockDisconnected, Block: block})
	if !h.pool.Have(rich.TxHash()) {
		t.Fatal("disconnected block's transaction did not return")
	}

	path := filepath.Join(t.TempDir(), "mempool.dat")
	if err := h.pool.Save(path); err != nil {
		t.Fatal(err)
	}
	fresh := New(Config{Chain: h.chain, Now: h.pool.now})
	if n, err := fresh.Load(path); err != nil || n != 2 || !fresh.Have(rich.TxHash()) || !fresh.Have(other.TxHash()) {
		t.Fatalf("load: %d, %v", n, err)
	}
}

// TestOrphans ensures a child arriving before its parent waits and enters
// the pool with it.
func TestOrphans(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 1)
	parent := h.spend([]chaintest.SpendableOut{h.coinbase(0)}, 1, 1000)
	child := h.spend([]chaintest.SpendableOut{h.out(parent, 0)}, 1, 1000)
	res, err := h.pool.ProcessTransaction(child, true)
	if err != nil || !res.Orphaned || h.pool.OrphanCount() != 1 {
		t.Fatalf("orphan: %+v, %v", res, err)
	}
	if _, err := h.pool.ProcessTransaction(child, false); Reason(err) != "bad-txns-inputs-missingorspent" {
		t.Fatalf("without orphans allowed: %v", err)
	}
	res, err = h.pool.ProcessTransaction(parent, true)
	if err != nil || len(res.Accepted) != 2 || h.pool.OrphanCount() != 0 {
		t.Fatalf("parent: %+v, %v", res, err)
	}
}
