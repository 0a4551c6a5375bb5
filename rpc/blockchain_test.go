package rpc

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

// blockFields are the fields of getblock at verbosity 1 and 2 for a block
// with a parent and a child.
var blockFields = []string{"hash", "confirmations", "height", "version", "versionHex", "merkleroot", "time",
	"mediantime", "nonce", "bits", "difficulty", "chainwork", "nTx", "previousblockhash", "nextblockhash",
	"strippedsize", "size", "weight", "tx"}

// headerFields are getblockheader's fields for a block with a parent and a
// child.
var headerFields = []string{"hash", "confirmations", "height", "version", "versionHex", "merkleroot", "time",
	"mediantime", "nonce", "bits", "difficulty", "chainwork", "nTx", "previousblockhash", "nextblockhash"}

// TestGetBlockchainInfo ensures getblockchaininfo answers with Core's field
// names and the chain's values.
func TestGetBlockchainInfo(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	res := mustCall(t, r.srv, "getblockchaininfo")
	m := object(t, res)
	checkKeys(t, "getblockchaininfo", m, "chain", "blocks", "headers", "bestblockhash", "difficulty", "time",
		"mediantime", "verificationprogress", "initialblockdownload", "chainwork", "size_on_disk", "pruned", "warnings")
	var info struct {
		Chain                string  `json:"chain"`
		Blocks               int32   `json:"blocks"`
		Headers              int32   `json:"headers"`
		BestBlockHash        string  `json:"bestblockhash"`
		Difficulty           float64 `json:"difficulty"`
		Time                 int64   `json:"time"`
		MedianTime           int64   `json:"mediantime"`
		VerificationProgress float64 `json:"verificationprogress"`
		InitialBlockDownload *bool   `json:"initialblockdownload"`
		ChainWork            string  `json:"chainwork"`
		SizeOnDisk           int64   `json:"size_on_disk"`
		Pruned               bool    `json:"pruned"`
		Warnings             *string `json:"warnings"`
	}
	decode(t, res, &info)
	tip := r.g.Block("b103")
	checks := []struct {
		name      string
		got, want any
	}{
		{"chain", info.Chain, "regtest"},
		{"blocks", info.Blocks, int32(103)},
		{"headers", info.Headers, int32(103)},
		{"bestblockhash", info.BestBlockHash, r.hash("b103")},
		{"difficulty", info.Difficulty, regtestDifficulty},
		{"time", info.Time, tip.Header.Timestamp.Unix()},
		{"mediantime", info.MedianTime, medianTime(r.g, 103)},
		{"verificationprogress", info.VerificationProgress, 1.0},
		{"chainwork", info.ChainWork, chainWork(103)},
		{"pruned", info.Pruned, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if info.SizeOnDisk <= 0 {
		t.Errorf("size_on_disk %d, want the database's size", info.SizeOnDisk)
	}
	if info.InitialBlockDownload == nil || info.Warnings == nil {
		t.Errorf("initialblockdownload %s and warnings %s must be a bool and a string", m["initialblockdownload"], m["warnings"])
	}
	// The test clock is days past the tip: the chain's rule says download.
	if !*info.InitialBlockDownload || !r.chain.IsInitialBlockDownload() {
		t.Errorf("initialblockdownload %v with a tip %v old", *info.InitialBlockDownload, testNow().Sub(tip.Header.Timestamp))
	}

	// With a header beyond the tip, headers runs ahead of blocks and
	// verification progress is below one. (Whether the node is in initial
	// block download is the tip's age alone, as in Core.)
	n := newTestNode(t, nodeConfig{blocks: 3})
	n.g.NextBlock("b4", nil, nil)
	if _, err := n.chain.ProcessHeaders([]wire.BlockHeader{n.g.Block("b4").Header}); err != nil {
		t.Fatal(err)
	}
	decode(t, mustCall(t, n.srv, "getblockchaininfo"), &info)
	if info.Blocks != 3 || info.Headers != 4 || info.VerificationProgress >= 1 || info.VerificationProgress <= 0 {
		t.Errorf("header ahead: blocks %d headers %d progress %v; want 3, 4, in (0,1)",
			info.Blocks, info.Headers, info.VerificationProgress)
	}
}

// TestTipQueries ensures getblockcount, getbestblockhash and getdifficulty
// describe the tip, and take no parameters.
func TestTipQueries(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	tests := []struct {
		name     string
		method   string
		params   []any
		want     string
		wantCode int
	}{
		{name: "getblockcount", method: "getblockcount", want: "103"},
		{name: "getbestblockhash", method: "getbestblockhash", want: `"` + r.hash("b103") + `"`},
		{name: "getdifficulty", method: "getdifficulty", want: fmt.Sprint(regtestDifficulty)},
		{name: "getblockcount with a parameter", method: "getblockcount", params: []any{1}, wantCode: -1},
		{name: "getbestblockhash with a parameter", method: "getbestblockhash", params: []any{"x"}, wantCode: -1},
		{name: "getdifficulty with a parameter", method: "getdifficulty", params: []any{true}, wantCode: -1},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, test.method, test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, "too many parameters")
			continue
		}
		if rerr != nil || string(res) != test.want {
			t.Errorf("%q: %s %v, want %s", test.name, res, rerr, test.want)
		}
	}
	var d float64
	decode(t, mustCall(t, r.srv, "getdifficulty"), &d)
	if math.Abs(d-4.656542373906925e-10) > 1e-22 {
		t.Errorf("getdifficulty %v, want 4.656542373906925e-10", d)
	}
}

