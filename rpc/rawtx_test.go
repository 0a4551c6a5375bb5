package rpc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/internal/coreshape"
)

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
	// Verbosity 2: txB's fee and the output it spends (txA:0, block 101),
	// from b102's undo data; nothing of the kind for a coinbase.
	withPrevout := func(wantFee bool) check {
		return func(t *testing.T, res json.RawMessage) {
			t.Helper()
			var v struct {
				Fee *float64
				Vin []struct {
					Prevout *struct {
						Generated    bool
						Height       int32
						Value        float64
						ScriptPubKey struct{ Hex, Type string }
					}
				}
			}
			decode(t, res, &v)
			if !wantFee {
				if v.Fee != nil || v.Vin[0].Prevout != nil {
					t.Errorf("a coinbase: fee or prevout in %s", res)
				}
				return
			}
			spent := r.txA.TxOut[0]
			fee := spent.Value
			for _, o := range r.txB.TxOut {
				fee -= o.Value
			}
			p := v.Vin[0].Prevout
			if v.Fee == nil || *v.Fee != float64(fee)/1e8 || p == nil || p.Generated || p.Height != 101 ||
				p.Value != float64(spent.Value)/1e8 || p.ScriptPubKey.Hex != hex.EncodeToString(spent.PkScript) ||
				p.ScriptPubKey.Type != "witness_v0_keyhash" {
				t.Errorf("verbosity 2: %s; want fee %d and txA:0 spent at height 101", res, fee)
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
		{name: "txindex, verbosity 2", params: []any{txB, 2}, check: withPrevout(true)},
		{name: "given block, verbosity 2", params: []any{txB, 2, r.hash("b102")}, check: withPrevout(true)},
		{name: "verbosity 1 has no prevout", params: []any{txB, 1}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			if m := object(t, res); m["fee"] != nil || strings.Contains(string(res), "prevout") {
				t.Errorf("verbosity 1 shows fee or prevout: %s", res)
			}
		}},
		{name: "coinbase, verbosity 2", params: []any{r.g.Block("b50").Transactions[0].TxHash().String(), 2}, check: withPrevout(false)},
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
		res, ok := callCase(t, r.srv, test.name, "getrawtransaction", test.params, test.wantCode, test.wantMsg)
		if !ok {
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
			ScriptPubKey struct{ Asm, Desc, Hex, Type, Address string }
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
	// A signed P2PKH spend: Core's asm names the signature's hash type.
	signed := wire.NewMsgTx(2)
	signed.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: r.txC.TxHash()}, nil, nil))
	signed.AddTxOut(wire.NewTxOut(1000, r.p2wpkhPkScript))
	sigScript, err := txscript.SignatureScript(signed, 0, r.p2pkhPkScript, txscript.SigHashSingle|txscript.SigHashAnyOneCanPay, r.key, true)
	if err != nil {
		t.Fatal(err)
	}
	signed.TxIn[0].SignatureScript = sigScript
	sig := sigScript[1 : 1+sigScript[0]]
	wantSigAsm := hex.EncodeToString(sig[:len(sig)-1]) + "[SINGLE|ANYONECANPAY] " + hex.EncodeToString(r.key.PubKey().SerializeCompressed())
	tests := []struct {
		name     string
		params   []any
		check    func(*testing.T, json.RawMessage)
		wantCode int
	}{
		{name: "non-witness", params: []any{txAHex}, check: shows(r.txA)},
		{name: "signed P2PKH input", params: []any{txHexString(signed)}, check: func(t *testing.T, res json.RawMessage) {
			t.Helper()
			shows(signed)(t, res)
			var d decodedTx
			decode(t, res, &d)
			var ss struct{ Asm, Hex string }
			decode(t, d.Vin[0]["scriptSig"], &ss)
			if ss.Asm != wantSigAsm || ss.Hex != hex.EncodeToString(sigScript) {
				t.Errorf("scriptSig %+v, want asm %q", ss, wantSigAsm)
			}
		}},
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
				// Core infers addr() where there is an address, raw() elsewhere.
				desc := "raw(" + hex.EncodeToString(r.txC.TxOut[i].PkScript) + ")"
				if addrs[i] != "" {
					desc = "addr(" + addrs[i] + ")"
				}
				if desc += "#" + coreshape.DescriptorChecksum(desc); d.Vout[i].ScriptPubKey.Desc != desc {
					t.Errorf("vout %d: desc %q, want %q", i, d.Vout[i].ScriptPubKey.Desc, desc)
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
		res, ok := callCase(t, r.srv, test.name, "decoderawtransaction", test.params, test.wantCode, "TX decode failed")
		if !ok {
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
		Type, Address, Hex, Desc string
		P2SHSegwit               string `json:"p2sh-segwit"`
	}
	tests := []struct {
		name        string
		script      []byte
		wantType    string
		wantAddress string
		wantP2SH    bool
		wantSegwit  string // segwit type, "" for none
		segwitAddr  string
		wantAsm     string
		wantDesc    string // without its checksum; addr(wantAddress) when empty
	}{
		{name: "P2PKH", script: r.p2pkhPkScript, wantType: "pubkeyhash", wantAddress: r.p2pkhAddr, wantP2SH: true,
			wantSegwit: "witness_v0_keyhash", segwitAddr: r.p2wpkhAddr,
			wantAsm: "OP_DUP OP_HASH160 " + hex.EncodeToString(r.p2pkhPkScript[3:23]) + " OP_EQUALVERIFY OP_CHECKSIG"},
		{name: "P2WPKH", script: r.p2wpkhPkScript, wantType: "witness_v0_keyhash", wantAddress: r.p2wpkhAddr, wantP2SH: true,
			wantAsm: "0 " + hex.EncodeToString(r.p2wpkhPkScript[2:])},
		{name: "P2SH", script: r.txC.TxOut[1].PkScript, wantType: "scripthash", wantAddress: r.p2shAddr,
			wantAsm: "OP_HASH160 " + hex.EncodeToString(r.txC.TxOut[1].PkScript[2:22]) + " OP_EQUAL"},
		{name: "P2WSH", script: p2wsh, wantType: "witness_v0_scripthash", wantAddress: p2wshAddr.EncodeAddress(), wantP2SH: true,
			wantAsm: "0 " + hex.EncodeToString(opTrueHash[:])},
		{name: "P2TR", script: p2tr, wantType: "witness_v1_taproot", wantAddress: p2trAddr.EncodeAddress(),
			wantAsm: "1 " + hex.EncodeToString(xOnly), wantDesc: "rawtr(" + hex.EncodeToString(xOnly) + ")"},
		{name: "unknown witness version", script: witnessV2, wantType: "witness_unknown",
			wantAddress: func() string {
				// Core encodes any witness program as a bech32m address.
				prog, _ := bech32.ConvertBits(bytes.Repeat([]byte{7}, 32), 8, 5, true)
				a, _ := bech32.EncodeM(params.Bech32HRPSegwit, append([]byte{2}, prog...))
				return a
			}(), wantAsm: "2 " + strings.Repeat("07", 32)},
		{name: "OP_RETURN", script: nullData, wantType: "nulldata", wantAsm: "OP_RETURN 636169726e", wantDesc: "raw(" + hex.EncodeToString(nullData) + ")"},
		{name: "P2PK", script: p2pk, wantType: "pubkey", wantP2SH: true, wantSegwit: "witness_v0_keyhash", segwitAddr: r.p2wpkhAddr,
			wantAsm:  hex.EncodeToString(r.key.PubKey().SerializeCompressed()) + " OP_CHECKSIG",
			wantDesc: "pk(" + hex.EncodeToString(r.key.PubKey().SerializeCompressed()) + ")"},
		{name: "bare multisig", script: multisig, wantType: "multisig", wantP2SH: true, wantSegwit: "witness_v0_scripthash",
			wantAsm:  "1 " + hex.EncodeToString(r.key.PubKey().SerializeCompressed()) + " 1 OP_CHECKMULTISIG",
			wantDesc: "multi(1," + hex.EncodeToString(r.key.PubKey().SerializeCompressed()) + ")"},
		{name: "OP_TRUE", script: []byte{txscript.OP_TRUE}, wantType: "nonstandard", wantP2SH: true, wantSegwit: "witness_v0_scripthash", wantAsm: "1",
			wantDesc: "raw(51)"},
		// Core shows a push of up to 4 bytes as the number it encodes.
		{name: "timelock", script: []byte{3, 0xa0, 0x86, 0x01, txscript.OP_CHECKLOCKTIMEVERIFY, txscript.OP_DROP}, wantType: "nonstandard",
			wantP2SH: true, wantSegwit: "witness_v0_scripthash", wantAsm: "100000 OP_CHECKLOCKTIMEVERIFY OP_DROP",
			wantDesc: "raw(03a08601b175)"},
		{name: "empty", script: []byte{}, wantType: "nonstandard", wantP2SH: true, wantSegwit: "witness_v0_scripthash", wantDesc: "raw()"},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, "decodescript", hex.EncodeToString(test.script))
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		m := object(t, res)
		var d struct {
			Asm, Desc, Type, Address, P2SH string
			Segwit                         *segwit
		}
		decode(t, res, &d)
		// The descriptor Core infers, with BIP 380's checksum.
		withSum := func(body string) string { return body + "#" + coreshape.DescriptorChecksum(body) }
		wantDesc := test.wantDesc
		if wantDesc == "" {
			wantDesc = "addr(" + test.wantAddress + ")"
		}
		if d.Desc != withSum(wantDesc) {
			t.Errorf("%q: desc %q, want %q", test.name, d.Desc, withSum(wantDesc))
		}
		if d.Asm != test.wantAsm || d.Type != test.wantType || d.Address != test.wantAddress {
			t.Errorf("%q: asm %q type %s address %q; want %q %s %q", test.name, d.Asm, d.Type, d.Address, test.wantAsm, test.wantType, test.wantAddress)
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
			checkKeys(t, test.name+" segwit", object(t, m["segwit"]), "asm", "desc", "hex", "type", "address", "p2sh-segwit")
			wantAddr, wantHex := segwitOfScript(test.script)
			if test.segwitAddr != "" {
				wantAddr = test.segwitAddr
				wantHex = hex.EncodeToString(r.p2wpkhPkScript)
			}
			wantBytes, _ := hex.DecodeString(wantHex)
			if d.Segwit.Type != test.wantSegwit || d.Segwit.Address != wantAddr || d.Segwit.Hex != wantHex ||
				d.Segwit.P2SHSegwit != p2shOf(wantBytes) || d.Segwit.Desc != withSum("addr("+wantAddr+")") {
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

// sendrawtransaction and testmempoolaccept are the pool's calls of Core's
// rawtransactions category (their handlers are in mempoolrpc.go); their
// tests run over a poolNode (mempool_helpers_test.go).

// TestMempoolRPCSendRawTransaction ensures sendrawtransaction adds a valid
// transaction to the pool, relays it and returns its txid; answers (and
// relays again, as Core does) a transaction already in the pool; and
// refuses the rest with Bitcoin Core's codes: -27 already in the chain, -25
// missing inputs or a fee rate above maxfeerate (0 disables the check),
// -26 a policy rejection with its reason, -22 undecodable, -3 a wrong type,
// and maxfeerate as Core's ParseFeeRate reads it.
func TestMempoolRPCSendRawTransaction(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 11)
	confirmed := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	n.mineBlock(t, "c1", confirmed)
	doubleSpend := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 2000)
	accepted := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 1, 1000)
	noFee := n.spend(t, []chaintest.SpendableOut{n.coinbase(2)}, 1, 0)
	cb3 := n.coinbase(3)
	dust := n.spendValues(t, []chaintest.SpendableOut{cb3}, []int64{100, cb3.Amount - 100 - 1000})
	// 0.05 coins on about 110 vbytes: some 45 coins per 1,000 vbytes, far
	// above the default maxfeerate of 0.10.
	highFee := n.spend(t, []chaintest.SpendableOut{n.coinbase(4)}, 1, 5_000_000)
	highFee2 := n.spend(t, []chaintest.SpendableOut{n.coinbase(5)}, 1, 5_000_000)
	// About 9 base units per vbyte: 0.00009 coins per 1,000 vbytes.
	normal := n.spend(t, []chaintest.SpendableOut{n.coinbase(6)}, 1, 1000)
	normal2 := n.spend(t, []chaintest.SpendableOut{n.coinbase(7)}, 1, 1000)
	normal3 := n.spend(t, []chaintest.SpendableOut{n.coinbase(8)}, 1, 1000)
	normal4 := n.spend(t, []chaintest.SpendableOut{n.coinbase(10)}, 1, 1000)
	missing := n.spend(t, []chaintest.SpendableOut{{
		OutPoint: wire.OutPoint{Hash: chainhash.DoubleHashH([]byte("nowhere")), Index: 0},
		Amount:   oneCoin, PkScript: n.pk, Key: n.key,
	}}, 1, 1000)
	// A bad signature: the last byte of the DER signature (before the
	// sighash byte) changed.
	badSig := n.spend(t, []chaintest.SpendableOut{n.coinbase(9)}, 1, 1000)
	sig := badSig.TxIn[0].Witness[0]
	sig[len(sig)-2] ^= 0x01
	// A coinbase one block old.
	young := n.g.NextBlock("young", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = n.pk })
	if _, err := n.chain.ProcessBlock(young); err != nil {
		t.Fatal(err)
	}
	n.settle(t, 1)
	youngOut := n.g.CoinbaseOut("young")
	youngOut.Key = n.key
	immature := n.spend(t, []chaintest.SpendableOut{youngOut}, 1, 1000)

	// The cases run in order: "resubmission" needs "accepted" before it.
	tests := []struct {
		name     string
		params   []any
		tx       *wire.MsgTx // the transaction sent, if any
		wantCode int         // 0: success, returning tx's txid
		wantMsg  string
		inPool   bool // tx is in the pool afterwards
		relays   int  // OnTransaction calls the case makes
	}{
		{name: "accepted", params: []any{txHexString(accepted)}, tx: accepted, inPool: true, relays: 1},
		{name: "resubmission of a pool transaction", params: []any{txHexString(accepted)}, tx: accepted, inPool: true, relays: 1},
		{name: "already confirmed", params: []any{txHexString(confirmed)}, tx: confirmed,
			wantCode: -27, wantMsg: "Transaction outputs already in utxo set"},
		{name: "spends an output a block spent", params: []any{txHexString(doubleSpend)}, tx: doubleSpend,
			wantCode: -25, wantMsg: "bad-txns-inputs-missingorspent"},
		{name: "missing inputs", params: []any{txHexString(missing)}, tx: missing,
			wantCode: -25, wantMsg: "bad-txns-inputs-missingorspent"},
		{name: "below the minimum relay fee", params: []any{txHexString(noFee)}, tx: noFee,
			wantCode: -26, wantMsg: "min relay fee not met"},
		{name: "dust output", params: []any{txHexString(dust)}, tx: dust, wantCode: -26, wantMsg: "dust"},
		{name: "bad signature", params: []any{txHexString(badSig)}, tx: badSig, wantCode: -26, wantMsg: "mandatory-script-verify-flag-failed"},
		{name: "immature coinbase", params: []any{txHexString(immature)}, tx: immature, wantCode: -26, wantMsg: "bad-txns-premature-spend-of-coinbase"},
		{name: "fee rate above the default maxfeerate", params: []any{txHexString(highFee)}, tx: highFee,
			wantCode: -25, wantMsg: "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"},
		{name: "fee rate above an explicit maxfeerate", params: []any{txHexString(normal), 0.00001}, tx: normal,
			wantCode: -25, wantMsg: "Fee exceeds maximum"},
		{name: "fee rate within an explicit maxfeerate", params: []any{txHexString(normal), 0.001}, tx: normal, inPool: true, relays: 1},
		{name: "maxfeerate 0 disables the check", params: []any{txHexString(highFee), 0}, tx: highFee, inPool: true, relays: 1},
		{name: "maxfeerate null is the default", params: []any{txHexString(highFee2), nil}, tx: highFee2,
			wantCode: -25, wantMsg: "Fee exceeds maximum"},
		{name: "maxfeerate as a numeric string", params: []any{txHexString(normal2), "0.001"}, tx: normal2, inPool: true, relays: 1},
		{name: "negative maxfeerate", params: []any{txHexString(normal3), -0.1}, tx: normal3,
			wantCode: -3, wantMsg: "Amount out of range"},
		{name: "maxfeerate of 1 coin per kvB", params: []any{txHexString(normal4), 1}, tx: normal4,
			wantCode: -8, wantMsg: "Fee rates larger than or equal to 1"},
		{name: "maxfeerate of the wrong type", params: []any{txHexString(normal3), true}, wantCode: -3},
		{name: "odd-length hex", params: []any{"abc"}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "not hex", params: []any{"zz"}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "hex but not a transaction", params: []any{"00"}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "empty string", params: []any{""}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "truncated transaction", params: []any{txHexString(normal3)[:40]}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "number instead of hex", params: []any{5}, wantCode: -3},
		{name: "object instead of hex", params: []any{map[string]any{}}, wantCode: -3},
	}
	for _, test := range tests {
		before := n.relayCount()
		res, rerr := call(t, n.srv, "sendrawtransaction", test.params...)
		if test.wantCode == 0 {
			if rerr != nil {
				t.Errorf("%q: error %v, want txid %s", test.name, rerr, test.tx.TxHash())
			} else if got := str(t, res); got != test.tx.TxHash().String() {
				t.Errorf("%q: returned %s, want %s", test.name, got, test.tx.TxHash())
			}
		} else {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
		}
		if test.tx != nil {
			if got := n.pool.Have(test.tx.TxHash()); got != test.inPool {
				t.Errorf("%q: in the pool afterwards: %v, want %v", test.name, got, test.inPool)
			}
		}
		if got := n.relayCount() - before; got != test.relays {
			t.Errorf("%q: OnTransaction called %d times, want %d", test.name, got, test.relays)
		}
	}
}

