package testnet

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// selfish-mining: one node of share α runs Eyal and Sirer's selfish
// strategy (node --strategy selfish) among honest miners sharing the rest
// of the hash rate equally. Its revenue is its share of the blocks of the
// final best chain. Eyal and Sirer ("Majority is not Enough", FC 2014,
// eq. 8) give it in closed form as
//
//	R(α, γ) = [α(1−α)²(4α + γ(1−2α)) − α³] / [1 − α(1 + (2−α)α)]
//
// where γ is the share of honest mining power that, in a tie, mines on the
// selfish block. Selfish mining pays (R > α) above the threshold
// α > (1−γ)/(3−2γ). The scenario sets γ by the network: the selfish node
// reaches a share of the honest nodes over 1 ms links, the others over
// the run's latency, so that the first hear its block first in a race. It
// then measures the γ it got from the races themselves (which branch the
// next honest block extends) and compares the revenue with R at that γ.

// selfishRevenue is Eyal and Sirer's R(α, γ).
func selfishRevenue(a, g float64) float64 {
	return (a*(1-a)*(1-a)*(4*a+g*(1-2*a)) - a*a*a) / (1 - a*(1+(2-a)*a))
}

// selfishThreshold is the share above which selfish mining pays at γ.
func selfishThreshold(g float64) float64 { return (1 - g) / (3 - 2*g) }

// SelfishRun is one α's run.
type SelfishRun struct {
	Alpha float64 `json:"alpha"`
	// FastLinks is the share of honest nodes the selfish node reaches
	// over 1 ms links.
	FastLinks float64 `json:"fast_links"`
	Blocks    int     `json:"blocks"`
	Selfish   int     `json:"selfish_blocks"`
	Revenue   float64 `json:"revenue"`
	// Races are ties the selfish node entered that an honest block
	// settled; Gamma is the share settled on the selfish branch.
	Races     int     `json:"races"`
	Gamma     float64 `json:"gamma"`
	Model     float64 `json:"model_revenue"`
	Threshold float64 `json:"threshold"`
	Tolerance float64 `json:"tolerance"`
	Agrees    bool    `json:"agrees"`
	// Stale counts blocks off the final chain, whoever mined them.
	Stale int `json:"stale"`
}

// SelfishReport is selfish-mining's report.
type SelfishReport struct {
	Nodes   int           `json:"nodes"`
	Latency time.Duration `json:"latency_ns"`
	Spacing time.Duration `json:"spacing_ns"`
	Runs    []SelfishRun  `json:"runs"`
}

// selfishTolerance is how far a measured revenue may stand from R and
// agree: three standard deviations of the revenue the model itself gives
// over that many blocks (selfishSpread), and 0.03 for what the model
// leaves out (the honest miners' own forks at the run's latency, and γ
// measured from few races).
func selfishTolerance(a, g float64, blocks int) float64 {
	return 3*selfishSpread(a, g, blocks) + 0.03
}

// selfishSpread is the standard deviation of the selfish miner's share of
// a final chain of the given length, under Eyal and Sirer's state machine
// (their Algorithm 1) at α and γ. It has no closed form and is about twice
// the binomial one, √(R(1−R)/blocks): the selfish blocks come in runs (a
// lead of k publishes k blocks at once) and every race settles two
// blocks, so they are not independent draws. It is found by simulation
// with a fixed seed, so that a verdict does not change between readings.
func selfishSpread(a, g float64, blocks int) float64 {
	const trials = 4000
	rng := rand.New(rand.NewPCG(20, 14))
	var sum, sumSq float64
	for range trials {
		x, _ := selfishTrial(rng, a, g, blocks)
		sum += x
		sumSq += x * x
	}
	mean := sum / trials
	return math.Sqrt(max(sumSq/trials-mean*mean, 0))
}

// selfishTrial plays Eyal and Sirer's state machine until the final chain
// holds at least blocks blocks, and returns the selfish share of it and
// how many blocks it orphaned (one for every honest block found while the
// selfish miner withholds any: it loses outright, or starts a race that
// orphans one branch's block).
// lead is the selfish miner's private lead; tie is state 0' (two
// published branches of equal length, one of them selfish).
func selfishTrial(rng *rand.Rand, a, g float64, blocks int) (share float64, stale int) {
	var mine, theirs, lead int
	tie := false
	for mine+theirs < blocks {
		if rng.Float64() < a {
			if tie { // the selfish miner extends its branch and wins both
				mine += 2
				tie = false
			} else {
				lead++
			}
			continue
		}
		switch {
		case tie: // an honest block settles the race
			if rng.Float64() < g {
				mine++
			} else {
				theirs++
			}
			theirs++
			tie = false
			continue
		case lead == 0:
			theirs++
			continue
		}
		stale++ // the race's loser, or the honest block
		switch {
		case lead == 1: // publish: a race
			lead = 0
			tie = true
		case lead == 2: // publish both and orphan the honest block
			mine += 2
			lead = 0
		default: // publish one: the honest block loses
			mine++
			lead--
		}
	}
	return float64(mine) / float64(mine+theirs), stale
}

