package chain

import (
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

// TestQueries ensures the lookups other packages use answer for main-chain,
// side-chain and unknown blocks.
//
//	genesis -> b0 -> ... -> b29
//	                    \-> f20 -> f21   (f21 header only)
func TestQueries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("b", 30)
	h.g.SetTip("b19")
	h.g.NextBlock("f20", nil, nil)
	h.accept("f20")
	f21 := h.g.NextBlock("f21", nil, nil)
	if _, err := h.chain.ProcessHeaders([]wire.BlockHeader{f21.Header}); err != nil {
		t.Fatal(err)
	}
	c := h.chain
	hashOf := func(name string) chainhash.Hash { return h.g.Block(name).BlockHash() }

	if got, err := c.BlockHashByHeight(10); err != nil || got != hashOf("b9") {
		t.Fatalf("BlockHashByHeight(10) = %v, %v", got, err)
	}
	if _, err := c.BlockHashByHeight(31); !errors.Is(err, ErrUnknownBlock) {
		t.Fatalf("BlockHashByHeight(31): %v", err)
	}
	if b, err := c.BlockByHeight(30); err != nil || b.BlockHash() != hashOf("b29") {
		t.Fatalf("BlockByHeight(30): %v", err)
	}
	if _, err := c.BlockByHash(hashOf("f21")); !errors.Is(err, ErrNoBlockData) {
		t.Fatalf("BlockByHash(header only): %v", err)
	}
	if _, err := c.HeaderByHash(chainhash.Hash{1}); !errors.Is(err, ErrUnknownBlock) {
		t.Fatalf("HeaderByHash(unknown): %v", err)
	}
	info, err := c.BlockInfo(hashOf("b9"))
	if err != nil || !info.MainChain || info.Confirmations != 21 || info.NextHash == nil || *info.NextHash != hashOf("b10") {
		t.Fatalf("BlockInfo(b9) = %+v, %v", info, err)
	}
	if info, err := c.BlockInfo(hashOf("f20")); err != nil || info.MainChain || info.Confirmations != -1 {
		t.Fatalf("BlockInfo(f20) = %+v, %v", info, err)
	}
	if got := c.HeaderCount(); got != 30 {
		t.Fatalf("HeaderCount = %d, want 30", got)
	}

	// Locator, as Bitcoin Core builds it: eleven blocks one apart, then
	// doubling steps, then genesis.
	loc, err := c.BlockLocator(nil)
	if err != nil {
		t.Fatal(err)
	}
	wantHeights := []int32{30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 17, 13, 5, 0}
	if len(loc) != len(wantHeights) {
		t.Fatalf("locator has %d hashes, want %d", len(loc), len(wantHeights))
	}
	for i, ht := range wantHeights {
		if want, _ := c.BlockHashByHeight(ht); loc[i] != want {
			t.Fatalf("locator[%d] is not the block at height %d", i, ht)
		}
	}
	// A peer on the f branch gets the main chain from the fork on.
	floc, _ := c.BlockLocator(ptr(hashOf("f21")))
	hdrs := c.LocateHeaders(floc, chainhash.Hash{}, 5)
	if len(hdrs) != 5 || hdrs[0].BlockHash() != hashOf("b20") {
		t.Fatalf("LocateHeaders from fork: %d headers, first %v", len(hdrs), hdrs[0].BlockHash())
	}
	if hdrs := c.LocateHeaders(nil, hashOf("b2"), 100); len(hdrs) != 3 {
		t.Fatalf("LocateHeaders to stop: %d headers, want 3", len(hdrs))
	}

	tips := c.ChainTips()
	if len(tips) != 2 || tips[0].Status != "active" || tips[0].Hash != hashOf("b29") ||
		tips[1].Hash != hashOf("f21") || tips[1].Status != "headers-only" || tips[1].BranchLen != 2 {
		t.Fatalf("ChainTips = %+v", tips)
	}
	if want := consensus.CalcNextRequiredBits(&h.g.Net.Consensus, 30, h.g.Block("b29").Header.Timestamp.Unix()); c.CalcNextRequiredBits() != want {
		t.Fatalf("CalcNextRequiredBits = %08x, want %08x", c.CalcNextRequiredBits(), want)
	}
}

