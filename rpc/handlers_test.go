package rpc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

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

	// With a header beyond the tip, headers runs ahead of blocks and the
	// node is still downloading.
	n := newTestNode(t, nodeConfig{blocks: 3})
	n.g.NextBlock("b4", nil, nil)
	if _, err := n.chain.ProcessHeaders([]wire.BlockHeader{n.g.Block("b4").Header}); err != nil {
		t.Fatal(err)
	}
	decode(t, mustCall(t, n.srv, "getblockchaininfo"), &info)
	if info.Blocks != 3 || info.Headers != 4 || info.VerificationProgress >= 1 || info.VerificationProgress <= 0 ||
		info.InitialBlockDownload == nil || !*info.InitialBlockDownload {
		t.Errorf("header ahead: blocks %d headers %d progress %v ibd %v; want 3, 4, in (0,1), true",
			info.Blocks, info.Headers, info.VerificationProgress, *info.InitialBlockDownload)
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
	decoded := func(t *testing.T, res json.RawMessage) {
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
			checkKeys(t, fmt.Sprintf("tx %d", i), tx, "txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout", "hex")
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
		checkKeys(t, "witness input", in[0], "txid", "vout", "scriptSig", "txinwitness", "sequence")
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
		{name: "verbosity 2", params: []any{r.hash("b102"), 2}, check: decoded},
		{name: "verbosity 3", params: []any{r.hash("b102"), 3}, check: decoded},
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
		res, rerr := call(t, r.srv, "getblockheader", test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
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
		res, rerr := call(t, r.srv, "gettxout", test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
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

// TestGetRawTransaction ensures getrawtransaction finds transactions in a
// given block or through the transaction index, answers in hex or Core's
// verbose object, and returns Core's -5 errors otherwise.
func TestGetRawTransaction(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	txA, txB := r.txA.TxHash().String(), r.txB.TxHash().String()
	genesisCB := r.net.Genesis.Transactions[0].TxHash().String()
	sideCB := r.g.Block("s102").Transactions[0]
	verboseKeys := []string{"txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout", "hex",
		"blockhash", "confirmations", "time", "blocktime"}
	type check func(t *testing.T, res json.RawMessage)
	hexIs := func(tx *wire.MsgTx) check {
		return func(t *testing.T, res json.RawMessage) {
			t.Helper()
			if got := str(t, res); got != txHexString(tx) {
				t.Errorf("hex %s, want %s", got, txHexString(tx))
			}
		}
	}
	verbose := func(tx *wire.MsgTx, block string, conf int64, inActive *bool) check {
		return func(t *testing.T, res json.RawMessage) {
			t.Helper()
			m := object(t, res)
			want := verboseKeys
			if inActive != nil {
				want = append(append([]string(nil), verboseKeys...), "in_active_chain")
			}
			checkKeys(t, "verbose", m, want...)
			var v struct {
				Txid, Hash, Hex, BlockHash string
				Confirmations              int64
				Time, Blocktime            int64
				InActiveChain              *bool `json:"in_active_chain"`
			}
			decode(t, res, &v)
			ts := r.g.Block(block).Header.Timestamp.Unix()
			if v.Txid != tx.TxHash().String() || v.Hash != tx.WitnessHash().String() || v.Hex != txHexString(tx) ||
				v.BlockHash != r.hash(block) || v.Confirmations != conf || v.Time != ts || v.Blocktime != ts {
				t.Errorf("got %+v; want txid %s, block %s, confirmations %d, time %d", v, tx.TxHash(), block, conf, ts)
			}
			if inActive != nil && (v.InActiveChain == nil || *v.InActiveChain != *inActive) {
				t.Errorf("in_active_chain %s, want %v", m["in_active_chain"], *inActive)
			}
		}
	}
	yes, no := true, false
	tests := []struct {
		name     string
		params   []any
		check    check
		wantCode int
		wantMsg  string
	}{
		{name: "txindex, hex", params: []any{txA}, check: hexIs(r.txA)},
		{name: "txindex, witness tx", params: []any{txB, false}, check: hexIs(r.txB)},
		{name: "txindex, verbosity 0", params: []any{txB, 0}, check: hexIs(r.txB)},
		{name: "txindex, coinbase", params: []any{r.g.Block("b50").Transactions[0].TxHash().String()},
			check: hexIs(r.g.Block("b50").Transactions[0])},
		{name: "txindex, verbose", params: []any{txB, true}, check: verbose(r.txB, "b102", 2, nil)},
		{name: "txindex, verbosity 1", params: []any{txA, 1}, check: verbose(r.txA, "b101", 3, nil)},
		{name: "given block, hex", params: []any{txA, false, r.hash("b101")}, check: hexIs(r.txA)},
		{name: "given block, null verbose", params: []any{txA, nil, r.hash("b101")}, check: hexIs(r.txA)},
		{name: "given block, verbose", params: []any{txB, true, r.hash("b102")}, check: verbose(r.txB, "b102", 2, &yes)},
		{name: "given side block", params: []any{sideCB.TxHash().String(), true, r.hash("s102")}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			var v struct {
				BlockHash     string `json:"blockhash"`
				InActiveChain *bool  `json:"in_active_chain"`
			}
			decode(t, res, &v)
			if v.BlockHash != r.hash("s102") || v.InActiveChain == nil || *v.InActiveChain != no {
				t.Errorf("got %s; want blockhash s102 and in_active_chain false", res)
			}
			// Core's TxToJSON: a block off the active chain gets
			// "confirmations": 0 and no time or blocktime.
			m := object(t, res)
			if string(m["confirmations"]) != "0" {
				t.Errorf("confirmations %s, want 0", m["confirmations"])
			}
			for _, k := range []string{"time", "blocktime"} {
				if _, ok := m[k]; ok {
					t.Errorf("%s present for a block off the active chain", k)
				}
			}
		}},
		{name: "not in given block", params: []any{txA, false, r.hash("b102")}, wantCode: -5,
			wantMsg: "No such transaction found in the provided block"},
		{name: "unknown block", params: []any{txA, false, strings.Repeat("ee", 32)}, wantCode: -5},
		{name: "block without data", params: []any{txA, false, r.hash("h101")}, wantCode: -1, wantMsg: "Block not available"},
		{name: "unknown txid", params: []any{strings.Repeat("12", 32)}, wantCode: -5,
			wantMsg: "No such mempool or blockchain transaction"},
		{name: "genesis coinbase", params: []any{genesisCB}, wantCode: -5, wantMsg: "genesis block coinbase"},
		{name: "genesis coinbase in the genesis block", params: []any{genesisCB, false, r.net.GenesisHash().String()},
			wantCode: -5, wantMsg: "genesis block coinbase"},
		{name: "bad txid", params: []any{"12"}, wantCode: -8},
		{name: "bad blockhash", params: []any{txA, false, "12"}, wantCode: -8},
		{name: "verbose string", params: []any{txA, "yes"}, wantCode: -3},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, "getrawtransaction", test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		t.Run(test.name, func(t *testing.T) { test.check(t, res) })
	}

	// Without the transaction index only a given block is searched.
	n := newTestNode(t, nodeConfig{blocks: 2})
	cb := n.g.Block("b1").Transactions[0]
	_, rerr := call(t, n.srv, "getrawtransaction", cb.TxHash().String())
	checkErr(t, "no txindex", rerr, -5, "Use -txindex or provide a block hash")
	if res := mustCall(t, n.srv, "getrawtransaction", cb.TxHash().String(), false, n.hash("b1")); str(t, res) != txHexString(cb) {
		t.Errorf("no txindex, given block: %s, want %s", res, txHexString(cb))
	}
}

// TestDecodeRawTransaction ensures decoderawtransaction shows witness and
// non-witness transactions as Core does, honours iswitness and refuses
// bytes that are not one transaction with -22.
func TestDecodeRawTransaction(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	coinbase := r.g.Block("b102").Transactions[0]
	txKeys := []string{"txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout"}
	type decodedTx struct {
		Txid, Hash          string
		Version             uint32
		Size, Vsize, Weight int
		Locktime            uint32
		Vin                 []map[string]json.RawMessage
		Vout                []struct {
			Value        float64
			N            uint32
			ScriptPubKey struct{ Asm, Hex, Type, Address string }
		}
	}
	shows := func(tx *wire.MsgTx) func(t *testing.T, res json.RawMessage) {
		t.Helper()
		return func(t *testing.T, res json.RawMessage) {
			t.Helper()
			checkKeys(t, "decoded", object(t, res), txKeys...)
			var d decodedTx
			decode(t, res, &d)
			stripped := tx.SerializeSizeStripped()
			weight := 3*stripped + tx.SerializeSize()
			if d.Txid != tx.TxHash().String() || d.Hash != tx.WitnessHash().String() || d.Version != uint32(tx.Version) ||
				d.Size != tx.SerializeSize() || d.Weight != weight || d.Vsize != (weight+3)/4 || d.Locktime != tx.LockTime {
				t.Errorf("got txid %s hash %s version %d size %d vsize %d weight %d locktime %d",
					d.Txid, d.Hash, d.Version, d.Size, d.Vsize, d.Weight, d.Locktime)
			}
			if len(d.Vin) != len(tx.TxIn) || len(d.Vout) != len(tx.TxOut) {
				t.Fatalf("%d inputs and %d outputs, want %d and %d", len(d.Vin), len(d.Vout), len(tx.TxIn), len(tx.TxOut))
			}
			for i, in := range tx.TxIn {
				want := []string{"txid", "vout", "scriptSig", "sequence"}
				if consensus.IsCoinBaseTx(tx) {
					want = []string{"coinbase", "sequence"}
				}
				if len(in.Witness) > 0 {
					want = append(want, "txinwitness")
				}
				checkKeys(t, fmt.Sprintf("vin %d", i), d.Vin[i], want...)
				if w, ok := d.Vin[i]["txinwitness"]; ok {
					var items []string
					decode(t, w, &items)
					if len(items) != len(in.Witness) {
						t.Errorf("vin %d: %d witness items, want %d", i, len(items), len(in.Witness))
					}
				}
			}
			for i, out := range tx.TxOut {
				o := d.Vout[i]
				if o.N != uint32(i) || o.Value != float64(out.Value)/1e8 || o.ScriptPubKey.Hex != hex.EncodeToString(out.PkScript) {
					t.Errorf("vout %d: %+v", i, o)
				}
			}
		}
	}
	txAHex, txBHex := txHexString(r.txA), txHexString(r.txB)
	tests := []struct {
		name     string
		params   []any
		check    func(*testing.T, json.RawMessage)
		wantCode int
	}{
		{name: "non-witness", params: []any{txAHex}, check: shows(r.txA)},
		{name: "witness", params: []any{txBHex}, check: shows(r.txB)},
		{name: "outputs of several types", params: []any{txHexString(r.txC)}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			shows(r.txC)(t, res)
			var d decodedTx
			decode(t, res, &d)
			types := []string{"pubkeyhash", "scripthash", "nulldata", "nonstandard"}
			addrs := []string{r.p2pkhAddr, r.p2shAddr, "", ""}
			for i := range types {
				if d.Vout[i].ScriptPubKey.Type != types[i] || d.Vout[i].ScriptPubKey.Address != addrs[i] {
					t.Errorf("vout %d: type %s address %q, want %s %q", i, d.Vout[i].ScriptPubKey.Type,
						d.Vout[i].ScriptPubKey.Address, types[i], addrs[i])
				}
			}
		}},
		{name: "coinbase with witness", params: []any{txHexString(coinbase)}, check: shows(coinbase)},
		{name: "iswitness true, non-witness tx", params: []any{txAHex, true}, check: shows(r.txA)},
		{name: "iswitness false, non-witness tx", params: []any{txAHex, false}, check: shows(r.txA)},
		{name: "iswitness true, witness tx", params: []any{txBHex, true}, check: shows(r.txB)},
		{name: "iswitness false, witness tx", params: []any{txBHex, false}, wantCode: -22},
		{name: "not hex", params: []any{"zz"}, wantCode: -22},
		{name: "odd length", params: []any{txAHex[1:]}, wantCode: -22},
		{name: "empty", params: []any{""}, wantCode: -22},
		{name: "one byte", params: []any{"00"}, wantCode: -22},
		{name: "truncated", params: []any{txAHex[:len(txAHex)-2]}, wantCode: -22},
		{name: "trailing bytes", params: []any{txAHex + "00"}, wantCode: -22},
		{name: "a block", params: []any{blockHex(r.g.Block("b101"))}, wantCode: -22},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, "decoderawtransaction", test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, "TX decode failed")
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		t.Run(test.name, func(t *testing.T) { test.check(t, res) })
	}
}

// TestDecodeScript ensures decodescript shows Core's type, address, P2SH
// wrapping and segwit form for each kind of script.
func TestDecodeScript(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	params := r.net.AddressParams()
	p2shOf := func(script []byte) string {
		a, err := btcutil.NewAddressScriptHash(script, params)
		if err != nil {
			t.Fatal(err)
		}
		return a.EncodeAddress()
	}
	opTrueHash := sha256Sum(r.p2shRedeem)
	p2wsh, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(opTrueHash[:]).Script()
	p2wshAddr, _ := btcutil.NewAddressWitnessScriptHash(opTrueHash[:], params)
	xOnly := schnorr.SerializePubKey(r.key.PubKey())
	p2tr, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_1).AddData(xOnly).Script()
	p2trAddr, _ := btcutil.NewAddressTaproot(xOnly, params)
	p2pk, _ := txscript.NewScriptBuilder().AddData(r.key.PubKey().SerializeCompressed()).AddOp(txscript.OP_CHECKSIG).Script()
	multisig, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_1).AddData(r.key.PubKey().SerializeCompressed()).
		AddOp(txscript.OP_1).AddOp(txscript.OP_CHECKMULTISIG).Script()
	nullData, _ := txscript.NullDataScript([]byte("cairn"))
	witnessV2, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_2).AddData(bytes.Repeat([]byte{7}, 32)).Script()

	// segwitOfScript is the P2WSH form of script.
	segwitOfScript := func(script []byte) (string, string) {
		h := sha256Sum(script)
		a, _ := btcutil.NewAddressWitnessScriptHash(h[:], params)
		pk, _ := txscript.PayToAddrScript(a)
		return a.EncodeAddress(), hex.EncodeToString(pk)
	}
	type segwit struct {
		Type, Address, Hex string
		P2SHSegwit         string `json:"p2sh-segwit"`
	}
	tests := []struct {
		name        string
		script      []byte
		wantType    string
		wantAddress string
		wantP2SH    bool
		wantSegwit  string // segwit type, "" for none
		segwitAddr  string
	}{
		{name: "P2PKH", script: r.p2pkhPkScript, wantType: "pubkeyhash", wantAddress: r.p2pkhAddr, wantP2SH: true,
			wantSegwit: "witness_v0_keyhash", segwitAddr: r.p2wpkhAddr},
		{name: "P2WPKH", script: r.p2wpkhPkScript, wantType: "witness_v0_keyhash", wantAddress: r.p2wpkhAddr, wantP2SH: true},
		{name: "P2SH", script: r.txC.TxOut[1].PkScript, wantType: "scripthash", wantAddress: r.p2shAddr},
		{name: "P2WSH", script: p2wsh, wantType: "witness_v0_scripthash", wantAddress: p2wshAddr.EncodeAddress(), wantP2SH: true},
		{name: "P2TR", script: p2tr, wantType: "witness_v1_taproot", wantAddress: p2trAddr.EncodeAddress()},
		{name: "unknown witness version", script: witnessV2, wantType: "witness_unknown",
			wantAddress: func() string {
				// Core encodes any witness program as a bech32m address.
				prog, _ := bech32.ConvertBits(bytes.Repeat([]byte{7}, 32), 8, 5, true)
				a, _ := bech32.EncodeM(params.Bech32HRPSegwit, append([]byte{2}, prog...))
				return a
			}()},
		{name: "OP_RETURN", script: nullData, wantType: "nulldata"},
		{name: "P2PK", script: p2pk, wantType: "pubkey", wantP2SH: true, wantSegwit: "witness_v0_keyhash", segwitAddr: r.p2wpkhAddr},
		{name: "bare multisig", script: multisig, wantType: "multisig", wantP2SH: true, wantSegwit: "witness_v0_scripthash"},
		{name: "OP_TRUE", script: []byte{txscript.OP_TRUE}, wantType: "nonstandard", wantP2SH: true, wantSegwit: "witness_v0_scripthash"},
		{name: "empty", script: []byte{}, wantType: "nonstandard", wantP2SH: true, wantSegwit: "witness_v0_scripthash"},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, "decodescript", hex.EncodeToString(test.script))
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		m := object(t, res)
		var d struct {
			Asm, Type, Address, P2SH string
			Segwit                   *segwit
		}
		decode(t, res, &d)
		asm, _ := txscript.DisasmString(test.script)
		if d.Asm != asm || d.Type != test.wantType || d.Address != test.wantAddress {
			t.Errorf("%q: asm %q type %s address %q; want %q %s %q", test.name, d.Asm, d.Type, d.Address, asm, test.wantType, test.wantAddress)
		}
		if _, ok := m["p2sh"]; ok != test.wantP2SH {
			t.Errorf("%q: p2sh %s, want present %v", test.name, m["p2sh"], test.wantP2SH)
		} else if ok && d.P2SH != p2shOf(test.script) {
			t.Errorf("%q: p2sh %s, want %s", test.name, d.P2SH, p2shOf(test.script))
		}
		switch {
		case test.wantSegwit == "" && d.Segwit != nil:
			t.Errorf("%q: segwit %+v, want none", test.name, *d.Segwit)
		case test.wantSegwit != "" && d.Segwit == nil:
			t.Errorf("%q: no segwit, want %s", test.name, test.wantSegwit)
		case test.wantSegwit != "":
			checkKeys(t, test.name+" segwit", object(t, m["segwit"]), "asm", "hex", "type", "address", "p2sh-segwit")
			wantAddr, wantHex := segwitOfScript(test.script)
			if test.segwitAddr != "" {
				wantAddr = test.segwitAddr
				wantHex = hex.EncodeToString(r.p2wpkhPkScript)
			}
			wantBytes, _ := hex.DecodeString(wantHex)
			if d.Segwit.Type != test.wantSegwit || d.Segwit.Address != wantAddr || d.Segwit.Hex != wantHex ||
				d.Segwit.P2SHSegwit != p2shOf(wantBytes) {
				t.Errorf("%q: segwit %+v, want type %s address %s hex %s p2sh-segwit %s",
					test.name, *d.Segwit, test.wantSegwit, wantAddr, wantHex, p2shOf(wantBytes))
			}
		}
	}

	errTests := []struct {
		name string
		arg  string
	}{
		{name: "not hex", arg: "zz"},
		{name: "odd length", arg: "abc"},
	}
	for _, test := range errTests {
		_, rerr := call(t, r.srv, "decodescript", test.arg)
		checkErr(t, test.name, rerr, -8, "must be hexadecimal")
	}
}

