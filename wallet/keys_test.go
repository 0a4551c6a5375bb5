package wallet

import (
	"encoding/hex"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/cairnchain/cairn/chain/chainparams"
)

const abandon = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// TestDerivationVectors reproduces the published BIP84 and BIP86 test
// vectors of the mnemonic "abandon ... about" with Bitcoin's mainnet
// parameters.
func TestDerivationVectors(t *testing.T) {
	k, err := NewKeychain(abandon, "", &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path KeyPath
		addr string
		// wif (BIP84) or internal x-only key (BIP86), when the vector gives one
		key string
	}{
		{KeyPath{P2WPKH, 0, 0}, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d"},
		{KeyPath{P2WPKH, 0, 1}, "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g", "Kxpf5b8p3qX56DKEe5NqWbNUP9MnqoRFzZwHRtsFqhzuvUJsYZCy"},
		{KeyPath{P2WPKH, 1, 0}, "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el", "KxuoxufJL5csa1Wieb2kp29VNdn92Us8CoaUG3aGtPtcF3AzeXvF"},
		{KeyPath{P2TR, 0, 0}, "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr", "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115"},
		{KeyPath{P2TR, 0, 1}, "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh", "83dfe85a3151d2517290da461fe2815591ef69f2b18a2ce63f01697a8b313145"},
		{KeyPath{P2TR, 1, 0}, "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7", "399f1b2f4393f29a18c937859c5dd8a77350103157eb880f02e8c08214277cef"},
	} {
		addr, _, err := k.Address(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if addr.EncodeAddress() != tc.addr {
			t.Errorf("%s: address %s, want %s", k.String(tc.path), addr.EncodeAddress(), tc.addr)
		}
		priv, _ := k.PrivKey(tc.path)
		var key string
		if tc.path.Type == P2WPKH {
			wif, _ := btcutil.NewWIF(priv, &chaincfg.MainNetParams, true)
			key = wif.String()
		} else {
			key = hex.EncodeToString(schnorr.SerializePubKey(priv.PubKey()))
		}
		if key != tc.key {
			t.Errorf("%s: key %s, want %s", k.String(tc.path), key, tc.key)
		}
	}
}

// TestDerivationPerNetwork ensures a network's coin type and HRP shape its
// addresses: regtest uses coin type 1 (Bitcoin's testnet BIP84 vector
// m/84'/1'/0'/0/0 under "rcrn"), main Cairn's own.
func TestDerivationPerNetwork(t *testing.T) {
	reg, err := NewKeychain(abandon, "", chainparams.Regtest().AddressParams())
	if err != nil {
		t.Fatal(err)
	}
	test, _ := NewKeychain(abandon, "", &chaincfg.TestNet3Params)
	a, _, _ := reg.Address(KeyPath{P2WPKH, 0, 0})
	b, _, _ := test.Address(KeyPath{P2WPKH, 0, 0})
	if a.ScriptAddress() == nil || string(a.ScriptAddress()) != string(b.ScriptAddress()) || a.EncodeAddress()[:5] != "rcrn1" {
		t.Fatalf("regtest %s vs testnet %s: same key hash and HRP rcrn expected", a, b)
	}
	if got := reg.String(KeyPath{P2TR, 1, 7}); got != "m/86'/1'/0'/1/7" {
		t.Fatalf("path %s", got)
	}
	main, _ := NewKeychain(abandon, "", chainparams.Main().AddressParams())
	m, _, _ := main.Address(KeyPath{P2WPKH, 0, 0})
	if string(m.ScriptAddress()) == string(a.ScriptAddress()) || m.EncodeAddress()[:4] != "crn1" {
		t.Fatalf("main address %s should use Cairn's own coin type", m)
	}
	if _, err := NewKeychain("abandon abandon", "", &chaincfg.MainNetParams); err != ErrBadMnemonic {
		t.Fatalf("bad mnemonic: %v", err)
	}
	for _, words := range []int{12, 24} {
		m, err := NewMnemonic(words)
		if err != nil || len(splitWords(m)) != words {
			t.Fatalf("NewMnemonic(%d) = %q, %v", words, m, err)
		}
	}
	if _, err := NewMnemonic(13); err == nil {
		t.Fatal("13 words accepted")
	}
}