// TestMempoolRPCTestMempoolAccept ensures testmempoolaccept reports for
// each transaction, in order, its txid and wtxid and either allowed with
// its vsize and base fee or Core's reject-reason ("max-fee-exceeded" over
// maxfeerate, "missing-inputs" for unknown inputs), checks the array's
// size, and leaves the pool as it was.
func TestMempoolRPCTestMempoolAccept(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 8)
	confirmed := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	n.mineBlock(t, "c1", confirmed)
	inPool := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 2, 1500)
	n.send(t, inPool)
	fresh := n.spend(t, []chaintest.SpendableOut{n.coinbase(2)}, 1, 1234)
	fresh2 := n.spend(t, []chaintest.SpendableOut{n.coinbase(3)}, 3, 4321)
	child := n.spend(t, []chaintest.SpendableOut{n.out(inPool, 1)}, 1, 700)
	noFee := n.spend(t, []chaintest.SpendableOut{n.coinbase(4)}, 1, 0)
	highFee := n.spend(t, []chaintest.SpendableOut{n.coinbase(5)}, 1, 5_000_000)
	missing := n.spend(t, []chaintest.SpendableOut{{
		OutPoint: wire.OutPoint{Hash: chainhash.DoubleHashH([]byte("nowhere")), Index: 1},
		Amount:   oneCoin, PkScript: n.pk, Key: n.key,
	}}, 1, 1000)
	poolBefore := n.poolIDs()

	// want is one expected result; fee < 0 means not allowed.
	type want struct {
		tx     *wire.MsgTx
		fee    int64
		reason string
	}
	allowed := func(tx *wire.MsgTx, fee int64) want { return want{tx: tx, fee: fee} }
	refused := func(tx *wire.MsgTx, reason string) want { return want{tx: tx, fee: -1, reason: reason} }
	hexes := func(txs ...*wire.MsgTx) []string {
		out := []string{}
		for _, tx := range txs {
			out = append(out, txHexString(tx))
		}
		return out
	}
	many := make([]string, 26)
	for i := range many {
		many[i] = txHexString(fresh)
	}
	tests := []struct {
		name     string
		params   []any
		want     []want
		wantCode int
		wantMsg  string
	}{
		{name: "allowed", params: []any{hexes(fresh)}, want: []want{allowed(fresh, 1234)}},
		{name: "child of a pool transaction", params: []any{hexes(child)}, want: []want{allowed(child, 700)}},
		{name: "two independent transactions", params: []any{hexes(fresh, fresh2)},
			want: []want{allowed(fresh, 1234), allowed(fresh2, 4321)}},
		{name: "below the minimum relay fee", params: []any{hexes(noFee)}, want: []want{refused(noFee, "min relay fee not met")}},
		{name: "already in the pool", params: []any{hexes(inPool)}, want: []want{refused(inPool, "txn-already-in-mempool")}},
		{name: "already confirmed", params: []any{hexes(confirmed)}, want: []want{refused(confirmed, "txn-already-known")}},
		{name: "missing inputs", params: []any{hexes(missing)}, want: []want{refused(missing, "missing-inputs")}},
		{name: "fee rate above the default maxfeerate", params: []any{hexes(highFee)}, want: []want{refused(highFee, "max-fee-exceeded")}},
		{name: "fee rate above an explicit maxfeerate", params: []any{hexes(fresh), 0.00001}, want: []want{refused(fresh, "max-fee-exceeded")}},
		{name: "maxfeerate 0 disables the check", params: []any{hexes(highFee), 0}, want: []want{allowed(highFee, 5_000_000)}},
		{name: "empty array", params: []any{[]string{}}, wantCode: -8, wantMsg: "Array must contain between 1 and 25 transactions."},
		{name: "26 transactions", params: []any{many}, wantCode: -8, wantMsg: "Array must contain between 1 and 25 transactions."},
		{name: "not an array", params: []any{txHexString(fresh)}, wantCode: -3},
		{name: "array of numbers", params: []any{[]int{1}}, wantCode: -3},
		{name: "undecodable element", params: []any{[]string{"zz"}}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "element not a transaction", params: []any{[]string{"00"}}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "maxfeerate of the wrong type", params: []any{hexes(fresh), "x"}, wantCode: -3},
	}
	for _, test := range tests {
		res, ok := callCase(t, n.srv, test.name, "testmempoolaccept", test.params, test.wantCode, test.wantMsg)
		if !ok {
			continue
		}
		var results []map[string]json.RawMessage
		decode(t, res, &results)
		if len(results) != len(test.want) {
			t.Errorf("%q: %d results, want %d: %s", test.name, len(results), len(test.want), res)
			continue
		}
		for i, w := range test.want {
			r := results[i]
			name := fmt.Sprintf("%q result %d", test.name, i)
			if got := str(t, r["txid"]); got != w.tx.TxHash().String() {
				t.Errorf("%s: txid %s, want %s", name, got, w.tx.TxHash())
			}
			if got := str(t, r["wtxid"]); got != w.tx.WitnessHash().String() {
				t.Errorf("%s: wtxid %s, want %s", name, got, w.tx.WitnessHash())
			}
			var ok bool
			decode(t, r["allowed"], &ok)
			if w.fee < 0 {
				if ok {
					t.Errorf("%s: allowed, want refused with %q", name, w.reason)
				}
				if got := str(t, r["reject-reason"]); got != w.reason {
					t.Errorf("%s: reject-reason %q, want %q", name, got, w.reason)
				}
				for _, k := range []string{"vsize", "fees"} {
					if _, has := r[k]; has {
						t.Errorf("%s: a refused transaction has %q", name, k)
					}
				}
				continue
			}
			if !ok {
				t.Errorf("%s: refused (%s), want allowed", name, r["reject-reason"])
				continue
			}
			if _, has := r["reject-reason"]; has {
				t.Errorf("%s: an allowed transaction has reject-reason %s", name, r["reject-reason"])
			}
			var vsize int64
			decode(t, r["vsize"], &vsize)
			if vsize != vsizeOf(w.tx) {
				t.Errorf("%s: vsize %d, want %d", name, vsize, vsizeOf(w.tx))
			}
			var fees struct {
				Base *float64 `json:"base"`
			}
			decode(t, r["fees"], &fees)
			if fees.Base == nil || *fees.Base != btc(w.fee) {
				t.Errorf("%s: fees %s, want base %v", name, r["fees"], btc(w.fee))
			}
		}
	}
	if got := n.poolIDs(); !reflect.DeepEqual(got, poolBefore) {
		t.Errorf("testmempoolaccept changed the pool: %v, want %v", got, poolBefore)
	}
	var info struct {
		Size int `json:"size"`
	}
	decode(t, mustCall(t, n.srv, "getmempoolinfo"), &info)
	if info.Size != 1 {
		t.Errorf("getmempoolinfo size %d after testmempoolaccept, want 1", info.Size)
	}
}
