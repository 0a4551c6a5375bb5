package rpc

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chaintest"
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
