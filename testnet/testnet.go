package testnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	mrand "math/rand/v2"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/internal/atomicfile"
	"github.com/cairnchain/cairn/rpcclient"
	"github.com/cairnchain/cairn/wallet"
)

// A local testnet is a folder: the chain spec, a state file naming every
// node (its data folder, ports, peer address, process, wallet), and one
// data folder per node. Every command reads the state file, so `up
// --detach`, `status`, `partition` and `down` may run from different
// shells.

const (
	stateFile = "testnet.json"
	specName  = "chain-spec.json"
	// Password of the nodes' wallets: a local test network's coins are
	// worth nothing.
	Password = "localnet"
	rpcUser  = "localnet"
	rpcPass  = "localnet"
	// rpcTimeout keeps a hung node from freezing status and down.
	rpcTimeout = 10 * time.Second
)

// nodeWalletKDF is the key derivation cost of the nodes' wallets: their
// password is public, and a cheap derivation keeps scenarios, which open
// them often, off the miners' CPU.
var nodeWalletKDF = wallet.KDFParams{Time: 1, Memory: 8 << 10, Threads: 1}

// Node is one node of the testnet.
type Node struct {
	Name    string `json:"name"`
	Dir     string `json:"dir"`
	RPCAddr string `json:"rpc_addr"`
	// ElectrumAddr is the node's Electrum protocol server (plain TCP).
	ElectrumAddr string `json:"electrum_addr,omitempty"`
	// HTTPAddr is the node's block explorer and Esplora API.
	HTTPAddr string `json:"http_addr,omitempty"`
	P2PAddr  string `json:"p2p_addr"` // full multiaddr with /p2p/<id>
	// listenAddr is the P2P host:port picked at up.
	listenAddr string
	PeerID     string   `json:"peer_id"`
	Mining     bool     `json:"mining"`
	Wallet     string   `json:"wallet"`
	Address    string   `json:"address"` // the miner's payout address
	PID        int      `json:"pid"`
	Args       []string `json:"args"`
}

// State is a testnet's state file.
type State struct {
	Dir     string        `json:"dir"`
	Spacing time.Duration `json:"spacing"`
	Nodes   []*Node       `json:"nodes"`
	// Groups is the current partition (node indexes), nil when whole.
	Groups [][]int `json:"groups,omitempty"`

	binary string
	net    *chainparams.Network
}

// Load reads the testnet in dir.
func Load(dir, binary string) (*State, error) {
	raw, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("testnet: no testnet in %s (start one with cairn testnet up)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	var s State
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("testnet: %s is damaged: %v", filepath.Join(dir, stateFile), err)
	}
	s.binary = binary
	if s.net, err = chainparams.LoadSpecFile(filepath.Join(dir, specName)); err != nil {
		return nil, err
	}
	return &s, nil
}

// save writes the state file.
func (s *State) save() error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.Dir, stateFile), raw, 0o600); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	return nil
}

// Network returns the testnet's network.
func (s *State) Network() *chainparams.Network { return s.net }

// UpOptions configure Up.
type UpOptions struct {
	Dir     string
	Nodes   int
	Miners  int
	Spacing time.Duration
	// Binary is the cairn executable to start nodes with.
	Binary string
	// Log receives progress lines.
	Log io.Writer
	// Force replaces a stopped testnet's folder even when wallets in it
	// hold coins (or cannot be opened to tell).
	Force bool
	// Emulated makes a fixed-difficulty chain whose miners emulate their
	// hash rate (cairn node --mine-emulated), each with an equal share:
	// blocks come at Spacing on average whatever the machine, and many
	// nodes fit on a few cores.
	Emulated bool
}

