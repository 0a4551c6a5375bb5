package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// TestDHTFindsPeers ensures nodes that each know only one bootstrap node
// find and connect to each other through the network's DHT (mDNS is off
// and gossip peer exchange is not used, so the DHT is the only way).
func TestDHTFindsPeers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	withDHT := func(c *Config) { c.DHT, c.DHTInterval = true, 200*time.Millisecond }
	boot := newTestNode(t, ctx, net, nil, withDHT)
	var others []*testNode
	for range 3 {
		n := newTestNode(t, ctx, net, nil, func(c *Config) {
			withDHT(c)
			c.Peers = boot.node.Addrs()
		})
		others = append(others, n)
	}
	for i, a := range others {
		for _, b := range others[i+1:] {
			waitFor(t, 30*time.Second, "peers to find each other through the DHT", func() bool {
				return a.node.host.Network().Connectedness(b.node.ID()) == network.Connected
			})
		}
	}
	// A node without the DHT is not in anyone's table.
	plain := newTestNode(t, ctx, net, nil, func(c *Config) { c.Peers = boot.node.Addrs() })
	time.Sleep(time.Second)
	for _, n := range others {
		for _, p := range n.node.dht.RoutingTable().ListPeers() {
			if p == plain.node.ID() {
				t.Fatal("a node without the DHT is in a routing table")
			}
		}
	}
}