// SelfishMining runs the selfish-mining scenario, one testnet per α.
func SelfishMining(ctx context.Context, o MeasureOptions) (*SelfishReport, error) {
	o = o.withDefaults(1000, 50*time.Millisecond)
	if len(o.Alphas) == 0 {
		o.Alphas = []float64{0.25, 0.33, 0.40}
	}
	if o.FastLinks < 0 || o.FastLinks > 1 || o.Nodes < 3 {
		return nil, fmt.Errorf("testnet: selfish-mining wants 3 or more nodes and a share of fast links from 0 to 1")
	}
	rep := &SelfishReport{Nodes: o.Nodes, Latency: o.Latencies[0], Spacing: o.Spacing}
	for _, a := range o.Alphas {
		if !(a > 0 && a < 0.5) {
			return rep, fmt.Errorf("testnet: α %v: want a share above 0 and under 0.5", a)
		}
		run, err := selfishRun(ctx, o, a)
		if err != nil {
			return rep, err
		}
		rep.Runs = append(rep.Runs, *run)
	}
	printSelfish(o, rep)
	for _, r := range rep.Runs {
		if !r.Agrees {
			return rep, fmt.Errorf("testnet: selfish revenue %.3f at α %.2f is outside R = %.3f ± %.3f", r.Revenue, r.Alpha, r.Model, r.Tolerance)
		}
	}
	return rep, nil
}

// selfishGraph is the run's topology: node0 selfish with share a, the
// others honest with equal shares, all joined; node0's links to the first
// fast share of the others take 1 ms.
func selfishGraph(o MeasureOptions, a float64) *Topology {
	t := &Topology{Nodes: make([]TopoNode, o.Nodes)}
	t.Nodes[0] = TopoNode{Name: "selfish", Share: a, Strategy: "selfish"}
	for i := 1; i < o.Nodes; i++ {
		t.Nodes[i] = TopoNode{Share: (1 - a) / float64(o.Nodes-1)}
	}
	fast := int(math.Round(o.FastLinks * float64(o.Nodes-1)))
	for i := 1; i < o.Nodes; i++ {
		for j := 0; j < i; j++ {
			e := Edge{From: i, To: j}
			if j == 0 && i <= fast {
				e.Latency = Duration(time.Millisecond)
			}
			t.Edges = append(t.Edges, e)
		}
	}
	return t
}

