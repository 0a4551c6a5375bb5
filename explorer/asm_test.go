package explorer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEsploraAsm checks the assembly against rust-bitcoin's rules, as
// electrs prints it on mempool.space and blockstream.info.
func TestEsploraAsm(t *testing.T) {
	h20 := strings.Repeat("ab", 20)
	h32 := strings.Repeat("cd", 32)
	k33 := "02" + strings.Repeat("ef", 32)
	d80 := strings.Repeat("11", 80)
	d256 := strings.Repeat("22", 256)
	for _, tc := range []struct{ name, script, want string }{
		{"empty", "", ""},
		{"p2pkh", "76a914" + h20 + "88ac", "OP_DUP OP_HASH160 OP_PUSHBYTES_20 " + h20 + " OP_EQUALVERIFY OP_CHECKSIG"},
		{"p2sh", "a914" + h20 + "87", "OP_HASH160 OP_PUSHBYTES_20 " + h20 + " OP_EQUAL"},
		{"p2wpkh", "0014" + h20, "OP_0 OP_PUSHBYTES_20 " + h20},
		{"p2wsh", "0020" + h32, "OP_0 OP_PUSHBYTES_32 " + h32},
		{"p2tr", "5120" + h32, "OP_PUSHNUM_1 OP_PUSHBYTES_32 " + h32},
		{"p2pk", "21" + k33 + "ac", "OP_PUSHBYTES_33 " + k33 + " OP_CHECKSIG"},
		{"multisig", "5221" + k33 + "21" + k33 + "52ae",
			"OP_PUSHNUM_2 OP_PUSHBYTES_33 " + k33 + " OP_PUSHBYTES_33 " + k33 + " OP_PUSHNUM_2 OP_CHECKMULTISIG"},
		{"op_return pushdata1", "6a4c50" + d80, "OP_RETURN OP_PUSHDATA1 " + d80},
		{"pushdata2", "4d0001" + d256, "OP_PUSHDATA2 " + d256},
		{"pushdata4", "4e01000000ff", "OP_PUSHDATA4 ff"},
		{"empty pushdata1", "4c00", "OP_PUSHDATA1"},
		{"timelocks", "03a08601b175 0190b2", "OP_PUSHBYTES_3 a08601 OP_CLTV OP_DROP OP_PUSHBYTES_1 90 OP_CSV"},
		{"small numbers", "4f 50 51 60 00", "OP_PUSHNUM_NEG1 OP_RESERVED OP_PUSHNUM_1 OP_PUSHNUM_16 OP_0"},
		{"nops and the rest", "61 b0 b3 b9 ba bb fe ff",
			"OP_NOP OP_NOP1 OP_NOP4 OP_NOP10 OP_CHECKSIGADD OP_RETURN_187 OP_RETURN_254 OP_INVALIDOPCODE"},
		{"disabled", "7e 8d 95 99", "OP_CAT OP_2MUL OP_MUL OP_RSHIFT"},
		{"push past end", "76 14abab", "OP_DUP OP_PUSHBYTES_20 <push past end>"},
		{"pushdata1 past end", "4c05ab", "OP_PUSHDATA1 <push past end>"},
		{"length cut short", "76 4d01", "OP_DUP<unexpected end>"},
		{"length missing", "4c", "<unexpected end>"},
	} {
		if got := esploraAsm(unhex(t, tc.script)); got != tc.want {
			t.Errorf("%s: got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestOpNamesMatchBtcd checks the name table against btcd's, which names
// every opcode from OP_NOP on as Core does, except the two rust-bitcoin
// shortens and the unknown ones.
func TestOpNamesMatchBtcd(t *testing.T) {
	btcd := map[byte]string{}
	for name, op := range txscript.OpcodeByName {
		if _, ok := btcd[op]; !ok || len(name) > len(btcd[op]) {
			btcd[op] = name // the longer of synonyms: OP_NOP2 loses to OP_CHECKLOCKTIMEVERIFY
		}
	}
	renamed := map[byte]string{0xb1: "OP_CHECKLOCKTIMEVERIFY", 0xb2: "OP_CHECKSEQUENCEVERIFY"}
	for op := 0x61; op <= 0xba; op++ {
		got, want := opName(byte(op)), btcd[byte(op)]
		if r, ok := renamed[byte(op)]; ok {
			if want != r {
				t.Errorf("btcd names 0x%02x %s, want %s", op, want, r)
			}
			continue
		}
		if got != want {
			t.Errorf("0x%02x: %s, btcd %s", op, got, want)
		}
	}
	if opName(0xb1) != "OP_CLTV" || opName(0xb2) != "OP_CSV" {
		t.Errorf("BIP 65 and 112 opcodes: %s %s", opName(0xb1), opName(0xb2))
	}
}

// TestInnerScripts checks that the inputs reveal the scripts electrs
// shows: P2SH redeem scripts, P2WSH and P2SH-P2WSH witness scripts, and
// taproot tapscripts (an annex set aside), and nothing else.
func TestInnerScripts(t *testing.T) {
	srv, err := New(Config{Chain: nopChain{}})
	if err != nil {
		t.Fatal(err)
	}
	h20 := bytes.Repeat([]byte{0xab}, 20)
	h32 := bytes.Repeat([]byte{0xcd}, 32)
	sig := bytes.Repeat([]byte{0x30}, 71)
	ws := unhex(t, "5221"+"02"+strings.Repeat("ef", 32)+"21"+"03"+strings.Repeat("ef", 32)+"52ae")
	wsAsm := esploraAsm(ws)
	p2sh := append(append([]byte{0xa9, 0x14}, h20...), 0x87)
	p2wsh := append([]byte{0x00, 0x20}, h32...)
	p2tr := append([]byte{0x51, 0x20}, h32...)
	p2wpkh := append([]byte{0x00, 0x14}, h20...)
	redeemP2WSH := p2wsh                                // P2SH-P2WSH: the redeem script is a P2WSH program
	legacyRedeem := append(ws[:len(ws):len(ws)], ws...) // 140 bytes: pushed by OP_PUSHDATA1
	tapscript := unhex(t, "20"+strings.Repeat("ef", 32)+"ac")
	control := append([]byte{0xc0}, h32...)
	push := func(b []byte) []byte {
		s, err := txscript.NewScriptBuilder().AddData(b).Script()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	type want struct{ redeem, witness *string }
	str := func(s string) *string { return &s }
	cases := []struct {
		name    string
		prevout []byte
		sigScr  []byte
		witness wire.TxWitness
		want    want
	}{
		{"p2sh-p2wsh", p2sh, push(redeemP2WSH), wire.TxWitness{nil, sig, ws}, want{str("OP_0 OP_PUSHBYTES_32 " + hex.EncodeToString(h32)), &wsAsm}},
		{"p2sh legacy", p2sh, append(append([]byte{0x00}, push(sig)...), push(legacyRedeem)...), nil, want{str(esploraAsm(legacyRedeem)), nil}},
		{"p2sh ending in a number", p2sh, []byte{0x51}, nil, want{}},
		{"p2sh with a cut push", p2sh, []byte{0x14, 0x01}, nil, want{}},
		{"p2wsh", p2wsh, nil, wire.TxWitness{sig, ws}, want{nil, &wsAsm}},
		{"p2tr script path", p2tr, nil, wire.TxWitness{sig, tapscript, control}, want{nil, str(esploraAsm(tapscript))}},
		{"p2tr script path with annex", p2tr, nil, wire.TxWitness{sig, tapscript, control, {0x50, 0x01}}, want{nil, str(esploraAsm(tapscript))}},
		{"p2tr key path", p2tr, nil, wire.TxWitness{bytes.Repeat([]byte{1}, 64)}, want{}},
		{"p2tr key path with annex", p2tr, nil, wire.TxWitness{bytes.Repeat([]byte{1}, 64), {0x50}}, want{}},
		{"p2wpkh", p2wpkh, nil, wire.TxWitness{sig, h32[:1]}, want{}},
	}
	tx := &wire.MsgTx{Version: 2, TxOut: []*wire.TxOut{{Value: 1, PkScript: p2wpkh}}}
	var prevouts []*wire.TxOut
	for i, c := range cases {
		tx.TxIn = append(tx.TxIn, &wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: uint32(i)}, SignatureScript: c.sigScr, Witness: c.witness})
		prevouts = append(prevouts, &wire.TxOut{Value: 1000, PkScript: c.prevout})
	}
	raw, err := json.Marshal(srv.txJSON(&foundTx{tx: tx, txid: tx.TxHash(), prevouts: prevouts}))
	if err != nil {
		t.Fatal(err)
	}
	// Read back as a client would: the keys are absent where nothing is
	// revealed.
	var got struct {
		Vin []map[string]any `json:"vin"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		for key, w := range map[string]*string{"inner_redeemscript_asm": c.want.redeem, "inner_witnessscript_asm": c.want.witness} {
			v, ok := got.Vin[i][key]
			switch {
			case w == nil && ok:
				t.Errorf("%s: %s = %v, want none", c.name, key, v)
			case w != nil && v != *w:
				t.Errorf("%s: %s = %v, want %q", c.name, key, v, *w)
			}
		}
	}
	if a := got.Vin[0]["scriptsig_asm"]; a != "OP_PUSHBYTES_34 "+hex.EncodeToString(redeemP2WSH) {
		t.Errorf("scriptsig_asm %v", a)
	}
}
