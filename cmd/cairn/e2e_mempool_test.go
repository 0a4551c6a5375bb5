package main

// End-to-end tests of the transaction pool (issue #5): the real cairn
// binary on regtest, coins mined to a P2WPKH key the test holds, and
// transactions signed here and sent with sendrawtransaction. Helpers of the
// node processes are in e2e_helpers_test.go.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// mpWallet is a fixed P2WPKH key: blocks are mined to its address and its
// coins are spent by transactions signed with chaintest.SpendP2WPKH.
type mpWallet struct {
	key  *btcec.PrivateKey
	pk   []byte
	addr string
}

// newMPWallet returns the tests' wallet; its key is derived from a fixed
// string, so every run mines to the same address.
func newMPWallet(t *testing.T) *mpWallet {
	t.Helper()
	key, _ := btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("cairn e2e mempool key")))
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(key.PubKey().SerializeCompressed()),
		chainparams.Regtest().AddressParams())
	if err != nil {
		t.Fatal(err)
	}
	return &mpWallet{key: key, pk: chaintest.P2WPKHScript(key), addr: addr.EncodeAddress()}
}

// coinbaseOut reads the coinbase of the main-chain block at height with
// getblock verbosity 2 and returns its first output, which must pay the
// wallet.
func (w *mpWallet) coinbaseOut(t *testing.T, n *node, height int) chaintest.SpendableOut {
	t.Helper()
	var hash string
	n.mustCall(t, &hash, "getblockhash", height)
	var block struct {
		Tx []struct {
			TxID string `json:"txid"`
			Vout []struct {
				Value        float64 `json:"value"`
				ScriptPubKey struct {
					Hex string `json:"hex"`
				} `json:"scriptPubKey"`
			} `json:"vout"`
		} `json:"tx"`
	}
	n.mustCall(t, &block, "getblock", hash, 2)
	if len(block.Tx) == 0 || len(block.Tx[0].Vout) == 0 {
		t.Fatalf("block %d has no coinbase output", height)
	}
	cb := block.Tx[0]
	if cb.Vout[0].ScriptPubKey.Hex != hex.EncodeToString(w.pk) {
		t.Fatalf("coinbase of block %d pays %s, not the wallet's %x", height, cb.Vout[0].ScriptPubKey.Hex, w.pk)
	}
	return chaintest.SpendableOut{OutPoint: wire.OutPoint{Hash: *mustHash(t, cb.TxID), Index: 0},
		Amount: coinsToSat(t, cb.Vout[0].Value), PkScript: w.pk, Key: w.key}
}

// out returns output i of tx, which pays the wallet.
func (w *mpWallet) out(tx *wire.MsgTx, i uint32) chaintest.SpendableOut {
	return chaintest.SpendableOut{OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: i},
		Amount: tx.TxOut[i].Value, PkScript: tx.TxOut[i].PkScript, Key: w.key}
}

