package rpc

// Tests of the pool calls (mempoolrpc.go) and of the pool's part in
// getrawtransaction, gettxout and getmininginfo, over a real regtest chain
// and a real mempool.TxPool on it (see mempool_helpers_test.go). The tests
// of sendrawtransaction and testmempoolaccept, of Core's rawtransactions
// category, are in rawtx_test.go, and that of generateblock with the pool
// in generating_test.go.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestMempoolRPCReplacement ensures a conflicting transaction paying too
// little is refused with -26 "insufficient fee", testmempoolaccept allows a
// better-paying one without touching the pool, and sendrawtransaction of it
// evicts the original with its descendants.
func TestMempoolRPCReplacement(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 2)
	parent := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 2, 1000)
	child := n.spend(t, []chaintest.SpendableOut{n.out(parent, 0)}, 1, 1000)
	other := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 1, 1000)
	for _, tx := range []*wire.MsgTx{parent, child, other} {
		n.send(t, tx)
	}
	cheap := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 500)
	_, rerr := call(t, n.srv, "sendrawtransaction", txHexString(cheap))
	checkErr(t, "lower-fee replacement", rerr, -26, "insufficient fee")
	// Enough fee rate but less fee in all than parent and child.
	short := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1900)
	_, rerr = call(t, n.srv, "sendrawtransaction", txHexString(short))
	checkErr(t, "replacement paying less than it evicts", rerr, -26, "insufficient fee")

	rich := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 20_000)
	var results []struct {
		Allowed bool `json:"allowed"`
	}
	decode(t, mustCall(t, n.srv, "testmempoolaccept", []string{txHexString(rich)}), &results)
	if len(results) != 1 || !results[0].Allowed {
		t.Errorf("testmempoolaccept of the replacement: %+v, want allowed", results)
	}
	if got, want := n.poolIDs(), sortedIDs(parent, child, other); !reflect.DeepEqual(got, want) {
		t.Fatalf("pool after testmempoolaccept: %v, want %v", got, want)
	}
	n.send(t, rich)
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); !reflect.DeepEqual(got, sortedIDs(rich, other)) {
		t.Errorf("getrawmempool after the replacement: %v, want %v", got, sortedIDs(rich, other))
	}
	for _, tx := range []*wire.MsgTx{parent, child} {
		_, rerr := call(t, n.srv, "getmempoolentry", tx.TxHash().String())
		checkErr(t, "getmempoolentry of a replaced transaction", rerr, -5, "Transaction not in mempool")
	}
}

// mempoolEntryFields are the fields of Core's getmempoolentry.
var mempoolEntryFields = []string{"vsize", "weight", "time", "height", "descendantcount", "descendantsize",
	"ancestorcount", "ancestorsize", "wtxid", "fees", "depends", "spentby", "bip125-replaceable", "unbroadcast"}

