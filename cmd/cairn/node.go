package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/electrum"
	"github.com/cairnchain/cairn/explorer"
	"github.com/cairnchain/cairn/mempool"
	"github.com/cairnchain/cairn/miner"
	"github.com/cairnchain/cairn/p2p"
	"github.com/cairnchain/cairn/rpc"
)

// nodeCommand is `cairn node`, the daemon.
func nodeCommand() *cli.Command {
	flags := append(commonFlags(), rpcClientFlags()...)
	flags = append(flags,
		&cli.StringSliceFlag{Name: "listen", Usage: "libp2p listen `MULTIADDR` (repeatable)", DefaultText: "all interfaces on the network's P2P port, TCP and QUIC", EnvVars: envVar("listen")},
		&cli.StringSliceFlag{Name: "peer", Usage: "peer `MULTIADDR` with /p2p/<peer id> to keep connected (repeatable)", EnvVars: envVar("peer")},
		&cli.BoolFlag{Name: "mdns", Usage: "find peers on the local network by mDNS", DefaultText: "on, except on main", EnvVars: envVar("mdns")},
		&cli.BoolFlag{Name: "dht", Usage: "find peers through the network's Kademlia DHT", DefaultText: "on for main and test", EnvVars: envVar("dht")},
		&cli.IntFlag{Name: "max-peers", Value: p2p.DefaultMaxPeers, Usage: "connection limit", EnvVars: envVar("max-peers")},
		&cli.StringFlag{Name: "block-relay", Value: "compact", Usage: "how this node announces blocks: compact (BIP152: header and short transaction IDs) or full (whole blocks), for comparing them", EnvVars: envVar("block-relay")},
		&cli.DurationFlag{Name: "clock-offset", Usage: "run the node's clock this `DURATION` ahead (negative: behind) of the system's, for testing", EnvVars: envVar("clock-offset")},
		&cli.BoolFlag{Name: "mine", Usage: "mine blocks on this node", EnvVars: envVar("mine")},
		&cli.StringFlag{Name: "miner-address", Usage: "`ADDRESS` mined coins are paid to", EnvVars: envVar("miner-address")},
		&cli.IntFlag{Name: "miner-threads", Usage: "mining threads", DefaultText: "all cores", EnvVars: envVar("miner-threads")},
		&cli.Float64Flag{Name: "mine-emulated", Usage: "research only, on fixed-difficulty chains: mine as a miner holding `SHARE` (0 to 1) of the network's hash rate, each block found after an exponential delay of mean spacing/SHARE instead of a proof-of-work search (restarted on every new tip); refused on main, test and ASERT chains",
			DefaultText: "off", EnvVars: envVar("mine-emulated")},
		&cli.StringFlag{Name: "strategy", Usage: "research only, with --mine-emulated: `STRATEGY` selfish withholds mined blocks and releases them to race the others' (Eyal and Sirer's selfish mining)",
			DefaultText: "honest", EnvVars: envVar("strategy")},
		&cli.DurationFlag{Name: "mine-interval", Usage: "on a fixed-difficulty chain, wait this `DURATION` after each new block before mining the next (0: mine at full speed)",
			DefaultText: fmt.Sprintf("%v on fixed-difficulty chains such as regtest", defaultMineInterval), EnvVars: envVar("mine-interval")},
		&cli.BoolFlag{Name: "txindex", Usage: "keep an index of every transaction by txid", EnvVars: envVar("txindex")},
		&cli.BoolFlag{Name: "fastprune", Hidden: true, Usage: "keep blocks in 64 KiB files, so that tests can prune a short chain (Core's -fastprune)", EnvVars: envVar("fastprune")},
		&cli.StringFlag{Name: "assumevalid", Usage: "skip the script checks of this block's ancestors on initial sync, when it is on a best header chain with the minimum chain work and they are two weeks of blocks below its tip (`HASH`; 0 checks every script)",
			DefaultText: "the network's assume_valid", EnvVars: envVar("assumevalid")},
		&cli.IntFlag{Name: "prune", Usage: "delete old blocks to save disk: 0 keeps everything, 1 prunes only when told (pruneblockchain), " +
			"N >= 550 keeps the block and undo files under N `MiB` by itself; never the last 288 blocks. Incompatible with --txindex; " +
			"turning it off again means downloading the whole chain again", EnvVars: envVar("prune")},
		&cli.BoolFlag{Name: "addrindex", Usage: "keep an index of every output script's history and unspent outputs (what Electrum wallets ask for)", EnvVars: envVar("addrindex")},
		&cli.BoolFlag{Name: "blockfilterindex", Value: true, Usage: "keep the BIP158 basic filter of every block for getblockfilter (--blockfilterindex=false turns it off)", EnvVars: envVar("blockfilterindex")},
		&cli.IntFlag{Name: "dbcache", Value: chain.DefaultCacheBytes >> 20, Usage: "UTXO cache size in `MiB`", EnvVars: envVar("dbcache")},
		&cli.IntFlag{Name: "maxtipage", Value: int(chain.DefaultMaxTipAge / time.Second), Usage: "how old the tip may be, in `SECONDS`, before the node counts as in initial block download and announces no block it connects (as Core's -maxtipage)", EnvVars: envVar("maxtipage")},
		&cli.IntFlag{Name: "maxmempool", Value: mempool.DefaultMaxPoolBytes / 1_000_000, Usage: "transaction pool size bound in `MB` (10^6 bytes, as Core's -maxmempool)", EnvVars: envVar("maxmempool")},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: envVar("log-level")},
		&cli.StringFlag{Name: "log-file", Usage: "also append the log to `FILE`", EnvVars: envVar("log-file")},
		&cli.StringFlag{Name: "electrum-addr", Usage: "serve the Electrum protocol (plain TCP) on `HOST[:PORT]` (a host alone takes the network's port, a port alone binds 127.0.0.1; turns on --addrindex)", DefaultText: "off", EnvVars: envVar("electrum-addr")},
		&cli.StringFlag{Name: "electrum-tls-addr", Usage: "serve the Electrum protocol over TLS on `HOST[:PORT]` (a self-signed certificate is made in the network folder unless --electrum-cert and --electrum-key name one)", DefaultText: "off", EnvVars: envVar("electrum-tls-addr")},
		&cli.StringFlag{Name: "electrum-cert", Usage: "PEM certificate `FILE` for --electrum-tls-addr", EnvVars: envVar("electrum-cert")},
		&cli.StringFlag{Name: "electrum-key", Usage: "PEM private key `FILE` of --electrum-cert", EnvVars: envVar("electrum-key")},
		&cli.StringFlag{Name: "http-addr", Usage: "serve the block explorer and Esplora's REST API (read-only) on `HOST[:PORT]` (a host alone takes the network's port, a port alone binds 127.0.0.1; turns on --addrindex, and --txindex unless pruning)", DefaultText: "off", EnvVars: envVar("http-addr")},
		&cli.StringFlag{Name: "metrics-addr", Usage: "serve Prometheus metrics on `HOST:PORT`", DefaultText: "off", EnvVars: envVar("metrics-addr")},
	)
	return &cli.Command{
		Name:      "node",
		Usage:     "run a full node",
		ArgsUsage: " ",
		Flags:     flags,
		Action:    runNode,
	}
}

