package chain

import (
	"errors"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
)

// TestUnrequestedBlocks ensures a block nobody asked for is stored only
// when its chain has at least the tip's work (Core's AcceptBlock:
// fHasMoreOrSameWork), and that one on a less-work fork leaves neither
// body nor header behind, while the same block asked for is stored.
//
//	genesis -> a0 -> a1 -> a2 -> a3   (tip)
//	                   |     \-> s3   (equal work: stored, not the tip)
//	                   \-> f2 -> f3   (less work: dropped unless asked for)
func TestUnrequestedBlocks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("a", 4) // a0..a3
	h.g.SetTip("a1")
	f2 := h.g.NextBlock("f2", nil, nil)
	f3 := h.g.NextBlock("f3", nil, nil)
	h.g.SetTip("a2")
	sibling := h.g.NextBlock("s3", nil, nil)

	for _, b := range []struct {
		name string
		err  error
	}{{"f2", ErrNotWanted}, {"f3", ErrMissingParent}} {
		blk := h.g.Block(b.name)
		if err := h.chain.WantsUnrequested(&blk.Header); !errors.Is(err, b.err) {
			t.Fatalf("WantsUnrequested(%s): %v, want %v", b.name, err, b.err)
		}
		if _, err := h.chain.ProcessUnrequestedBlock(blk); !errors.Is(err, b.err) {
			t.Fatalf("ProcessUnrequestedBlock(%s): %v, want %v", b.name, err, b.err)
		}
		hash := consensus.BlockHash(&blk.Header)
		if h.chain.HaveHeader(hash) || h.chain.HaveBlock(hash) {
			t.Fatalf("%s: a less-work unrequested block left its header or body", b.name)
		}
	}
	if n := len(h.chain.ChainTips()); n != 1 {
		t.Fatalf("%d chain tips after the dropped fork, want 1", n)
	}

	// An equal-work sibling of the tip is kept (the next block may make
	// its branch the best), but does not become the tip.
	res, err := h.chain.ProcessUnrequestedBlock(sibling)
	if err != nil || res.MainChain {
		t.Fatalf("equal-work sibling: %+v, %v", res, err)
	}
	if !h.chain.HaveBlock(res.Hash) {
		t.Fatal("equal-work sibling not stored")
	}
	if err := h.chain.WantsUnrequested(&sibling.Header); !errors.Is(err, ErrDuplicateBlock) {
		t.Fatalf("WantsUnrequested of a stored block: %v", err)
	}

	// Asked for (sync) or given by RPC, the less-work fork is stored.
	for _, blk := range []string{"f2", "f3"} {
		if _, err := h.chain.ProcessBlock(h.g.Block(blk)); err != nil {
			t.Fatalf("requested %s: %v", blk, err)
		}
	}
	if !h.chain.HaveBlock(consensus.BlockHash(&f3.Header)) || !h.chain.HaveBlock(consensus.BlockHash(&f2.Header)) {
		t.Fatal("requested fork blocks not stored")
	}
	h.expectTip("a3")
}

// TestUnrequestedTooFarAhead ensures an unrequested block more than 288
// blocks above the tip is not stored (Core's fTooFarAhead), even on the
// best chain: the node fetches such blocks itself as it syncs.
func TestUnrequestedTooFarAhead(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for i := 0; i < maxUnrequestedAhead; i++ {
		h.g.NextBlock("h"+itoa(i), nil, nil)
		if _, err := h.chain.ProcessHeaders([]wire.BlockHeader{h.g.Tip().Header}); err != nil {
			t.Fatal(err)
		}
	}
	last := h.g.Tip()
	next := h.g.NextBlock("far", nil, nil)
	if _, err := h.chain.ProcessHeaders([]wire.BlockHeader{next.Header}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.chain.ProcessUnrequestedBlock(next); !errors.Is(err, ErrNotWanted) {
		t.Fatalf("block %d above the tip: %v, want ErrNotWanted", maxUnrequestedAhead+1, err)
	}
	if err := h.chain.WantsUnrequested(&last.Header); err != nil {
		t.Fatalf("block %d above the tip: %v, want it wanted", maxUnrequestedAhead, err)
	}
}

// TestAntiDoSWorkThreshold ensures the threshold is the tip's work less
// 144 blocks' (Core's GetAntiDoSWorkThreshold), never below the network's
// minimum chain work, and zero while the chain is shorter than 144 blocks.
func TestAntiDoSWorkThreshold(t *testing.T) {
	t.Parallel()
	net := chainparams.Regtest()
	block := consensus.CalcWork(net.Consensus.PowLimitBits)
	blocks := func(n int64) *big.Int { return new(big.Int).Mul(block, big.NewInt(n)) }

	h := newHarnessNet(t, net)
	h.mine("a", 100)
	if got := h.chain.AntiDoSWorkThreshold(); got.Sign() != 0 {
		t.Fatalf("threshold at height 100: %v, want 0", got)
	}
	h.mine("b", 100) // height 200, chain work of 201 blocks
	if got, want := h.chain.AntiDoSWorkThreshold(), blocks(201-antiDoSBlocks); got.Cmp(want) != 0 {
		t.Fatalf("threshold at height 200: %v, want %v", got, want)
	}

	strict := chainparams.Regtest()
	strict.Consensus.MinimumChainWork = blocks(1000)
	h = newHarnessNet(t, strict)
	h.mine("a", 10)
	if got := h.chain.AntiDoSWorkThreshold(); got.Cmp(blocks(1000)) != 0 {
		t.Fatalf("threshold with a minimum chain work: %v, want %v", got, blocks(1000))
	}
}