// TestGetBlockHash ensures getblockhash returns main-chain hashes and Core's
// errors for heights out of range or of the wrong type.
func TestGetBlockHash(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	tests := []struct {
		name     string
		params   []any
		want     string
		wantCode int
		wantMsg  string
	}{
		{name: "genesis", params: []any{0}, want: r.net.GenesisHash().String()},
		{name: "middle", params: []any{50}, want: r.hash("b50")},
		{name: "main chain, not the side block", params: []any{102}, want: r.hash("b102")},
		{name: "tip", params: []any{103}, want: r.hash("b103")},
		{name: "above the tip", params: []any{104}, wantCode: -8, wantMsg: "Block height out of range"},
		{name: "header-only height beyond", params: []any{1 << 30}, wantCode: -8, wantMsg: "out of range"},
		{name: "negative", params: []any{-1}, wantCode: -8, wantMsg: "Block height out of range"},
		{name: "string", params: []any{"1"}, wantCode: -3, wantMsg: "is not of expected type number"},
		{name: "null", params: []any{nil}, wantCode: -1},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, "getblockhash", test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil || str(t, res) != test.want {
			t.Errorf("%q: %s %v, want %s", test.name, res, rerr, test.want)
		}
	}
}

// TestGetBlock ensures getblock returns the block as hex (verbosity 0 or
// false), as Core's object with txids (1 or true) or with decoded
// transactions (2, 3), and Core's errors for a bad verbosity, an unknown
// block and a block whose data is missing.
func TestGetBlock(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	b102 := r.g.Block("b102")
	hexOf := func(t *testing.T, res json.RawMessage) {
		t.Helper()
		raw, err := hex.DecodeString(str(t, res))
		if err != nil {
			t.Fatalf("not hex: %v", err)
		}
		got, err := consensus.DecodeBlock(raw)
		if err != nil {
			t.Fatalf("hex does not decode to a block: %v", err)
		}
		if blockHex(got) != blockHex(b102) {
			t.Error("hex decodes to another block")
		}
	}
	txids := func(t *testing.T, res json.RawMessage) {
		t.Helper()
		m := object(t, res)
		checkKeys(t, "getblock", m, blockFields...)
		var vb verboseBlock
		decode(t, res, &vb)
		if vb.StrippedSize != b102.SerializeSizeStripped() || vb.Size != b102.SerializeSize() ||
			vb.Weight != 3*b102.SerializeSizeStripped()+b102.SerializeSize() || vb.Size == vb.StrippedSize {
			t.Errorf("sizes %d/%d/%d, want stripped %d, size %d, weight %d", vb.StrippedSize, vb.Size, vb.Weight,
				b102.SerializeSizeStripped(), b102.SerializeSize(), 3*b102.SerializeSizeStripped()+b102.SerializeSize())
		}
		checkBlockHeaderFields(t, "b102", r, vb, 102)
		var ids []string
		decode(t, vb.Tx, &ids)
		want := []string{b102.Transactions[0].TxHash().String(), r.txB.TxHash().String(), r.txC.TxHash().String()}
		if strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Errorf("tx %v, want txids %v", ids, want)
		}
	}
	// What b102's transactions spend, from the undo data: txB spends txA:0
	// (block 101), txC the coinbase of block 2.
	type prevout struct {
		Generated    bool
		Height       int32
		Value        float64
		ScriptPubKey struct{ Hex, Type, Desc string }
	}
	cb2Out := r.g.Block("b2").Transactions[0].TxOut[r.txC.TxIn[0].PreviousOutPoint.Index]
	spends := map[int]struct {
		out       *wire.TxOut
		height    int32
		generated bool
	}{1: {r.txA.TxOut[0], 101, false}, 2: {cb2Out, 2, true}}
	var decodedAt func(t *testing.T, res json.RawMessage, verbosity int)
	decoded := func(verbosity int) func(t *testing.T, res json.RawMessage) {
		return func(t *testing.T, res json.RawMessage) { decodedAt(t, res, verbosity) }
	}
	decodedAt = func(t *testing.T, res json.RawMessage, verbosity int) {
		t.Helper()
		var vb verboseBlock
		decode(t, res, &vb)
		checkBlockHeaderFields(t, "b102", r, vb, 102)
		var txs []map[string]json.RawMessage
		decode(t, vb.Tx, &txs)
		if len(txs) != 3 {
			t.Fatalf("%d transactions, want 3", len(txs))
		}
		for i, tx := range txs {
			keys := []string{"txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout", "hex"}
			if i > 0 {
				// The fee, from the undo data, for all but the coinbase.
				keys = append(keys, "fee")
				var fee float64
				decode(t, tx["fee"], &fee)
				want := spends[i].out.Value
				for _, o := range b102.Transactions[i].TxOut {
					want -= o.Value
				}
				if fee != float64(want)/1e8 {
					t.Errorf("tx %d fee %v, want %v", i, fee, float64(want)/1e8)
				}
				var ins []map[string]json.RawMessage
				decode(t, tx["vin"], &ins)
				p, ok := ins[0]["prevout"]
				if ok != (verbosity >= 3) {
					t.Fatalf("verbosity %d: tx %d input has prevout %v", verbosity, i, ok)
				}
				if ok {
					var got prevout
					decode(t, p, &got)
					w := spends[i]
					if got.Generated != w.generated || got.Height != w.height || got.Value != float64(w.out.Value)/1e8 ||
						got.ScriptPubKey.Hex != hex.EncodeToString(w.out.PkScript) || got.ScriptPubKey.Desc == "" {
						t.Errorf("tx %d prevout %+v, want generated %v height %d value %d script %x", i, got,
							w.generated, w.height, w.out.Value, w.out.PkScript)
					}
				}
			}
			checkKeys(t, fmt.Sprintf("tx %d", i), tx, keys...)
			if got, want := str(t, tx["hex"]), txHexString(b102.Transactions[i]); got != want {
				t.Errorf("tx %d hex %s, want %s", i, got, want)
			}
			if got, want := str(t, tx["txid"]), b102.Transactions[i].TxHash().String(); got != want {
				t.Errorf("tx %d txid %s, want %s", i, got, want)
			}
		}
		// The coinbase carries the witness reserved value: Core shows
		// it as "txinwitness", as for every other input.
		var cbIn []map[string]json.RawMessage
		decode(t, txs[0]["vin"], &cbIn)
		checkKeys(t, "coinbase input", cbIn[0], "coinbase", "txinwitness", "sequence")
		var in []map[string]json.RawMessage
		decode(t, txs[1]["vin"], &in)
		if verbosity >= 3 {
			checkKeys(t, "witness input", in[0], "txid", "vout", "scriptSig", "txinwitness", "prevout", "sequence")
		} else {
			checkKeys(t, "witness input", in[0], "txid", "vout", "scriptSig", "txinwitness", "sequence")
		}
		if string(txs[1]["txid"]) == string(txs[1]["hash"]) {
			t.Error("witness tx: hash equals txid")
		}
	}
	tests := []struct {
		name     string
		params   []any
		check    func(*testing.T, json.RawMessage)
		wantCode int
		wantMsg  string
	}{
		{name: "verbosity 0", params: []any{r.hash("b102"), 0}, check: hexOf},
		{name: "verbose false", params: []any{r.hash("b102"), false}, check: hexOf},
		{name: "default verbosity", params: []any{r.hash("b102")}, check: txids},
		{name: "null verbosity", params: []any{r.hash("b102"), nil}, check: txids},
		{name: "verbose true", params: []any{r.hash("b102"), true}, check: txids},
		{name: "verbosity 1", params: []any{r.hash("b102"), 1}, check: txids},
		{name: "verbosity 2", params: []any{r.hash("b102"), 2}, check: decoded(2)},
		{name: "verbosity 3", params: []any{r.hash("b102"), 3}, check: decoded(3)},
		{name: "verbosity 4", params: []any{r.hash("b102"), 4}, wantCode: -8, wantMsg: "Verbosity"},
		{name: "verbosity -1", params: []any{r.hash("b102"), -1}, wantCode: -8, wantMsg: "Verbosity"},
		{name: "verbosity string", params: []any{r.hash("b102"), "2"}, wantCode: -3},
		{name: "verbosity fraction", params: []any{r.hash("b102"), 1.5}, wantCode: -3},
		{name: "unknown block", params: []any{strings.Repeat("ab", 32)}, wantCode: -5, wantMsg: "Block not found"},
		{name: "header only", params: []any{r.hash("h101")}, wantCode: -1, wantMsg: "Block not available"},
		{name: "short hash", params: []any{"00"}, wantCode: -8, wantMsg: "length 64"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			res, rerr := call(t, r.srv, "getblock", test.params...)
			if test.wantCode != 0 {
				checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
				return
			}
			if rerr != nil {
				t.Fatalf("unexpected error %v", rerr)
			}
			test.check(t, res)
		})
	}

	// Ends of the chain and a side block.
	var genesis, tip, vb verboseBlock
	res := mustCall(t, r.srv, "getblock", r.net.GenesisHash().String())
	decode(t, res, &genesis)
	checkBlockHeaderFields(t, "genesis", r, genesis, 0)
	if _, ok := object(t, res)["previousblockhash"]; ok {
		t.Error("genesis: has previousblockhash")
	}
	res = mustCall(t, r.srv, "getblock", r.hash("b103"))
	decode(t, res, &tip)
	checkBlockHeaderFields(t, "tip", r, tip, 103)
	if _, ok := object(t, res)["nextblockhash"]; ok {
		t.Error("tip: has nextblockhash")
	}
	res = mustCall(t, r.srv, "getblock", r.hash("s102"))
	decode(t, res, &vb)
	if vb.Confirmations != -1 || vb.Height != 102 || vb.Previous != r.hash("b101") || vb.Next != "" {
		t.Errorf("side block: confirmations %d height %d prev %s next %q; want -1, 102, b101, none",
			vb.Confirmations, vb.Height, vb.Previous, vb.Next)
	}
}