// nodeConfig is everything `cairn node` was told, resolved and checked.
type nodeConfig struct {
	net         *chainparams.Network
	dir         string
	rpcAddr     string
	rpcUser     string
	rpcPassword string
	txIndex     bool
	filterIndex bool
	addrIndex   bool
	// prune and pruneTargetMiB are Core's -prune: on (1 or a target),
	// and the target (0: manual pruning only).
	prune          bool
	pruneTargetMiB int
	// assumeValid is --assumevalid: nil for the network's default.
	assumeValid *chainhash.Hash
	// fastPrune is the hidden --fastprune, for tests.
	fastPrune  bool
	dbCacheMiB int
	// maxTipAge is --maxtipage.
	maxTipAge    time.Duration
	maxMempoolMB int
	logLevel     slog.Level
	metricsAddr  string
	// electrumAddr and electrumTLSAddr are the Electrum server's
	// addresses ("" for off); electrumCert and electrumKey its TLS
	// certificate files ("" for the self-signed one).
	electrumAddr    string
	electrumTLSAddr string
	electrumCert    string
	electrumKey     string
	// httpAddr is the explorer's address ("" for off).
	httpAddr     string
	mine         bool
	minerScript  []byte
	minerThreads int
	listen       []string
	peers        []string
	mdns         bool
	dht          bool
	clockOffset  time.Duration
	maxPeers     int
	blockRelay   p2p.BlockRelay
	logFile      string
	// mineEmulated is --mine-emulated's share (0: a real search).
	mineEmulated float64
	// selfish is --strategy selfish.
	selfish bool
	// mineInterval paces --mine on fixed-difficulty chains.
	mineInterval time.Duration
}

