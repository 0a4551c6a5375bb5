package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/testnet"
	"github.com/cairnchain/cairn/wallet"
)

// walletCLI runs `cairn wallet` commands against one node.
type walletCLI struct {
	t    *testing.T
	n    *node
	file string
	env  []string
	// netArgs replace "--network regtest" (a chain spec, credentials).
	netArgs []string
}

// run runs `cairn wallet SUB [flags] ARGS` and returns stdout, stderr and
// the exit code. Flags come before positional arguments (SPEC section 8).
func (w *walletCLI) run(sub []string, flags []string, args ...string) (string, string, int) {
	w.t.Helper()
	all := append([]string{"wallet"}, sub...)
	netArgs := w.netArgs
	if netArgs == nil {
		netArgs = []string{"--network", "regtest"}
	}
	all = append(all, netArgs...)
	all = append(all, "--datadir", w.n.dir, "--rpc-addr", w.n.rpcAddr, "--wallet", w.file)
	all = append(all, flags...)
	all = append(all, args...)
	return runCairn(w.t, w.env, all...)
}

// ok runs a command that must succeed and decodes its --json output.
func (w *walletCLI) ok(out any, sub []string, flags []string, args ...string) {
	w.t.Helper()
	stdout, stderr, code := w.run(sub, append(flags, "--json"), args...)
	if code != 0 {
		w.t.Fatalf("cairn wallet %s: exit %d\n%s%s", strings.Join(sub, " "), code, stdout, stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			w.t.Fatalf("cairn wallet %s: %v\n%s", strings.Join(sub, " "), err, stdout)
		}
	}
}

// fails runs a command that must fail with a message containing want.
func (w *walletCLI) fails(want string, sub []string, flags []string, args ...string) {
	w.t.Helper()
	stdout, stderr, code := w.run(sub, flags, args...)
	if code == 0 || !strings.Contains(stderr, want) {
		w.t.Fatalf("cairn wallet %s %v: exit %d, want an error with %q\n%s%s", strings.Join(sub, " "), args, code, want, stdout, stderr)
	}
}

type balanceJSON struct {
	Confirmed, Unconfirmed, Immature float64
}

func (w *walletCLI) balance() balanceJSON {
	w.t.Helper()
	var b balanceJSON
	w.ok(&b, []string{"balance"}, nil)
	return b
}

func (w *walletCLI) address() string {
	w.t.Helper()
	var a struct{ Address string }
	w.ok(&a, []string{"address"}, nil)
	return a.Address
}

