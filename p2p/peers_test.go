package p2p

import (
	"context"
	"errors"
	stdnet "net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
)

// TestAddNodeDisconnectAndNetworkActive ensures addnode keeps a peer
// connected through disconnectnode, stops after remove, and that turning
// the network off drops and refuses every connection until it is on again.
func TestAddNodeDisconnectAndNetworkActive(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	a, b := newTestNode(t, ctx, net, nil), newTestNode(t, ctx, net, nil)
	addr := b.node.Addrs()[0]
	connected := func() bool { return a.node.host.Network().Connectedness(b.node.ID()) == network.Connected }

	if err := a.node.AddNode(addr, "add"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the added peer", connected)
	if err := a.node.AddNode(addr, "add"); !errors.Is(err, ErrAlreadyAdded) {
		t.Fatalf("second add: %v, want ErrAlreadyAdded", err)
	}
	if got := a.node.AddedNodes(); len(got) != 1 || got[0] != addr {
		t.Fatalf("added nodes %v", got)
	}

	if err := a.node.DisconnectNode(b.node.ID().String()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the added peer to be redialled", connected)

	a.node.SetNetworkActive(false)
	waitFor(t, 5*time.Second, "the network to go quiet", func() bool { return len(a.node.host.Network().Peers()) == 0 })
	if err := b.node.Connect(ctx, a.node.Addrs()[0]); err == nil {
		time.Sleep(100 * time.Millisecond)
		if len(a.node.host.Network().Peers()) != 0 {
			t.Fatal("inactive network accepted a connection")
		}
	}
	time.Sleep(1500 * time.Millisecond) // past a redial
	if connected() || a.node.NetworkActive() {
		t.Fatal("inactive network redialled")
	}
	a.node.SetNetworkActive(true)
	waitFor(t, 10*time.Second, "the redial after reactivation", connected)

	if err := a.node.AddNode(addr, "remove"); err != nil {
		t.Fatal(err)
	}
	if err := a.node.AddNode(addr, "remove"); !errors.Is(err, ErrNotAdded) {
		t.Fatalf("second remove: %v, want ErrNotAdded", err)
	}
	// The redial loop ends. (libp2p itself may still reconnect: a stream
	// the gossip router was opening when the peer left dials it again,
	// which Core's disconnectnode allows too.)
	waitFor(t, 5*time.Second, "the redial loop to end", func() bool { return a.node.redialLoops.Load() == 0 })
	if err := a.node.DisconnectNode(addr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the disconnection", func() bool { return !connected() })
	if err := a.node.DisconnectNode(b.node.ID().String()); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("disconnect of an unconnected peer: %v", err)
	}
	if err := a.node.AddNode(addr, "onetry"); err != nil || !connected() {
		t.Fatalf("onetry: %v", err)
	}
	for _, bad := range []struct{ addr, cmd string }{
		{"/ip4/127.0.0.1/tcp/1", "add"}, // no /p2p/
		{"nonsense", "onetry"},
		{addr, "sometimes"},
	} {
		if err := a.node.AddNode(bad.addr, bad.cmd); err == nil {
			t.Errorf("addnode %q %q accepted", bad.addr, bad.cmd)
		}
	}
	if err := a.node.DisconnectNode("nonsense"); err == nil {
		t.Error("disconnectnode accepted nonsense")
	}
}

// TestMDNSFindsPeers ensures nodes with mDNS on find each other on the
// local network without being told of one another.
func TestMDNSFindsPeers(t *testing.T) {
	t.Parallel()
	if !haveMulticast() {
		t.Skip("no interface here is up with multicast, which mDNS needs")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	mk := func() *Node {
		c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		n, err := New(ctx, Config{Chain: c, Dir: t.TempDir(), MDNS: true, Listen: []string{"/ip4/0.0.0.0/tcp/0"}, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		go n.Run(ctx)
		return n
	}
	a, b := mk(), mk()
	waitFor(t, 20*time.Second, "mDNS discovery", func() bool {
		return a.host.Network().Connectedness(b.ID()) == network.Connected
	})
}

// haveMulticast reports whether a non-loopback interface can multicast.
func haveMulticast() bool {
	ifaces, err := stdnet.Interfaces()
	if err != nil {
		return false
	}
	for _, i := range ifaces {
		if i.Flags&stdnet.FlagUp != 0 && i.Flags&stdnet.FlagMulticast != 0 && i.Flags&stdnet.FlagLoopback == 0 {
			return true
		}
	}
	return false
}

// TestKnownPeersPersist ensures a node restarted on its data folder dials
// the peers it knew, without being told of them, and survives a damaged
// address book.
func TestKnownPeersPersist(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	b := newTestNode(t, ctx, net, nil)
	dir := t.TempDir()
	start := func() *Node {
		c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		n, err := New(ctx, Config{Chain: c, Dir: dir, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		go n.Run(ctx)
		return n
	}
	a := start()
	if err := a.Connect(ctx, b.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the handshake", func() bool { return a.PeerCount() == 1 })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	again := start()
	waitFor(t, 10*time.Second, "a dial of the known peer", func() bool {
		return again.host.Network().Connectedness(b.node.ID()) == network.Connected
	})
	again.Close()

	if err := os.WriteFile(filepath.Join(dir, peersFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	third := start()
	if got := third.loadPeers(); got != nil {
		t.Fatalf("damaged address book read as %v", got)
	}
}
