package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestVersion ensures `cairn version` prints the version.
func TestVersion(t *testing.T) {
	t.Parallel()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"cairn", "version"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "cairn "+version) {
		t.Fatalf("got %q", out.String())
	}
}

// TestVersionForms ensures --version, -v and `version` print one line with
// the version, the commit and the build date.
func TestVersionForms(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		app := newApp()
		var out bytes.Buffer
		app.Writer = &out
		if err := app.Run(append([]string{"cairn"}, args...)); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		line := out.String()
		if !strings.HasPrefix(line, "cairn "+version+" (commit ") || !strings.Contains(line, ", built ") || strings.Count(line, "\n") != 1 {
			t.Errorf("%v printed %q", args, line)
		}
	}
}

// TestUnknownCommand ensures an unknown command prints one error and the
// usage once, and exits with status 1, at the top level and under a
// command.
func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"frob"}, {"wallet", "frob"}} {
		out, errOut, code := runCairn(t, nil, args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		if strings.Count(errOut, `unknown command "frob"`) != 1 || strings.Count(errOut, "USAGE:") != 1 || strings.Contains(errOut+out, "No help topic") {
			t.Errorf("%v: stderr %q, stdout %q; want the error and the usage once", args, errOut, out)
		}
	}
}

// TestCompletion ensures `cairn completion bash|zsh` prints a script that
// asks cairn for its words, and that cairn answers with its commands.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{"bash": "complete -o bashdefault", "zsh": "#compdef cairn"} {
		out, errOut, code := runCairn(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "--generate-bash-completion") {
			t.Errorf("completion %s: exit %d, %q%s", shell, code, out, errOut)
		}
	}
	out, _, code := runCairn(t, nil, "--generate-bash-completion")
	for _, cmd := range []string{"node", "wallet", "testnet", "completion"} {
		if code != 0 || !strings.Contains(out, cmd+"\n") {
			t.Errorf("the completion words %q lack %s", out, cmd)
		}
	}
	if _, _, code := runCairn(t, nil, "completion", "fish"); code != 1 {
		t.Errorf("completion fish: exit %d, want 1", code)
	}
}
