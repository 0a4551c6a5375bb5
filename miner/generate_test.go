package miner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/miner/pow"
)

// newChain opens a fresh regtest chain whose clock runs ahead with the
// generated blocks.
func newChain(t *testing.T) (*chain.BlockChain, *Generator) {
	t.Helper()
	return newChainOn(t, chainparams.Regtest())
}

// newChainOn is newChain on a network of the test's.
func newChainOn(t *testing.T, net *chainparams.Network) (*chain.BlockChain, *Generator) {
	t.Helper()
	var mu sync.Mutex
	clock := time.Unix(net.Consensus.GenesisTime, 0)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, &Generator{Chain: c, Now: now}
}

// TestGenerateToAddress ensures generated blocks are valid by the chain's
// own rules, extend the tip and pay the subsidy to the given script.
func TestGenerateToAddress(t *testing.T) {
	t.Parallel()
	c, g := newChain(t)
	hashes, err := g.GenerateToAddress(context.Background(), 5, chaintest.OpTrueScript, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(hashes) != 5 || c.BestSnapshot().Hash != hashes[4] || c.BestSnapshot().Height != 5 {
		t.Fatalf("generated %v, tip %+v", hashes, c.BestSnapshot())
	}
	b, err := c.BlockByHash(hashes[0])
	if err != nil {
		t.Fatal(err)
	}
	if cb := b.Transactions[0]; cb.TxOut[0].Value != 50*consensus.CoinValue || string(cb.TxOut[0].PkScript) != string(chaintest.OpTrueScript) {
		t.Fatalf("coinbase pays %d to %x", cb.TxOut[0].Value, cb.TxOut[0].PkScript)
	}
}

// TestGenerateBlockWithTxs ensures generateblock includes the given
// transactions and that the coinbase claims exactly subsidy plus fees; a
// transaction spending nothing known is refused.
func TestGenerateBlockWithTxs(t *testing.T) {
	t.Parallel()
	c, g := newChain(t)
	hashes, err := g.GenerateToAddress(context.Background(), 101, chaintest.OpTrueScript, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := c.BlockByHash(hashes[0])
	cb := first.Transactions[0]
	spend := chaintest.CreateSpendTx(chaintest.SpendableOut{
		OutPoint: wire.OutPoint{Hash: cb.TxHash(), Index: 0}, Amount: cb.TxOut[0].Value,
	}, 1234)
	block, err := g.GenerateBlock(context.Background(), chaintest.OpTrueScript, []*wire.MsgTx{spend}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := block.Transactions[0].TxOut[0].Value; got != 50*consensus.CoinValue+1234 {
		t.Fatalf("coinbase claims %d, want subsidy + 1234", got)
	}
	if c.BestSnapshot().Hash != block.BlockHash() {
		t.Fatal("generated block is not the tip")
	}
	if _, err := g.GenerateBlock(context.Background(), chaintest.OpTrueScript, []*wire.MsgTx{spend}, true); !errors.Is(err, ErrMissingInput) {
		t.Fatalf("double spend: got %v, want ErrMissingInput", err)
	}
}

// TestSolveHonoursContext ensures the nonce search stops when its context
// ends and reports maxtries.
func TestSolveHonoursContext(t *testing.T) {
	t.Parallel()
	b := &wire.MsgBlock{Header: wire.BlockHeader{Bits: 0x1d00ffff}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := pow.Solve(ctx, b, 1<<32); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if err := pow.Solve(context.Background(), b, 10); !errors.Is(err, pow.ErrMaxTries) {
		t.Fatalf("maxtries: %v", err)
	}
}
