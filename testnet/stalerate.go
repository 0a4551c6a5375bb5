package testnet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// stale-rate: blocks found at spacing T over links of propagation delay τ
// fork whenever a second miner finds one before it hears of the first.
// With hash spread over many miners, the chance that a block is stale is
// about 1 − e^(−τ/T) (the chance another block is found within τ:
// Decker and Wattenhofer, "Information Propagation in the Bitcoin
// Network", 2013; Gervais et al., CCS 2016, section 3). The scenario runs
// K blocks per latency and measures both sides: the share of blocks mined
// that the final best chain left out, and τ, the mean delay from the
// first node having a block as its tip to each other node having it.

// GervaisRow is one chain's figures in Gervais et al., "On the Security
// and Performance of Proof of Work Blockchains" (CCS 2016), Table 1:
// block interval, median block propagation time and stale block rate.
type GervaisRow struct {
	Chain     string        `json:"chain"`
	Interval  time.Duration `json:"interval_ns"`
	Propagate time.Duration `json:"propagation_ns"`
	Stale     float64       `json:"stale_rate"`
}

// Ratio is the row's τ/T.
func (g GervaisRow) Ratio() float64 { return float64(g.Propagate) / float64(g.Interval) }

// Gervais is Table 1's rows (Ethereum's interval given as 10–20 s and its
// propagation as 0.5–0.75 s: the middle of each).
var Gervais = []GervaisRow{
	{"Bitcoin", 10 * time.Minute, 8700 * time.Millisecond, 0.0041},
	{"Litecoin", 150 * time.Second, 1020 * time.Millisecond, 0.00273},
	{"Dogecoin", time.Minute, 850 * time.Millisecond, 0.00619},
	{"Ethereum", 15 * time.Second, 625 * time.Millisecond, 0.068},
}

// staleModel is the model's stale rate at τ/T = ratio.
func staleModel(ratio float64) float64 { return 1 - math.Exp(-ratio) }

// StaleRun is one run of stale-rate.
type StaleRun struct {
	Nodes   int           `json:"nodes"`
	Latency time.Duration `json:"latency_ns"`
	Spacing time.Duration `json:"spacing_ns"`
	// Mined is every block found at the run's heights; Stale those the
	// final best chain left out.
	Mined int     `json:"mined"`
	Stale int     `json:"stale"`
	Rate  float64 `json:"stale_rate"`
	// Sigma is the binomial standard error of Rate.
	Sigma float64 `json:"stale_rate_sigma"`
	// Tau is the mean propagation delay measured; TauP50 and TauP90 its
	// median and 90th percentile; Samples how many (block, node) pairs.
	Tau     time.Duration `json:"tau_ns"`
	TauP50  time.Duration `json:"tau_p50_ns"`
	TauP90  time.Duration `json:"tau_p90_ns"`
	Samples int           `json:"tau_samples"`
	Ratio   float64       `json:"tau_over_t"`
	Model   float64       `json:"model_rate"`
	// Nearest is the Gervais et al. chain whose τ/T is closest.
	Nearest GervaisRow `json:"nearest_gervais"`
	// Agrees is the verdict: |Rate − Model| within Tolerance.
	Tolerance float64 `json:"tolerance"`
	Agrees    bool    `json:"agrees"`
}

// StaleReport is stale-rate's report.
type StaleReport struct {
	Runs    []StaleRun   `json:"runs"`
	Gervais []GervaisRow `json:"gervais"`
}

// staleTolerance is how far a measured rate may stand from the model and
// still agree: three binomial standard errors of a rate of model over
// mined blocks (the spread the model itself predicts), plus a quarter of
// the model's rate, for what the model leaves out (τ varies from block to
// block and node to node, and a fork can outlive one block).
func staleTolerance(model float64, mined int) float64 {
	return 3*math.Sqrt(model*(1-model)/float64(mined)) + 0.25*model
}

// StaleRate runs the stale-rate scenario: for each latency, a testnet of
// o.Nodes miners of equal shares mines o.Blocks blocks at spacing o.Spacing.
func StaleRate(ctx context.Context, o MeasureOptions) (*StaleReport, error) {
	o = o.withDefaults(1000, 10*time.Millisecond, 50*time.Millisecond)
	rep := &StaleReport{Gervais: Gervais}
	for _, lat := range o.Latencies {
		run, err := staleRun(ctx, o, lat)
		if err != nil {
			return rep, err
		}
		rep.Runs = append(rep.Runs, *run)
	}
	printStale(o, rep)
	for _, r := range rep.Runs {
		if !r.Agrees {
			return rep, fmt.Errorf("testnet: stale rate %.2f%% at %v is outside %.2f%% ± %.2f%% of the model",
				100*r.Rate, r.Latency, 100*r.Model, 100*r.Tolerance)
		}
	}
	return rep, nil
}

// staleMargin is how far below the final tip a run stops counting: blocks
// that high may still be racing.
const staleMargin = 6

