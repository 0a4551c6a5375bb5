package p2p

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/internal/netnstest"
	"github.com/cairnchain/cairn/p2p/internal/hostile"
)

// TestBannedHostFreshIdentityRefused ensures a host banned for misbehaviour
// cannot come back under a fresh peer ID, which libp2p gives for free: the
// ban covers its address too (Core's discouragement), so connections from
// it are refused whatever identity they present, while another host is
// welcome. A host cycling through fresh identities is also held to the
// inbound rate per address. Peers need distinct addresses, so the test
// runs in a network namespace of its own (10.77.0.1 the victim, 10.77.0.2
// the banned host, 10.78.0.2 another, 10.79.0.2 the identity cycler).
func TestBannedHostFreshIdentityRefused(t *testing.T) {
	if !netnstest.Run(t, "10.77.0.1", "10.77.0.2", "10.78.0.2", "10.79.0.2") {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	for i := 0; i < 4; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	victim := newTestNode(t, ctx, net, func() time.Time { return g.Now().Add(time.Hour) },
		func(c *Config) { c.Listen = []string{netnstest.Addr("10.77.0.1")}; c.StatusInterval = time.Hour })
	addr := victim.node.Addrs()[0]
	hnet := hostile.Network{Name: net.Name, Genesis: net.GenesisHash()}
	join := func(ip string) (*hostile.Peer, error) {
		p, err := hostile.New(ctx, hnet, netnstest.Addr(ip))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err = p.Connect(cctx, addr)
		return p, err
	}

	evil, err := join("10.77.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if len(victim.node.host.Network().ConnsToPeer(evil.ID())) == 0 {
		t.Fatal("no connection from the attacker")
	}
	if ip, _ := multiaddrIP(victim.node.host.Network().ConnsToPeer(evil.ID())[0].RemoteMultiaddr()); ip != netip.MustParseAddr("10.77.0.2") {
		t.Fatalf("the attacker connects from %v, not its own address", ip)
	}
	// A header without proof of work: a ban at once.
	bad := g.NextBlock("bad", nil, nil)
	chaintest.Unsolve(bad)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := evil.WaitMeshed(wctx, victim.node.ID()); err != nil {
		t.Fatal(err)
	}
	if err := evil.Publish(ctx, serialized(t, bad)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the ban", func() bool { return victim.node.bans.banned(evil.ID()) })
	if !victim.node.bans.addrBanned(netip.MustParseAddr("10.77.0.2")) {
		t.Fatalf("the attacker's address is not banned: %v", victim.node.Banned())
	}

	if p, err := join("10.77.0.2"); err == nil && len(victim.node.host.Network().ConnsToPeer(p.ID())) > 0 {
		t.Fatal("the banned host came back under a fresh identity")
	}
	if _, err := join("10.78.0.2"); err != nil {
		t.Fatalf("another host was refused: %v", err)
	}

	// One host, fresh identities: the burst, then refusals. The victim's
	// own count of refusals decides, since a connection that passes the
	// rate may still fail for another reason on a loaded machine (a slow
	// handshake, the victim closing it before the status exchange).
	const attempts = acceptBurst + 5
	before := victim.node.bans.overRate.Load()
	joined := 0
	for i := 0; i < attempts; i++ {
		p, err := join("10.79.0.2")
		if err != nil {
			t.Logf("connection %d: %v", i, err)
		} else {
			joined++
		}
		p.Close()
	}
	refused := int(victim.node.bans.overRate.Load() - before)
	t.Logf("%d of %d connections from one host joined, %d refused for their rate", joined, attempts, refused)
	if joined > acceptBurst+1 || refused < attempts-acceptBurst-1 { // a token may refill meanwhile
		t.Fatalf("%d of %d connections from one host joined (burst %d), %d refused for their rate", joined, attempts, acceptBurst, refused)
	}
	if joined < acceptBurst/2 {
		t.Fatalf("only %d of the first %d connections from one host joined", joined, acceptBurst)
	}
}