func ptr[T any](v T) *T { return &v }

// TestScriptCacheSkipsMempoolWork ensures a transaction whose scripts were
// verified through ValidateTransactionScripts with the chain's caches (as
// the mempool does) is not verified again when its block connects, while an
// unseen one is.
func TestScriptCacheSkipsMempoolWork(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key, _ := btcec.NewPrivateKey()
	pk := chaintest.P2WPKHScript(key)
	h.g.NextBlock("fund", nil, nil, func(b *wire.MsgBlock) {
		b.Transactions[0].TxOut[0].PkScript = pk
	})
	h.acceptTip()
	h.mine("m", 100)

	out := h.g.CoinbaseOut("fund")
	out.Key = key
	seen, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{out}, []int64{out.Amount / 2, out.Amount/2 - 1000}, pk)
	if err != nil {
		t.Fatal(err)
	}
	flags := ScriptFlags(&h.g.Net.Consensus, h.chain.BestSnapshot().Height+1)
	job := &TxScriptJob{Tx: seen, PrevOuts: []*wire.TxOut{{Value: out.Amount, PkScript: pk}}}
	if err := ValidateTransactionScripts([]*TxScriptJob{job}, flags, h.chain.SigCache(), h.chain.ScriptCache()); err != nil {
		t.Fatal(err)
	}
	before := h.chain.ScriptStats()
	h.g.NextBlock("with-seen", nil, []*wire.MsgTx{seen})
	h.acceptTip()
	after := h.chain.ScriptStats()
	if after.TxsCached != before.TxsCached+1 || after.InputsChecked != before.InputsChecked {
		t.Fatalf("seen tx: stats went from %+v to %+v, want one cached tx and no inputs checked", before, after)
	}

	child := h.g.TxOut("with-seen", 1, 0)
	child.Key = key
	unseen, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{child}, []int64{child.Amount - 1000}, pk)
	if err != nil {
		t.Fatal(err)
	}
	h.g.NextBlock("with-unseen", nil, []*wire.MsgTx{unseen})
	h.acceptTip()
	if got := h.chain.ScriptStats(); got.InputsChecked != after.InputsChecked+1 {
		t.Fatalf("unseen tx: stats %+v, want one more input checked", got)
	}
}

// TestUtxoSetStats ensures the UTXO statistics count what the blocks
// created, that the set hash survives a restart and changes with the set.
func TestUtxoSetStats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("b", 101)
	out := h.g.CoinbaseOut("b0")
	h.g.NextBlock("spend", &out, nil)
	h.acceptTip()

	st, err := h.chain.UtxoSetStats()
	if err != nil {
		t.Fatal(err)
	}
	// 102 coinbases, one spent and replaced by one output one unit
	// smaller, whose fee the last coinbase claimed.
	if st.Height != 102 || st.TxOuts != 102 || st.Transactions != 102 ||
		st.TotalAmount != 102*50*consensus.CoinValue || st.BestHash != h.g.Block("spend").BlockHash() {
		t.Fatalf("stats = %+v", st)
	}
	h.restart()
	again, err := h.chain.UtxoSetStats()
	if err != nil || again.Hash != st.Hash {
		t.Fatalf("hash after restart %v, before %v (%v)", again.Hash, st.Hash, err)
	}
	h.mine("c", 1)
	if later, _ := h.chain.UtxoSetStats(); later.Hash == st.Hash || later.TxOuts != 103 {
		t.Fatalf("stats after a block: %+v", later)
	}
}

