package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain"
)

// Status exchange timeouts. A peer that does not complete its handshake
// within handshakeTimeout is dropped (Core's DEFAULT_PEER_CONNECT_TIMEOUT
// is 60 s). The exchanges that follow every StatusInterval get
// statusTimeout each, and one that fails costs the peer nothing unless it
// has not completed one for peerSilenceTimeout (Core disconnects a peer
// whose ping goes unanswered for TIMEOUT_INTERVAL, 20 minutes): on a busy
// machine an exchange now and then misses its deadline, and dropping the
// peer for it costs both sides a new connection and the announcement of
// their whole pools, which makes them busier still. (Thirty nodes on two
// cores dropped each other 2,500 times in twelve minutes so.) The
// connection's own keep-alive finds a peer that is gone.
const (
	handshakeTimeout   = 60 * time.Second
	statusTimeout      = 10 * time.Second
	peerSilenceTimeout = 20 * time.Minute
)

// maxStatusBytes bounds a status message.
const maxStatusBytes = 4096

// status is what peers tell each other on connecting.
type status struct {
	Network string `json:"network"`
	Genesis string `json:"genesis"`
	Best    string `json:"best"`
	Height  int32  `json:"height"`
	Work    string `json:"work"` // cumulative work, hex
	// Pruned, when not 0, is the lowest height whose block the peer
	// stores: it prunes, and serves no block below (Core's
	// NODE_NETWORK_LIMITED, with the height it keeps).
	Pruned int32 `json:"pruned,omitempty"`
}

// lowestServed is the lowest height a peer of this status can be asked
// for: all blocks of a full node, and of a pruned one those it said it
// keeps and that it cannot have pruned since, as it never prunes the last
// chain.MinBlocksToKeep blocks (Core asks a limited peer for blocks no
// deeper than NODE_NETWORK_LIMITED_MIN_BLOCKS - 2 below its tip).
func (s *status) lowestServed() int32 {
	if s.Pruned == 0 {
		return 0
	}
	return max(s.Pruned, s.Height-(chain.MinBlocksToKeep-2))
}

// ourStatus describes the local chain.
func (n *Node) ourStatus() *status {
	best := n.cfg.Chain.BestSnapshot()
	net := n.cfg.Chain.Network()
	st := &status{Network: net.Name, Genesis: net.GenesisHash().String(), Best: best.Hash.String(),
		Height: best.Height, Work: best.ChainWork.Text(16)}
	if n.cfg.Gate != nil {
		// Blocks held back are not shown: peers would fetch them.
		if hash, ok := n.cfg.Gate.Shown(); ok {
			if info, err := n.cfg.Chain.BlockInfo(hash); err == nil {
				st.Best, st.Height, st.Work = hash.String(), info.Height, info.ChainWork.Text(16)
			}
		}
	}
	if ps := n.cfg.Chain.PruneState(); ps.Enabled {
		st.Pruned = max(ps.Height, 1)
	}
	return st
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
	n.exchangeStatus(ctx, c.RemotePeer())
}

// exchangeStatus sends our status to p, reads theirs, and acts on it: the
// handshake on connecting, and again every StatusInterval so that a node
// that missed gossip notices a peer ahead of it and syncs (gossip loses
// messages published before its streams are up; sync guarantees delivery).
func (n *Node) exchangeStatus(ctx context.Context, p peer.ID) {
	n.mu.Lock()
	ps := n.peers[p]
	first := ps == nil || ps.status == nil
	n.mu.Unlock()
	timeout := statusTimeout
	if first {
		timeout = handshakeTimeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Never dial for a status: a peer dropped meanwhile stays dropped.
	s, err := n.host.NewStream(network.WithNoDial(sctx, "status"), p, n.protocol("status"))
	if err != nil {
		n.statusFailed(p, fmt.Errorf("no status stream: %w", err))
		return
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(timeout))
	if err := json.NewEncoder(s).Encode(n.ourStatus()); err != nil {
		n.statusFailed(p, fmt.Errorf("status: %w", err))
		return
	}
	theirs, err := decodeStatus(s)
	if err != nil {
		n.statusFailed(p, err)
		return
	}
	n.accept(ctx, p, theirs)
}

// statusFailed handles a failed status exchange with p: a malformed
// status, a peer not handshaken yet or silent for peerSilenceTimeout, or
// one no longer connected is dropped; any other peer stays (see
// statusTimeout).
func (n *Node) statusFailed(p peer.ID, err error) {
	n.mu.Lock()
	ps := n.peers[p]
	silent := ps == nil || ps.status == nil || time.Since(ps.lastStatus) > peerSilenceTimeout
	n.mu.Unlock()
	if errors.Is(err, errMalformed) || silent || n.host.Network().Connectedness(p) != network.Connected {
		n.drop(p, err.Error())
		return
	}
	n.log.Debug("status exchange failed; peer kept", "peer", p, "err", err)
}

// refreshStatuses exchanges status with every handshaken peer.
func (n *Node) refreshStatuses(ctx context.Context) {
	n.mu.Lock()
	var peers []peer.ID
	for p, ps := range n.peers {
		if ps.status != nil {
			peers = append(peers, p)
		}
	}
	n.mu.Unlock()
	for _, p := range peers {
		go n.exchangeStatus(ctx, p)
	}
}

// handleStatus answers a peer's handshake.
func (n *Node) handleStatus(s network.Stream) {
	defer s.Close()
	if !n.admitRequest(s.Conn().RemotePeer(), "status") {
		_ = s.Reset()
		return
	}
	_ = s.SetDeadline(time.Now().Add(handshakeTimeout))
	theirs, err := decodeStatus(s)
	if err != nil {
		n.statusFailed(s.Conn().RemotePeer(), err)
		return
	}
	if err := json.NewEncoder(s).Encode(n.ourStatus()); err != nil {
		return
	}
	n.accept(context.Background(), s.Conn().RemotePeer(), theirs)
}

// accept records a peer's status, dropping peers of another network or
// genesis; the downloader syncs from a peer with more work.
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
	first := ps.status == nil
	moved := first || ps.status.Best != theirs.Best
	if first {
		ps.startingHeight = theirs.Height
	}
	ps.status, ps.lastStatus = theirs, time.Now()
	n.mu.Unlock()
	if first {
		n.log.Info("peer connected", "peer", p, "height", theirs.Height)
		n.relay.start(n.ctx, p)
	}
	if moved {
		n.sync.forgetPeer(p, false)
		n.sync.wake()
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
