package p2p

import (
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/internal/atomicfile"
)

// Outbound connections, as Bitcoin Core's ThreadOpenConnections makes them.
// The peers a node chooses are what keeps it from being eclipsed: inbound
// ones can all be one attacker's. So the automatic ones (from the address
// book and the DHT; --peer, addnode and mDNS on the local network are the
// user's choice) are spread across address groups, at most one per group
// (Core's netgroups: IPv4 /16, IPv6 /32); two of them are block-relay-only
// (no transactions either way, so they reveal nothing of the node's
// relay), and those are remembered across restarts as anchors (Core's
// anchors.dat) and dialled first; and a tip that has not moved for
// staleTipSpacings target spacings opens one more outbound connection, to
// look for a better chain (Core's stale-tip check).
const (
	maxBlockRelayPeers = 2
	anchorsFile        = "anchors.json"
	staleTipSpacings   = 30
	// outboundInterval is how often the outbound connections are looked
	// after.
	outboundInterval = 5 * time.Second
)

// addrGroup returns ip's address group: its /16 (IPv4) or /32 (IPv6), or
// "" for loopback, which every local node shares and no rule limits.
func addrGroup(ip netip.Addr) string {
	ip = ip.Unmap()
	bits := 32
	switch {
	case !ip.IsValid() || ip.IsLoopback():
		return ""
	case ip.Is4():
		bits = 16
	}
	pfx, _ := ip.Prefix(bits)
	return pfx.String()
}

// infoGroup returns the address group of a peer's first IP address; ok is
// false when it has none (a DNS name, a relay), and the peer is then a
// group of its own.
func infoGroup(info peer.AddrInfo) (string, bool) {
	for _, a := range info.Addrs {
		if ip, ok := multiaddrIP(a); ok {
			return addrGroup(ip), true
		}
	}
	return "", false
}

// outboundGroups returns the address groups of the outbound connections.
func (n *Node) outboundGroups() map[string]bool {
	used := make(map[string]bool)
	for _, c := range n.host.Network().Conns() {
		if c.Stat().Direction != network.DirOutbound {
			continue
		}
		if ip, ok := multiaddrIP(c.RemoteMultiaddr()); ok {
			if g := addrGroup(ip); g != "" {
				used[g] = true
			}
		}
	}
	return used
}

// diverse returns up to max of cands, in order, that are neither connected,
// banned nor this node, at most one per address group and none in a group
// of used, which it extends with theirs.
func (n *Node) diverse(cands []peer.AddrInfo, used map[string]bool, max int) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, info := range cands {
		if len(out) >= max {
			break
		}
		if info.ID == n.host.ID() || n.host.Network().Connectedness(info.ID) == network.Connected ||
			n.bans.idBanned(info.ID) || len(info.Addrs) == 0 {
			continue
		}
		if g, ok := infoGroup(info); ok && g != "" {
			if used[g] {
				continue
			}
			used[g] = true
		}
		out = append(out, info)
	}
	return out
}

// dial connects to info in the background; blockRelay makes the
// connection block-relay-only.
func (n *Node) dial(ctx context.Context, info peer.AddrInfo, blockRelay bool, what string) {
	if blockRelay {
		n.mu.Lock()
		n.blockRelay[info.ID] = true
		n.mu.Unlock()
	}
	go func() {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := n.host.Connect(dctx, info); err != nil {
			n.log.Debug(what+" unreachable", "peer", info.ID, "err", err)
			if blockRelay {
				n.mu.Lock()
				delete(n.blockRelay, info.ID)
				n.mu.Unlock()
			}
		}
	}()
}

// explicitPeer reports whether p is one of --peer's or addnode's.
func (n *Node) explicitPeer(p peer.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for addr := range n.added {
		if info, err := parsePeerAddr(addr); err == nil && info.ID == p {
			return true
		}
	}
	return false
}

// isBlockRelay reports whether p is a block-relay-only peer.
func (n *Node) isBlockRelay(p peer.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.blockRelay[p]
}

