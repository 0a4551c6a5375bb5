package chainparams_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
)

// specGenesisTime is the genesis time of the test specs (the built-in
// networks' genesis time).
const specGenesisTime = 1795305600

// specJSON returns a chain spec named "localnet" with the given fields
// (a comma-separated JSON fragment, possibly empty) and, unless fields set
// one, a genesis with only a time.
func specJSON(fields string) string {
	if !strings.Contains(fields, `"genesis"`) {
		if fields != "" {
			fields += ","
		}
		fields += fmt.Sprintf(`"genesis": {"time": %d}`, specGenesisTime)
	}
	return `{"name": "localnet", ` + fields + `}`
}

// mustParseSpec parses spec and fails the test on error.
func mustParseSpec(t *testing.T, spec string) *chainparams.Network {
	t.Helper()
	n, err := chainparams.ParseSpec([]byte(spec))
	if err != nil {
		t.Fatalf("ParseSpec(%s): %v", spec, err)
	}
	return n
}

// parseSpecNoPanic is ParseSpec with a panic turned into an error.
func parseSpecNoPanic(spec []byte) (n *chainparams.Network, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ParseSpec panicked: %v", r)
		}
	}()
	return chainparams.ParseSpec(spec)
}

// checkGenesis checks that n's genesis block meets its own proof of work at
// n's limit, passes the context-free block checks and matches n's
// genesis-derived consensus fields.
func checkGenesis(t *testing.T, n *chainparams.Network) {
	t.Helper()
	g := n.Genesis
	c := &n.Consensus
	if err := consensus.CheckBlockHeaderSanity(&g.Header, c.PowLimit); err != nil {
		t.Fatalf("genesis does not meet its proof of work: %v", err)
	}
	if _, err := consensus.CheckBlockSanity(g, c.PowLimit); err != nil {
		t.Fatalf("genesis fails the block sanity checks: %v", err)
	}
	if got := consensus.BlockHash(&g.Header); got != c.GenesisHash || n.GenesisHash() != got {
		t.Fatalf("GenesisHash %v, genesis block hashes to %v", c.GenesisHash, got)
	}
	if c.GenesisTime != g.Header.Timestamp.Unix() || c.GenesisBits != g.Header.Bits {
		t.Fatalf("GenesisTime %d, GenesisBits %08x; header has %d, %08x",
			c.GenesisTime, c.GenesisBits, g.Header.Timestamp.Unix(), g.Header.Bits)
	}
	// The consensus fields must describe the block as it is stored: a
	// serialized and decoded genesis hashes the same.
	var buf bytes.Buffer
	if err := g.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	var decoded wire.MsgBlock
	if err := decoded.Deserialize(&buf); err != nil {
		t.Fatal(err)
	}
	if h := consensus.BlockHash(&decoded.Header); h != c.GenesisHash || decoded.Header.Timestamp.Unix() != c.GenesisTime {
		t.Fatalf("stored genesis has hash %v and time %d, network says %v and %d",
			h, decoded.Header.Timestamp.Unix(), c.GenesisHash, c.GenesisTime)
	}
}

// TestParseSpecMinimal ensures that a spec with only a name and a genesis
// time describes regtest under that name, with block generation and mDNS
// on and the DHT off, and a genesis block mined at regtest's limit whose
// coinbase says "Cairn <name>" and pays the subsidy to an unspendable
// output.
func TestParseSpecMinimal(t *testing.T) {
	t.Parallel()
	n := mustParseSpec(t, specJSON(""))
	want := chainparams.Regtest()
	want.Name = "localnet"
	want.AllowGenerate, want.MDNS, want.DHT = true, true, false
	want.Genesis = n.Genesis
	want.Consensus.GenesisHash = n.Consensus.GenesisHash
	want.Consensus.GenesisTime = n.Consensus.GenesisTime
	want.Consensus.GenesisBits = n.Consensus.GenesisBits
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("minimal spec:\n got %+v\nwant %+v", n, want)
	}
	checkGenesis(t, n)
	if n.GenesisHash() == chainparams.Regtest().GenesisHash() {
		t.Fatal("custom network shares regtest's genesis")
	}
	g := n.Genesis
	if g.Header.Timestamp.Unix() != specGenesisTime || g.Header.Bits != 0x207fffff || g.Header.PrevBlock != ([32]byte{}) {
		t.Fatalf("genesis header %+v", g.Header)
	}
	cb := g.Transactions[0]
	if len(g.Transactions) != 1 || !consensus.IsCoinBaseTx(cb) {
		t.Fatal("genesis is not a lone coinbase")
	}
	if !bytes.Contains(cb.TxIn[0].SignatureScript, []byte("Cairn localnet")) {
		t.Fatalf("genesis coinbase scriptSig %x lacks the default message", cb.TxIn[0].SignatureScript)
	}
	if len(cb.TxOut) != 1 || cb.TxOut[0].Value != 50*consensus.CoinValue || !txscript.IsUnspendable(cb.TxOut[0].PkScript) {
		t.Fatalf("genesis coinbase outputs %+v", cb.TxOut)
	}
}

