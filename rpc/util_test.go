package rpc

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// TestValidateAddress ensures validateaddress accepts every address type of
// its network with Core's fields, and rejects other networks' addresses
// and garbage with isvalid false and an error.
func TestValidateAddress(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	params := r.net.AddressParams()
	pkHash := btcutil.Hash160(r.key.PubKey().SerializeCompressed())
	opTrueHash := sha256Sum(r.p2shRedeem)
	xOnly := schnorr.SerializePubKey(r.key.PubKey())
	p2wsh, _ := btcutil.NewAddressWitnessScriptHash(opTrueHash[:], params)
	p2tr, _ := btcutil.NewAddressTaproot(xOnly, params)
	mainNet := chainparams.Main().AddressParams()
	mainWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(pkHash, mainNet)
	mainPKH, _ := btcutil.NewAddressPubKeyHash(pkHash, mainNet)
	testWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(pkHash, chainparams.Test().AddressParams())
	btcWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(pkHash, &chaincfg.MainNetParams)
	btcTestWPKH, _ := btcutil.NewAddressWitnessPubKeyHash(pkHash, &chaincfg.TestNet3Params)
	script := func(a btcutil.Address) string {
		pk, _ := txscript.PayToAddrScript(a)
		return hex.EncodeToString(pk)
	}
	badChecksum := r.p2wpkhAddr[:len(r.p2wpkhAddr)-1] + map[bool]string{true: "q", false: "p"}[!strings.HasSuffix(r.p2wpkhAddr, "q")]

	type valid struct {
		script     string
		isScript   bool
		isWitness  bool
		version    int // -1: no witness fields
		program    string
		normalized string // the address as answered, when it differs
	}
	tests := []struct {
		name    string
		address any
		valid   *valid
	}{
		{name: "P2WPKH", address: r.p2wpkhAddr, valid: &valid{script: hex.EncodeToString(r.p2wpkhPkScript),
			isWitness: true, version: 0, program: hex.EncodeToString(pkHash)}},
		{name: "P2WSH", address: p2wsh.EncodeAddress(), valid: &valid{script: script(p2wsh), isScript: true,
			isWitness: true, version: 0, program: hex.EncodeToString(opTrueHash[:])}},
		{name: "P2TR", address: p2tr.EncodeAddress(), valid: &valid{script: script(p2tr), isScript: true,
			isWitness: true, version: 1, program: hex.EncodeToString(xOnly)}},
		{name: "P2PKH", address: r.p2pkhAddr, valid: &valid{script: hex.EncodeToString(r.p2pkhPkScript), version: -1}},
		{name: "P2SH", address: r.p2shAddr, valid: &valid{script: hex.EncodeToString(r.txC.TxOut[1].PkScript), isScript: true, version: -1}},
		{name: "upper-case bech32", address: strings.ToUpper(r.p2wpkhAddr), valid: &valid{script: hex.EncodeToString(r.p2wpkhPkScript),
			isWitness: true, version: 0, program: hex.EncodeToString(pkHash), normalized: r.p2wpkhAddr}},
		{name: "main network bech32", address: mainWPKH.EncodeAddress()},
		{name: "main network base58", address: mainPKH.EncodeAddress()},
		{name: "test network bech32", address: testWPKH.EncodeAddress()},
		{name: "Bitcoin main bech32", address: btcWPKH.EncodeAddress()},
		{name: "Bitcoin testnet bech32", address: btcTestWPKH.EncodeAddress()},
		{name: "bad checksum", address: badChecksum},
		{name: "garbage", address: "notanaddress"},
		{name: "empty", address: ""},
		{name: "hex pubkey", address: hex.EncodeToString(r.key.PubKey().SerializeCompressed())},
	}
	for _, test := range tests {
		res, rerr := call(t, r.srv, "validateaddress", test.address)
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		m := object(t, res)
		var got struct {
			IsValid        bool   `json:"isvalid"`
			Address        string `json:"address"`
			ScriptPubKey   string `json:"scriptPubKey"`
			IsScript       bool   `json:"isscript"`
			IsWitness      bool   `json:"iswitness"`
			WitnessVersion int    `json:"witness_version"`
			WitnessProgram string `json:"witness_program"`
			Error          string `json:"error"`
		}
		decode(t, res, &got)
		if test.valid == nil {
			if got.IsValid || got.Error == "" {
				t.Errorf("%q (%v): %s; want isvalid false with an error", test.name, test.address, res)
			}
			for k := range m {
				if k != "isvalid" && k != "error" && k != "error_locations" {
					t.Errorf("%q: unexpected field %s of an invalid address", test.name, k)
				}
			}
			continue
		}
		v := test.valid
		want := []string{"isvalid", "address", "scriptPubKey", "isscript", "iswitness"}
		if v.version >= 0 {
			want = append(want, "witness_version", "witness_program")
		}
		checkKeys(t, test.name, m, want...)
		addr := fmt.Sprint(test.address)
		if v.normalized != "" {
			addr = v.normalized
		}
		if !got.IsValid || got.Address != addr || got.ScriptPubKey != v.script || got.IsScript != v.isScript ||
			got.IsWitness != v.isWitness || (v.version >= 0 && (got.WitnessVersion != v.version || got.WitnessProgram != v.program)) {
			t.Errorf("%q: got %s; want %+v", test.name, res, *v)
		}
	}
}

// TestGetIndexInfo ensures getindexinfo lists the transaction index, the
// basic block filter index and the address index when they are on, by name
// or not, and nothing otherwise.
func TestGetIndexInfo(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	off := newTestNode(t, nodeConfig{blocks: 1})
	filterOnly := newTestNode(t, nodeConfig{blocks: 2, filters: true})
	addrOnly := newTestNode(t, nodeConfig{blocks: 3, addrIndex: true})
	const (
		txOn     = `{"txindex":{"synced":true,"best_block_height":103}}`
		filterOn = `{"basic block filter index":{"synced":true,"best_block_height":103}}`
		on       = `{"basic block filter index":{"synced":true,"best_block_height":103},"txindex":{"synced":true,"best_block_height":103}}`
	)
	tests := []struct {
		name   string
		srv    *Server
		params []any
		want   string
	}{
		{name: "txindex on", srv: r.srv, want: on},
		{name: "txindex on, by name", srv: r.srv, params: []any{"txindex"}, want: txOn},
		{name: "filter index on, by name", srv: r.srv, params: []any{"basic block filter index"}, want: filterOn},
		{name: "filter index only", srv: filterOnly.srv, want: `{"basic block filter index":{"synced":true,"best_block_height":2}}`},
		{name: "address index only", srv: addrOnly.srv, want: `{"addrindex":{"synced":true,"best_block_height":3}}`},
		{name: "address index, by name", srv: addrOnly.srv, params: []any{"addrindex"}, want: `{"addrindex":{"synced":true,"best_block_height":3}}`},
		{name: "address index off, by name", srv: r.srv, params: []any{"addrindex"}, want: `{}`},
		{name: "txindex on, other index", srv: r.srv, params: []any{"coinstatsindex"}, want: `{}`},
		{name: "txindex off", srv: off.srv, want: `{}`},
		{name: "txindex off, by name", srv: off.srv, params: []any{"txindex"}, want: `{}`},
		{name: "filter index off, by name", srv: off.srv, params: []any{"basic block filter index"}, want: `{}`},
	}
	for _, test := range tests {
		res, rerr := call(t, test.srv, "getindexinfo", test.params...)
		if rerr != nil || string(res) != test.want {
			t.Errorf("%q: %s %v, want %s", test.name, res, rerr, test.want)
		}
	}
}
