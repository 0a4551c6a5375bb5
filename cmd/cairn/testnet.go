package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairnchain/cairn/testnet"
)

// testnetCommand is `cairn testnet`.
func testnetCommand() *cli.Command {
	dir := func() cli.Flag {
		return &cli.StringFlag{Name: "dir", Value: "./localnet", Usage: "the testnet's `DIR`", EnvVars: envVar("testnet-dir")}
	}
	return &cli.Command{
		Name:  "testnet",
		Usage: "run a local network of cairn nodes: mine, split it, heal it",
		Subcommands: []*cli.Command{
			{Name: "up", Usage: "start a fresh local network", Flags: []cli.Flag{dir(),
				&cli.IntFlag{Name: "nodes", Value: 3, Usage: "number of nodes"},
				&cli.IntFlag{Name: "miners", Value: 2, Usage: "how many of them mine"},
				&cli.DurationFlag{Name: "spacing", Value: 5 * time.Second, Usage: "target block spacing"},
				&cli.BoolFlag{Name: "detach", Usage: "return once every node answers, leaving them running"},
				&cli.BoolFlag{Name: "force", Usage: "replace a stopped testnet's folder even if wallets in it hold coins"},
				&cli.BoolFlag{Name: "emulated", Usage: "a fixed-difficulty chain whose miners emulate equal shares of the hash rate (node --mine-emulated): blocks at --spacing whatever the machine, and many nodes on few cores"},
				&cli.StringFlag{Name: "hosts", Value: testnet.HostsLoopback, Usage: "`MODE`: loopback (every node on 127.0.0.1) or netns (every node a host of its own, in a network namespace, its links shaped; needs root)"},
				&cli.StringFlag{Name: "topology", Value: "mesh", Usage: "who peers with whom: mesh, line, ring, star, random:K (K random outbound peers each), or a topology `FILE` (JSON; it then gives the nodes)"},
				&cli.DurationFlag{Name: "latency", Usage: "one-way delay of every link (netns)"},
				&cli.DurationFlag{Name: "jitter", Usage: "spread of each packet's delay, uniform over latency +/- jitter (netns)"},
				&cli.StringFlag{Name: "loss", Usage: "share of packets each link drops, such as 0.5% (netns)"},
				&cli.StringFlag{Name: "bandwidth", Usage: "every node's uplink, such as 20mbit (netns)"},
				dashboardAddrFlag(),
			}, Action: testnetUp},
			{Name: "shaper", Hidden: true, Usage: "shape a --hosts netns testnet's links (started by up)", Flags: []cli.Flag{dir()}, Action: testnetShaper},
			{Name: "dashboard", Usage: "serve the live dashboard of a running testnet in a browser (127.0.0.1 only)",
				Flags: []cli.Flag{dir(), dashboardAddrFlag(),
					&cli.BoolFlag{Name: "open", Usage: "open it in the desktop's browser (xdg-open)"}},
				Action: testnetDashboard},
			{Name: "status", Usage: "one line per node", Flags: []cli.Flag{dir(), &cli.BoolFlag{Name: "json", Usage: "print JSON"}}, Action: testnetStatus},
			{Name: "partition", Usage: "cut the network into groups (e.g. 0 1,2)", ArgsUsage: "GROUP GROUP...", Flags: []cli.Flag{dir()}, Action: testnetPartition},
			{Name: "heal", Usage: "join the groups again", Flags: []cli.Flag{dir()}, Action: testnetHeal},
			{Name: "kill", Usage: "kill -9 a node", ArgsUsage: "NODE", Flags: []cli.Flag{dir()}, Action: testnetKill},
			{Name: "restart", Usage: "start a killed node again", ArgsUsage: "NODE", Flags: []cli.Flag{dir()}, Action: testnetRestart},
			{Name: "down", Usage: "stop every node", Flags: []cli.Flag{dir()}, Action: testnetDown},
			{Name: "scenario", Usage: "run a narrated scenario on the testnet (partition, double-spend, clock-skew, crash), or a measuring one on testnets of its own under --dir (stale-rate, propagation, selfish-mining)",
				ArgsUsage: "NAME", Flags: []cli.Flag{dir(),
					&cli.BoolFlag{Name: "json", Usage: "print a measuring scenario's report as JSON on the last line"},
					&cli.IntFlag{Name: "nodes", Usage: "nodes of each measuring run (10)"},
					&cli.DurationFlag{Name: "spacing", Usage: "block spacing T of each measuring run (stale-rate: 2s)"},
					&cli.IntFlag{Name: "blocks", Usage: "blocks of each measuring run (stale-rate: 1000)"},
					&cli.StringFlag{Name: "latency", Usage: "one-way link latencies to run at, comma-separated (stale-rate: 10ms,50ms; propagation: 50ms,200ms)"},
					&cli.StringFlag{Name: "bandwidth", Usage: "uplinks to run at, comma-separated (propagation: 20mbit,100mbit)"},
					&cli.IntFlag{Name: "txs", Usage: "transactions in the propagation block (5235, about 1 MB)"},
					&cli.StringFlag{Name: "alpha", Usage: "the selfish miner's hash-rate shares, comma-separated (selfish-mining: 0.25,0.33,0.40)"},
					&cli.Float64Flag{Name: "fast-links", Value: 0.5, Usage: "share of honest nodes the selfish miner reaches over 1 ms links, which sets its connectivity gamma (selfish-mining)"},
					&cli.DurationFlag{Name: "jitter", Usage: "jitter of every link in measuring runs"},
					&cli.StringFlag{Name: "loss", Usage: "packet loss of every link in measuring runs, such as 0.5%"},
					&cli.StringFlag{Name: "topology", Usage: "topology of measuring runs (mesh, line, ring, star, random:K or a `FILE`)"},
				}, Action: testnetScenario},
			{Name: "soak", Usage: "send transactions while partitioning, healing and crashing nodes; then check none was lost and the nodes agree",
				Flags: []cli.Flag{dir(),
					&cli.DurationFlag{Name: "duration", Value: soakDefaults.Duration, Usage: "how long the load runs"},
					&cli.Float64Flag{Name: "rate", Value: soakDefaults.Rate, Usage: "transactions per second offered"},
					&cli.DurationFlag{Name: "partition-every", Value: soakDefaults.PartitionEvery, Usage: "split the network in two once in every `PERIOD` (0: never)"},
					&cli.DurationFlag{Name: "partition-for", Value: soakDefaults.PartitionFor, Usage: "how long each partition lasts"},
					&cli.BoolFlag{Name: "kill", Value: soakDefaults.Kill, Usage: "kill -9 the last node once and restart it"},
					&cli.DurationFlag{Name: "kill-for", Value: soakDefaults.KillFor, Usage: "how long the killed node stays down"},
					&cli.DurationFlag{Name: "settle", Value: soakDefaults.Settle, Usage: "how long to wait, after the load, for every transaction to confirm"},
					&cli.IntFlag{Name: "coins", Value: soakDefaults.Coins, Usage: "outputs the load starts with"},
					&cli.BoolFlag{Name: "json", Usage: "print the figures as JSON on the last line"},
				}, Action: testnetSoak},
		},
	}
}

