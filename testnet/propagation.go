package testnet

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// propagation: a block of N transactions, found by a random node, reaches
// the others after each link's latency and, where the whole block must
// travel, after its bytes pass the senders' uplinks. Compact blocks
// (BIP152) send the header and 6-byte short IDs of transactions the
// receivers already hold, so the block's size barely counts. The scenario
// fills every node's pool with the same N transactions, has one node mine
// them, and times the block's arrival at every node, for each relay mode,
// latency and uplink bandwidth.
//
// The model is a lower bound no measurement may beat: no node has the
// block sooner than one latency after its finder, and a whole block no
// sooner than one latency plus its bytes over the finder's uplink. The
// verdict also expects compact relay to be faster than whole blocks
// wherever the block's bytes take longer to send than a latency.

// PropagationRun is one block's propagation.
type PropagationRun struct {
	Relay     string        `json:"relay"`
	Latency   time.Duration `json:"latency_ns"`
	Bandwidth Rate          `json:"bandwidth"`
	Txs       int           `json:"txs"`
	Bytes     int           `json:"block_bytes"`
	// P50, P90 and P100 are when half, nine tenths and all of the nodes
	// (the finder among them, at 0) had the block as their tip.
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P100 time.Duration `json:"p100_ns"`
	// Bound is the model's lower bound for the first other node.
	Bound time.Duration `json:"bound_ns"`
	First time.Duration `json:"first_ns"`
}

// PropagationReport is propagation's report.
type PropagationReport struct {
	Nodes   int              `json:"nodes"`
	Runs    []PropagationRun `json:"runs"`
	Verdict []string         `json:"failures,omitempty"`
}

func propagationDefaults(o MeasureOptions) MeasureOptions {
	if o.Nodes == 0 {
		o.Nodes = 10
	}
	if o.Txs == 0 {
		// About 1 MB of one-input, one-output P2WPKH transactions.
		o.Txs = 1_000_000 / spendBytes
	}
	if len(o.Latencies) == 0 {
		o.Latencies = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond}
	}
	if len(o.Bandwidths) == 0 {
		o.Bandwidths = []Rate{20e6, 100e6}
	}
	if o.Spacing == 0 {
		o.Spacing = 10 * time.Second
	}
	return o
}

// fanOutputs is how many outputs one fan-out transaction makes: under
// the standard weight limit of 400,000 (124 weight units an output).
const fanOutputs = 2400

// Propagation runs the propagation scenario on one testnet of o.Nodes
// nodes (none mining: the scenario mines each block where it chooses).
func Propagation(ctx context.Context, o MeasureOptions) (*PropagationReport, error) {
	o = propagationDefaults(o)
	rep := &PropagationReport{Nodes: o.Nodes}
	type cond struct {
		relay string
		lat   time.Duration
		bw    Rate
	}
	var conds []cond
	for _, relay := range []string{"compact", "full"} {
		for _, lat := range o.Latencies {
			for _, bw := range o.Bandwidths {
				conds = append(conds, cond{relay, lat, bw})
			}
		}
	}
	up := UpOptions{Nodes: o.Nodes, Spacing: o.Spacing, Emulated: true, Topology: o.Topology, Links: o.Links}
	err := withNetwork(ctx, o, "propagation", up, func(s *State) error {
		f, err := newCoinFactory(s.net)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Log, "propagation: %d nodes; funding %d blocks of %d transactions ...\n", o.Nodes, len(conds), o.Txs)
		coins, err := s.fund(ctx, f, len(conds)*o.Txs)
		if err != nil {
			return err
		}
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		tw := s.watchTips(wctx)
		rnd := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 1))
		relay := "compact"
		for k, c := range conds {
			if c.relay != relay {
				fmt.Fprintf(o.Log, "  restarting every node with --block-relay %s ...\n", c.relay)
				if err := s.setRelay(ctx, c.relay); err != nil {
					return err
				}
				relay = c.relay
			}
			links := o.Links
			links.Latency, links.Bandwidth = Duration(c.lat), c.bw
			if err := s.Shape(links); err != nil {
				return err
			}
			run, err := s.propagateOnce(ctx, tw, f, coins[k*o.Txs:(k+1)*o.Txs], s.Nodes[rnd.IntN(len(s.Nodes))])
			if err != nil {
				return err
			}
			run.Relay, run.Latency, run.Bandwidth = c.relay, c.lat, c.bw
			run.Bound = c.lat
			if c.relay == "full" {
				run.Bound += time.Duration(float64(run.Bytes*8) / float64(c.bw) * float64(time.Second))
			}
			fmt.Fprintf(o.Log, "  %-7s %6v %8v: %d bytes; 50%% %v, 90%% %v, all %v (bound %v)\n", c.relay, c.lat, c.bw, run.Bytes,
				run.P50.Round(time.Millisecond), run.P90.Round(time.Millisecond), run.P100.Round(time.Millisecond), run.Bound.Round(time.Millisecond))
			rep.Runs = append(rep.Runs, *run)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	rep.Verdict = propagationVerdict(rep.Runs)
	printPropagation(o, rep)
	if len(rep.Verdict) > 0 {
		return rep, errors.New("testnet: propagation differs from the model: " + rep.Verdict[0])
	}
	return rep, nil
}