// TestValidateAddress ensures validateaddress accepts every address type of
// its network with Core's fields, and rejects other networks' addresses
// and garbage with isvalid false and an error.
func TestValidateAddress(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	params := r.net.AddressParams()
	pkHash := btcutil.Hash160(r.key.PubKey().SerializeCompressed())
	opTrueHash := sha256Sum(r.p2shRedeem)
	xOnly := schnorr.SerializePubKey(r.key.PubKey())
	p2wsh, _ := btcutil.NewAddressWitnessScriptHash(opTrueHash[:], params)
	p2tr, _ := btcutil.NewAddressTaproot(xOnly, params)
	mainNet := chainparams.Main().AddressParams()
	mainWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(pkHash, mainNet)
	mainPKH, _ := btcutil.NewAddressPubKeyHash(pkHash, mainNet)
	testWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(pkHash, chainparams.Test().AddressParams())
	btcWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(pkHash, &chaincfg.MainNetParams)
	btcTestWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(pkHash, &chaincfg.TestNet3Params)
	script := func(a btcutil.Address) string {
		pk, _ := txscript.PayToAddrScript(a)
		return hex.EncodeToString(pk)
	}
	badChecksum := r.p2wpkhAddr[:len(r.p2wpkhAddr)-1] + map[bool]string{true: "q", false: "p"}[!strings.HasSuffix(r.p2wpkhAddr, "q")]

	type valid struct {
		script     string
		isScript   bool
		isWitness  bool
		version    int // -1: no witness fields
		program    string
		normalized string // the address as answered, when it differs
	}
	tests := []struct {
		name    string
		address any
		valid   *valid
	}{
		{name: "P2WPKH", address: r.p2wpkhAddr, valid: &valid{script: hex.EncodeToString(r.p2wpkhPkScript),
			isWitness: true, version: 0, program: hex.EncodeToString(pkHash)}},
		{name: "P2WSH", address: p2wsh.EncodeAddress(), valid: &valid{script: script(p2wsh), isScript: true,
			isWitness: true, version: 0, program: hex.EncodeToString(opTrueHash[:])}},
		{name: "P2TR", address: p2tr.EncodeAddress(), valid: &valid{script: script(p2tr), isScript: true,
			isWitness: true, version: 1, program: hex.EncodeToString(xOnly)}},
		{name: "P2PKH", address: r.p2pkhAddr, valid: &valid{script: hex.EncodeToString(r.p2pkhPkScript), version: -1}},
		{name: "P2SH", address: r.p2shAddr, valid: &valid{script: hex.EncodeToString(r.txC.TxOut[1].PkScript), isScript: true, version: -1}},
		{name: "upper-case bech32", address: strings.ToUpper(r.p2wpkhAddr), valid: &valid{script: hex.EncodeToString(r.p2wpkhPkScript),
			isWitness: true, version: 0, program: hex.EncodeToString(pkHash), normalized: r.p2wpkhAddr}},
		{name: "main network bech32", address: mainWPKH.EncodeAddress()},
		{name: "main network base58", address: mainPKH.EncodeAddress()},
		{name: "test network bech32", address: testWPKH.EncodeAddress()},
		{name: "Bitcoin main bech32", address: btcWPKH.EncodeAddress()},
		{name: "Bitcoin testnet bech32", address: btcTestWPKH.EncodeAddress()},
		{name: "bad checksum", address: badChecksum},
		{name: "garbage", address: "notanaddress"},
		{name: "empty", address: ""},
		{name: "hex pubkey", address: hex.EncodeToString(r.key.PubKey().SerializeCompressed())},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, "validateaddress", test.address)
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		m := object(t, res)
		var got struct {
			IsValid        bool   `json:"isvalid"`
			Address        string `json:"address"`
			ScriptPubKey   string `json:"scriptPubKey"`
			IsScript       bool   `json:"isscript"`
			IsWitness      bool   `json:"iswitness"`
			WitnessVersion int    `json:"witness_version"`
			WitnessProgram string `json:"witness_program"`
			Error          string `json:"error"`
		}
		decode(t, res, &got)
		if test.valid == nil {
			if got.IsValid || got.Error == "" {
				t.Errorf("%q (%v): %s; want isvalid false with an error", test.name, test.address, res)
			}
			for k := range m {
				if k != "isvalid" && k != "error" && k != "error_locations" {
					t.Errorf("%q: unexpected field %s of an invalid address", test.name, k)
				}
			}
			continue
		}
		v := test.valid
		want := []string{"isvalid", "address", "scriptPubKey", "isscript", "iswitness"}
		if v.version >= 0 {
			want = append(want, "witness_version", "witness_program")
		}
		checkKeys(t, test.name, m, want...)
		addr := fmt.Sprint(test.address)
		if v.normalized != "" {
			addr = v.normalized
		}
		if !got.IsValid || got.Address != addr || got.ScriptPubKey != v.script || got.IsScript != v.isScript ||
			got.IsWitness != v.isWitness || (v.version >= 0 && (got.WitnessVersion != v.version || got.WitnessProgram != v.program)) {
			t.Errorf("%q: got %s; want %+v", test.name, res, *v)
		}
	}
}

