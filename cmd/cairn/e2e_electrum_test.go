package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
)

// electrumSeed is the Electrum wallet's seed (an Electrum "segwit" seed,
// made by electrum make_seed), and its first receiving address on
// Bitcoin's regtest, as electrum getunusedaddress shows it.
const (
	electrumSeed = "wrap retreat vault stomach satisfy picture trip auction icon head portion whale"
	electrumAddr = "bcrt1qy2fg3h6emeejzkr3gyw0lfzex9y5pgwd6zkavr"
)

// bitcoinRegtestSpec is a chain spec with Bitcoin regtest's genesis block
// and address prefix, which Electrum's --regtest mode accepts (it checks
// the genesis hash and nothing of the proof of work). The README's "Use
// Electrum with Cairn" writes the same file.
func bitcoinRegtestSpec(t testing.TB) string {
	t.Helper()
	var buf bytes.Buffer
	if err := chaincfg.RegressionNetParams.GenesisBlock.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf(`{"name": "btcregtest", "base": "regtest", "bech32_hrp": "bcrt", "genesis": {"hex": "%x"}}`, buf.Bytes())
	path := filepath.Join(t.TempDir(), "btcregtest.json")
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// electrumCLI runs Debian's electrum in regtest mode on its own folder.
type electrumCLI struct {
	t   *testing.T
	dir string
}

func (e *electrumCLI) run(args ...string) (string, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "electrum", append([]string{"--regtest", "-D", e.dir}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+e.dir)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (e *electrumCLI) ok(out any, args ...string) string {
	e.t.Helper()
	s, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("electrum %s: %v\n%s", strings.Join(args, " "), err, s)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(s), out); err != nil {
			e.t.Fatalf("electrum %s: %v\n%s", strings.Join(args, " "), err, s)
		}
	}
	return s
}

// waitSynced waits until the wallet is connected, at the node's height
// and synchronized (every history read and every transaction verified).
func (e *electrumCLI) waitSynced(n *node, what string) {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		var height int64
		n.mustCall(e.t, &height, "getblockcount")
		var info struct {
			Connected        bool  `json:"connected"`
			BlockchainHeight int64 `json:"blockchain_height"`
			ServerHeight     int64 `json:"server_height"`
		}
		s, err := e.run("getinfo")
		if err == nil && json.Unmarshal([]byte(s), &info) == nil && info.Connected &&
			info.BlockchainHeight == height && info.ServerHeight == height {
			if sync, err := e.run("is_synchronized"); err == nil && sync == "true" {
				return
			}
		}
		last = s
		time.Sleep(500 * time.Millisecond)
	}
	e.t.Fatalf("electrum not synchronized (%s); last getinfo: %s", what, last)
}

// balance returns Electrum's getbalance: decimal strings, keys left out
// when zero.
func (e *electrumCLI) balance() map[string]string {
	var b map[string]string
	e.ok(&b, "getbalance")
	return b
}

// requireElectrum finds Debian's electrum, or skips loudly where it is
// not required; CI requires it (.ci/run installs it).
func requireElectrum(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("electrum"); err != nil {
		if os.Getenv("CAIRN_ELECTRUM_REQUIRED") != "" {
			t.Fatalf("electrum is not installed but CAIRN_ELECTRUM_REQUIRED is set: %v", err)
		}
		t.Skip("SKIPPED: Debian's electrum is not installed (apt-get install electrum); .ci/run installs it and requires this test")
	}
}

