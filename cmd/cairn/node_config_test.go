package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v2"
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
		var got *nodeConfig
		cmd := nodeCommand()
		cmd.Action = func(c *cli.Context) error {
			var err error
			got, err = parseNodeConfig(c)
			return err
		}
		app := &cli.App{Commands: []*cli.Command{cmd}}
		args := append([]string{"cairn", "node", "--datadir", t.TempDir()}, tc.args...)
		if err := app.Run(args); err != nil {
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
