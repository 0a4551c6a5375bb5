package testnet

import (
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnchain/cairn/testnet/internal/hosts"
)

func TestBuildTopology(t *testing.T) {
	rnd := mrand.New(mrand.NewPCG(7, 8))
	degree := func(tp *Topology) []int {
		d := make([]int, len(tp.Nodes))
		for _, e := range tp.Edges {
			d[e.From]++
			d[e.To]++
		}
		return d
	}
	for _, c := range []struct {
		kind  string
		n     int
		edges int
	}{{"mesh", 6, 15}, {"", 4, 6}, {"line", 5, 4}, {"ring", 5, 5}, {"star", 5, 4}} {
		tp, err := BuildTopology(c.kind, c.n, rnd)
		if err != nil {
			t.Fatal(err)
		}
		if len(tp.Edges) != c.edges || !tp.connected() || tp.check() != nil {
			t.Fatalf("%s of %d: %d edges (want %d), connected %v, check %v", c.kind, c.n, len(tp.Edges), c.edges, tp.connected(), tp.check())
		}
		// Dialling only nodes started before it lets up give every
		// node its peers at start.
		if c.kind != "ring" {
			for _, e := range tp.Edges {
				if e.To > e.From {
					t.Fatalf("%s: %d dials %d, started after it", c.kind, e.From, e.To)
				}
			}
		}
	}
	if d := degree(must(BuildTopology("star", 5, rnd))); d[0] != 4 || d[1] != 1 {
		t.Fatalf("star degrees %v", d)
	}
	for try := 0; try < 20; try++ {
		tp, err := BuildTopology("random:2", 12, rnd)
		if err != nil {
			t.Fatal(err)
		}
		if !tp.connected() || tp.check() != nil {
			t.Fatal("random:2 is not a connected simple graph")
		}
		out := make([]int, 12)
		for _, e := range tp.Edges {
			out[e.From]++
		}
		for i, d := range degree(tp) {
			// K outbound each; a pair drawn both ways is one edge.
			if d < 2 || out[i] > 2 {
				t.Fatalf("random:2: node %d has %d links, %d outbound", i, d, out[i])
			}
		}
	}
	for _, bad := range []string{"random:0", "random:12", "random:x", "torus"} {
		if _, err := BuildTopology(bad, 12, rnd); err == nil {
			t.Fatalf("%s accepted", bad)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestLoadTopology(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "topo.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tp, err := LoadTopology(write(`{"nodes": [{"share": 3, "latency": "50ms", "bandwidth": "20mbit", "loss": "0.5%"},
		{"share": 1, "jitter": "5ms"}, {}],
		"edges": [{"from": 1, "to": 0, "latency": "100ms", "bandwidth": "512kbit"}, {"from": 2, "to": 1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	n0 := tp.Nodes[0]
	if time.Duration(n0.Latency) != 50*time.Millisecond || n0.Bandwidth != 20e6 || n0.Loss != 0.5 {
		t.Fatalf("node 0 read as %+v", n0)
	}
	if sh := tp.shares(); sh[0] != 0.75 || sh[1] != 0.25 || sh[2] != 0 {
		t.Fatalf("shares %v", sh)
	}
	if e := tp.Edges[0]; time.Duration(e.Latency) != 100*time.Millisecond || e.Bandwidth != 512e3 {
		t.Fatalf("edge read as %+v", e)
	}
	// An edge's settings come first, then the sending node's, then up's.
	s := &State{Topology: tp, Links: LinkSettings{Latency: Duration(time.Second), Jitter: Duration(time.Millisecond)}}
	if k := s.link(&tp.Edges[0], 1); k.Latency != 100*time.Millisecond || k.Jitter != 5*time.Millisecond || k.Rate != 512e3 {
		t.Fatalf("edge 1-0 from 1: %+v", k)
	}
	if k := s.link(&tp.Edges[1], 2); k.Latency != time.Second || k.Jitter != time.Millisecond || k.Rate != 0 {
		t.Fatalf("edge 2-1 from 2: %+v", k)
	}
	if k := s.link(&Edge{From: 0, To: 2}, 0); k.Latency != 50*time.Millisecond || k.Loss != 0.005 {
		t.Fatalf("from node 0: %+v", k)
	}
	if up := tp.uplinks(LinkSettings{Bandwidth: 1e6}); up[0] != 20e6 || up[1] != 1e6 {
		t.Fatalf("uplinks %v", up)
	}
	for body, want := range map[string]string{
		`{"nodes": []}`: "no nodes",
		`{"nodes": [{}, {}], "edges": [{"from": 0, "to": 2}]}`:                       "nodes are 0 to 1",
		`{"nodes": [{}, {}], "edges": [{"from": 0, "to": 1}, {"from": 1, "to": 0}]}`: "joined twice",
		`{"nodes": [{"latency": "fast"}]}`:                                           "fast",
		`{"nodes": [{"bandwidth": "20mbps"}]}`:                                       "20mbit",
		`{"nodes": [{"loss": "100%"}]}`:                                              "loss",
		`{"nodes": [{"share": -1}]}`:                                                 "negative share",
		`{"nodes": [{}], "links": []}`:                                               "unknown field",
	} {
		if _, err := LoadTopology(write(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", body, err, want)
		}
	}
}

func TestRatesAndPercents(t *testing.T) {
	for in, want := range map[string]Rate{"20mbit": 20e6, "1.5Mbit": 1.5e6, "512kbit": 512e3, "1gbit": 1e9, "9600bit": 9600} {
		if r, err := ParseRate(in); err != nil || r != want {
			t.Errorf("ParseRate(%q) = %v, %v", in, r, err)
		}
	}
	for _, bad := range []string{"20", "20mbps", "-1mbit", "mbit", "0kbit"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	if Rate(20e6).String() != "20mbit" || Rate(1500).String() != "1500bit" {
		t.Error("Rate.String")
	}
	if p, err := ParsePercent("0.5%"); err != nil || p != 0.5 {
		t.Errorf("ParsePercent: %v %v", p, err)
	}
	if _, err := ParsePercent("half"); err == nil {
		t.Error("ParsePercent(half) accepted")
	}
}

func TestUpRefusesShapingOnLoopback(t *testing.T) {
	_, err := Up(t.Context(), UpOptions{Dir: t.TempDir(), Nodes: 2, Miners: 1, Spacing: time.Second,
		Links: LinkSettings{Latency: Duration(50 * time.Millisecond)}})
	if err != errNoNetns {
		t.Fatalf("latency on loopback: %v", err)
	}
	_, err = Up(t.Context(), UpOptions{Dir: t.TempDir(), Nodes: 2, Spacing: time.Second, Hosts: "docker"})
	if err == nil || !strings.Contains(err.Error(), "loopback or netns") {
		t.Fatalf("--hosts docker: %v", err)
	}
}

// TestUpRefusesForeignNames makes a namespace with the name a testnet in
// a folder would use: up refuses to start rather than take it over or
// delete it, and leaves it in place.
func TestUpRefusesForeignNames(t *testing.T) {
	if os.Geteuid() != 0 || CheckNetns() != nil {
		if os.Getenv("CAIRN_NETNS_REQUIRED") != "" {
			t.Fatalf("needs root, ip, iptables and tc: %v", CheckNetns())
		}
		t.Skipf("needs root, ip, iptables and tc: %v", CheckNetns())
	}
	dir := filepath.Join(t.TempDir(), "localnet")
	hn, err := hosts.Plan(dir, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	foreign := hn.Namespaces[1]
	if out, err := exec.Command("ip", "netns", "add", foreign).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", foreign).Run()
	_, err = Up(t.Context(), UpOptions{Dir: dir, Nodes: 2, Miners: 1, Spacing: time.Second, Emulated: true, Hosts: HostsNetns})
	if err == nil || !strings.Contains(err.Error(), "not this testnet's") || !strings.Contains(err.Error(), foreign) {
		t.Fatalf("up beside a foreign namespace %s: %v", foreign, err)
	}
	if _, err := os.Stat("/run/netns/" + foreign); err != nil {
		t.Fatalf("up removed the namespace it did not make: %v", err)
	}
	if _, err := os.Stat("/run/netns/" + hn.Namespaces[0]); err == nil {
		t.Fatalf("up made %s though it refused", hn.Namespaces[0])
	}
}
