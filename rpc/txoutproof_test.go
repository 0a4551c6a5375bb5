package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// decodeProof decodes gettxoutproof's answer.
func decodeProof(t *testing.T, res []byte) *wire.MsgMerkleBlock {
	t.Helper()
	raw, err := hex.DecodeString(str(t, res))
	if err != nil {
		t.Fatal(err)
	}
	var mb wire.MsgMerkleBlock
	if err := mb.BtcDecode(bytes.NewReader(raw), wire.ProtocolVersion, wire.BaseEncoding); err != nil {
		t.Fatal(err)
	}
	return &mb
}

// TestTxOutProof checks gettxoutproof's proofs (found through an unspent
// output, the transaction index or the given block) with a BIP37 client's
// walk and with verifytxoutproof, and both methods' errors, as Core's.
func TestTxOutProof(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	txA, txB, txC := r.txA.TxHash().String(), r.txB.TxHash().String(), r.txC.TxHash().String()
	// b2's coinbase pays one output, which txC spends: only the
	// transaction index finds it.
	cb2 := r.g.Block("b2").Transactions[0]
	if len(cb2.TxOut) != 1 {
		t.Fatalf("b2's coinbase has %d outputs, want 1", len(cb2.TxOut))
	}
	for _, test := range []struct {
		name      string
		params    []any
		block     string
		wantTxids []string // in block order
	}{
		{name: "by an unspent output", params: []any{[]string{txC}}, block: "b102", wantTxids: []string{txC}},
		{name: "two of a block", params: []any{[]string{txC, txB}, r.hash("b102")}, block: "b102", wantTxids: []string{txB, txC}},
		{name: "through the transaction index", params: []any{[]string{cb2.TxHash().String()}}, block: "b2",
			wantTxids: []string{cb2.TxHash().String()}},
		{name: "given block", params: []any{[]string{txA}, r.hash("b101")}, block: "b101", wantTxids: []string{txA}},
		{name: "coinbase", params: []any{[]string{r.g.Block("b50").Transactions[0].TxHash().String()}}, block: "b50",
			wantTxids: []string{r.g.Block("b50").Transactions[0].TxHash().String()}},
	} {
		res, ok := callCase(t, r.srv, test.name, "gettxoutproof", test.params, 0, "")
		if !ok {
			continue
		}
		mb := decodeProof(t, res)
		root, matches, _, err := consensus.ExtractMatches(mb)
		var got []string
		for _, m := range matches {
			got = append(got, m.String())
		}
		if err != nil || mb.Header.BlockHash().String() != r.hash(test.block) || root != mb.Header.MerkleRoot ||
			int(mb.Transactions) != len(r.g.Block(test.block).Transactions) || !slices.Equal(got, test.wantTxids) {
			t.Errorf("%s: proof of block %v for %v (err %v), want %s for %v", test.name, mb.Header.BlockHash(), got, err,
				test.block, test.wantTxids)
			continue
		}
		var verified []string
		decode(t, mustCall(t, r.srv, "verifytxoutproof", str(t, res)), &verified)
		if !slices.Equal(verified, test.wantTxids) {
			t.Errorf("%s: verifytxoutproof %v, want %v", test.name, verified, test.wantTxids)
		}
	}

	for _, test := range []struct {
		name     string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{"not an array", []any{txA}, -3, "not of expected type array"},
		{"bad txid", []any{[]string{"00"}}, -8, "txid must be of length 64"},
		{"duplicated txid", []any{[]string{txB, txB}}, -8, "Invalid parameter, duplicated txid: " + txB},
		{"not in the given block", []any{[]string{txA}, r.hash("b102")}, -5, "Not all transactions found in specified or retrieved block"},
		{"one of two not in the block", []any{[]string{txB, txA}, r.hash("b102")}, -5, "Not all transactions found"},
		{"unknown block", []any{[]string{txA}, strings.Repeat("ab", 32)}, -5, "Block not found"},
		{"header only", []any{[]string{txA}, r.hash("h101")}, -1, "Block not available"},
		{"unknown transaction", []any{[]string{strings.Repeat("cd", 32)}}, -5, "Transaction not yet in block"},
		{"no txid and no block", []any{[]string{}}, -8, "txids must not be empty"},
	} {
		callCase(t, r.srv, test.name, "gettxoutproof", test.params, test.wantCode, test.wantMsg)
	}

	// More txids than a block holds are refused before any search, and a
	// search for txids in no block ends with the call.
	many := make([]string, consensus.MaxBlockTxs+1)
	for i := range many {
		many[i] = chainhash.Hash{byte(i), byte(i >> 8), 0xee}.String()
	}
	callCase(t, r.srv, "more txids than a block holds", "gettxoutproof", []any{many}, -5, "Not all transactions found")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.srv.getTxOutProof(ctx, args{mustJSON(many[:100])}); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("a search for a caller that left: %v", err)
	}

	proof := str(t, mustCall(t, r.srv, "gettxoutproof", []string{txB}))
	raw, _ := hex.DecodeString(proof)
	// A proof whose tree does not reach the header's merkle root proves
	// nothing: an empty answer, as Core's.
	tampered := decodeProof(t, mustCall(t, r.srv, "gettxoutproof", []string{txB}))
	tampered.Hashes[len(tampered.Hashes)-1] = &chainhash.Hash{1}
	var buf bytes.Buffer
	if err := tampered.BtcEncode(&buf, wire.ProtocolVersion, wire.BaseEncoding); err != nil {
		t.Fatal(err)
	}
	var verified []string
	decode(t, mustCall(t, r.srv, "verifytxoutproof", hex.EncodeToString(buf.Bytes())), &verified)
	if verified == nil || len(verified) != 0 {
		t.Errorf("tampered proof: %v, want []", verified)
	}
	// A proof of a block off the active chain.
	sideCB := r.g.Block("s102").Transactions[0].TxHash().String()
	side := str(t, mustCall(t, r.srv, "gettxoutproof", []string{sideCB}, r.hash("s102")))
	for _, test := range []struct {
		name     string
		proof    string
		wantCode int
		wantMsg  string
	}{
		{"side block", side, -5, "Block not found in chain"},
		{"not hex", "zz", -8, "proof must be hexadecimal string"},
		{"truncated", proof[:len(proof)-2], -22, "proof decode failed"},
		{"trailing bytes", proof + "00", -22, "proof decode failed"},
		{"empty", "", -22, "proof decode failed"},
		{"count wrong", hex.EncodeToString(withCount(raw, len(r.g.Block("b102").Transactions)+1)), 0, ""},
	} {
		res, ok := callCase(t, r.srv, test.name, "verifytxoutproof", []any{test.proof}, test.wantCode, test.wantMsg)
		if ok && string(res) != "[]" {
			t.Errorf("%s: %s, want []", test.name, res)
		}
	}
}

// withCount is a serialized merkle block with another transaction count.
func withCount(raw []byte, n int) []byte {
	out := slices.Clone(raw)
	out[80], out[81], out[82], out[83] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return out
}