// Up writes a fresh chain spec (its starting difficulty measured on this
// machine), starts the nodes on loopback with their own folders and ports,
// each peering with those started before it, and starts mining on the
// first Miners of them. It returns once every node answers RPC.
func Up(ctx context.Context, o UpOptions) (*State, error) {
	if o.Nodes < 1 || o.Miners < 0 || o.Miners > o.Nodes {
		return nil, fmt.Errorf("testnet: want 1 or more nodes and 0 to %d miners", o.Nodes)
	}
	if o.Spacing < time.Second {
		// The chain spec's own floor (target_spacing): said here, before
		// anything is measured or written.
		return nil, fmt.Errorf("testnet: spacing %v is too short: at least 1s", o.Spacing)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if err := clearDir(o.Dir, o.Binary, o.Force); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	dir, _ := filepath.Abs(o.Dir)
	threads := minerThreads(o.Miners)
	bits := uint32(regtestPowLimit)
	if o.Emulated {
		fmt.Fprintf(o.Log, "emulated hash rate: %d miner(s), each a %.3g share, on a fixed-difficulty chain of %v blocks\n",
			o.Miners, 1/float64(max(o.Miners, 1)), o.Spacing)
	} else {
		// All the miners' threads at once, as they will run: more
		// threads than cores, or hyper-threads, do not add their
		// nominal rate.
		total := measureHashRate(ctx, threads*max(o.Miners, 1), 500*time.Millisecond)
		bits = startingBits(total, o.Spacing)
		fmt.Fprintf(o.Log, "measured %.1f MH/s for %d miner(s) x %d thread(s): starting bits %08x for %v blocks\n",
			total/1e6, o.Miners, threads, bits, o.Spacing)
	}
	raw, netw, err := makeSpec(ctx, o.Spacing, bits, time.Now(), o.Emulated)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, specName), raw, 0o600); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	s := &State{Dir: dir, Spacing: o.Spacing, binary: o.Binary, net: netw}
	for i := 0; i < o.Nodes; i++ {
		n := &Node{Name: fmt.Sprintf("node%d", i), Dir: filepath.Join(dir, fmt.Sprintf("node%d", i)), Mining: i < o.Miners}
		if n.RPCAddr, err = s.freePort(); err != nil {
			return s, err
		}
		p2p, err := s.freePort(n.RPCAddr)
		if err != nil {
			return s, err
		}
		n.listenAddr = p2p
		if n.ElectrumAddr, err = s.freePort(n.RPCAddr, p2p); err != nil {
			return s, err
		}
		if n.HTTPAddr, err = s.freePort(n.RPCAddr, p2p, n.ElectrumAddr); err != nil {
			return s, err
		}
		n.Wallet = filepath.Join(n.Dir, "wallet.dat")
		mnemonic, err := wallet.NewMnemonic(12)
		if err != nil {
			return s, err
		}
		w, err := wallet.Create(n.Wallet, []byte(Password), netw, mnemonic, wallet.CreateOptions{KDF: nodeWalletKDF})
		if err != nil {
			return s, err
		}
		addr, err := w.NewAddress(wallet.P2WPKH)
		if err == nil {
			err = w.Save()
		}
		w.Close()
		if err != nil {
			return s, err
		}
		n.Address = addr.EncodeAddress()
		host, port, _ := net.SplitHostPort(p2p)
		n.Args = []string{"node", "--chain-spec", filepath.Join(dir, specName), "--datadir", n.Dir,
			"--rpc-addr", n.RPCAddr, "--rpc-user", rpcUser, "--rpc-password", rpcPass,
			"--listen", fmt.Sprintf("/ip4/%s/tcp/%s", host, port), "--mdns=false", "--dht=false",
			"--electrum-addr", n.ElectrumAddr, "--http-addr", n.HTTPAddr}
		for _, prev := range s.Nodes {
			n.Args = append(n.Args, "--peer", prev.P2PAddr)
		}
		switch {
		case n.Mining && o.Emulated:
			share := strconv.FormatFloat(1/float64(o.Miners), 'g', 6, 64)
			n.Args = append(n.Args, "--mine-emulated", share, "--miner-address", n.Address)
		case n.Mining:
			n.Args = append(n.Args, "--mine", "--miner-address", n.Address, "--miner-threads", strconv.Itoa(threads))
		}
		s.Nodes = append(s.Nodes, n)
		if err := s.start(n); err != nil {
			return s, err
		}
		if err := s.waitRPC(ctx, n, 30*time.Second); err != nil {
			return s, err
		}
		var info struct {
			P2P []string `json:"p2paddresses"`
		}
		if err := s.CallContext(ctx, n, &info, "getnetworkinfo"); err != nil || len(info.P2P) == 0 {
			return s, fmt.Errorf("testnet: %s has no p2p address: %v", n.Name, err)
		}
		n.P2PAddr = info.P2P[0]
		n.PeerID = n.P2PAddr[strings.LastIndex(n.P2PAddr, "/")+1:]
		if err := s.save(); err != nil {
			return s, err
		}
		fmt.Fprintf(o.Log, "%s up: rpc %s, electrum %s, explorer http://%s, %s, mining %v\n", n.Name, n.RPCAddr, n.ElectrumAddr,
			n.HTTPAddr, n.P2PAddr, n.Mining)
	}
	return s, nil
}