// defaultDashboardAddr is where the dashboard listens unless told: a fixed
// port, so that a bookmark keeps working; a free one when it is taken.
const defaultDashboardAddr = "127.0.0.1:7390"

func dashboardAddrFlag() cli.Flag {
	return &cli.StringFlag{Name: "dashboard-addr", Value: defaultDashboardAddr,
		Usage: "where the dashboard listens (`HOST:PORT`, loopback only; when 7390 is taken, a free port)"}
}

// startDashboard serves the dashboard of the testnet in dir until ctx
// ends, and returns its URL once it listens.
func startDashboard(ctx context.Context, c *cli.Context, dir, exe string) (string, <-chan error, error) {
	addr := c.String("dashboard-addr")
	if err := testnet.CheckLoopback(addr); err != nil {
		return "", nil, err
	}
	if addr == defaultDashboardAddr {
		if ln, err := net.Listen("tcp", addr); err != nil {
			addr = "127.0.0.1:0"
		} else {
			ln.Close()
		}
	}
	d, err := testnet.NewDashboard(dir, exe, nil)
	if err != nil {
		return "", nil, err
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- d.Serve(ctx, addr, func(a net.Addr) { ready <- "http://" + a.String() + "/" })
	}()
	select {
	case url := <-ready:
		return url, done, nil
	case err := <-done:
		return "", nil, err
	}
}