// TestGetBlockHeader ensures getblockheader returns Core's header object or
// the 80-byte header in hex, also for a header without its block.
func TestGetBlockHeader(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	tests := []struct {
		name     string
		params   []any
		check    func(*testing.T, json.RawMessage)
		wantCode int
		wantMsg  string
	}{
		{name: "verbose by default", params: []any{r.hash("b102")}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			checkKeys(t, "header", object(t, res), headerFields...)
			var vb verboseBlock
			decode(t, res, &vb)
			checkBlockHeaderFields(t, "b102", r, vb, 102)
		}},
		{name: "verbose true, genesis", params: []any{r.net.GenesisHash().String(), true}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			var vb verboseBlock
			decode(t, res, &vb)
			checkBlockHeaderFields(t, "genesis", r, vb, 0)
		}},
		{name: "verbose false", params: []any{r.hash("b102"), false}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			if got, want := str(t, res), headerHex(&r.g.Block("b102").Header); got != want || len(got) != 160 {
				t.Errorf("hex %s, want %s", got, want)
			}
		}},
		{name: "header only", params: []any{r.hash("h101")}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			var vb verboseBlock
			decode(t, res, &vb)
			if vb.Height != 101 || vb.Confirmations != -1 || vb.NTx != 0 || vb.Previous != r.hash("b100") {
				t.Errorf("got height %d confirmations %d nTx %d prev %s; want 101, -1, 0, b100",
					vb.Height, vb.Confirmations, vb.NTx, vb.Previous)
			}
		}},
		{name: "header only, hex", params: []any{r.hash("h101"), false}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			if got, want := str(t, res), headerHex(&r.g.Block("h101").Header); got != want {
				t.Errorf("hex %s, want %s", got, want)
			}
		}},
		{name: "unknown", params: []any{strings.Repeat("cd", 32)}, wantCode: -5, wantMsg: "Block not found"},
		{name: "verbose string", params: []any{r.hash("b1"), "true"}, wantCode: -3},
		{name: "bad hash", params: []any{strings.Repeat("g", 64)}, wantCode: -8},
	}
	for _, test := range tests {
		res, ok := callCase(t, r.srv, test.name, "getblockheader", test.params, test.wantCode, test.wantMsg)
		if !ok {
			continue
		}
		t.Run(test.name, func(t *testing.T) { test.check(t, res) })
	}
}

