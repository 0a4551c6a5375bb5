package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/urfave/cli/v2"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/mempool"
	"github.com/cairnchain/cairn/p2p"
)

// TestNodeDiscoveryDefaults ensures each network starts with the discovery
// SPEC.md gives it (mDNS off on main, the DHT on main and test only) and
// that the flags override both.
func TestNodeDiscoveryDefaults(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		mdns, dht bool
	}{
		{[]string{"--network", "main"}, false, true},
		{[]string{"--network", "test"}, true, true},
		{[]string{"--network", "regtest"}, true, false},
		{[]string{"--network", "regtest", "--dht", "--mdns=false"}, false, true},
		{[]string{"--network", "main", "--dht=false"}, false, false},
	} {
		got, err := parseNode(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got.mdns != tc.mdns || got.dht != tc.dht {
			t.Errorf("%v: mdns %v dht %v, want %v %v", tc.args, got.mdns, got.dht, tc.mdns, tc.dht)
		}
	}
}

// TestNodeBlockFilterIndexFlag ensures the block filter index is on by
// default and that --blockfilterindex=false, CAIRN_BLOCKFILTERINDEX and the
// config file turn it off, with the command line winning over the file.
func TestNodeBlockFilterIndexFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string // CAIRN_BLOCKFILTERINDEX, when not empty
		conf string // cairn.conf, when not empty
		want bool
	}{
		{name: "default", want: true},
		{name: "flag off", args: []string{"--blockfilterindex=false"}, want: false},
		{name: "flag on", args: []string{"--blockfilterindex"}, want: true},
		{name: "environment off", env: "false", want: false},
		{name: "config file off", conf: "[regtest]\nblockfilterindex = false\n", want: false},
		{name: "config file top level off", conf: "blockfilterindex = false\n", want: false},
		{name: "command line wins over the file", args: []string{"--blockfilterindex=true"}, conf: "blockfilterindex = false\n", want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("CAIRN_BLOCKFILTERINDEX", tc.env)
			}
			dir := t.TempDir()
			if tc.conf != "" {
				if err := os.WriteFile(filepath.Join(dir, configFileName), []byte(tc.conf), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var got *nodeConfig
			cmd := nodeCommand()
			cmd.Action = func(c *cli.Context) error {
				var err error
				got, err = parseNodeConfig(c)
				return err
			}
			app := &cli.App{Commands: []*cli.Command{cmd}}
			args := append([]string{"cairn", "node", "--datadir", dir, "--network", "regtest"}, tc.args...)
			if err := app.Run(args); err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			if got.filterIndex != tc.want {
				t.Errorf("block filter index %v, want %v", got.filterIndex, tc.want)
			}
		})
	}
}

// parseNode runs parseNodeConfig on the node command with args.
func parseNode(t *testing.T, args ...string) (*nodeConfig, error) {
	t.Helper()
	var got *nodeConfig
	cmd := nodeCommand()
	cmd.Action = func(c *cli.Context) error {
		var err error
		got, err = parseNodeConfig(c)
		return err
	}
	app := &cli.App{Commands: []*cli.Command{cmd}}
	err := app.Run(append([]string{"cairn", "node", "--datadir", t.TempDir()}, args...))
	return got, err
}

// TestNodeMineInterval ensures --mine-interval defaults to 10 s on a
// fixed-difficulty chain and 0 on an ASERT chain, that 0 turns it off,
// and that it is refused on a chain whose difficulty adjusts.
func TestNodeMineInterval(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
		err  string
	}{
		{args: []string{"--network", "regtest"}, want: defaultMineInterval},
		{args: []string{"--network", "regtest", "--mine-interval", "0"}, want: 0},
		{args: []string{"--network", "regtest", "--mine-interval", "250ms"}, want: 250 * time.Millisecond},
		{args: []string{"--network", "test"}, want: 0},
		{args: []string{"--network", "test", "--mine-interval", "1s"}, err: "fixed-difficulty"},
		{args: []string{"--network", "regtest", "--mine-interval", "-1s"}, err: "negative"},
	} {
		got, err := parseNode(t, tc.args...)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || got.mineInterval != tc.want {
			t.Errorf("%v: interval %v (%v), want %v", tc.args, got.mineInterval, err, tc.want)
		}
	}
}

