// Package netnstest runs a test inside a network namespace of its own,
// where it can give itself any addresses. Tests of address-based rules
// (bans by address and subnet, one automatic outbound peer per address
// group) need peers whose connections come from distinct, non-loopback
// addresses, which the machine's loopback cannot give: 127.0.0.0/8 is
// "local" to those rules, as in Bitcoin Core. Creating a namespace needs
// root, which CI has; elsewhere the test is skipped with a message, or
// fails when CAIRN_NETNS_REQUIRED is set (CI sets it, so these tests never
// skip there).
package netnstest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

const (
	// childEnv names, in the child process, the test it runs.
	childEnv = "CAIRN_NETNS_CHILD"
	// RequiredEnv turns the skip without root into a failure.
	RequiredEnv = "CAIRN_NETNS_REQUIRED"
)

// Run makes the top-level test t run inside a new network namespace with
// loopback up and addrs (IPv4 or IPv6 addresses) on it. In the test
// process it starts the test binary again, running only t, in a child
// process in the namespace, waits for it and reports false: the caller
// returns. In that child it adds the addresses and reports true: the
// caller runs the test's body.
func Run(t *testing.T, addrs ...string) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		setup(t, addrs)
		return true
	}
	if os.Geteuid() != 0 {
		if os.Getenv(RequiredEnv) != "" {
			t.Fatalf("%s needs root to create a network namespace (%s is set)", t.Name(), RequiredEnv)
		}
		t.Skipf("%s needs root to create a network namespace; CI runs it as root", t.Name())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	if err != nil {
		t.Fatalf("%s in its network namespace: %v\n%s", t.Name(), err, text)
	}
	if !strings.Contains(text, "--- PASS: "+t.Name()) {
		t.Fatalf("%s did not pass in its network namespace:\n%s", t.Name(), text)
	}
	t.Logf("in its network namespace:\n%s", text)
	return false
}

// setup brings loopback up and adds the addresses to it.
func setup(t *testing.T, addrs []string) {
	t.Helper()
	run(t, "ip", "link", "set", "lo", "up")
	for _, a := range addrs {
		bits := "/32"
		if strings.Contains(a, ":") {
			bits = "/128"
		}
		run(t, "ip", "addr", "add", a+bits, "dev", "lo")
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Addr returns a TCP listen multiaddr on ip with a port the system picks.
func Addr(ip string) string {
	if strings.Contains(ip, ":") {
		return fmt.Sprintf("/ip6/%s/tcp/0", ip)
	}
	return fmt.Sprintf("/ip4/%s/tcp/0", ip)
}
