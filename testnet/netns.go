package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cairnchain/cairn/internal/atomicfile"
	"github.com/cairnchain/cairn/testnet/internal/hosts"
	"github.com/cairnchain/cairn/testnet/internal/netem"
)

// In --hosts netns every node runs in a network namespace of its own (see
// package hosts), and one shaper process (cairn testnet shaper, package
// netem) holds every packet a node sends another for as long as their
// link says, or drops it. The links are the topology's edges, shaped by
// the settings of the edge, of the sending node and of up's flags, in
// that order; a partition removes the links between its groups, so a cut
// is silent, as a real network's is.

// Host modes.
const (
	HostsLoopback = "loopback"
	HostsNetns    = "netns"
)

const (
	planFile      = "links.json"
	shaperLogFile = "shaper.log"
	// planWait bounds the wait for the shaper to apply a new plan.
	planWait = 5 * time.Second
)

// CheckNetns tells whether this machine can run --hosts netns.
func CheckNetns() error { return hosts.Check() }

// netns reports whether the testnet's nodes are hosts of their own.
func (s *State) netns() bool { return s.Net != nil }

// planHosts names the hosts a testnet of n nodes in dir would use, refusing
// names the machine has already: they are not this testnet's (up removed
// its own with the folder).
func planHosts(dir string, n int, rates []uint64) (*hosts.Net, error) {
	if err := hosts.Check(); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	hn, err := hosts.Plan(dir, n, rates)
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	if taken := hn.Taken(); len(taken) > 0 {
		return nil, fmt.Errorf("testnet: %s already exist and are not this testnet's (no state file of %s names them): "+
			"remove them (ip netns del NAME, ip link del NAME) or use another --dir", strings.Join(taken, ", "), dir)
	}
	return hn, nil
}

// link returns how packets from node i to node j travel over edge e.
func (s *State) link(e *Edge, i int) netem.Link {
	l := e.LinkSettings.over(s.Topology.Nodes[i].LinkSettings).over(s.Links)
	k := netem.Link{Latency: time.Duration(l.Latency), Jitter: time.Duration(l.Jitter), Loss: float64(l.Loss) / 100}
	// Node and up-wide bandwidths are uplinks (tbf, package hosts);
	// only an edge's own is the link's.
	k.Rate = uint64(e.Bandwidth)
	return k
}

// uplinks returns each node's uplink bandwidth in bits per second.
func (t *Topology) uplinks(d LinkSettings) []uint64 {
	out := make([]uint64, len(t.Nodes))
	any := false
	for i, nd := range t.Nodes {
		out[i] = uint64(nd.LinkSettings.over(d).Bandwidth)
		any = any || out[i] > 0
	}
	if !any {
		return nil
	}
	return out
}

// Shape changes up's link settings on a running --hosts netns testnet:
// the links' latency, jitter and loss at once through the shaper, and
// every node's uplink bandwidth (tbf) where the topology sets none of its
// own.
func (s *State) Shape(links LinkSettings) error {
	if !s.netns() {
		return errNoNetns
	}
	s.Links = links
	rates := s.Topology.uplinks(links)
	for i := range s.Net.Namespaces {
		var rate uint64
		if rates != nil {
			rate = rates[i]
		}
		if err := s.Net.SetRate(i, rate); err != nil {
			return fmt.Errorf("testnet: %w", err)
		}
	}
	return s.applyPlan()
}

// plan returns the network the shaper applies: each edge both ways, but
// between nodes in different groups of a partition.
func (s *State) plan() *netem.Plan {
	group := make(map[int]int)
	for gi, g := range s.Groups {
		for _, i := range g {
			group[i] = gi
		}
	}
	p := &netem.Plan{Generation: s.PlanGen}
	for _, ns := range s.Net.Namespaces {
		p.Hosts = append(p.Hosts, netem.Host{Namespace: ns, Links: make(map[netip.Addr]netem.Link)})
	}
	for k := range s.Topology.Edges {
		e := &s.Topology.Edges[k]
		if s.Groups != nil && group[e.From] != group[e.To] {
			continue
		}
		p.Hosts[e.From].Links[s.Net.IPs[e.To]] = s.link(e, e.From)
		p.Hosts[e.To].Links[s.Net.IPs[e.From]] = s.link(e, e.To)
	}
	return p
}