// TestParseSpecFields ensures that each spec field changes exactly the
// network parameters it names: the network parsed from the minimal spec
// plus the field must equal the minimal network with that change (genesis
// aside, which may be mined anew).
func TestParseSpecFields(t *testing.T) {
	t.Parallel()
	base := mustParseSpec(t, specJSON(""))
	mainNet, testNet := chainparams.Main(), chainparams.Test()
	limit := func(bits uint32) func(n *chainparams.Network) {
		return func(n *chainparams.Network) {
			n.Consensus.PowLimitBits = bits
			n.Consensus.PowLimit, _, _ = consensus.CompactToBig(bits)
		}
	}
	tests := []struct {
		name   string
		fields string
		change func(n *chainparams.Network)
	}{{
		name:   "target_spacing as a string turns on ASERT with a 288-block half-life",
		fields: `"target_spacing": "5s"`,
		change: func(n *chainparams.Network) {
			n.Consensus.TargetSpacing = 5 * time.Second
			n.Consensus.NoRetargeting = false
			n.Consensus.AsertHalfLife = 288 * 5 * time.Second
		},
	}, {
		name:   "target_spacing as seconds",
		fields: `"target_spacing": 5`,
		change: func(n *chainparams.Network) {
			n.Consensus.TargetSpacing = 5 * time.Second
			n.Consensus.NoRetargeting = false
			n.Consensus.AsertHalfLife = 288 * 5 * time.Second
		},
	}, {
		name:   "target_spacing with fixed difficulty",
		fields: `"target_spacing": "5s", "difficulty": "fixed"`,
		change: func(n *chainparams.Network) { n.Consensus.TargetSpacing = 5 * time.Second },
	}, {
		name:   "difficulty asert keeps the spacing, half-life 288 blocks",
		fields: `"difficulty": "asert"`,
		change: func(n *chainparams.Network) {
			n.Consensus.NoRetargeting = false
			n.Consensus.AsertHalfLife = 288 * time.Minute
		},
	}, {
		name:   "difficulty fixed",
		fields: `"difficulty": "fixed"`,
		change: func(n *chainparams.Network) {},
	}, {
		name:   "difficulty none is fixed",
		fields: `"difficulty": "none"`,
		change: func(n *chainparams.Network) {},
	}, {
		name:   "asert_half_life as a string",
		fields: `"difficulty": "asert", "asert_half_life": "1h"`,
		change: func(n *chainparams.Network) {
			n.Consensus.NoRetargeting = false
			n.Consensus.AsertHalfLife = time.Hour
		},
	}, {
		name:   "asert_half_life as seconds",
		fields: `"target_spacing": "10s", "asert_half_life": 3600`,
		change: func(n *chainparams.Network) {
			n.Consensus.NoRetargeting = false
			n.Consensus.TargetSpacing = 10 * time.Second
			n.Consensus.AsertHalfLife = time.Hour
		},
	}, {
		name:   "pow_limit_bits as a string",
		fields: `"pow_limit_bits": "0x1f7fffff"`,
		change: limit(0x1f7fffff),
	}, {
		name:   "pow_limit_bits in upper case",
		fields: `"pow_limit_bits": "0X1F7FFFFF"`,
		change: limit(0x1f7fffff),
	}, {
		name:   "pow_limit_bits as a number",
		fields: `"pow_limit_bits": 528482303`,
		change: limit(0x1f7fffff),
	}, {
		name:   "max_future_block_time as a string",
		fields: `"max_future_block_time": "10m"`,
		change: func(n *chainparams.Network) { n.Consensus.MaxFutureBlockTime = 10 * time.Minute },
	}, {
		name:   "max_future_block_time as seconds",
		fields: `"max_future_block_time": 90`,
		change: func(n *chainparams.Network) { n.Consensus.MaxFutureBlockTime = 90 * time.Second },
	}, {
		name:   "max_future_block_time zero",
		fields: `"max_future_block_time": 0`,
		change: func(n *chainparams.Network) { n.Consensus.MaxFutureBlockTime = 0 },
	}, {
		name:   "subsidy in whole coins",
		fields: `"subsidy": 25`,
		change: func(n *chainparams.Network) { n.Consensus.BaseSubsidy = 25 * consensus.CoinValue },
	}, {
		name:   "subsidy of half a coin is exact",
		fields: `"subsidy": 0.5`,
		change: func(n *chainparams.Network) { n.Consensus.BaseSubsidy = consensus.CoinValue / 2 },
	}, {
		name:   "subsidy as a string",
		fields: `"subsidy": "0.5"`,
		change: func(n *chainparams.Network) { n.Consensus.BaseSubsidy = consensus.CoinValue / 2 },
	}, {
		name:   "subsidy of one base unit",
		fields: `"subsidy": 0.00000001`,
		change: func(n *chainparams.Network) { n.Consensus.BaseSubsidy = 1 },
	}, {
		name:   "subsidy with an exponent",
		fields: `"subsidy": 1e-8`,
		change: func(n *chainparams.Network) { n.Consensus.BaseSubsidy = 1 },
	}, {
		name:   "subsidy with 8 decimals",
		fields: `"subsidy": 12.34567891`,
		change: func(n *chainparams.Network) { n.Consensus.BaseSubsidy = 1_234_567_891 },
	}, {
		name:   "subsidy of max money",
		fields: `"subsidy": 21000000`,
		change: func(n *chainparams.Network) { n.Consensus.BaseSubsidy = consensus.MaxMoney },
	}, {
		name:   "subsidy zero",
		fields: `"subsidy": 0`,
		change: func(n *chainparams.Network) { n.Consensus.BaseSubsidy = 0 },
	}, {
		name:   "halving_interval",
		fields: `"halving_interval": 1000`,
		change: func(n *chainparams.Network) { n.Consensus.SubsidyHalvingInterval = 1000 },
	}, {
		name:   "coinbase_maturity",
		fields: `"coinbase_maturity": 10`,
		change: func(n *chainparams.Network) { n.Consensus.CoinbaseMaturity = 10 },
	}, {
		name:   "coinbase_maturity zero",
		fields: `"coinbase_maturity": 0`,
		change: func(n *chainparams.Network) { n.Consensus.CoinbaseMaturity = 0 },
	}, {
		name:   "bech32_hrp",
		fields: `"bech32_hrp": "lcrn"`,
		change: func(n *chainparams.Network) { n.Bech32HRP = "lcrn" },
	}, {
		name:   "bech32_hrp is lower-cased",
		fields: `"bech32_hrp": "LCRN"`,
		change: func(n *chainparams.Network) { n.Bech32HRP = "lcrn" },
	}, {
		name:   "coin_type",
		fields: `"coin_type": 4242`,
		change: func(n *chainparams.Network) { n.HDCoinType = 4242 },
	}, {
		name:   "ports",
		fields: `"p2p_port": 37333, "rpc_port": 37332`,
		change: func(n *chainparams.Network) { n.P2PPort, n.RPCPort = 37333, 37332 },
	}, {
		name:   "mdns off",
		fields: `"mdns": false`,
		change: func(n *chainparams.Network) { n.MDNS = false },
	}, {
		name:   "mdns on",
		fields: `"mdns": true`,
		change: func(n *chainparams.Network) {},
	}, {
		name:   "activation_heights bip34",
		fields: `"activation_heights": {"bip34": 5}`,
		change: func(n *chainparams.Network) { n.Consensus.BIP34Height = 5 },
	}, {
		name:   "activation_heights bip65",
		fields: `"activation_heights": {"bip65": 6}`,
		change: func(n *chainparams.Network) { n.Consensus.BIP65Height = 6 },
	}, {
		name:   "activation_heights bip66",
		fields: `"activation_heights": {"bip66": 7}`,
		change: func(n *chainparams.Network) { n.Consensus.BIP66Height = 7 },
	}, {
		name:   "activation_heights csv",
		fields: `"activation_heights": {"csv": 8}`,
		change: func(n *chainparams.Network) { n.Consensus.CSVHeight = 8 },
	}, {
		name:   "activation_heights segwit",
		fields: `"activation_heights": {"segwit": 9}`,
		change: func(n *chainparams.Network) { n.Consensus.SegwitHeight = 9 },
	}, {
		name:   "activation_heights taproot",
		fields: `"activation_heights": {"taproot": 10}`,
		change: func(n *chainparams.Network) { n.Consensus.TaprootHeight = 10 },
	}, {
		name:   "activation_heights all",
		fields: `"activation_heights": {"bip34": 1, "bip65": 2, "bip66": 3, "csv": 4, "segwit": 5, "taproot": 6}`,
		change: func(n *chainparams.Network) {
			c := &n.Consensus
			c.BIP34Height, c.BIP65Height, c.BIP66Height, c.CSVHeight, c.SegwitHeight, c.TaprootHeight = 1, 2, 3, 4, 5, 6
		},
	}, {
		name:   "activation_heights empty",
		fields: `"activation_heights": {}`,
		change: func(n *chainparams.Network) {},
	}, {
		name:   "base regtest",
		fields: `"base": "regtest"`,
		change: func(n *chainparams.Network) {},
	}, {
		name:   "base test",
		fields: `"base": "test", "pow_limit_bits": "0x207fffff"`,
		change: func(n *chainparams.Network) {
			*n = *testNet
			n.Name, n.AllowGenerate, n.MDNS, n.DHT = "localnet", true, true, false
			limit(0x207fffff)(n)
		},
	}, {
		name:   "prune_after_height",
		fields: `"prune_after_height": 10`,
		change: func(n *chainparams.Network) { n.PruneAfterHeight = 10 },
	}, {
		name:   "base main",
		fields: `"base": "main", "pow_limit_bits": "0x207fffff"`,
		change: func(n *chainparams.Network) {
			*n = *mainNet
			n.Name, n.AllowGenerate, n.MDNS, n.DHT = "localnet", true, true, false
			limit(0x207fffff)(n)
		},
	}, {
		// The default half-life is 288 blocks of whatever the spacing
		// is, also when the base network has a half-life of its own.
		name:   "base main with a new target_spacing",
		fields: `"base": "main", "pow_limit_bits": "0x207fffff", "target_spacing": "5s"`,
		change: func(n *chainparams.Network) {
			*n = *mainNet
			n.Name, n.AllowGenerate, n.MDNS, n.DHT = "localnet", true, true, false
			limit(0x207fffff)(n)
			n.Consensus.TargetSpacing = 5 * time.Second
			n.Consensus.AsertHalfLife = 288 * 5 * time.Second
		},
	}}
	for _, test := range tests {
		spec := specJSON(test.fields)
		got, err := chainparams.ParseSpec([]byte(spec))
		if err != nil {
			t.Errorf("%q: ParseSpec(%s): %v", test.name, spec, err)
			continue
		}
		want := *base
		test.change(&want)
		want.Consensus.MinimumChainWork = nil // a custom network is a new chain
		want.Genesis = got.Genesis
		want.Consensus.GenesisHash = got.Consensus.GenesisHash
		want.Consensus.GenesisTime = got.Consensus.GenesisTime
		want.Consensus.GenesisBits = got.Consensus.GenesisBits
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%q:\n got %+v\nwant %+v", test.name, got, &want)
			continue
		}
		t.Run(test.name, func(t *testing.T) { checkGenesis(t, got) })
		if cb := got.Genesis.Transactions[0]; cb.TxOut[0].Value != got.Consensus.BaseSubsidy {
			t.Errorf("%q: genesis pays %d, subsidy is %d", test.name, cb.TxOut[0].Value, got.Consensus.BaseSubsidy)
		}
		if got.Genesis.Header.Bits != got.Consensus.PowLimitBits {
			t.Errorf("%q: genesis bits %08x, want the pow limit %08x", test.name, got.Genesis.Header.Bits, got.Consensus.PowLimitBits)
		}
	}
}

