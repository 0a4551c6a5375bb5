package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// walletCLI runs `cairn wallet` commands against one node.
type walletCLI struct {
	t    *testing.T
	n    *node
	file string
	env  []string
}

// run runs `cairn wallet SUB [flags] ARGS` and returns stdout, stderr and
// the exit code. Flags come before positional arguments (SPEC section 8).
func (w *walletCLI) run(sub []string, flags []string, args ...string) (string, string, int) {
	w.t.Helper()
	all := append([]string{"wallet"}, sub...)
	all = append(all, "--network", "regtest", "--datadir", w.n.dir, "--rpc-addr", w.n.rpcAddr, "--wallet", w.file)
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
		TxID string
		Fee  float64
	}
	a.ok(&sent, []string{"send"}, []string{"--fee-rate", "2"}, addrB, "12.5")
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
	if got := b.balance(); got.Confirmed != 0 {
		t.Fatalf("b before confirmation: %+v", got)
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
	a.fails("insufficient funds", []string{"send"}, nil, addrB, "1000")
	a.fails("dust", []string{"send"}, nil, addrB, "0.000001")
	a.fails("want ADDRESS AMOUNT", []string{"send"}, nil, addrB)
	down := &walletCLI{t: t, n: &node{dir: n.dir, rpcAddr: freeAddr(t)}, file: a.file, env: a.env}
	down.fails("cannot reach the node", []string{"balance"}, nil)
	b.fails("already exists", []string{"create"}, nil)
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