// TestMempoolRPCPoolQueries ensures getrawmempool (plain and verbose),
// getmempoolentry, getmempoolinfo, getmempoolancestors and
// getmempooldescendants (plain and verbose) describe a pool holding a small
// family of transactions with Core's fields and values, and getmininginfo
// counts it. The family:
//
//	parent -> child -> grandchild
//	      \-> sibling
//	unrelated
func TestMempoolRPCPoolQueries(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 2)
	tipHeight := n.chain.BestSnapshot().Height

	// The empty pool.
	if raw := mustCall(t, n.srv, "getrawmempool"); string(bytes.TrimSpace(raw)) != "[]" {
		t.Errorf("getrawmempool of an empty pool = %s, want []", raw)
	}
	if raw := mustCall(t, n.srv, "getrawmempool", true); string(bytes.TrimSpace(raw)) != "{}" {
		t.Errorf("getrawmempool true of an empty pool = %s, want {}", raw)
	}
	info := object(t, mustCall(t, n.srv, "getmempoolinfo"))
	checkKeys(t, "getmempoolinfo", info, "loaded", "size", "bytes", "usage", "total_fee", "maxmempool",
		"mempoolminfee", "minrelaytxfee", "incrementalrelayfee", "unbroadcastcount", "fullrbf")
	for _, k := range []string{"size", "bytes", "usage", "total_fee", "unbroadcastcount"} {
		if string(info[k]) != "0" {
			t.Errorf("getmempoolinfo %s of an empty pool = %s, want 0", k, info[k])
		}
	}

	parent := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 2, 2000)
	child := n.spend(t, []chaintest.SpendableOut{n.out(parent, 0)}, 1, 1500)
	grandchild := n.spend(t, []chaintest.SpendableOut{n.out(child, 0)}, 1, 1200)
	sibling := n.spend(t, []chaintest.SpendableOut{n.out(parent, 1)}, 1, 1100)
	unrelated := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 1, 3000)
	all := []*wire.MsgTx{parent, child, grandchild, sibling, unrelated}
	for _, tx := range all {
		n.send(t, tx)
	}
	fee := map[*wire.MsgTx]int64{parent: 2000, child: 1500, grandchild: 1200, sibling: 1100, unrelated: 3000}

	// Expected entries, from the family above.
	type family struct {
		tx                   *wire.MsgTx
		ancestors, descends  []*wire.MsgTx // not counting tx itself
		depends, spentBy     []*wire.MsgTx
		ancestorFee, descFee int64
	}
	fams := []family{
		{tx: parent, descends: []*wire.MsgTx{child, grandchild, sibling}, spentBy: []*wire.MsgTx{child, sibling}},
		{tx: child, ancestors: []*wire.MsgTx{parent}, descends: []*wire.MsgTx{grandchild}, depends: []*wire.MsgTx{parent}, spentBy: []*wire.MsgTx{grandchild}},
		{tx: grandchild, ancestors: []*wire.MsgTx{parent, child}, depends: []*wire.MsgTx{child}},
		{tx: sibling, ancestors: []*wire.MsgTx{parent}, depends: []*wire.MsgTx{parent}},
		{tx: unrelated},
	}
	entries := map[string]json.RawMessage{}
	for _, f := range fams {
		name := "getmempoolentry " + f.tx.TxHash().String()
		raw := mustCall(t, n.srv, "getmempoolentry", f.tx.TxHash().String())
		entries[f.tx.TxHash().String()] = raw
		e := object(t, raw)
		checkKeys(t, name, e, mempoolEntryFields...)
		var got mempoolEntry
		decode(t, raw, &got)
		sort.Strings(got.Depends)
		sort.Strings(got.SpentBy)
		wantSize, wantAncSize, wantDescSize := vsizeOf(f.tx), vsizeOf(f.tx), vsizeOf(f.tx)
		wantAncFee, wantDescFee := fee[f.tx], fee[f.tx]
		for _, a := range f.ancestors {
			wantAncSize += vsizeOf(a)
			wantAncFee += fee[a]
		}
		for _, d := range f.descends {
			wantDescSize += vsizeOf(d)
			wantDescFee += fee[d]
		}
		want := got
		want.VSize, want.Weight, want.Time, want.Height = wantSize, weightOf(f.tx), testNow().Unix(), tipHeight
		want.AncestorCount, want.AncestorSize = 1+len(f.ancestors), wantAncSize
		want.DescendantCount, want.DescendantSize = 1+len(f.descends), wantDescSize
		want.WTxID = f.tx.WitnessHash().String()
		want.Fees = map[string]float64{"base": btc(fee[f.tx]), "modified": btc(fee[f.tx]),
			"ancestor": btc(wantAncFee), "descendant": btc(wantDescFee)}
		want.Depends, want.SpentBy = sortedIDs(f.depends...), sortedIDs(f.spentBy...)
		want.BIP125 = true // full RBF: everything is replaceable
		want.Unbroadcast = false
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}

	// getrawmempool, plain and verbose.
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); !reflect.DeepEqual(got, sortedIDs(all...)) {
		t.Errorf("getrawmempool = %v, want %v", got, sortedIDs(all...))
	}
	if got := txidSet(t, "getrawmempool false", mustCall(t, n.srv, "getrawmempool", false)); !reflect.DeepEqual(got, sortedIDs(all...)) {
		t.Errorf("getrawmempool false = %v, want %v", got, sortedIDs(all...))
	}
	verbose := object(t, mustCall(t, n.srv, "getrawmempool", true))
	checkKeys(t, "getrawmempool true", verbose, sortedIDs(all...)...)
	for id, raw := range verbose {
		if !reflect.DeepEqual(anyJSON(t, raw), anyJSON(t, entries[id])) {
			t.Errorf("getrawmempool true entry %s = %s, want getmempoolentry's %s", id, raw, entries[id])
		}
	}
	_, rerr := call(t, n.srv, "getrawmempool", "yes")
	checkErr(t, "getrawmempool verbose as a string", rerr, -3, "")
	// mempool_sequence, Core's second parameter: an object of the txids
	// and a sequence number, and refused with verbose.
	seqRaw := mustCall(t, n.srv, "getrawmempool", false, true)
	var seq map[string]json.RawMessage
	if err := json.Unmarshal(seqRaw, &seq); err != nil {
		t.Errorf("getrawmempool false true = %s, want an object of txids and mempool_sequence", seqRaw)
	} else {
		checkKeys(t, "getrawmempool false true", seq, "txids", "mempool_sequence")
		var ids []string
		if err := json.Unmarshal(seq["txids"], &ids); err != nil || !reflect.DeepEqual(sortedStrings(ids), sortedIDs(all...)) {
			t.Errorf("getrawmempool false true txids = %s, want %v", seq["txids"], sortedIDs(all...))
		}
	}
	_, rerr = call(t, n.srv, "getrawmempool", true, true)
	checkErr(t, "getrawmempool true true", rerr, -8, "Verbose results cannot contain mempool sequence values.")

	// getmempoolentry errors.
	for _, test := range []struct {
		name     string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "unknown txid", params: []any{chainhash.DoubleHashH([]byte("x")).String()}, wantCode: -5, wantMsg: "Transaction not in mempool"},
		{name: "confirmed coinbase", params: []any{n.coinbase(0).OutPoint.Hash.String()}, wantCode: -5, wantMsg: "Transaction not in mempool"},
		{name: "short txid", params: []any{"abcd"}, wantCode: -8, wantMsg: "must be of length 64"},
		{name: "txid not hex", params: []any{strings.Repeat("z", 64)}, wantCode: -8, wantMsg: "must be hexadecimal"},
		{name: "txid as a number", params: []any{1}, wantCode: -3},
	} {
		_, rerr := call(t, n.srv, "getmempoolentry", test.params...)
		checkErr(t, "getmempoolentry "+test.name, rerr, test.wantCode, test.wantMsg)
	}

	// getmempoolancestors and getmempooldescendants.
	for _, test := range []struct {
		name    string
		method  string
		tx      *wire.MsgTx
		verbose bool
		want    []*wire.MsgTx
	}{
		{name: "ancestors of the grandchild", method: "getmempoolancestors", tx: grandchild, want: []*wire.MsgTx{parent, child}},
		{name: "ancestors of the grandchild, verbose", method: "getmempoolancestors", tx: grandchild, verbose: true, want: []*wire.MsgTx{parent, child}},
		{name: "ancestors of the sibling", method: "getmempoolancestors", tx: sibling, want: []*wire.MsgTx{parent}},
		{name: "ancestors of the parent", method: "getmempoolancestors", tx: parent},
		{name: "ancestors of the parent, verbose", method: "getmempoolancestors", tx: parent, verbose: true},
		{name: "descendants of the parent", method: "getmempooldescendants", tx: parent, want: []*wire.MsgTx{child, grandchild, sibling}},
		{name: "descendants of the parent, verbose", method: "getmempooldescendants", tx: parent, verbose: true, want: []*wire.MsgTx{child, grandchild, sibling}},
		{name: "descendants of the child", method: "getmempooldescendants", tx: child, want: []*wire.MsgTx{grandchild}},
		{name: "descendants of the grandchild", method: "getmempooldescendants", tx: grandchild},
		{name: "descendants of the unrelated", method: "getmempooldescendants", tx: unrelated, verbose: true},
	} {
		id := test.tx.TxHash().String()
		if !test.verbose {
			raw := mustCall(t, n.srv, test.method, id)
			if got := txidSet(t, test.name, raw); !reflect.DeepEqual(got, sortedIDs(test.want...)) {
				t.Errorf("%q: %v, want %v", test.name, got, sortedIDs(test.want...))
			}
			raw2 := mustCall(t, n.srv, test.method, id, false)
			if !bytes.Equal(raw, raw2) {
				t.Errorf("%q: verbose false answered %s, the default %s", test.name, raw2, raw)
			}
			continue
		}
		m := object(t, mustCall(t, n.srv, test.method, id, true))
		checkKeys(t, test.name, m, sortedIDs(test.want...)...)
		for k, raw := range m {
			if !reflect.DeepEqual(anyJSON(t, raw), anyJSON(t, entries[k])) {
				t.Errorf("%q: entry %s = %s, want getmempoolentry's %s", test.name, k, raw, entries[k])
			}
		}
	}
	for _, method := range []string{"getmempoolancestors", "getmempooldescendants"} {
		_, rerr := call(t, n.srv, method, chainhash.DoubleHashH([]byte("x")).String())
		checkErr(t, method+" of an unknown txid", rerr, -5, "Transaction not in mempool")
		_, rerr = call(t, n.srv, method, parent.TxHash().String(), "yes")
		checkErr(t, method+" verbose as a string", rerr, -3, "")
		_, rerr = call(t, n.srv, method, "abcd")
		checkErr(t, method+" short txid", rerr, -8, "")
	}

	// getmempoolinfo.
	var totalSize, totalFee int64
	for _, tx := range all {
		totalSize += vsizeOf(tx)
		totalFee += fee[tx]
	}
	var gotInfo struct {
		Loaded              bool    `json:"loaded"`
		Size                int     `json:"size"`
		Bytes               int64   `json:"bytes"`
		Usage               int64   `json:"usage"`
		TotalFee            float64 `json:"total_fee"`
		MaxMempool          int64   `json:"maxmempool"`
		MempoolMinFee       float64 `json:"mempoolminfee"`
		MinRelayTxFee       float64 `json:"minrelaytxfee"`
		IncrementalRelayFee float64 `json:"incrementalrelayfee"`
		UnbroadcastCount    int     `json:"unbroadcastcount"`
		FullRBF             bool    `json:"fullrbf"`
	}
	decode(t, mustCall(t, n.srv, "getmempoolinfo"), &gotInfo)
	wantInfo := gotInfo
	wantInfo.Loaded, wantInfo.Size, wantInfo.Bytes, wantInfo.TotalFee = true, len(all), totalSize, btc(totalFee)
	wantInfo.MaxMempool, wantInfo.MempoolMinFee, wantInfo.MinRelayTxFee, wantInfo.IncrementalRelayFee = poolMaxBytes, 0.00001, 0.00001, 0.00001
	wantInfo.UnbroadcastCount, wantInfo.FullRBF = 0, true
	if !reflect.DeepEqual(gotInfo, wantInfo) {
		t.Errorf("getmempoolinfo:\n got %+v\nwant %+v", gotInfo, wantInfo)
	}
	if gotInfo.Usage <= totalSize {
		t.Errorf("getmempoolinfo usage %d, want more than the transactions' %d vbytes", gotInfo.Usage, totalSize)
	}

	var mining struct {
		PooledTx int `json:"pooledtx"`
	}
	decode(t, mustCall(t, n.srv, "getmininginfo"), &mining)
	if mining.PooledTx != len(all) {
		t.Errorf("getmininginfo pooledtx = %d, want %d", mining.PooledTx, len(all))
	}
}

