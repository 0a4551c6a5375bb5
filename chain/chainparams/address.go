package chainparams

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/txscript"
)

// DecodeAddress decodes an address of this network: bech32/bech32m segwit
// addresses with the network's human-readable part (P2WPKH, P2WSH, P2TR) and
// base58 P2PKH/P2SH addresses with its prefixes. btcutil.DecodeAddress alone
// recognizes bech32 only for HRPs registered globally in chaincfg, which
// Cairn's are not.
func (n *Network) DecodeAddress(s string) (btcutil.Address, error) {
	params := n.AddressParams()
	var addr btcutil.Address
	var err error
	if strings.HasPrefix(strings.ToLower(s), n.Bech32HRP+"1") {
		addr, err = n.decodeSegwit(s)
	} else {
		addr, err = btcutil.DecodeAddress(s, params)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid address %q: %w", s, err)
	}
	if _, isPubKey := addr.(*btcutil.AddressPubKey); isPubKey {
		// btcutil reads a hex public key as an "address"; no wallet
		// encodes one as such, and Core refuses it.
		return nil, fmt.Errorf("invalid address %q: a public key is not an address", s)
	}
	if !addr.IsForNet(params) {
		return nil, fmt.Errorf("%q is not an address of network %s", s, n.Name)
	}
	return addr, nil
}

// AddressScript decodes an address of this network into the output script
// that pays it.
func (n *Network) AddressScript(s string) ([]byte, error) {
	addr, err := n.DecodeAddress(s)
	if err != nil {
		return nil, err
	}
	return txscript.PayToAddrScript(addr)
}

// decodeSegwit decodes a segwit address (BIP173, and BIP350's bech32m from
// witness version 1).
func (n *Network) decodeSegwit(s string) (btcutil.Address, error) {
	hrp, data, encoding, err := bech32.DecodeGeneric(s)
	if err != nil {
		return nil, err
	}
	if hrp != n.Bech32HRP {
		return nil, fmt.Errorf("human-readable part %q, want %q", hrp, n.Bech32HRP)
	}
	if len(data) < 1 {
		return nil, errors.New("no witness version")
	}
	version := data[0]
	program, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil {
		return nil, err
	}
	if len(program) < 2 || len(program) > 40 {
		return nil, fmt.Errorf("witness program of %d bytes", len(program))
	}
	if (version == 0) != (encoding == bech32.Version0) {
		return nil, errors.New("wrong checksum variant: bech32 for witness version 0, bech32m above")
	}
	params := n.AddressParams()
	switch {
	case version == 0 && len(program) == 20:
		return btcutil.NewAddressWitnessPubKeyHash(program, params)
	case version == 0 && len(program) == 32:
		return btcutil.NewAddressWitnessScriptHash(program, params)
	case version == 0:
		return nil, fmt.Errorf("witness version 0 program of %d bytes (want 20 or 32)", len(program))
	case version == 1 && len(program) == 32:
		return btcutil.NewAddressTaproot(program, params)
	}
	return nil, fmt.Errorf("witness version %d program of %d bytes is not supported", version, len(program))
}