// TestParseSpecMinedGenesis ensures that a genesis given by time, message
// and bits is mined deterministically, that a given nonce is used as is,
// and that the result meets its own proof of work.
func TestParseSpecMinedGenesis(t *testing.T) {
	t.Parallel()
	const genesis = `"genesis": {"time": 1795305600, "message": "stones", "bits": "0x1f7fffff"%s}`
	spec := specJSON(`"difficulty": "asert", ` + fmt.Sprintf(genesis, ""))
	n1 := mustParseSpec(t, spec)
	n2 := mustParseSpec(t, spec)
	if n1.GenesisHash() != n2.GenesisHash() {
		t.Fatalf("the same spec gave genesis %v and %v", n1.GenesisHash(), n2.GenesisHash())
	}
	checkGenesis(t, n1)
	g := n1.Genesis
	if g.Header.Bits != 0x1f7fffff || n1.Consensus.GenesisBits != 0x1f7fffff || n1.Consensus.PowLimitBits != 0x207fffff {
		t.Fatalf("genesis bits %08x, GenesisBits %08x, pow limit %08x",
			g.Header.Bits, n1.Consensus.GenesisBits, n1.Consensus.PowLimitBits)
	}
	if g.Header.Timestamp.Unix() != specGenesisTime {
		t.Fatalf("genesis time %v", g.Header.Timestamp)
	}
	if !bytes.Contains(g.Transactions[0].TxIn[0].SignatureScript, []byte("stones")) {
		t.Fatal("genesis coinbase lacks the message")
	}
	mined := g.Header.Nonce

	// The mined nonce, given explicitly, gives the same block.
	n3 := mustParseSpec(t, specJSON(`"difficulty": "asert", `+fmt.Sprintf(genesis, fmt.Sprintf(`, "nonce": %d`, mined))))
	if n3.GenesisHash() != n1.GenesisHash() {
		t.Fatalf("nonce %d gave genesis %v, mining gave %v", mined, n3.GenesisHash(), n1.GenesisHash())
	}

	// Another nonce that meets the target is used as is.
	b := chainparams.NewGenesisBlock(specGenesisTime, 0x1f7fffff, mined+1, "stones", 50*consensus.CoinValue)
	if !chainparams.MineGenesis(b) {
		t.Fatal("no second nonce")
	}
	n4 := mustParseSpec(t, specJSON(`"difficulty": "asert", `+fmt.Sprintf(genesis, fmt.Sprintf(`, "nonce": %d`, b.Header.Nonce))))
	if n4.Genesis.Header.Nonce != b.Header.Nonce || n4.GenesisHash() != consensus.BlockHash(&b.Header) {
		t.Fatalf("nonce %d: got genesis nonce %d, hash %v", b.Header.Nonce, n4.Genesis.Header.Nonce, n4.GenesisHash())
	}
	checkGenesis(t, n4)

	// A nonce that misses the target is an error, not mined over.
	bad := mined + 1
	for ; bad < b.Header.Nonce; bad++ {
		h := chainparams.NewGenesisBlock(specGenesisTime, 0x1f7fffff, bad, "stones", 50*consensus.CoinValue).Header
		if consensus.CheckBlockHeaderSanity(&h, n1.Consensus.PowLimit) != nil {
			break
		}
	}
	_, err := chainparams.ParseSpec([]byte(specJSON(`"difficulty": "asert", ` + fmt.Sprintf(genesis, fmt.Sprintf(`, "nonce": %d`, bad)))))
	if err == nil || !strings.Contains(err.Error(), "proof of work") {
		t.Fatalf("nonce %d that misses the target: got %v, want a proof-of-work error", bad, err)
	}

	// A different message or time gives a different genesis.
	for _, other := range []string{
		`"genesis": {"time": 1795305600, "message": "other stones", "bits": "0x1f7fffff"}`,
		`"genesis": {"time": 1795305601, "message": "stones", "bits": "0x1f7fffff"}`,
	} {
		if n := mustParseSpec(t, specJSON(`"difficulty": "asert", `+other)); n.GenesisHash() == n1.GenesisHash() {
			t.Fatalf("%s gave the same genesis", other)
		}
	}

	// A 90-byte message fits.
	long := strings.Repeat("m", 90)
	n5 := mustParseSpec(t, specJSON(fmt.Sprintf(`"genesis": {"time": 1795305600, "message": %q}`, long)))
	checkGenesis(t, n5)
}

