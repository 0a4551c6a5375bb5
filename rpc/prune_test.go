package rpc

import (
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain"
)

// prunedChain is a real chain that says it prunes: the chain's own tests
// prune; these check what the RPC makes of it.
type prunedChain struct {
	*chain.BlockChain
	state    chain.PruneState
	asked    []int32
	pruneErr error
	pruned   map[chainhash.Hash]bool
}

func (p *prunedChain) PruneState() chain.PruneState { return p.state }
func (p *prunedChain) PruneBlockchain(height int32) (int32, error) {
	p.asked = append(p.asked, height)
	return height - 3, p.pruneErr
}
func (p *prunedChain) RawBlock(h chainhash.Hash) ([]byte, error) {
	if p.pruned[h] {
		return nil, fmt.Errorf("%w: %w: %v", chain.ErrNoBlockData, chain.ErrBlockPruned, h)
	}
	return p.BlockChain.RawBlock(h)
}

// TestPruneRPC ensures getblockchaininfo shows Core's prune fields only in
// prune mode, pruneblockchain checks its height (or time) and answers
// Core's errors, and getblock says when a block was pruned.
func TestPruneRPC(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 5})

	var info map[string]any
	decode(t, mustCall(t, n.srv, "getblockchaininfo"), &info)
	if info["pruned"] != false {
		t.Errorf("unpruned node: pruned = %v", info["pruned"])
	}
	for _, key := range []string{"pruneheight", "automatic_pruning", "prune_target_size"} {
		if _, ok := info[key]; ok {
			t.Errorf("unpruned node shows %s", key)
		}
	}
	_, rerr := call(t, n.srv, "pruneblockchain", 3)
	checkErr(t, "pruneblockchain unpruned", rerr, -1, "Cannot prune blocks because node is not in prune mode.")

	pc := &prunedChain{BlockChain: n.chain, state: chain.PruneState{Enabled: true, Automatic: true, Target: 550 << 20, Height: 3},
		pruned: map[chainhash.Hash]bool{}}
	s := newServer(t, Config{User: testUser, Password: testPass, Chain: pc})
	decode(t, mustCall(t, s, "getblockchaininfo"), &info)
	if info["pruned"] != true || info["pruneheight"] != 3.0 || info["automatic_pruning"] != true || info["prune_target_size"] != float64(550<<20) {
		t.Errorf("pruned node: %v", info)
	}
	pc.state.Automatic = false
	info = nil
	decode(t, mustCall(t, s, "getblockchaininfo"), &info)
	if _, ok := info["prune_target_size"]; ok || info["automatic_pruning"] != false {
		t.Errorf("manually pruned node: %v", info)
	}

	tests := []struct {
		name     string
		param    any
		wantCode int
		wantMsg  string
		want     string
	}{
		{name: "negative", param: -1, wantCode: -8, wantMsg: "Negative block height."},
		{name: "above the tip", param: 6, wantCode: -8, wantMsg: "Blockchain is shorter than the attempted prune height."},
		{name: "a height", param: 4, want: "1"},
		{name: "a time after every block", param: 4_000_000_000, wantCode: -8, wantMsg: "Could not find block with at least the specified timestamp."},
		{name: "not a number", param: "four", wantCode: -3},
	}
	for _, test := range tests {
		res, rerr := call(t, s, "pruneblockchain", test.param)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil || string(res) != test.want {
			t.Errorf("%s: %s, %v; want %s", test.name, res, rerr, test.want)
		}
	}
	// A time: the first block at most two hours older.
	b3, _ := n.chain.BlockInfo(mustHashStr(t, n.hash("b3")))
	res := mustCall(t, s, "pruneblockchain", b3.Header.Timestamp.Unix()+2*60*60)
	var got int32
	decode(t, res, &got)
	if last := pc.asked[len(pc.asked)-1]; last != 3 {
		t.Errorf("pruneblockchain by the time of b3 pruned up to %d, want 3 (result %d)", last, got)
	}
	pc.pruneErr = fmt.Errorf("%w: too short", chain.ErrPruneMode)
	_, rerr = call(t, s, "pruneblockchain", 2)
	checkErr(t, "short chain", rerr, -1, "Blockchain is too short for pruning.")

	pc.pruned[mustHashStr(t, n.hash("b1"))] = true
	for _, verbosity := range []int{0, 1, 2} {
		_, rerr = call(t, s, "getblock", n.hash("b1"), verbosity)
		checkErr(t, fmt.Sprintf("getblock %d of a pruned block", verbosity), rerr, -1, "Block not available (pruned data)")
	}
}

func mustHashStr(t *testing.T, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}