// TestSubmitBlock ensures submitblock answers null for a new tip and
// Core's BIP22 strings otherwise, and -22 for bytes that are not a block:
//
//	genesis -> b1 -> b2 -> b3 -> b4 -> b5 -> b6
//	                  |     |     \-> bad4 -> bad5
//	                  |     \-> nocb4
//	                  \-> s3
func TestSubmitBlock(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 3})
	g := n.g
	g.NextBlock("b4", nil, nil)
	g.NextBlock("b5", nil, nil)
	g.NextBlock("b6", nil, nil)
	g.SetTip("b2")
	g.NextBlock("s3", nil, nil)
	g.SetTip("b3")
	g.NextBlock("bad4", nil, nil, addCoinbaseValue(1))
	g.NextBlock("bad5", nil, nil)
	g.SetTip("b3")
	spend := chaintest.CreateSpendTx(g.CoinbaseOut("b1"), 1)
	g.NextBlock("nocb4", nil, []*wire.MsgTx{spend}, func(b *wire.MsgBlock) { b.Transactions = b.Transactions[1:] })

	// b4 with a changed coinbase: same header, wrong merkle root.
	mutated := chaintest.CopyBlock(g.Block("b4"))
	mutated.Transactions[0].TxIn[0].SignatureScript = append(mutated.Transactions[0].TxIn[0].SignatureScript, 0)
	hexes := map[string]string{"mutated b4": blockHex(mutated)}
	for _, name := range []string{"b4", "b5", "b6", "s3", "bad4", "bad5", "nocb4"} {
		hexes[name] = blockHex(g.Block(name))
	}
	emptyBlock := headerHex(&g.Block("b4").Header) + "00"

	steps := []struct {
		name     string
		hex      string
		want     string // JSON result
		wantCode int
		wantMsg  string
		tip      string
	}{
		{name: "side block", hex: hexes["s3"], want: `"inconclusive"`, tip: "b3"},
		{name: "bad merkle root", hex: hexes["mutated b4"], want: `"bad-txnmrklroot"`, tip: "b3"},
		{name: "bad coinbase amount", hex: hexes["bad4"], want: `"bad-cb-amount"`, tip: "b3"},
		{name: "invalid again", hex: hexes["bad4"], want: `"duplicate-invalid"`, tip: "b3"},
		{name: "child of an invalid block", hex: hexes["bad5"], want: `"bad-prevblk"`, tip: "b3"},
		{name: "first tx not a coinbase", hex: hexes["nocb4"], wantCode: -22, wantMsg: "Block does not start with a coinbase"},
		{name: "no transactions", hex: emptyBlock, wantCode: -22, wantMsg: "Block does not start with a coinbase"},
		{name: "valid after the mutated copy", hex: hexes["b4"], want: "null", tip: "b4"},
		{name: "duplicate", hex: hexes["b4"], want: `"duplicate"`, tip: "b4"},
		{name: "orphan", hex: hexes["b6"], want: `"prev-blk-not-found"`, tip: "b4"},
		{name: "parent of the orphan", hex: hexes["b5"], want: "null", tip: "b5"},
		{name: "orphan again", hex: hexes["b6"], want: "null", tip: "b6"},
		{name: "not hex", hex: "zz", wantCode: -22, wantMsg: "Block decode failed"},
		{name: "empty", hex: "", wantCode: -22, wantMsg: "Block decode failed"},
		{name: "header only", hex: headerHex(&g.Block("b4").Header), wantCode: -22, wantMsg: "Block decode failed"},
		{name: "truncated", hex: hexes["b5"][:len(hexes["b5"])-2], wantCode: -22, wantMsg: "Block decode failed"},
		{name: "trailing bytes", hex: hexes["b5"] + "00", wantCode: -22, wantMsg: "Block decode failed"},
	}
	for _, step := range steps {
		res, rerr := call(t, n.srv, "submitblock", step.hex)
		if step.wantCode != 0 {
			checkErr(t, step.name, rerr, step.wantCode, step.wantMsg)
			continue
		}
		if rerr != nil || string(res) != step.want {
			t.Errorf("%q: %s %v, want %s", step.name, res, rerr, step.want)
		}
		if got := n.chain.BestSnapshot().Hash.String(); got != n.hash(step.tip) {
			t.Errorf("%q: tip %s, want %s", step.name, g.NameOf(n.chain.BestSnapshot().Hash), step.tip)
		}
	}
	// The optional dummy argument is ignored.
	if res, rerr := call(t, n.srv, "submitblock", hexes["b6"], "ignored"); rerr != nil || string(res) != `"duplicate"` {
		t.Errorf("with dummy: %s %v, want \"duplicate\"", res, rerr)
	}
}

