package chain

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// pruneNet is regtest with nothing pruned below height 100 (the chain
// spec's prune_after_height) instead of 1,000.
func pruneNet() *chainparams.Network {
	n := chainparams.Regtest()
	n.PruneAfterHeight = 100
	return n
}

// pruneConfig returns a test configuration that prunes: files of 16 KiB,
// the target (bytes; 0 for manual pruning only) allowed under the minimum.
func pruneConfig(target int64) func(*Config) {
	return func(c *Config) {
		c.TxIndex = false
		c.BlockFilterIndex = true
		c.Prune = true
		c.PruneTarget = target
		c.maxBlockFile = 16 << 10
		c.smallPruneTarget = true
	}
}

// mineSpending extends h's chain by n blocks, each spending the coinbase
// of the block 100 below it once there is one, so that blocks have undo
// data, checking after each what check says.
func mineSpending(h *harness, prefix string, n int, check func(i int)) {
	h.t.Helper()
	for i := 0; i < n; i++ {
		var spend *chaintest.SpendableOut
		if height := h.g.TipHeight() + 1; height > 101 {
			out := h.g.CoinbaseOut(h.g.NameOf(mustHash(h.chain.BlockHashByHeight(height - 100))))
			spend = &out
		}
		h.g.NextBlock(fmt.Sprintf("%s%d", prefix, i), spend, nil)
		h.acceptTip()
		if check != nil {
			check(i)
		}
	}
}