// fund mines coins to the factory on node0 and fans them out into n
// confirmed coins.
func (s *State) fund(ctx context.Context, f *coinFactory, n int) ([]coin, error) {
	fans := (n + fanOutputs - 1) / fanOutputs
	var hashes []string
	if err := s.CallContext(ctx, s.Nodes[0], &hashes, "generatetoaddress", fans+maturity, f.addr); err != nil {
		return nil, err
	}
	var coins []coin
	for _, h := range hashes[:fans] {
		cb, err := s.coinbaseCoin(s.Nodes[0], h)
		if err != nil {
			return nil, err
		}
		tx, out, err := f.fanOut(cb, fanOutputs, 100_000)
		if err != nil {
			return nil, err
		}
		if err := s.CallContext(ctx, s.Nodes[0], nil, "sendrawtransaction", txHex(tx)); err != nil {
			return nil, fmt.Errorf("testnet: fan-out: %w", err)
		}
		coins = append(coins, out...)
	}
	// The fan-outs weigh 300,000 units each: a block holds about a dozen.
	for try := 0; ; try++ {
		var pool struct {
			Size int `json:"size"`
		}
		if err := s.CallContext(ctx, s.Nodes[0], &pool, "getmempoolinfo"); err != nil {
			return nil, err
		}
		if pool.Size == 0 {
			break
		}
		if try == fans {
			return nil, fmt.Errorf("testnet: %d fan-out transactions still unconfirmed", pool.Size)
		}
		var more []string
		if err := s.CallContext(ctx, s.Nodes[0], &more, "generatetoaddress", 1, f.addr); err != nil {
			return nil, err
		}
	}
	var top int32
	if err := s.CallContext(ctx, s.Nodes[0], &top, "getblockcount"); err != nil {
		return nil, err
	}
	if _, _, err := s.WaitAgreement(ctx, top, 2*time.Minute); err != nil {
		return nil, err
	}
	return coins[:n], nil
}

// setRelay restarts every node with --block-relay relay and waits until
// each is back with its peers.
func (s *State) setRelay(ctx context.Context, relay string) error {
	for _, n := range s.Nodes {
		args := slices.Clone(n.Args)
		if i := slices.Index(args, "--block-relay"); i >= 0 {
			args = slices.Delete(args, i, i+2)
		}
		if err := s.restartWith(ctx, n, append(args, "--block-relay", relay)); err != nil {
			return err
		}
	}
	return s.waitPeers(ctx, 2*time.Minute)
}

