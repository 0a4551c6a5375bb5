package p2p

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"
)

// Errors of AddNode and DisconnectNode, which RPC maps to Core's codes.
var (
	ErrAlreadyAdded = errors.New("p2p: node already added")
	ErrNotAdded     = errors.New("p2p: node has not been added")
	ErrNotConnected = errors.New("p2p: node not found in connected nodes")
)

// DefaultMaxPeers is the connection limit when Config.MaxPeers is zero,
// Bitcoin Core's default.
const DefaultMaxPeers = 125

// protectTag marks connections the connection manager must never trim:
// peers the operator named with --peer or addnode.
const protectTag = "cairn-added"

// newConnManager keeps between 80% and 100% of max connections, trimming
// the least useful ones when the limit is passed.
func newConnManager(max int) (*connmgr.BasicConnMgr, error) {
	low := max * 4 / 5
	if low < 1 {
		low = 1
	}
	return connmgr.NewConnManager(low, max, connmgr.WithGracePeriod(30*time.Second))
}

// newResourceManager sets libp2p's resource limits deliberately: memory,
// streams and file descriptors scale with the machine, as libp2p's
// defaults do, while connection counts follow --max-peers, with room for
// the dials and handshakes the connection manager has not trimmed yet
// (its high-water mark would otherwise fight the default limits).
func newResourceManager(maxPeers int) (network.ResourceManager, error) {
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	conns := rcmgr.LimitVal(2*maxPeers + 16)
	partial := rcmgr.PartialLimitConfig{
		System:    rcmgr.ResourceLimits{Conns: conns, ConnsInbound: conns, ConnsOutbound: conns},
		Transient: rcmgr.ResourceLimits{Conns: conns, ConnsInbound: conns, ConnsOutbound: conns},
	}
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(partial.Build(scaling.AutoScale())))
}

// mdnsNotifee dials every node mDNS finds on the local network; the status
// handshake then drops those of another network.
type mdnsNotifee struct{ n *Node }

func (m mdnsNotifee) HandlePeerFound(info peer.AddrInfo) {
	n := m.n
	if info.ID == n.host.ID() || n.host.Network().Connectedness(info.ID) == network.Connected {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
		defer cancel()
		if err := n.host.Connect(ctx, info); err != nil {
			n.log.Debug("mdns dial failed", "peer", info.ID, "err", err)
		}
	}()
}

// startMDNS advertises the node on the local network under a service name
// of its network and genesis, so nodes of other networks do not answer.
func (n *Node) startMDNS() error {
	genesis := n.cfg.Chain.Network().GenesisHash()
	name := fmt.Sprintf("_cairn-%s-%x._udp", n.cfg.Chain.Network().Name, genesis[:4])
	svc := mdns.NewMdnsService(n.host, name, mdnsNotifee{n})
	if err := svc.Start(); err != nil {
		return fmt.Errorf("p2p: mdns: %w", err)
	}
	n.mdns = svc
	return nil
}

// CheckPeerAddr reports whether addr is a full peer multiaddr (ending in
// /p2p/<peer id>), as --peer and addnode take.
func CheckPeerAddr(addr string) error {
	_, err := parsePeerAddr(addr)
	return err
}

// parsePeerAddr parses a full multiaddr that ends in /p2p/<peer id>.
func parsePeerAddr(addr string) (*peer.AddrInfo, error) {
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return nil, fmt.Errorf("p2p: peer address %q: %w", addr, err)
	}
	info, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return nil, fmt.Errorf("p2p: peer address %q needs /p2p/<peer id>: %w", addr, err)
	}
	return info, nil
}

// AddNode follows Core's addnode: "add" keeps addr connected (redialled
// when lost), "remove" stops doing so, "onetry" dials it once.
func (n *Node) AddNode(addr, command string) error {
	info, err := parsePeerAddr(addr)
	if err != nil {
		return err
	}
	switch command {
	case "add":
		n.mu.Lock()
		defer n.mu.Unlock()
		if _, ok := n.added[addr]; ok {
			return ErrAlreadyAdded
		}
		ctx, cancel := context.WithCancel(n.ctx)
		n.added[addr] = cancel
		delete(n.blockRelay, info.ID) // the user's peers relay everything
		go n.keepConnected(ctx, info)
		return nil
	case "remove":
		n.mu.Lock()
		defer n.mu.Unlock()
		cancel, ok := n.added[addr]
		if !ok {
			return ErrNotAdded
		}
		cancel()
		delete(n.added, addr)
		n.host.ConnManager().Unprotect(info.ID, protectTag)
		return nil
	case "onetry":
		ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
		defer cancel()
		if err := n.host.Connect(ctx, *info); err != nil {
			return fmt.Errorf("p2p: connect %s: %w", addr, err)
		}
		return nil
	}
	return fmt.Errorf("p2p: addnode command %q is not add, remove or onetry", command)
}

// AddedNodes returns the addresses kept connected by --peer or addnode.
func (n *Node) AddedNodes() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.added))
	for addr := range n.added {
		out = append(out, addr)
	}
	return out
}

// DisconnectNode closes every connection to the peer named by a peer ID or
// a full multiaddr. A peer kept by --peer or addnode is redialled.
func (n *Node) DisconnectNode(target string) error {
	id, err := peer.Decode(target)
	if err != nil {
		info, perr := parsePeerAddr(target)
		if perr != nil {
			return fmt.Errorf("p2p: %q is neither a peer ID nor a peer address", target)
		}
		id = info.ID
	}
	if n.host.Network().Connectedness(id) != network.Connected {
		return ErrNotConnected
	}
	n.drop(id, "disconnectnode")
	return nil
}

// SetNetworkActive turns networking off (every connection is closed and
// new ones refused) or on again, when added peers are redialled.
func (n *Node) SetNetworkActive(active bool) {
	n.bans.inactive.Store(!active)
	if active {
		return
	}
	for _, p := range n.host.Network().Peers() {
		n.drop(p, "network disabled")
	}
}

// NetworkActive reports whether networking is on.
func (n *Node) NetworkActive() bool { return !n.bans.inactive.Load() }
