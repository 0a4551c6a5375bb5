package main

import (
	"errors"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/explorer"
	"github.com/cairnchain/cairn/miner"
	"github.com/cairnchain/cairn/p2p"
	"github.com/cairnchain/cairn/rpc"
)

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

// p2pNetwork adapts the peer-to-peer node to rpc.Network: peers and bans in
// rpc's shape, and p2p's errors as rpc's, so that the rpc package needs
// nothing of the networking code.
type p2pNetwork struct{ *p2p.Node }

var _ rpc.Network = p2pNetwork{}

// Peers implements rpc.Network.
func (n p2pNetwork) Peers() []rpc.PeerInfo {
	peers := n.Node.Peers()
	out := make([]rpc.PeerInfo, len(peers))
	for i, p := range peers {
		out[i] = rpc.PeerInfo{
			ID: p.ID, Addr: p.Addr, Inbound: p.Inbound, ConnTime: p.ConnTime, PingTime: p.PingTime,
			StartingHeight: p.StartingHeight, SyncedHeaders: p.SyncedHeaders, SyncedBlocks: p.SyncedBlocks,
			BytesSent: p.BytesSent, BytesRecv: p.BytesRecv, GossipScore: p.GossipScore,
		}
	}
	return out
}

// explorerPeers adapts the p2p node to the explorer's peer list.
type explorerPeers struct{ *p2p.Node }

// Peers implements explorer.Peers.
func (n explorerPeers) Peers() []explorer.Peer {
	peers := n.Node.Peers()
	out := make([]explorer.Peer, len(peers))
	for i, p := range peers {
		out[i] = explorer.Peer{
			ID: p.ID, Addr: p.Addr, Inbound: p.Inbound, ConnTime: p.ConnTime,
			PingMillis: float64(p.PingTime) / float64(time.Millisecond), BytesSent: p.BytesSent, BytesRecv: p.BytesRecv,
			GossipScore: p.GossipScore, SyncedBlocks: p.SyncedBlocks,
		}
	}
	return out
}

// Banned implements rpc.Network.
func (n p2pNetwork) Banned() []rpc.Ban {
	bans := n.Node.Banned()
	out := make([]rpc.Ban, len(bans))
	for i, b := range bans {
		out[i] = rpc.Ban{Address: b.Address, Created: b.Created, Until: b.Until}
	}
	return out
}

// SetBan implements rpc.Network.
func (n p2pNetwork) SetBan(target string, add bool, d time.Duration) error {
	return rpcNetError(n.Node.SetBan(target, add, d))
}

// AddNode implements rpc.Network.
func (n p2pNetwork) AddNode(addr, command string) error {
	return rpcNetError(n.Node.AddNode(addr, command))
}

// DisconnectNode implements rpc.Network.
func (n p2pNetwork) DisconnectNode(target string) error {
	return rpcNetError(n.Node.DisconnectNode(target))
}

// rpcNetError returns rpc's error for each of p2p's errors of added and
// connected nodes, which the handlers answer with Core's codes; any other
// error passes unchanged.
func rpcNetError(err error) error {
	switch {
	case errors.Is(err, p2p.ErrAlreadyAdded):
		return rpc.ErrAlreadyAdded
	case errors.Is(err, p2p.ErrNotAdded):
		return rpc.ErrNotAdded
	case errors.Is(err, p2p.ErrNotConnected):
		return rpc.ErrNotConnected
	case errors.Is(err, p2p.ErrInvalidBanTarget):
		return rpc.ErrInvalidBanTarget
	case errors.Is(err, p2p.ErrAlreadyBanned):
		return rpc.ErrAlreadyBanned
	case errors.Is(err, p2p.ErrNotBanned):
		return rpc.ErrNotBanned
	}
	return err
}