// mineRun lets the testnet's miners find o.Blocks blocks, from the height
// the nodes (all but skip, if not -1) first agree on (h0), and returns the
// heights to count: above h0, and at most h1, staleMargin below where they
// agree at the end.
func (s *State) mineRun(ctx context.Context, o MeasureOptions, skip int) (h0, h1 int32, err error) {
	if _, h0, err = s.waitHeight(ctx, 2, time.Minute+20*o.Spacing, skip, nil); err != nil {
		return 0, 0, err
	}
	target := h0 + int32(o.Blocks) + staleMargin
	last := time.Now()
	_, h1, err = s.waitHeight(ctx, target, 3*time.Duration(o.Blocks+staleMargin)*o.Spacing+2*time.Minute, skip, func(h int32) {
		if time.Since(last) > 30*time.Second {
			fmt.Fprintf(o.Log, "  height %d of %d\n", h, target)
			last = time.Now()
		}
	})
	return h0, h1 - staleMargin, err
}

func staleRun(ctx context.Context, o MeasureOptions, lat time.Duration) (*StaleRun, error) {
	run := &StaleRun{Nodes: o.Nodes, Latency: lat, Spacing: o.Spacing}
	links := o.Links
	links.Latency = Duration(lat)
	up := UpOptions{Nodes: o.Nodes, Miners: o.Nodes, Spacing: o.Spacing, Emulated: true, Links: links, Topology: o.Topology}
	name := fmt.Sprintf("stale-rate-%v", lat)
	err := withNetwork(ctx, o, name, up, func(s *State) error {
		fmt.Fprintf(o.Log, "stale-rate: %d nodes mining at T = %v over %v links: %d blocks ...\n", o.Nodes, o.Spacing, lat, o.Blocks)
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		tw := s.watchTips(wctx)
		h0, h1, err := s.mineRun(ctx, o, -1)
		if err != nil {
			return err
		}
		tree, err := s.blockTree(h0, h1)
		if err != nil {
			return err
		}
		run.Mined = len(tree)
		run.Stale = run.Mined - int(h1-h0)
		var all []time.Duration
		for h := h0 + 1; h <= h1; h++ {
			var hash string
			if err := s.Call(s.Nodes[0], &hash, "getblockhash", h); err != nil {
				return err
			}
			all = append(all, tw.delays(hash)...)
		}
		if len(all) == 0 {
			return errors.New("testnet: no propagation measured (no tip events)")
		}
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		var sum time.Duration
		for _, d := range all {
			sum += d
		}
		run.Samples = len(all)
		run.Tau, run.TauP50, run.TauP90 = sum/time.Duration(len(all)), percentile(all, 0.5), percentile(all, 0.9)
		return nil
	})
	if err != nil {
		return nil, err
	}
	run.Rate = float64(run.Stale) / float64(run.Mined)
	run.Sigma = math.Sqrt(run.Rate * (1 - run.Rate) / float64(run.Mined))
	run.Ratio = float64(run.Tau) / float64(run.Spacing)
	run.Model = staleModel(run.Ratio)
	run.Tolerance = staleTolerance(run.Model, run.Mined)
	run.Agrees = math.Abs(run.Rate-run.Model) <= run.Tolerance
	run.Nearest = Gervais[0]
	for _, g := range Gervais {
		if math.Abs(math.Log(g.Ratio()/run.Ratio)) < math.Abs(math.Log(run.Nearest.Ratio()/run.Ratio)) {
			run.Nearest = g
		}
	}
	fmt.Fprintf(o.Log, "  %d of %d blocks stale (%.2f%%); τ = %v (median %v, 90%% %v), τ/T = %.4f, model %.2f%%\n",
		run.Stale, run.Mined, 100*run.Rate, run.Tau.Round(time.Millisecond), run.TauP50.Round(time.Millisecond),
		run.TauP90.Round(time.Millisecond), run.Ratio, 100*run.Model)
	return run, nil
}

// printStale prints the runs beside the model and Gervais et al.
func printStale(o MeasureOptions, rep *StaleReport) {
	w := o.Log
	fmt.Fprintf(w, "\nstale rate against 1 − e^(−τ/T), T = %v, %d nodes of equal hash rate:\n", o.Spacing, o.Nodes)
	fmt.Fprintf(w, "%-9s %8s %8s %8s %10s %13s %10s  %s\n", "latency", "τ", "τ/T", "mined", "stale", "model", "tolerance", "verdict")
	for _, r := range rep.Runs {
		verdict := "agrees"
		if !r.Agrees {
			verdict = "DIFFERS"
		}
		fmt.Fprintf(w, "%-9v %8s %8.4f %8d %9.2f%% %12.2f%% %9.2f%%  %s\n", r.Latency, ms(r.Tau), r.Ratio, r.Mined,
			100*r.Rate, 100*r.Model, 100*r.Tolerance, verdict)
	}
	fmt.Fprintf(w, "\nbeside Gervais et al. (CCS 2016, Table 1), nearest τ/T:\n")
	fmt.Fprintf(w, "%-9s %-9s %8s %12s %13s %10s\n", "latency", "chain", "τ/T", "their stale", "their model", "ours")
	for _, r := range rep.Runs {
		g := r.Nearest
		fmt.Fprintf(w, "%-9v %-9s %8.4f %11.3f%% %12.2f%% %9.2f%%\n", r.Latency, g.Chain, g.Ratio(), 100*g.Stale,
			100*staleModel(g.Ratio()), 100*r.Rate)
	}
}