// chainTip is one getchaintips entry.
type chainTip struct {
	Height    int32  `json:"height"`
	Hash      string `json:"hash"`
	BranchLen int32  `json:"branchlen"`
	Status    string `json:"status"`
}

// TestGetChainTips ensures getchaintips reports Core's statuses as a side
// branch appears, wins, is invalidated and reconsidered, and as a header
// arrives without its block:
//
//	genesis -> b1 -> b2 -> b3 -> b4 -> (h5: header only)
//	                   \-> s3 -> s4 -> s5
func TestGetChainTips(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 4})
	n.g.SetTip("b2")
	for _, name := range []string{"s3", "s4", "s5"} {
		n.g.NextBlock(name, nil, nil)
	}
	n.g.SetTip("b4")
	n.g.NextBlock("h5", nil, nil)

	tip := func(name string, height, branch int32, status string) chainTip {
		return chainTip{Height: height, Hash: n.hash(name), BranchLen: branch, Status: status}
	}
	steps := []struct {
		name string
		do   func(t *testing.T)
		want []chainTip
	}{
		{name: "one chain", do: func(*testing.T) {}, want: []chainTip{tip("b4", 4, 0, "active")}},
		{name: "side block with less work", do: func(t *testing.T) { n.process(t, "s3") },
			want: []chainTip{tip("b4", 4, 0, "active"), tip("s3", 3, 1, "valid-headers")}},
		{name: "side branch wins", do: func(t *testing.T) { n.process(t, "s4"); n.process(t, "s5") },
			want: []chainTip{tip("s5", 5, 0, "active"), tip("b4", 4, 2, "valid-fork")}},
		{name: "invalidate the side branch", do: func(t *testing.T) {
			if res := mustCall(t, n.srv, "invalidateblock", n.hash("s4")); string(res) != "null" {
				t.Errorf("invalidateblock: %s, want null", res)
			}
		}, want: []chainTip{tip("b4", 4, 0, "active"), tip("s5", 5, 3, "invalid")}},
		{name: "header without block", do: func(t *testing.T) {
			if res := mustCall(t, n.srv, "submitheader", headerHex(&n.g.Block("h5").Header)); string(res) != "null" {
				t.Errorf("submitheader: %s, want null", res)
			}
		}, want: []chainTip{tip("b4", 4, 0, "active"), tip("h5", 5, 1, "headers-only"), tip("s5", 5, 3, "invalid")}},
		{name: "reconsider", do: func(t *testing.T) { mustCall(t, n.srv, "reconsiderblock", n.hash("s4")) },
			want: []chainTip{tip("s5", 5, 0, "active"), tip("h5", 5, 3, "headers-only")}},
	}
	for _, step := range steps {
		step.do(t)
		res := mustCall(t, n.srv, "getchaintips")
		var raw []map[string]json.RawMessage
		decode(t, res, &raw)
		for _, m := range raw {
			checkKeys(t, step.name, m, "height", "hash", "branchlen", "status")
		}
		var got []chainTip
		decode(t, res, &got)
		// The active tip comes first; the order of the others is not
		// Core's contract.
		want := append([]chainTip(nil), step.want...)
		for _, tips := range [][]chainTip{got, want} {
			if len(tips) > 1 {
				rest := tips[1:]
				sort.Slice(rest, func(i, j int) bool { return rest[i].Hash < rest[j].Hash })
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q:\n got %v\nwant %v", step.name, got, want)
		}
	}
	if _, rerr := call(t, n.srv, "getchaintips", 1); rerr == nil {
		t.Error("getchaintips accepted a parameter")
	}
}

