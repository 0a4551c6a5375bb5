package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// needNetns skips a test that needs root, ip, iptables and tc, or fails it
// when CAIRN_NETNS_REQUIRED is set (CI sets it, and .ci/run installs the
// tools).
func needNetns(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"ip", "iptables", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CAIRN_NETNS_REQUIRED") != "" {
		t.Fatalf("%s needs %s (CAIRN_NETNS_REQUIRED is set)", t.Name(), strings.Join(missing, ", "))
	}
	t.Skipf("%s needs %s; CI runs it as root with them", t.Name(), strings.Join(missing, ", "))
}

// netnsState is what the tests read of a --hosts netns testnet's state.
type netnsState struct {
	Net struct {
		Bridge     string   `json:"bridge"`
		Namespaces []string `json:"namespaces"`
		Veths      []string `json:"veths"`
		IPs        []string `json:"ips"`
	} `json:"net"`
	ShaperPID int `json:"shaper_pid"`
	Nodes     []struct {
		RPCAddr string `json:"rpc_addr"`
	} `json:"nodes"`
}

func readNetnsState(t *testing.T, dir string) netnsState {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "testnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st netnsState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// leftovers returns the namespaces and links of st that still exist.
func (st netnsState) leftovers() []string {
	var left []string
	for _, ns := range st.Net.Namespaces {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			left = append(left, "namespace "+ns)
		}
	}
	for _, l := range append([]string{st.Net.Bridge}, st.Net.Veths...) {
		if l != "" && exec.Command("ip", "link", "show", "dev", l).Run() == nil {
			left = append(left, "link "+l)
		}
	}
	return left
}

// removeHosts deletes what a failed test left of st's hosts.
func (st netnsState) removeHosts() {
	if st.ShaperPID > 0 {
		_ = syscall.Kill(st.ShaperPID, syscall.SIGKILL)
	}
	for _, ns := range st.Net.Namespaces {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	_ = exec.Command("ip", "link", "del", st.Net.Bridge).Run()
}

// netnsDir returns a testnet folder whose testnet, nodes and hosts are
// removed when the test ends, whether it passed or not.
func netnsDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "localnet")
	cleanupTestnet(t, dir)
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(dir, "testnet.json")); err == nil {
			readNetnsState(t, dir).removeHosts()
		}
	})
	return dir
}

// netnsUp starts an emulated --hosts netns testnet with up's args
// (detached) in a netnsDir, and returns the folder.
func netnsUp(t *testing.T, args ...string) string {
	t.Helper()
	dir := netnsDir(t)
	argv := append([]string{"testnet", "up", "--dir", dir, "--hosts", "netns", "--emulated", "--detach"}, args...)
	if out, errOut, code := runLong(t, 3*time.Minute, argv...); code != 0 {
		t.Fatalf("up: exit %d\n%s%s", code, out, errOut)
	}
	return dir
}

// dialFrom times a TCP handshake to addr made from inside network
// namespace ns: the socket is made on a thread moved into it.
func dialFrom(ns, addr string) (time.Duration, error) {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return 0, err
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return 0, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return 0, err
	}
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	took := time.Since(start)
	if c != nil {
		c.Close()
	}
	// A thread that cannot go back stays locked, and dies with the
	// goroutine instead of serving others in the wrong namespace.
	if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
	return took, err
}

