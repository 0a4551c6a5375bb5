package rpc

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNamedParams ensures parameters can be passed by Core's names, with
// gaps for omitted optional ones, and that unknown names get -8.
func TestNamedParams(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	genesis := r.net.GenesisHash().String()
	txA := r.g.Block("b101").Transactions[1].TxHash().String()
	tests := []struct {
		name       string
		method     string
		params     map[string]any
		wantResult string // JSON; "" to skip
		wantCode   int
		wantMsg    string
	}{
		{name: "getblockhash height", method: "getblockhash", params: map[string]any{"height": 0},
			wantResult: `"` + genesis + `"`},
		{name: "getblock verbosity 0", method: "getblock", params: map[string]any{"verbosity": 0, "blockhash": r.hash("b1")},
			wantResult: `"` + blockHex(r.g.Block("b1")) + `"`},
		{name: "getrawtransaction skipping verbose", method: "getrawtransaction",
			params:     map[string]any{"txid": txA, "blockhash": r.hash("b101")},
			wantResult: `"` + txHexString(r.txA) + `"`},
		// Core's "verbosity|verbose": either name, the first given wins
		// and the other is unknown.
		{name: "getblock by its old name verbose", method: "getblock", params: map[string]any{"verbose": false, "blockhash": r.hash("b1")},
			wantResult: `"` + blockHex(r.g.Block("b1")) + `"`},
		{name: "getrawtransaction verbosity 0", method: "getrawtransaction",
			params:     map[string]any{"txid": txA, "verbosity": 0, "blockhash": r.hash("b101")},
			wantResult: `"` + txHexString(r.txA) + `"`},
		{name: "getrawtransaction verbose false", method: "getrawtransaction",
			params:     map[string]any{"txid": txA, "verbose": false, "blockhash": r.hash("b101")},
			wantResult: `"` + txHexString(r.txA) + `"`},
		{name: "both names", method: "getrawtransaction", params: map[string]any{"txid": txA, "verbosity": 0, "verbose": true},
			wantCode: -8, wantMsg: "Unknown named parameter verbose"},
		{name: "no parameters", method: "getblockcount", params: map[string]any{}, wantResult: "103"},
		{name: "unknown name", method: "getblockhash", params: map[string]any{"height": 0, "foo": 1},
			wantCode: -8, wantMsg: "Unknown named parameter foo"},
		{name: "misspelt name", method: "getblockhash", params: map[string]any{"heigth": 0},
			wantCode: -8, wantMsg: "Unknown named parameter heigth"},
		{name: "name of no-parameter method", method: "getblockcount", params: map[string]any{"verbose": true},
			wantCode: -8, wantMsg: "Unknown named parameter verbose"},
		{name: "missing required", method: "getrawtransaction", params: map[string]any{"blockhash": r.hash("b101")},
			wantCode: -1, wantMsg: `"txid"`},
	}
	for _, test := range tests {
		res, rerr := callNamed(t, r.srv, test.method, test.params)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		if test.wantResult != "" && string(res) != test.wantResult {
			t.Errorf("%q: result %.200s, want %.200s", test.name, res, test.wantResult)
		}
	}
}

// TestParamCount ensures too many parameters, a missing or null required
// one, and params that are neither an array nor an object are refused.
func TestParamCount(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	tests := []struct {
		name     string
		body     string
		wantCode int // 0: success
		wantMsg  string
	}{
		{name: "params absent", body: `{"id":1,"method":"getblockcount"}`},
		{name: "params null", body: `{"id":1,"method":"getblockcount","params":null}`},
		{name: "too many", body: `{"id":1,"method":"getblockcount","params":[1]}`, wantCode: -1, wantMsg: "too many parameters"},
		{name: "too many for getblockhash", body: `{"id":1,"method":"getblockhash","params":[0,1]}`, wantCode: -1, wantMsg: "too many parameters"},
		{name: "missing required", body: `{"id":1,"method":"getblockhash","params":[]}`, wantCode: -1, wantMsg: `missing required parameter "height"`},
		{name: "required null", body: `{"id":1,"method":"getblockhash","params":[null]}`, wantCode: -1, wantMsg: `"height"`},
		{name: "second required missing", body: `{"id":1,"method":"gettxout","params":["` + strings.Repeat("0", 64) + `"]}`, wantCode: -1, wantMsg: `"n"`},
		{name: "params a number", body: `{"id":1,"method":"getblockcount","params":5}`, wantCode: -32600},
		{name: "params a string", body: `{"id":1,"method":"getblockhash","params":"0"}`, wantCode: -32600},
	}
	for _, test := range tests {
		res, rerr := callRaw(t, s, test.body)
		if test.wantCode == 0 {
			if rerr != nil || string(res) != "0" {
				t.Errorf("%q: %s %v, want result 0", test.name, res, rerr)
			}
			continue
		}
		checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
	}
}