// txOut is gettxout's answer.
type txOut struct {
	BestBlock     string  `json:"bestblock"`
	Confirmations int64   `json:"confirmations"`
	Value         float64 `json:"value"`
	ScriptPubKey  struct {
		Asm     string `json:"asm"`
		Hex     string `json:"hex"`
		Type    string `json:"type"`
		Address string `json:"address"`
	} `json:"scriptPubKey"`
	Coinbase bool `json:"coinbase"`
}

// TestGetTxOut ensures gettxout describes unspent outputs with Core's
// fields, returns null for spent, unspendable and unknown ones, and
// refuses bad output indexes.
func TestGetTxOut(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	tip := r.hash("b103")
	cb50 := r.g.Block("b50").Transactions[0].TxHash().String()
	txA, txB, txC := r.txA.TxHash().String(), r.txB.TxHash().String(), r.txC.TxHash().String()
	type want struct {
		conf     int64
		value    float64
		typ      string
		address  string
		hex      string
		coinbase bool
	}
	tests := []struct {
		name     string
		params   []any
		want     *want // nil: null
		wantCode int
		wantMsg  string
	}{
		{name: "coinbase", params: []any{cb50, 0},
			want: &want{conf: 54, value: 50, typ: "nonstandard", hex: "51", coinbase: true}},
		{name: "P2PKH output", params: []any{txC, 0},
			want: &want{conf: 2, value: 1, typ: "pubkeyhash", address: r.p2pkhAddr, hex: hex.EncodeToString(r.p2pkhPkScript)}},
		{name: "P2SH output", params: []any{txC, 1}, want: &want{conf: 2, value: 1, typ: "scripthash", address: r.p2shAddr,
			hex: hex.EncodeToString(r.txC.TxOut[1].PkScript)}},
		{name: "change of txA", params: []any{txA, 1}, want: &want{conf: 3, value: float64(r.txA.TxOut[1].Value) / 1e8, typ: "nonstandard", hex: "51"}},
		{name: "include_mempool false", params: []any{txB, 0, false}, want: &want{conf: 2, value: float64(r.txB.TxOut[0].Value) / 1e8, typ: "nonstandard", hex: "51"}},
		{name: "include_mempool true", params: []any{txB, 0, true}, want: &want{conf: 2, value: float64(r.txB.TxOut[0].Value) / 1e8, typ: "nonstandard", hex: "51"}},
		{name: "spent P2WPKH output", params: []any{txA, 0}},
		{name: "spent coinbase", params: []any{r.g.Block("b1").Transactions[0].TxHash().String(), 0}},
		{name: "OP_RETURN output", params: []any{txC, 2}},
		{name: "genesis coinbase", params: []any{r.net.Genesis.Transactions[0].TxHash().String(), 0}},
		{name: "side block coinbase", params: []any{r.g.Block("s102").Transactions[0].TxHash().String(), 0}},
		{name: "unknown txid", params: []any{strings.Repeat("11", 32), 0}},
		{name: "index past the outputs", params: []any{cb50, 1}},
		{name: "negative index", params: []any{cb50, -1}, wantCode: -8, wantMsg: "Invalid output index"},
		{name: "index beyond uint32", params: []any{cb50, int64(1) << 32}, wantCode: -8},
		{name: "bad txid", params: []any{"xyz", 0}, wantCode: -8, wantMsg: "txid must be of length 64"},
	}
	for _, test := range tests {
		res, ok := callCase(t, r.srv, test.name, "gettxout", test.params, test.wantCode, test.wantMsg)
		if !ok {
			continue
		}
		if test.want == nil {
			if string(res) != "null" {
				t.Errorf("%q: %s, want null", test.name, res)
			}
			continue
		}
		checkKeys(t, test.name, object(t, res), "bestblock", "confirmations", "value", "scriptPubKey", "coinbase")
		var got txOut
		decode(t, res, &got)
		w := test.want
		if got.BestBlock != tip || got.Confirmations != w.conf || got.Value != w.value || got.Coinbase != w.coinbase ||
			got.ScriptPubKey.Type != w.typ || got.ScriptPubKey.Address != w.address || got.ScriptPubKey.Hex != w.hex {
			t.Errorf("%q: got %+v, want %+v at bestblock %s", test.name, got, *w, tip)
		}
	}
}