// TestNodeMineEmulated ensures --mine-emulated turns mining on with its
// share on a fixed-difficulty chain only, and refuses a share outside
// (0, 1], the public networks, ASERT chains and --mine-interval beside it;
// and that --strategy selfish needs it.
func TestNodeMineEmulated(t *testing.T) {
	key, _ := btcec.NewPrivateKey()
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(key.PubKey().SerializeCompressed()),
		chainparams.Regtest().AddressParams())
	if err != nil {
		t.Fatal(err)
	}
	reg := []string{"--network", "regtest", "--miner-address", addr.EncodeAddress()}
	got, err := parseNode(t, append(reg, "--mine-emulated", "0.25")...)
	if err != nil || !got.mine || got.mineEmulated != 0.25 || got.mineInterval != 0 {
		t.Fatalf("--mine-emulated 0.25: mine %v share %v interval %v (%v)", got.mine, got.mineEmulated, got.mineInterval, err)
	}
	if got.selfish {
		t.Fatal("selfish without --strategy")
	}
	if got, err := parseNode(t, append(reg, "--mine-emulated", "0.25", "--strategy", "selfish")...); err != nil || !got.selfish {
		t.Fatalf("--strategy selfish: %v %v", got.selfish, err)
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{append(reg, "--mine-emulated", "0"), "above 0"},
		{append(reg, "--mine-emulated", "1.5"), "at most 1"},
		{append(reg, "--mine-emulated", "0.5", "--mine-interval", "1s"), "drop --mine-interval"},
		{[]string{"--network", "test", "--mine-emulated", "0.5"}, "fixed-difficulty"},
		{[]string{"--network", "main", "--mine-emulated", "0.5"}, "fixed-difficulty"},
		{[]string{"--network", "regtest", "--mine-emulated", "0.5"}, "address"},
		{append(reg, "--strategy", "selfish"), "needs --mine-emulated"},
		{append(reg, "--mine-emulated", "0.5", "--strategy", "greedy"), "honest or selfish"},
	} {
		if _, err := parseNode(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.err)
		}
	}
}

// TestNodeBlockRelay ensures --block-relay picks compact (the default) or
// whole-block announcements and refuses anything else.
func TestNodeBlockRelay(t *testing.T) {
	for args, want := range map[string]p2p.BlockRelay{"": p2p.RelayCompact, "compact": p2p.RelayCompact, "full": p2p.RelayFull} {
		argv := []string{"--network", "regtest"}
		if args != "" {
			argv = append(argv, "--block-relay", args)
		}
		got, err := parseNode(t, argv...)
		if err != nil || got.blockRelay != want {
			t.Fatalf("--block-relay %q: %v (%v)", args, got.blockRelay, err)
		}
	}
	if _, err := parseNode(t, "--network", "regtest", "--block-relay", "xthin"); err == nil || !strings.Contains(err.Error(), "compact or full") {
		t.Fatalf("--block-relay xthin: %v", err)
	}
}

// TestHelpDefaults ensures no flag's help states its default twice or
// contradicts it (urfave adds "(default: ...)" itself: a usage text that
// says it too reads "(default: on) (default: false)"), and that the
// defaults shown are the real ones.
func TestHelpDefaults(t *testing.T) {
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			for _, f := range cmd.Flags {
				if u, ok := f.(cli.DocGenerationFlag); ok && strings.Contains(u.GetUsage(), "default") {
					t.Errorf("%s %s: --%s's usage %q states a default; use DefaultText", prefix, cmd.Name, f.Names()[0], u.GetUsage())
				}
			}
			walk(prefix+" "+cmd.Name, cmd.Subcommands)
		}
	}
	walk("cairn", newApp().Commands)
	for _, f := range nodeCommand().Flags {
		if f.Names()[0] == "maxmempool" {
			if v := f.(*cli.IntFlag).Value; int64(v)*1_000_000 != mempool.DefaultMaxPoolBytes {
				t.Errorf("--maxmempool default %d MB, the pool's is %d bytes", v, mempool.DefaultMaxPoolBytes)
			}
		}
	}
}

// TestNodePruneFlag ensures --prune takes Core's values (0 off, 1 manual,
// 550 MiB and up automatic) and refuses the rest and --txindex with it.
func TestNodePruneFlag(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		prune     bool
		targetMiB int
		err       string
	}{
		{args: nil},
		{args: []string{"--prune", "0"}},
		{args: []string{"--prune", "1"}, prune: true},
		{args: []string{"--prune", "550"}, prune: true, targetMiB: 550},
		{args: []string{"--prune", "2000"}, prune: true, targetMiB: 2000},
		{args: []string{"--prune", "549"}, err: "below the minimum of 550 MiB"},
		{args: []string{"--prune", "-1"}, err: "negative"},
		{args: []string{"--prune", "1", "--txindex"}, err: "incompatible with --txindex"},
	} {
		got, err := parseNode(t, append([]string{"--network", "regtest"}, tc.args...)...)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got.prune != tc.prune || got.pruneTargetMiB != tc.targetMiB {
			t.Errorf("%v: prune %v target %d MiB, want %v %d", tc.args, got.prune, got.pruneTargetMiB, tc.prune, tc.targetMiB)
		}
	}
}

