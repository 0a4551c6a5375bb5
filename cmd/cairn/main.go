// Command cairn is the Cairn full node, wallet and testnet tool.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version, commit and buildDate are set at build time with -ldflags "-X
// main.version=... -X main.commit=... -X main.buildDate=..." (make build
// sets the commit and the date); without them the commit and its date come
// from the build's version control stamp, where there is one.
var (
	version   = "0.1.0-dev"
	commit    = ""
	buildDate = ""
)

func main() {
	app := newApp()
	err := app.Run(os.Args)
	if err == nil && app.Metadata[unknownCommandKey] != nil {
		os.Exit(1) // the usage was printed with the error
	}
	if err != nil {
		var rerr rpcExitError
		if errors.As(err, &rerr) {
			fmt.Fprintln(os.Stderr, rerr.Error())
		} else {
			fmt.Fprintln(os.Stderr, "cairn:", err)
		}
		os.Exit(1)
	}
}

// unknownCommandKey marks, in the app's metadata, a run that named no
// command of cairn.
const unknownCommandKey = "unknown-command"

// newApp builds the command tree.
func newApp() *cli.App {
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintln(c.App.Writer, versionLine()) }
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print the version, commit and build date"}
	return &cli.App{
		Name:    "cairn",
		Usage:   "a proof-of-work full node with Bitcoin's formats",
		Version: version,
		// Flags must come before positional arguments (SPEC section 8).
		UseShortOptionHandling: false,
		// `cairn completion bash|zsh` prints the script; urfave's hidden
		// --generate-bash-completion flag answers it.
		EnableBashCompletion: true,
		// Errors go back to main, which prints each once.
		ExitErrHandler: func(*cli.Context, error) {},
		CommandNotFound: func(c *cli.Context, name string) {
			if c.App.Metadata[unknownCommandKey] != nil {
				return // once
			}
			c.App.Metadata[unknownCommandKey] = name
			fmt.Fprintf(c.App.ErrWriter, "cairn: unknown command %q\n\n", name)
			if cmd := c.Command; cmd != nil && len(cmd.Subcommands) > 0 {
				cli.HelpPrinter(c.App.ErrWriter, cli.SubcommandHelpTemplate, cmd)
			} else {
				cli.HelpPrinter(c.App.ErrWriter, cli.AppHelpTemplate, c.App)
			}
		},
		Metadata: map[string]any{},
		Commands: []*cli.Command{
			nodeCommand(),
			rpcCommand(),
			walletCommand(),
			testnetCommand(),
			mineCommand(),
			completionCommand(),
			{
				Name:  "version",
				Usage: "print the version, commit and build date",
				Action: func(c *cli.Context) error {
					fmt.Fprintln(c.App.Writer, versionLine())
					return nil
				},
			},
		},
	}
}

// versionLine is what `cairn version` and `cairn --version` print: the
// version, the commit (with "-dirty" if the tree had changes), the build
// date (the commit's date when the build did not set one) and Go's version.
func versionLine() string {
	rev, date, goVer := commit, buildDate, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVer = bi.GoVersion
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value[:min(12, len(s.Value))]
				}
			case "vcs.time":
				if date == "" {
					date = s.Value
				}
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && commit == "" && rev != "" {
			rev += "-dirty"
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	return fmt.Sprintf("cairn %s (commit %s, built %s) %s", version, rev, date, goVer)
}