// TestGetTxOutSetInfo ensures gettxoutsetinfo's totals match the UTXO set
// recomputed from the blocks, and that hash_type is checked.
func TestGetTxOutSetInfo(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	// Recompute the set from the main-chain blocks.
	type coin struct {
		value  int64
		script []byte
	}
	set := map[wire.OutPoint]coin{}
	for _, name := range r.mainChainBlocks {
		for _, tx := range r.g.Block(name).Transactions {
			if !consensus.IsCoinBaseTx(tx) {
				for _, in := range tx.TxIn {
					delete(set, in.PreviousOutPoint)
				}
			}
			for i, o := range tx.TxOut {
				if len(o.PkScript) > 0 && o.PkScript[0] == txscript.OP_RETURN {
					continue
				}
				set[wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}] = coin{o.Value, o.PkScript}
			}
		}
	}
	var total, bogo int64
	txs := map[string]bool{}
	for op, c := range set {
		total += c.value
		bogo += 50 + int64(len(c.script))
		txs[op.Hash.String()] = true
	}
	if total != 103*50*consensus.CoinValue {
		t.Fatalf("test bug: recomputed total %d", total)
	}

	var info struct {
		Height       int32   `json:"height"`
		BestBlock    string  `json:"bestblock"`
		Transactions int64   `json:"transactions"`
		TxOuts       int64   `json:"txouts"`
		BogoSize     int64   `json:"bogosize"`
		Hash         string  `json:"hash_serialized_3"`
		TotalAmount  float64 `json:"total_amount"`
	}
	res := mustCall(t, r.srv, "gettxoutsetinfo")
	m := object(t, res)
	for _, k := range []string{"height", "bestblock", "transactions", "txouts", "bogosize", "hash_serialized_3", "total_amount"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %s", k, res)
		}
	}
	decode(t, res, &info)
	if info.Height != 103 || info.BestBlock != r.hash("b103") || info.TxOuts != int64(len(set)) ||
		info.Transactions != int64(len(txs)) || info.BogoSize != bogo || info.TotalAmount != float64(total)/1e8 {
		t.Errorf("got %+v; want height 103, bestblock %s, txouts %d, transactions %d, bogosize %d, total %v",
			info, r.hash("b103"), len(set), len(txs), bogo, float64(total)/1e8)
	}
	if b, err := hex.DecodeString(info.Hash); err != nil || len(b) != 32 {
		t.Errorf("hash_serialized_3 %q is not 32 bytes of hex", info.Hash)
	}

	tests := []struct {
		name     string
		hashType any
		wantHash bool
		wantCode int
	}{
		{name: "hash_serialized_3", hashType: "hash_serialized_3", wantHash: true},
		{name: "none", hashType: "none", wantHash: false},
		{name: "unknown", hashType: "sha1", wantCode: -8},
		{name: "not a string", hashType: 3, wantCode: -3},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, "gettxoutsetinfo", test.hashType)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, "")
			continue
		}
		if rerr != nil {
			t.Errorf("%q: %v", test.name, rerr)
			continue
		}
		m := object(t, res)
		h, ok := m["hash_serialized_3"]
		if ok != test.wantHash {
			t.Errorf("%q: hash_serialized_3 present %v, want %v", test.name, ok, test.wantHash)
		}
		if ok && str(t, h) != info.Hash {
			t.Errorf("%q: hash %s differs from the default call's %s", test.name, h, info.Hash)
		}
		if string(m["txouts"]) != fmt.Sprint(len(set)) {
			t.Errorf("%q: txouts %s, want %d", test.name, m["txouts"], len(set))
		}
	}
}

