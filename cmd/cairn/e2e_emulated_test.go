package main

import (
	"os"
	"path/filepath"
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