// serializeBlock returns b's serialization.
func serializeBlock(t *testing.T, b *wire.MsgBlock) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := b.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestParseSpecGenesisHex ensures that a genesis given as a serialized
// block is used as is: Bitcoin's regtest genesis gives Bitcoin's regtest
// genesis hash, and Bitcoin's main genesis (at bits 0x1d00ffff) can anchor
// an ASERT network whose limit is regtest's.
func TestParseSpecGenesisHex(t *testing.T) {
	t.Parallel()
	regHex := hex.EncodeToString(serializeBlock(t, chaincfg.RegressionNetParams.GenesisBlock))
	mainHex := hex.EncodeToString(serializeBlock(t, chaincfg.MainNetParams.GenesisBlock))
	tests := []struct {
		name   string
		fields string
		want   *wire.MsgBlock
		hash   string
	}{
		{name: "bitcoin regtest", fields: fmt.Sprintf(`"genesis": {"hex": %q}`, regHex),
			want: chaincfg.RegressionNetParams.GenesisBlock,
			hash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
		{name: "bitcoin regtest, upper case with spaces", fields: fmt.Sprintf(`"genesis": {"hex": %q}`, " "+strings.ToUpper(regHex)+"\n"),
			want: chaincfg.RegressionNetParams.GenesisBlock,
			hash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
		{name: "bitcoin main with asert", fields: fmt.Sprintf(`"difficulty": "asert", "genesis": {"hex": %q}`, mainHex),
			want: chaincfg.MainNetParams.GenesisBlock,
			hash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
	}
	for _, test := range tests {
		n, err := chainparams.ParseSpec([]byte(specJSON(test.fields)))
		if err != nil {
			t.Errorf("%q: %v", test.name, err)
			continue
		}
		if got := n.GenesisHash(); got.String() != test.hash {
			t.Errorf("%q: genesis hash %v, want %s", test.name, got, test.hash)
		}
		if !reflect.DeepEqual(n.Genesis, test.want) {
			t.Errorf("%q: genesis block differs from the one serialized", test.name)
		}
		if n.Consensus.GenesisTime != test.want.Header.Timestamp.Unix() || n.Consensus.GenesisBits != test.want.Header.Bits {
			t.Errorf("%q: GenesisTime %d, GenesisBits %08x", test.name, n.Consensus.GenesisTime, n.Consensus.GenesisBits)
		}
		if n.Consensus.PowLimitBits != 0x207fffff {
			t.Errorf("%q: pow limit %08x", test.name, n.Consensus.PowLimitBits)
		}
		// Bitcoin's genesis coinbase scriptSig has no BIP34 height, so
		// only the proof of work and merkle root are checked here.
		if err := consensus.CheckBlockHeaderSanity(&n.Genesis.Header, n.Consensus.PowLimit); err != nil {
			t.Errorf("%q: %v", test.name, err)
		}
	}
	if got := chaincfg.RegressionNetParams.GenesisHash.String(); got != tests[0].hash {
		t.Fatalf("btcd's regtest genesis hash is %s", got)
	}
}

// TestParseSpecErrors ensures that every invalid spec is refused with an
// error whose message names the offending field.
func TestParseSpecErrors(t *testing.T) {
	t.Parallel()
	regGenesis := chaincfg.RegressionNetParams.GenesisBlock
	regHex := hex.EncodeToString(serializeBlock(t, regGenesis))
	withPrev := *regGenesis
	withPrev.Header.PrevBlock[0] = 1
	prevHex := hex.EncodeToString(serializeBlock(t, &withPrev))
	tests := []struct {
		name string
		spec string
		want []string // substrings of the error message
	}{
		{name: "not JSON", spec: `name: localnet`, want: []string{"invalid character"}},
		{name: "unknown field", spec: specJSON(`"blocktime": "5s"`), want: []string{`"blocktime"`}},
		{name: "unknown genesis field", spec: specJSON(`"genesis": {"time": 1795305600, "extra": 1}`), want: []string{`"extra"`}},
		{name: "trailing object", spec: specJSON("") + ` {}`, want: []string{"trailing"}},
		{name: "trailing brace", spec: specJSON("") + `}`, want: []string{"trailing"}},
		{name: "trailing bracket", spec: specJSON("") + `]`, want: []string{"trailing"}},
		{name: "missing name", spec: fmt.Sprintf(`{"genesis": {"time": %d}}`, specGenesisTime), want: []string{"name"}},
		{name: "upper-case name", spec: strings.Replace(specJSON(""), "localnet", "LocalNet", 1), want: []string{"name", "LocalNet"}},
		{name: "name with a space", spec: strings.Replace(specJSON(""), "localnet", "local net", 1), want: []string{"name"}},
		{name: "name starting with a dash", spec: strings.Replace(specJSON(""), "localnet", "-localnet", 1), want: []string{"name"}},
		{name: "name of 33 characters", spec: strings.Replace(specJSON(""), "localnet", strings.Repeat("a", 33), 1), want: []string{"name"}},
		{name: "built-in name main", spec: strings.Replace(specJSON(""), "localnet", "main", 1), want: []string{"name", "built-in"}},
		{name: "built-in name test", spec: strings.Replace(specJSON(""), "localnet", "test", 1), want: []string{"name", "built-in"}},
		{name: "built-in name regtest", spec: strings.Replace(specJSON(""), "localnet", "regtest", 1), want: []string{"name", "built-in"}},
		{name: "built-in name mainnet", spec: strings.Replace(specJSON(""), "localnet", "mainnet", 1), want: []string{"name", "built-in"}},
		{name: "built-in name testnet", spec: strings.Replace(specJSON(""), "localnet", "testnet", 1), want: []string{"name", "built-in"}},
		{name: "unknown base", spec: specJSON(`"base": "signet"`), want: []string{"base", "signet"}},
		{name: "unknown difficulty", spec: specJSON(`"difficulty": "lwma"`), want: []string{"difficulty", "lwma"}},
		{name: "minimum_chain_work not hex", spec: specJSON(`"minimum_chain_work": "0xzz"`), want: []string{"minimum_chain_work"}},
		{name: "negative minimum_chain_work", spec: specJSON(`"minimum_chain_work": "-1"`), want: []string{"minimum_chain_work"}},
		{name: "minimum_chain_work over 256 bits", spec: specJSON(`"minimum_chain_work": "0x1` + strings.Repeat("0", 64) + `"`), want: []string{"minimum_chain_work"}},
		{name: "empty minimum_chain_work", spec: specJSON(`"minimum_chain_work": "0x"`), want: []string{"minimum_chain_work"}},
		{name: "assume_valid too short", spec: specJSON(`"assume_valid": "00ff"`), want: []string{"assume_valid", "64 hex digits"}},
		{name: "negative prune_after_height", spec: specJSON(`"prune_after_height": -1`), want: []string{"prune_after_height", "negative"}},
		{name: "assume_valid not hex", spec: specJSON(`"assume_valid": "` + strings.Repeat("zz", 32) + `"`), want: []string{"assume_valid"}},

		{name: "bad target_spacing string", spec: specJSON(`"target_spacing": "5 seconds"`), want: []string{"target_spacing"}},
		{name: "target_spacing of another type", spec: specJSON(`"target_spacing": true`), want: []string{"target_spacing"}},
		{name: "fractional target_spacing number", spec: specJSON(`"target_spacing": 1.5`), want: []string{"target_spacing"}},
		{name: "bad asert_half_life string", spec: specJSON(`"asert_half_life": "1 hour"`), want: []string{"asert_half_life"}},
		{name: "bad max_future_block_time string", spec: specJSON(`"max_future_block_time": "2 hours"`), want: []string{"max_future_block_time"}},
		{name: "negative target_spacing", spec: specJSON(`"target_spacing": "-5s"`), want: []string{"target_spacing"}},
		{name: "negative target_spacing number", spec: specJSON(`"target_spacing": -5`), want: []string{"target_spacing"}},
		{name: "zero target_spacing", spec: specJSON(`"target_spacing": 0`), want: []string{"target_spacing"}},
		{name: "sub-second target_spacing", spec: specJSON(`"target_spacing": "500ms"`), want: []string{"target_spacing"}},
		{name: "fractional seconds with asert", spec: specJSON(`"target_spacing": "1500ms"`), want: []string{"target_spacing"}},
		{name: "overflowing target_spacing", spec: specJSON(`"target_spacing": 20000000000`), want: []string{"target_spacing"}},
		{name: "negative asert_half_life", spec: specJSON(`"difficulty": "asert", "asert_half_life": "-1h"`), want: []string{"asert_half_life"}},
		{name: "fractional asert_half_life", spec: specJSON(`"difficulty": "asert", "asert_half_life": "1.5s"`), want: []string{"asert_half_life"}},
		{name: "negative max_future_block_time", spec: specJSON(`"max_future_block_time": "-1s"`), want: []string{"max_future_block_time"}},
		{name: "negative max_future_block_time number", spec: specJSON(`"max_future_block_time": -1`), want: []string{"max_future_block_time"}},
		{name: "overflowing max_future_block_time", spec: specJSON(`"max_future_block_time": 20000000000`), want: []string{"max_future_block_time"}},

		{name: "negative subsidy", spec: specJSON(`"subsidy": -1`), want: []string{"subsidy"}},
		{name: "subsidy above max money", spec: specJSON(`"subsidy": 21000000.00000001`), want: []string{"subsidy"}},
		{name: "subsidy with 9 decimals", spec: specJSON(`"subsidy": 0.000000001`), want: []string{"subsidy", "8 decimals"}},
		{name: "subsidy with a tiny exponent", spec: specJSON(`"subsidy": 1e-9`), want: []string{"subsidy", "8 decimals"}},
		{name: "subsidy with a huge exponent", spec: specJSON(`"subsidy": 1e999999999`), want: []string{"subsidy"}},
		{name: "subsidy not a number", spec: specJSON(`"subsidy": "fifty"`), want: []string{"subsidy"}},
		{name: "zero halving_interval", spec: specJSON(`"halving_interval": 0`), want: []string{"halving_interval"}},
		{name: "negative halving_interval", spec: specJSON(`"halving_interval": -150`), want: []string{"halving_interval"}},
		{name: "halving_interval above int32", spec: specJSON(`"halving_interval": 2147483648`), want: []string{"halving_interval"}},
		{name: "negative coinbase_maturity", spec: specJSON(`"coinbase_maturity": -1`), want: []string{"coinbase_maturity"}},
		{name: "negative coin_type", spec: specJSON(`"coin_type": -1`), want: []string{"coin_type"}},
		{name: "p2p_port out of range", spec: specJSON(`"p2p_port": 70000`), want: []string{"p2p_port"}},
		{name: "negative rpc_port", spec: specJSON(`"rpc_port": -1`), want: []string{"rpc_port"}},
		{name: "mdns not a bool", spec: specJSON(`"mdns": "yes"`), want: []string{"mdns"}},
		{name: "bech32_hrp with a space", spec: specJSON(`"bech32_hrp": "l crn"`), want: []string{"bech32_hrp"}},
		{name: "bech32_hrp of 84 characters", spec: specJSON(`"bech32_hrp": "` + strings.Repeat("a", 84) + `"`), want: []string{"bech32_hrp"}},
		{name: "unknown soft fork", spec: specJSON(`"activation_heights": {"bip9": 1}`), want: []string{"activation_heights", "bip9"}},
		{name: "negative activation height", spec: specJSON(`"activation_heights": {"segwit": -1}`), want: []string{"activation_heights.segwit"}},

		{name: "pow_limit_bits not hex", spec: specJSON(`"pow_limit_bits": "0xzz"`), want: []string{"pow_limit_bits"}},
		{name: "pow_limit_bits above 32 bits", spec: specJSON(`"pow_limit_bits": 4294967296`), want: []string{"pow_limit_bits"}},
		{name: "pow_limit_bits of a zero target", spec: specJSON(`"pow_limit_bits": "0x00000000"`), want: []string{"pow_limit_bits"}},
		{name: "pow_limit_bits of a negative target", spec: specJSON(`"pow_limit_bits": "0x04800001"`), want: []string{"pow_limit_bits"}},
		{name: "pow_limit_bits overflowing 256 bits", spec: specJSON(`"pow_limit_bits": "0x23010000"`), want: []string{"pow_limit_bits"}},
		{name: "pow_limit_bits zero target with a hex genesis", spec: specJSON(`"pow_limit_bits": 0, "genesis": {"hex": "` + regHex + `"}`), want: []string{"pow_limit_bits"}},
		{name: "genesis bits not hex", spec: specJSON(`"difficulty": "asert", "genesis": {"time": 1795305600, "bits": "nope"}`), want: []string{"genesis"}},
		{name: "genesis bits of a zero target", spec: specJSON(`"difficulty": "asert", "genesis": {"time": 1795305600, "bits": "0x01000000"}`), want: []string{"genesis", "bits"}},
		{name: "genesis bits of a negative target", spec: specJSON(`"difficulty": "asert", "genesis": {"time": 1795305600, "bits": "0x04923456"}`), want: []string{"genesis", "bits"}},
		{name: "genesis bits easier than the limit", spec: specJSON(`"difficulty": "asert", "pow_limit_bits": "0x1f7fffff", "genesis": {"time": 1795305600, "bits": "0x207fffff"}`),
			want: []string{"genesis", "proof of work"}},
		{name: "fixed difficulty, genesis bits not the limit", spec: specJSON(`"genesis": {"time": 1795305600, "bits": "0x1f7fffff"}`),
			want: []string{"genesis bits", "pow_limit_bits"}},
		{name: "fixed difficulty, hex genesis bits not the limit", spec: specJSON(`"genesis": {"hex": "` + hex.EncodeToString(serializeBlock(t, chaincfg.MainNetParams.GenesisBlock)) + `"}`),
			want: []string{"genesis bits", "pow_limit_bits"}},
		{name: "hex genesis above its target", spec: specJSON(`"difficulty": "asert", "pow_limit_bits": "0x1f7fffff", "genesis": {"hex": "` + regHex + `"}`),
			want: []string{"genesis", "proof of work"}},
		{name: "no genesis", spec: `{"name": "localnet"}`, want: []string{"genesis", "time"}},
		{name: "genesis without time", spec: specJSON(`"genesis": {"message": "hi"}`), want: []string{"genesis", "time"}},
		{name: "negative genesis time", spec: specJSON(`"genesis": {"time": -1}`), want: []string{"genesis", "time"}},
		{name: "genesis time past 2106", spec: specJSON(`"genesis": {"time": 4294967296}`), want: []string{"genesis", "time"}},
		{name: "genesis nonce above 32 bits", spec: specJSON(`"genesis": {"time": 1795305600, "nonce": 4294967296}`), want: []string{"nonce"}},
		{name: "genesis message of 91 bytes", spec: specJSON(`"genesis": {"time": 1795305600, "message": "` + strings.Repeat("m", 91) + `"}`),
			want: []string{"genesis", "message"}},
		{name: "genesis hex and time", spec: specJSON(`"genesis": {"hex": "` + regHex + `", "time": 1296688602}`), want: []string{"genesis", "hex"}},
		{name: "genesis hex and nonce", spec: specJSON(`"genesis": {"hex": "` + regHex + `", "nonce": 2}`), want: []string{"genesis", "hex"}},
		{name: "genesis hex and message", spec: specJSON(`"genesis": {"hex": "` + regHex + `", "message": "hi"}`), want: []string{"genesis", "hex"}},
		{name: "genesis hex and bits", spec: specJSON(`"genesis": {"hex": "` + regHex + `", "bits": "0x207fffff"}`), want: []string{"genesis", "hex"}},
		{name: "genesis hex not hex", spec: specJSON(`"genesis": {"hex": "0xzz"}`), want: []string{"genesis", "hex"}},
		{name: "genesis hex of odd length", spec: specJSON(`"genesis": {"hex": "` + regHex[:len(regHex)-1] + `"}`), want: []string{"genesis", "hex"}},
		{name: "genesis hex truncated", spec: specJSON(`"genesis": {"hex": "` + regHex[:len(regHex)-2] + `"}`), want: []string{"genesis", "hex"}},
		{name: "genesis hex with trailing data", spec: specJSON(`"genesis": {"hex": "` + regHex + `00"}`), want: []string{"genesis", "hex"}},
		{name: "genesis hex with a previous block", spec: specJSON(`"genesis": {"hex": "` + prevHex + `"}`), want: []string{"genesis", "previous block"}},
	}
	for _, test := range tests {
		n, err := parseSpecNoPanic([]byte(test.spec))
		if err == nil {
			t.Errorf("%q: accepted (genesis %v, consensus %+v, bech32 HRP %q)",
				test.name, n.GenesisHash(), n.Consensus, n.Bech32HRP)
			continue
		}
		for _, w := range test.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not name %q", test.name, err, w)
			}
		}
	}
}

// TestParseSpecOversizedGenesisHex ensures that a genesis hex which btcd's
// decoder cannot take (a transaction whose scripts overflow its 4 MiB
// script buffer: 194,305 bytes of script, then a claim of 4,000,000 more)
// is an error naming the genesis, not a panic.
func TestParseSpecOversizedGenesisHex(t *testing.T) {
	t.Parallel()
	var raw bytes.Buffer
	raw.Write(make([]byte, wire.MaxBlockHeaderPayload))
	_ = wire.WriteVarInt(&raw, 0, 1) // one transaction
	raw.Write([]byte{1, 0, 0, 0})    // version
	_ = wire.WriteVarInt(&raw, 0, 2) // two inputs
	raw.Write(make([]byte, 36))      // outpoint
	_ = wire.WriteVarBytes(&raw, 0, make([]byte, 1<<22-4_000_000+1))
	raw.Write([]byte{0xff, 0xff, 0xff, 0xff}) // sequence
	raw.Write(make([]byte, 36))               // outpoint
	_ = wire.WriteVarInt(&raw, 0, 4_000_000)  // claimed script length
	spec := specJSON(fmt.Sprintf(`"genesis": {"hex": %q}`, hex.EncodeToString(raw.Bytes())))
	_, err := parseSpecNoPanic([]byte(spec))
	if err == nil || !strings.Contains(err.Error(), "genesis") || strings.Contains(err.Error(), "panicked") {
		t.Fatalf("got %v, want an error naming the genesis", err)
	}
}

// TestLoadSpecFile ensures that LoadSpecFile parses a file and names the
// file in its errors.
func TestLoadSpecFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "localnet.json")
	if err := os.WriteFile(good, []byte(specJSON(`"target_spacing": "5s"`)), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := chainparams.LoadSpecFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustParseSpec(t, specJSON(`"target_spacing": "5s"`)); !reflect.DeepEqual(n, want) {
		t.Fatalf("LoadSpecFile gave %+v, ParseSpec %+v", n, want)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(specJSON(`"subsidy": -1`)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want []string
	}{
		{name: "missing file", path: filepath.Join(dir, "missing.json"), want: []string{"chain spec", "missing.json"}},
		{name: "invalid spec", path: bad, want: []string{"chain spec", bad, "subsidy"}},
		{name: "directory", path: dir, want: []string{"chain spec"}},
	}
	for _, test := range tests {
		_, err := chainparams.LoadSpecFile(test.path)
		if err == nil {
			t.Errorf("%q: no error", test.name)
			continue
		}
		for _, w := range test.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not name %q", test.name, err, w)
			}
		}
	}
}

