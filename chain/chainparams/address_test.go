package chainparams

import (
	"bytes"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
)

// TestDecodeAddress ensures every address kind of each network decodes to
// the script that pays it, and that addresses of other networks, Bitcoin's
// included, and damaged ones are refused.
func TestDecodeAddress(t *testing.T) {
	t.Parallel()
	prog20 := bytes.Repeat([]byte{0x11}, 20)
	prog32 := bytes.Repeat([]byte{0x22}, 32)
	for _, n := range []*Network{Main(), Test(), Regtest()} {
		p := n.AddressParams()
		wpkh, _ := btcutil.NewAddressWitnessPubKeyHash(prog20, p)
		wsh, _ := btcutil.NewAddressWitnessScriptHash(prog32, p)
		tr, _ := btcutil.NewAddressTaproot(prog32, p)
		pkh, _ := btcutil.NewAddressPubKeyHash(prog20, p)
		sh, _ := btcutil.NewAddressScriptHashFromHash(prog20, p)
		for _, a := range []btcutil.Address{wpkh, wsh, tr, pkh, sh} {
			s := a.EncodeAddress()
			got, err := n.DecodeAddress(s)
			if err != nil {
				t.Errorf("%s: %s: %v", n.Name, s, err)
				continue
			}
			if got.EncodeAddress() != s {
				t.Errorf("%s: %s decoded as %s", n.Name, s, got.EncodeAddress())
			}
			if _, err := n.DecodeAddress(strings.ToUpper(s)); strings.HasPrefix(s, n.Bech32HRP+"1") && err != nil {
				t.Errorf("%s: upper-case %s: %v", n.Name, s, err)
			}
		}
	}

	reg := Regtest()
	mainWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(prog20, Main().AddressParams())
	btcWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(prog20, &chaincfg.MainNetParams)
	btcPKH, _ := btcutil.NewAddressPubKeyHash(prog20, &chaincfg.MainNetParams)
	data, _ := bech32.ConvertBits(prog32, 8, 5, true)
	v0m, _ := bech32.EncodeM(reg.Bech32HRP, append([]byte{0}, data...))
	v1plain, _ := bech32.Encode(reg.Bech32HRP, append([]byte{1}, data...))
	good, _ := btcutil.NewAddressWitnessPubKeyHash(prog20, reg.AddressParams())
	bad := []byte(good.EncodeAddress())
	bad[len(bad)-1] ^= 1
	for name, s := range map[string]string{
		"main address on regtest":  mainWPKH.EncodeAddress(),
		"bitcoin bech32 address":   btcWPKH.EncodeAddress(),
		"bitcoin base58 address":   btcPKH.EncodeAddress(),
		"v0 with bech32m checksum": v0m,
		"v1 with bech32 checksum":  v1plain,
		"damaged checksum":         string(bad),
		"mixed case":               strings.ToUpper(good.EncodeAddress()[:6]) + good.EncodeAddress()[6:],
		"empty":                    "",
		"garbage":                  "not an address",
	} {
		if _, err := reg.DecodeAddress(s); err == nil {
			t.Errorf("%s (%q): accepted", name, s)
		}
	}
	if script, err := reg.AddressScript(good.EncodeAddress()); err != nil || len(script) != 22 || script[0] != 0 {
		t.Errorf("AddressScript: %x, %v", script, err)
	}
}
