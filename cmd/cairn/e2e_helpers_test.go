package main

// Helpers of the end-to-end tests (e2e_test.go): they build the real cairn
// binary once, run it as child processes on loopback and talk to it over
// JSON-RPC with btcd's rpcclient, raw HTTP and `cairn rpc`.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/rpcclient"

	"github.com/cairnchain/cairn/chain/chainparams"
)

const (
	// readyTimeout bounds how long a node may take to answer RPC.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds how long a node may take to exit after the stop
	// call or SIGTERM.
	stopTimeout = 5 * time.Second
	// exitTimeout bounds a command that is expected to finish or to fail
	// start-up. A passing command never waits for it; a wallet command
	// derives its Argon2id key twice, which on a loaded 2-core machine
	// under make test has taken over 10 s.
	exitTimeout = time.Minute
)

// The cairn binary under test, built on first use by cairnBinary and
// removed by TestMain.
var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// TestMain removes the binary the end-to-end tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// cairnBinary builds the cairn binary from this package's sources once per
// test run and returns its path. Tests that need it are skipped with -short.
func cairnBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "cairn-e2e-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "cairn")
		goTool := "go"
		if p, err := exec.LookPath("go"); err == nil {
			goTool = p
		}
		cmd := exec.Command(goTool, "build", "-o", buildPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build -o %s .: %v\n%s", buildPath, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// freeAddr returns a loopback address with a port that was free a moment
// ago. The port is drawn below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range): a port from that range can be taken, between
// this call and the child's bind, by any process's outbound connection or
// ":0" listener, and the test packages that run beside this one make many.
// CI once lost a run that way.
func freeAddr(t testing.TB) string {
	t.Helper()
	lo := ephemeralLow()
	const floor = 10000
	for range 200 {
		port := floor + rand.IntN(lo-floor)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	t.Fatalf("no free loopback port in [%d, %d)", floor, lo)
	return ""
}

// ephemeralLow is the first port of the kernel's ephemeral range, or the
// IANA one's (49152) where /proc does not say; never below 20000, so that
// freeAddr keeps a wide range to draw from.
func ephemeralLow() int {
	lo := 49152
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				lo = n
			}
		}
	}
	return max(lo, 20000)
}

// testAddress returns a fixed regtest P2PKH address (base58). The tests mine
// to it rather than to a P2WPKH address because the node cannot decode
// bech32 addresses yet; TestE2EBech32Address covers those.
func testAddress(t testing.TB) *btcutil.AddressPubKeyHash {
	t.Helper()
	addr, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160([]byte("cairn e2e")), chainparams.Regtest().AddressParams())
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// testSegwitAddress returns a fixed regtest P2WPKH address (bech32, "rcrn1...").
func testSegwitAddress(t testing.TB) *btcutil.AddressWitnessPubKeyHash {
	t.Helper()
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160([]byte("cairn e2e")), chainparams.Regtest().AddressParams())
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines of exec and a
// reading test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running cairn child process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{} // closed when the process has exited and been waited for
}

// cleanEnv is the test's environment without CAIRN_* variables, plus env.
func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAIRN_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// startProc starts the cairn binary with args and env (added to a clean
// environment). When the test ends the process is killed if it still runs,
// and its output is logged if the test failed.
func startProc(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(cairnBinary(t), args...)
	p.cmd.Env = cleanEnv(env)
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s: cairn %s\n--- stdout ---\n%s--- stderr ---\n%s", p.name, strings.Join(args, " "), tail(p.stdout.String()), tail(p.stderr.String()))
		}
	})
	return p
}