// TestSpecNetwork ensures that a Spec built in Go gives the same network as
// its JSON, and that a Spec marshalled to JSON parses back to that network.
func TestSpecNetwork(t *testing.T) {
	t.Parallel()
	spacing := chainparams.Duration(5 * time.Second)
	halfLife := chainparams.Duration(time.Hour)
	future := chainparams.Duration(10 * time.Minute)
	bits := chainparams.Bits(0x207fffff)
	subsidy := json.Number("12.5")
	halving, maturity := int32(1000), int32(10)
	coinType := uint32(7)
	p2p, rpc := uint16(37333), uint16(37332)
	mdns := false
	nonce := uint32(0)
	s := chainparams.Spec{
		Name:               "localnet",
		Base:               "regtest",
		TargetSpacing:      &spacing,
		Difficulty:         "asert",
		AsertHalfLife:      &halfLife,
		PowLimitBits:       &bits,
		MaxFutureBlockTime: &future,
		Subsidy:            &subsidy,
		HalvingInterval:    &halving,
		CoinbaseMaturity:   &maturity,
		Bech32HRP:          "lcrn",
		CoinType:           &coinType,
		P2PPort:            &p2p,
		RPCPort:            &rpc,
		MDNS:               &mdns,
		Genesis:            chainparams.GenesisSpec{Time: specGenesisTime, Message: "hello", Bits: &bits},
		ActivationHeights:  map[string]int32{"segwit": 3, "taproot": 4},
	}
	n, err := s.Network()
	if err != nil {
		t.Fatal(err)
	}
	c := &n.Consensus
	if c.TargetSpacing != 5*time.Second || c.NoRetargeting || c.AsertHalfLife != time.Hour ||
		c.MaxFutureBlockTime != 10*time.Minute || c.BaseSubsidy != 1_250_000_000 ||
		c.SubsidyHalvingInterval != 1000 || c.CoinbaseMaturity != 10 || c.SegwitHeight != 3 || c.TaprootHeight != 4 ||
		n.Bech32HRP != "lcrn" || n.HDCoinType != 7 || n.P2PPort != 37333 || n.RPCPort != 37332 || n.MDNS {
		t.Fatalf("Spec.Network gave %+v", n)
	}
	checkGenesis(t, n)

	data, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := chainparams.ParseSpec(data)
	if err != nil {
		t.Fatalf("ParseSpec(%s): %v", data, err)
	}
	if !reflect.DeepEqual(n, n2) {
		t.Fatalf("marshalled spec %s gave\n%+v\nwant\n%+v", data, n2, n)
	}

	// The nonce is honoured: nonce 0 need not be what mining finds.
	s.Genesis.Nonce = &nonce
	if n3, err := s.Network(); err == nil && n3.Genesis.Header.Nonce != 0 {
		t.Fatalf("nonce 0 given, genesis has %d", n3.Genesis.Header.Nonce)
	}
}

