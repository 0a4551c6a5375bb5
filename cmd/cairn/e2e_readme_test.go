package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// The documents these tests hold to the code, relative to this package.
const (
	readmeFile       = "../../README.md"
	configSampleFile = "../../docs/cairn.conf.sample"
	protocolFile     = "../../docs/protocol.md"
)

// readmeWalkthrough returns the lines of the README walkthrough's sh block:
// the first ```sh block after the "## Walkthrough" heading.
func readmeWalkthrough(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "## Walkthrough") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("README.md has no \"## Walkthrough\" section")
	}
	var block []string
	in := false
	for _, l := range lines[start+1:] {
		if strings.HasPrefix(l, "## ") && !in {
			break
		}
		switch {
		case !in && strings.TrimSpace(l) == "```sh":
			in = true
		case in && strings.TrimSpace(l) == "```":
			return block
		case in:
			block = append(block, l)
		}
	}
	t.Fatal("README.md's walkthrough has no complete ```sh block")
	return nil
}

// bareCairn finds a cairn command not run as bin/cairn.
var bareCairn = regexp.MustCompile(`(^|[^/\w-])cairn\s`)

// walkthroughScripts turns the README's walkthrough into the two bash
// scripts the test runs: the lines before the NODE= line (which starts the
// network), and the rest, with the NODE line's PORT placeholder filled by
// fill once the network is up. Only these changes are made to the README's
// lines:
//   - `make build` is left out: bin/cairn is the binary under test;
//   - `bin/cairn testnet up` gets --spacing 1s, for 1-second blocks;
//   - the double-spend scenario is left out: it attacks a payment for
//     several minutes (its model is unit-tested in package testnet, and it
//     is run by hand);
//   - 127.0.0.1:PORT becomes node0's RPC address.
func walkthroughScripts(t *testing.T, block []string) (first string, second func(rpcAddr string) string) {
	t.Helper()
	skip := map[string]int{"make build": 0, "bin/cairn testnet scenario double-spend": 0}
	ups, nodeLine := 0, -1
	var out []string
	for _, l := range block {
		cmd := strings.TrimSpace(l)
		if i := strings.Index(cmd, " #"); i >= 0 {
			cmd = strings.TrimSpace(cmd[:i])
		}
		if cmd != "" && !strings.HasPrefix(cmd, "#") && bareCairn.MatchString(cmd) {
			t.Errorf("README walkthrough line %q runs cairn without bin/ (make build puts it in bin/)", l)
		}
		left := false
		for prefix := range skip {
			if cmd == prefix || strings.HasPrefix(cmd, prefix+" ") {
				skip[prefix]++
				left = true
			}
		}
		if left {
			continue
		}
		if strings.HasPrefix(cmd, "bin/cairn testnet up") {
			l = strings.Replace(l, "bin/cairn testnet up", "bin/cairn testnet up --spacing 1s", 1)
			ups++
		}
		if strings.HasPrefix(cmd, "NODE=") {
			if nodeLine >= 0 {
				t.Fatal("README walkthrough sets NODE twice")
			}
			nodeLine = len(out)
		}
		out = append(out, l)
	}
	for prefix, n := range skip {
		if n != 1 {
			t.Fatalf("README walkthrough has %q %d times, want once (update this test with the README)", prefix, n)
		}
	}
	if ups != 1 || nodeLine < 0 || !strings.Contains(out[nodeLine], "127.0.0.1:PORT") {
		t.Fatalf("README walkthrough: want one `bin/cairn testnet up` and then a NODE=... line with 127.0.0.1:PORT; found %d and %d", ups, nodeLine)
	}
	first = strings.Join(out[:nodeLine], "\n") + "\n"
	rest := out[nodeLine:]
	return first, func(rpcAddr string) string {
		lines := append([]string(nil), rest...)
		lines[0] = strings.Replace(lines[0], "127.0.0.1:PORT", rpcAddr, 1)
		return strings.Join(lines, "\n") + "\n"
	}
}

