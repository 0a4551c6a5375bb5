package p2p

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// handshakeTimeout bounds the status exchange; a silent peer is dropped.
const handshakeTimeout = 10 * time.Second

// maxStatusBytes bounds a status message.
const maxStatusBytes = 4096

// status is what peers tell each other on connecting.
type status struct {
	Network string `json:"network"`
	Genesis string `json:"genesis"`
	Best    string `json:"best"`
	Height  int32  `json:"height"`
	Work    string `json:"work"` // cumulative work, hex
}

// ourStatus describes the local chain.
func (n *Node) ourStatus() *status {
	best := n.cfg.Chain.BestSnapshot()
	net := n.cfg.Chain.Network()
	return &status{Network: net.Name, Genesis: net.GenesisHash().String(), Best: best.Hash.String(),
		Height: best.Height, Work: best.ChainWork.Text(16)}
}

// work returns the status's cumulative work.
func (s *status) work() *big.Int {
	w, ok := new(big.Int).SetString(s.Work, 16)
	if !ok {
		return new(big.Int)
	}
	return w
}

// onConnected runs the handshake from the dialing side; the other side
// answers in handleStatus.
func (n *Node) onConnected(ctx context.Context, c network.Conn) {
	n.mu.Lock()
	if _, ok := n.peers[c.RemotePeer()]; !ok {
		n.peers[c.RemotePeer()] = &peerState{connected: time.Now(), inbound: c.Stat().Direction == network.DirInbound}
	}
	n.mu.Unlock()
	if c.Stat().Direction != network.DirOutbound {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	s, err := n.host.NewStream(sctx, c.RemotePeer(), n.protocol("status"))
	if err != nil {
		n.drop(c.RemotePeer(), fmt.Sprintf("no status stream: %v", err))
		return
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := json.NewEncoder(s).Encode(n.ourStatus()); err != nil {
		n.drop(c.RemotePeer(), fmt.Sprintf("status: %v", err))
		return
	}
	var theirs status
	if err := json.NewDecoder(io.LimitReader(s, maxStatusBytes)).Decode(&theirs); err != nil {
		n.drop(c.RemotePeer(), fmt.Sprintf("status: %v", err))
		return
	}
	n.accept(ctx, c.RemotePeer(), &theirs)
}

// handleStatus answers a peer's handshake.
func (n *Node) handleStatus(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(handshakeTimeout))
	var theirs status
	if err := json.NewDecoder(io.LimitReader(s, maxStatusBytes)).Decode(&theirs); err != nil {
		n.drop(s.Conn().RemotePeer(), fmt.Sprintf("status: %v", err))
		return
	}
	if err := json.NewEncoder(s).Encode(n.ourStatus()); err != nil {
		return
	}
	n.accept(context.Background(), s.Conn().RemotePeer(), &theirs)
}

// accept records a peer's status, dropping peers of another network or
// genesis, and syncs from a peer with more work.
func (n *Node) accept(ctx context.Context, p peer.ID, theirs *status) {
	ours := n.ourStatus()
	if theirs.Network != ours.Network || theirs.Genesis != ours.Genesis {
		n.drop(p, fmt.Sprintf("other network %s/%s", theirs.Network, theirs.Genesis))
		return
	}
	n.mu.Lock()
	ps, ok := n.peers[p]
	if !ok {
		ps = &peerState{connected: time.Now()}
		n.peers[p] = ps
	}
	ps.status = theirs
	n.mu.Unlock()
	n.log.Info("peer connected", "peer", p, "height", theirs.Height)
	best := n.cfg.Chain.BestSnapshot()
	if theirs.work().Cmp(best.ChainWork) > 0 {
		go n.syncFrom(ctx, p)
	}
}

// drop closes every connection to a peer.
func (n *Node) drop(p peer.ID, why string) {
	n.log.Info("dropping peer", "peer", p, "why", why)
	_ = n.host.Network().ClosePeer(p)
	n.mu.Lock()
	delete(n.peers, p)
	n.mu.Unlock()
}
