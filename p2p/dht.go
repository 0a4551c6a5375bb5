package p2p

import (
	"context"
	"fmt"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Kademlia peer discovery. Each network and genesis has a DHT of its own
// (its protocol ID carries the node's prefix), used for peer routing
// only: no provider records, no values. Every peer in its routing table is
// therefore a node of this chain, and the table is the list of peers to
// dial when the node has few. The DHT bootstraps from the configured and
// known peers, and its random walks (on bootstrap and every routing table
// refresh) find the rest of the network.

const (
	// dhtDialInterval is how often the node looks in the routing table
	// for peers to dial while it has fewer than dhtTargetPeers.
	dhtDialInterval = 30 * time.Second
	// dhtTargetPeers is how many outbound connections the node seeks
	// through the DHT, as Core keeps 8 outbound peers: inbound ones do not
	// count, so peers that connect to a node cannot crowd out the ones
	// it chose (an eclipse).
	dhtTargetPeers = 8
)

// startDHT creates the network's DHT. It answers queries (server mode)
// unless libp2p finds the node unreachable from outside, so that a node
// behind NAT does not fill others' routing tables with an address no one
// can dial.
func (n *Node) startDHT() error {
	d, err := dht.New(n.host,
		dht.Mode(dht.ModeAutoServer),
		dht.ProtocolPrefix(protocol.ID(n.prefix)),
		dht.DisableProviders(),
		dht.DisableValues(),
		dht.BootstrapPeersFunc(n.bootstrapPeers),
	)
	if err != nil {
		return fmt.Errorf("p2p: dht: %w", err)
	}
	n.dht = d
	return nil
}

// bootstrapPeers returns the configured and known peers, for the DHT to
// start its walks from.
func (n *Node) bootstrapPeers() []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, addr := range n.AddedNodes() {
		if info, err := parsePeerAddr(addr); err == nil {
			out = append(out, *info)
		}
	}
	return append(out, n.loadPeers()...)
}

// runDHT bootstraps the DHT and dials peers from its routing table while
// the node has fewer than dhtTargetPeers, until ctx ends.
func (n *Node) runDHT(ctx context.Context, interval time.Duration) {
	if err := n.dht.Bootstrap(ctx); err != nil {
		n.log.Warn("dht bootstrap", "err", err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n.dialFromDHT(ctx)
		}
	}
}

// dialFromDHT dials routing-table peers the node is not connected to, as
// many as it lacks of dhtTargetPeers outbound connections, at most one per
// address group (outbound.go).
func (n *Node) dialFromDHT(ctx context.Context) {
	if !n.NetworkActive() {
		return
	}
	outbound := make(map[peer.ID]bool)
	for _, c := range n.host.Network().Conns() {
		if c.Stat().Direction == network.DirOutbound {
			outbound[c.RemotePeer()] = true
		}
	}
	want := dhtTargetPeers - len(outbound)
	if want <= 0 {
		return
	}
	var cands []peer.AddrInfo
	for _, p := range n.dht.RoutingTable().ListPeers() {
		cands = append(cands, n.host.Peerstore().PeerInfo(p))
	}
	for _, info := range n.diverse(cands, n.outboundGroups(), want) {
		n.dial(ctx, info, false, "dht peer")
	}
}