// spend returns a signed transaction spending outs to nOut equal outputs
// paying the wallet, leaving fee.
func (w *mpWallet) spend(t *testing.T, outs []chaintest.SpendableOut, nOut int, fee int64) *wire.MsgTx {
	t.Helper()
	values := chaintest.SplitEvenly(outs, nOut, fee)
	tx, err := chaintest.SpendP2WPKH(outs, values, w.pk)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// mpHex serializes a transaction with its witness.
func mpHex(tx *wire.MsgTx) string {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	return hex.EncodeToString(buf.Bytes())
}

// mpIDs returns the sorted txids of txs (an empty slice for none).
func mpIDs(txs ...*wire.MsgTx) []string {
	out := []string{}
	for _, tx := range txs {
		out = append(out, tx.TxHash().String())
	}
	sort.Strings(out)
	return out
}

// mpSend submits tx with sendrawtransaction, which must return its txid.
func mpSend(t *testing.T, n *node, tx *wire.MsgTx) {
	t.Helper()
	var txid string
	n.mustCall(t, &txid, "sendrawtransaction", mpHex(tx))
	if txid != tx.TxHash().String() {
		t.Fatalf("sendrawtransaction returned %s, want %s", txid, tx.TxHash())
	}
}

// mpPool returns getrawmempool's txids, sorted.
func mpPool(t *testing.T, n *node) []string {
	t.Helper()
	ids := []string{}
	n.mustCall(t, &ids, "getrawmempool")
	sort.Strings(ids)
	return ids
}

// mpWaitPool waits until getrawmempool returns exactly want: the pool
// follows the chain asynchronously.
func mpWaitPool(t *testing.T, n *node, what string, want []string) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		got := mpPool(t, n)
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: getrawmempool = %v after %v, want %v", what, got, readyTimeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mpCallErr makes a call that must fail with code and a message containing
// substr.
func mpCallErr(t *testing.T, n *node, name string, code int, substr, method string, params ...any) {
	t.Helper()
	res, err := n.call(method, params...)
	var rerr *rpcError
	if !errors.As(err, &rerr) {
		t.Errorf("%s: %s answered %s, %v; want RPC error %d (%q)", name, method, res, err, code, substr)
		return
	}
	if rerr.Code != code || !strings.Contains(rerr.Message, substr) {
		t.Errorf("%s: %s failed with %d %q, want %d containing %q", name, method, rerr.Code, rerr.Message, code, substr)
	}
}

// mpEntry is the part of getmempoolentry the tests check.
type mpEntry struct {
	VSize           int64    `json:"vsize"`
	Time            int64    `json:"time"`
	AncestorCount   int      `json:"ancestorcount"`
	AncestorSize    int64    `json:"ancestorsize"`
	DescendantCount int      `json:"descendantcount"`
	Depends         []string `json:"depends"`
	SpentBy         []string `json:"spentby"`
	Fees            struct {
		Base float64 `json:"base"`
	} `json:"fees"`
}

// mpGetEntry returns a pool transaction's getmempoolentry.
func mpGetEntry(t *testing.T, n *node, tx *wire.MsgTx) mpEntry {
	t.Helper()
	var e mpEntry
	n.mustCall(t, &e, "getmempoolentry", tx.TxHash().String())
	sort.Strings(e.Depends)
	sort.Strings(e.SpentBy)
	return e
}

// TestE2EMempoolLifecycle follows pool transactions through a node:
//
//	(a) a parent spending a mature coinbase, its child and grandchild,
//	    sent with sendrawtransaction, show in getrawmempool,
//	    getmempoolentry and getmempoolancestors/descendants;
//	(b) a conflicting transaction paying more replaces the parent, whose
//	    descendants leave too, after one paying less was refused with -26
//	    "insufficient fee";
//	(c) getblocktemplate offers the whole pool with its dependencies, and
//	    generatetoaddress 1 confirms it all, emptying the pool;
//	(d) invalidateblock of that block returns its transactions to the
//	    pool, and reconsiderblock confirms them again.
func TestE2EMempoolLifecycle(t *testing.T) {
	t.Parallel()
	w := newMPWallet(t)
	n := startNode(t, t.TempDir(), nodeOpts{})
	n.mustCall(t, nil, "generatetoaddress", 103, w.addr)

	// (a) A chain of unconfirmed transactions, and one unrelated.
	parent := w.spend(t, []chaintest.SpendableOut{w.coinbaseOut(t, n, 1)}, 2, 1000)
	child := w.spend(t, []chaintest.SpendableOut{w.out(parent, 0)}, 1, 1000)
	grandchild := w.spend(t, []chaintest.SpendableOut{w.out(child, 0)}, 1, 1000)
	other := w.spend(t, []chaintest.SpendableOut{w.coinbaseOut(t, n, 2)}, 1, 1500)
	sent := time.Now().Unix()
	for _, tx := range []*wire.MsgTx{parent, child, grandchild, other} {
		mpSend(t, n, tx)
	}
	done := time.Now().Unix()
	if got, want := mpPool(t, n), mpIDs(parent, child, grandchild, other); !reflect.DeepEqual(got, want) {
		t.Fatalf("getrawmempool = %v, want %v", got, want)
	}
	pe, ce, ge := mpGetEntry(t, n, parent), mpGetEntry(t, n, child), mpGetEntry(t, n, grandchild)
	if ge.AncestorCount != 3 || ge.AncestorSize != pe.VSize+ce.VSize+ge.VSize || ge.DescendantCount != 1 ||
		!reflect.DeepEqual(ge.Depends, mpIDs(child)) || len(ge.SpentBy) != 0 {
		t.Errorf("getmempoolentry of the grandchild: %+v", ge)
	}
	if pe.AncestorCount != 1 || pe.DescendantCount != 3 || len(pe.Depends) != 0 || !reflect.DeepEqual(pe.SpentBy, mpIDs(child)) {
		t.Errorf("getmempoolentry of the parent: %+v", pe)
	}
	if ce.AncestorCount != 2 || ce.DescendantCount != 2 || ce.Fees.Base != 0.00001 {
		t.Errorf("getmempoolentry of the child: %+v", ce)
	}
	if pe.Time < sent || pe.Time > done {
		t.Errorf("getmempoolentry time %d, want the time it was sent (%d..%d)", pe.Time, sent, done)
	}
	var ancestors []string
	n.mustCall(t, &ancestors, "getmempoolancestors", grandchild.TxHash().String())
	if sort.Strings(ancestors); !reflect.DeepEqual(ancestors, mpIDs(parent, child)) {
		t.Errorf("getmempoolancestors of the grandchild = %v, want %v", ancestors, mpIDs(parent, child))
	}
	var verboseAncestors map[string]mpEntry
	n.mustCall(t, &verboseAncestors, "getmempoolancestors", grandchild.TxHash().String(), true)
	if len(verboseAncestors) != 2 || verboseAncestors[parent.TxHash().String()].DescendantCount != 3 ||
		verboseAncestors[child.TxHash().String()].AncestorCount != 2 {
		t.Errorf("getmempoolancestors verbose of the grandchild: %+v", verboseAncestors)
	}
	var descendants []string
	n.mustCall(t, &descendants, "getmempooldescendants", parent.TxHash().String())
	if sort.Strings(descendants); !reflect.DeepEqual(descendants, mpIDs(child, grandchild)) {
		t.Errorf("getmempooldescendants of the parent = %v, want %v", descendants, mpIDs(child, grandchild))
	}

	// (b) Replacement of the parent: too little fee, then enough.
	cheap := w.spend(t, []chaintest.SpendableOut{w.coinbaseOut(t, n, 1)}, 1, 500)
	mpCallErr(t, n, "lower-fee replacement", -26, "insufficient fee", "sendrawtransaction", mpHex(cheap))
	replacement := w.spend(t, []chaintest.SpendableOut{w.coinbaseOut(t, n, 1)}, 2, 20_000)
	mpSend(t, n, replacement)
	if got, want := mpPool(t, n), mpIDs(replacement, other); !reflect.DeepEqual(got, want) {
		t.Fatalf("getrawmempool after the replacement = %v, want %v", got, want)
	}
	for _, tx := range []*wire.MsgTx{parent, child, grandchild} {
		mpCallErr(t, n, "replaced transaction", -5, "Transaction not in mempool", "getmempoolentry", tx.TxHash().String())
	}
	replChild := w.spend(t, []chaintest.SpendableOut{w.out(replacement, 1)}, 1, 2000)
	mpSend(t, n, replChild)
	poolTxs := []*wire.MsgTx{replacement, replChild, other}
	fees := map[string]int64{replacement.TxHash().String(): 20_000, replChild.TxHash().String(): 2000, other.TxHash().String(): 1500}

	// (c) The block template takes the whole pool, parents first.
	var tmpl struct {
		Height        int64 `json:"height"`
		CoinbaseValue int64 `json:"coinbasevalue"`
		Transactions  []struct {
			TxID    string `json:"txid"`
			Data    string `json:"data"`
			Depends []int  `json:"depends"`
			Fee     int64  `json:"fee"`
		} `json:"transactions"`
	}
	n.mustCall(t, &tmpl, "getblocktemplate", map[string]any{"rules": []string{"segwit"}})
	pos := map[string]int{}
	var tmplIDs []string
	var totalFee int64
	for i, tx := range tmpl.Transactions {
		pos[tx.TxID] = i + 1
		tmplIDs = append(tmplIDs, tx.TxID)
		totalFee += tx.Fee
		if tx.Fee != fees[tx.TxID] {
			t.Errorf("template transaction %s: fee %d, want %d", tx.TxID, tx.Fee, fees[tx.TxID])
		}
	}
	sort.Strings(tmplIDs)
	if !reflect.DeepEqual(tmplIDs, mpIDs(poolTxs...)) {
		t.Fatalf("template transactions %v, want the pool's %v", tmplIDs, mpIDs(poolTxs...))
	}
	for _, tx := range tmpl.Transactions {
		want := []int{}
		if tx.TxID == replChild.TxHash().String() {
			want = []int{pos[replacement.TxHash().String()]}
		}
		if len(tx.Depends) != len(want) || (len(want) > 0 && tx.Depends[0] != want[0]) {
			t.Errorf("template transaction %s: depends %v, want %v", tx.TxID, tx.Depends, want)
		}
	}
	if pos[replChild.TxHash().String()] < pos[replacement.TxHash().String()] {
		t.Errorf("template lists the child (%d) before its parent (%d)", pos[replChild.TxHash().String()], pos[replacement.TxHash().String()])
	}
	if tmpl.Height != 104 || tmpl.CoinbaseValue != subsidy(104)+totalFee {
		t.Errorf("template height %d, coinbasevalue %d; want 104 and %d", tmpl.Height, tmpl.CoinbaseValue, subsidy(104)+totalFee)
	}

	var hashes []string
	n.mustCall(t, &hashes, "generatetoaddress", 1, w.addr)
	if len(hashes) != 1 {
		t.Fatalf("generatetoaddress 1 returned %v", hashes)
	}
	confirming := hashes[0]
	var block struct {
		Tx []string `json:"tx"`
	}
	n.mustCall(t, &block, "getblock", confirming, 1)
	if len(block.Tx) != 1+len(poolTxs) {
		t.Fatalf("the generated block holds %d transactions, want a coinbase and the pool's %d", len(block.Tx), len(poolTxs))
	}
	mined := append([]string(nil), block.Tx[1:]...)
	if sort.Strings(mined); !reflect.DeepEqual(mined, mpIDs(poolTxs...)) {
		t.Errorf("the generated block holds %v, want %v", mined, mpIDs(poolTxs...))
	}
	mpWaitPool(t, n, "after generatetoaddress", []string{})
	var mining struct {
		PooledTx int `json:"pooledtx"`
	}
	n.mustCall(t, &mining, "getmininginfo")
	if mining.PooledTx != 0 {
		t.Errorf("getmininginfo pooledtx = %d after the pool was mined", mining.PooledTx)
	}

	// (d) A reorganization returns them; reconsidering confirms them again.
	n.mustCall(t, nil, "invalidateblock", confirming)
	mpWaitPool(t, n, "after invalidateblock", mpIDs(poolTxs...))
	var height int64
	n.mustCall(t, &height, "getblockcount")
	if height != 103 {
		t.Errorf("height after invalidateblock %d, want 103", height)
	}
	if e := mpGetEntry(t, n, replChild); e.AncestorCount != 2 || !reflect.DeepEqual(e.Depends, mpIDs(replacement)) {
		t.Errorf("getmempoolentry of a returned child: %+v", e)
	}
	n.mustCall(t, nil, "reconsiderblock", confirming)
	mpWaitPool(t, n, "after reconsiderblock", []string{})
	var best string
	n.mustCall(t, &best, "getbestblockhash")
	if best != confirming {
		t.Errorf("tip after reconsiderblock %s, want %s", best, confirming)
	}
	n.stopRPC(t)
}

// TestE2EMempoolRestart ensures the pool survives a restart: stopped with
// the stop call, the node writes <datadir>/regtest/mempool.dat, and started
// again on the same data directory (with a --maxmempool of its own) it
// holds the same transactions, with their entry times and relations.
func TestE2EMempoolRestart(t *testing.T) {
	t.Parallel()
	w := newMPWallet(t)
	dir := t.TempDir()
	n := startNode(t, dir, nodeOpts{})
	n.mustCall(t, nil, "generatetoaddress", 102, w.addr)
	parent := w.spend(t, []chaintest.SpendableOut{w.coinbaseOut(t, n, 1)}, 2, 1000)
	child := w.spend(t, []chaintest.SpendableOut{w.out(parent, 0)}, 1, 1000)
	other := w.spend(t, []chaintest.SpendableOut{w.coinbaseOut(t, n, 2)}, 1, 1000)
	for _, tx := range []*wire.MsgTx{parent, child, other} {
		mpSend(t, n, tx)
	}
	before := mpPool(t, n)
	childBefore := mpGetEntry(t, n, child)
	n.stopRPC(t)

	path := filepath.Join(dir, "regtest", "mempool.dat")
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("mempool.dat after stop: %v, %v", fi, err)
	}

	n = startNode(t, dir, nodeOpts{args: []string{"--maxmempool", "50"}})
	if got := mpPool(t, n); !reflect.DeepEqual(got, before) {
		t.Fatalf("getrawmempool after a restart = %v, want %v", got, before)
	}
	if got := mpGetEntry(t, n, child); !reflect.DeepEqual(got, childBefore) {
		t.Errorf("getmempoolentry of the child after a restart:\n got %+v\nwant %+v", got, childBefore)
	}
	var info struct {
		Size       int   `json:"size"`
		MaxMempool int64 `json:"maxmempool"`
	}
	n.mustCall(t, &info, "getmempoolinfo")
	if info.Size != len(before) || info.MaxMempool != 50_000_000 {
		t.Errorf("getmempoolinfo after a restart with --maxmempool 50: %+v, want size %d and maxmempool 50000000", info, len(before))
	}
	n.stopRPC(t)
}

