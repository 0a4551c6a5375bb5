package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestE2EMineEmulated runs a node with --mine-emulated 1 on a
// fixed-difficulty chain of 1 s spacing: it mines valid blocks at
// about that pace with no proof-of-work search, and the same flag on an
// ASERT chain is refused before the node starts.
func TestE2EMineEmulated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := filepath.Join(dir, "emu.json")
	if err := os.WriteFile(spec, []byte(`{"name": "emu", "base": "regtest", "difficulty": "fixed", "target_spacing": "1s", "genesis": {"time": 1700000000}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, filepath.Join(dir, "node"), nodeOpts{user: "u", pass: "p", args: []string{"--chain-spec", spec}})
	w := &walletCLI{t: t, n: n, file: filepath.Join(dir, "w.dat"), env: []string{"CAIRN_WALLET_PASSWORD=secret"},
		netArgs: []string{"--chain-spec", spec, "--rpc-user", "u", "--rpc-password", "p"}}
	w.ok(nil, []string{"create"}, nil)
	addr := w.address()
	n.terminate(t)

	n = startNode(t, filepath.Join(dir, "node"), nodeOpts{user: "u", pass: "p",
		args: []string{"--chain-spec", spec, "--mine-emulated", "1", "--miner-address", addr}})
	time.Sleep(10 * time.Second)
	var height int32
	n.mustCall(t, &height, "getblockcount")
	// 10 s at a mean of 1 s a block: 10 expected (Poisson, standard
	// deviation 3.2); a real search on this chain would make hundreds.
	if height < 2 || height > 30 {
		t.Fatalf("%d blocks in 10 s at a mean spacing of 1 s", height)
	}

	asert := filepath.Join(dir, "asert.json")
	if err := os.WriteFile(asert, []byte(`{"name": "asert", "base": "regtest", "difficulty": "asert", "target_spacing": "1s", "genesis": {"time": 1700000000}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCairn(t, nil, "node", "--chain-spec", asert, "--datadir", filepath.Join(dir, "asert"),
		"--mine-emulated", "1", "--miner-address", addr)
	if code == 0 || !strings.Contains(errOut, "fixed-difficulty") {
		t.Fatalf("--mine-emulated on an ASERT chain: exit %d, %s", code, errOut)
	}
}

// TestE2ETestnetEmulated starts an 8-node testnet whose 4 miners emulate
// equal shares of the hash rate: the nodes agree on a chain that grows at
// about the spacing, its blocks mined by more than one of the miners.
func TestE2ETestnetEmulated(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "localnet")
	cleanupTestnet(t, dir)
	out, errOut, code := runLong(t, 3*time.Minute, "testnet", "up", "--dir", dir, "--nodes", "8", "--miners", "4",
		"--spacing", "1s", "--emulated", "--detach")
	if code != 0 || !strings.Contains(out, "emulated hash rate") {
		t.Fatalf("up: exit %d\n%s%s", code, out, errOut)
	}
	type nodeStatus struct {
		Name          string `json:"name"`
		RPC           string `json:"rpc"`
		Height        int32  `json:"height"`
		BestBlockHash string `json:"bestblockhash"`
	}
	var st []nodeStatus
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, errOut, code := runLong(t, time.Minute, "testnet", "status", "--dir", dir, "--json")
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st) != 8 {
			t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
		}
		agree := true
		for _, n := range st {
			agree = agree && n.BestBlockHash == st[0].BestBlockHash
		}
		if agree && st[0].Height >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 8 nodes did not agree on 10 blocks in 2 minutes: %+v", st)
		}
		time.Sleep(time.Second)
	}
	// Who mined the first ten blocks: the coinbases' addresses.
	rpc := []string{"rpc", "--chain-spec", filepath.Join(dir, "chain-spec.json"), "--rpc-addr", st[0].RPC,
		"--rpc-user", "localnet", "--rpc-password", "localnet"}
	miners := map[string]bool{}
	for h := 1; h <= 10; h++ {
		hash, errOut, code := runCairn(t, nil, append(rpc, "getblockhash", strconv.Itoa(h))...)
		if code != 0 {
			t.Fatalf("getblockhash: %s", errOut)
		}
		out, errOut, code := runCairn(t, nil, append(rpc, "getblock", strings.TrimSpace(hash), "2")...)
		var blk struct {
			Tx []struct {
				Vout []struct {
					ScriptPubKey struct {
						Address string `json:"address"`
					} `json:"scriptPubKey"`
				} `json:"vout"`
			} `json:"tx"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &blk) != nil || len(blk.Tx) == 0 {
			t.Fatalf("getblock: %s%s", out, errOut)
		}
		miners[blk.Tx[0].Vout[0].ScriptPubKey.Address] = true
	}
	// Four equal miners: all ten blocks from one has odds of 4 in 4^10.
	if len(miners) < 2 {
		t.Fatalf("ten blocks from %d miner(s)", len(miners))
	}
}