// TestE2ENetnsTestnet runs ten nodes, each a host of its own in a network
// namespace, over links of 50 ms each way, mining with emulated hash rate:
// a TCP handshake between two hosts takes a round trip (at least 90 ms),
// while the machine reaches each node at once; the nodes agree on a chain
// mined by several of them; a partition at the network layer splits them
// into two chains, and the heal brings them back to one, the losing
// branch stale; down removes every namespace, link and process.
func TestE2ENetnsTestnet(t *testing.T) {
	needNetns(t)
	t.Parallel()
	const nodes = 10
	dir := netnsUp(t, "--nodes", fmt.Sprint(nodes), "--miners", fmt.Sprint(nodes), "--spacing", "2s", "--latency", "50ms")
	st := readNetnsState(t, dir)
	if len(st.Net.Namespaces) != nodes || len(st.Net.IPs) != nodes {
		t.Fatalf("state names %d namespaces and %d addresses, want %d", len(st.Net.Namespaces), len(st.Net.IPs), nodes)
	}
	for i, n := range st.Nodes {
		if host, _, _ := net.SplitHostPort(n.RPCAddr); host != st.Net.IPs[i] {
			t.Fatalf("node%d's RPC is at %s, not on its host %s", i, n.RPCAddr, st.Net.IPs[i])
		}
	}

	// The measure: a handshake across a 50 ms link takes at
	// least 45 ms. One-way latency of 50 ms makes it a 100 ms round
	// trip (SYN, then SYN-ACK).
	rpc1 := st.Nodes[1].RPCAddr
	for i := 0; i < 3; i++ {
		took, err := dialFrom(st.Net.Namespaces[0], rpc1)
		if err != nil {
			t.Fatalf("dial node1 from node0's host: %v", err)
		}
		t.Logf("TCP handshake node0 -> node1 across 50 ms links: %v", took.Round(100*time.Microsecond))
		if took < 90*time.Millisecond {
			t.Fatalf("TCP handshake across a 50 ms link took %v: want at least 90 ms (two 50 ms legs)", took)
		}
	}
	start := time.Now()
	if c, err := net.DialTimeout("tcp", rpc1, 5*time.Second); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}
	if took := time.Since(start); took > 40*time.Millisecond {
		t.Fatalf("the machine's own connection to a node took %v: it should not cross a shaped link", took)
	}

	type nodeStatus struct {
		Height int32  `json:"height"`
		Best   string `json:"bestblockhash"`
		Peers  int    `json:"peers"`
	}
	status := func() []nodeStatus {
		t.Helper()
		out, errOut, code := runLong(t, time.Minute, "testnet", "status", "--dir", dir, "--json")
		var s []nodeStatus
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil || len(s) != nodes {
			t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
		}
		return s
	}
	// waitAgree waits until the nodes in idx share one tip at least at
	// height min, and returns it.
	waitAgree := func(what string, idx []int, minHeight int32, d time.Duration) nodeStatus {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			s := status()
			agree := true
			for _, i := range idx {
				agree = agree && s[i].Best == s[idx[0]].Best
			}
			if agree && s[idx[0]].Height >= minHeight {
				return s[idx[0]]
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: nodes %v do not agree at height %d or more within %v: %+v", what, idx, minHeight, d, s)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	left, right := all[:5], all[5:]
	tip := waitAgree("mining", all, 8, 3*time.Minute)
	miners := map[string]bool{}
	var n0 = st.Nodes[0].RPCAddr
	for h := int32(1); h <= tip.Height; h++ {
		var hash string
		var blk struct {
			Tx []struct {
				Vout []struct {
					ScriptPubKey struct {
						Address string `json:"address"`
					} `json:"scriptPubKey"`
				} `json:"vout"`
			} `json:"tx"`
		}
		rpcCall(t, n0, &hash, "getblockhash", h)
		rpcCall(t, n0, &blk, "getblock", hash, 2)
		miners[blk.Tx[0].Vout[0].ScriptPubKey.Address] = true
	}
	if len(miners) < 3 {
		t.Fatalf("%d blocks mined by only %d of the %d nodes", tip.Height, len(miners), nodes)
	}

	// A partition cuts the links between the halves: each mines its own
	// chain.
	if out, errOut, code := runLong(t, time.Minute, "testnet", "partition", "--dir", dir, "0,1,2,3,4", "5,6,7,8,9"); code != 0 {
		t.Fatalf("partition: %s%s", out, errOut)
	}
	a := waitAgree("left of the partition", left, tip.Height+3, 2*time.Minute)
	b := waitAgree("right of the partition", right, tip.Height+3, 2*time.Minute)
	if a.Best == b.Best {
		t.Fatalf("both sides of the partition are on %s", a.Best)
	}
	t.Logf("partitioned: left at %d, right at %d", a.Height, b.Height)

	if out, errOut, code := runLong(t, time.Minute, "testnet", "heal", "--dir", dir); code != 0 {
		t.Fatalf("heal: %s%s", out, errOut)
	}
	healed := waitAgree("after the heal", all, max(a.Height, b.Height)+1, 3*time.Minute)
	// One side's branch lost: the tip it had when looked at is off the
	// best chain, and on that side a stale fork at least as high remains
	// (the other side has only its headers, as Core would).
	stale := 0
	for _, side := range []struct {
		tip  nodeStatus
		node string
	}{{a, st.Nodes[0].RPCAddr}, {b, st.Nodes[9].RPCAddr}} {
		var hdr struct {
			Confirmations int `json:"confirmations"`
		}
		rpcCall(t, side.node, &hdr, "getblockheader", side.tip.Best)
		if hdr.Confirmations > 0 {
			continue
		}
		stale++
		var tips []struct {
			Height int32  `json:"height"`
			Status string `json:"status"`
		}
		rpcCall(t, side.node, &tips, "getchaintips")
		fork := false
		for _, tp := range tips {
			fork = fork || (tp.Status == "valid-fork" && tp.Height >= side.tip.Height)
		}
		if !fork {
			t.Fatalf("block %s lost, but its side keeps no valid-fork tip at height %d or more: %+v", side.tip.Best, side.tip.Height, tips)
		}
	}
	if stale == 0 {
		t.Fatalf("both sides' tips %s and %s are on the healed chain", a.Best, b.Best)
	}
	t.Logf("healed at height %d", healed.Height)

	if out, errOut, code := runLong(t, 2*time.Minute, "testnet", "down", "--dir", dir); code != 0 {
		t.Fatalf("down: %s%s", out, errOut)
	}
	if left := st.leftovers(); len(left) > 0 {
		t.Fatalf("down left %v", left)
	}
	for _, pid := range append(testnetPIDs(dir), st.ShaperPID) {
		if alive(pid) {
			t.Fatalf("process %d still runs after down", pid)
		}
	}
}

// TestE2ENetnsInterrupt starts a --hosts netns testnet in the foreground
// and stops it with Ctrl-C (SIGINT): the nodes, the shaper and the hosts
// are all gone.
func TestE2ENetnsInterrupt(t *testing.T) {
	needNetns(t)
	t.Parallel()
	dir := netnsDir(t)
	p := startProc(t, cairnBinary(t), nil, "testnet", "up", "--dir", dir, "--hosts", "netns", "--nodes", "2", "--miners", "1",
		"--emulated", "--spacing", "1s", "--latency", "10ms", "--dashboard-addr", "127.0.0.1:0")
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(p.output(), "dashboard:") {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("up did not come up:\n%s", p.output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	st := readNetnsState(t, dir)
	if len(st.leftovers()) != 2+2+1 {
		t.Fatalf("running testnet: %v exist, want 2 namespaces, 2 veths and the bridge", st.leftovers())
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.waitExit(t, time.Minute); code != 0 {
		t.Fatalf("up exited %d after Ctrl-C:\n%s", code, tail(p.output()))
	}
	if left := st.leftovers(); len(left) > 0 {
		t.Fatalf("Ctrl-C left %v", left)
	}
	for _, pid := range append(testnetPIDs(dir), st.ShaperPID) {
		if alive(pid) {
			t.Fatalf("process %d still runs after Ctrl-C", pid)
		}
	}
}

// rpcCall calls a testnet node (user and password localnet).
func rpcCall(t *testing.T, addr string, out any, method string, params ...any) {
	t.Helper()
	_, res, rerr, err := postRPC(addr, "localnet", "localnet", method, params...)
	if err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		t.Fatalf("%s on %s: %v", method, addr, err)
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
}

// TestE2EStaleRate runs the stale-rate scenario where forks are common
// enough to count in a short run: ten miners of equal hash rate at a
// spacing of 1 s over 150 ms links (τ/T about 0.16). The measured stale
// rate lands within the scenario's stated tolerance of 1 − e^(−τ/T) (three
// binomial standard errors plus a quarter of the model), and forks were
// seen; the scenario's testnet is gone afterwards.
func TestE2EStaleRate(t *testing.T) {
	needNetns(t)
	t.Parallel()
	var rep struct {
		Runs []struct {
			Mined     int     `json:"mined"`
			Stale     int     `json:"stale"`
			Rate      float64 `json:"stale_rate"`
			Model     float64 `json:"model_rate"`
			Tolerance float64 `json:"tolerance"`
			Tau       int64   `json:"tau_ns"`
			Agrees    bool    `json:"agrees"`
		} `json:"runs"`
	}
	runMeasure(t, 6*time.Minute, "stale-rate", &rep, "--nodes", "10", "--spacing", "1s", "--blocks", "80", "--latency", "150ms")
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs", len(rep.Runs))
	}
	r := rep.Runs[0]
	if r.Stale == 0 || r.Mined < 80 {
		t.Fatalf("%d stale of %d mined: forks must happen at τ/T near 0.16", r.Stale, r.Mined)
	}
	if tau := time.Duration(r.Tau); tau < 150*time.Millisecond || tau > time.Second {
		t.Fatalf("τ measured %v over 150 ms links", tau)
	}
	if !r.Agrees || math.Abs(r.Rate-r.Model) > r.Tolerance {
		t.Fatalf("stale rate %.3f against model %.3f ± %.3f", r.Rate, r.Model, r.Tolerance)
	}
}

// TestE2EPropagation runs the propagation scenario small: six nodes over
// 50 ms links with 20 Mbit/s uplinks, a block of 1,000 transactions
// every pool already holds. No node has it sooner than the model's bound,
// and compact blocks reach every node sooner than whole ones, whose
// 190 kB take 76 ms to leave each uplink.
func TestE2EPropagation(t *testing.T) {
	needNetns(t)
	t.Parallel()
	var rep struct {
		Runs []struct {
			Relay string `json:"relay"`
			Txs   int    `json:"txs"`
			Bytes int    `json:"block_bytes"`
			P50   int64  `json:"p50_ns"`
			P100  int64  `json:"p100_ns"`
			First int64  `json:"first_ns"`
			Bound int64  `json:"bound_ns"`
		} `json:"runs"`
	}
	runMeasure(t, 6*time.Minute, "propagation", &rep, "--nodes", "6", "--txs", "1000", "--latency", "50ms", "--bandwidth", "20mbit")
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs", len(rep.Runs))
	}
	compact, full := rep.Runs[0], rep.Runs[1]
	if compact.Relay != "compact" || full.Relay != "full" || compact.Txs != 1000 || full.Bytes < 150_000 {
		t.Fatalf("runs %+v", rep.Runs)
	}
	if time.Duration(compact.First) < 45*time.Millisecond {
		t.Fatalf("a compact block crossed a 50 ms link in %v", time.Duration(compact.First))
	}
	if compact.P100 >= full.P100 {
		t.Fatalf("compact blocks reached every node after %v, whole blocks after %v", time.Duration(compact.P100), time.Duration(full.P100))
	}
}

// TestE2ESelfishMining runs the selfish-mining scenario at α = 0.40 among
// five nodes, with 1 ms links from the selfish node to every honest one
// (so that it wins most races): its share of the final chain lands within
// the scenario's tolerance of Eyal and Sirer's R(α, γ) at the γ measured
// from the races, and the strategy shows in the chain: the races, and the
// stale blocks its withholding makes.
//
// It does not ask that this one run earned more than α, although the
// model's mean does at α = 0.40: over 100 blocks the revenue's standard
// deviation is about 0.096 (selfishSpread), so a fair run earns α or less
// about one time in fifteen (CI saw 0.400 against R = 0.546). Stale blocks
// are the sure sign: the state machine orphans 20 or more of 100 in each
// of 1,000 runs at α = 0.40 (TestSelfishModel checks it against this
// bound of 15), where honest miners at T = 2 s over 20 ms links orphan
// about one.
func TestE2ESelfishMining(t *testing.T) {
	needNetns(t)
	t.Parallel()
	var rep struct {
		Runs []struct {
			Blocks    int     `json:"blocks"`
			Revenue   float64 `json:"revenue"`
			Races     int     `json:"races"`
			Gamma     float64 `json:"gamma"`
			Model     float64 `json:"model_revenue"`
			Threshold float64 `json:"threshold"`
			Agrees    bool    `json:"agrees"`
			Stale     int     `json:"stale"`
		} `json:"runs"`
	}
	// Blocks 2 s apart over 20 ms links: the model assumes the honest
	// miners do not fork among themselves, which a loaded machine (make
	// test runs many tests at once) makes false at 1 s: a run there
	// measured 0.707 against R = 0.540.
	runMeasure(t, 10*time.Minute, "selfish-mining", &rep, "--nodes", "5", "--spacing", "2s", "--blocks", "100", "--latency", "20ms",
		"--alpha", "0.4", "--fast-links", "1")
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs", len(rep.Runs))
	}
	r := rep.Runs[0]
	if r.Blocks < 100 || r.Races == 0 || !r.Agrees {
		t.Fatalf("run %+v", r)
	}
	if r.Threshold >= 0.4 || r.Model <= 0.4 {
		t.Fatalf("at γ %.2f the model says selfish mining at α 0.4 does not pay (threshold %.3f, R %.3f)", r.Gamma, r.Threshold, r.Model)
	}
	if r.Stale < 15 {
		t.Fatalf("%d stale blocks: the selfish node withheld nothing", r.Stale)
	}
}

// TestE2ENetnsScenarios runs today's narrated scenarios on a --hosts
// netns testnet over 20 ms links, where a partition is a cut link:
// partition (payments on both sides, none lost after the heal), crash
// and clock-skew. (double-spend runs minutes of attacks: by hand, as on
// loopback.)
func TestE2ENetnsScenarios(t *testing.T) {
	needNetns(t)
	t.Parallel()
	dir := netnsUp(t, "--nodes", "4", "--miners", "2", "--spacing", "1s", "--latency", "20ms")
	for _, name := range []string{"partition", "crash", "clock-skew"} {
		out, errOut, code := runLong(t, 5*time.Minute, "testnet", "scenario", "--dir", dir, name)
		t.Logf("scenario %s:\n%s", name, out)
		if code != 0 {
			t.Fatalf("scenario %s: exit %d\n%s%s", name, code, out, errOut)
		}
		if name == "partition" && !strings.Contains(out, "none lost") {
			t.Fatalf("partition: %s", out)
		}
	}
	st := readNetnsState(t, dir)
	if out, errOut, code := runLong(t, 2*time.Minute, "testnet", "down", "--dir", dir); code != 0 {
		t.Fatalf("down: %s%s", out, errOut)
	}
	if left := st.leftovers(); len(left) > 0 {
		t.Fatalf("down left %v", left)
	}
}

// runMeasure runs a measuring scenario with --json in a fresh folder,
// decodes its report (the last line) into rep, and checks that none of
// the scenario's hosts is left: only its own state files tell which were
// its, as other tests' testnets run beside it.
func runMeasure(t *testing.T, d time.Duration, name string, rep any, args ...string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "measure")
	argv := append(append([]string{"testnet", "scenario", "--dir", dir, "--json"}, args...), name)
	out, errOut, code := runLong(t, d, argv...)
	t.Logf("%s:\n%s", name, out)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s", name, code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), rep); err != nil {
		t.Fatalf("%s --json: %v\n%s", name, err, lines[len(lines)-1])
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "*", "testnet.json"))
	if len(runs) == 0 {
		t.Fatalf("%s left no run folder in %s", name, dir)
	}
	for _, f := range runs {
		if left := readNetnsState(t, filepath.Dir(f)).leftovers(); len(left) > 0 {
			t.Fatalf("%s left %v", name, left)
		}
	}
}