func mustHash[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPruneAutomatic ensures automatic pruning keeps the block and undo
// files under the target at every block, deletes only whole files below
// the last MinBlocksToKeep blocks, leaves the UTXO set what an unpruned
// node has, still reorganizes within what it keeps, refuses deeper
// reorganizations cleanly, and restarts pruned.
func TestPruneAutomatic(t *testing.T) {
	const target = 160 << 10
	h := newHarnessConfig(t, pruneNet(), pruneConfig(target))
	full := newHarness(t) // the same blocks, unpruned
	full.g = h.g
	peak := int64(0)
	mineSpending(h, "b", 700, func(int) {
		peak = max(peak, h.chain.files.Usage())
		if u := h.chain.files.Usage(); u > target {
			t.Fatalf("block files take %d bytes at height %d, over the target of %d", u, h.g.TipHeight(), target)
		}
	})
	tip := h.chain.BestSnapshot()
	ps := h.chain.PruneState()
	t.Logf("height %d: files %d bytes (peak %d, target %d), lowest stored block %d",
		tip.Height, h.chain.files.Usage(), peak, target, ps.Height)
	if !ps.Enabled || !ps.Automatic || ps.Target != target || ps.Height <= 1 {
		t.Fatalf("prune state %+v after 700 blocks over a %d-byte target", ps, target)
	}
	if ps.Height > tip.Height-MinBlocksToKeep {
		t.Fatalf("lowest stored block %d: the last %d blocks below tip %d are not all kept", ps.Height, MinBlocksToKeep, tip.Height)
	}
	for height := ps.Height; height <= tip.Height; height++ {
		if _, err := h.chain.BlockByHeight(height); err != nil {
			t.Fatalf("kept block at height %d: %v", height, err)
		}
	}
	_, err := h.chain.BlockByHeight(ps.Height - 1)
	if !errors.Is(err, ErrBlockPruned) || !errors.Is(err, ErrNoBlockData) {
		t.Fatalf("pruned block at height %d: %v, want ErrBlockPruned", ps.Height-1, err)
	}
	if info, _ := h.chain.BlockInfo(mustHash(h.chain.BlockHashByHeight(1))); info.HaveData {
		t.Fatal("block 1 still says it has its data")
	}
	// The filter index keeps serving pruned blocks' filters, as Core's.
	for _, height := range []int32{1, ps.Height - 1, tip.Height} {
		if _, _, err := h.chain.BlockFilter(mustHash(h.chain.BlockHashByHeight(height))); err != nil {
			t.Fatalf("filter of the block at %d: %v", height, err)
		}
	}

	// The same UTXO set as a node that keeps everything.
	for height := int32(1); height <= tip.Height; height++ {
		block := h.g.Block(h.g.NameOf(mustHash(h.chain.BlockHashByHeight(height))))
		if _, err := full.chain.ProcessBlock(block); err != nil {
			t.Fatal(err)
		}
	}
	a, err := h.chain.UtxoSetStats()
	if err != nil {
		t.Fatal(err)
	}
	b, err := full.chain.UtxoSetStats()
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash || a.BestHash != b.BestHash {
		t.Fatalf("pruned UTXO set %v at %v, unpruned %v at %v", a.Hash, a.BestHash, b.Hash, b.BestHash)
	}

	// A reorganization within what is kept works.
	h.g.SetTip(h.g.NameOf(mustHash(h.chain.BlockHashByHeight(tip.Height - 10))))
	for i := 0; i < 11; i++ {
		h.g.NextBlock(fmt.Sprintf("near%d", i), nil, nil)
		h.chain.ProcessBlock(h.g.Tip())
	}
	h.expectTip("near10")

	// One deeper than that fails clearly and changes nothing.
	before := h.chain.BestSnapshot()
	h.g.SetTip(h.g.NameOf(mustHash(h.chain.BlockHashByHeight(ps.Height - 5))))
	var last error
	for i := int32(0); i < before.Height-ps.Height+8; i++ {
		h.g.NextBlock(fmt.Sprintf("deep%d", i), nil, nil)
		_, last = h.chain.ProcessBlock(h.g.Tip())
	}
	if !errors.Is(last, ErrPrunedReorg) {
		t.Fatalf("a chain forking below the pruned height with more work: %v, want ErrPrunedReorg", last)
	}
	if got := h.chain.BestSnapshot(); got.Hash != before.Hash {
		t.Fatalf("the tip moved to %v at %d", got.Hash, got.Height)
	}
	if _, err := h.chain.UtxoSetStats(); err != nil {
		t.Fatal(err)
	}

	// Restarts: pruned, and refused without prune mode or with the
	// transaction index.
	ps = h.chain.PruneState()
	h.restart()
	if got := h.chain.PruneState(); got.Height != ps.Height {
		t.Fatalf("lowest stored block %d after a restart, was %d", got.Height, ps.Height)
	}
	if got := h.chain.BestSnapshot(); got.Hash != before.Hash {
		t.Fatalf("tip %v after a restart, want %v", got.Hash, before.Hash)
	}
	h.chain.Close()
	cfg := h.cfg
	cfg.Prune, cfg.PruneTarget = false, 0
	if _, err := New(cfg); !errors.Is(err, ErrPruneMode) {
		t.Fatalf("a pruned database opened without prune mode: %v, want ErrPruneMode", err)
	}
	cfg = h.cfg
	cfg.TxIndex = true
	if _, err := New(cfg); !errors.Is(err, ErrPruneMode) {
		t.Fatalf("prune mode with the transaction index: %v, want ErrPruneMode", err)
	}
	h.chain = nil
}

// TestPruneManual ensures PruneBlockchain deletes the files wholly below the
// height asked, never the last MinBlocksToKeep blocks, and answers Core's
// errors outside prune mode and on a short chain.
func TestPruneManual(t *testing.T) {
	h := newHarnessConfig(t, pruneNet(), pruneConfig(0))
	mineSpending(h, "a", 50, nil)
	if _, err := h.chain.PruneBlockchain(40); !errors.Is(err, ErrPruneMode) {
		t.Fatalf("pruning a chain shorter than the prune-after height: %v", err)
	}
	mineSpending(h, "b", 400, nil)
	if got := h.chain.PruneState(); got.Automatic || got.Height != 0 {
		t.Fatalf("prune state %+v before any pruning", got)
	}
	last, err := h.chain.PruneBlockchain(100)
	if err != nil {
		t.Fatal(err)
	}
	if last <= 0 || last > 100 {
		t.Fatalf("pruning up to 100 pruned up to %d", last)
	}
	if h.chain.HaveBlock(mustHash(h.chain.BlockHashByHeight(last))) || !h.chain.HaveBlock(mustHash(h.chain.BlockHashByHeight(last+1))) {
		t.Fatalf("the last block pruned is not %d", last)
	}
	tip := h.chain.BestSnapshot().Height
	last, err = h.chain.PruneBlockchain(tip)
	if err != nil {
		t.Fatal(err)
	}
	if last > tip-MinBlocksToKeep {
		t.Fatalf("pruning up to the tip pruned up to %d, within the last %d blocks of %d", last, MinBlocksToKeep, tip)
	}
	for height := tip - MinBlocksToKeep + 1; height <= tip; height++ {
		if !h.chain.HaveBlock(mustHash(h.chain.BlockHashByHeight(height))) {
			t.Fatalf("block %d of the last %d was pruned", height, MinBlocksToKeep)
		}
	}

	unpruned := newHarness(t)
	unpruned.mine("x", 3)
	if _, err := unpruned.chain.PruneBlockchain(1); !errors.Is(err, ErrPruneMode) {
		t.Fatalf("pruning outside prune mode: %v", err)
	}
}

// TestPruneInvalidateDeep ensures invalidating a block whose disconnection
// needs pruned undo data is refused before anything is disconnected.
func TestPruneInvalidateDeep(t *testing.T) {
	h := newHarnessConfig(t, pruneNet(), pruneConfig(0))
	mineSpending(h, "b", 500, nil)
	last, err := h.chain.PruneBlockchain(300)
	if err != nil || last < 50 {
		t.Fatalf("pruned to %d: %v", last, err)
	}
	tip := h.chain.BestSnapshot()
	err = h.chain.InvalidateBlock(mustHash(h.chain.BlockHashByHeight(last - 1)))
	if !errors.Is(err, ErrPrunedReorg) {
		t.Fatalf("invalidating a pruned block: %v, want ErrPrunedReorg", err)
	}
	if got := h.chain.BestSnapshot(); got.Hash != tip.Hash {
		t.Fatalf("the tip moved to %d", got.Height)
	}
	if err := h.chain.InvalidateBlock(tip.Hash); err != nil {
		t.Fatal(err)
	}
}
