package testnet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// The measuring scenarios (stale-rate, propagation, selfish-mining) each
// start testnets of their own, in --hosts netns with emulated hash rate,
// in folders under the scenario's --dir, measure, and take them down
// again, whether they succeed, fail or are interrupted. Each prints its
// figures beside a model and a verdict, and returns a report for --json.

// MeasureOptions configure a measuring scenario. Zero fields take the
// scenario's defaults.
type MeasureOptions struct {
	// Dir is the parent folder of the scenario's testnets.
	Dir    string
	Binary string
	Nodes  int
	// Spacing is the target block spacing T.
	Spacing time.Duration
	// Blocks is how many blocks a run lasts (stale-rate, selfish-mining).
	Blocks int
	// Latencies are the one-way link latencies to run at, one run each.
	Latencies []time.Duration
	// Bandwidths are the nodes' uplinks to run at (propagation).
	Bandwidths []Rate
	// Links shape every link beside the latency (jitter, loss).
	Links LinkSettings
	// Topology is a built-in topology or a topology file.
	Topology string
	// Txs is the number of transactions of the propagation block.
	Txs int
	// Alphas are the selfish miner's shares, one run each; FastLinks is
	// the share of honest nodes it reaches over 1 ms links (its γ).
	Alphas    []float64
	FastLinks float64
	// Log receives the narration.
	Log io.Writer
}

// withDefaults fills o's unset sizes: 10 nodes, a spacing of 2 s, and
// the scenario's own block count and latencies.
func (o MeasureOptions) withDefaults(blocks int, latencies ...time.Duration) MeasureOptions {
	if o.Nodes == 0 {
		o.Nodes = 10
	}
	if o.Spacing == 0 {
		o.Spacing = 2 * time.Second
	}
	if o.Blocks == 0 {
		o.Blocks = blocks
	}
	if len(o.Latencies) == 0 {
		o.Latencies = latencies
	}
	return o
}

// measures are the measuring scenarios.
var measures = map[string]func(ctx context.Context, o MeasureOptions) (any, error){
	"stale-rate":     func(ctx context.Context, o MeasureOptions) (any, error) { return StaleRate(ctx, o) },
	"propagation":    func(ctx context.Context, o MeasureOptions) (any, error) { return Propagation(ctx, o) },
	"selfish-mining": func(ctx context.Context, o MeasureOptions) (any, error) { return SelfishMining(ctx, o) },
}

// IsMeasure reports whether name is a measuring scenario, which starts
// its own testnets instead of running on one.
func IsMeasure(name string) bool { _, ok := measures[name]; return ok }

// RunMeasure runs the measuring scenario name and returns its report.
func RunMeasure(ctx context.Context, name string, o MeasureOptions) (any, error) {
	f, ok := measures[name]
	if !ok {
		return nil, fmt.Errorf("testnet: no scenario %q (have %v)", name, Scenarios())
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return f(ctx, o)
}

// withNetwork starts a testnet in dir/name with up, runs f on it, and
// takes it down whatever happens: down runs on its own context, so that
// an interrupt still cleans up.
func withNetwork(ctx context.Context, o MeasureOptions, name string, up UpOptions, f func(s *State) error) (err error) {
	up.Dir = filepath.Join(o.Dir, name)
	up.Binary = o.Binary
	up.Log = io.Discard
	up.Force = true // the scenario's own folder: its wallets hold test coins
	if up.Hosts == "" {
		up.Hosts = HostsNetns
	}
	s, err := Up(ctx, up)
	defer func() {
		if s != nil {
			if derr := s.Down(); derr != nil && err == nil {
				err = derr
			}
		}
	}()
	if err != nil {
		return err
	}
	return f(s)
}

// tipWatch records when each node's tip changed to each block, as its
// explorer's event stream tells (the stream is not shaped: the machine
// hears it at once).
type tipWatch struct {
	mu sync.Mutex
	// seen[hash][node] is when node first had hash as its tip.
	seen   map[string]map[int]time.Time
	height map[string]int32
}

// watchTips follows every node's "tip" events until ctx ends.
func (s *State) watchTips(ctx context.Context) *tipWatch {
	tw := &tipWatch{seen: make(map[string]map[int]time.Time), height: make(map[string]int32)}
	for i, n := range s.Nodes {
		go tw.follow(ctx, i, "http://"+n.HTTPAddr+"/api/events")
	}
	return tw
}

// follow reads one node's event stream, reconnecting while ctx lasts.
func (tw *tipWatch) follow(ctx context.Context, node int, url string) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			event := ""
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "event: "):
					event = strings.TrimPrefix(line, "event: ")
				case strings.HasPrefix(line, "data: ") && event == "tip":
					var tip struct {
						Hash   string `json:"hash"`
						Height int32  `json:"height"`
					}
					if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &tip) == nil {
						tw.record(node, tip.Hash, tip.Height, time.Now())
					}
				}
			}
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (tw *tipWatch) record(node int, hash string, height int32, at time.Time) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	m := tw.seen[hash]
	if m == nil {
		m = make(map[int]time.Time)
		tw.seen[hash] = m
	}
	if _, ok := m[node]; !ok {
		m[node] = at
	}
	tw.height[hash] = height
}

// delays returns, for a block, how long after the first node each other
// node that had it as its tip got it. A node that reached the block only
// through a reorganization (its tip was a rival) is missing.
func (tw *tipWatch) delays(hash string) []time.Duration {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	m := tw.seen[hash]
	if len(m) == 0 {
		return nil
	}
	first := time.Time{}
	for _, at := range m {
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	var out []time.Duration
	for _, at := range m {
		if at != first {
			out = append(out, at.Sub(first))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// blockTree returns every block any node knows of at heights above from
// and at most to: the best chain of node 0 and every fork's branch.
func (s *State) blockTree(from, to int32) (map[string]int32, error) {
	all := make(map[string]int32)
	type tip struct {
		Height    int32  `json:"height"`
		Hash      string `json:"hash"`
		BranchLen int32  `json:"branchlen"`
		Status    string `json:"status"`
	}
	for _, n := range s.Nodes {
		var tips []tip
		if err := s.Call(n, &tips, "getchaintips"); err != nil {
			return nil, err
		}
		for _, t := range tips {
			if t.Status == "active" || t.Status == "invalid" {
				continue
			}
			hash, h := t.Hash, t.Height
			for k := int32(0); k < t.BranchLen && h > from; k++ {
				if h <= to {
					all[hash] = h
				}
				var hdr struct {
					Prev string `json:"previousblockhash"`
				}
				if err := s.Call(n, &hdr, "getblockheader", hash); err != nil {
					return nil, err
				}
				hash, h = hdr.Prev, h-1
			}
		}
	}
	for h := from + 1; h <= to; h++ {
		var hash string
		if err := s.Call(s.Nodes[0], &hash, "getblockhash", h); err != nil {
			return nil, err
		}
		all[hash] = h
	}
	return all, nil
}

// percentile returns the q-quantile (0 to 1) of sorted ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds)-1) + 0.5)
	return ds[min(i, len(ds)-1)]
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
