package rpc

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcutil/gcs"
	"github.com/btcsuite/btcd/btcutil/gcs/builder"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// blockFilterReply is getblockfilter's answer, decoded.
type blockFilterReply struct {
	filter *gcs.Filter
	raw    []byte
	header chainhash.Hash
}

// getBlockFilterOK calls getblockfilter with params, expects success and
// exactly Core's fields, and decodes the answer.
func getBlockFilterOK(t *testing.T, s *Server, params ...any) blockFilterReply {
	t.Helper()
	res := mustCall(t, s, "getblockfilter", params...)
	if m := object(t, res); len(m) != 2 {
		t.Fatalf("getblockfilter %v: %s, want exactly filter and header", params, res)
	}
	var out struct {
		Filter string `json:"filter"`
		Header string `json:"header"`
	}
	decode(t, res, &out)
	raw, err := hex.DecodeString(out.Filter)
	if err != nil {
		t.Fatalf("filter %q: %v", out.Filter, err)
	}
	f, err := gcs.FromNBytes(builder.DefaultP, builder.DefaultM, raw)
	if err != nil {
		t.Fatalf("filter %q: %v", out.Filter, err)
	}
	h, err := chainhash.NewHashFromStr(out.Header)
	if err != nil || len(out.Header) != 64 {
		t.Fatalf("header %q: %v", out.Header, err)
	}
	return blockFilterReply{filter: f, raw: raw, header: *h}
}

// TestGetBlockFilter ensures getblockfilter answers as Bitcoin Core does:
// the BIP158 basic filter (N, then the Golomb-coded set, in hex) that
// matches the block's output and spent scripts, and the filter header in
// display order, chained onto the previous block's.
func TestGetBlockFilter(t *testing.T) {
	t.Parallel()
	r := richNode(t)

	// Genesis pays to OP_RETURN only: the empty filter, chained onto
	// the zero header.
	genesis := getBlockFilterOK(t, r.srv, r.net.GenesisHash().String())
	if !bytes.Equal(genesis.raw, []byte{0}) {
		t.Errorf("genesis filter %x, want 00", genesis.raw)
	}
	if want := chainhash.DoubleHashH(append(chainhash.DoubleHashB([]byte{0}), make([]byte, 32)...)); genesis.header != want {
		t.Errorf("genesis header %v, want %v", genesis.header, want)
	}

	// Every main-chain header chains onto its parent's, through the
	// filter as served; the named form and the explicit type agree.
	prev := genesis.header
	for _, name := range r.mainChainBlocks {
		got := getBlockFilterOK(t, r.srv, r.hash(name))
		if want, _ := builder.MakeHeaderForFilter(got.filter, prev); got.header != want {
			t.Fatalf("%s: header %v, want %v", name, got.header, want)
		}
		prev = got.header
	}
	b102 := r.hash("b102")
	plain := getBlockFilterOK(t, r.srv, b102)
	typed := getBlockFilterOK(t, r.srv, b102, "basic")
	res, rerr := callNamed(t, r.srv, "getblockfilter", map[string]any{"blockhash": b102, "filtertype": "basic"})
	if rerr != nil || !bytes.Equal(plain.raw, typed.raw) || plain.header != typed.header {
		t.Fatalf("getblockfilter forms disagree: %x %x %s %v", plain.raw, typed.raw, res, rerr)
	}
	raw, header, err := r.chain.BlockFilter(r.g.Block("b102").BlockHash())
	if err != nil || !bytes.Equal(raw, plain.raw) || header != plain.header {
		t.Fatalf("getblockfilter differs from the chain's BlockFilter: %v", err)
	}

	// b102: txB spends txA:0 (P2WPKH) to OP_TRUE; txC spends b2's
	// coinbase (OP_TRUE) to P2PKH, P2SH, OP_RETURN and OP_TRUE.
	nullData, _ := txscript.NullDataScript([]byte("cairn"))
	hash := r.g.Block("b102").BlockHash()
	key := builder.DeriveKey(&hash)
	for _, test := range []struct {
		name   string
		script []byte
		want   bool
	}{
		{name: "spent P2WPKH", script: r.p2wpkhPkScript, want: true},
		{name: "P2PKH output", script: r.p2pkhPkScript, want: true},
		{name: "OP_TRUE", script: chaintest.OpTrueScript, want: true},
		{name: "OP_RETURN output", script: nullData, want: false},
		{name: "unrelated", script: []byte{txscript.OP_2}, want: false},
	} {
		if got, err := plain.filter.Match(key, test.script); err != nil || got != test.want {
			t.Errorf("b102 %s: match %v (%v), want %v", test.name, got, err, test.want)
		}
	}
}

// TestGetBlockFilterErrors ensures getblockfilter fails with Bitcoin Core's
// codes and messages, checking the filter type, then the index, then the
// block.
func TestGetBlockFilterErrors(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	off := newTestNode(t, nodeConfig{blocks: 1})
	storage := newTestNode(t, nodeConfig{blocks: 1, filters: true})
	failing := newServer(t, Config{User: testUser, Password: testPass,
		Chain: &failingChain{BlockChain: storage.chain, err: fmt.Errorf("%w: bad filter record", chain.ErrCorruptDatabase)}})
	b1 := r.hash("b1")
	unknown := chainhash.Hash{1}.String()
	tests := []struct {
		name     string
		srv      *Server
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "unknown filter type", srv: r.srv, params: []any{b1, "extended"}, wantCode: -5, wantMsg: "Unknown filtertype"},
		{name: "filter type before index", srv: off.srv, params: []any{b1, "Basic"}, wantCode: -5, wantMsg: "Unknown filtertype"},
		{name: "filter type not a string", srv: r.srv, params: []any{b1, 0}, wantCode: -3, wantMsg: "string"},
		{name: "index off", srv: off.srv, params: []any{off.hash("b1")}, wantCode: -1, wantMsg: "Index is not enabled for filtertype basic"},
		{name: "index off, unknown block", srv: off.srv, params: []any{unknown}, wantCode: -1, wantMsg: "Index is not enabled for filtertype basic"},
		{name: "unknown block", srv: r.srv, params: []any{unknown}, wantCode: -5, wantMsg: "Block not found"},
		{name: "side block never connected", srv: r.srv, params: []any{r.hash("s102")}, wantCode: -5, wantMsg: "Filter not found"},
		{name: "header only", srv: r.srv, params: []any{r.hash("h101")}, wantCode: -5, wantMsg: "Filter not found"},
		{name: "short hash", srv: r.srv, params: []any{"abcd"}, wantCode: -8, wantMsg: "blockhash must be of length 64"},
		{name: "hash not hex", srv: r.srv, params: []any{fmt.Sprintf("%064d", 0)[:63] + "g"}, wantCode: -8, wantMsg: "blockhash must be hexadecimal"},
		{name: "no hash", srv: r.srv, params: nil, wantCode: -1, wantMsg: `"blockhash"`},
		{name: "storage failure", srv: failing, params: []any{storage.hash("b1")}, wantCode: -20, wantMsg: "bad filter record"},
	}
	for _, test := range tests {
		_, rerr := call(t, test.srv, "getblockfilter", test.params...)
		checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
	}
}
