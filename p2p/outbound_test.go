package p2p

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/internal/netnstest"
	"github.com/cairnchain/cairn/p2p/internal/hostile"
)

// startHostiles starts a hostile peer on each ip (loopback when ip is "")
// and returns them with their saved-peer entries.
func startHostiles(t *testing.T, ctx context.Context, net *chainparams.Network, ips ...string) ([]*hostile.Peer, []savedPeer) {
	t.Helper()
	var peers []*hostile.Peer
	var saved []savedPeer
	for _, ip := range ips {
		var listen []string
		if ip != "" {
			listen = []string{netnstest.Addr(ip)}
		}
		p, err := hostile.New(ctx, hostile.Network{Name: net.Name, Genesis: net.GenesisHash()}, listen...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		var addrs []string
		for _, a := range p.Addrs() {
			addrs = append(addrs, a.String())
		}
		peers = append(peers, p)
		saved = append(saved, savedPeer{ID: p.ID().String(), Addrs: addrs})
	}
	return peers, saved
}

// writeSaved writes saved peers to dir's file.
func writeSaved(t *testing.T, dir, file string, saved []savedPeer) {
	t.Helper()
	raw, _ := json.Marshal(saved)
	if err := os.WriteFile(filepath.Join(dir, file), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// nodeIn starts a node on a fresh chain whose data folder is dir, with no
// status refresh of its own.
func nodeIn(t *testing.T, ctx context.Context, net *chainparams.Network, dir string, opts ...func(*Config)) *testNode {
	t.Helper()
	return newTestNode(t, ctx, net, nil, append([]func(*Config){func(c *Config) {
		c.Dir, c.StatusInterval = dir, time.Hour
	}}, opts...)...)
}

// outboundTo reports whether n has an outbound connection to p.
func outboundTo(n *Node, p *hostile.Peer) bool {
	for _, c := range n.host.Network().ConnsToPeer(p.ID()) {
		if c.Stat().Direction == network.DirOutbound {
			return true
		}
	}
	return false
}

// TestOutboundOnePerGroup ensures an address book an attacker filled from
// one /16 gets it at most one automatic outbound connection, and that the
// node reaches the peers of other groups listed after them (Core's
// netgroups), so its view of the chain does not all come from one range.
// It runs in a network namespace: 12 attacker addresses in 10.77.0.0/16,
// one honest peer each in 10.78.0.0/16 and 10.79.0.0/16.
func TestOutboundOnePerGroup(t *testing.T) {
	ips := []string{"10.76.0.1"}
	var evilIPs []string
	for i := 2; i < 14; i++ {
		evilIPs = append(evilIPs, "10.77.0."+itoa(i))
	}
	ips = append(append(ips, evilIPs...), "10.78.0.2", "10.79.0.2")
	if !netnstest.Run(t, ips...) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	evil, evilSaved := startHostiles(t, ctx, net, evilIPs...)
	honest, honestSaved := startHostiles(t, ctx, net, "10.78.0.2", "10.79.0.2")
	dir := t.TempDir()
	writeSaved(t, dir, peersFile, append(evilSaved, honestSaved...))
	victim := nodeIn(t, ctx, net, dir, func(c *Config) { c.Listen = []string{netnstest.Addr("10.76.0.1")} })
	waitFor(t, 10*time.Second, "the honest peers", func() bool {
		return outboundTo(victim.node, honest[0]) && outboundTo(victim.node, honest[1])
	})
	time.Sleep(500 * time.Millisecond) // any further dial would have landed
	n := 0
	for _, p := range evil {
		if outboundTo(victim.node, p) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d automatic outbound connections into the attacker's /16, want 1", n)
	}
	victim.node.tendOutbound(ctx) // the periodic pass adds none either
	time.Sleep(300 * time.Millisecond)
	for _, p := range evil {
		if outboundTo(victim.node, p) {
			n--
		}
	}
	if n != 0 {
		t.Fatal("the periodic pass dialled into the attacker's /16 again")
	}
}

// TestAnchorsReconnect ensures the block-relay-only peers a node had are
// dialled first after a restart, as block-relay-only again (no
// transactions either way), as Core's anchors.
func TestAnchorsReconnect(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	anchors, saved := startHostiles(t, ctx, net, "", "")
	dir := t.TempDir()
	writeSaved(t, dir, anchorsFile, saved)
	first := nodeIn(t, ctx, net, dir)
	waitFor(t, 10*time.Second, "the anchors", func() bool {
		return outboundTo(first.node, anchors[0]) && outboundTo(first.node, anchors[1])
	})
	for _, a := range anchors {
		if !first.node.isBlockRelay(a.ID()) {
			t.Fatalf("anchor %v is not block-relay-only", a.ID())
		}
	}
	if err := first.node.Close(); err != nil {
		t.Fatal(err)
	}
	// Only what the node wrote at Close leads it back now.
	if err := os.Remove(filepath.Join(dir, peersFile)); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	again := nodeIn(t, ctx, net, dir)
	waitFor(t, 10*time.Second, "the anchors after a restart", func() bool {
		return outboundTo(again.node, anchors[0]) && outboundTo(again.node, anchors[1])
	})
	for _, a := range anchors {
		if !again.node.isBlockRelay(a.ID()) {
			t.Fatalf("anchor %v is not block-relay-only after a restart", a.ID())
		}
	}
}

// TestStaleTipOpensOutbound ensures a tip that has not moved for
// staleTipSpacings target spacings makes the node dial one more peer from
// its address book, to look for a better chain, only one while it stays
// connected, and a fresh tip does not.
func TestStaleTipOpensOutbound(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	dir := t.TempDir()
	victim := nodeIn(t, ctx, net, dir)
	peers, saved := startHostiles(t, ctx, net, "", "")

	writeSaved(t, dir, peersFile, saved[:1])
	victim.node.tendOutbound(ctx)
	time.Sleep(500 * time.Millisecond)
	if outboundTo(victim.node, peers[0]) {
		t.Fatal("a fresh tip opened an outbound connection")
	}
	victim.node.mu.Lock()
	victim.node.lastTipChange = time.Now().Add(-staleTipSpacings*net.Consensus.TargetSpacing - time.Minute)
	victim.node.mu.Unlock()
	victim.node.tendOutbound(ctx)
	waitFor(t, 10*time.Second, "the extra outbound connection", func() bool { return outboundTo(victim.node, peers[0]) })
	// One extra per stale spell, however often the node looks.
	writeSaved(t, dir, peersFile, saved)
	victim.node.tendOutbound(ctx)
	time.Sleep(500 * time.Millisecond)
	if outboundTo(victim.node, peers[1]) {
		t.Fatal("a second extra peer was dialled while the first is connected")
	}
}