// dialKnownPeers dials, at start, the anchors as block-relay-only peers,
// then up to startupDialPeers of the address book, at most one per
// address group.
func (n *Node) dialKnownPeers(ctx context.Context) {
	used := n.outboundGroups()
	var anchors []peer.AddrInfo
	for _, info := range n.loadAnchors() {
		if !n.explicitPeer(info.ID) { // --peer and addnode peers relay everything
			anchors = append(anchors, info)
		}
	}
	anchors = n.diverse(anchors, used, maxBlockRelayPeers)
	for _, info := range anchors {
		n.log.Info("dialling anchor", "peer", info.ID)
		n.dial(ctx, info, true, "anchor")
	}
	for _, info := range n.diverse(n.loadPeers(), used, startupDialPeers) {
		n.dial(ctx, info, false, "known peer")
	}
}

// tendOutbound keeps the block-relay-only outbound connections at
// maxBlockRelayPeers once the full-relay ones number dhtTargetPeers (as
// Core opens them beyond its 8 full-relay peers: a small network never
// loses transaction relay to them) and, while the tip is stale, opens one
// more outbound connection; both from the address book, in address groups
// not yet used.
func (n *Node) tendOutbound(ctx context.Context) {
	if !n.NetworkActive() {
		return
	}
	have, full := 0, 0
	outbound := make(map[peer.ID]bool)
	for _, c := range n.host.Network().Conns() {
		if c.Stat().Direction == network.DirOutbound {
			outbound[c.RemotePeer()] = true
		}
	}
	n.mu.Lock()
	for p := range outbound {
		if n.blockRelay[p] {
			have++
		} else {
			full++
		}
	}
	n.mu.Unlock()
	wantBlockRelay := have < maxBlockRelayPeers && full >= dhtTargetPeers
	// One extra peer per stale spell: another only if that one is gone.
	n.mu.Lock()
	extra := n.staleExtra
	n.mu.Unlock()
	stale := n.tipStale() && (extra == "" || n.host.Network().Connectedness(extra) != network.Connected)
	if !wantBlockRelay && !stale {
		return // the address book is read only when a dial is wanted
	}
	known := n.loadPeers()
	used := n.outboundGroups()
	if wantBlockRelay {
		for _, info := range n.diverse(known, used, maxBlockRelayPeers-have) {
			n.dial(ctx, info, true, "block-relay peer")
		}
	}
	if stale {
		for _, info := range n.diverse(known, used, 1) {
			n.log.Info("the tip looks stale: looking for a better chain", "peer", info.ID)
			n.mu.Lock()
			n.staleExtra = info.ID
			n.mu.Unlock()
			n.dial(ctx, info, false, "extra outbound peer")
		}
	}
}

// tipStale reports whether no block has connected for staleTipSpacings
// target spacings (Core's TipMayBeStale, with a wider margin).
func (n *Node) tipStale() bool {
	spacing := n.cfg.Chain.Network().Consensus.TargetSpacing
	n.mu.Lock()
	last := n.lastTipChange
	n.mu.Unlock()
	return spacing > 0 && time.Since(last) > staleTipSpacings*spacing
}

// saveAnchors keeps the connected block-relay-only outbound peers for the
// next start.
func (n *Node) saveAnchors() error {
	var out []savedPeer
	n.mu.Lock()
	for p := range n.blockRelay {
		if len(out) >= maxBlockRelayPeers || n.host.Network().Connectedness(p) != network.Connected {
			continue
		}
		var addrs []string
		for _, c := range n.host.Network().ConnsToPeer(p) {
			if c.Stat().Direction == network.DirOutbound {
				addrs = append(addrs, c.RemoteMultiaddr().String())
			}
		}
		if len(addrs) > 0 {
			out = append(out, savedPeer{ID: p.String(), Addrs: addrs})
		}
	}
	n.mu.Unlock()
	raw, _ := json.MarshalIndent(out, "", "  ")
	return atomicfile.Write(filepath.Join(n.cfg.Dir, anchorsFile), raw, 0o600)
}

// loadAnchors reads the anchors the last run kept; a missing or damaged
// file is none (it only speeds up a safe start).
func (n *Node) loadAnchors() []peer.AddrInfo { return n.readPeersFile(anchorsFile, "anchors") }
