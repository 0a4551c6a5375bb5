package coreshape

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestScriptAsm checks ScriptAsm against Core's ScriptToAsmStr; the
// signature is the one Core's rpc_decodescript.py decodes.
func TestScriptAsm(t *testing.T) {
	h20 := strings.Repeat("ab", 20)
	h32 := strings.Repeat("cd", 32)
	k33 := "02" + strings.Repeat("ef", 32)
	// A strictly encoded signature without its hash type byte.
	sig := "304502207fa7a6d1e0ee81132a269ad84e68d695483745cde8b541e3bf630749894e342a022100c1f7ab20e13e22fb95281a870f3dcf38d782e53023ee313d741ad0cfbc0c5090"
	// The same with R padded by a zero it does not need: not strict DER.
	padded := "30460221007fa7a6d1e0ee81132a269ad84e68d695483745cde8b541e3bf630749894e342a022100c1f7ab20e13e22fb95281a870f3dcf38d782e53023ee313d741ad0cfbc0c5090"
	for _, tc := range []struct {
		name, script string
		sighash      bool
		want         string
	}{
		{"empty", "", false, ""},
		{"p2pkh", "76a914" + h20 + "88ac", false, "OP_DUP OP_HASH160 " + h20 + " OP_EQUALVERIFY OP_CHECKSIG"},
		{"p2sh", "a914" + h20 + "87", false, "OP_HASH160 " + h20 + " OP_EQUAL"},
		{"p2wpkh", "0014" + h20, false, "0 " + h20},
		{"p2tr", "5120" + h32, false, "1 " + h32},
		{"witness v16", "6002" + "abcd", false, "16 -19883"},
		{"multisig", "5121" + k33 + "21" + k33 + "52ae", false, "1 " + k33 + " " + k33 + " 2 OP_CHECKMULTISIG"},
		{"op_return zero", "6a00", false, "OP_RETURN 0"},
		{"op_return number", "6a0400e1f505", false, "OP_RETURN 100000000"},
		{"op_return data", "6a05636169726e", false, "OP_RETURN 636169726e"},
		{"coinbase height", "03a0860100", false, "100000 0"},
		{"signed numbers", "0181 0180 02ff00 02ff80 04ffffff7f", false, "-1 0 255 -255 2147483647"},
		{"pushdata forms", "4c0101 4d020001ff 4e05000000" + "0102030405", false, "1 -32513 0102030405"},
		{"named opcodes", "4f 50 60 61 b0 b1 b2 b3 b9 ba", false,
			"-1 OP_RESERVED 16 OP_NOP OP_NOP1 OP_CHECKLOCKTIMEVERIFY OP_CHECKSEQUENCEVERIFY OP_NOP4 OP_NOP10 OP_CHECKSIGADD"},
		{"unknown opcodes", "bb fa fe ff", false, "OP_UNKNOWN OP_UNKNOWN OP_UNKNOWN OP_INVALIDOPCODE"},
		{"timelock", "03a08601b175", false, "100000 OP_CHECKLOCKTIMEVERIFY OP_DROP"},
		{"push past end", "76 14abab", false, "OP_DUP [error]"},
		{"length cut short", "4d01", false, "[error]"},
		{"signature", "48" + sig + "01 21" + k33, true, sig + "[ALL] " + k33},
		{"signature anyonecanpay", "48" + sig + "83", true, sig + "[SINGLE|ANYONECANPAY]"},
		{"signature, no decoding asked", "48" + sig + "01", false, sig + "01"},
		{"undefined hash type", "48" + sig + "04", true, sig + "04"},
		{"not strict DER", "49" + padded + "01", true, padded + "01"},
		{"unspendable", "6a48" + sig + "01", true, "OP_RETURN " + sig + "01"},
	} {
		script, err := hex.DecodeString(strings.ReplaceAll(tc.script, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ScriptAsm(script, tc.sighash); got != tc.want {
			t.Errorf("%s: got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