func testnetDashboard(c *cli.Context) error {
	s, err := loadTestnet(c)
	if err != nil {
		return err
	}
	exe, err := selfBinary()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	url, done, err := startDashboard(ctx, c, s.Dir, exe)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "dashboard of %s: %s (Ctrl-C stops it; the nodes keep running)\n", s.Dir, url)
	if c.Bool("open") {
		if err := exec.Command("xdg-open", url).Start(); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "cannot open a browser (%v): open %s yourself\n", err, url)
		}
	}
	return <-done
}

// soakDefaults are the soak's flag defaults: the long run of make soak.
var soakDefaults = testnet.DefaultSoakOptions()

// selfBinary is the cairn executable nodes are started with.
func selfBinary() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("testnet: cannot find the cairn binary: %w", err)
	}
	return exe, nil
}

func loadTestnet(c *cli.Context) (*testnet.State, error) {
	exe, err := selfBinary()
	if err != nil {
		return nil, err
	}
	return testnet.Load(c.String("dir"), exe)
}

func testnetUp(c *cli.Context) error {
	exe, err := selfBinary()
	if err != nil {
		return err
	}
	// Output piped to a reader that quits (| head) must not kill up
	// half way, leaving some nodes started and the rest not.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := testnet.UpOptions{Dir: c.String("dir"), Nodes: c.Int("nodes"), Miners: c.Int("miners"),
		Spacing: c.Duration("spacing"), Binary: exe, Log: c.App.Writer, Force: c.Bool("force"), Emulated: c.Bool("emulated"),
		Hosts: c.String("hosts"), Topology: c.String("topology")}
	if err := upLinks(c, &o); err != nil {
		return err
	}
	s, err := testnet.Up(ctx, o)
	if err != nil {
		if s != nil {
			_ = s.Down()
		}
		return err
	}
	if c.Bool("detach") {
		fmt.Fprintf(c.App.Writer, "testnet up in %s; cairn testnet status --dir %s; cairn testnet down --dir %s\n",
			c.String("dir"), c.String("dir"), c.String("dir"))
		return nil
	}
	url, _, err := startDashboard(ctx, c, s.Dir, exe)
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "no dashboard: %v\n", err)
		url = "off"
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		// Other shells may kill, restart or partition nodes: read the
		// state again each time, and before stopping everything.
		if fresh, err := testnet.Load(s.Dir, exe); err == nil {
			s = fresh
		}
		fmt.Fprint(c.App.Writer, "\033[H\033[2J") // home, clear
		fmt.Fprintf(c.App.Writer, "cairn testnet in %s (%d nodes, %v blocks) - Ctrl-C stops it\ndashboard: %s\n\n",
			s.Dir, len(s.Nodes), s.Spacing, url)
		printStatus(c.App.Writer, s.Status())
		select {
		case <-ctx.Done():
			fmt.Fprintln(c.App.Writer, "\nstopping every node ...")
			if fresh, err := testnet.Load(s.Dir, exe); err == nil {
				s = fresh
			}
			return s.Down()
		case <-tick.C:
		}
	}
}

