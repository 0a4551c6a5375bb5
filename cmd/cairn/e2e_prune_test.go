package main

import (
	"strings"
	"testing"
	"time"
)

// TestE2EPrune runs pruning through the binary: a node started with
// --prune 1 (and --fastprune's 64 KiB block files) syncs 1,300 blocks from
// a full node, prunes them up to height 1,000 on pruneblockchain (keeping
// the last 288), reports it in getblockchaininfo as Core does, answers
// getblock of a pruned block with Core's error and of a kept one with the
// file's bytes; a third node syncing from both is never asked the pruned
// node for a block it pruned (its cairn_p2p_blocks_unserved_total stays 0);
// and the pruned folder refuses to start without --prune.
func TestE2EPrune(t *testing.T) {
	t.Parallel()
	const blocks = 1300
	full := startNode(t, t.TempDir(), nodeOpts{})
	// In calls of 100, each well within the RPC client's timeout on a
	// loaded machine.
	addr := testAddress(t).String()
	for i := 0; i < blocks/100; i++ {
		full.mustCall(t, nil, "generatetoaddress", 100, addr)
	}
	var tip string
	full.mustCall(t, &tip, "getbestblockhash")

	metricsAddr := freeAddr(t)
	prunedDir := t.TempDir()
	pruned := startNode(t, prunedDir, nodeOpts{args: []string{"--prune", "1", "--fastprune",
		"--metrics-addr", metricsAddr, "--peer", p2pAddrOf(t, full)}})
	waitBest(t, pruned, tip)

	var last int
	pruned.mustCall(t, &last, "pruneblockchain", 1000)
	if last < 500 || last > 1000 {
		t.Fatalf("pruneblockchain 1000 pruned up to %d", last)
	}
	var info struct {
		Pruned           bool   `json:"pruned"`
		PruneHeight      *int   `json:"pruneheight"`
		AutomaticPruning *bool  `json:"automatic_pruning"`
		PruneTargetSize  *int64 `json:"prune_target_size"`
		SizeOnDisk       int64  `json:"size_on_disk"`
	}
	pruned.mustCall(t, &info, "getblockchaininfo")
	if !info.Pruned || info.PruneHeight == nil || *info.PruneHeight != last+1 || info.AutomaticPruning == nil ||
		*info.AutomaticPruning || info.PruneTargetSize != nil {
		t.Fatalf("getblockchaininfo after pruning to %d: %+v", last, info)
	}
	var gone, kept string
	pruned.mustCall(t, &gone, "getblockhash", last)
	pruned.mustCall(t, &kept, "getblockhash", last+1)
	if _, err := pruned.call("getblock", gone, 0); err == nil || !strings.Contains(err.Error(), "Block not available (pruned data)") {
		t.Fatalf("getblock of a pruned block: %v", err)
	}
	var fromPruned, fromFull string
	pruned.mustCall(t, &fromPruned, "getblock", kept, 0)
	full.mustCall(t, &fromFull, "getblock", kept, 0)
	if fromPruned != fromFull || fromPruned == "" {
		t.Fatal("a kept block's bytes differ from the full node's")
	}
	// pruneblockchain near the tip keeps the last 288 blocks.
	pruned.mustCall(t, &last, "pruneblockchain", blocks)
	if last > blocks-288 {
		t.Fatalf("pruneblockchain %d pruned up to %d, within the last 288 blocks", blocks, last)
	}

	third := startNode(t, t.TempDir(), nodeOpts{args: []string{"--peer", p2pAddrOf(t, pruned), "--peer", p2pAddrOf(t, full)}})
	waitBest(t, third, tip)
	body := scrapeMetrics(t, metricsAddr)
	if v, ok := metricValue(body, "cairn_p2p_blocks_unserved_total"); !ok || v != 0 {
		t.Fatalf("the pruned node was asked for %v blocks it did not have (found %v)", v, ok)
	}
	served, _ := metricValue(body, "cairn_p2p_blocks_served_total")
	t.Logf("pruned to %d; the pruned node served %v blocks of the third node's sync", last, served)

	// Pruned data needs prune mode.
	pruned.stopRPC(t)
	stdout, stderr, code := runCairnFor(t, 30*time.Second, nil, "node", "--network", "regtest", "--datadir", prunedDir,
		"--rpc-addr", freeAddr(t), "--listen", "/ip4/127.0.0.1/tcp/0", "--mdns=false")
	if code == 0 || !strings.Contains(stderr+stdout, "--prune") {
		t.Fatalf("a pruned folder started without --prune: exit %d\n%s%s", code, stdout, stderr)
	}
}

// p2pAddrOf returns a node's first peer-to-peer address.
func p2pAddrOf(t testing.TB, n *node) string {
	t.Helper()
	var info struct {
		P2PAddresses []string `json:"p2paddresses"`
	}
	n.mustCall(t, &info, "getnetworkinfo")
	if len(info.P2PAddresses) == 0 {
		t.Fatal("getnetworkinfo lists no p2paddresses")
	}
	return info.P2PAddresses[0]
}