// TestMissingBlocks ensures headers-first sync is told which blocks of the
// best header chain lack data, lowest first, within the window above the
// fork with the best chain.
func TestMissingBlocks(t *testing.T) {
	h := newHarness(t)
	h.mine("a", 3) // heights 1..3 connected
	var headers []wire.BlockHeader
	for i := 3; i < 10; i++ {
		headers = append(headers, h.g.NextBlock("a"+itoa(i), nil, nil).Header) // heights 4..10
	}
	if n, err := h.chain.ProcessHeaders(headers); err != nil || n != len(headers) {
		t.Fatalf("ProcessHeaders = %d, %v", n, err)
	}
	hash, height, work := h.chain.BestHeader()
	if hash != h.g.Block("a9").BlockHash() || height != 10 || work.Sign() <= 0 {
		t.Fatalf("BestHeader = %v, %d, %v; want a9 at 10", hash, height, work)
	}
	h.accept("a5") // height 6 arrives out of order: stored, not connected
	heights := func(refs []BlockRef) []int32 {
		var out []int32
		for _, r := range refs {
			if r != (BlockRef{Hash: h.g.Block("a" + itoa(int(r.Height)-1)).BlockHash(), Height: r.Height}) {
				t.Fatalf("ref %+v names the wrong block", r)
			}
			out = append(out, r.Height)
		}
		return out
	}
	for _, tc := range []struct {
		window int32
		max    int
		want   []int32
	}{
		{1024, 100, []int32{4, 5, 7, 8, 9, 10}},
		{5, 100, []int32{4, 5, 7, 8}},
		{1024, 2, []int32{4, 5}},
	} {
		if got := heights(h.chain.MissingBlocks(tc.window, tc.max)); !slices.Equal(got, tc.want) {
			t.Errorf("MissingBlocks(%d, %d) = %v, want %v", tc.window, tc.max, got, tc.want)
		}
	}
	for i := 3; i < 10; i++ {
		if i != 5 {
			h.accept("a" + itoa(i))
		}
	}
	h.expectTip("a9")
	if got := h.chain.MissingBlocks(1024, 100); len(got) != 0 {
		t.Fatalf("MissingBlocks at the best header = %v, want none", got)
	}
}

// TestInitialBlockDownload ensures the node counts as in initial block
// download while its tip is older than MaxTipAge or has less than the
// minimum chain work, leaves it when a recent block connects, and does
// not go back on a lull (Core's latch), only on a restart.
func TestInitialBlockDownload(t *testing.T) {
	var clock time.Time
	h := newHarnessConfig(t, chainparams.Regtest(), func(c *Config) {
		c.Now = func() time.Time { return clock }
	})
	genesis := h.chain.BestSnapshot().Time
	clock = genesis.Add(DefaultMaxTipAge + time.Minute)
	if !h.chain.IsInitialBlockDownload() {
		t.Fatal("a tip older than the maximum age counts as caught up")
	}
	h.g.NextBlock("b0", nil, nil)
	clock = h.g.Block("b0").Header.Timestamp.Add(time.Hour)
	h.accept("b0")
	if h.chain.IsInitialBlockDownload() {
		t.Fatal("still in download with a tip an hour old")
	}
	clock = clock.Add(7 * 24 * time.Hour)
	if h.chain.IsInitialBlockDownload() {
		t.Fatal("a week without blocks put the node back in download")
	}
	h.restart()
	if !h.chain.IsInitialBlockDownload() {
		t.Fatal("after a restart, a tip a week old counts as caught up")
	}
	h.cfg.MaxTipAge = 30 * 24 * time.Hour
	h.restart()
	if h.chain.IsInitialBlockDownload() {
		t.Fatal("MaxTipAge of 30 days: a tip a week old counts as in download")
	}

	// Below the minimum chain work a recent tip is not enough.
	net := chainparams.Regtest()
	net.Consensus.MinimumChainWork = new(big.Int).Lsh(big.NewInt(1), 40)
	h.cfg.Network, h.cfg.MaxTipAge = net, 0
	clock = h.g.Block("b0").Header.Timestamp.Add(time.Hour)
	h.restart()
	if !h.chain.IsInitialBlockDownload() {
		t.Fatal("a chain below the minimum chain work counts as caught up")
	}
}
