package main

import (
	"strings"
	"testing"
	"time"
)

// TestE2EP2PRelay ensures two real nodes connect over libp2p (the second
// given the first's address from getnetworkinfo's p2paddresses), pass the
// handshake, and that blocks mined on either reach the other: the second
// catches up on connecting, and later blocks follow.
func TestE2EP2PRelay(t *testing.T) {
	t.Parallel()
	a := startNode(t, t.TempDir(), nodeOpts{})
	addr := testAddress(t).String()
	a.mustCall(t, nil, "generatetoaddress", 10, addr)

	var info struct {
		P2PAddresses []string `json:"p2paddresses"`
		Connections  int      `json:"connections"`
	}
	a.mustCall(t, &info, "getnetworkinfo")
	if len(info.P2PAddresses) == 0 {
		t.Fatal("getnetworkinfo lists no p2paddresses")
	}
	b := startNode(t, t.TempDir(), nodeOpts{args: []string{"--peer", info.P2PAddresses[0]}})
	waitTip := func(n *node, want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var best string
			n.mustCall(t, &best, "getbestblockhash")
			if best == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("tip %s, want %s\nnode output:\n%s", best, want, tail(n.output()))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var tipA string
	a.mustCall(t, &tipA, "getbestblockhash")
	waitTip(b, tipA)
	for _, n := range []*node{a, b} {
		var count int
		n.mustCall(t, &count, "getconnectioncount")
		if count != 1 {
			t.Fatalf("getconnectioncount = %d, want 1", count)
		}
	}
	inbound := map[bool]int{}
	for _, n := range []*node{a, b} {
		var peers []struct {
			PeerID        string `json:"peerid"`
			Addr          string `json:"addr"`
			Inbound       bool   `json:"inbound"`
			ConnTime      int64  `json:"conntime"`
			SyncedBlocks  int32  `json:"synced_blocks"`
			SyncedHeaders int32  `json:"synced_headers"`
		}
		n.mustCall(t, &peers, "getpeerinfo")
		if len(peers) != 1 || peers[0].PeerID == "" || peers[0].Addr == "" || peers[0].ConnTime == 0 {
			t.Fatalf("getpeerinfo = %+v", peers)
		}
		inbound[peers[0].Inbound]++
	}
	if inbound[true] != 1 || inbound[false] != 1 {
		t.Fatalf("one side should see the peer inbound and the other outbound: %v", inbound)
	}
	// Traffic counters are sampled about once a second.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var peers []struct {
			BytesSent int64 `json:"bytessent"`
			BytesRecv int64 `json:"bytesrecv"`
		}
		a.mustCall(t, &peers, "getpeerinfo")
		if len(peers) == 1 && peers[0].BytesSent > 0 && peers[0].BytesRecv > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("getpeerinfo counts no traffic: %+v", peers)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var hashes []string
	b.mustCall(t, &hashes, "generatetoaddress", 3, addr)
	waitTip(a, hashes[len(hashes)-1])

	// setban disconnects and lists the peer; clearbanned lifts it.
	var bInfo struct {
		P2PAddresses []string `json:"p2paddresses"`
	}
	b.mustCall(t, &bInfo, "getnetworkinfo")
	bID := bInfo.P2PAddresses[0][strings.LastIndex(bInfo.P2PAddresses[0], "/")+1:]
	a.mustCall(t, nil, "setban", bID, "add", 3600)
	var banned []struct {
		Address string `json:"address"`
	}
	a.mustCall(t, &banned, "listbanned")
	if len(banned) != 1 || banned[0].Address != bID {
		t.Fatalf("listbanned = %+v, want %s", banned, bID)
	}
	var count int
	a.mustCall(t, &count, "getconnectioncount")
	if count != 0 {
		t.Fatalf("banned peer still connected (%d peers)", count)
	}
	a.mustCall(t, nil, "clearbanned")
	a.mustCall(t, &banned, "listbanned")
	if len(banned) != 0 {
		t.Fatalf("listbanned after clearbanned = %+v", banned)
	}

	// addnode keeps b connected; setnetworkactive false drops it until
	// networking is on again; disconnectnode and bad input answer as Core.
	waitPeers := func(want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var count int
			a.mustCall(t, &count, "getconnectioncount")
			if count == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("getconnectioncount = %d, want %d", count, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	a.mustCall(t, nil, "addnode", bInfo.P2PAddresses[0], "add")
	waitPeers(1)
	var added []struct {
		AddedNode string `json:"addednode"`
		Connected bool   `json:"connected"`
	}
	a.mustCall(t, &added, "getaddednodeinfo")
	if len(added) != 1 || added[0].AddedNode != bInfo.P2PAddresses[0] || !added[0].Connected {
		t.Fatalf("getaddednodeinfo = %+v", added)
	}
	if _, err := a.call("addnode", bInfo.P2PAddresses[0], "add"); err == nil || !strings.Contains(err.Error(), "-23") {
		t.Fatalf("adding twice: %v, want error -23", err)
	}
	var active bool
	a.mustCall(t, &active, "setnetworkactive", false)
	waitPeers(0)
	var netInfo struct {
		NetworkActive bool `json:"networkactive"`
	}
	a.mustCall(t, &netInfo, "getnetworkinfo")
	if netInfo.NetworkActive {
		t.Fatal("getnetworkinfo networkactive after setnetworkactive false")
	}
	a.mustCall(t, &active, "setnetworkactive", true)
	waitPeers(1)
	a.mustCall(t, nil, "addnode", bInfo.P2PAddresses[0], "remove")
	a.mustCall(t, nil, "disconnectnode", bID)
	for _, bad := range [][]any{
		{"addnode", "/ip4/127.0.0.1/tcp/1", "add"},
		{"addnode", bInfo.P2PAddresses[0], "sometimes"},
		{"disconnectnode", "nonsense"},
		{"setnetworkactive", "maybe"},
	} {
		if _, err := a.call(bad[0].(string), bad[1:]...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