// TestInvalidateReconsider ensures invalidateblock moves the tip off a
// block and reconsiderblock brings it back, with Core's errors for unknown
// blocks and the genesis block.
func TestInvalidateReconsider(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 5})
	steps := []struct {
		name     string
		method   string
		hash     string
		wantCode int
		wantMsg  string
		tip      string
	}{
		{name: "invalidate b4", method: "invalidateblock", hash: n.hash("b4"), tip: "b3"},
		{name: "invalidate again", method: "invalidateblock", hash: n.hash("b4"), tip: "b3"},
		{name: "reconsider b4", method: "reconsiderblock", hash: n.hash("b4"), tip: "b5"},
		{name: "invalidate the tip", method: "invalidateblock", hash: n.hash("b5"), tip: "b4"},
		{name: "reconsider the tip", method: "reconsiderblock", hash: n.hash("b5"), tip: "b5"},
		{name: "reconsider a valid block", method: "reconsiderblock", hash: n.hash("b2"), tip: "b5"},
		{name: "invalidate genesis", method: "invalidateblock", hash: n.net.GenesisHash().String(), wantCode: -1, wantMsg: "genesis", tip: "b5"},
		{name: "invalidate unknown", method: "invalidateblock", hash: strings.Repeat("aa", 32), wantCode: -5, wantMsg: "Block not found", tip: "b5"},
		{name: "reconsider unknown", method: "reconsiderblock", hash: strings.Repeat("aa", 32), wantCode: -5, wantMsg: "Block not found", tip: "b5"},
		{name: "invalidate bad hash", method: "invalidateblock", hash: "aa", wantCode: -8, tip: "b5"},
		{name: "reconsider bad hash", method: "reconsiderblock", hash: "aa", wantCode: -8, tip: "b5"},
	}
	for _, step := range steps {
		res, rerr := call(t, n.srv, step.method, step.hash)
		if step.wantCode != 0 {
			checkErr(t, step.name, rerr, step.wantCode, step.wantMsg)
		} else if rerr != nil || string(res) != "null" {
			t.Errorf("%q: %s %v, want null", step.name, res, rerr)
		}
		if got := str(t, mustCall(t, n.srv, "getbestblockhash")); got != n.hash(step.tip) {
			t.Errorf("%q: tip %s, want %s", step.name, got, step.tip)
		}
	}
	for _, method := range []string{"invalidateblock", "reconsiderblock"} {
		_, rerr := call(t, n.srv, method)
		checkErr(t, method+" without a hash", rerr, -1, `"blockhash"`)
	}
}

// TestChainError ensures chainError maps the chain's sentinels
// to Core's codes (the paths a real chain reaches only on failures).
func TestChainError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "unknown block", err: fmt.Errorf("x: %w", chain.ErrUnknownBlock), want: -5},
		{name: "genesis", err: chain.ErrInvalidateGenesis, want: -1},
		{name: "rule error", err: consensus.RuleError{Err: consensus.ErrBadMerkleRoot, Description: "d"}, want: -25},
		{name: "storage", err: errors.New("disk on fire"), want: -20},
	}
	for _, test := range tests {
		var rerr *Error
		if !errors.As(chainError(test.err), &rerr) || int(rerr.Code) != test.want {
			t.Errorf("%q: %v, want code %d", test.name, chainError(test.err), test.want)
		}
	}
}