// tail returns the first and last lines of a long process output.
func tail(s string) string {
	const keepHead, keepTail = 10, 40
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= keepHead+keepTail+1 {
		return s
	}
	return strings.Join(lines[:keepHead], "") + fmt.Sprintf("[... %d lines ...]\n", len(lines)-keepHead-keepTail) +
		strings.Join(lines[len(lines)-keepTail:], "")
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output is the process's stdout and stderr so far.
func (p *proc) output() string { return p.stdout.String() + p.stderr.String() }

// waitExit waits at most d for the process to exit and returns its exit
// code; it fails the test when the process is still running.
func (p *proc) waitExit(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("%s still running %v after it should have exited", p.name, d)
		return -1
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.exited() {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.done
}

// runCairn runs the binary to completion (at most exitTimeout) and returns
// its stdout, stderr and exit code.
func runCairn(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCairnFor(t, exitTimeout, env, args...)
}

// runCairnFor is runCairn with a time limit of d.
func runCairnFor(t testing.TB, d time.Duration, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, cairnBinary(t), args...)
	cmd.Env = cleanEnv(env)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		code = exitErr.ExitCode()
	default:
		t.Fatalf("cairn %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String(), code
}

// nodeOpts are the options of startNode.
type nodeOpts struct {
	// rpcAddr is the --rpc-addr; empty picks a free port.
	rpcAddr string
	// noRPCAddrFlag leaves --rpc-addr off the command line (rpcAddr must
	// then reach the node another way, e.g. CAIRN_RPC_ADDR).
	noRPCAddrFlag bool
	// user and pass are --rpc-user and --rpc-password; empty means the
	// cookie file.
	user, pass string
	env        []string
	args       []string
}

// node is a `cairn node --network regtest` child process.
type node struct {
	*proc
	dir        string // --datadir
	rpcAddr    string
	user, pass string // fixed credentials, or empty for the cookie
}

// cookiePath is the node's cookie file.
func (n *node) cookiePath() string { return filepath.Join(n.dir, "regtest", ".cookie") }

// startNode starts a regtest node on datadir dir and waits until its RPC
// answers. When the helper chose the RPC port and another process bound it
// first (freeAddr can only make that unlikely), the node is started again on
// another port.
func startNode(t testing.TB, dir string, o nodeOpts) *node {
	t.Helper()
	chosen := o.rpcAddr == ""
	for attempt := 1; ; attempt++ {
		n := launchNode(t, dir, o)
		err := n.awaitReady()
		if err == nil {
			return n
		}
		if chosen && attempt < 3 && errors.Is(err, errNodeExited) && strings.Contains(n.stderr.String(), "address already in use") {
			t.Logf("%s: RPC port taken by another process; starting again on another", n.name)
			o.rpcAddr = ""
			continue
		}
		t.Fatal(err)
	}
}

// launchNode starts a regtest node on datadir dir without waiting for it.
func launchNode(t testing.TB, dir string, o nodeOpts) *node {
	t.Helper()
	if o.rpcAddr == "" {
		o.rpcAddr = freeAddr(t)
	}
	args := []string{"node", "--network", "regtest", "--datadir", dir}
	if !containsArg(o.args, "--listen") {
		// An ephemeral loopback port, so parallel nodes never share one.
		args = append(args, "--listen", "/ip4/127.0.0.1/tcp/0")
	}
	if !containsArg(o.args, "--mdns") {
		// Tests name their peers: nodes of parallel tests must not find
		// each other on the local network.
		args = append(args, "--mdns=false")
	}
	if !o.noRPCAddrFlag {
		args = append(args, "--rpc-addr", o.rpcAddr)
	}
	if o.user != "" {
		args = append(args, "--rpc-user", o.user, "--rpc-password", o.pass)
	}
	args = append(args, o.args...)
	n := &node{dir: dir, rpcAddr: o.rpcAddr, user: o.user, pass: o.pass}
	n.proc = startProc(t, "node "+o.rpcAddr, o.env, args...)
	return n
}

// creds returns the RPC credentials: the fixed ones or the cookie's.
func (n *node) creds() (user, pass string, err error) {
	if n.user != "" {
		return n.user, n.pass, nil
	}
	b, err := os.ReadFile(n.cookiePath())
	if err != nil {
		return "", "", err
	}
	user, pass, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
	if !ok {
		return "", "", fmt.Errorf("malformed cookie %q", b)
	}
	return user, pass, nil
}

// errNodeExited is awaitReady's error for a node that exited before its RPC
// answered.
var errNodeExited = errors.New("node exited before its RPC answered")

// awaitReady polls getblockcount until it answers; it fails if the node
// exits (errNodeExited) or does not answer within readyTimeout.
func (n *node) awaitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		if n.exited() {
			return fmt.Errorf("%s: %w (exit code %d)", n.name, errNodeExited, n.cmd.ProcessState.ExitCode())
		}
		if _, err := n.call("getblockcount"); err == nil {
			return nil
		} else {
			lastErr = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: RPC not ready after %v: %v", n.name, readyTimeout, lastErr)
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("RPC error %d: %s", e.Code, e.Message) }

// postRPC sends one JSON-RPC 1.0 call over raw HTTP with the given
// credentials and returns the HTTP status and the decoded answer.
func postRPC(addr, user, pass, method string, params ...any) (status int, result json.RawMessage, rerr *rpcError, err error) {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
	if err != nil {
		return 0, nil, nil, err
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, nil, fmt.Errorf("HTTP %d: undecodable answer: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out.Result, out.Error, nil
}

// call makes one RPC call over raw HTTP; an RPC error is returned as
// *rpcError.
func (n *node) call(method string, params ...any) (json.RawMessage, error) {
	user, pass, err := n.creds()
	if err != nil {
		return nil, err
	}
	_, result, rerr, err := postRPC(n.rpcAddr, user, pass, method, params...)
	if err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, rerr
	}
	return result, nil
}

// mustCall is call that fails the test on any error and decodes the result
// into out (unless out is nil).
func (n *node) mustCall(t testing.TB, out any, method string, params ...any) {
	t.Helper()
	res, err := n.call(method, params...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			t.Fatalf("%s: decode %s: %v", method, res, err)
		}
	}
}

// client returns a btcd rpcclient for the node in HTTP POST mode, shut down
// when the test ends. Its requests retry for a long time on connection
// errors, so use it only on a node that is known to be up.
func (n *node) client(t testing.TB) *rpcclient.Client {
	t.Helper()
	user, pass, err := n.creds()
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpcclient.New(&rpcclient.ConnConfig{
		Host:         n.rpcAddr,
		User:         user,
		Pass:         pass,
		HTTPPostMode: true,
		DisableTLS:   true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// stopRPC asks the node to stop with the stop call and checks that it exits
// with code 0, without errors in its log, and removes its cookie file.
func (n *node) stopRPC(t testing.TB) {
	t.Helper()
	var msg string
	n.mustCall(t, &msg, "stop")
	if !strings.Contains(strings.ToLower(msg), "stopping") {
		t.Errorf("stop answered %q", msg)
	}
	n.checkCleanExit(t)
}

// terminate sends SIGTERM and checks a clean exit as stopRPC does.
func (n *node) terminate(t testing.TB) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	n.checkCleanExit(t)
}

func (n *node) checkCleanExit(t testing.TB) {
	t.Helper()
	if code := n.waitExit(t, stopTimeout); code != 0 {
		t.Errorf("%s exited with code %d, want 0", n.name, code)
	}
	if strings.Contains(n.stderr.String(), "level=ERROR") {
		t.Errorf("%s logged an error while stopping", n.name)
	}
	if n.user == "" {
		if _, err := os.Stat(n.cookiePath()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cookie file after shutdown: stat: %v, want not-exist", err)
		}
	}
}

// subsidy is a regtest block subsidy: 50 coins halving every 150 blocks.
func subsidy(height int64) int64 {
	halvings := height / 150
	if halvings >= 64 {
		return 0
	}
	return (50 * 1e8) >> halvings
}

// containsArg reports whether args holds flag.
func containsArg(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

// scrapeMetrics returns the text of a node's /metrics, waiting for the
// server to answer.
func scrapeMetrics(t testing.TB, addr string) string {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /metrics: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metricValue returns the value of a series in a /metrics text.
func metricValue(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}