// TestSubmitBlockHostileBytes ensures submitblock, submitheader and
// decoderawtransaction answer hostile bytes without panicking.
func TestSubmitBlockHostileBytes(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 2})
	n.g.NextBlock("b3", nil, nil)
	valid := blockHex(n.g.Block("b3"))
	header := headerHex(&n.g.Block("b3").Header)
	inputs := []string{
		header + "ff" + "ffffffffffffffff",                      // 2^64-1 transactions
		header + "fe" + "ffffffff",                              // 2^32-1 transactions
		header + "fd" + "ffff",                                  // 65535 transactions, none there
		header + "01" + "01000000" + "ff" + "ffffffffffffffff",  // a tx with 2^64-1 inputs
		header + "01" + "01000000" + "0001" + "ff" + "ffffffff", // witness flag then a huge count
		valid[:len(valid)/2],
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.Intn(300))
		rng.Read(b)
		inputs = append(inputs, hex.EncodeToString(b))
	}
	raw, _ := hex.DecodeString(valid)
	for i := 0; i < 200; i++ {
		b := append([]byte(nil), raw...)
		for j := 0; j < 1+rng.Intn(3); j++ {
			b[80+rng.Intn(len(b)-80)] ^= byte(1 + rng.Intn(255))
		}
		inputs = append(inputs, hex.EncodeToString(b))
	}
	for i, in := range inputs {
		for _, method := range []string{"submitblock", "submitheader", "decoderawtransaction"} {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s of input %d (%.64s...) panicked: %v", method, i, in, p)
					}
				}()
				res, rerr := call(t, n.srv, method, in)
				if rerr == nil && res == nil {
					t.Errorf("%s of input %d: neither result nor error", method, i)
				}
			}()
		}
	}
}