// runScript runs a bash script in dir with -e (stop at the first failing
// command), -u and -x (each command is traced to the output), within d.
// The environment is the test's without CAIRN_* variables, with HOME set
// to home. On timeout the whole process group is killed.
func runScript(t *testing.T, dir, home, name, script string, d time.Duration) (string, int) {
	t.Helper()
	if deadline, ok := t.Deadline(); ok {
		// Leave the cleanup time to stop the nodes.
		d = min(d, time.Until(deadline)-2*time.Minute)
	}
	path := filepath.Join(home, name)
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-eux", path)
	cmd.Dir = dir
	cmd.Env = cleanEnv([]string{"HOME=" + home, "PWD=" + dir})
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s: %v", name, time.Since(start).Round(time.Second))
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v:\n%s", name, d, out.String())
	}
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return out.String(), code
}

// TestE2EReadmeWalkthrough runs the README's walkthrough as written, in a
// fresh folder with bin/cairn linked to the binary under test: a local
// testnet of three real nodes (on 1-second blocks), the wait for mature
// coins, a payment to a new wallet and its confirmation, a partition
// until the two sides' tips differ, the heal, the partition, crash and
// clock-skew scenarios, and down. A README change that breaks a command
// fails it. The nodes are killed even when the test fails.
func TestE2EReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash to run the README's commands with")
	}
	binary := cairnBinary(t)
	first, second := walkthroughScripts(t, readmeWalkthrough(t))

	// The real path, so that the nodes' --datadir (made absolute by
	// testnet up) is what ours looks for.
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(dir, "bin", "cairn")); err != nil {
		t.Fatal(err)
	}
	localnet := filepath.Join(dir, "localnet")
	t.Cleanup(func() {
		// No Fatal here: the SIGKILL pass must run whatever down does.
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		_ = exec.CommandContext(ctx, binary, "testnet", "down", "--dir", localnet).Run()
		for _, pid := range testnetPIDs(localnet) {
			if ours(pid, localnet) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})

	out, code := runScript(t, dir, home, "walkthrough-up.sh", first, 2*time.Minute)
	if code != 0 || !strings.Contains(out, "node0") {
		t.Fatalf("the walkthrough's start: exit %d\n%s", code, out)
	}
	raw, err := os.ReadFile(filepath.Join(localnet, "testnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Nodes []struct {
			RPCAddr string `json:"rpc_addr"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(raw, &state); err != nil || len(state.Nodes) == 0 {
		t.Fatalf("testnet.json: %v\n%s", err, raw)
	}

	out, code = runScript(t, dir, home, "walkthrough.sh", second(state.Nodes[0].RPCAddr), 4*time.Minute)
	if code != 0 {
		t.Fatalf("the walkthrough: exit %d\n%s", code, out)
	}
	t.Logf("walkthrough output:\n%s", tail(out))
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^confirmed: *10\.00000000\b`), // Alice's balance
		regexp.MustCompile(`nothing lost or doubled`),         // scenario crash
		regexp.MustCompile(`never marked invalid`),            // scenario clock-skew
		regexp.MustCompile(`every node stopped`),              // down
	} {
		if !want.MatchString(out) {
			t.Errorf("the walkthrough's output lacks %q", want)
		}
	}
	for _, pid := range testnetPIDs(localnet) {
		if alive(pid) {
			t.Errorf("node process %d still runs after the walkthrough's down", pid)
		}
	}
}

// sampleApp returns the cairn app with the action of the command at path
// replaced.
func sampleApp(t *testing.T, action cli.ActionFunc, path ...string) *cli.App {
	t.Helper()
	app := newApp()
	cmds := app.Commands
	var cmd *cli.Command
	for _, name := range path {
		cmd = nil
		for _, c := range cmds {
			if c.Name == name {
				cmd = c
			}
		}
		if cmd == nil {
			t.Fatalf("no command %v", path)
		}
		cmds = cmd.Subcommands
	}
	cmd.Action = action
	return app
}

// flagNames returns the names of a command's flags.
func flagNames(cmd *cli.Command) map[string]bool {
	names := map[string]bool{}
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			names[n] = true
		}
	}
	return names
}