// TestE2EWallet drives the wallet CLI against a real node: restore, mine
// to the wallet, send to a second wallet, bump the fee, confirm, check
// both balances and the fee, and restore the same mnemonic elsewhere to
// find the same balance; and the errors a user meets.
func TestE2EWallet(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), nodeOpts{})
	dir := t.TempDir()
	mnemonic := "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	a := &walletCLI{t: t, n: n, file: filepath.Join(dir, "a.dat"), env: []string{"CAIRN_WALLET_PASSWORD=first secret"}}
	b := &walletCLI{t: t, n: n, file: filepath.Join(dir, "b.dat"), env: []string{"CAIRN_WALLET_PASSWORD=second secret"}}

	a.ok(nil, []string{"restore"}, []string{"--mnemonic", mnemonic})
	var created struct{ Mnemonic string }
	b.ok(&created, []string{"create"}, []string{"--words", "24"})
	if len(strings.Fields(created.Mnemonic)) != 24 {
		t.Fatalf("create printed %q", created.Mnemonic)
	}
	if info, err := os.Stat(b.file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("wallet file: %v, %v", info, err)
	}

	addrA := a.address()
	n.mustCall(t, nil, "generatetoaddress", 101, addrA)
	if got := a.balance(); got.Confirmed != 50 || got.Immature != 5000 {
		t.Fatalf("after mining 101 blocks: %+v", got)
	}

	addrB := b.address()
	var sent struct {
		TxID    string
		Address string
		Amount  float64
		Fee     float64
		FeeRate float64 `json:"fee_rate"`
		VSize   int64
	}
	a.ok(&sent, []string{"send"}, []string{"--fee-rate", "2"}, addrB, "12.5")
	// The fee is rounded up from 2 sat/vB of an estimated size.
	if sent.Address != addrB || sent.Amount != 12.5 || sent.VSize < 100 || sent.FeeRate < 2 || sent.FeeRate > 2.2 ||
		math.Abs(sent.Fee*1e8/float64(sent.VSize)-sent.FeeRate) > 0.005 {
		t.Fatalf("send printed %+v", sent)
	}
	var entry struct {
		Replaceable bool `json:"bip125-replaceable"`
	}
	n.mustCall(t, &entry, "getmempoolentry", sent.TxID)
	if !entry.Replaceable {
		t.Fatal("the send does not signal replaceability")
	}
	var bumped struct {
		TxID     string
		OrigTxID string
		Fee      float64
	}
	a.ok(&bumped, []string{"bumpfee"}, []string{"--fee-rate", "10"}, sent.TxID)
	if bumped.OrigTxID != sent.TxID || bumped.Fee <= sent.Fee {
		t.Fatalf("bumpfee %+v after %+v", bumped, sent)
	}
	var pool []string
	n.mustCall(t, &pool, "getrawmempool")
	if len(pool) != 1 || pool[0] != bumped.TxID {
		t.Fatalf("mempool %v, want only the replacement %s", pool, bumped.TxID)
	}
	// B sees the payment waiting in the pool: unconfirmed, not spendable.
	if got := b.balance(); got.Confirmed != 0 || got.Unconfirmed != 12.5 {
		t.Fatalf("b before confirmation: %+v", got)
	}
	var hist []struct {
		TxID          string
		Confirmations int64
	}
	b.ok(&hist, []string{"history"}, nil)
	if len(hist) != 1 || hist[0].TxID != bumped.TxID || hist[0].Confirmations != 0 {
		t.Fatalf("b's history before confirmation: %+v", hist)
	}

	n.mustCall(t, nil, "generatetoaddress", 1, testSegwitAddress(t).EncodeAddress())
	if got := b.balance(); got.Confirmed != 12.5 || got.Unconfirmed != 0 {
		t.Fatalf("b after confirmation: %+v", got)
	}
	// a: block 1's coinbase paid 12.5 and the fee, block 2's matured, and
	// blocks 3 to 101 (99) are still immature.
	wantA := 100 - 12.5 - bumped.Fee
	if got := a.balance(); !near(got.Confirmed, wantA) || got.Unconfirmed != 0 || got.Immature != 4950 {
		t.Fatalf("a after confirmation: %+v, want confirmed %.8f", got, wantA)
	}
	var history []struct {
		TxID          string
		Amount        float64
		Fee           *float64
		Confirmations int32
		ReplacedBy    string `json:"replaced_by"`
	}
	a.ok(&history, []string{"history"}, nil)
	found := false
	for _, h := range history {
		if h.TxID == bumped.TxID {
			found = true
			if h.Fee == nil || !near(*h.Fee, bumped.Fee) || !near(h.Amount, -12.5) || h.Confirmations != 1 {
				t.Fatalf("history of the send: %+v", h)
			}
		}
		if h.TxID == sent.TxID && h.ReplacedBy != bumped.TxID {
			t.Fatalf("the replaced send: %+v", h)
		}
	}
	if !found {
		t.Fatalf("history %+v lacks %s", history, bumped.TxID)
	}

	// The same mnemonic restored elsewhere finds the same coins.
	c := &walletCLI{t: t, n: n, file: filepath.Join(dir, "c.dat"), env: []string{"CAIRN_WALLET_PASSWORD=third"}}
	c.ok(nil, []string{"restore"}, []string{"--mnemonic", mnemonic})
	if got, want := c.balance(), a.balance(); got != want {
		t.Fatalf("restored elsewhere: %+v, original %+v", got, want)
	}

	// A PSBT: created with the node, signed where there is none (the
	// RPC address is dead), finalized and broadcast.
	var created2 struct{ PSBT string }
	a.ok(&created2, []string{"psbt", "create"}, []string{"--fee-rate", "3"}, addrB, "1.25")
	offline := &walletCLI{t: t, n: &node{dir: t.TempDir(), rpcAddr: freeAddr(t)}, file: a.file, env: a.env}
	var signed struct {
		PSBT     string
		Complete bool
	}
	offline.ok(&signed, []string{"psbt", "sign"}, nil, created2.PSBT)
	if !signed.Complete || signed.PSBT == created2.PSBT {
		t.Fatalf("psbt sign: %+v", signed)
	}
	var final struct{ TxID string }
	a.ok(&final, []string{"psbt", "finalize"}, []string{"--broadcast"}, signed.PSBT)
	n.mustCall(t, &pool, "getrawmempool")
	if len(pool) != 1 || pool[0] != final.TxID {
		t.Fatalf("mempool %v after the PSBT's broadcast %s", pool, final.TxID)
	}
	a.fails("not a base64 PSBT", []string{"psbt", "sign"}, nil, "garbage")

	// A PSBT paying an absurd fee is shown and refused unless forced.
	var greedy struct{ PSBT string }
	a.ok(&greedy, []string{"psbt", "create"}, []string{"--fee-rate", "20000"}, addrB, "1")
	offline.fails("over the ceiling", []string{"psbt", "sign"}, nil, greedy.PSBT)
	var forced struct {
		Complete bool
		Summary  struct {
			Fee     int64
			FeeRate float64 `json:"fee_rate"`
			Outputs []struct {
				Address string
				Value   int64
			}
		}
	}
	offline.ok(&forced, []string{"psbt", "sign"}, []string{"--force"}, greedy.PSBT)
	if !forced.Complete || forced.Summary.FeeRate < 19_000 || forced.Summary.Outputs[0].Address != addrB ||
		forced.Summary.Outputs[0].Value != 100_000_000 {
		t.Fatalf("forced psbt sign: %+v", forced)
	}
	_, summary, code := offline.run([]string{"psbt", "sign"}, []string{"--force"}, greedy.PSBT)
	if code != 0 || !strings.Contains(summary, "output "+addrB) || !strings.Contains(summary, "fee ") {
		t.Fatalf("psbt sign's summary on stderr: exit %d\n%s", code, summary)
	}

	// Without --json: the amount, the address, the txid, the fee and its
	// rate, in the network's unit; and the balance in it too.
	stdout, stderr, code := a.run([]string{"send"}, []string{"--fee-rate", "3"}, addrB, "2")
	if code != 0 {
		t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || lines[0] != "sent 2.00000000 rCRN to "+addrB || !strings.HasPrefix(lines[1], "txid ") ||
		!strings.Contains(lines[1], " rCRN (3.") || !strings.HasSuffix(lines[1], " vB)") || strings.Contains(stdout, "BTC") {
		t.Fatalf("send printed:\n%s", stdout)
	}
	txid := strings.TrimSuffix(strings.Fields(lines[1])[1], ",")
	n.mustCall(t, &entry, "getmempoolentry", txid)
	if stdout, _, code := a.run([]string{"balance"}, nil); code != 0 || !strings.Contains(stdout, "immature:    4950.00000000 rCRN\n") {
		t.Fatalf("balance printed (exit %d):\n%s", code, stdout)
	}

	// What a user gets wrong.
	wrong := &walletCLI{t: t, n: n, file: a.file, env: []string{"CAIRN_WALLET_PASSWORD=nope"}}
	before, _ := os.ReadFile(a.file)
	wrong.fails("wrong password", []string{"balance"}, nil)
	if after, _ := os.ReadFile(a.file); string(after) != string(before) {
		t.Fatal("a wrong password changed the wallet file")
	}
	nopw := &walletCLI{t: t, n: n, file: a.file}
	nopw.fails("no wallet password", []string{"balance"}, nil)
	a.fails("not an address of network regtest", []string{"send"}, nil, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "1")
	// Blocks 3 to 101 paid a, and the tip is 102: block 3's coinbase is
	// the first to mature, at 103.
	a.fails("insufficient funds: want 1000.00000000 rCRN and its fee, have ", []string{"send"}, nil, addrB, "1000")
	a.fails(" rCRN spendable; 4950.00000000 rCRN are immature (coinbase outputs mature after 100 blocks; the first matures at height 103, enough to pay this at height 1",
		[]string{"send"}, nil, addrB, "1000")
	a.fails("amount 21000001 is more than the 21000000 rCRN that can ever exist", []string{"send"}, nil, addrB, "21000001")
	a.fails("want a positive number of coins", []string{"send"}, nil, addrB, "-3")
	a.fails("dust", []string{"send"}, nil, addrB, "0.000001")
	a.fails("want ADDRESS AMOUNT", []string{"send"}, nil, addrB)
	down := &walletCLI{t: t, n: &node{dir: n.dir, rpcAddr: freeAddr(t)}, file: a.file, env: a.env}
	down.fails("cannot reach the node", []string{"balance"}, nil)
	b.fails("already exists", []string{"create"}, nil)
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestParseAmount covers what send adds to consensus.ParseCoins (whose
// own tests cover the syntax): zero refused, and messages that name the
// network's unit and what to type.
func TestParseAmount(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int64{"12.5": 1_250_000_000, "0.00000001": 1, "21000000": 21_000_000 * 100_000_000} {
		if got, err := parseAmount(s, "tCRN"); err != nil || got != want {
			t.Errorf("%s: %d, %v; want %d", s, got, err, want)
		}
	}
	for s, want := range map[string]string{
		"21000001":          "amount 21000001 is more than the 21000000 tCRN that can ever exist",
		"21000000.00000001": "amount 21000000.00000001 is more than the 21000000 tCRN",
		"0":                 `amount "0": want a positive number of coins`,
		"-1":                "want a positive number of coins",
		"ten":               "want a positive number of coins",
		"1e3":               "want a positive number of coins",
		"1.123456789":       "more than 8 decimals",
	} {
		if _, err := parseAmount(s, "tCRN"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", s, err, want)
		}
	}
}

// TestE2ETestnetUpKeepsWallets ensures `cairn testnet up` does not
// replace a stopped testnet's folder holding a wallet that may hold coins
// (here one that does not open with the testnet's password), names it,
// and replaces it with --force.
func TestE2ETestnetUpKeepsWallets(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "localnet")
	cleanupTestnet(t, dir)
	// The folder a stopped one-node testnet leaves.
	spec := []byte(`{"name": "localnet", "genesis": {"time": 1795305600}}`)
	net, err := chainparams.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	nodeDir := filepath.Join(dir, "node0")
	walletFile := filepath.Join(nodeDir, "wallet.dat")
	mnemonic, err := wallet.NewMnemonic(12)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.Create(walletFile, []byte("the user's own"), net, mnemonic, wallet.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	state, _ := json.Marshal(map[string]any{"dir": dir, "spacing": time.Second,
		"nodes": []map[string]any{{"name": "node0", "dir": nodeDir, "wallet": walletFile}}})
	if err := os.WriteFile(filepath.Join(dir, "chain-spec.json"), spec, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "testnet.json"), state, 0o600); err != nil {
		t.Fatal(err)
	}

	up := []string{"testnet", "up", "--dir", dir, "--nodes", "1", "--miners", "0", "--spacing", "1s", "--detach"}
	out, errOut, code := runLong(t, 2*time.Minute, up...)
	if code == 0 || !strings.Contains(errOut, walletFile+" (it does not open, so it may hold coins") || !strings.Contains(errOut, "pass --force") {
		t.Fatalf("up over a wallet: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(walletFile); err != nil {
		t.Fatalf("the wallet is gone: %v", err)
	}
	out, errOut, code = runLong(t, 2*time.Minute, append(up, "--force")...)
	if code != 0 {
		t.Fatalf("up --force: exit %d\n%s%s", code, out, errOut)
	}
	// The node's wallet is the new testnet's, under its password.
	s, err := testnet.Load(dir, cairnBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	w, err = wallet.Open(walletFile, []byte(testnet.Password), s.Network())
	if err != nil {
		t.Fatalf("the new testnet's wallet: %v", err)
	}
	w.Close()
	if out, errOut, code := runLong(t, time.Minute, "testnet", "down", "--dir", dir); code != 0 {
		t.Fatalf("down: exit %d\n%s%s", code, out, errOut)
	}
}
