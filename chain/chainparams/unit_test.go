package chainparams_test

import (
	"testing"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// TestUnit ensures each network names its coin: the built-in networks
// their fixed units, a custom network with regtest's prefix (a local
// testnet's) regtest's, and other custom networks one made from their
// bech32 prefix.
func TestUnit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		net  *chainparams.Network
		want string
	}{
		{"main", chainparams.Main(), "CRN"},
		{"test", chainparams.Test(), "tCRN"},
		{"regtest", chainparams.Regtest(), "rCRN"},
		{"localnet on regtest", mustParseSpec(t, specJSON(`"base": "regtest"`)), "rCRN"},
		{"custom on main", mustParseSpec(t, specJSON(`"base": "main", "pow_limit_bits": "0x207fffff"`)), "CRN"},
		{"custom on test", mustParseSpec(t, specJSON(`"base": "test", "pow_limit_bits": "0x207fffff"`)), "tCRN"},
		{"prefix ending in crn", mustParseSpec(t, specJSON(`"bech32_hrp": "LCRN"`)), "lCRN"},
		{"prefix ending in crn on main", mustParseSpec(t, specJSON(`"base": "main", "pow_limit_bits": "0x207fffff", "bech32_hrp": "xcrn"`)), "xCRN"},
		{"other prefix", mustParseSpec(t, specJSON(`"bech32_hrp": "dev"`)), "DEV"},
		{"no prefix", &chainparams.Network{Name: "bare"}, "CRN"},
	}
	for _, test := range tests {
		if got := test.net.Unit(); got != test.want {
			t.Errorf("%s (hrp %q): unit %q, want %q", test.name, test.net.Bech32HRP, got, test.want)
		}
	}
}
