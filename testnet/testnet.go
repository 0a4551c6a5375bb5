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
	"github.com/cairnchain/cairn/testnet/internal/hosts"
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
	// P2PAddrs are all the node's P2P addresses (TCP, and QUIC in
	// --hosts netns).
	P2PAddrs []string `json:"p2p_addrs,omitempty"`
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
	// Topology is who peers with whom, and how their links behave.
	Topology *Topology `json:"topology,omitempty"`
	// Links are up's link settings, under the topology's own.
	Links LinkSettings `json:"links"`
	// Net is the nodes' hosts in --hosts netns, nil on loopback; the
	// shaper applies generation PlanGen of the links.
	Net       *hosts.Net `json:"net,omitempty"`
	PlanGen   int        `json:"plan_generation,omitempty"`
	ShaperPID int        `json:"shaper_pid,omitempty"`

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
	// hash rate (cairn node --mine-emulated), each with an equal share
	// unless the topology gives shares: blocks come at Spacing on
	// average whatever the machine, and many nodes fit on a few cores.
	Emulated bool
	// Hosts is HostsLoopback (every node on 127.0.0.1, the default) or
	// HostsNetns (every node a host of its own, its links shaped).
	Hosts string
	// Topology is a built-in topology (Topologies; mesh when empty) or
	// the path of a topology file, which then gives the node count.
	Topology string
	// Links shape every link in --hosts netns, under the topology's own
	// settings.
	Links LinkSettings
	// Graph, if set, is the topology itself, in place of Topology.
	Graph *Topology
	// Rand draws random topologies (nil: seeded from the clock).
	Rand *mrand.Rand
}

// topology resolves o's topology and miners: a file gives the node count,
// and its shares, if any, who mines.
func (o *UpOptions) topology() (*Topology, []float64, error) {
	var t *Topology
	var err error
	switch {
	case o.Graph != nil:
		if t = o.Graph; t.check() != nil {
			return nil, nil, t.check()
		}
		o.Nodes = len(t.Nodes)
	case strings.ContainsAny(o.Topology, "/."):
		if t, err = LoadTopology(o.Topology); err != nil {
			return nil, nil, err
		}
		o.Nodes = len(t.Nodes)
	default:
		rnd := o.Rand
		if rnd == nil {
			rnd = mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 0))
		}
		if o.Nodes < 1 {
			return nil, nil, errors.New("testnet: want 1 or more nodes")
		}
		if t, err = BuildTopology(o.Topology, o.Nodes, rnd); err != nil {
			return nil, nil, err
		}
	}
	if !t.connected() {
		fmt.Fprintf(o.Log, "warning: the topology leaves some nodes unreachable from node0\n")
	}
	shares := t.shares()
	if shares == nil {
		if o.Miners < 0 || o.Miners > o.Nodes {
			return nil, nil, fmt.Errorf("testnet: want 0 to %d miners", o.Nodes)
		}
		if o.Miners > 0 {
			shares = make([]float64, o.Nodes)
			for i := range o.Miners {
				shares[i] = 1 / float64(o.Miners)
			}
		}
	} else if !o.Emulated {
		return nil, nil, errors.New("testnet: the topology's hash-rate shares need --emulated (real miners share the machine's cores)")
	}
	for _, nd := range t.Nodes {
		if nd.Strategy == "selfish" && !o.Emulated {
			return nil, nil, errors.New("testnet: a selfish miner needs --emulated (research on emulated hash rate only)")
		}
	}
	o.Miners = 0
	for _, sh := range shares {
		if sh > 0 {
			o.Miners++
		}
	}
	shaped := !o.Links.IsZero()
	for _, nd := range t.Nodes {
		shaped = shaped || !nd.LinkSettings.IsZero()
	}
	for _, e := range t.Edges {
		shaped = shaped || !e.LinkSettings.IsZero()
	}
	if err := o.Links.check(); err != nil {
		return nil, nil, fmt.Errorf("testnet: %w", err)
	}
	if shaped && o.Hosts != HostsNetns {
		return nil, nil, errNoNetns
	}
	return t, shares, nil
}

