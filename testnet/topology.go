package testnet

import (
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// A topology says which nodes peer (its edges, each dialled by From) and
// how their links behave. In --hosts netns the edges are also the only
// links: packets between two nodes no edge joins are dropped, so a node
// cannot reach beyond the topology by learning other addresses.

// Topology is a testnet's nodes and their peerings, as a topology file
// holds them.
type Topology struct {
	Nodes []TopoNode `json:"nodes"`
	Edges []Edge     `json:"edges"`
}

// TopoNode is one node of a topology. Its link settings shape what it
// sends: its latency, jitter and loss apply to every packet it sends (as
// netem on its interface would), and its bandwidth is its uplink, shared
// by all its links.
type TopoNode struct {
	Name string `json:"name,omitempty"`
	// Share is the node's share of the hash rate; a node with a share
	// mines. Shares are scaled to sum to 1.
	Share float64 `json:"share,omitempty"`
	// Strategy "selfish" makes the node a selfish miner (node
	// --strategy selfish; research only, with --emulated).
	Strategy string `json:"strategy,omitempty"`
	LinkSettings
}

// Edge is a peering: From dials To. Its settings, where given, replace
// its two nodes' for the packets between them, both ways; its bandwidth
// is the link's own, beside the nodes' uplinks.
type Edge struct {
	From int `json:"from"`
	To   int `json:"to"`
	LinkSettings
}

// LinkSettings shape links. In files, durations are Go's ("50ms"), loss a
// percentage ("0.5%") and bandwidth tc's units ("20mbit", "512kbit").
type LinkSettings struct {
	Latency   Duration `json:"latency,omitempty"`
	Jitter    Duration `json:"jitter,omitempty"`
	Loss      Percent  `json:"loss,omitempty"`
	Bandwidth Rate     `json:"bandwidth,omitempty"`
}

// IsZero reports whether l shapes nothing.
func (l LinkSettings) IsZero() bool { return l == LinkSettings{} }

// over returns l with the settings it leaves unset taken from d.
func (l LinkSettings) over(d LinkSettings) LinkSettings {
	if l.Latency == 0 {
		l.Latency = d.Latency
	}
	if l.Jitter == 0 {
		l.Jitter = d.Jitter
	}
	if l.Loss == 0 {
		l.Loss = d.Loss
	}
	if l.Bandwidth == 0 {
		l.Bandwidth = d.Bandwidth
	}
	return l
}

// Topologies lists the built-in topologies.
const Topologies = "mesh, line, ring, star, random:K"

// BuildTopology returns the built-in topology kind for n nodes:
//   - mesh: every node dials every node started before it (the default);
//   - line: each node dials the one before it;
//   - ring: a line whose first node also dials the last;
//   - star: every node dials node0;
//   - random:K: each node dials K others drawn at random (links are
//     undirected: a pair drawn both ways is one edge), drawn again until
//     the graph is connected.
func BuildTopology(kind string, n int, rnd *mrand.Rand) (*Topology, error) {
	t := &Topology{Nodes: make([]TopoNode, n)}
	add := func(from, to int) { t.Edges = append(t.Edges, Edge{From: from, To: to}) }
	switch {
	case kind == "" || kind == "mesh":
		for i := 1; i < n; i++ {
			for j := 0; j < i; j++ {
				add(i, j)
			}
		}
	case kind == "line" || kind == "ring":
		for i := 1; i < n; i++ {
			add(i, i-1)
		}
		if kind == "ring" && n > 2 {
			add(0, n-1)
		}
	case kind == "star":
		for i := 1; i < n; i++ {
			add(i, 0)
		}
	case strings.HasPrefix(kind, "random:"):
		k, err := strconv.Atoi(strings.TrimPrefix(kind, "random:"))
		if err != nil || k < 1 || k >= n {
			return nil, fmt.Errorf("testnet: topology %s: K must be 1 to %d (nodes - 1)", kind, n-1)
		}
		for try := 0; ; try++ {
			if try == 1000 {
				return nil, fmt.Errorf("testnet: topology %s: no connected graph of %d nodes found; raise K", kind, n)
			}
			t.Edges = t.Edges[:0]
			seen := make(map[[2]int]bool)
			for i := 0; i < n; i++ {
				for _, j := range rnd.Perm(n - 1)[:k] {
					if j >= i {
						j++ // skip i itself
					}
					key := [2]int{min(i, j), max(i, j)}
					if !seen[key] {
						seen[key] = true
						add(i, j)
					}
				}
			}
			if t.connected() {
				break
			}
		}
	default:
		return nil, fmt.Errorf("testnet: no topology %q: want %s, or a topology file", kind, Topologies)
	}
	return t, nil
}

// LoadTopology reads a topology file.
func LoadTopology(path string) (*Topology, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("testnet: topology: %w", err)
	}
	var t Topology
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("testnet: topology %s: %v", path, err)
	}
	return &t, t.check()
}