// defaultMineInterval paces --mine on a fixed-difficulty chain: without a
// pause, regtest's trivial proof of work yields thousands of blocks a
// second, whose times run hours ahead of the clock.
const defaultMineInterval = 10 * time.Second

// parseNodeConfig applies the config file and checks every value, so that
// a mistake stops start-up with a message that names it.
func parseNodeConfig(c *cli.Context) (*nodeConfig, error) {
	if c.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (cairn node takes only flags)", c.Args().First())
	}
	net, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	cfg := &nodeConfig{
		net:          net,
		dir:          networkDir(c, net),
		rpcAddr:      rpcAddr(c, net),
		rpcUser:      c.String("rpc-user"),
		rpcPassword:  c.String("rpc-password"),
		txIndex:      c.Bool("txindex"),
		filterIndex:  c.Bool("blockfilterindex"),
		addrIndex:    c.Bool("addrindex"),
		dbCacheMiB:   c.Int("dbcache"),
		maxTipAge:    time.Duration(c.Int("maxtipage")) * time.Second,
		maxMempoolMB: c.Int("maxmempool"),
		metricsAddr:  c.String("metrics-addr"),
		mine:         c.Bool("mine"),
		minerThreads: c.Int("miner-threads"),
		listen:       c.StringSlice("listen"),
		peers:        c.StringSlice("peer"),
		mdns:         net.Name != "main",
		dht:          net.Name == "main" || net.Name == "test",
		clockOffset:  c.Duration("clock-offset"),
		maxPeers:     c.Int("max-peers"),
		logFile:      c.String("log-file"),
		fastPrune:    c.Bool("fastprune"),
	}
	if net.Consensus.NoRetargeting {
		cfg.mineInterval = defaultMineInterval
	}
	if c.IsSet("mine-interval") {
		if !net.Consensus.NoRetargeting {
			return nil, fmt.Errorf("--mine-interval: network %s adjusts its difficulty (ASERT), which paces its blocks; the flag is for fixed-difficulty chains", net.Name)
		}
		if cfg.mineInterval = c.Duration("mine-interval"); cfg.mineInterval < 0 {
			return nil, fmt.Errorf("--mine-interval %v: must not be negative", cfg.mineInterval)
		}
	}
	if c.IsSet("mine-emulated") {
		share := c.Float64("mine-emulated")
		switch {
		case net.Name == "main" || net.Name == "test" || !net.Consensus.NoRetargeting:
			return nil, fmt.Errorf("--mine-emulated: network %s adjusts its difficulty or is public; hash-rate emulation is for fixed-difficulty chains of experiments only", net.Name)
		case !(share > 0 && share <= 1):
			return nil, fmt.Errorf("--mine-emulated %v: the share must be above 0 and at most 1", share)
		case c.IsSet("mine-interval"):
			return nil, errors.New("--mine-emulated paces blocks itself; drop --mine-interval")
		}
		cfg.mine, cfg.mineEmulated, cfg.mineInterval = true, share, 0
	}
	switch st := c.String("strategy"); {
	case !c.IsSet("strategy") || st == "honest":
	case st != "selfish":
		return nil, fmt.Errorf("--strategy %q: want honest or selfish", st)
	case cfg.mineEmulated == 0:
		return nil, errors.New("--strategy selfish is for experiments on emulated hash rate: it needs --mine-emulated")
	default:
		cfg.selfish = true
	}
	switch r := c.String("block-relay"); r {
	case "compact":
		cfg.blockRelay = p2p.RelayCompact
	case "full":
		cfg.blockRelay = p2p.RelayFull
	default:
		return nil, fmt.Errorf("--block-relay %q: want compact or full", r)
	}
	if c.IsSet("mdns") {
		cfg.mdns = c.Bool("mdns")
	}
	if c.IsSet("dht") {
		cfg.dht = c.Bool("dht")
	}
	for _, addr := range cfg.peers {
		if err := p2p.CheckPeerAddr(addr); err != nil {
			return nil, fmt.Errorf("--peer: %w", err)
		}
	}
	if cfg.maxPeers < 1 {
		return nil, fmt.Errorf("--max-peers %d: want at least 1", cfg.maxPeers)
	}
	if len(cfg.listen) == 0 {
		cfg.listen = []string{
			fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", net.P2PPort),
			fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", net.P2PPort),
		}
	}
	switch p := c.Int("prune"); {
	case p < 0:
		return nil, fmt.Errorf("--prune %d: must not be negative", p)
	case p == 1:
		cfg.prune = true
	case p > 1 && p < chain.MinPruneTarget>>20:
		return nil, fmt.Errorf("--prune %d: below the minimum of %d MiB (or 1 to prune only by pruneblockchain)", p, chain.MinPruneTarget>>20)
	case p > 1:
		cfg.prune, cfg.pruneTargetMiB = true, p
	}
	if v := c.String("assumevalid"); c.IsSet("assumevalid") {
		cfg.assumeValid = &chainhash.Hash{}
		if v != "0" {
			h, err := chainhash.NewHashFromStr(v)
			if err != nil || len(v) != 2*chainhash.HashSize {
				return nil, fmt.Errorf("--assumevalid %q: want a block hash of 64 hex digits, or 0 to check every script", v)
			}
			cfg.assumeValid = h
		}
	}
	if cfg.electrumAddr, err = serviceAddr(c.String("electrum-addr"), net.ElectrumPort, "--electrum-addr"); err != nil {
		return nil, err
	}
	if cfg.electrumTLSAddr, err = serviceAddr(c.String("electrum-tls-addr"), net.ElectrumTLSPort, "--electrum-tls-addr"); err != nil {
		return nil, err
	}
	if cfg.httpAddr, err = serviceAddr(c.String("http-addr"), net.HTTPPort, "--http-addr"); err != nil {
		return nil, err
	}
	cfg.electrumCert, cfg.electrumKey = c.String("electrum-cert"), c.String("electrum-key")
	if (cfg.electrumCert == "") != (cfg.electrumKey == "") {
		return nil, errors.New("--electrum-cert and --electrum-key go together")
	}
	if cfg.electrumCert != "" && cfg.electrumTLSAddr == "" {
		return nil, errors.New("--electrum-cert is for --electrum-tls-addr, which is not set")
	}
	if cfg.electrumAddr != "" || cfg.electrumTLSAddr != "" {
		// The server answers from the address index.
		cfg.addrIndex = true
	}
	if cfg.httpAddr != "" {
		// The explorer answers addresses from the address index and
		// transactions from the transaction index (which pruning rules
		// out: a pruned node's explorer finds the pool's transactions and
		// those of the addresses' histories).
		cfg.addrIndex = true
		if !cfg.prune && !c.IsSet("txindex") {
			cfg.txIndex = true
		}
	}
	if cfg.prune && cfg.txIndex {
		return nil, errors.New("--prune is incompatible with --txindex (the index points into blocks pruning deletes)")
	}
	if cfg.dbCacheMiB < 4 {
		return nil, fmt.Errorf("--dbcache %d: want at least 4 MiB", cfg.dbCacheMiB)
	}
	if cfg.maxTipAge <= 0 {
		return nil, fmt.Errorf("--maxtipage %d: want a number of seconds above 0", c.Int("maxtipage"))
	}
	if cfg.maxMempoolMB < 5 {
		return nil, fmt.Errorf("--maxmempool %d: want at least 5 MB", cfg.maxMempoolMB)
	}
	if (cfg.rpcUser == "") != (cfg.rpcPassword == "") {
		return nil, errors.New("--rpc-user and --rpc-password go together (or leave both out to use the cookie file)")
	}
	if err := cfg.logLevel.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	if cfg.minerThreads < 0 {
		return nil, fmt.Errorf("--miner-threads %d: must not be negative", cfg.minerThreads)
	}
	if cfg.minerThreads == 0 {
		cfg.minerThreads = runtime.NumCPU()
	}
	if addr := c.String("miner-address"); addr != "" || cfg.mine {
		script, err := addressScript(addr, net)
		if err != nil {
			return nil, fmt.Errorf("--miner-address: %w", err)
		}
		cfg.minerScript = script
	}
	return cfg, nil
}