// TestMempoolRPCEstimateSmartFee ensures estimatesmartfee checks its
// parameters as Core does, reports insufficient data with an errors array
// before any pool transaction confirmed, and afterwards a fee rate in coins
// per 1,000 vbytes drawn from the fee rates that confirmed: the median for
// short targets, lower for longer ones.
func TestMempoolRPCEstimateSmartFee(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 1)
	for _, test := range []struct {
		name     string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "conf_target 0", params: []any{0}, wantCode: -8, wantMsg: "Invalid conf_target, must be between 1 and 1008"},
		{name: "conf_target -1", params: []any{-1}, wantCode: -8, wantMsg: "Invalid conf_target, must be between 1 and 1008"},
		{name: "conf_target 1009", params: []any{1009}, wantCode: -8, wantMsg: "Invalid conf_target, must be between 1 and 1008"},
		{name: "conf_target as a string", params: []any{"6"}, wantCode: -3},
		{name: "conf_target not whole", params: []any{2.5}, wantCode: -3},
		{name: "unknown estimate_mode", params: []any{6, "bogus"}, wantCode: -8,
			wantMsg: `Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"`},
		{name: "estimate_mode as a number", params: []any{6, 1}, wantCode: -3},
		{name: "estimate_mode economical", params: []any{6, "economical"}},
		{name: "estimate_mode CONSERVATIVE", params: []any{6, "CONSERVATIVE"}},
		{name: "estimate_mode unset", params: []any{6, "unset"}},
		// Core compares modes case-insensitively (FeeModeFromString).
		{name: "estimate_mode Conservative", params: []any{6, "Conservative"}},
		{name: "estimate_mode Economical", params: []any{6, "Economical"}},
	} {
		_, rerr := call(t, n.srv, "estimatesmartfee", test.params...)
		if test.wantCode == 0 {
			if rerr != nil {
				t.Errorf("estimatesmartfee %q: unexpected error %v", test.name, rerr)
			}
			continue
		}
		checkErr(t, "estimatesmartfee "+test.name, rerr, test.wantCode, test.wantMsg)
	}

	for _, target := range []int{1, 2, 6, 1008} {
		m := object(t, mustCall(t, n.srv, "estimatesmartfee", target))
		if _, has := m["feerate"]; has {
			t.Errorf("estimatesmartfee %d without data has a feerate: %v", target, m)
		}
		var errs []string
		decode(t, m["errors"], &errs)
		if len(errs) != 1 || errs[0] != "Insufficient data or no feerate found" {
			t.Errorf("estimatesmartfee %d without data: errors %v", target, errs)
		}
		var blocks int
		if raw, ok := m["blocks"]; !ok {
			t.Errorf("estimatesmartfee %d without data lacks blocks", target)
		} else if decode(t, raw, &blocks); blocks < 0 || blocks > target {
			t.Errorf("estimatesmartfee %d without data: blocks %d", target, blocks)
		}
	}

	// A parent with 12 outputs and 12 children paying rising fees, all
	// confirmed in one block: 13 fee rates.
	parent := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 12, 6000)
	n.send(t, parent)
	txs := []*wire.MsgTx{parent}
	fees := []int64{6000}
	for i := uint32(0); i < 12; i++ {
		fee := 500 + 400*int64(i)
		child := n.spend(t, []chaintest.SpendableOut{n.out(parent, i)}, 1, fee)
		n.send(t, child)
		txs = append(txs, child)
		fees = append(fees, fee)
	}
	var rates []float64
	for i, tx := range txs {
		rates = append(rates, float64(fees[i])*1000/float64(vsizeOf(tx)))
	}
	sort.Float64s(rates)
	n.mineBlock(t, "confirm", txs...)
	if n.pool.Count() != 0 {
		t.Fatalf("pool holds %d transactions after the block", n.pool.Count())
	}

	estimate := func(target int) float64 {
		t.Helper()
		m := object(t, mustCall(t, n.srv, "estimatesmartfee", target))
		if _, has := m["errors"]; has {
			t.Fatalf("estimatesmartfee %d after the block: errors %s", target, m["errors"])
		}
		if _, has := m["blocks"]; !has {
			t.Errorf("estimatesmartfee %d lacks blocks", target)
		}
		var rate float64
		decode(t, m["feerate"], &rate)
		return rate
	}
	median := btc(int64(rates[(len(rates)-1)/2]))
	if got := estimate(2); got != median {
		t.Errorf("estimatesmartfee 2 = %v, want the median confirmed rate %v coins/kvB (rates %v)", got, median, rates)
	}
	prev := estimate(1)
	for _, target := range []int{2, 6, 25, 1008} {
		got := estimate(target)
		if got > prev {
			t.Errorf("estimatesmartfee %d = %v, above the estimate for a shorter target (%v)", target, got, prev)
		}
		if got < btc(int64(rates[0])) || got > btc(int64(rates[len(rates)-1])) {
			t.Errorf("estimatesmartfee %d = %v, outside the confirmed rates %v..%v", target, got, btc(int64(rates[0])), btc(int64(rates[len(rates)-1])))
		}
		prev = got
	}
}