// check reports what makes t unusable.
func (t *Topology) check() error {
	n := len(t.Nodes)
	if n < 1 {
		return errors.New("testnet: topology: no nodes")
	}
	seen := make(map[[2]int]bool)
	for _, e := range t.Edges {
		if e.From < 0 || e.From >= n || e.To < 0 || e.To >= n || e.From == e.To {
			return fmt.Errorf("testnet: topology: edge %d-%d: nodes are 0 to %d, and an edge joins two", e.From, e.To, n-1)
		}
		key := [2]int{min(e.From, e.To), max(e.From, e.To)}
		if seen[key] {
			return fmt.Errorf("testnet: topology: nodes %d and %d are joined twice", e.From, e.To)
		}
		seen[key] = true
	}
	for i, nd := range t.Nodes {
		if nd.Share < 0 {
			return fmt.Errorf("testnet: topology: node %d: negative share", i)
		}
		if nd.Strategy != "" && nd.Strategy != "honest" && (nd.Strategy != "selfish" || nd.Share == 0) {
			return fmt.Errorf("testnet: topology: node %d: strategy %q: want honest, or selfish for a node with a share", i, nd.Strategy)
		}
		if err := nd.LinkSettings.check(); err != nil {
			return fmt.Errorf("testnet: topology: node %d: %w", i, err)
		}
	}
	for _, e := range t.Edges {
		if err := e.LinkSettings.check(); err != nil {
			return fmt.Errorf("testnet: topology: edge %d-%d: %w", e.From, e.To, err)
		}
	}
	return nil
}

// check reports settings no link can have.
func (l LinkSettings) check() error {
	switch {
	case l.Latency < 0 || l.Jitter < 0:
		return errors.New("negative latency or jitter")
	case l.Loss < 0 || l.Loss >= 100:
		return errors.New("loss must be 0% to under 100%")
	}
	return nil
}

// connected reports whether the edges join every node.
func (t *Topology) connected() bool {
	n := len(t.Nodes)
	adj := make([][]int, n)
	for _, e := range t.Edges {
		adj[e.From] = append(adj[e.From], e.To)
		adj[e.To] = append(adj[e.To], e.From)
	}
	seen := make([]bool, n)
	stack := []int{0}
	seen[0] = true
	count := 1
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range adj[i] {
			if !seen[j] {
				seen[j] = true
				count++
				stack = append(stack, j)
			}
		}
	}
	return count == n
}

// shares returns each node's hash-rate share, scaled to sum to 1, or nil
// when the topology gives none.
func (t *Topology) shares() []float64 {
	var sum float64
	for _, nd := range t.Nodes {
		sum += nd.Share
	}
	if sum == 0 {
		return nil
	}
	out := make([]float64, len(t.Nodes))
	for i, nd := range t.Nodes {
		out[i] = nd.Share / sum
	}
	return out
}

// Duration is a time.Duration written as Go writes it ("50ms").
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Percent is a percentage, written "0.5%".
type Percent float64

// ParsePercent reads "0.5%" (or "0.5").
func ParsePercent(s string) (Percent, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("loss %q: want a percentage such as 0.5%%", s)
	}
	return Percent(v), nil
}

func (p Percent) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(p), 'g', -1, 64) + "%"), nil
}

func (p *Percent) UnmarshalText(b []byte) error {
	v, err := ParsePercent(string(b))
	*p = v
	return err
}

// Rate is a bandwidth in bits per second, written in tc's units:
// "20mbit", "512kbit", "1gbit", "9600bit".
type Rate uint64

// ParseRate reads a bandwidth in tc's units.
func ParseRate(s string) (Rate, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mul    float64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v <= 0 {
				break
			}
			return Rate(v * u.mul), nil
		}
	}
	return 0, fmt.Errorf("bandwidth %q: want a rate such as 20mbit, 512kbit or 1gbit", s)
}

func (r Rate) String() string {
	switch {
	case r == 0:
		return "0"
	case r%1e9 == 0:
		return strconv.FormatUint(uint64(r/1e9), 10) + "gbit"
	case r%1e6 == 0:
		return strconv.FormatUint(uint64(r/1e6), 10) + "mbit"
	case r%1e3 == 0:
		return strconv.FormatUint(uint64(r/1e3), 10) + "kbit"
	}
	return strconv.FormatUint(uint64(r), 10) + "bit"
}

func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	*r = v
	return err
}