// addressScript decodes an address of net into its output script.
func addressScript(addr string, net *chainparams.Network) ([]byte, error) {
	if addr == "" {
		return nil, errors.New("an address to pay mined coins to is required with --mine")
	}
	return net.AddressScript(addr)
}

// newLogger returns a text logger on w at level.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// runNode runs the daemon until SIGINT, SIGTERM or the stop call.
func runNode(c *cli.Context) (err error) {
	cfg, err := parseNodeConfig(c)
	if err != nil {
		return err
	}
	logOut := c.App.ErrWriter
	if cfg.logFile != "" {
		f, err := os.OpenFile(cfg.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("--log-file: %w", err)
		}
		defer f.Close()
		logOut = io.MultiWriter(c.App.ErrWriter, f)
	}
	log := newLogger(logOut, cfg.logLevel)

	lock, err := lockDataDir(cfg.dir)
	if err != nil {
		return err
	}
	defer lock.release()

	start := time.Now()
	log.Info("opening chain", "network", cfg.net.Name, "datadir", cfg.dir, "dbcache_mib", cfg.dbCacheMiB,
		"txindex", cfg.txIndex, "blockfilterindex", cfg.filterIndex, "addrindex", cfg.addrIndex, "prune", cfg.prune, "prune_target_mib", cfg.pruneTargetMiB)
	now := time.Now
	if cfg.clockOffset != 0 {
		log.Warn("the node's clock is offset from the system's", "offset", cfg.clockOffset)
		now = func() time.Time { return time.Now().Add(cfg.clockOffset) }
	}
	bc, err := chain.New(chain.Config{
		Now:              now,
		Dir:              filepath.Join(cfg.dir, "chain"),
		BlocksDir:        filepath.Join(cfg.dir, "blocks"),
		Network:          cfg.net,
		CacheBytes:       int64(cfg.dbCacheMiB) << 20,
		MaxTipAge:        cfg.maxTipAge,
		TxIndex:          cfg.txIndex,
		BlockFilterIndex: cfg.filterIndex,
		AddrIndex:        cfg.addrIndex,
		Prune:            cfg.prune,
		PruneTarget:      int64(cfg.pruneTargetMiB) << 20,
		AssumeValid:      cfg.assumeValid,
		FastPrune:        cfg.fastPrune,
		Logger:           log.With("pkg", "chain"),
	})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := bc.Close(); cerr != nil {
			log.Error("closing chain", "err", cerr)
			err = errors.Join(err, fmt.Errorf("closing chain: %w", cerr))
			return
		}
		log.Info("chain state written; node stopped")
	}()

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	metrics := newNodeMetrics(bc)
	// Every transaction the pool takes (from RPC, peers, or returned by a
	// reorganization) is announced to the peers; the network starts after
	// the pool, hence the indirection.
	var network atomic.Pointer[p2p.Node]
	pool := mempool.New(mempool.Config{Chain: bc, Now: now, MaxPoolBytes: int64(cfg.maxMempoolMB) * 1_000_000,
		OnAccepted: func(accepted []*mempool.TxDesc) {
			if pn := network.Load(); pn != nil {
				for _, d := range accepted {
					pn.AnnounceTxs(d.WTxID)
				}
			}
		},
		Logger: log.With("pkg", "mempool")})
	poolFile := filepath.Join(cfg.dir, "mempool.dat")
	if n, err := pool.Load(poolFile); err != nil {
		log.Warn("saved mempool not fully restored", "err", err, "restored", n)
	} else if n > 0 {
		log.Info("mempool restored", "transactions", n)
	}
	defer func() {
		if serr := pool.Save(poolFile); serr != nil {
			log.Error("saving mempool", "err", serr)
			err = errors.Join(err, serr)
			return
		}
		log.Info("mempool saved", "transactions", pool.Count())
	}()
	metrics.registerPool(pool)
	pcfg := p2p.Config{Chain: bc, Mempool: pool, Dir: cfg.dir, Listen: cfg.listen,
		Peers: cfg.peers, MDNS: cfg.mdns, DHT: cfg.dht, MaxPeers: cfg.maxPeers, BlockRelay: cfg.blockRelay, Logger: log.With("pkg", "p2p")}
	var selfish *miner.Selfish
	if cfg.selfish {
		selfish = &miner.Selfish{Chain: bc, Logger: log.With("pkg", "miner")}
		pcfg.Gate = selfish
		log.Warn("selfish mining: this node withholds the blocks it mines (research only)")
	}
	pn, err := p2p.New(ctx, pcfg)
	if err != nil {
		return err
	}
	if selfish != nil {
		selfish.SetAnnounce(func(h chainhash.Hash) {
			if err := pn.Announce(ctx, h); err != nil {
				log.Warn("selfish: release", "hash", h, "err", err)
			}
		})
	}
	defer pn.Close()
	network.Store(pn)
	metrics.registerP2P(pn)
	gen := &generator{Generator: &miner.Generator{Chain: bc, Txs: miner.PoolSource{Pool: pool}, Now: now}, txs: miner.PoolSource{Pool: pool}}
	var m *miner.Miner
	var mining rpc.MiningStats
	if cfg.mine {
		m = &miner.Miner{Chain: bc, Txs: miner.PoolSource{Pool: pool}, PayTo: cfg.minerScript, Threads: cfg.minerThreads,
			Interval: cfg.mineInterval, Emulated: cfg.mineEmulated, Now: now, Logger: log.With("pkg", "miner")}
		if selfish != nil {
			m.Mined = selfish.Mined
		}
		mining = m
	}
	srv, err := rpc.New(rpc.Config{
		Addr:       cfg.rpcAddr,
		User:       cfg.rpcUser,
		Password:   cfg.rpcPassword,
		CookiePath: filepath.Join(cfg.dir, ".cookie"),
		Chain:      bc,
		Generator:  gen,
		Mining:     mining,
		Mempool:    pool,
		Network:    p2pNetwork{pn},
		// sendrawtransaction of a pooled transaction announces it again
		// to peers that do not know it.
		OnTransaction: func(tx *wire.MsgTx) {
			pn.AnnounceTxs(tx.WitnessHash())
		},
		Stop:      stop,
		StartTime: start,
		Observe:   metrics.observeRPC,
		Logger:    log.With("pkg", "rpc"),
	})
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}

	esrv, err := startElectrum(cfg, bc, pool, pn, log)
	if err != nil {
		return err
	}

	var xsrv *explorer.Server
	if cfg.httpAddr != "" {
		xsrv, err = explorer.New(explorer.Config{Addr: cfg.httpAddr, Chain: bc, Mempool: pool, Peers: explorerPeers{pn},
			OnTransaction: func(tx *wire.MsgTx) { pn.AnnounceTxs(tx.WitnessHash()) },
			Logger:        log.With("pkg", "explorer")})
		if err != nil {
			return err
		}
		if err := xsrv.Listen(); err != nil {
			return err
		}
		log.Info("explorer listening", "addr", xsrv.Addr().String())
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Run(gctx) })
	if esrv != nil {
		g.Go(func() error { return esrv.Run(gctx) })
	}
	if xsrv != nil {
		g.Go(func() error { return xsrv.Run(gctx) })
	}
	if cfg.metricsAddr != "" {
		g.Go(func() error { return serveMetrics(gctx, cfg.metricsAddr, metrics.reg) })
	}
	g.Go(func() error { return watchChain(gctx, bc, metrics, log) })
	g.Go(func() error { return pool.Run(gctx) })
	g.Go(func() error { return pn.Run(gctx) })
	if m != nil {
		g.Go(func() error { return m.Run(gctx) })
	}
	best := bc.BestSnapshot()
	log.Info("node running", "network", cfg.net.Name, "height", best.Height, "tip", best.Hash,
		"rpc", srv.Addr().String(), "p2p", strings.Join(pn.Addrs(), " "), "mining", cfg.mine)
	err = g.Wait()
	log.Info("shutting down")
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// startElectrum opens the Electrum server's ports when asked for, or
// returns nil.
func startElectrum(cfg *nodeConfig, bc *chain.BlockChain, pool *mempool.TxPool, pn *p2p.Node, log *slog.Logger) (*electrum.Server, error) {
	if cfg.electrumAddr == "" && cfg.electrumTLSAddr == "" {
		return nil, nil
	}
	ecfg := electrum.Config{Chain: bc, Mempool: pool, Version: "Cairn " + version,
		OnTransaction: func(tx *wire.MsgTx) { pn.AnnounceTxs(tx.WitnessHash()) },
		Logger:        log.With("pkg", "electrum")}
	if cfg.electrumAddr != "" {
		ecfg.Listen = []string{cfg.electrumAddr}
	}
	if cfg.electrumTLSAddr != "" {
		cert, err := electrum.LoadCertificate(cfg.dir, cfg.electrumCert, cfg.electrumKey)
		if err != nil {
			return nil, err
		}
		ecfg.TLSListen = []string{cfg.electrumTLSAddr}
		ecfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	esrv, err := electrum.New(ecfg)
	if err != nil {
		return nil, err
	}
	if err := esrv.Listen(); err != nil {
		return nil, err
	}
	var addrs []string
	for _, a := range esrv.Addrs() {
		addrs = append(addrs, a.String())
	}
	log.Info("electrum server listening", "addrs", strings.Join(addrs, " "))
	return esrv, nil
}

// watchChain feeds block metrics and logs progress lines while the node
// catches up with the headers it knows: height, blocks per second, ETA.
func watchChain(ctx context.Context, bc *chain.BlockChain, m *nodeMetrics, log *slog.Logger) error {
	sub := bc.Subscribe()
	defer sub.Close()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	lastHeight, lastTime := bc.BestSnapshot().Height, time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-sub.C():
			if !ok {
				return nil
			}
			if n.Type == chain.BlockConnected {
				m.blockConnect.Observe(n.ConnectTime.Seconds())
			}
		case now := <-tick.C:
			best, headers := bc.BestSnapshot(), bc.HeaderCount()
			rate := float64(best.Height-lastHeight) / now.Sub(lastTime).Seconds()
			lastHeight, lastTime = best.Height, now
			if headers <= best.Height {
				continue
			}
			eta := "unknown"
			if rate > 0 {
				eta = (time.Duration(float64(headers-best.Height)/rate) * time.Second).String()
			}
			log.Info("catching up", "height", best.Height, "headers", headers,
				"blocks_per_sec", fmt.Sprintf("%.1f", rate), "eta", eta)
		}
	}
}