// Up writes a fresh chain spec (its starting difficulty measured on this
// machine), starts the nodes with their own folders and ports, each
// peering as the topology says (by default with those started before it),
// and starts mining on the first Miners of them (or those the topology
// gives shares). On loopback every node is on 127.0.0.1; in --hosts netns
// each is a host of its own (see netns.go). It returns once every node
// answers RPC.
func Up(ctx context.Context, o UpOptions) (*State, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	switch o.Hosts {
	case "", HostsLoopback:
		o.Hosts = HostsLoopback
	case HostsNetns:
		if err := CheckNetns(); err != nil {
			return nil, fmt.Errorf("testnet: %w", err)
		}
	default:
		return nil, fmt.Errorf("testnet: --hosts %q: want loopback or netns", o.Hosts)
	}
	topo, shares, err := o.topology()
	if err != nil {
		return nil, err
	}
	if o.Spacing < time.Second {
		// The chain spec's own floor (target_spacing): said here, before
		// anything is measured or written.
		return nil, fmt.Errorf("testnet: spacing %v is too short: at least 1s", o.Spacing)
	}
	if err := clearDir(o.Dir, o.Binary, o.Force); err != nil {
		return nil, err
	}
	dir, _ := filepath.Abs(o.Dir)
	var hn *hosts.Net
	if o.Hosts == HostsNetns {
		if hn, err = planHosts(dir, o.Nodes, topo.uplinks(o.Links)); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	threads := minerThreads(o.Miners)
	bits := uint32(regtestPowLimit)
	if o.Emulated {
		fmt.Fprintf(o.Log, "emulated hash rate: %d miner(s) on a fixed-difficulty chain of %v blocks\n", o.Miners, o.Spacing)
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
	s := &State{Dir: dir, Spacing: o.Spacing, binary: o.Binary, net: netw, Topology: topo, Links: o.Links}
	if hn != nil {
		// The names are the testnet's from here on: saved before they
		// exist, so that down (or the next up) removes whatever of
		// them a failure leaves.
		s.Net = hn
		if err := s.save(); err != nil {
			return s, err
		}
		if err := hn.Create(); err != nil {
			return s, fmt.Errorf("testnet: %w", err)
		}
		if err := s.applyPlan(); err != nil {
			return s, err
		}
		fmt.Fprintf(o.Log, "hosts: %d network namespaces on bridge %s (%s), links shaped by %s\n",
			len(hn.Namespaces), hn.Bridge, hn.Subnet, filepath.Join(dir, shaperLogFile))
	}
	for i := 0; i < o.Nodes; i++ {
		n := &Node{Name: fmt.Sprintf("node%d", i), Dir: filepath.Join(dir, fmt.Sprintf("node%d", i))}
		if topo.Nodes[i].Name != "" {
			n.Name = topo.Nodes[i].Name
		}
		if err := s.pickAddrs(n, i); err != nil {
			return s, err
		}
		if n.Wallet, n.Address, err = newNodeWallet(n.Dir, netw); err != nil {
			return s, err
		}
		host, port, _ := net.SplitHostPort(n.listenAddr)
		n.Args = []string{"node", "--chain-spec", filepath.Join(dir, specName), "--datadir", n.Dir,
			"--rpc-addr", n.RPCAddr, "--rpc-user", rpcUser, "--rpc-password", rpcPass,
			"--listen", fmt.Sprintf("/ip4/%s/tcp/%s", host, port), "--mdns=false", "--dht=false",
			"--electrum-addr", n.ElectrumAddr, "--http-addr", n.HTTPAddr}
		if s.netns() {
			n.Args = append(n.Args, "--listen", fmt.Sprintf("/ip4/%s/udp/%s/quic-v1", host, port))
		}
		for _, e := range topo.Edges {
			if e.From == i && e.To < i {
				n.Args = append(n.Args, "--peer", s.peerAddr(e))
			}
		}
		n.Mining = shares != nil && shares[i] > 0
		switch {
		case n.Mining && o.Emulated:
			share := strconv.FormatFloat(shares[i], 'g', 6, 64)
			n.Args = append(n.Args, "--mine-emulated", share, "--miner-address", n.Address)
			if st := topo.Nodes[i].Strategy; st == "selfish" {
				n.Args = append(n.Args, "--strategy", st)
			}
		case n.Mining:
			n.Args = append(n.Args, "--mine", "--miner-address", n.Address, "--miner-threads", strconv.Itoa(threads))
		}
		s.Nodes = append(s.Nodes, n)
		if err := s.start(n); err != nil {
			return s, err
		}
		if err := s.waitRPC(ctx, n, time.Minute); err != nil {
			return s, err
		}
		var info struct {
			P2P []string `json:"p2paddresses"`
		}
		if err := s.CallContext(ctx, n, &info, "getnetworkinfo"); err != nil || len(info.P2P) == 0 {
			return s, fmt.Errorf("testnet: %s has no p2p address: %v", n.Name, err)
		}
		n.P2PAddrs = info.P2P
		n.P2PAddr = info.P2P[0]
		n.PeerID = n.P2PAddr[strings.LastIndex(n.P2PAddr, "/")+1:]
		if err := s.save(); err != nil {
			return s, err
		}
		fmt.Fprintf(o.Log, "%s up: rpc %s, electrum %s, explorer http://%s, %s, mining %v\n", n.Name, n.RPCAddr, n.ElectrumAddr,
			n.HTTPAddr, n.P2PAddr, n.Mining)
	}
	// Edges to nodes started later: added now, and kept in the dialling
	// node's arguments for its restarts.
	for _, e := range topo.Edges {
		if e.To > e.From {
			n := s.Nodes[e.From]
			addr := s.peerAddr(e)
			n.Args = append(n.Args, "--peer", addr)
			if err := s.CallContext(ctx, n, nil, "addnode", addr, "add"); err != nil {
				return s, fmt.Errorf("testnet: %s addnode %s: %w", n.Name, s.Nodes[e.To].Name, err)
			}
		}
	}
	return s, s.save()
}

// pickAddrs gives node i its RPC, P2P, Electrum and explorer addresses:
// free loopback ports, or the network's own ports on the node's host.
func (s *State) pickAddrs(n *Node, i int) error {
	if s.netns() {
		ip := s.Net.IPs[i].String()
		port := func(p uint16) string { return net.JoinHostPort(ip, strconv.Itoa(int(p))) }
		n.RPCAddr, n.listenAddr = port(s.net.RPCPort), port(s.net.P2PPort)
		n.ElectrumAddr, n.HTTPAddr = port(s.net.ElectrumPort), port(s.net.HTTPPort)
		return nil
	}
	var err error
	if n.RPCAddr, err = s.freePort(); err != nil {
		return err
	}
	if n.listenAddr, err = s.freePort(n.RPCAddr); err != nil {
		return err
	}
	if n.ElectrumAddr, err = s.freePort(n.RPCAddr, n.listenAddr); err != nil {
		return err
	}
	n.HTTPAddr, err = s.freePort(n.RPCAddr, n.listenAddr, n.ElectrumAddr)
	return err
}

// peerAddr is the address e.From dials e.To at. In --hosts netns, edges
// alternate between TCP and QUIC, so that both carry the network.
func (s *State) peerAddr(e Edge) string {
	to := s.Nodes[e.To]
	if s.netns() && (e.From+e.To)%2 == 1 {
		for _, a := range to.P2PAddrs {
			if strings.Contains(a, "/quic-v1/") {
				return a
			}
		}
	}
	return to.P2PAddr
}

// newNodeWallet creates a node's wallet in dir and returns its path and
// the miner's payout address.
func newNodeWallet(dir string, netw *chainparams.Network) (path, addr string, err error) {
	path = filepath.Join(dir, "wallet.dat")
	mnemonic, err := wallet.NewMnemonic(12)
	if err != nil {
		return "", "", err
	}
	w, err := wallet.Create(path, []byte(Password), netw, mnemonic, wallet.CreateOptions{KDF: nodeWalletKDF})
	if err != nil {
		return "", "", err
	}
	a, err := w.NewAddress(wallet.P2WPKH)
	if err == nil {
		err = w.Save()
	}
	w.Close()
	if err != nil {
		return "", "", err
	}
	return path, a.EncodeAddress(), nil
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
	// A testnet that ended without down (a crash, a kill) may have left
	// its hosts: they are its own, named in its state.
	if err := old.teardownHosts(); err != nil {
		return err
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
// detached `up`), logging to node.log in its folder. In --hosts netns it
// runs in its host's namespace (ip netns exec, which becomes the node:
// the PID is the node's).
func (s *State) start(n *Node) error {
	if err := os.MkdirAll(n.Dir, 0o700); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(n.Dir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	defer logf.Close()
	argv := append([]string{s.binary}, n.Args...)
	if s.netns() {
		argv = s.Net.Command(s.index(n), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
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
	// A reused PID is some other process: it must be a node of this
	// folder (its --datadir, exactly).
	return n.PID > 0 && pidRuns(n.PID, func(args []string) bool {
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "--datadir" && args[i+1] == n.Dir {
				return true
			}
		}
		return false
	})
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
// Each call is bounded to ten seconds, those that mine to five minutes
// (callTimeout).
func (s *State) Call(n *Node, out any, method string, params ...any) error {
	return s.CallContext(context.Background(), n, out, method, params...)
}

// CallContext is Call ending early when ctx does.
func (s *State) CallContext(ctx context.Context, n *Node, out any, method string, params ...any) error {
	c, err := rpcclient.New(rpcclient.Config{Host: n.RPCAddr, User: rpcUser, Password: rpcPass, Timeout: callTimeout(method)})
	if err != nil {
		return fmt.Errorf("testnet: %s: %w", n.Name, err)
	}
	return c.Call(ctx, method, out, params...)
}

// mineTimeout bounds the calls that mine: on thirty nodes sharing two
// cores, assembling and connecting a block of 1 MB once took over ten
// seconds, and a timed-out call leaves its block mined all the same.
const mineTimeout = 5 * time.Minute

// callTimeout is how long a call of method may take.
func callTimeout(method string) time.Duration {
	switch method {
	case "generatetoaddress", "generateblock":
		return mineTimeout
	}
	return rpcTimeout
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
// exited within 20 seconds. Nothing keeps running: in --hosts netns the
// shaper stops and the hosts (namespaces, veths, bridge, rules and
// qdiscs) are removed.
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
	return s.teardownHosts()
}

// OpenWallet opens a node's wallet.
func (s *State) OpenWallet(n *Node) (*wallet.Wallet, *wallet.RPCNode, error) {
	w, err := wallet.Open(n.Wallet, []byte(Password), s.net)
	if err != nil {
		return nil, nil, err
	}
	return w, &wallet.RPCNode{URL: "http://" + n.RPCAddr + "/", User: rpcUser, Password: rpcPass}, nil
}