// TestConfigSample loads docs/cairn.conf.sample with the real config
// loader for each built-in network, through cairn node, cairn rpc and
// cairn wallet, so that the sample cannot drift from the flags: every key,
// commented ones included, is a node flag; every value the sample does not
// mark as changed gives the node the configuration it has without a file;
// the network tables apply to their network only; and the environment and
// the command line win over the file.
func TestConfigSample(t *testing.T) {
	sample, err := os.ReadFile(configSampleFile)
	if err != nil {
		t.Fatal(err)
	}
	nodeFlags := flagNames(nodeCommand())

	// Every key, set or commented out, is a node flag.
	raw := map[string]any{}
	if _, err := toml.Decode(string(sample), &raw); err != nil {
		t.Fatalf("the sample is not TOML: %v", err)
	}
	for k, v := range raw {
		table, isTable := v.(map[string]any)
		if !isTable {
			if !nodeFlags[k] {
				t.Errorf("sample key %q is not a flag of cairn node", k)
			}
			continue
		}
		if _, err := chainparams.ByName(k); err != nil {
			t.Errorf("sample table [%s] is not a built-in network", k)
		}
		for tk := range table {
			if !nodeFlags[tk] {
				t.Errorf("sample key %q in [%s] is not a flag of cairn node", tk, k)
			}
		}
	}
	commented := regexp.MustCompile(`^#\s*([a-z][a-z0-9-]*)\s*=`)
	n := 0
	for _, line := range strings.Split(string(sample), "\n") {
		m := commented.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n++
		if !nodeFlags[m[1]] {
			t.Errorf("commented sample key %q is not a flag of cairn node", m[1])
		}
		if _, err := toml.Decode(strings.TrimPrefix(line, "#"), &map[string]any{}); err != nil {
			t.Errorf("commented sample line %q does not parse once uncommented: %v", line, err)
		}
	}
	if n < 5 {
		t.Errorf("found %d commented keys in the sample; the pattern no longer matches its lines", n)
	}

	parse := func(dir string, args ...string) (*nodeConfig, error) {
		var got *nodeConfig
		app := sampleApp(t, func(c *cli.Context) error {
			var err error
			got, err = parseNodeConfig(c)
			return err
		}, "node")
		err := app.Run(append([]string{"cairn", "node", "--datadir", dir}, args...))
		return got, err
	}
	withSample := t.TempDir()
	if err := os.WriteFile(filepath.Join(withSample, configFileName), sample, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"main", "test", "regtest"} {
		net, _ := chainparams.ByName(name)
		def, err := parse(t.TempDir(), "--network", name)
		if err != nil {
			t.Fatalf("%s without a config file: %v", name, err)
		}
		got, err := parse(withSample, "--network", name)
		if err != nil {
			t.Fatalf("%s with the sample: %v", name, err)
		}
		// What the sample marks as not a default.
		want := *def
		if name == "regtest" {
			want.txIndex = true
			want.listen = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", net.P2PPort)}
		}
		want.net, want.dir = nil, ""
		have := *got
		have.net, have.dir = nil, ""
		if !reflect.DeepEqual(have, want) {
			t.Errorf("%s: the sample gives\n%+v\nwant\n%+v", name, have, want)
		}

		// The clients read the same file: cairn rpc and cairn wallet
		// find the network's RPC address in it, and the wallet's
		// default file is in the network's folder.
		var rpcAddr string
		app := sampleApp(t, func(c *cli.Context) error {
			_, err := loadConfig(c)
			rpcAddr = c.String("rpc-addr")
			return err
		}, "rpc")
		if err := app.Run([]string{"cairn", "rpc", "--datadir", withSample, "--network", name, "getblockcount"}); err != nil {
			t.Errorf("cairn rpc on %s with the sample: %v", name, err)
		}
		var walletPath, walletRPC string
		app = sampleApp(t, func(c *cli.Context) error {
			e, err := newWalletEnv(c)
			if err == nil {
				walletPath, walletRPC = e.path, c.String("rpc-addr")
			}
			return err
		}, "wallet", "balance")
		if err := app.Run([]string{"cairn", "wallet", "balance", "--datadir", withSample, "--network", name}); err != nil {
			t.Errorf("cairn wallet balance on %s with the sample: %v", name, err)
		}
		wantRPC := fmt.Sprintf("127.0.0.1:%d", net.RPCPort)
		if got.rpcAddr != wantRPC || rpcAddr != wantRPC || walletRPC != wantRPC {
			t.Errorf("%s: rpc address node %q, rpc %q, wallet %q; want %q", name, got.rpcAddr, rpcAddr, walletRPC, wantRPC)
		}
		if want := filepath.Join(withSample, name, "wallet.dat"); walletPath != want {
			t.Errorf("%s: default wallet %s, want %s", name, walletPath, want)
		}
	}

	// The command line wins over the [regtest] table, the environment
	// over the top level.
	t.Setenv("CAIRN_DBCACHE", "123")
	got, err := parse(withSample, "--network", "regtest", "--txindex=false")
	if err != nil {
		t.Fatal(err)
	}
	if got.txIndex || got.dbCacheMiB != 123 {
		t.Errorf("txindex %v, dbcache %d: want the command line's false and the environment's 123", got.txIndex, got.dbCacheMiB)
	}
}

