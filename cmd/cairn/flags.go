package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// envVar returns the environment variable of a flag: CAIRN_ and the flag
// name in upper case with '-' as '_'.
func envVar(name string) []string {
	return []string{"CAIRN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

// defaultDataDir is ~/.cairn.
func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".cairn"
	}
	return filepath.Join(home, ".cairn")
}

// commonFlags are taken by every command that talks to a network's data.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "network", Value: "main", Usage: "network: main, test or regtest", EnvVars: envVar("network")},
		&cli.StringFlag{Name: "chain-spec", Usage: "chain-spec JSON `FILE` of a custom network (overrides --network)", EnvVars: envVar("chain-spec")},
		&cli.StringFlag{Name: "datadir", Value: defaultDataDir(), Usage: "data `DIR`; each network uses its own subfolder", EnvVars: envVar("datadir")},
	}
}

// rpcClientFlags are the flags of commands that call a node's RPC.
func rpcClientFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "rpc-addr", Usage: "node RPC `HOST:PORT`", DefaultText: "127.0.0.1 and the network's RPC port", EnvVars: envVar("rpc-addr")},
		&cli.StringFlag{Name: "rpc-user", Usage: "RPC user", DefaultText: "the node's cookie file", EnvVars: envVar("rpc-user")},
		&cli.StringFlag{Name: "rpc-password", Usage: "RPC password", EnvVars: envVar("rpc-password")},
	}
}

// loadNetwork returns the network the common flags select.
func loadNetwork(c *cli.Context) (*chainparams.Network, error) {
	if spec := c.String("chain-spec"); spec != "" {
		return chainparams.LoadSpecFile(spec)
	}
	return chainparams.ByName(c.String("network"))
}

// networkDir returns the network's folder in the data directory.
func networkDir(c *cli.Context, net *chainparams.Network) string {
	return filepath.Join(c.String("datadir"), net.Name)
}

// rpcAddr returns --rpc-addr or the network's default.
// serviceAddr resolves an optional server address: "" stays off, a host
// alone takes the network's default port, a port alone binds 127.0.0.1.
func serviceAddr(v string, port uint16, flag string) (string, error) {
	if v == "" {
		return "", nil
	}
	host, p, err := net.SplitHostPort(v)
	if err != nil {
		// No port: the whole value is the host.
		host, p = strings.Trim(v, "[]"), strconv.Itoa(int(port))
	}
	if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%s %q: bad port", flag, v)
	}
	if host == "" {
		// A port alone: this machine only, as the servers default to.
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, p), nil
}

func rpcAddr(c *cli.Context, net *chainparams.Network) string {
	if a := c.String("rpc-addr"); a != "" {
		return a
	}
	return fmt.Sprintf("127.0.0.1:%d", net.RPCPort)
}