// clearDir makes dir ready for a fresh testnet. It deletes only what a
// testnet left: a folder holding a state file whose nodes are all stopped.
// A folder with anything else in it is refused, never deleted; so is one
// whose wallets hold coins, unless force.
func clearDir(dir, binary string, force bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	old, err := Load(dir, binary)
	if err != nil {
		return fmt.Errorf("testnet: %s is not empty and holds no readable testnet; choose another --dir or clear it yourself (%v)", dir, err)
	}
	for _, n := range old.Nodes {
		if n.running() {
			return fmt.Errorf("testnet: a testnet is running in %s (cairn testnet down --dir %s first)", dir, dir)
		}
	}
	if !force {
		if held := old.walletsWithCoins(dir); len(held) > 0 {
			return fmt.Errorf("testnet: %s holds wallets with coins, or that may have some, which a fresh testnet would delete: %s; "+
				"move them out of it to keep them, or pass --force to replace them anyway", dir, strings.Join(held, "; "))
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("testnet: clear %s: %w", dir, err)
	}
	return nil
}

// walletsWithCoins opens every wallet file in dir, the stopped testnet's
// folder, with the testnet's password and describes those whose last
// known balance is not zero, and those that do not open (another
// password, another network, damaged), which may hold coins: the nodes'
// wallets, and the other wallet files found in the folder (a file named
// *.dat holding a wallet's JSON envelope, such as one of cairn wallet's
// in a node's data folder). No node runs to ask, so the wallet files
// alone tell: a coin they never scanned is not seen.
func (s *State) walletsWithCoins(dir string) []string {
	seen := make(map[string]bool)
	var paths []string
	add := func(p string) {
		if abs, err := filepath.Abs(p); err == nil && !seen[abs] {
			seen[abs] = true
			paths = append(paths, p)
		}
	}
	for _, n := range s.Nodes {
		if _, err := os.Lstat(n.Wallet); n.Wallet != "" && err == nil {
			add(n.Wallet)
		}
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && looksLikeWallet(p) {
			add(p)
		}
		return nil
	})
	var held []string
	for _, p := range paths {
		w, err := wallet.Open(p, []byte(Password), s.net)
		if err != nil {
			held = append(held, fmt.Sprintf("%s (it does not open, so it may hold coins: %v)", p, err))
			continue
		}
		b := w.LastBalance()
		w.Close()
		if b.Total() > 0 {
			held = append(held, fmt.Sprintf("%s (%s)", p, wallet.FormatAmount(b.Total(), s.net.Unit())))
		}
	}
	return held
}

// looksLikeWallet reports whether path is named *.dat and starts like a
// wallet file's JSON envelope (a node's mempool.dat does not).
func looksLikeWallet(path string) bool {
	if !strings.HasSuffix(path, ".dat") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	k, _ := io.ReadFull(f, head)
	head = bytes.TrimSpace(head[:k])
	return bytes.HasPrefix(head, []byte("{")) && bytes.Contains(head, []byte(`"kdf"`))
}

// portRange is where testnet ports are picked: below Linux's ephemeral
// range (32768 and up), so that no outgoing connection takes a port
// between its pick and the node binding it, or while a node is down.
const portLow, portHigh = 20000, 32000

