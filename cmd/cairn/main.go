// Command cairn is the Cairn full node, wallet and testnet tool.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	if err := newApp().Run(os.Args); err != nil {
		var rerr rpcExitError
		if errors.As(err, &rerr) {
			fmt.Fprintln(os.Stderr, rerr.Error())
		} else {
			fmt.Fprintln(os.Stderr, "cairn:", err)
		}
		os.Exit(1)
	}
}

// newApp builds the command tree.
func newApp() *cli.App {
	return &cli.App{
		Name:  "cairn",
		Usage: "a proof-of-work full node with Bitcoin's formats",
		// Flags must come before positional arguments (SPEC section 8).
		UseShortOptionHandling: false,
		Commands: []*cli.Command{
			nodeCommand(),
			rpcCommand(),
			walletCommand(),
			testnetCommand(),
			mineCommand(),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					fmt.Fprintf(c.App.Writer, "cairn %s %s\n", version, goVersion())
					return nil
				},
			},
		},
	}
}

// goVersion returns the Go version the binary was built with.
func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}
