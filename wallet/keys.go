package wallet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/tyler-smith/go-bip39"
	"golang.org/x/text/unicode/norm"
)

// AddrType is the kind of output an account pays to.
type AddrType string

// The account kinds: BIP84 (native segwit v0, the default) and BIP86
// (taproot, key path only).
const (
	P2WPKH AddrType = "wpkh"
	P2TR   AddrType = "tr"
)

// purpose is the BIP43 purpose of an account kind.
func (t AddrType) purpose() (uint32, error) {
	switch t {
	case P2WPKH:
		return 84, nil
	case P2TR:
		return 86, nil
	}
	return 0, fmt.Errorf("wallet: unknown address type %q (want wpkh or tr)", string(t))
}

// The two BIP44 chains of an account.
const (
	External uint32 = 0 // receive addresses
	Internal uint32 = 1 // change addresses
)

// NewMnemonic returns a fresh BIP39 mnemonic of 12 or 24 words.
func NewMnemonic(words int) (string, error) {
	bits := map[int]int{12: 128, 24: 256}[words]
	if bits == 0 {
		return "", fmt.Errorf("wallet: a mnemonic has 12 or 24 words, not %d", words)
	}
	entropy, err := bip39.NewEntropy(bits)
	if err != nil {
		return "", fmt.Errorf("wallet: %w", err)
	}
	return bip39.NewMnemonic(entropy)
}

// ErrBadMnemonic marks a mnemonic that is not valid BIP39.
var ErrBadMnemonic = errors.New("wallet: not a valid BIP39 mnemonic (wrong word, word count or checksum)")

// Keychain derives a wallet's keys from its seed, for one network's
// encodings and coin type.
type Keychain struct {
	master *hdkeychain.ExtendedKey
	params *chaincfg.Params
}

// NewKeychain derives the master key of a BIP39 mnemonic and passphrase.
func NewKeychain(mnemonic, passphrase string, params *chaincfg.Params) (*Keychain, error) {
	// BIP39 normalizes both to NFKD; go-bip39 does not.
	seed, err := bip39.NewSeedWithErrorChecking(norm.NFKD.String(mnemonic), norm.NFKD.String(passphrase))
	if err != nil {
		return nil, ErrBadMnemonic
	}
	master, err := hdkeychain.NewMaster(seed, params)
	if err != nil {
		return nil, fmt.Errorf("wallet: master key: %w", err)
	}
	return &Keychain{master: master, params: params}, nil
}

// KeyPath names a key of the wallet: m/purpose'/coin'/0'/chain/index.
type KeyPath struct {
	Type  AddrType `json:"type"`
	Chain uint32   `json:"chain"`
	Index uint32   `json:"index"`
}

// path returns the derivation path of p, hardened steps marked.
func (k *Keychain) path(p KeyPath) ([]uint32, error) {
	purpose, err := p.Type.purpose()
	if err != nil {
		return nil, err
	}
	h := uint32(hdkeychain.HardenedKeyStart)
	return []uint32{purpose + h, k.params.HDCoinType + h, h, p.Chain, p.Index}, nil
}

// String writes p as a BIP32 path for the keychain's coin type.
func (k *Keychain) String(p KeyPath) string {
	purpose, _ := p.Type.purpose()
	return fmt.Sprintf("m/%d'/%d'/0'/%d/%d", purpose, k.params.HDCoinType, p.Chain, p.Index)
}

// PrivKey derives the private key at p.
func (k *Keychain) PrivKey(p KeyPath) (*btcec.PrivateKey, error) {
	steps, err := k.path(p)
	if err != nil {
		return nil, err
	}
	key := k.master
	for _, s := range steps {
		if key, err = key.Derive(s); err != nil {
			return nil, fmt.Errorf("wallet: derive %s: %w", k.String(p), err)
		}
	}
	return key.ECPrivKey()
}

// Address returns the address and output script of the key at p: P2WPKH
// of the public key, or P2TR of the BIP86 tweak of it (no script path).
func (k *Keychain) Address(p KeyPath) (btcutil.Address, []byte, error) {
	priv, err := k.PrivKey(p)
	if err != nil {
		return nil, nil, err
	}
	return addressOf(p.Type, priv.PubKey(), k.params)
}

// addressOf returns the address of a public key for an account kind.
func addressOf(t AddrType, pub *btcec.PublicKey, params *chaincfg.Params) (btcutil.Address, []byte, error) {
	var addr btcutil.Address
	var err error
	switch t {
	case P2WPKH:
		addr, err = btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), params)
	case P2TR:
		out := txscript.ComputeTaprootKeyNoScript(pub)
		addr, err = btcutil.NewAddressTaproot(schnorr.SerializePubKey(out), params)
	default:
		_, err = t.purpose()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: address: %w", err)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("wallet: address script: %w", err)
	}
	return addr, script, nil
}

// splitWords splits a mnemonic on white space.
func splitWords(s string) []string { return strings.Fields(s) }