// freePort returns a loopback TCP address on a port no other process
// listens on and this testnet has not used.
func (s *State) freePort(exclude ...string) (string, error) {
	used := make(map[string]bool)
	for _, a := range exclude {
		used[a] = true
	}
	for _, n := range s.Nodes {
		used[n.RPCAddr], used[n.listenAddr], used[n.ElectrumAddr], used[n.HTTPAddr] = true, true, true, true
	}
	for try := 0; try < 200; try++ {
		addr := fmt.Sprintf("127.0.0.1:%d", portLow+mrand.IntN(portHigh-portLow))
		if used[addr] {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		return addr, nil
	}
	return "", errors.New("testnet: no free port found")
}

// start launches n's process in its own session (so that it outlives a
// detached `up`), logging to node.log in its folder.
func (s *State) start(n *Node) error {
	if err := os.MkdirAll(n.Dir, 0o700); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(n.Dir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(s.binary, n.Args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testnet: start %s: %w", n.Name, err)
	}
	n.PID = cmd.Process.Pid
	// Reap it when it exits while this process lives; a detached `up`
	// leaves it to init.
	go func() { _ = cmd.Wait() }()
	return s.save()
}

// running reports whether n's process is alive (and is a cairn node).
func (n *Node) running() bool {
	if n.PID <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n.PID))
	if err != nil {
		return false
	}
	// A reused PID is some other process: it must be a node of this
	// folder (its --datadir, exactly).
	args := strings.Split(string(cmdline), "\x00")
	ours := false
	for i := 0; i+1 < len(args); i++ {
		ours = ours || (args[i] == "--datadir" && args[i+1] == n.Dir)
	}
	if !ours {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.PID))
	if err != nil {
		return false
	}
	// The state after "(comm)": Z is a zombie, already dead.
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// waitRPC waits until n answers getblockcount.
func (s *State) waitRPC(ctx context.Context, n *Node, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var h int32
		err := s.CallContext(ctx, n, &h, "getblockcount")
		if err == nil {
			return nil
		}
		if !n.running() {
			return fmt.Errorf("testnet: %s exited; see %s", n.Name, filepath.Join(n.Dir, "node.log"))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("testnet: %s does not answer RPC: %v", n.Name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Call runs a JSON-RPC method on n and decodes its result into out (nil
// discards it). An error the node answered with is an *rpcclient.Error.
// Each call is bounded to ten seconds.
func (s *State) Call(n *Node, out any, method string, params ...any) error {
	return s.CallContext(context.Background(), n, out, method, params...)
}

// CallContext is Call ending early when ctx does.
func (s *State) CallContext(ctx context.Context, n *Node, out any, method string, params ...any) error {
	c, err := rpcclient.New(rpcclient.Config{Host: n.RPCAddr, User: rpcUser, Password: rpcPass, Timeout: rpcTimeout})
	if err != nil {
		return fmt.Errorf("testnet: %s: %w", n.Name, err)
	}
	return c.Call(ctx, method, out, params...)
}

// NodeStatus is one node as status shows it.
type NodeStatus struct {
	Name          string  `json:"name"`
	RPC           string  `json:"rpc"`
	Electrum      string  `json:"electrum,omitempty"`
	Explorer      string  `json:"explorer,omitempty"`
	Running       bool    `json:"running"`
	Height        int32   `json:"height"`
	BestBlockHash string  `json:"bestblockhash"`
	Peers         int     `json:"peers"`
	Mining        bool    `json:"mining"`
	Mempool       int     `json:"mempool"`
	HashRate      float64 `json:"hashrate"`
	// LastBlockAge is how long ago the tip was mined (by its timestamp).
	LastBlockAge time.Duration `json:"last_block_age_ns"`
	Error        string        `json:"error,omitempty"`
}

// Status queries every node.
func (s *State) Status() []NodeStatus {
	out := make([]NodeStatus, len(s.Nodes))
	for i, n := range s.Nodes {
		st := NodeStatus{Name: n.Name, RPC: n.RPCAddr, Electrum: n.ElectrumAddr, Running: n.running(), Mining: n.Mining}
		if n.HTTPAddr != "" {
			st.Explorer = "http://" + n.HTTPAddr
		}
		var info struct {
			Blocks        int32  `json:"blocks"`
			BestBlockHash string `json:"bestblockhash"`
			Time          int64  `json:"time"`
		}
		if err := s.Call(n, &info, "getblockchaininfo"); err != nil {
			st.Error = err.Error()
			out[i] = st
			continue
		}
		st.Height, st.BestBlockHash = info.Blocks, info.BestBlockHash
		var hdr struct {
			Time int64 `json:"time"`
		}
		if s.Call(n, &hdr, "getblockheader", info.BestBlockHash) == nil {
			st.LastBlockAge = time.Since(time.Unix(hdr.Time, 0)).Round(time.Second)
		}
		_ = s.Call(n, &st.Peers, "getconnectioncount")
		var pool struct {
			Size int `json:"size"`
		}
		if s.Call(n, &pool, "getmempoolinfo") == nil {
			st.Mempool = pool.Size
		}
		var mining struct {
			HashesPerSec float64 `json:"hashespersec"`
		}
		if s.Call(n, &mining, "getmininginfo") == nil {
			st.HashRate = mining.HashesPerSec
		}
		out[i] = st
	}
	return out
}

// Node returns the node named name or numbered by index.
func (s *State) Node(name string) (*Node, error) {
	for i, n := range s.Nodes {
		if n.Name == name || strconv.Itoa(i) == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("testnet: no node %q (nodes are 0 to %d, or node0 ...)", name, len(s.Nodes)-1)
}

// Kill ends a node at once (SIGKILL), as a crash would.
func (s *State) Kill(n *Node) error {
	if !n.running() {
		return fmt.Errorf("testnet: %s is not running", n.Name)
	}
	if err := syscall.Kill(n.PID, syscall.SIGKILL); err != nil {
		return fmt.Errorf("testnet: kill %s: %w", n.Name, err)
	}
	for i := 0; i < 100 && n.running(); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if n.running() {
		return fmt.Errorf("testnet: %s (pid %d) survived SIGKILL", n.Name, n.PID)
	}
	return nil
}

// Stop stops n: an RPC stop, then SIGKILL if it has not exited within
// 20 seconds.
func (s *State) Stop(n *Node) error {
	if !n.running() {
		return nil
	}
	_ = s.Call(n, nil, "stop")
	for i := 0; i < 400 && n.running(); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if n.running() {
		return s.Kill(n)
	}
	return nil
}

// Restart starts a stopped node again with its data and waits for RPC.
func (s *State) Restart(ctx context.Context, n *Node) error {
	if n.running() {
		return fmt.Errorf("testnet: %s is running (kill it first)", n.Name)
	}
	if err := s.start(n); err != nil {
		return err
	}
	return s.waitRPC(ctx, n, 60*time.Second)
}

// Down stops every node: an RPC stop, then SIGKILL for one that has not
// exited within 20 seconds. Nothing keeps running.
func (s *State) Down() error {
	for _, n := range s.Nodes {
		if n.running() {
			_ = s.Call(n, nil, "stop")
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range s.Nodes {
		for n.running() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if n.running() {
			_ = syscall.Kill(n.PID, syscall.SIGKILL)
		}
	}
	var alive []string
	for _, n := range s.Nodes {
		for i := 0; i < 50 && n.running(); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if n.running() {
			alive = append(alive, n.Name)
		}
	}
	if len(alive) > 0 {
		return fmt.Errorf("testnet: still running: %v", alive)
	}
	return nil
}

// OpenWallet opens a node's wallet.
func (s *State) OpenWallet(n *Node) (*wallet.Wallet, *wallet.RPCNode, error) {
	w, err := wallet.Open(n.Wallet, []byte(Password), s.net)
	if err != nil {
		return nil, nil, err
	}
	return w, &wallet.RPCNode{URL: "http://" + n.RPCAddr + "/", User: rpcUser, Password: rpcPass}, nil
}