// TestE2EMempoolErrors ensures sendrawtransaction's errors reach clients
// of the real binary with Bitcoin Core's codes (-26 with the reason, -25
// missing inputs, -22 undecodable, -27 already confirmed), that `cairn rpc
// sendrawtransaction` prints the txid or the server's error, and that
// generateblock mines a pool transaction named by its txid.
func TestE2EMempoolErrors(t *testing.T) {
	t.Parallel()
	w := newMPWallet(t)
	dir := t.TempDir()
	n := startNode(t, dir, nodeOpts{})
	n.mustCall(t, nil, "generatetoaddress", 103, w.addr)
	cb1, cb2, cb3 := w.coinbaseOut(t, n, 1), w.coinbaseOut(t, n, 2), w.coinbaseOut(t, n, 3)

	noFee := w.spend(t, []chaintest.SpendableOut{cb1}, 1, 0)
	missing := w.spend(t, []chaintest.SpendableOut{{
		OutPoint: wire.OutPoint{Hash: chainhash.DoubleHashH([]byte("nowhere")), Index: 0},
		Amount:   100_000_000, PkScript: w.pk, Key: w.key,
	}}, 1, 1000)
	mpCallErr(t, n, "no fee", -26, "min relay fee not met", "sendrawtransaction", mpHex(noFee))
	mpCallErr(t, n, "missing inputs", -25, "bad-txns-inputs-missingorspent", "sendrawtransaction", mpHex(missing))
	mpCallErr(t, n, "not hex", -22, "TX decode failed", "sendrawtransaction", "zz")
	mpCallErr(t, n, "not a transaction", -22, "TX decode failed", "sendrawtransaction", "00")

	confirmed := w.spend(t, []chaintest.SpendableOut{cb2}, 1, 1000)
	mpSend(t, n, confirmed)
	n.mustCall(t, nil, "generatetoaddress", 1, w.addr)
	mpWaitPool(t, n, "after mining", []string{})
	mpCallErr(t, n, "already confirmed", -27, "Transaction outputs already in utxo set", "sendrawtransaction", mpHex(confirmed))

	cli := func(args ...string) (string, string, int) {
		t.Helper()
		return runCairn(t, nil, append([]string{"rpc", "--network", "regtest", "--datadir", dir, "--rpc-addr", n.rpcAddr}, args...)...)
	}
	viaCLI := w.spend(t, []chaintest.SpendableOut{cb3}, 1, 1000)
	if out, errOut, code := cli("sendrawtransaction", mpHex(viaCLI)); code != 0 || out != viaCLI.TxHash().String()+"\n" {
		t.Errorf("cairn rpc sendrawtransaction: exit %d, stdout %q, stderr %q; want the txid", code, out, errOut)
	}
	if _, errOut, code := cli("sendrawtransaction", mpHex(noFee)); code == 0 || !strings.Contains(errOut, "error code: -26") ||
		!strings.Contains(errOut, "min relay fee not met") {
		t.Errorf("cairn rpc sendrawtransaction of a zero-fee transaction: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := cli("sendrawtransaction", "zz"); code == 0 || !strings.Contains(errOut, "error code: -22") {
		t.Errorf("cairn rpc sendrawtransaction zz: exit %d, stderr %q", code, errOut)
	}
	out, errOut, code := cli("testmempoolaccept", `["`+mpHex(viaCLI)+`"]`)
	var accept []struct {
		TxID         string `json:"txid"`
		Allowed      bool   `json:"allowed"`
		RejectReason string `json:"reject-reason"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &accept) != nil || len(accept) != 1 ||
		accept[0].TxID != viaCLI.TxHash().String() || accept[0].Allowed || accept[0].RejectReason != "txn-already-in-mempool" {
		t.Errorf("cairn rpc testmempoolaccept of a pool transaction: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// generateblock takes the pool transaction by txid.
	var gen struct {
		Hash string `json:"hash"`
	}
	n.mustCall(t, &gen, "generateblock", w.addr, []string{viaCLI.TxHash().String()})
	var block struct {
		Tx []string `json:"tx"`
	}
	n.mustCall(t, &block, "getblock", gen.Hash, 1)
	if len(block.Tx) != 2 || block.Tx[1] != viaCLI.TxHash().String() {
		t.Errorf("generateblock with a pool txid mined %v", block.Tx)
	}
	mpWaitPool(t, n, "after generateblock", []string{})
	n.stopRPC(t)
}

// TestE2EMempoolReorgOrder ensures a pool transaction spending the output
// of a confirmed transaction becomes its child when a reorganization
// returns that transaction to the pool: getblocktemplate lists the parent
// first and the child depending on it, and generatetoaddress mines both
// (the child pays the higher fee rate, so a miner unaware of the link puts
// it first and builds an invalid block).
func TestE2EMempoolReorgOrder(t *testing.T) {
	t.Parallel()
	w := newMPWallet(t)
	n := startNode(t, t.TempDir(), nodeOpts{})
	n.mustCall(t, nil, "generatetoaddress", 101, w.addr)
	parent := w.spend(t, []chaintest.SpendableOut{w.coinbaseOut(t, n, 1)}, 1, 1000)
	mpSend(t, n, parent)
	var hashes []string
	n.mustCall(t, &hashes, "generatetoaddress", 1, w.addr)
	mpWaitPool(t, n, "after mining the parent", []string{})
	child := w.spend(t, []chaintest.SpendableOut{w.out(parent, 0)}, 1, 50_000)
	mpSend(t, n, child)

	n.mustCall(t, nil, "invalidateblock", hashes[0])
	mpWaitPool(t, n, "after invalidateblock", mpIDs(parent, child))
	if e := mpGetEntry(t, n, child); e.AncestorCount != 2 || !reflect.DeepEqual(e.Depends, mpIDs(parent)) {
		t.Errorf("getmempoolentry of the child after the reorg: ancestorcount %d, depends %v; want 2, %v", e.AncestorCount, e.Depends, mpIDs(parent))
	}
	var tmpl struct {
		Transactions []struct {
			TxID    string `json:"txid"`
			Depends []int  `json:"depends"`
		} `json:"transactions"`
	}
	n.mustCall(t, &tmpl, "getblocktemplate", map[string]any{"rules": []string{"segwit"}})
	if len(tmpl.Transactions) != 2 || tmpl.Transactions[0].TxID != parent.TxHash().String() ||
		tmpl.Transactions[1].TxID != child.TxHash().String() || !reflect.DeepEqual(tmpl.Transactions[1].Depends, []int{1}) {
		t.Errorf("getblocktemplate after the reorg: %+v; want the parent, then the child depending on 1", tmpl.Transactions)
	}
	if _, err := n.call("generatetoaddress", 1, w.addr); err != nil {
		t.Fatalf("generatetoaddress after the reorg: %v", err)
	}
	mpWaitPool(t, n, "after mining the returned transactions", []string{})
	n.stopRPC(t)
}