// TestSubmitHeader ensures submitheader accepts a header whose parent is
// known (null), and returns -25 for an unknown parent or a header that
// breaks a rule and -22 for bytes that are not a header.
func TestSubmitHeader(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 2})
	g := n.g
	g.NextBlock("b3", nil, nil)
	g.NextBlock("b4", nil, nil)
	g.NextBlock("b5", nil, nil)
	g.SetTip("b3")
	g.NextBlock("easy4", nil, nil, func(b *wire.MsgBlock) { b.Header.Bits = 0x207ffffe })
	highHash := g.Block("b4").Header
	target, _, _ := consensus.CompactToBig(highHash.Bits)
	for {
		highHash.Nonce++
		h := consensus.BlockHash(&highHash)
		if consensus.HashToBig(&h).Cmp(target) > 0 {
			break
		}
	}
	h3 := headerHex(&g.Block("b3").Header)
	tests := []struct {
		name     string
		hex      string
		wantCode int
		wantMsg  string
	}{
		{name: "next header", hex: h3},
		{name: "same header again", hex: h3},
		{name: "unknown parent", hex: headerHex(&g.Block("b5").Header), wantCode: -25,
			wantMsg: "Must submit previous header (" + n.hash("b4") + ") first"},
		{name: "proof of work not met", hex: headerHex(&highHash), wantCode: -25, wantMsg: "high-hash"},
		{name: "wrong difficulty", hex: headerHex(&g.Block("easy4").Header), wantCode: -25, wantMsg: "bad-diffbits"},
		{name: "not hex", hex: "xx", wantCode: -22, wantMsg: "Block header decode failed"},
		{name: "79 bytes", hex: h3[:158], wantCode: -22, wantMsg: "Block header decode failed"},
		{name: "81 bytes", hex: h3 + "00", wantCode: -22, wantMsg: "Block header decode failed"},
		{name: "a whole block", hex: blockHex(g.Block("b3")), wantCode: -22, wantMsg: "Block header decode failed"},
		{name: "parent header, then the orphan", hex: headerHex(&g.Block("b4").Header)},
		{name: "orphan after its parent", hex: headerHex(&g.Block("b5").Header)},
	}
	for _, test := range tests {
		res, rerr := call(t, n.srv, "submitheader", test.hex)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil || string(res) != "null" {
			t.Errorf("%q: %s %v, want null", test.name, res, rerr)
		}
	}
	// The headers are known, their blocks are not; the tip has not moved.
	var hdr verboseBlock
	decode(t, mustCall(t, n.srv, "getblockheader", n.hash("b5")), &hdr)
	if hdr.Height != 5 || hdr.Confirmations != -1 {
		t.Errorf("header b5: height %d confirmations %d, want 5, -1", hdr.Height, hdr.Confirmations)
	}
	_, rerr := call(t, n.srv, "getblock", n.hash("b3"))
	checkErr(t, "block of a submitted header", rerr, -1, "Block not available")
	if got := string(mustCall(t, n.srv, "getblockcount")); got != "2" {
		t.Errorf("getblockcount %s, want 2", got)
	}
	// The block of a known header is then accepted as the tip.
	if res := mustCall(t, n.srv, "submitblock", blockHex(g.Block("b3"))); string(res) != "null" {
		t.Errorf("submitblock after its header: %s, want null", res)
	}
	if got := string(mustCall(t, n.srv, "getblockcount")); got != "3" {
		t.Errorf("getblockcount %s, want 3", got)
	}
}

