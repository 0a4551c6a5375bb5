package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// configFileName is the TOML config file in the data directory's root. Its
// top-level keys are flag names; a table named after a network ([regtest],
// or a chain spec's name) holds settings for that network only and wins over
// the top level:
//
//	rpc-user = "alice"
//	rpc-password = "secret"
//	[regtest]
//	txindex = true
//	blockfilterindex = false
//	dbcache = 100
//
// The command line and the CAIRN_* environment variables win over the file.
const configFileName = "cairn.conf"

// loadConfig applies the data directory's config file to the flags the
// command line and environment left unset, and returns the selected
// network. A key that is not a flag of the command, or a value that does not
// parse, stops with an error naming the file and the key.
func loadConfig(c *cli.Context) (*chainparams.Network, error) {
	if strings.TrimSpace(c.String("datadir")) == "" {
		return nil, errors.New("--datadir must not be empty")
	}
	path := filepath.Join(c.String("datadir"), configFileName)
	raw, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	// The network decides which table applies, so it is settled first.
	for _, k := range []string{"network", "chain-spec"} {
		if v, ok := raw[k]; ok && !c.IsSet(k) {
			if err := c.Set(k, fmt.Sprint(v)); err != nil {
				return nil, fmt.Errorf("config file %s: option %q: %w", path, k, err)
			}
		}
	}
	net, err := loadNetwork(c)
	if err != nil {
		return nil, err
	}
	settings := map[string]any{}
	for k, v := range raw {
		if _, isTable := v.(map[string]any); !isTable {
			settings[k] = v
		}
	}
	if t, ok := raw[net.Name].(map[string]any); ok {
		for k, v := range t {
			if k == "network" || k == "chain-spec" || k == "datadir" {
				return nil, fmt.Errorf("config file %s: %q cannot be set inside the [%s] table", path, k, net.Name)
			}
			settings[k] = v
		}
	}
	known := map[string]bool{}
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			known[n] = true
		}
	}
	// One file serves every command: an option of another command (the
	// node's mine = true, read by cairn wallet) is left to it.
	ofAny := map[string]bool{}
	var collect func(cmds []*cli.Command)
	collect = func(cmds []*cli.Command) {
		for _, cmd := range cmds {
			for _, f := range cmd.Flags {
				for _, n := range f.Names() {
					ofAny[n] = true
				}
			}
			collect(cmd.Subcommands)
		}
	}
	collect(c.App.Commands)
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] && ofAny[k] && k != "datadir" && k != "help" {
			continue
		}
		if !known[k] || k == "datadir" || k == "help" {
			return nil, fmt.Errorf("config file %s: unknown option %q for 'cairn %s'", path, k, c.Command.Name)
		}
		if c.IsSet(k) || k == "network" || k == "chain-spec" {
			continue
		}
		for _, s := range configValues(settings[k]) {
			if err := c.Set(k, s); err != nil {
				return nil, fmt.Errorf("config file %s: option %q: %w", path, k, err)
			}
		}
	}
	return net, nil
}

// readConfigFile parses the config file; a missing file is an empty one.
func readConfigFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	raw := map[string]any{}
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return raw, nil
}

// configValues renders a TOML value as flag strings (an array gives one per
// element, for repeatable flags).
func configValues(v any) []string {
	switch t := v.(type) {
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case string:
		return []string{t}
	}
	return []string{fmt.Sprint(v)}
}