// upLinks reads up's link flags into o.
func upLinks(c *cli.Context, o *testnet.UpOptions) error {
	o.Links.Latency, o.Links.Jitter = testnet.Duration(c.Duration("latency")), testnet.Duration(c.Duration("jitter"))
	if v := c.String("loss"); v != "" {
		loss, err := testnet.ParsePercent(v)
		if err != nil {
			return fmt.Errorf("--loss: %w", err)
		}
		o.Links.Loss = loss
	}
	if v := c.String("bandwidth"); v != "" {
		rate, err := testnet.ParseRate(v)
		if err != nil {
			return fmt.Errorf("--bandwidth: %w", err)
		}
		o.Links.Bandwidth = rate
	}
	if o.Hosts == testnet.HostsNetns {
		if err := testnet.CheckNetns(); err != nil {
			// Say so before anything starts, and what works instead.
			return err
		}
	}
	if strings.ContainsAny(o.Topology, "/.") && c.IsSet("nodes") {
		return errors.New("--nodes: a topology file gives the nodes; leave --nodes out")
	}
	return nil
}

// testnetShaper is the hidden `cairn testnet shaper`, which up starts in
// --hosts netns.
func testnetShaper(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := filepath.Abs(c.String("dir"))
	if err != nil {
		return err
	}
	return testnet.RunShaper(ctx, dir, c.App.ErrWriter)
}

// printStatus writes the status table.
func printStatus(w io.Writer, st []testnet.NodeStatus) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "node\theight\ttip\tpeers\tmempool\thash rate\tlast block\tmining\trpc\telectrum\texplorer")
	for _, n := range st {
		if n.Error != "" {
			state := "down"
			if n.Running {
				state = "not answering"
			}
			fmt.Fprintf(tw, "%s\t-\t%s\t\t\t\t\t%v\t%s\t%s\t%s\n", n.Name, state, n.Mining, n.RPC, n.Electrum, n.Explorer)
			continue
		}
		tip := n.BestBlockHash
		if len(tip) > 16 {
			tip = tip[:16] + ".."
		}
		rate := "-"
		if n.HashRate > 0 {
			rate = fmt.Sprintf("%.1f MH/s", n.HashRate/1e6)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\t%v ago\t%v\t%s\t%s\t%s\n", n.Name, n.Height, tip, n.Peers, n.Mempool, rate,
			n.LastBlockAge, n.Mining, n.RPC, n.Electrum, n.Explorer)
	}
	tw.Flush()
}

func testnetStatus(c *cli.Context) error {
	s, err := loadTestnet(c)
	if err != nil {
		return err
	}
	st := s.Status()
	if c.Bool("json") {
		out, _ := json.MarshalIndent(st, "", "  ")
		_, err := fmt.Fprintln(c.App.Writer, string(out))
		return err
	}
	printStatus(c.App.Writer, st)
	return nil
}

func testnetPartition(c *cli.Context) error {
	s, err := loadTestnet(c)
	if err != nil {
		return err
	}
	groups, err := s.ParseGroups(c.Args().Slice())
	if err != nil {
		return err
	}
	if err := s.Partition(groups); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "partitioned into %v\n", groups)
	return nil
}

func testnetHeal(c *cli.Context) error {
	s, err := loadTestnet(c)
	if err != nil {
		return err
	}
	if err := s.Heal(); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, "healed")
	return nil
}

// oneNode resolves the NODE argument.
func oneNode(c *cli.Context) (*testnet.State, *testnet.Node, error) {
	if c.NArg() != 1 {
		return nil, nil, errors.New("want NODE (an index, or node0 ...)")
	}
	s, err := loadTestnet(c)
	if err != nil {
		return nil, nil, err
	}
	n, err := s.Node(c.Args().First())
	return s, n, err
}

func testnetKill(c *cli.Context) error {
	s, n, err := oneNode(c)
	if err != nil {
		return err
	}
	if err := s.Kill(n); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s killed\n", n.Name)
	return nil
}

func testnetRestart(c *cli.Context) error {
	s, n, err := oneNode(c)
	if err != nil {
		return err
	}
	if err := s.Restart(c.Context, n); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s restarted\n", n.Name)
	return nil
}

func testnetDown(c *cli.Context) error {
	s, err := loadTestnet(c)
	if err != nil {
		return err
	}
	if err := s.Down(); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, "every node stopped")
	return nil
}

