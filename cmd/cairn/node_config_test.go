package main

import (
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
