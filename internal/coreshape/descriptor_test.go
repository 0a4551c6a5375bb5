package coreshape

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// TestDescriptorChecksum checks BIP 380's checksum against its own test
// vector and descriptors Core printed (decodescript and getrawtransaction
// answers on regtest, mainnet and testnet).
func TestDescriptorChecksum(t *testing.T) {
	for _, d := range []string{
		"raw(deadbeef)#89f8spxm",
		"raw(203e61dd9b70d4f6d5a2c30f955995b4186f0374c781a69cbbce244b7140d24281ad02f003b2)#fejnhmtz",
		"addr(bcrt1qqw3mw734w4x6fy68pxjpe86wkrsaz6y4h278fsg2gdcn0lrrt46sn4yvyt)#ffm9cu7e",
		"addr(bc1q4t7h8phena94prkqtm500mwzupcjvcs2akcdy9)#qmxeweuu",
		"addr(bcrt1qaq0zf78zeshdx0uywktg4qfcwpllm7gxxetln2)#cky7t7p2",
		"addr(n3FnenEMWzrw5XuVwaPG6qgBAsgwVZMtgj)#lr0lv3s0",
	} {
		body, sum, _ := strings.Cut(d, "#")
		if got := DescriptorChecksum(body); got != sum {
			t.Errorf("%s: checksum %q, want %q", body, got, sum)
		}
	}
	if got := DescriptorChecksum("raw(deadbeef)\n"); got != "" {
		t.Errorf("a newline is not a descriptor character, got checksum %q", got)
	}
}

// TestDescriptor checks the descriptors Core infers for output scripts it
// knows nothing behind.
func TestDescriptor(t *testing.T) {
	k33 := "02" + strings.Repeat("ef", 32)
	k65 := "04" + strings.Repeat("ab", 64)
	hybrid := "06" + strings.Repeat("ab", 64)
	// x is the smallest x-only key on the curve, off the one that is not.
	var on, off string
	for i := 1; on == "" || off == ""; i++ {
		x := strings.Repeat("00", 31) + hex.EncodeToString([]byte{byte(i)})
		k, _ := hex.DecodeString(x)
		if _, err := schnorr.ParsePubKey(k); err == nil && on == "" {
			on = x
		} else if err != nil && off == "" {
			off = x
		}
	}
	for _, tc := range []struct{ name, script, typ, addr, want string }{
		// Core's decodescript of this script answered
		// raw(203e...b2)#fejnhmtz.
		{"nonstandard", "203e61dd9b70d4f6d5a2c30f955995b4186f0374c781a69cbbce244b7140d24281ad02f003b2", "nonstandard", "",
			"raw(203e61dd9b70d4f6d5a2c30f955995b4186f0374c781a69cbbce244b7140d24281ad02f003b2)"},
		{"empty", "", "nonstandard", "", "raw()"},
		{"nulldata", "6a0401020304", "nulldata", "", "raw(6a0401020304)"},
		{"p2wpkh", "0014" + strings.Repeat("ab", 20), "witness_v0_keyhash", "rcrt1qexample", "addr(rcrt1qexample)"},
		{"compressed p2pk", "21" + k33 + "ac", "pubkey", "", "pk(" + k33 + ")"},
		{"uncompressed p2pk", "41" + k65 + "ac", "pubkey", "", "pk(" + k65 + ")"},
		{"hybrid p2pk", "41" + hybrid + "ac", "pubkey", "", "raw(41" + hybrid + "ac)"},
		{"multisig", "5221" + k33 + "41" + k65 + "52ae", "multisig", "", "multi(2," + k33 + "," + k65 + ")"},
		{"multisig with a hybrid key", "5121" + k33 + "41" + hybrid + "52ae", "multisig", "", "raw(5121" + k33 + "41" + hybrid + "52ae)"},
		{"taproot on the curve", "5120" + on, "witness_v1_taproot", "rcrt1pexample", "rawtr(" + on + ")"},
		{"taproot off the curve", "5120" + off, "witness_v1_taproot", "rcrt1pexample", "addr(rcrt1pexample)"},
	} {
		script, err := hex.DecodeString(tc.script)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.want + "#" + DescriptorChecksum(tc.want)
		if got := Descriptor(script, tc.typ, tc.addr); got != want {
			t.Errorf("%s: %s, want %s", tc.name, got, want)
		}
	}
}