// TestE2EElectrum drives Debian's Electrum wallet, unmodified, against a
// node serving the Electrum protocol on a chain with Bitcoin regtest's
// genesis: restore a seed, receive from `cairn wallet`, see the payment
// unconfirmed then confirmed, pay back with payto and broadcast, and find
// the same history as the node.
func TestE2EElectrum(t *testing.T) {
	requireElectrum(t)
	t.Parallel()
	spec := bitcoinRegtestSpec(t)
	eaddr := freeAddr(t)
	n := startNode(t, t.TempDir(), nodeOpts{user: "u", pass: "p",
		args: []string{"--chain-spec", spec, "--electrum-addr", eaddr}})
	w := &walletCLI{t: t, n: n, file: filepath.Join(t.TempDir(), "w.dat"), env: []string{"CAIRN_WALLET_PASSWORD=secret"},
		netArgs: []string{"--chain-spec", spec, "--rpc-user", "u", "--rpc-password", "p"}}
	w.ok(nil, []string{"create"}, nil)
	mine := w.address()
	if !strings.HasPrefix(mine, "bcrt1") {
		t.Fatalf("cairn wallet address %s on the Bitcoin-regtest spec", mine)
	}
	n.mustCall(t, nil, "generatetoaddress", 101, mine)

	// A short folder: Electrum's daemon socket lives in it.
	edir, err := os.MkdirTemp("", "el")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(edir) })
	e := &electrumCLI{t: t, dir: edir}
	e.ok(nil, "--offline", "restore", electrumSeed)
	if got := e.ok(nil, "--offline", "getunusedaddress"); got != electrumAddr {
		t.Fatalf("the restored seed's first address is %s, want %s", got, electrumAddr)
	}
	e.ok(nil, "daemon", "-d", "-1", "-s", eaddr+":t")
	t.Cleanup(func() { e.run("stop") })
	e.ok(nil, "load_wallet")
	e.waitSynced(n, "after start")
	if b := e.balance(); b["confirmed"] != "0" || b["unconfirmed"] != "" {
		t.Fatalf("fresh Electrum wallet balance: %v", b)
	}

	// Receive from cairn wallet: unconfirmed, then confirmed.
	var sent struct{ TxID string }
	w.ok(&sent, []string{"send"}, nil, electrumAddr, "1.5")
	deadline := time.Now().Add(60 * time.Second)
	for e.balance()["unconfirmed"] != "1.5" {
		if time.Now().After(deadline) {
			t.Fatalf("Electrum never saw the payment unconfirmed: %v", e.balance())
		}
		time.Sleep(500 * time.Millisecond)
	}
	n.mustCall(t, nil, "generatetoaddress", 1, mine)
	e.waitSynced(n, "after the payment confirmed")
	if b := e.balance(); b["confirmed"] != "1.5" || b["unconfirmed"] != "" {
		t.Fatalf("balance after confirmation: %v", b)
	}

	// Pay back: Electrum signs, the node's Electrum server broadcasts.
	raw := e.ok(nil, "payto", mine, "0.5")
	if _, err := hex.DecodeString(raw); err != nil {
		t.Fatalf("payto printed %q", raw)
	}
	back := e.ok(nil, "broadcast", raw)
	var pool []string
	n.mustCall(t, &pool, "getrawmempool")
	if len(pool) != 1 || pool[0] != back {
		t.Fatalf("node's pool %v after Electrum broadcast %s", pool, back)
	}
	var hashes []string
	n.mustCall(t, &hashes, "generatetoaddress", 1, mine)
	e.waitSynced(n, "after the payment back confirmed")

	// Electrum's history is the node's: both transactions, at the
	// heights the node confirmed them.
	var hist struct {
		Transactions []struct {
			TxID   string `json:"txid"`
			Height int64  `json:"height"`
		} `json:"transactions"`
	}
	e.ok(&hist, "onchain_history")
	if len(hist.Transactions) != 2 {
		t.Fatalf("Electrum history: %+v", hist.Transactions)
	}
	want := map[string]int64{sent.TxID: 102, back: 103}
	for _, tx := range hist.Transactions {
		h, ok := want[tx.TxID]
		if !ok || tx.Height != h {
			t.Errorf("Electrum history has %s at %d; the node confirmed %v", tx.TxID, tx.Height, want)
		}
		var blk struct {
			Tx []string `json:"tx"`
		}
		hash, _ := n.call("getblockhash", tx.Height)
		var bh string
		json.Unmarshal(hash, &bh)
		n.mustCall(t, &blk, "getblock", bh, 1)
		found := false
		for _, id := range blk.Tx {
			found = found || id == tx.TxID
		}
		if !found {
			t.Errorf("the node's block %d lacks %s", tx.Height, tx.TxID)
		}
	}
	if b := e.balance(); b["confirmed"] == "" || b["unconfirmed"] != "" {
		t.Fatalf("final balance: %v", b)
	}
}