// TestMempoolRPCRawTransactionAndTxOut ensures getrawtransaction finds a
// pool transaction (hex and verbose, without block fields), and gettxout
// with include_mempool sees the pool: an output a pool transaction spends
// is null with it and the UTXO without it; an output a pool transaction
// creates has 0 confirmations with it and is null without it.
func TestMempoolRPCRawTransactionAndTxOut(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 1)
	best := n.chain.BestSnapshot()
	cb := n.coinbase(0)
	tx := n.spend(t, []chaintest.SpendableOut{cb}, 2, 1000)
	n.send(t, tx)
	id := tx.TxHash().String()

	if got := str(t, mustCall(t, n.srv, "getrawtransaction", id)); got != txHexString(tx) {
		t.Errorf("getrawtransaction of a pool transaction = %s, want %s", got, txHexString(tx))
	}
	for _, verbose := range []any{true, 1} {
		m := object(t, mustCall(t, n.srv, "getrawtransaction", id, verbose))
		for _, k := range []string{"blockhash", "confirmations", "time", "blocktime", "in_active_chain"} {
			if _, has := m[k]; has {
				t.Errorf("getrawtransaction %v of a pool transaction has %q", verbose, k)
			}
		}
		if got := str(t, m["txid"]); got != id {
			t.Errorf("getrawtransaction %v: txid %s, want %s", verbose, got, id)
		}
		if got := str(t, m["hash"]); got != tx.WitnessHash().String() {
			t.Errorf("getrawtransaction %v: hash %s, want the wtxid %s", verbose, got, tx.WitnessHash())
		}
		if got := str(t, m["hex"]); got != txHexString(tx) {
			t.Errorf("getrawtransaction %v: hex %s", verbose, got)
		}
	}
	_, rerr := call(t, n.srv, "getrawtransaction", chainhash.DoubleHashH([]byte("x")).String())
	checkErr(t, "getrawtransaction of an unknown txid", rerr, -5, "No such mempool transaction")

	type txOut struct {
		BestBlock     string  `json:"bestblock"`
		Confirmations int64   `json:"confirmations"`
		Value         float64 `json:"value"`
		ScriptPubKey  struct {
			Hex     string `json:"hex"`
			Address string `json:"address"`
			Type    string `json:"type"`
		} `json:"scriptPubKey"`
		Coinbase bool `json:"coinbase"`
	}
	utxo := &txOut{BestBlock: best.Hash.String(), Confirmations: int64(best.Height), Value: btc(cb.Amount), Coinbase: true}
	created := &txOut{BestBlock: best.Hash.String(), Confirmations: 0, Value: btc(tx.TxOut[1].Value)}
	for _, o := range []*txOut{utxo, created} {
		o.ScriptPubKey.Hex = fmt.Sprintf("%x", n.pk)
		o.ScriptPubKey.Address = n.addr
		o.ScriptPubKey.Type = "witness_v0_keyhash"
	}
	for _, test := range []struct {
		name   string
		params []any
		want   *txOut // nil: null
	}{
		{name: "spent in the pool, default", params: []any{cb.OutPoint.Hash.String(), 0}},
		{name: "spent in the pool, include_mempool true", params: []any{cb.OutPoint.Hash.String(), 0, true}},
		{name: "spent in the pool, include_mempool false", params: []any{cb.OutPoint.Hash.String(), 0, false}, want: utxo},
		{name: "created in the pool, include_mempool true", params: []any{id, 1, true}, want: created},
		{name: "created in the pool, default", params: []any{id, 1}, want: created},
		{name: "created in the pool, include_mempool false", params: []any{id, 1, false}},
		{name: "no such output of a pool transaction", params: []any{id, 2, true}},
	} {
		raw := mustCall(t, n.srv, "gettxout", test.params...)
		if test.want == nil {
			if string(bytes.TrimSpace(raw)) != "null" {
				t.Errorf("gettxout %q = %s, want null", test.name, raw)
			}
			continue
		}
		m := object(t, raw)
		checkKeys(t, "gettxout "+test.name, m, "bestblock", "confirmations", "value", "scriptPubKey", "coinbase")
		var got txOut
		decode(t, raw, &got)
		if got != *test.want {
			t.Errorf("gettxout %q:\n got %+v\nwant %+v", test.name, got, *test.want)
		}
	}

	// Confirmed, the created output counts one confirmation.
	n.mineBlock(t, "confirm", tx)
	var got txOut
	decode(t, mustCall(t, n.srv, "gettxout", id, 1, true), &got)
	if got.Confirmations != 1 || got.Coinbase {
		t.Errorf("gettxout of a confirmed output: %+v, want 1 confirmation", got)
	}
	if raw := mustCall(t, n.srv, "gettxout", cb.OutPoint.Hash.String(), 0, false); string(bytes.TrimSpace(raw)) != "null" {
		t.Errorf("gettxout of the coinbase spent in a block = %s, want null", raw)
	}
}

