package miner

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/miner/pow"
)

// Generator mines blocks on demand for RPC (generatetoaddress,
// generateblock) and submits them to the chain like any other block.
type Generator struct {
	Chain Chain
	// Txs offers pool transactions to generatetoaddress, as Bitcoin
	// Core's block generation takes its mempool's; nil mines none.
	Txs TxSource
	// Now is the clock for block times; nil means time.Now.
	Now func() time.Time

	extraNonce atomic.Uint64
}

func (g *Generator) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// GenerateToAddress mines n blocks paying to pkScript, each on the tip the
// previous one made, and returns their hashes.
func (g *Generator) GenerateToAddress(ctx context.Context, n int, pkScript []byte, maxTries uint64) ([]chainhash.Hash, error) {
	hashes := make([]chainhash.Hash, 0, n)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return hashes, err
		}
		var txs []*wire.MsgTx
		var fees int64
		best := g.Chain.BestSnapshot()
		if g.Txs != nil {
			maxWeight, maxSigOps := blockLimits()
			sel, f := g.Txs.SelectForBlock(best.Hash, maxWeight, maxSigOps)
			for _, d := range sel {
				txs = append(txs, d.Tx)
			}
			fees = f
		}
		block, err := buildTemplate(g.Chain, best, pkScript, txs, fees, g.extraNonce.Add(1), g.now())
		if err != nil {
			return hashes, err
		}
		if err := g.solveAndSubmit(ctx, block, maxTries); err != nil {
			return hashes, err
		}
		hashes = append(hashes, block.BlockHash())
	}
	return hashes, nil
}

// GenerateBlock mines one block with txs after the coinbase and, with
// submit, processes it. A block that the chain refuses returns the chain's
// error.
func (g *Generator) GenerateBlock(ctx context.Context, pkScript []byte, txs []*wire.MsgTx, submit bool) (*wire.MsgBlock, error) {
	block, err := NewTemplate(g.Chain, pkScript, txs, g.extraNonce.Add(1), g.now())
	if err != nil {
		return nil, err
	}
	if !submit {
		if err := pow.Solve(ctx, block, 1<<32); err != nil {
			return nil, err
		}
		return block, nil
	}
	if err := g.solveAndSubmit(ctx, block, 1<<32); err != nil {
		return nil, err
	}
	return block, nil
}

// solveAndSubmit solves block and processes it; it must become the tip.
func (g *Generator) solveAndSubmit(ctx context.Context, block *wire.MsgBlock, maxTries uint64) error {
	if err := pow.Solve(ctx, block, maxTries); err != nil {
		return err
	}
	res, err := g.Chain.ProcessBlock(block)
	if err != nil {
		return fmt.Errorf("miner: generated block %v refused: %w", res.Hash, err)
	}
	if !res.MainChain {
		return fmt.Errorf("miner: generated block %v did not become the tip", res.Hash)
	}
	return nil
}
