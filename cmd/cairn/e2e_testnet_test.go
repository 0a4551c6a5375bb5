package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runLong runs cairn with a longer limit than runCairn's, for testnet
// commands that wait for blocks.
func runLong(t *testing.T, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	// Leave the test binary's own limit room for the cleanup, which must
	// run to kill the nodes.
	if deadline, ok := t.Deadline(); ok {
		d = min(d, time.Until(deadline)-2*time.Minute)
	}
	return runCairnFor(t, d, nil, args...)
}

// cleanupTestnet stops the testnet in dir when the test ends, whether it
// passed or not: testnet down, then SIGKILL for any of its nodes left (no
// Fatal there, so that the SIGKILL pass always runs).
func cleanupTestnet(t *testing.T, dir string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		_ = exec.CommandContext(ctx, cairnBinary(t), "testnet", "down", "--dir", dir).Run()
		for _, pid := range testnetPIDs(dir) {
			if ours(pid, dir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}

// testnetPIDs reads the node processes of a testnet's state file.
func testnetPIDs(dir string) []int {
	raw, err := os.ReadFile(filepath.Join(dir, "testnet.json"))
	if err != nil {
		return nil
	}
	var st struct {
		Nodes []struct {
			PID int `json:"pid"`
		} `json:"nodes"`
	}
	_ = json.Unmarshal(raw, &st)
	var out []int
	for _, n := range st.Nodes {
		out = append(out, n.PID)
	}
	return out
}

// ours reports whether pid is a live node of the testnet in dir (a
// reused PID is left alone).
func ours(pid int, dir string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(cmdline, []byte(dir)) && alive(pid)
}

// alive reports whether pid is a live, non-zombie process.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

// TestE2ETestnet runs a local testnet of three real nodes (two mining):
// up --detach, status, the partition scenario (agreement, a partition in
// which both sides mine apart and confirm a payment each, the heal, the
// convergence on the most-work chain, and both payments confirmed on every
// node afterwards), a kill and restart, the crash and clock-skew
// scenarios, and down, after which no node process is left. Every process
// is killed even when the test fails.
func TestE2ETestnet(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "localnet")
	cleanupTestnet(t, dir)
	out, errOut, code := runLong(t, 2*time.Minute, "testnet", "up", "--dir", dir, "--nodes", "3", "--miners", "2", "--spacing", "1s", "--detach")
	if code != 0 {
		t.Fatalf("up: exit %d\n%s%s", code, out, errOut)
	}
	status := func() []map[string]any {
		t.Helper()
		out, errOut, code := runLong(t, time.Minute, "testnet", "status", "--dir", dir, "--json")
		if code != 0 {
			t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
		}
		var st []map[string]any
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("status: %v\n%s", err, out)
		}
		return st
	}
	st := status()
	if len(st) != 3 {
		t.Fatalf("status has %d nodes", len(st))
	}
	for _, k := range []string{"name", "height", "bestblockhash", "peers", "mining"} {
		if _, ok := st[0][k]; !ok {
			t.Fatalf("status lacks %q: %v", k, st[0])
		}
	}
	if st[0]["mining"] != true || st[2]["mining"] != false {
		t.Fatalf("mining flags: %v", st)
	}
	// Each node serves the Electrum protocol on its own port, at its tip.
	for _, node := range st {
		addr, _ := node["electrum"].(string)
		tip := electrumTip(t, addr)
		if tip < 0 {
			t.Fatalf("%v: no Electrum server at %q", node["name"], addr)
		}
	}

	out, errOut, code = runLong(t, 5*time.Minute, "testnet", "scenario", "--dir", dir, "partition")
	t.Logf("scenario partition:\n%s", out)
	if code != 0 || !strings.Contains(out, "none lost") {
		t.Fatalf("scenario partition: exit %d\n%s%s", code, out, errOut)
	}

	// A crash and a restart: the node comes back and catches up.
	if out, errOut, code = runLong(t, time.Minute, "testnet", "kill", "--dir", dir, "2"); code != 0 {
		t.Fatalf("kill: %s%s", out, errOut)
	}
	if st := status(); st[2]["running"] != false {
		t.Fatalf("node2 still running after kill: %v", st[2])
	}
	if out, errOut, code = runLong(t, 2*time.Minute, "testnet", "restart", "--dir", dir, "2"); code != 0 {
		t.Fatalf("restart: %s%s", out, errOut)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		st := status()
		if st[2]["height"] != nil && st[2]["bestblockhash"] == st[0]["bestblockhash"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node2 did not catch up after its restart: %v", st)
		}
		time.Sleep(300 * time.Millisecond)
	}

	// double-spend runs minutes of live attacks: it is run by hand (its
	// model is unit-tested in testnet).
	for _, name := range []string{"crash", "clock-skew"} {
		out, errOut, code = runLong(t, 5*time.Minute, "testnet", "scenario", "--dir", dir, name)
		t.Logf("scenario %s:\n%s", name, out)
		if code != 0 {
			t.Fatalf("scenario %s: exit %d\n%s%s", name, code, out, errOut)
		}
	}

	if out, errOut, code = runLong(t, time.Minute, "testnet", "down", "--dir", dir); code != 0 {
		t.Fatalf("down: %s%s", out, errOut)
	}
	for _, pid := range testnetPIDs(dir) {
		if alive(pid) {
			t.Fatalf("process %d still runs after down", pid)
		}
	}
}

// electrumTip asks an Electrum server for its tip height, or returns -1.
func electrumTip(t *testing.T, addr string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return -1
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"blockchain.headers.subscribe","params":[]}` + "\n")); err != nil {
		return -1
	}
	var resp struct {
		Result struct {
			Height int `json:"height"`
		} `json:"result"`
	}
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return -1
	}
	return resp.Result.Height
}