// applyPlan writes the plan of the state's topology and partition and
// waits until the shaper applies it.
func (s *State) applyPlan() error {
	s.PlanGen++
	p := s.plan()
	raw, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.Dir, planFile)
	if err := atomicfile.Write(path, raw, 0o600); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	if err := s.save(); err != nil {
		return err
	}
	if !s.shaperRunning() {
		return s.startShaper()
	}
	if err := syscall.Kill(s.ShaperPID, syscall.SIGHUP); err != nil {
		return fmt.Errorf("testnet: signal the shaper: %w", err)
	}
	return s.waitPlan(p.Generation)
}

// waitPlan waits until the shaper has applied plan generation gen.
func (s *State) waitPlan(gen int) error {
	path := filepath.Join(s.Dir, planFile)
	deadline := time.Now().Add(planWait)
	for netem.Applied(path) < gen {
		if !s.shaperRunning() {
			return fmt.Errorf("testnet: the shaper exited; see %s", filepath.Join(s.Dir, shaperLogFile))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testnet: the shaper did not apply the new links within %v; see %s", planWait, filepath.Join(s.Dir, shaperLogFile))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// startShaper starts `cairn testnet shaper` for this testnet in its own
// session, and waits until it applies the plan on file.
func (s *State) startShaper() error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, shaperLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(s.binary, "testnet", "shaper", "--dir", s.Dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testnet: start the shaper: %w", err)
	}
	s.ShaperPID = cmd.Process.Pid
	go func() { _ = cmd.Wait() }()
	if err := s.save(); err != nil {
		return err
	}
	return s.waitPlan(s.PlanGen)
}

// shaperRunning reports whether the testnet's shaper process lives.
func (s *State) shaperRunning() bool {
	return s.ShaperPID > 0 && pidRuns(s.ShaperPID, func(args []string) bool {
		return slices.Contains(args, "shaper") && slices.Contains(args, s.Dir)
	})
}

// stopShaper ends the shaper.
func (s *State) stopShaper() {
	if !s.shaperRunning() {
		return
	}
	_ = syscall.Kill(s.ShaperPID, syscall.SIGTERM)
	for i := 0; i < 100 && s.shaperRunning(); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if s.shaperRunning() {
		_ = syscall.Kill(s.ShaperPID, syscall.SIGKILL)
	}
}

// teardownHosts stops the shaper and removes the hosts: namespaces (and
// with them their veths, rules and qdiscs) and the bridge.
func (s *State) teardownHosts() error {
	if !s.netns() {
		return nil
	}
	s.stopShaper()
	if err := s.Net.Destroy(); err != nil {
		return fmt.Errorf("testnet: %w", err)
	}
	return nil
}

// RunShaper is `cairn testnet shaper`: it applies the testnet's links
// until ctx ends, and applies them again on SIGHUP.
func RunShaper(ctx context.Context, dir string, logw io.Writer) error {
	path := filepath.Join(dir, planFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("testnet: no links to shape in %s (the shaper is started by cairn testnet up --hosts netns)", dir)
	}
	reload := make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGHUP)
	defer signal.Stop(reload)
	return netem.Run(ctx, path, reload, logw)
}

// pidRuns reports whether pid is a live process whose arguments ours
// accepts (a reused PID is some other process).
func pidRuns(pid int, ours func(args []string) bool) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	// A process in the middle of execve (ip netns exec becoming the
	// node) has an empty command line for a moment.
	for try := 0; err == nil && len(cmdline) == 0 && try < 50; try++ {
		time.Sleep(2 * time.Millisecond)
		cmdline, err = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	}
	if err != nil || !ours(strings.Split(string(cmdline), "\x00")) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state after "(comm)": Z is a zombie, already dead.
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

var errNoNetns = errors.New("testnet: latency, jitter, loss and bandwidth need --hosts netns (on loopback every link is the machine's)")