// TestGenerateToAddress ensures generatetoaddress hands the generator the
// address's script, block count and tries, and refuses bad arguments,
// networks without generation and a node without a generator.
func TestGenerateToAddress(t *testing.T) {
	t.Parallel()
	gen := &fakeGenerator{}
	n, p2pkh, p2wpkh, pkhScript, wpkhScript := generateNode(t, gen, nil)
	mainAddr, _ := btcutil.NewAddressPubKeyHash(bytes.Repeat([]byte{9}, 20), chainparams.Main().AddressParams())
	tests := []struct {
		name      string
		params    []any
		wantN     int
		wantTries uint64
		wantPk    []byte
		wantCode  int
		wantMsg   string
	}{
		{name: "P2PKH address", params: []any{2, p2pkh}, wantN: 2, wantTries: 1_000_000, wantPk: pkhScript},
		{name: "bech32 address", params: []any{1, p2wpkh}, wantN: 1, wantTries: 1_000_000, wantPk: wpkhScript},
		{name: "maxtries", params: []any{3, p2pkh, 7}, wantN: 3, wantTries: 7, wantPk: pkhScript},
		{name: "no blocks", params: []any{0, p2pkh}, wantN: 0, wantTries: 1_000_000, wantPk: pkhScript},
		{name: "negative nblocks", params: []any{-1, p2pkh}, wantCode: -8, wantMsg: "nblocks"},
		{name: "too many blocks", params: []any{100_001, p2pkh}, wantCode: -8, wantMsg: "nblocks"},
		{name: "zero maxtries", params: []any{1, p2pkh, 0}, wantCode: -8, wantMsg: "maxtries"},
		{name: "negative maxtries", params: []any{1, p2pkh, -5}, wantCode: -8, wantMsg: "maxtries"},
		{name: "garbage address", params: []any{1, "xyz"}, wantCode: -5, wantMsg: "Invalid address"},
		{name: "empty address", params: []any{1, ""}, wantCode: -5, wantMsg: "Invalid address"},
		{name: "main network address", params: []any{1, mainAddr.EncodeAddress()}, wantCode: -5, wantMsg: "Invalid address"},
		{name: "address as number", params: []any{1, 5}, wantCode: -3},
		{name: "missing address", params: []any{1}, wantCode: -1, wantMsg: `"address"`},
	}
	for _, test := range tests {
		before := gen.callCount()
		res, rerr := call(t, n.srv, "generatetoaddress", test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			if gen.callCount() != before {
				t.Errorf("%q: the generator was called", test.name)
			}
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		got := gen.lastCall(t)
		if got.n != test.wantN || got.maxTries != test.wantTries || !bytes.Equal(got.pkScript, test.wantPk) {
			t.Errorf("%q: generator got n %d tries %d script %x; want %d %d %x", test.name,
				got.n, got.maxTries, got.pkScript, test.wantN, test.wantTries, test.wantPk)
		}
		var hashes []string
		decode(t, res, &hashes)
		if len(hashes) != test.wantN {
			t.Errorf("%q: %d hashes, want %d", test.name, len(hashes), test.wantN)
		}
		for i, h := range hashes {
			if want := chainhashOf(i); h != want {
				t.Errorf("%q: hash %d %s, want %s", test.name, i, h, want)
			}
		}
	}

	// Failures of the generator, and servers that may not generate.
	failing, fp2pkh, _, _, _ := generateNode(t, &fakeGenerator{err: errors.New("mining interrupted")}, nil)
	_, rerr := call(t, failing.srv, "generatetoaddress", 1, fp2pkh)
	checkErr(t, "generator error", rerr, -1, "mining interrupted")

	noGen := regtestWithoutGenerate()
	refusing, rp2pkh, _, _, _ := generateNode(t, &fakeGenerator{}, noGen)
	_, rerr = call(t, refusing.srv, "generatetoaddress", 1, rp2pkh)
	checkErr(t, "AllowGenerate false", rerr, -1, "only available on regtest")

	testNet, tp2pkh, _, _, _ := generateNode(t, &fakeGenerator{}, chainparams.Test())
	_, rerr = call(t, testNet.srv, "generatetoaddress", 1, tp2pkh)
	checkErr(t, "test network", rerr, -1, "only available on regtest")

	none, np2pkh, _, _, _ := generateNode(t, nil, nil)
	_, rerr = call(t, none.srv, "generatetoaddress", 1, np2pkh)
	checkErr(t, "no generator", rerr, -1, "no block generator")
}

// TestGenerateBlock ensures generateblock hands the generator the address's
// script and the decoded transactions, returns the hash (and the hex when
// not submitting), and returns Core's errors.
func TestGenerateBlock(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	gen := &fakeGenerator{}
	n, p2pkh, p2wpkh, pkhScript, wpkhScript := generateNode(t, gen, nil)
	txAHex, txBHex := txHexString(r.txA), txHexString(r.txB)
	tests := []struct {
		name       string
		params     []any
		wantPk     []byte
		wantTxs    []string
		wantSubmit bool
		wantCode   int
		wantMsg    string
	}{
		{name: "one transaction", params: []any{p2pkh, []string{txAHex}}, wantPk: pkhScript, wantTxs: []string{txAHex}, wantSubmit: true},
		{name: "no transactions", params: []any{p2pkh, []string{}}, wantPk: pkhScript, wantSubmit: true},
		{name: "bech32 address", params: []any{p2wpkh, []string{}}, wantPk: wpkhScript, wantSubmit: true},
		{name: "submit false", params: []any{p2pkh, []string{txBHex, txAHex}, false}, wantPk: pkhScript,
			wantTxs: []string{txBHex, txAHex}, wantSubmit: false},
		{name: "submit true", params: []any{p2pkh, []string{txBHex}, true}, wantPk: pkhScript, wantTxs: []string{txBHex}, wantSubmit: true},
		{name: "txid not in mempool", params: []any{p2pkh, []string{r.txA.TxHash().String()}}, wantCode: -5,
			wantMsg: "Transaction " + r.txA.TxHash().String() + " not in mempool."},
		{name: "undecodable tx", params: []any{p2pkh, []string{"00"}}, wantCode: -22, wantMsg: "Transaction decode failed"},
		{name: "not hex", params: []any{p2pkh, []string{"zz"}}, wantCode: -22, wantMsg: "Transaction decode failed"},
		{name: "transactions not an array", params: []any{p2pkh, "x"}, wantCode: -3},
		{name: "transaction not a string", params: []any{p2pkh, []any{1}}, wantCode: -3},
		{name: "bad address", params: []any{"xyz", []string{}}, wantCode: -5, wantMsg: "Invalid address"},
		{name: "submit not a bool", params: []any{p2pkh, []string{}, "no"}, wantCode: -3},
		{name: "missing transactions", params: []any{p2pkh}, wantCode: -1, wantMsg: `"transactions"`},
	}
	for _, test := range tests {
		before := gen.callCount()
		res, rerr := call(t, n.srv, "generateblock", test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			if gen.callCount() != before {
				t.Errorf("%q: the generator was called", test.name)
			}
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		got := gen.lastBlockCall(t)
		var gotTxs []string
		for _, tx := range got.txs {
			gotTxs = append(gotTxs, txHexString(tx))
		}
		if !bytes.Equal(got.pkScript, test.wantPk) || strings.Join(gotTxs, ",") != strings.Join(test.wantTxs, ",") ||
			got.submit != test.wantSubmit {
			t.Errorf("%q: generator got script %x, %d txs, submit %v; want %x, %d, %v", test.name,
				got.pkScript, len(got.txs), got.submit, test.wantPk, len(test.wantTxs), test.wantSubmit)
		}
		m := object(t, res)
		if test.wantSubmit {
			checkKeys(t, test.name, m, "hash")
		} else {
			checkKeys(t, test.name, m, "hash", "hex")
			raw, err := hex.DecodeString(str(t, m["hex"]))
			if err != nil {
				t.Fatalf("%q: hex: %v", test.name, err)
			}
			b, err := consensus.DecodeBlock(raw)
			if err != nil {
				t.Fatalf("%q: hex is not a block: %v", test.name, err)
			}
			if b.BlockHash().String() != str(t, m["hash"]) || len(b.Transactions) != len(test.wantTxs)+1 {
				t.Errorf("%q: block %s with %d txs, want hash %s with %d", test.name, b.BlockHash(),
					len(b.Transactions), m["hash"], len(test.wantTxs)+1)
			}
		}
	}

	// Generator failures and refusals.
	ruleErr := consensus.RuleError{Err: consensus.ErrBadCoinbaseValue, Description: "coinbase pays too much"}
	failTests := []struct {
		name     string
		gen      Generator
		net      *chainparams.Network
		wantCode int
		wantMsg  string
	}{
		{name: "rule error", gen: &fakeGenerator{err: fmt.Errorf("test block: %w", ruleErr)}, wantCode: -25,
			wantMsg: "TestBlockValidity failed: bad-cb-amount"},
		{name: "other error", gen: &fakeGenerator{err: errors.New("context canceled")}, wantCode: -1, wantMsg: "context canceled"},
		{name: "AllowGenerate false", gen: &fakeGenerator{}, net: regtestWithoutGenerate(), wantCode: -1, wantMsg: "only available on regtest"},
		{name: "no generator", gen: nil, wantCode: -1, wantMsg: "no block generator"},
	}
	for _, test := range failTests {
		fn, addr, _, _, _ := generateNode(t, test.gen, test.net)
		_, rerr := call(t, fn.srv, "generateblock", addr, []string{})
		checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
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

// TestGetIndexInfo ensures getindexinfo lists the transaction index and the
// basic block filter index when they are on, by name or not, and nothing
// otherwise.
func TestGetIndexInfo(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	off := newTestNode(t, nodeConfig{blocks: 1})
	filterOnly := newTestNode(t, nodeConfig{blocks: 2, filters: true})
	const (
		txOn     = `{"txindex":{"synced":true,"best_block_height":103}}`
		filterOn = `{"basic block filter index":{"synced":true,"best_block_height":103}}`
		on       = `{"basic block filter index":{"synced":true,"best_block_height":103},"txindex":{"synced":true,"best_block_height":103}}`
	)
	tests := []struct {
		name   string
		srv    *Server
		params []any
		want   string
	}{
		{name: "txindex on", srv: r.srv, want: on},
		{name: "txindex on, by name", srv: r.srv, params: []any{"txindex"}, want: txOn},
		{name: "filter index on, by name", srv: r.srv, params: []any{"basic block filter index"}, want: filterOn},
		{name: "filter index only", srv: filterOnly.srv, want: `{"basic block filter index":{"synced":true,"best_block_height":2}}`},
		{name: "txindex on, other index", srv: r.srv, params: []any{"coinstatsindex"}, want: `{}`},
		{name: "txindex off", srv: off.srv, want: `{}`},
		{name: "txindex off, by name", srv: off.srv, params: []any{"txindex"}, want: `{}`},
		{name: "filter index off, by name", srv: off.srv, params: []any{"basic block filter index"}, want: `{}`},
	}
	for _, test := range tests {
		res, rerr := call(t, test.srv, "getindexinfo", test.params...)
		if rerr != nil || string(res) != test.want {
			t.Errorf("%q: %s %v, want %s", test.name, res, rerr, test.want)
		}
	}
}

// TestGetNetworkInfo ensures getnetworkinfo answers with Core's fields,
// which clients read to learn the node's version.
func TestGetNetworkInfo(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	res := mustCall(t, r.srv, "getnetworkinfo")
	m := object(t, res)
	for _, k := range []string{"version", "subversion", "protocolversion", "localservices", "localrelay", "timeoffset",
		"networkactive", "connections", "connections_in", "connections_out", "networks", "relayfee",
		"incrementalfee", "localaddresses", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %s", k, res)
		}
	}
	var info struct {
		Version    int     `json:"version"`
		SubVersion string  `json:"subversion"`
		RelayFee   float64 `json:"relayfee"`
	}
	decode(t, res, &info)
	if info.Version <= 0 || !strings.HasPrefix(info.SubVersion, "/") || !strings.HasSuffix(info.SubVersion, "/") ||
		info.RelayFee <= 0 {
		t.Errorf("got %+v; want a positive version, a /Name:x.y.z/ subversion and a relay fee", info)
	}
	_, rerr := call(t, r.srv, "getnetworkinfo", 1)
	checkErr(t, "with a parameter", rerr, -1, "too many parameters")
}

// TestStorageFailures ensures storage failures behind the handlers come
// back as Core's errors (-20 database, -32603 for the UTXO walk, -1
// otherwise) rather than as results or panics.
func TestStorageFailures(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 2})
	n.g.NextBlock("b3", nil, nil)
	fc := &failingChain{BlockChain: n.chain, err: fmt.Errorf("%w: bad block record", chain.ErrCorruptDatabase)}
	s := newServer(t, Config{User: testUser, Password: testPass, Chain: fc})
	b1 := n.hash("b1")
	cb := n.g.Block("b1").Transactions[0].TxHash().String()
	tests := []struct {
		name     string
		method   string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "getblock", method: "getblock", params: []any{b1}, wantCode: -20, wantMsg: "Can't read block from disk"},
		{name: "gettxout", method: "gettxout", params: []any{cb, 0}, wantCode: -20},
		{name: "gettxoutsetinfo", method: "gettxoutsetinfo", wantCode: -32603, wantMsg: "Unable to read UTXO set"},
		{name: "getrawtransaction in a block", method: "getrawtransaction", params: []any{cb, false, b1}, wantCode: -1, wantMsg: "Block not available"},
		{name: "submitblock", method: "submitblock", params: []any{blockHex(n.g.Block("b3"))}, wantCode: -1, wantMsg: "bad block record"},
		{name: "submitheader", method: "submitheader", params: []any{headerHex(&n.g.Block("b3").Header)}, wantCode: -1, wantMsg: "bad block record"},
		{name: "invalidateblock", method: "invalidateblock", params: []any{b1}, wantCode: -20, wantMsg: "bad block record"},
		{name: "reconsiderblock", method: "reconsiderblock", params: []any{b1}, wantCode: -20, wantMsg: "bad block record"},
	}
	for _, test := range tests {
		_, rerr := call(t, s, test.method, test.params...)
		checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
	}
	// getblockheader needs no block data: it still answers, with nTx 0.
	var hdr verboseBlock
	decode(t, mustCall(t, s, "getblockheader", b1), &hdr)
	if hdr.Height != 1 || hdr.NTx != 0 {
		t.Errorf("getblockheader: height %d nTx %d, want 1, 0", hdr.Height, hdr.NTx)
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