// TestMempoolRPCWithoutMempool ensures every pool call fails with -1 on a
// server without a mempool, while gettxout, getrawtransaction,
// getmininginfo and generateblock still answer from the chain alone.
func TestMempoolRPCWithoutMempool(t *testing.T) {
	t.Parallel()
	gen := &fakeGenerator{}
	n := newTestNode(t, nodeConfig{blocks: 2, generator: gen})
	if n.srv.cfg.Mempool != nil {
		t.Fatal("test node has a mempool")
	}
	cb := n.g.CoinbaseOut("b1")
	tx := chaintest.CreateSpendTx(cb, 1000)
	hexTx := txHexString(tx)
	id := tx.TxHash().String()
	for _, test := range []struct {
		method string
		params []any
	}{
		{"sendrawtransaction", []any{hexTx}},
		{"testmempoolaccept", []any{[]string{hexTx}}},
		{"getrawmempool", nil},
		{"getrawmempool", []any{true}},
		{"getmempoolentry", []any{id}},
		{"getmempoolinfo", nil},
		{"getmempoolancestors", []any{id}},
		{"getmempooldescendants", []any{id, true}},
		{"estimatesmartfee", []any{6}},
	} {
		_, rerr := call(t, n.srv, test.method, test.params...)
		checkErr(t, fmt.Sprintf("%s %v", test.method, test.params), rerr, -1, "no mempool")
	}

	var mining struct {
		PooledTx *int `json:"pooledtx"`
	}
	decode(t, mustCall(t, n.srv, "getmininginfo"), &mining)
	if mining.PooledTx == nil || *mining.PooledTx != 0 {
		t.Errorf("getmininginfo pooledtx without a pool = %v, want 0", mining.PooledTx)
	}
	var out struct {
		Confirmations int64 `json:"confirmations"`
	}
	decode(t, mustCall(t, n.srv, "gettxout", cb.OutPoint.Hash.String(), 0, true), &out)
	if out.Confirmations != 2 {
		t.Errorf("gettxout include_mempool without a pool: confirmations %d, want 2", out.Confirmations)
	}
	_, rerr := call(t, n.srv, "getrawtransaction", id)
	checkErr(t, "getrawtransaction without a pool or index", rerr, -5, "No such mempool transaction")
	addr, err := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), n.net.AddressParams())
	if err != nil {
		t.Fatal(err)
	}
	_, rerr = call(t, n.srv, "generateblock", addr.EncodeAddress(), []string{id})
	checkErr(t, "generateblock with a txid without a pool", rerr, -5, "not in mempool")
	if gen.callCount() != 0 {
		t.Errorf("the generator was called %d times for a refused generateblock", gen.callCount())
	}
}

