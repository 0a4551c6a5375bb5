package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// writeDocsEnv, set to 1, makes TestCLIDocs write docs/cli.md instead of
// checking it.
const writeDocsEnv = "CAIRN_WRITE_DOCS"

// TestCLIDocs ensures docs/cli.md is every command's --help as the binary
// prints it, so the reference cannot drift from the flags. Run with
// CAIRN_WRITE_DOCS=1 to write it again after changing a flag.
func TestCLIDocs(t *testing.T) {
	// The data directory's default is the home folder's: print it as ~.
	t.Setenv("HOME", "~")
	var doc bytes.Buffer
	doc.WriteString("# CLI reference\n\nGenerated from `cairn ... --help` by `CAIRN_WRITE_DOCS=1 go test ./cmd/cairn -run TestCLIDocs`.\n")
	var walk func(path []string, cmds []*cli.Command)
	section := func(path []string) {
		app := newApp()
		var out bytes.Buffer
		app.Writer, app.ErrWriter = &out, &out
		if err := app.Run(append(append([]string{"cairn"}, path...), "--help")); err != nil {
			t.Fatalf("cairn %s --help: %v", strings.Join(path, " "), err)
		}
		doc.WriteString("\n## cairn " + strings.Join(path, " ") + "\n\n```\n" + strings.TrimRight(out.String(), "\n") + "\n```\n")
	}
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			p := append(append([]string(nil), path...), c.Name)
			section(p)
			walk(p, c.Subcommands)
		}
	}
	section(nil)
	walk(nil, newApp().Commands)
	const file = "../../docs/cli.md"
	if os.Getenv(writeDocsEnv) == "1" {
		if err := os.WriteFile(file, doc.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, doc.Bytes()) {
		t.Errorf("docs/cli.md is not the commands' help: run %s=1 go test ./cmd/cairn -run TestCLIDocs", writeDocsEnv)
	}
}