// TestParamTypes ensures arguments of the wrong JSON type get Core's -3
// "JSON value of type X is not of expected type Y", and badly formed hashes
// get -8.
func TestParamTypes(t *testing.T) {
	t.Parallel()
	gen := &fakeGenerator{}
	n := newTestNode(t, nodeConfig{generator: gen, blocks: 1})
	h := n.hash("b1")
	tests := []struct {
		name     string
		method   string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "height as string", method: "getblockhash", params: []any{"1"}, wantCode: -3,
			wantMsg: "JSON value of type string is not of expected type number"},
		{name: "height as bool", method: "getblockhash", params: []any{true}, wantCode: -3, wantMsg: "type bool"},
		{name: "fractional height", method: "getblockhash", params: []any{1.5}, wantCode: -3},
		{name: "height beyond int32", method: "getblockhash", params: []any{int64(1) << 40}, wantCode: -3},
		{name: "height beyond int64", method: "getblockhash", params: []any{json.RawMessage("1e30")}, wantCode: -3},
		{name: "hash as number", method: "getblock", params: []any{12}, wantCode: -3, wantMsg: "not of expected type string"},
		{name: "short hash", method: "getblock", params: []any{"abcd"}, wantCode: -8, wantMsg: "blockhash must be of length 64"},
		{name: "non-hex hash", method: "getblock", params: []any{strings.Repeat("zz", 32)}, wantCode: -8, wantMsg: "hexadecimal"},
		{name: "verbose as string", method: "getblockheader", params: []any{h, "yes"}, wantCode: -3, wantMsg: "expected type bool"},
		{name: "n as string", method: "gettxout", params: []any{h, "0"}, wantCode: -3},
		{name: "include_mempool as number", method: "gettxout", params: []any{h, 0, 1}, wantCode: -3},
		{name: "iswitness as string", method: "decoderawtransaction", params: []any{"00", "x"}, wantCode: -3},
		{name: "address as number", method: "validateaddress", params: []any{5}, wantCode: -3},
		{name: "nblocks as string", method: "generatetoaddress", params: []any{"1", "x"}, wantCode: -3},
		{name: "hash_type as bool", method: "gettxoutsetinfo", params: []any{true}, wantCode: -3},
		{name: "index name as number", method: "getindexinfo", params: []any{1}, wantCode: -3},
		{name: "command as object", method: "help", params: []any{map[string]any{}}, wantCode: -3},
		// Core checks every argument's JSON type before the handler runs,
		// so hex arguments of the wrong type are -3 too, not decode errors.
		{name: "block hexdata as array", method: "submitblock", params: []any{[]any{}}, wantCode: -3},
		{name: "header hexdata as number", method: "submitheader", params: []any{80}, wantCode: -3},
		{name: "tx hexstring as number", method: "decoderawtransaction", params: []any{1}, wantCode: -3},
		{name: "script hexstring as bool", method: "decodescript", params: []any{false}, wantCode: -3},
	}
	for _, test := range tests {
		_, rerr := call(t, n.srv, test.method, test.params...)
		checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
	}
	if gen.callCount() != 0 {
		t.Error("the generator was called despite bad arguments")
	}
}
