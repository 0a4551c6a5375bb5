package main

import (
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/mempool"
	"github.com/cairnchain/cairn/miner"
	"github.com/cairnchain/cairn/rpc"
)

// poolSource offers the mempool's transactions to the miner.
type poolSource struct{ pool *mempool.TxPool }

var _ miner.TxSource = poolSource{}

// MiningCandidates implements miner.TxSource.
func (s poolSource) MiningCandidates() []*miner.TxDesc {
	descs := s.pool.Descs()
	out := make([]*miner.TxDesc, len(descs))
	for i, d := range descs {
		out[i] = &miner.TxDesc{Tx: d.Tx, TxID: d.TxID, Fee: d.Fee, Weight: d.Weight, SigOpCost: d.SigOpCost, Parents: d.Parents}
	}
	return out
}

// generator adapts the miner package to rpc.Generator: block generation as
// the miner does it, and templates for external miners in rpc's shape.
type generator struct {
	*miner.Generator
	// txs feeds templates; nil until the mempool exists.
	txs miner.TxSource
}

var _ rpc.Generator = (*generator)(nil)

// BlockTemplate implements rpc.Generator.
func (g *generator) BlockTemplate() (*rpc.BlockTemplate, error) {
	t, err := miner.NewBlockTemplate(g.Chain, g.txs, time.Now())
	if err != nil {
		return nil, err
	}
	pos := make(map[chainhash.Hash]int, len(t.Txs))
	out := &rpc.BlockTemplate{
		PrevHash: t.PrevHash, Height: t.Height, Version: t.Version, Bits: t.Bits, Target: t.Target,
		CurTime: t.CurTime, MinTime: t.MinTime, CoinbaseValue: t.CoinbaseValue,
		WitnessCommitment: t.WitnessCommitment,
	}
	for i, d := range t.Txs {
		pos[d.TxID] = i + 1 // BIP22 counts from 1 after the coinbase
		tx := rpc.TemplateTx{Tx: d.Tx, Fee: d.Fee, SigOpCost: d.SigOpCost, Weight: d.Weight}
		for _, p := range d.Parents {
			if j, ok := pos[p]; ok {
				tx.Depends = append(tx.Depends, j)
			}
		}
		out.Txs = append(out.Txs, tx)
	}
	return out, nil
}