// TestParseSpecPowLimit ensures that pow_limit_bits sets both the limit and
// its compact form, and that the genesis of a fixed-difficulty network is
// mined at it.
func TestParseSpecPowLimit(t *testing.T) {
	t.Parallel()
	n := mustParseSpec(t, specJSON(`"pow_limit_bits": "0x1f00ffff"`))
	want := new(big.Int).Lsh(big.NewInt(0xffff), 8*(0x1f-3))
	if n.Consensus.PowLimit.Cmp(want) != 0 || n.Consensus.PowLimitBits != 0x1f00ffff || n.Genesis.Header.Bits != 0x1f00ffff {
		t.Fatalf("pow limit %x (%08x), genesis bits %08x", n.Consensus.PowLimit, n.Consensus.PowLimitBits, n.Genesis.Header.Bits)
	}
	checkGenesis(t, n)
}

// TestSpecMinimumChainWork ensures minimum_chain_work is read as hex, with
// or without 0x, and that a custom network without it has none, whatever
// its base's.
func TestSpecMinimumChainWork(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		field string
		want  int64
	}{{`"minimum_chain_work": "0x1000"`, 0x1000}, {`"minimum_chain_work": "00000000000000000000000000000000000000000000000000000000000000ff"`, 0xff}} {
		n, err := chainparams.ParseSpec([]byte(specJSON(tc.field)))
		if err != nil {
			t.Fatal(err)
		}
		if w := n.Consensus.MinimumChainWork; w == nil || w.Int64() != tc.want {
			t.Fatalf("%s: minimum chain work %v, want %d", tc.field, w, tc.want)
		}
	}
	n, err := chainparams.ParseSpec([]byte(specJSON(`"base": "main", "pow_limit_bits": "0x207fffff"`)))
	if err != nil {
		t.Fatal(err)
	}
	if n.Consensus.MinimumChainWork != nil {
		t.Fatalf("a custom network based on main has minimum chain work %v", n.Consensus.MinimumChainWork)
	}
}

// TestSpecAssumeValid ensures assume_valid is read as a block hash as
// hashes are shown, and that a custom network without it has none.
func TestSpecAssumeValid(t *testing.T) {
	t.Parallel()
	const h = "0000000673315b87ef425a8cb37123476e724cb22f9a2ab5c4e890b9115c07ee"
	n := mustParseSpec(t, specJSON(`"assume_valid": "`+h+`"`))
	if n.AssumeValid.String() != h {
		t.Fatalf("assume_valid %v, want %s", n.AssumeValid, h)
	}
	if n := mustParseSpec(t, specJSON(`"base": "main", "pow_limit_bits": "0x207fffff"`)); n.AssumeValid != (chainhash.Hash{}) {
		t.Fatalf("a custom network has assume_valid %v", n.AssumeValid)
	}
}
