package p2p

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// BlockGate lets a research mining strategy decide when the blocks its
// node mines are announced, as a selfish miner (Eyal and Sirer, "Majority
// is not Enough", 2014) withholds its blocks and releases them to race
// the honest chain. It is for experiments on emulated-hash-rate chains
// only (cairn node --strategy selfish); a node without one announces each
// block as it connects, as Bitcoin Core does.
type BlockGate interface {
	// Hold reports whether the announcement of a block the node just
	// connected is held back; Announce releases it later.
	Hold(hash chainhash.Hash) bool
	// PeerBlock tells of every block header a peer relays (whole or
	// compact), before the node judges it, including those on chains
	// with less work than its own, which it does not store.
	PeerBlock(h *wire.BlockHeader)
	// Shown is the block the node's status shows peers as its tip, so
	// that they do not fetch what it holds back; ok false shows the tip.
	Shown() (hash chainhash.Hash, ok bool)
}

// Announce announces a stored block now, whole or compact as
// Config.BlockRelay says: a Gate's way to release a block it held back.
func (n *Node) Announce(ctx context.Context, hash chainhash.Hash) error {
	block, err := n.cfg.Chain.BlockByHash(hash)
	if err != nil {
		return fmt.Errorf("p2p: announce %v: %w", hash, err)
	}
	n.announceBlock(ctx, hash, block)
	return nil
}