func testnetScenario(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("want a scenario NAME: " + strings.Join(testnet.Scenarios(), ", "))
	}
	if testnet.IsMeasure(c.Args().First()) {
		return testnetMeasure(c)
	}
	s, err := loadTestnet(c)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The narration also goes to the testnet's scenario log, which the
	// dashboard shows on its timeline.
	w := c.App.Writer
	if f, err := os.Create(filepath.Join(s.Dir, testnet.ScenarioLog)); err == nil {
		defer f.Close()
		w = io.MultiWriter(c.App.Writer, f)
	}
	return testnet.RunScenario(ctx, s, c.Args().First(), w)
}

func testnetSoak(c *cli.Context) error {
	s, err := loadTestnet(c)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := testnet.SoakOptions{Duration: c.Duration("duration"), Rate: c.Float64("rate"),
		PartitionEvery: c.Duration("partition-every"), PartitionFor: c.Duration("partition-for"),
		Kill: c.Bool("kill"), KillFor: c.Duration("kill-for"), Settle: c.Duration("settle"), Coins: c.Int("coins")}
	if o.PartitionEvery > 0 && (o.PartitionFor <= 0 || o.PartitionFor >= o.PartitionEvery/2) {
		return errors.New("--partition-for must be positive and under half of --partition-every")
	}
	rep, err := testnet.Soak(ctx, s, o, c.App.Writer)
	if rep != nil && c.Bool("json") {
		raw, _ := json.Marshal(rep)
		fmt.Fprintln(c.App.Writer, string(raw))
	}
	if err != nil {
		return err
	}
	if f := rep.Failures(); len(f) > 0 {
		return errors.New("soak failed: " + strings.Join(f, "; "))
	}
	return nil
}

// testnetMeasure runs a measuring scenario, which starts (and always takes
// down) --hosts netns testnets of its own in folders under --dir.
func testnetMeasure(c *cli.Context) error {
	exe, err := selfBinary()
	if err != nil {
		return err
	}
	if err := testnet.CheckNetns(); err != nil {
		return fmt.Errorf("scenario %s runs its own --hosts netns testnets: %w", c.Args().First(), err)
	}
	dir, err := filepath.Abs(c.String("dir"))
	if err != nil {
		return err
	}
	o := testnet.MeasureOptions{Dir: dir, Binary: exe, Nodes: c.Int("nodes"), Spacing: c.Duration("spacing"),
		Blocks: c.Int("blocks"), Txs: c.Int("txs"), Topology: c.String("topology"), FastLinks: c.Float64("fast-links"), Log: c.App.Writer}
	if v := c.String("alpha"); v != "" {
		for _, f := range strings.Split(v, ",") {
			a, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return fmt.Errorf("--alpha %q: want shares such as 0.25,0.33", v)
			}
			o.Alphas = append(o.Alphas, a)
		}
	}
	o.Links.Jitter = testnet.Duration(c.Duration("jitter"))
	if v := c.String("loss"); v != "" {
		if o.Links.Loss, err = testnet.ParsePercent(v); err != nil {
			return fmt.Errorf("--loss: %w", err)
		}
	}
	if v := c.String("latency"); v != "" {
		for _, f := range strings.Split(v, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(f))
			if err != nil || d < 0 {
				return fmt.Errorf("--latency %q: want durations such as 10ms,50ms", v)
			}
			o.Latencies = append(o.Latencies, d)
		}
	}
	if v := c.String("bandwidth"); v != "" {
		for _, f := range strings.Split(v, ",") {
			r, err := testnet.ParseRate(f)
			if err != nil {
				return fmt.Errorf("--bandwidth: %w", err)
			}
			o.Bandwidths = append(o.Bandwidths, r)
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := testnet.RunMeasure(ctx, c.Args().First(), o)
	if rep != nil && c.Bool("json") {
		raw, _ := json.Marshal(rep)
		fmt.Fprintln(c.App.Writer, string(raw))
	}
	return err
}
