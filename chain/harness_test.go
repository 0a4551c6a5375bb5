package chain

import (
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
)

// harness drives a BlockChain with blocks from a chaintest generator.
type harness struct {
	t     testing.TB
	g     *chaintest.Generator
	chain *BlockChain
	dir   string
	cfg   Config
}

// newHarness returns a harness on a fresh regtest chain in a temporary
// directory.
func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessNet(t, chainparams.Regtest())
}

func newHarnessNet(t testing.TB, net *chainparams.Network) *harness {
	t.Helper()
	return newHarnessConfig(t, net, nil)
}

// newHarnessConfig is newHarnessNet with the chain's configuration changed
// by configure (when not nil) before the first open.
func newHarnessConfig(t testing.TB, net *chainparams.Network, configure func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, g: chaintest.New(net), dir: t.TempDir()}
	h.cfg = Config{Dir: h.dir, Network: net, TxIndex: true, Now: func() time.Time { return h.g.Now() }}
	if configure != nil {
		configure(&h.cfg)
	}
	h.open()
	t.Cleanup(func() {
		if h.chain != nil {
			h.chain.Close()
		}
	})
	return h
}

// open (re)opens the chain.
func (h *harness) open() {
	h.t.Helper()
	c, err := New(h.cfg)
	if err != nil {
		h.t.Fatalf("open chain: %v", err)
	}
	h.chain = c
}

// restart closes and reopens the chain.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.chain.Close(); err != nil {
		h.t.Fatalf("close chain: %v", err)
	}
	h.open()
}

// accept processes the named block and expects it to be accepted.
func (h *harness) accept(name string) ProcessResult {
	h.t.Helper()
	res, err := h.chain.ProcessBlock(h.g.Block(name))
	if err != nil {
		h.t.Fatalf("block %q (height %d): unexpected error: %v", name, h.g.Height(name), err)
	}
	return res
}

// acceptTip processes the generator's tip and expects it to become the
// chain's tip.
func (h *harness) acceptTip() {
	h.t.Helper()
	res := h.accept(h.g.TipName())
	if !res.MainChain {
		h.t.Fatalf("block %q accepted but not on the main chain", h.g.TipName())
	}
	h.expectTip(h.g.TipName())
}

// reject processes the named block and expects an error of kind want.
func (h *harness) reject(name string, want error) {
	h.t.Helper()
	_, err := h.chain.ProcessBlock(h.g.Block(name))
	if !errors.Is(err, want) {
		h.t.Fatalf("block %q: got error %v, want %v", name, err, want)
	}
}

// expectTip checks that the chain's tip is the named block.
func (h *harness) expectTip(name string) {
	h.t.Helper()
	want := h.g.Block(name)
	got := h.chain.BestSnapshot()
	if got.Hash != consensus.BlockHash(&want.Header) {
		h.t.Fatalf("tip is %v at height %d, want %q at height %d", got.Hash, got.Height, name, h.g.Height(name))
	}
}

// mine extends the generator's tip by n coinbase-only blocks named
// prefix0..prefixN-1 and processes them.
func (h *harness) mine(prefix string, n int) {
	h.t.Helper()
	for i := 0; i < n; i++ {
		h.g.NextBlock(prefix+itoa(i), nil, nil)
		h.acceptTip()
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// utxoSetFromBlocks recomputes the UTXO set by applying every main-chain
// block from genesis, independently of the chain's own bookkeeping.
func utxoSetFromBlocks(t testing.TB, c *BlockChain) map[wire.OutPoint]int64 {
	t.Helper()
	set := make(map[wire.OutPoint]int64)
	tip := c.BestSnapshot()
	for ht := int32(1); ht <= tip.Height; ht++ {
		b, err := c.BlockByHeight(ht)
		if err != nil {
			t.Fatalf("block at %d: %v", ht, err)
		}
		for _, tx := range b.Transactions {
			if !consensus.IsCoinBaseTx(tx) {
				for _, in := range tx.TxIn {
					if _, ok := set[in.PreviousOutPoint]; !ok {
						t.Fatalf("height %d spends %v, which is not unspent", ht, in.PreviousOutPoint)
					}
					delete(set, in.PreviousOutPoint)
				}
			}
			txid := consensus.TxHash(tx)
			for i, o := range tx.TxOut {
				if len(o.PkScript) > 0 && o.PkScript[0] == 0x6a {
					continue
				}
				set[wire.OutPoint{Hash: txid, Index: uint32(i)}] = o.Value
			}
		}
	}
	return set
}

// checkUtxoSet compares the chain's UTXO set with one recomputed from its
// blocks.
func checkUtxoSet(t testing.TB, c *BlockChain) {
	t.Helper()
	want := utxoSetFromBlocks(t, c)
	got := make(map[wire.OutPoint]int64)
	if _, err := c.ForEachUtxo(func(op wire.OutPoint, e *utxo.Entry) error {
		got[op] = e.Amount
		return nil
	}); err != nil {
		t.Fatalf("walk utxo set: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("utxo set has %d entries, blocks give %d", len(got), len(want))
	}
	for op, v := range want {
		if got[op] != v {
			t.Fatalf("utxo %v: got %d, want %d", op, got[op], v)
		}
	}
}
