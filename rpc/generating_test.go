package rpc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

// generateNode returns a node on net (regtest when nil) with generator
// gen, and a P2PKH and a P2WPKH address of its network with their scripts.
func generateNode(t *testing.T, gen Generator, net *chainparams.Network) (n *testNode, p2pkh, p2wpkh string, pkhScript, wpkhScript []byte) {
	t.Helper()
	n = newTestNode(t, nodeConfig{generator: gen, net: net})
	hash := bytes.Repeat([]byte{9}, 20)
	params := n.net.AddressParams()
	a1, _ := btcutil.NewAddressPubKeyHash(hash, params)
	a2, _ := btcutil.NewAddressWitnessPubKeyHash(hash, params)
	s1, _ := txscript.PayToAddrScript(a1)
	s2, _ := txscript.PayToAddrScript(a2)
	return n, a1.EncodeAddress(), a2.EncodeAddress(), s1, s2
}

// chainhashOf is the fake generator's i-th hash.
func chainhashOf(i int) string {
	return chainhash.DoubleHashH([]byte{byte(i), byte(i >> 8)}).String()
}

// regtestWithoutGenerate is regtest with block generation off.
func regtestWithoutGenerate() *chainparams.Network {
	net := chainparams.Regtest()
	net.AllowGenerate = false
	return net
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

// TestMempoolRPCGenerateBlock ensures generateblock takes pool transactions
// by txid into the block it mines, after which they leave the pool, and
// refuses a txid the pool does not hold; getmininginfo's pooledtx follows.
func TestMempoolRPCGenerateBlock(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 2)
	parent := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	child := n.spend(t, []chaintest.SpendableOut{n.out(parent, 0)}, 1, 1000)
	other := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 1, 1000)
	for _, tx := range []*wire.MsgTx{parent, child, other} {
		n.send(t, tx)
	}
	pooled := func() int {
		t.Helper()
		var m struct {
			PooledTx int `json:"pooledtx"`
		}
		decode(t, mustCall(t, n.srv, "getmininginfo"), &m)
		return m.PooledTx
	}
	if got := pooled(); got != 3 {
		t.Errorf("getmininginfo pooledtx = %d, want 3", got)
	}

	unknown := chainhash.DoubleHashH([]byte("x")).String()
	_, rerr := call(t, n.srv, "generateblock", n.addr, []string{unknown})
	checkErr(t, "generateblock with a txid not in the pool", rerr, -5, "Transaction "+unknown+" not in mempool.")

	var res struct {
		Hash string `json:"hash"`
	}
	decode(t, mustCall(t, n.srv, "generateblock", n.addr, []string{parent.TxHash().String(), child.TxHash().String()}), &res)
	n.settle(t, 1)
	best := n.chain.BestSnapshot()
	if best.Hash.String() != res.Hash {
		t.Fatalf("tip %s, want the generated block %s", best.Hash, res.Hash)
	}
	block, err := n.chain.BlockByHash(best.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sortedIDs(block.Transactions[1:]...), sortedIDs(parent, child); !reflect.DeepEqual(got, want) {
		t.Errorf("generated block holds %v, want %v", got, want)
	}
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); !reflect.DeepEqual(got, sortedIDs(other)) {
		t.Errorf("getrawmempool after generateblock = %v, want %v", got, sortedIDs(other))
	}
	if got := pooled(); got != 1 {
		t.Errorf("getmininginfo pooledtx after generateblock = %d, want 1", got)
	}
	_, rerr = call(t, n.srv, "generateblock", n.addr, []string{parent.TxHash().String()})
	checkErr(t, "generateblock with a txid already mined", rerr, -5, "not in mempool")
}
