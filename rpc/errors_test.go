package rpc

import (
	"fmt"
	"testing"

	"github.com/cairnchain/cairn/chain"
)

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