func selfishRun(ctx context.Context, o MeasureOptions, a float64) (*SelfishRun, error) {
	run := &SelfishRun{Alpha: a, FastLinks: o.FastLinks}
	links := o.Links
	links.Latency = Duration(o.Latencies[0])
	up := UpOptions{Spacing: o.Spacing, Emulated: true, Links: links, Graph: selfishGraph(o, a)}
	name := fmt.Sprintf("selfish-%.2f", a)
	err := withNetwork(ctx, o, name, up, func(s *State) error {
		fmt.Fprintf(o.Log, "selfish-mining: α = %.2f among %d nodes, fast links to %.0f%% of the honest ones, T = %v over %v links: %d blocks ...\n",
			a, o.Nodes, 100*o.FastLinks, o.Spacing, o.Latencies[0], o.Blocks)
		h0, h1, err := s.mineRun(ctx, o, 0)
		if err != nil {
			return err
		}
		selfishAddr := s.Nodes[0].Address
		for h := h0 + 1; h <= h1; h++ {
			var hash string
			if err := s.Call(s.Nodes[1], &hash, "getblockhash", h); err != nil {
				return err
			}
			miner, err := s.blockMiner(hash)
			if err != nil {
				return err
			}
			run.Blocks++
			if miner == selfishAddr {
				run.Selfish++
			}
		}
		tree, err := s.blockTree(h0, h1)
		if err != nil {
			return err
		}
		run.Stale = len(tree) - int(h1-h0)
		onSelfish, onHonest, err := s.races(tree, selfishAddr)
		if err != nil {
			return err
		}
		run.Races = onSelfish + onHonest
		if run.Races > 0 {
			run.Gamma = float64(onSelfish) / float64(run.Races)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	run.Revenue = float64(run.Selfish) / float64(run.Blocks)
	run.Model = selfishRevenue(a, run.Gamma)
	run.Threshold = selfishThreshold(run.Gamma)
	run.Tolerance = selfishTolerance(a, run.Gamma, run.Blocks)
	run.Agrees = math.Abs(run.Revenue-run.Model) <= run.Tolerance
	fmt.Fprintf(o.Log, "  revenue %.3f (%d of %d blocks); γ = %.2f from %d races; R(α, γ) = %.3f\n",
		run.Revenue, run.Selfish, run.Blocks, run.Gamma, run.Races, run.Model)
	return run, nil
}

// blockMiner returns the address a block's coinbase pays, from whichever
// node stores the block.
func (s *State) blockMiner(hash string) (string, error) {
	var err error
	for _, n := range s.Nodes {
		var blk verboseBlock
		if err = s.Call(n, &blk, "getblock", hash, 2); err == nil && blk.payee() != "" {
			return blk.payee(), nil
		}
	}
	return "", fmt.Errorf("testnet: no node stores block %s: %v", hash, err)
}

// races finds the ties between a selfish block and an honest one on the
// same parent, and counts the honest blocks that settled them by
// extending either side: those on the selfish block are γ's successes.
func (s *State) races(tree map[string]int32, selfishAddr string) (onSelfish, onHonest int, err error) {
	byHeight := make(map[int32][]string)
	for hash, h := range tree {
		byHeight[h] = append(byHeight[h], hash)
	}
	parent := make(map[string]string)
	miner := make(map[string]string)
	info := func(hash string) error {
		if _, ok := miner[hash]; ok {
			return nil
		}
		var hdr struct {
			Prev string `json:"previousblockhash"`
		}
		var err error
		for _, n := range s.Nodes {
			// A block the selfish node withheld and then abandoned
			// is known to it alone.
			if err = s.Call(n, &hdr, "getblockheader", hash); err == nil {
				break
			}
		}
		if err != nil {
			return err
		}
		parent[hash] = hdr.Prev
		m, err := s.blockMiner(hash)
		if err != nil {
			// A header whose body no node kept is a block that lost
			// at once: no settling block extends it.
			m = ""
		}
		miner[hash] = m
		return nil
	}
	heights := make([]int32, 0, len(byHeight))
	for h := range byHeight {
		heights = append(heights, h)
	}
	sort.Slice(heights, func(i, j int) bool { return heights[i] < heights[j] })
	for _, h := range heights {
		if len(byHeight[h]) < 2 {
			continue
		}
		for _, b := range byHeight[h] {
			if err := info(b); err != nil {
				return 0, 0, err
			}
		}
		for _, sb := range byHeight[h] {
			if miner[sb] != selfishAddr {
				continue
			}
			for _, hb := range byHeight[h] {
				if hb == sb || miner[hb] == selfishAddr || miner[hb] == "" || parent[hb] != parent[sb] {
					continue
				}
				// A race between sb and hb: the first honest block
				// above either settles it.
				for _, next := range byHeight[h+1] {
					if err := info(next); err != nil {
						return 0, 0, err
					}
					if miner[next] == selfishAddr || miner[next] == "" {
						continue
					}
					switch parent[next] {
					case sb:
						onSelfish++
					case hb:
						onHonest++
					}
				}
			}
		}
	}
	return onSelfish, onHonest, nil
}

func printSelfish(o MeasureOptions, rep *SelfishReport) {
	w := o.Log
	fmt.Fprintf(w, "\nselfish mining against Eyal and Sirer's R(α, γ), %d nodes, T = %v, %v links (1 ms to %.0f%% of honest nodes):\n",
		rep.Nodes, rep.Spacing, rep.Latency, 100*o.FastLinks)
	fmt.Fprintf(w, "%6s %7s %8s %6s %7s %9s %9s %9s %10s  %s\n", "α", "blocks", "revenue", "races", "γ", "R(α,γ)", "R(α,0)", "R(α,1)", "threshold", "verdict")
	for _, r := range rep.Runs {
		verdict := "agrees"
		if !r.Agrees {
			verdict = "DIFFERS"
		}
		pays := "pays"
		if r.Revenue <= r.Alpha {
			pays = "does not pay"
		}
		fmt.Fprintf(w, "%6.2f %7d %8.3f %6d %7.2f %9.3f %9.3f %9.3f %10.3f  %s (±%.3f); %s\n", r.Alpha, r.Blocks, r.Revenue, r.Races, r.Gamma,
			r.Model, selfishRevenue(r.Alpha, 0), selfishRevenue(r.Alpha, 1), r.Threshold, verdict, r.Tolerance, pays)
	}
}
