package rpc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
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