// TestProtocolDoc holds docs/protocol.md to the code: the networks' ports,
// address prefixes, maturity and genesis hashes, and the chain-spec
// example, which must parse.
func TestProtocolDoc(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(protocolFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	nets := []*chainparams.Network{chainparams.Main(), chainparams.Test(), chainparams.Regtest()}
	row := func(label string, cell func(n *chainparams.Network) string) string {
		var b strings.Builder
		b.WriteString("| " + label + " |")
		for _, n := range nets {
			b.WriteString(" " + cell(n) + " |")
		}
		return b.String()
	}
	for _, want := range []string{
		row("default P2P port (TCP and QUIC)", func(n *chainparams.Network) string { return fmt.Sprint(n.P2PPort) }),
		row("default RPC port (127.0.0.1)", func(n *chainparams.Network) string { return fmt.Sprint(n.RPCPort) }),
		row("default Electrum ports (TCP, TLS; 127.0.0.1; off unless asked)", func(n *chainparams.Network) string {
			return fmt.Sprintf("%d, %d", n.ElectrumPort, n.ElectrumTLSPort)
		}),
		row("default HTTP port (explorer and REST API; 127.0.0.1; off unless asked)", func(n *chainparams.Network) string {
			return fmt.Sprint(n.HTTPPort)
		}),
		row("bech32 HRP (segwit addresses)", func(n *chainparams.Network) string { return "`" + n.Bech32HRP + "`" }),
	} {
		if !strings.Contains(doc, want+"\n") {
			t.Errorf("docs/protocol.md lacks the row\n%s", want)
		}
	}
	for _, n := range nets {
		if !strings.Contains(doc, n.GenesisHash().String()) {
			t.Errorf("docs/protocol.md lacks %s's genesis hash %s", n.Name, n.GenesisHash())
		}
		if n.Consensus.CoinbaseMaturity != 100 || !strings.Contains(doc, "| coinbase maturity | 100 blocks | 100 | 100 |") {
			t.Errorf("%s: coinbase maturity %d; docs/protocol.md says 100", n.Name, n.Consensus.CoinbaseMaturity)
		}
	}

	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("docs/protocol.md has no ```json chain-spec example")
	}
	net, err := chainparams.ParseSpec([]byte(m[1]))
	if err != nil {
		t.Fatalf("the chain-spec example does not parse: %v", err)
	}
	if net.Name != "localnet" || net.Consensus.CoinbaseMaturity != 10 || net.Consensus.TargetSpacing != 5*time.Second ||
		net.Consensus.NoRetargeting || net.Bech32HRP != "rcrn" {
		t.Errorf("the chain-spec example gives %+v", net.Consensus)
	}
}