// TestMempoolRPCReorgRelinks ensures that when invalidateblock returns a
// block's transaction to the pool, pool transactions that already spent
// its outputs become its descendants: getmempoolentry's ancestor and
// descendant figures, depends and spentby, and getmempoolancestors and
// getmempooldescendants all see the family (Core updates them in
// UpdateTransactionsFromBlock), so that a block template orders the parent
// first.
//
//	... -> m99 -> c1(confirmed)      pool: spender (spends confirmed:0)
func TestMempoolRPCReorgRelinks(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 1)
	confirmed := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	n.send(t, confirmed)
	block := n.mineBlock(t, "c1", confirmed)
	spender := n.spend(t, []chaintest.SpendableOut{n.out(confirmed, 0)}, 1, 50_000)
	n.send(t, spender)

	mustCall(t, n.srv, "invalidateblock", block.BlockHash().String())
	n.settle(t, 1)
	if got, want := n.poolIDs(), sortedIDs(confirmed, spender); !reflect.DeepEqual(got, want) {
		t.Fatalf("pool after invalidateblock: %v, want %v", got, want)
	}
	var se, ce struct {
		AncestorCount   int      `json:"ancestorcount"`
		DescendantCount int      `json:"descendantcount"`
		Depends         []string `json:"depends"`
		SpentBy         []string `json:"spentby"`
	}
	decode(t, mustCall(t, n.srv, "getmempoolentry", spender.TxHash().String()), &se)
	if se.AncestorCount != 2 || !reflect.DeepEqual(se.Depends, sortedIDs(confirmed)) {
		t.Errorf("getmempoolentry of the spender after the reorg: ancestorcount %d, depends %v; want 2 and %v",
			se.AncestorCount, se.Depends, sortedIDs(confirmed))
	}
	decode(t, mustCall(t, n.srv, "getmempoolentry", confirmed.TxHash().String()), &ce)
	if ce.DescendantCount != 2 || !reflect.DeepEqual(ce.SpentBy, sortedIDs(spender)) {
		t.Errorf("getmempoolentry of the returned transaction: descendantcount %d, spentby %v; want 2 and %v",
			ce.DescendantCount, ce.SpentBy, sortedIDs(spender))
	}
	if got := txidSet(t, "getmempoolancestors", mustCall(t, n.srv, "getmempoolancestors", spender.TxHash().String())); !reflect.DeepEqual(got, sortedIDs(confirmed)) {
		t.Errorf("getmempoolancestors of the spender after the reorg = %v, want %v", got, sortedIDs(confirmed))
	}
	if got := txidSet(t, "getmempooldescendants", mustCall(t, n.srv, "getmempooldescendants", confirmed.TxHash().String())); !reflect.DeepEqual(got, sortedIDs(spender)) {
		t.Errorf("getmempooldescendants of the returned transaction = %v, want %v", got, sortedIDs(spender))
	}
}