// TestNodeAssumeValidFlag ensures --assumevalid takes a block hash or 0
// (every script checked), defaults to the network's, and refuses the rest.
func TestNodeAssumeValidFlag(t *testing.T) {
	const h = "0000000673315b87ef425a8cb37123476e724cb22f9a2ab5c4e890b9115c07ee"
	got, err := parseNode(t, "--network", "regtest")
	if err != nil || got.assumeValid != nil {
		t.Fatalf("default: %v, %v; want the network's (nil)", got.assumeValid, err)
	}
	got, err = parseNode(t, "--network", "regtest", "--assumevalid", h)
	if err != nil || got.assumeValid == nil || got.assumeValid.String() != h {
		t.Fatalf("--assumevalid %s: %v, %v", h, got.assumeValid, err)
	}
	got, err = parseNode(t, "--network", "regtest", "--assumevalid", "0")
	if err != nil || got.assumeValid == nil || !got.assumeValid.IsEqual(&chainhash.Hash{}) {
		t.Fatalf("--assumevalid 0: %v, %v; want the zero hash", got.assumeValid, err)
	}
	for _, bad := range []string{"00ff", h + "00", "xyz"} {
		if _, err := parseNode(t, "--network", "regtest", "--assumevalid", bad); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
			t.Errorf("--assumevalid %q: %v", bad, err)
		}
	}
}

// TestNodeMaxTipAgeFlag ensures --maxtipage takes Core's seconds, defaults
// to the chain's 24 hours and refuses 0.
func TestNodeMaxTipAgeFlag(t *testing.T) {
	got, err := parseNode(t, "--network", "regtest")
	if err != nil || got.maxTipAge != chain.DefaultMaxTipAge {
		t.Fatalf("default: %v, %v", got.maxTipAge, err)
	}
	got, err = parseNode(t, "--network", "regtest", "--maxtipage", "604800")
	if err != nil || got.maxTipAge != 7*24*time.Hour {
		t.Fatalf("--maxtipage 604800: %v, %v", got.maxTipAge, err)
	}
	if _, err := parseNode(t, "--network", "regtest", "--maxtipage", "0"); err == nil || !strings.Contains(err.Error(), "above 0") {
		t.Fatalf("--maxtipage 0: %v", err)
	}
}

// TestNodeElectrumFlags ensures the Electrum and HTTP addresses take the
// network's default port when given a host alone, that the Electrum ones
// turn the address index on, that the HTTP one turns on the address index
// and (unless given, or pruning) the transaction index, and that
// certificate flags are checked.
func TestNodeElectrumFlags(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		plain, tlsOn string
		http         string
		addrIndex    bool
		txIndex      bool
		err          string
	}{
		{args: nil},
		{args: []string{"--addrindex"}, addrIndex: true},
		{args: []string{"--electrum-addr", "127.0.0.1"}, plain: "127.0.0.1:27334", addrIndex: true},
		{args: []string{"--electrum-addr", "0.0.0.0:5000"}, plain: "0.0.0.0:5000", addrIndex: true},
		{args: []string{"--electrum-tls-addr", "::1"}, tlsOn: "[::1]:27335", addrIndex: true},
		{args: []string{"--electrum-addr", "127.0.0.1:x"}, err: "bad port"},
		{args: []string{"--electrum-addr", ":5000"}, plain: "127.0.0.1:5000", addrIndex: true},
		{args: []string{"--http-addr", "127.0.0.1"}, http: "127.0.0.1:27336", addrIndex: true, txIndex: true},
		{args: []string{"--http-addr", "127.0.0.1", "--txindex=false"}, http: "127.0.0.1:27336", addrIndex: true},
		{args: []string{"--http-addr", "127.0.0.1", "--prune", "550"}, http: "127.0.0.1:27336", addrIndex: true},
		{args: []string{"--http-addr", "127.0.0.1:x"}, err: "bad port"},
		{args: []string{"--electrum-tls-addr", "127.0.0.1", "--electrum-cert", "c.pem"}, err: "go together"},
		{args: []string{"--electrum-cert", "c.pem", "--electrum-key", "k.pem"}, err: "not set"},
	} {
		got, err := parseNode(t, append([]string{"--network", "regtest"}, tc.args...)...)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got.electrumAddr != tc.plain || got.electrumTLSAddr != tc.tlsOn || got.addrIndex != tc.addrIndex || got.httpAddr != tc.http ||
			got.txIndex != tc.txIndex {
			t.Errorf("%v: electrum %q tls %q addrindex %v txindex %v, want %q %q %v %v", tc.args, got.electrumAddr, got.electrumTLSAddr,
				got.addrIndex, got.txIndex, tc.plain, tc.tlsOn, tc.addrIndex, tc.txIndex)
		}
	}
}
