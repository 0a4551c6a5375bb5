package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cairnchain/cairn/chain/chaintest"
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
	var tipA string
	a.mustCall(t, &tipA, "getbestblockhash")
	waitBest(t, b, tipA)
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
	waitBest(t, a, hashes[len(hashes)-1])

	// setban disconnects and lists the peer; clearbanned lifts it.
	var bInfo struct {
		P2PAddresses []string `json:"p2paddresses"`
	}
	b.mustCall(t, &bInfo, "getnetworkinfo")
	bID := bInfo.P2PAddresses[0][strings.LastIndex(bInfo.P2PAddresses[0], "/")+1:]
	a.mustCall(t, nil, "setban", bID, "add", 3600)
	a.mustCall(t, nil, "setban", "192.0.2.7/24", "add") // Core's form: an address or a subnet
	var banned []struct {
		Address     string `json:"address"`
		BanDuration int64  `json:"ban_duration"`
	}
	a.mustCall(t, &banned, "listbanned")
	if len(banned) != 2 || banned[0].Address != bID || banned[1].Address != "192.0.2.0/24" ||
		banned[0].BanDuration != 3600 || banned[1].BanDuration != 24*3600 {
		t.Fatalf("listbanned = %+v, want %s for an hour and 192.0.2.0/24 for a day", banned, bID)
	}
	for _, bad := range []struct {
		params []any
		code   string
	}{
		{[]any{"192.0.2.0/24", "add"}, "-23"}, {[]any{"198.51.100.1", "remove"}, "-30"}, {[]any{"192.0.2", "add"}, "-30"},
	} {
		if _, err := a.call("setban", bad.params...); err == nil || !strings.Contains(err.Error(), bad.code) {
			t.Fatalf("setban %v: %v, want error %s", bad.params, err, bad.code)
		}
	}
	a.mustCall(t, nil, "setban", "192.0.2.0/24", "remove")
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
	a.mustCall(t, nil, "addnode", bInfo.P2PAddresses[0], "add")
	waitConnections(t, a, 1)
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
	waitConnections(t, a, 0)
	var netInfo struct {
		NetworkActive bool `json:"networkactive"`
	}
	a.mustCall(t, &netInfo, "getnetworkinfo")
	if netInfo.NetworkActive {
		t.Fatal("getnetworkinfo networkactive after setnetworkactive false")
	}
	a.mustCall(t, &active, "setnetworkactive", true)
	waitConnections(t, a, 1)
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

// TestE2EThreeNodesPartition runs three nodes in a line A - B - C: blocks
// mined on A reach C through B; switching B's network off partitions A
// from C, which then mine apart; switching it on again makes all three
// settle on the chain with more work; a late joiner syncs the whole chain.
func TestE2EThreeNodesPartition(t *testing.T) {
	t.Parallel()
	addr := testAddress(t).String()
	p2pAddr := func(n *node) string { return p2pAddrOf(t, n) }
	a := startNode(t, t.TempDir(), nodeOpts{})
	b := startNode(t, t.TempDir(), nodeOpts{args: []string{"--peer", p2pAddr(a)}})
	c := startNode(t, t.TempDir(), nodeOpts{args: []string{"--peer", p2pAddr(b)}})
	var hashes []string
	a.mustCall(t, &hashes, "generatetoaddress", 5, addr)
	for _, n := range []*node{b, c} {
		waitBest(t, n, hashes[len(hashes)-1])
	}

	b.mustCall(t, nil, "setnetworkactive", false)
	for _, n := range []*node{a, c} {
		waitConnections(t, n, 0)
	}
	a.mustCall(t, &hashes, "generatetoaddress", 2, addr)
	var heavier []string
	c.mustCall(t, &heavier, "generatetoaddress", 4, addr)
	time.Sleep(500 * time.Millisecond)
	var best string
	a.mustCall(t, &best, "getbestblockhash")
	if best != hashes[len(hashes)-1] {
		t.Fatal("a block crossed the partition")
	}

	b.mustCall(t, nil, "setnetworkactive", true)
	for _, n := range []*node{a, b, c} {
		waitBest(t, n, heavier[len(heavier)-1])
	}

	d := startNode(t, t.TempDir(), nodeOpts{args: []string{"--peer", p2pAddr(c)}})
	waitBest(t, d, heavier[len(heavier)-1])
	var height int
	d.mustCall(t, &height, "getblockcount")
	if height != 9 {
		t.Fatalf("late joiner at height %d, want 9", height)
	}
}

// waitBest waits until n's tip is want.
func waitBest(t *testing.T, n *node, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
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

// waitConnections waits until n counts want peers.
func waitConnections(t *testing.T, n *node, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var count int
		n.mustCall(t, &count, "getconnectioncount")
		if count == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("getconnectioncount = %d, want %d", count, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestE2EReorgReturnsTransaction ensures a transaction confirmed only on
// the losing side of a partition returns to that side's pool when the
// partition heals, is published again, and confirms on the winning chain.
func TestE2EReorgReturnsTransaction(t *testing.T) {
	t.Parallel()
	w := newMPWallet(t)
	a := startNode(t, t.TempDir(), nodeOpts{})
	var info struct {
		P2PAddresses []string `json:"p2paddresses"`
	}
	a.mustCall(t, &info, "getnetworkinfo")
	b := startNode(t, t.TempDir(), nodeOpts{args: []string{"--peer", info.P2PAddresses[0]}})
	var hashes []string
	a.mustCall(t, &hashes, "generatetoaddress", 101, w.addr)
	waitBest(t, b, hashes[len(hashes)-1])

	b.mustCall(t, nil, "setnetworkactive", false)
	waitConnections(t, a, 0)
	tx := w.spend(t, []chaintest.SpendableOut{w.coinbaseOut(t, a, 1)}, 1, 1000)
	mpSend(t, a, tx)
	a.mustCall(t, nil, "generatetoaddress", 1, w.addr)
	mpWaitPool(t, a, "confirmed on the losing side", mpIDs())
	var heavier []string
	b.mustCall(t, &heavier, "generatetoaddress", 3, w.addr)

	b.mustCall(t, nil, "setnetworkactive", true)
	waitBest(t, a, heavier[len(heavier)-1])
	mpWaitPool(t, a, "returned by the reorganization", mpIDs(tx))
	mpWaitPool(t, b, "published again to the winning side", mpIDs(tx))
	var mined []string
	b.mustCall(t, &mined, "generatetoaddress", 1, w.addr)
	waitBest(t, a, mined[0])
	var block struct {
		Tx []string `json:"tx"`
	}
	a.mustCall(t, &block, "getblock", mined[0])
	if len(block.Tx) != 2 || block.Tx[1] != tx.TxHash().String() {
		t.Fatalf("the winning chain's next block holds %v, want the returned transaction", block.Tx)
	}
	mpWaitPool(t, a, "confirmed again", mpIDs())
}
