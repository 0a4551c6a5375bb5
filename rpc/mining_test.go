package rpc

import (
	"encoding/hex"
	"errors"
	"math/big"
	"math/rand"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

// fakeRate is a local miner's rate.
type fakeRate float64

func (f fakeRate) HashesPerSec() float64 { return float64(f) }

// TestGetMiningInfo ensures getmininginfo has Core's fields and the local
// miner's hashespersec (zero without a miner).
func TestGetMiningInfo(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 5})
	var info map[string]any
	decode(t, mustCall(t, n.srv, "getmininginfo"), &info)
	for _, k := range []string{"blocks", "currentblocktx", "currentblockweight", "difficulty", "networkhashps", "pooledtx", "chain", "hashespersec", "warnings"} {
		if _, ok := info[k]; !ok {
			t.Errorf("getmininginfo lacks %q", k)
		}
	}
	if info["blocks"].(float64) != 5 || info["chain"] != "regtest" || info["hashespersec"].(float64) != 0 {
		t.Errorf("getmininginfo = %v", info)
	}
	n.srv.cfg.Mining = fakeRate(1234.5)
	decode(t, mustCall(t, n.srv, "getmininginfo"), &info)
	if info["hashespersec"].(float64) != 1234.5 {
		t.Errorf("hashespersec = %v, want the miner's 1234.5", info["hashespersec"])
	}
}

// TestGetNetworkHashPS ensures the estimate is work over time of the last
// blocks, and its parameter errors.
func TestGetNetworkHashPS(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{blocks: 10})
	var ps float64
	decode(t, mustCall(t, n.srv, "getnetworkhashps"), &ps)
	// Regtest blocks carry work 2 each and the generator spaces them one
	// second apart: 10 blocks, 2 work each, over 10 seconds (genesis to b10).
	if ps != 2 {
		t.Errorf("getnetworkhashps = %v, want 2", ps)
	}
	decode(t, mustCall(t, n.srv, "getnetworkhashps", 5, 5), &ps)
	if ps != 2 {
		t.Errorf("getnetworkhashps 5 5 = %v, want 2", ps)
	}
	_, rerr := call(t, n.srv, "getnetworkhashps", 5, 11)
	checkErr(t, "height past tip", rerr, -8, "does not exist")
	_, rerr = call(t, n.srv, "getnetworkhashps", "x")
	checkErr(t, "nblocks type", rerr, -3, "")
}

// TestGetBlockTemplate ensures template mode needs the segwit rule and
// shapes the generator's template as BIP22/23 and Core do.
func TestGetBlockTemplate(t *testing.T) {
	t.Parallel()
	spend := chaintest.CreateSpendTx(chaintest.SpendableOut{OutPoint: wire.OutPoint{Index: 3}, Amount: 1000}, 10)
	gen := &fakeGenerator{template: &BlockTemplate{
		Height: 7, Version: 0x20000000, Bits: 0x207fffff, Target: big.NewInt(0xffff),
		CurTime: time.Unix(1800000000, 0), MinTime: time.Unix(1799999000, 0),
		Txs:           []TemplateTx{{Tx: spend, Fee: 10, SigOpCost: 4, Weight: 400}, {Tx: spend, Fee: 1, Depends: []int{1}}},
		CoinbaseValue: 5000000011, WitnessCommitment: []byte{0x6a, 0x24},
	}}
	n := newTestNode(t, nodeConfig{generator: gen})
	segwit := map[string]any{"rules": []string{"segwit"}}
	var tmpl map[string]any
	decode(t, mustCall(t, n.srv, "getblocktemplate", segwit), &tmpl)
	for _, k := range []string{"capabilities", "version", "rules", "vbavailable", "vbrequired", "previousblockhash",
		"transactions", "coinbaseaux", "coinbasevalue", "longpollid", "target", "mintime", "mutable", "noncerange",
		"sigoplimit", "sizelimit", "weightlimit", "curtime", "bits", "height", "default_witness_commitment"} {
		if _, ok := tmpl[k]; !ok {
			t.Errorf("template lacks %q", k)
		}
	}
	if tmpl["height"].(float64) != 7 || tmpl["bits"] != "207fffff" || tmpl["coinbasevalue"].(float64) != 5000000011 ||
		tmpl["curtime"].(float64) != 1800000000 || tmpl["default_witness_commitment"] != "6a24" ||
		tmpl["target"] != "000000000000000000000000000000000000000000000000000000000000ffff" {
		t.Errorf("template = %v", tmpl)
	}
	txs := tmpl["transactions"].([]any)
	first, second := txs[0].(map[string]any), txs[1].(map[string]any)
	if first["fee"].(float64) != 10 || first["data"] != txHexString(spend) || len(first["depends"].([]any)) != 0 ||
		second["depends"].([]any)[0].(float64) != 1 {
		t.Errorf("template transactions = %v", txs)
	}

	_, rerr := call(t, n.srv, "getblocktemplate")
	checkErr(t, "no rules", rerr, -8, "segwit rule")
	_, rerr = call(t, n.srv, "getblocktemplate", map[string]any{"rules": []string{"segwit"}, "mode": "proposal"})
	checkErr(t, "proposal mode", rerr, -8, "Invalid mode")
	_, rerr = call(t, n.srv, "getblocktemplate", "segwit")
	checkErr(t, "not an object", rerr, -3, "")
	gen.err = errors.New("boom")
	_, rerr = call(t, n.srv, "getblocktemplate", segwit)
	checkErr(t, "generator failure", rerr, -1, "boom")
	noGen := newTestNode(t, nodeConfig{})
	_, rerr = call(t, noGen.srv, "getblocktemplate", segwit)
	checkErr(t, "no generator", rerr, -1, "no block assembler")
}

// addCoinbaseValue is a chaintest munger paying the coinbase delta more.
func addCoinbaseValue(delta int64) func(*wire.MsgBlock) {
	return func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].Value += delta }
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