// waitPeers waits until every node has as many peers as the topology
// gives it.
func (s *State) waitPeers(ctx context.Context, d time.Duration) error {
	want := make([]int, len(s.Nodes))
	for _, e := range s.edges() {
		want[e.From]++
		want[e.To]++
	}
	deadline := time.Now().Add(d)
	for {
		short := ""
		for i, n := range s.Nodes {
			var peers int
			if err := s.CallContext(ctx, n, &peers, "getconnectioncount"); err != nil || peers < want[i] {
				short = fmt.Sprintf("%s has %d of %d peers", n.Name, peers, want[i])
				break
			}
		}
		if short == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("testnet: " + short)
		}
		if err := sleepCtx(ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
}

// propagateOnce puts one transaction per coin in every node's pool, has
// origin mine them into one block and times its arrival everywhere.
func (s *State) propagateOnce(ctx context.Context, tw *tipWatch, f *coinFactory, coins []coin, origin *Node) (*PropagationRun, error) {
	// Spread the transactions over the nodes, as wallets everywhere
	// would, four senders at a time.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(coins); i += 4 {
				tx, err := f.spend(coins[i], 1000)
				if err == nil {
					err = s.CallContext(ctx, s.Nodes[i%len(s.Nodes)], nil, "sendrawtransaction", txHex(tx))
				}
				if err != nil {
					errs <- fmt.Errorf("testnet: sendrawtransaction: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	// Every pool holds every transaction before the block is found.
	deadline := time.Now().Add(3 * time.Minute)
	for i := 0; i < len(s.Nodes); {
		var pool struct {
			Size int `json:"size"`
		}
		if err := s.CallContext(ctx, s.Nodes[i], &pool, "getmempoolinfo"); err != nil {
			return nil, err
		}
		if pool.Size >= len(coins) {
			i++
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("testnet: %s's pool holds %d of %d transactions after 3 minutes", s.Nodes[i].Name, pool.Size, len(coins))
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	// The pools agree, but announcing thousands of transactions to every
	// peer keeps the nodes busy a while longer: on a machine shared by all
	// of them, a block found now would measure the CPU, not the network.
	if err := s.waitQuiet(ctx, 0.3*float64(runtime.NumCPU()), 3*time.Minute); err != nil {
		return nil, err
	}
	var hashes []string
	if err := s.CallContext(ctx, origin, &hashes, "generatetoaddress", 1, f.addr); err != nil || len(hashes) != 1 {
		return nil, fmt.Errorf("testnet: %s mines: %v", origin.Name, err)
	}
	hash := hashes[0]
	var blk struct {
		Size   int `json:"size"`
		NTx    int `json:"nTx"`
		Height int `json:"height"`
	}
	if err := s.CallContext(ctx, origin, &blk, "getblock", hash, 1); err != nil {
		return nil, err
	}
	if blk.NTx < len(coins)+1 {
		return nil, fmt.Errorf("testnet: the block holds %d transactions, not the %d of the pools", blk.NTx-1, len(coins))
	}
	deadline = time.Now().Add(3 * time.Minute)
	for len(tw.delays(hash)) < len(s.Nodes)-1 {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("testnet: block %s reached %d of %d nodes in 3 minutes", hash, len(tw.delays(hash))+1, len(s.Nodes))
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	// The finder at 0, then the others in order of arrival.
	arr := append([]time.Duration{0}, tw.delays(hash)...)
	sort.Slice(arr, func(i, j int) bool { return arr[i] < arr[j] })
	at := func(q float64) time.Duration {
		k := int(q*float64(len(arr))+0.999999) - 1
		return arr[max(k, 0)]
	}
	return &PropagationRun{Txs: blk.NTx - 1, Bytes: blk.Size, P50: at(0.5), P90: at(0.9), P100: arr[len(arr)-1], First: arr[1]}, nil
}

// waitQuiet waits until the nodes together use less than cores of CPU
// over a second (their utime and stime in /proc), or until d passes.
func (s *State) waitQuiet(ctx context.Context, cores float64, d time.Duration) error {
	busy := func() float64 {
		var ticks float64
		for _, n := range s.Nodes {
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.PID))
			if err != nil {
				continue
			}
			// Fields after "(comm)": state is the first, utime and
			// stime the 12th and 13th.
			f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
			if len(f) > 12 {
				u, _ := strconv.ParseFloat(f[11], 64)
				st, _ := strconv.ParseFloat(f[12], 64)
				ticks += u + st
			}
		}
		return ticks / clockTicks
	}
	deadline := time.Now().Add(d)
	last := busy()
	for time.Now().Before(deadline) {
		if err := sleepCtx(ctx, time.Second); err != nil {
			return err
		}
		now := busy()
		if now-last < cores {
			return nil
		}
		last = now
	}
	return nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc's CPU times.
const clockTicks = 100

// propagationVerdict lists what contradicts the model.
func propagationVerdict(runs []PropagationRun) []string {
	var bad []string
	for _, r := range runs {
		// A little under the bound for the clocks: the finder's event
		// and the others' are read by one observer, not on the wire.
		if r.First < r.Bound*9/10 {
			bad = append(bad, fmt.Sprintf("%s at %v, %v: the first node had the block after %v, under the bound of %v",
				r.Relay, r.Latency, r.Bandwidth, r.First, r.Bound))
		}
	}
	for _, c := range runs {
		if c.Relay != "compact" {
			continue
		}
		for _, f := range runs {
			send := time.Duration(float64(f.Bytes*8) / float64(f.Bandwidth) * float64(time.Second))
			if f.Relay == "full" && f.Latency == c.Latency && f.Bandwidth == c.Bandwidth && send > c.Latency && c.P90 >= f.P90 {
				bad = append(bad, fmt.Sprintf("at %v, %v compact blocks (90%% at %v) were no faster than whole ones (%v)",
					c.Latency, c.Bandwidth, c.P90, f.P90))
			}
		}
	}
	return bad
}

func printPropagation(o MeasureOptions, rep *PropagationReport) {
	w := o.Log
	fmt.Fprintf(w, "\nblock propagation, %d nodes (%s topology), a block of %d transactions:\n", rep.Nodes, topologyName(o.Topology), o.Txs)
	fmt.Fprintf(w, "%-8s %8s %9s %9s %9s %9s %9s %12s\n", "relay", "latency", "uplink", "bytes", "50%", "90%", "100%", "bound")
	for _, r := range rep.Runs {
		fmt.Fprintf(w, "%-8s %8v %9v %9d %9s %9s %9s %12s\n", r.Relay, r.Latency, r.Bandwidth, r.Bytes, ms(r.P50), ms(r.P90), ms(r.P100), ms(r.Bound))
	}
	if len(rep.Verdict) == 0 {
		fmt.Fprintln(w, "verdict: agrees: no node beat the bound, and compact blocks were faster wherever sending the block takes longer than a latency")
		return
	}
	for _, v := range rep.Verdict {
		fmt.Fprintln(w, "verdict: DIFFERS:", v)
	}
}

func topologyName(t string) string {
	if t == "" {
		return "mesh"
	}
	return t
}
