package main

import (
	"bytes"
	"os/exec"
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

// TestGitIgnore ensures what the README's walkthrough and make run leave in
// the repository's root (a testnet folder, wallets and their locks) is not
// offered to git.
func TestGitIgnore(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"localnet/testnet.json", "soaknet/node0/node.log", "alice.dat", "alice.dat.lock", "bin/cairn"} {
		cmd := exec.Command("git", "check-ignore", "-q", path)
		cmd.Dir = "../.."
		if err := cmd.Run(); err != nil {
			t.Errorf("git check-ignore %s: %v (not ignored)", path, err)
		}
	}
}
