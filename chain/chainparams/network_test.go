package chainparams

import (
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/consensus"
)

// TestGenesisBlocks ensures each built-in network's genesis block has its
// hard-coded hash, meets its own proof of work at the network's limit, has a
// valid merkle root and passes the context-free block checks.
func TestGenesisBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		net  *Network
		hash string
	}{
		{"main", Main(), "0000000673315b87ef425a8cb37123476e724cb22f9a2ab5c4e890b9115c07ee"},
		{"test", Test(), "000000003cf8e2e64f242459c439261a2b64fe91d7909e419dfc8f2c99c5ea3a"},
		{"regtest", Regtest(), "46da8185bd750310f1bb0ae35d5d782606f913746fa61dec954deee63fd3f071"},
	}
	for _, test := range tests {
		g := test.net.Genesis
		want, _ := chainhash.NewHashFromStr(test.hash)
		if got := consensus.BlockHash(&g.Header); got != *want || test.net.GenesisHash() != *want {
			t.Errorf("%s: genesis hash %v, want %v", test.name, got, want)
		}
		if g.BlockHash() != *want {
			t.Errorf("%s: btcd wire hashes the genesis as %v", test.name, g.BlockHash())
		}
		if g.Header.Bits != test.net.Consensus.PowLimitBits {
			t.Errorf("%s: genesis bits %08x, pow limit %08x", test.name, g.Header.Bits, test.net.Consensus.PowLimitBits)
		}
		if _, err := consensus.CheckBlockSanity(g, test.net.Consensus.PowLimit); err != nil {
			t.Errorf("%s: genesis fails sanity: %v", test.name, err)
		}
		if err := consensus.CheckCoinbaseHeight(g.Transactions[0], 0); err != nil {
			t.Errorf("%s: genesis coinbase: %v", test.name, err)
		}
	}
}

// TestNetworkParams ensures the built-in networks carry SPEC section 2's
// table.
func TestNetworkParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		net              *Network
		spacing, half    int64
		future           int64
		halving          int32
		hrp              string
		coinType         uint32
		p2p, rpc         uint16
		noRetarget, mdns bool
	}{
		{Main(), 60, 17_280, 900, 210_000, "crn", MainCoinType, 7333, 7332, false, false},
		{Test(), 30, 8_640, 450, 210_000, "tcrn", 1, 17333, 17332, false, true},
		{Regtest(), 60, 0, 7_200, 150, "rcrn", 1, 27333, 27332, true, true},
	}
	for _, test := range tests {
		n, c := test.net, &test.net.Consensus
		if !c.NoRetargeting && (int64(c.TargetSpacing.Seconds()) != test.spacing || int64(c.AsertHalfLife.Seconds()) != test.half) {
			t.Errorf("%s: spacing %v half-life %v", n.Name, c.TargetSpacing, c.AsertHalfLife)
		}
		if c.NoRetargeting != test.noRetarget || int64(c.MaxFutureBlockTime.Seconds()) != test.future ||
			c.SubsidyHalvingInterval != test.halving || c.CoinbaseMaturity != 100 ||
			c.BaseSubsidy != 50*consensus.CoinValue {
			t.Errorf("%s: consensus params %+v", n.Name, c)
		}
		if n.Bech32HRP != test.hrp || n.HDCoinType != test.coinType || n.P2PPort != test.p2p ||
			n.RPCPort != test.rpc || n.MDNS != test.mdns {
			t.Errorf("%s: network params %+v", n.Name, n)
		}
		// Addresses encode with the network's HRP through btcutil.
		addr, err := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), n.AddressParams())
		if err != nil || addr.EncodeAddress()[:len(test.hrp)+1] != test.hrp+"1" {
			t.Errorf("%s: address %v, %v", n.Name, addr, err)
		}
	}
	if _, err := ByName("nope"); err == nil {
		t.Error("ByName accepted an unknown network")
	}
}
