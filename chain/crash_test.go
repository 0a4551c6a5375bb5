package chain

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
)

// The crash test: TestCrashRecovery starts this test binary again as a child
// process running TestCrashChild, which builds and processes blocks on a
// chain in a shared directory until it is killed with SIGKILL at a random
// moment; the parent then reopens the chain and checks that what survived is
// consistent. The child tells the parent what it did over a pipe (file
// descriptor 3), one line per event:
//
//	start <height> <hash>               the chain opened (recovery done)
//	block <hash> <height> <main> <flushed> <spends>
//	                                    ProcessBlock accepted the block
//	reorg <depth>                       a heavier side branch is coming
//	invalidate <hash> / reconsider <hash>
var crashIterations = flag.Int("crash.iterations", 0,
	"kill/restart cycles of TestCrashRecovery; 0 means $"+crashIterationsEnv+" or 25")

const (
	// crashChildEnv carries a crashChildConfig (JSON) to the child; the
	// child test skips when it is unset.
	crashChildEnv      = "CAIRN_CRASH_CHILD"
	crashIterationsEnv = "CAIRN_CRASH_ITERATIONS"
	// crashSeedEnv repeats a run's choices (kill delays, child seeds); the
	// moments of the kills still depend on the machine.
	crashSeedEnv = "CAIRN_CRASH_SEED"

	defaultCrashIterations = 25
	// crashPremine is the number of blocks mined before the first child,
	// so that the children have mature coinbases to spend at once.
	crashPremine = 110
	// crashStartTimeout bounds how long a child may take to report its
	// start.
	crashStartTimeout = 90 * time.Second
	// crashChildLifetime bounds a child that nobody kills (its parent
	// died without a trace); it exits with an error.
	crashChildLifetime = 2 * time.Minute
	// crashMinCoin is the smallest output the child spends.
	crashMinCoin = 100
)

// Child cache modes.
const (
	// crashModeTiny gives the child a UTXO cache of at most 2 KiB, so that
	// it flushes (with eviction) after every block or every few blocks.
	crashModeTiny = "tiny"
	// crashModeLarge gives it a cache of 64 MiB that never fills: only the
	// flush interval, 20-220 ms, writes it out (without eviction).
	crashModeLarge = "large"
)

// crashChildConfig is what the parent passes to a child.
type crashChildConfig struct {
	Dir  string
	Seed uint64
	Mode string
}

// crashNow is the children's clock: so far ahead that no generated block is
// ever too new.
func crashNow() time.Time { return time.Unix(1<<40, 0) }

// crashNetwork is regtest with a subsidy that does not halve within the
// test's reach (thousands of blocks), so that the children always have
// outputs worth spending. The genesis block is regtest's.
func crashNetwork() *chainparams.Network {
	net := chainparams.Regtest()
	net.Consensus.SubsidyHalvingInterval = 1 << 30
	return net
}

// crashConfig is the chain configuration of the crash test's database; the
// child changes the cache settings.
func crashConfig(dir string) Config {
	return Config{Dir: dir, Network: crashNetwork(), TxIndex: true, BlockFilterIndex: true, AddrIndex: true, Now: crashNow}
}

// TestCrashRecovery ensures that a node killed at any instant while it
// connects, disconnects, reorganizes, invalidates and reconsiders blocks, with
// a UTXO cache flushed after nearly every block or in large batches, restarts
// consistent: the tip is on the best valid chain, the UTXO set equals the one
// recomputed from the main chain's blocks, the transaction index maps every
// main-chain transaction to its block and position and no transaction to a
// block off the main chain, the block filter index holds every main-chain
// block's filter and chained header, and every block the child was told was
// accepted is still stored.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the child's report pipe needs exec.Cmd.ExtraFiles, which Windows lacks")
	}
	iterations := crashIterationCount(t)
	seed := crashSeed(t)
	t.Logf("seed %d (%s=%d repeats the choices), %d iterations", seed, crashSeedEnv, seed, iterations)
	rng := rand.New(rand.NewPCG(seed, 0x63726173685f7465))

	dir := t.TempDir()
	crashPremineChain(t, crashConfig(dir))
	start := time.Now()

	checker := newCrashChecker(t, rng.Uint64())
	var totals crashReport
	flushKills := 0
	height := int32(crashPremine)
	for i, attempts := 0, 0; i < iterations; i++ {
		if attempts++; attempts > 2*iterations {
			t.Fatalf("only %d of %d children reported their start", i, attempts-1)
		}
		mode := crashModeTiny
		if i%2 == 1 {
			mode = crashModeLarge
		}
		delay := time.Duration(50+rng.IntN(551)) * time.Millisecond
		cfg := crashChildConfig{Dir: dir, Seed: rng.Uint64(), Mode: mode}
		rep := runCrashChild(t, cfg, delay)
		if rep.flushed > 0 {
			flushKills++
		}
		totals.add(rep)

		c, err := New(crashConfig(dir))
		if err != nil {
			t.Fatalf("iteration %d: reopen after kill: %v", i, err)
		}
		checker.check(c, rep, i == iterations-1)
		height = c.BestSnapshot().Height
		t.Logf("iteration %d: mode %s, killed after %v: child started %v at height %d, accepted %d blocks "+
			"(%d connected, %d flushed, %d spends, %d reorgs, %d invalidations); recovered height %d",
			i, mode, delay, rep.started, rep.startHeight, len(rep.stored), rep.connected, rep.flushed,
			rep.spends, rep.reorgs, rep.invalidations, height)
		if err := c.Close(); err != nil {
			t.Fatalf("iteration %d: close: %v", i, err)
		}
		if !rep.started {
			i-- // killed before it opened the chain: the round does not count
		}
	}
	t.Logf("%d iterations in %v: %d blocks accepted, %d connected, %d spending transactions, %d reorgs, "+
		"%d invalidations; %d kills after a flush; height %d -> %d",
		iterations, time.Since(start).Round(time.Millisecond), len(totals.stored), totals.connected,
		totals.spends, totals.reorgs, totals.invalidations, flushKills, crashPremine, height)
	if height <= crashPremine || totals.connected == 0 {
		t.Fatalf("the children made no progress: height %d after %d kills (premined %d)",
			height, iterations, crashPremine)
	}
	if flushKills == 0 {
		t.Fatalf("no child was killed after a flush: the test never crashed a node with flushed state")
	}
}

// crashSeed returns $CAIRN_CRASH_SEED, or a new seed.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	v := os.Getenv(crashSeedEnv)
	if v == "" {
		return uint64(time.Now().UnixNano())
	}
	seed, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", crashSeedEnv, v, err)
	}
	return seed
}

// crashIterationCount returns the number of kill/restart cycles: the
// -crash.iterations flag, else $CAIRN_CRASH_ITERATIONS, else the default
// (fewer with -short).
func crashIterationCount(t *testing.T) int {
	t.Helper()
	if *crashIterations > 0 {
		return *crashIterations
	}
	if v := os.Getenv(crashIterationsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number", crashIterationsEnv, v)
		}
		return n
	}
	if testing.Short() {
		return 10
	}
	return defaultCrashIterations
}

// crashPremineChain mines crashPremine coinbase-only blocks into the chain
// of cfg.
func crashPremineChain(t *testing.T, cfg Config) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("create chain: %v", err)
	}
	g := chaintest.New(c.Network())
	for i := 0; i < crashPremine; i++ {
		b := g.NextBlock(fmt.Sprintf("p%d", i), nil, nil)
		if _, err := c.ProcessBlock(b); err != nil {
			t.Fatalf("premine block %d: %v", i, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close chain: %v", err)
	}
}

// crashReport is what a child reported before it was killed.
type crashReport struct {
	started       bool
	startHeight   int32
	stored        []chainhash.Hash
	connected     int
	flushed       int
	spends        int
	reorgs        int
	invalidations int
	bad           []string
}

// parse records one report line; bad keeps those that do not parse. Lines
// are written with one write each, shorter than PIPE_BUF, so that the kill
// cannot cut one short.
func (r *crashReport) parse(line string) {
	f := strings.Fields(line)
	ok := false
	switch {
	case len(f) == 3 && f[0] == "start":
		h, err := strconv.ParseInt(f[1], 10, 32)
		ok = err == nil
		r.started, r.startHeight = ok, int32(h)
	case len(f) == 6 && f[0] == "block":
		hash, err := chainhash.NewHashFromStr(f[1])
		spends, err2 := strconv.Atoi(f[5])
		if ok = err == nil && err2 == nil; ok {
			r.stored = append(r.stored, *hash)
			r.spends += spends
			if f[3] == "1" {
				r.connected++
			}
			if f[4] == "1" {
				r.flushed++
			}
		}
	case len(f) == 2 && f[0] == "reorg":
		r.reorgs++
		ok = true
	case len(f) == 2 && f[0] == "invalidate":
		r.invalidations++
		ok = true
	case len(f) == 2 && f[0] == "reconsider":
		ok = true
	}
	if !ok {
		r.bad = append(r.bad, line)
	}
}

// add sums the counters of o into r.
func (r *crashReport) add(o *crashReport) {
	r.stored = append(r.stored, o.stored...)
	r.connected += o.connected
	r.flushed += o.flushed
	r.spends += o.spends
	r.reorgs += o.reorgs
	r.invalidations += o.invalidations
}

// runCrashChild starts a child on cfg, kills it with SIGKILL after delay and
// returns what it reported. It fails the test if the child ended on its own,
// or reported a data race or a panic.
func runCrashChild(t *testing.T, cfg crashChildConfig, delay time.Duration) *crashReport {
	t.Helper()
	env, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+string(env))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("start child: %v", err)
	}
	w.Close()

	rep := new(crashReport)
	read := make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			was := rep.started
			rep.parse(sc.Text())
			if rep.started && !was {
				close(started)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// The delay counts from the child's own "start" line, not from the
	// process start: under -race on a loaded machine, starting the test
	// binary and opening the chain can take longer than any delay, and a
	// child killed before it opened its chain tests nothing. One that
	// never reports is killed and reported as not started.
	select {
	case err := <-exited:
		<-read
		t.Fatalf("child (%+v) ended before it was killed: %v\n%s", cfg, err, out.String())
	case <-started:
		select {
		case err := <-exited:
			<-read
			t.Fatalf("child (%+v) ended before it was killed: %v\n%s", cfg, err, out.String())
		case <-time.After(delay):
		}
	case <-time.After(crashStartTimeout):
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill child: %v", err)
	}
	<-exited
	<-read
	if cmd.ProcessState.Exited() {
		t.Fatalf("child (%+v) ended before it was killed: %v\n%s", cfg, cmd.ProcessState, out.String())
	}
	if o := out.String(); strings.Contains(o, "DATA RACE") || strings.Contains(o, "panic") || strings.Contains(o, "FAIL") {
		t.Fatalf("child (%+v) failed:\n%s", cfg, o)
	}
	if len(rep.bad) > 0 {
		t.Fatalf("child (%+v) wrote unreadable report lines %q", cfg, rep.bad)
	}
	return rep
}

// crashChecker checks a chain reopened after its writer was killed, in two
// steps. First through the API, as recovered: the UTXO set recomputed from
// all main-chain blocks must equal ForEachUtxo, and point lookups
// (FetchUtxoEntry, FetchTransaction) must agree for every block from a
// little below the lowest height whose main-chain block changed since the
// last check, for a random sample of the older ones, and for side blocks not
// seen before; the last check looks up everything. Then, after a Flush, in
// the database itself: the stored tip, the UTXO records and every
// transaction index record.
type crashChecker struct {
	t   *testing.T
	rng *rand.Rand
	// blocks caches the blocks read, by hash.
	blocks map[chainhash.Hash]*wire.MsgBlock
	// main is the main chain of the last check, by height.
	main []chainhash.Hash
	// sideSeen holds the side blocks checked through the API before.
	sideSeen map[chainhash.Hash]bool
}

// Margin and sample size of crashChecker's partial checks.
const (
	crashCheckMargin  = 8
	crashCheckSamples = 64
)

func newCrashChecker(t *testing.T, seed uint64) *crashChecker {
	return &crashChecker{
		t:        t,
		rng:      rand.New(rand.NewPCG(seed, 2)),
		blocks:   make(map[chainhash.Hash]*wire.MsgBlock),
		sideSeen: make(map[chainhash.Hash]bool),
	}
}

// block returns a stored block, from the cache if it was read before.
func (k *crashChecker) block(c *BlockChain, hash chainhash.Hash) *wire.MsgBlock {
	k.t.Helper()
	if b, ok := k.blocks[hash]; ok {
		return b
	}
	b, err := c.BlockByHash(hash)
	if err != nil {
		k.t.Fatalf("block %v: %v", hash, err)
	}
	if got := b.BlockHash(); got != hash {
		k.t.Fatalf("block %v: stored data hashes to %v", hash, got)
	}
	k.blocks[hash] = b
	return b
}

// check checks c, and that it stores the blocks rep says the child had
// accepted; full looks up everything.
func (k *crashChecker) check(c *BlockChain, rep *crashReport, full bool) {
	t := k.t
	t.Helper()
	tip := checkCrashTip(t, c)

	main := make([]chainhash.Hash, tip.Height+1)
	changed := int32(len(k.main))
	for h := int32(0); h <= tip.Height; h++ {
		hash, err := c.BlockHashByHeight(h)
		if err != nil {
			t.Fatalf("main chain at height %d: %v", h, err)
		}
		main[h] = hash
		if h < changed && k.main[h] != hash {
			changed = h
		}
	}
	k.main = main
	from := max(1, changed-crashCheckMargin)
	if full {
		from = 1
	}

	// Recompute the UTXO set; look up the transactions and outputs of
	// the recent blocks and of a sample of the others.
	want := make(map[wire.OutPoint]utxo.Entry)
	var spent, created []wire.OutPoint
	txs := 0
	for h := int32(1); h <= tip.Height; h++ {
		b := k.block(c, main[h])
		lookup := h >= from || k.rng.IntN(int(tip.Height)) < crashCheckSamples
		for i, tx := range b.Transactions {
			txs++
			txid := tx.TxHash()
			if lookup {
				checkCrashTx(t, c, tx, main[h], h, i)
			}
			if i > 0 {
				for _, in := range tx.TxIn {
					if _, ok := want[in.PreviousOutPoint]; !ok {
						t.Fatalf("block %v at height %d spends %v, which is not unspent", main[h], h, in.PreviousOutPoint)
					}
					delete(want, in.PreviousOutPoint)
					if lookup {
						spent = append(spent, in.PreviousOutPoint)
					}
				}
			}
			for o, out := range tx.TxOut {
				if utxo.IsUnspendable(out.PkScript) {
					continue
				}
				op := wire.OutPoint{Hash: txid, Index: uint32(o)}
				want[op] = utxo.Entry{Amount: out.Value, PkScript: out.PkScript, Height: h, IsCoinBase: i == 0}
				if lookup {
					created = append(created, op)
				}
			}
		}
	}
	checkCrashUtxos(t, c, want, created, spent)
	k.checkSideBlocks(c, full)
	for _, h := range rep.stored {
		if !c.HaveBlock(h) {
			t.Fatalf("block %v was accepted before the kill but is not stored", h)
		}
	}
	if full {
		checkUtxoSet(t, c)
	}

	// The database itself, once the recovered state is flushed.
	if err := c.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	k.checkStored(c, tip, want, txs)
}

// checkStored checks the database of a flushed chain: the chain state
// names tip, the UTXO records are want, the transaction index holds
// exactly the main chain's txs transactions, each mapped to its block and
// position, the block filter index covers the main chain up to tip, and
// the address index equals one recomputed from the main chain's blocks.
func (k *crashChecker) checkStored(c *BlockChain, tip *BestState, want map[wire.OutPoint]utxo.Entry, txs int) {
	t := k.t
	t.Helper()
	v, err := c.db.Get([]byte{keyState})
	if err != nil {
		t.Fatalf("read chain state: %v", err)
	}
	if h, ht, err := decodeState(v); err != nil || h != tip.Hash || ht != tip.Height {
		t.Fatalf("stored chain state %v at %d (%v), tip %v at %d", h, ht, err, tip.Hash, tip.Height)
	}
	if v, err := c.db.Get([]byte{keyTxIndexTip}); err != nil || !bytes.Equal(v, tip.Hash[:]) {
		t.Fatalf("stored tx index tip %x (%v), tip %v", v, err, tip.Hash)
	}
	if v, err := c.db.Get([]byte{keyFilterTip}); err != nil || !bytes.Equal(v, tip.Hash[:]) {
		t.Fatalf("stored block filter index tip %x (%v), tip %v", v, err, tip.Hash)
	}
	checkFilterIndex(t, c)
	if v, err := c.db.Get([]byte{keyAddrTip}); err != nil || !bytes.Equal(v, addrTipValue(&tip.Hash)) {
		t.Fatalf("stored address index tip %x (%v), tip %v", v, err, tip.Hash)
	}
	checkAddrIndex(t, c)

	n := 0
	err = utxo.NewLevelBackend(c.db).ForEach(func(op wire.OutPoint, e *utxo.Entry) error {
		n++
		if w, ok := want[op]; !ok || !sameCrashEntry(e, &w) {
			return fmt.Errorf("stored utxo %v = %+v; the main-chain blocks give %+v (present %v)", op, *e, w, ok)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%d stored utxos, the main-chain blocks leave %d", n, len(want))
	}

	n = 0
	err = c.db.ForEach([]byte{prefixTxIndex}, func(key, v []byte) error {
		n++
		txid := chainhash.Hash(key[1:])
		loc, err := decodeTxLocation(v)
		if err != nil {
			return fmt.Errorf("tx index record of %v: %w", txid, err)
		}
		info, err := c.BlockInfo(loc.BlockHash)
		if err != nil || !info.MainChain {
			return fmt.Errorf("tx index maps %v to block %v, which is not on the main chain (%v)", txid, loc.BlockHash, err)
		}
		b := k.block(c, loc.BlockHash)
		if int(loc.Index) >= len(b.Transactions) || b.Transactions[loc.Index].TxHash() != txid {
			return fmt.Errorf("tx index maps %v to block %v position %d, which holds another transaction", txid, loc.BlockHash, loc.Index)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != txs {
		t.Fatalf("tx index holds %d records, the main chain %d transactions", n, txs)
	}
}

// checkCrashTip checks that the tip is a valid main-chain block with the
// most work of all valid blocks with data, and returns it.
func checkCrashTip(t *testing.T, c *BlockChain) *BestState {
	t.Helper()
	tip := c.BestSnapshot()
	info, err := c.BlockInfo(tip.Hash)
	if err != nil {
		t.Fatalf("tip %v: %v", tip.Hash, err)
	}
	if !info.MainChain || info.Height != tip.Height || info.ChainWork.Cmp(tip.ChainWork) != 0 || info.Invalid {
		t.Fatalf("tip %v at height %d: index says height %d, main chain %v, invalid %v",
			tip.Hash, tip.Height, info.Height, info.MainChain, info.Invalid)
	}
	if h, err := c.BlockHashByHeight(tip.Height); err != nil || h != tip.Hash {
		t.Fatalf("main chain at the tip's height %d: %v, %v", tip.Height, h, err)
	}
	for _, ct := range c.ChainTips() {
		if ct.Status == "active" {
			if ct.Hash != tip.Hash {
				t.Fatalf("active chain tip %v, best state %v", ct.Hash, tip.Hash)
			}
			continue
		}
		if ct.Status != "valid-fork" && ct.Status != "valid-headers" {
			continue
		}
		ti, err := c.BlockInfo(ct.Hash)
		if err != nil {
			t.Fatalf("chain tip %v: %v", ct.Hash, err)
		}
		if ti.ChainWork.Cmp(tip.ChainWork) > 0 {
			t.Fatalf("chain tip %v (%s, height %d) has more work than the tip %v at height %d",
				ct.Hash, ct.Status, ct.Height, tip.Hash, tip.Height)
		}
	}
	return tip
}

// checkCrashTx checks that FetchTransaction finds tx, of the main-chain
// block hash at height, at position i.
func checkCrashTx(t *testing.T, c *BlockChain, tx *wire.MsgTx, hash chainhash.Hash, height int32, i int) {
	t.Helper()
	txid := tx.TxHash()
	got, loc, err := c.FetchTransaction(txid)
	if err != nil {
		t.Fatalf("main-chain tx %v (block %v at height %d, position %d): %v", txid, hash, height, i, err)
	}
	if loc.BlockHash != hash || loc.Index != uint32(i) || got.TxHash() != txid {
		t.Fatalf("main-chain tx %v: index says block %v position %d (tx %v), want block %v (height %d) position %d",
			txid, loc.BlockHash, loc.Index, got.TxHash(), hash, height, i)
	}
}

// checkCrashUtxos checks that ForEachUtxo returns exactly want, that
// FetchUtxoEntry returns the entries of created as in want, and nothing for
// the outputs of spent.
func checkCrashUtxos(t *testing.T, c *BlockChain, want map[wire.OutPoint]utxo.Entry, created, spent []wire.OutPoint) {
	t.Helper()
	same := sameCrashEntry
	n := 0
	if _, err := c.ForEachUtxo(func(op wire.OutPoint, e *utxo.Entry) error {
		n++
		w, ok := want[op]
		if !ok {
			return fmt.Errorf("ForEachUtxo returns %v, which the main-chain blocks do not leave unspent", op)
		}
		if !same(e, &w) {
			return fmt.Errorf("ForEachUtxo returns %v as %+v, the blocks give %+v", op, *e, w)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("ForEachUtxo returns %d entries, the main-chain blocks leave %d", n, len(want))
	}
	for _, op := range created {
		w, ok := want[op]
		e, err := c.FetchUtxoEntry(op)
		switch {
		case err != nil:
			t.Fatalf("FetchUtxoEntry(%v): %v", op, err)
		case !ok && e != nil:
			t.Fatalf("FetchUtxoEntry(%v) of a spent output = %+v; want nothing", op, *e)
		case ok && (e == nil || !same(e, &w)):
			t.Fatalf("FetchUtxoEntry(%v) = %+v; want %+v", op, e, w)
		}
	}
	for _, op := range spent {
		if e, err := c.FetchUtxoEntry(op); err != nil || e != nil {
			t.Fatalf("FetchUtxoEntry(%v) of a spent output = %+v, %v; want nothing", op, e, err)
		}
	}
}

// sameCrashEntry reports whether two UTXO entries are equal.
func sameCrashEntry(a, b *utxo.Entry) bool {
	return a.Amount == b.Amount && a.Height == b.Height && a.IsCoinBase == b.IsCoinBase &&
		bytes.Equal(a.PkScript, b.PkScript)
}

// checkSideBlocks checks through the API that no transaction of a stored
// block off the main chain resolves to it, and that those the index knows
// (transactions the main chain holds too) resolve to a main-chain block.
// Unless full, only side blocks not checked before are.
func (k *crashChecker) checkSideBlocks(c *BlockChain, full bool) {
	t := k.t
	t.Helper()
	seen := make(map[chainhash.Hash]bool)
	for _, ct := range c.ChainTips() {
		for h := ct.Hash; !seen[h]; {
			seen[h] = true
			info, err := c.BlockInfo(h)
			if err != nil {
				t.Fatalf("block %v: %v", h, err)
			}
			if info.MainChain {
				break
			}
			if info.HaveData && (full || !k.sideSeen[h]) {
				k.checkSideBlock(c, h)
				k.sideSeen[h] = true
			}
			h = info.Header.PrevBlock
		}
	}
}

// checkSideBlock checks the transactions of one stored block off the main
// chain.
func (k *crashChecker) checkSideBlock(c *BlockChain, hash chainhash.Hash) {
	t := k.t
	t.Helper()
	for i, tx := range k.block(c, hash).Transactions {
		txid := tx.TxHash()
		_, loc, err := c.FetchTransaction(txid)
		if errors.Is(err, ErrTxNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("tx %v of side block %v: %v", txid, hash, err)
		}
		if loc.BlockHash == hash {
			t.Fatalf("tx %v (position %d) of block %v, which is not on the main chain, resolves to it", txid, i, hash)
		}
		if info, err := c.BlockInfo(loc.BlockHash); err != nil || !info.MainChain {
			t.Fatalf("tx %v of side block %v resolves to block %v, which is not on the main chain (%v)",
				txid, hash, loc.BlockHash, err)
		}
	}
}

// TestCrashChild is the child process of TestCrashRecovery; run alone it
// skips. It opens the chain in the directory it is given and builds and
// processes blocks until it is killed, deriving everything from the chain's
// state on start, since its predecessor was killed at a random moment.
func TestCrashChild(t *testing.T) {
	// Not parallel: it is the only test of its process.
	raw := os.Getenv(crashChildEnv)
	if raw == "" {
		t.Skip("the child process of TestCrashRecovery")
	}
	var cfg crashChildConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("%s=%q: %v", crashChildEnv, raw, err)
	}
	w := newCrashWorker(t, cfg, crashConfig(cfg.Dir), os.NewFile(3, "crash-report"))
	defer w.c.Close()
	deadline := time.Now().Add(crashChildLifetime)
	for time.Now().Before(deadline) {
		w.step()
	}
	t.Fatalf("nobody killed the child within %v", crashChildLifetime)
}

// crashWorker is the child's state: the chain, a generator that knows the
// blocks it builds on, and the outputs it may spend.
type crashWorker struct {
	t      *testing.T
	c      *BlockChain
	g      *chaintest.Generator
	rng    *rand.Rand
	report io.Writer
	// pool holds outputs that were unspent when they were added, once
	// each (inPool); pick drops those found spent.
	pool   []wire.OutPoint
	inPool map[wire.OutPoint]bool
	names  int
}

// newCrashWorker opens the chain of chainCfg with the cache settings of
// cfg.Mode, reads the tip and the spendable outputs from it, and will
// write its report lines to report.
func newCrashWorker(t *testing.T, cfg crashChildConfig, chainCfg Config, report io.Writer) *crashWorker {
	t.Helper()
	modeRng := rand.New(rand.NewPCG(cfg.Seed, 1))
	switch cfg.Mode {
	case crashModeTiny:
		chainCfg.CacheBytes = 1 + modeRng.Int64N(2<<10)
	case crashModeLarge:
		chainCfg.CacheBytes = 64 << 20
		chainCfg.FlushInterval = time.Duration(20+modeRng.IntN(201)) * time.Millisecond
	default:
		t.Fatalf("unknown mode %q", cfg.Mode)
	}
	c, err := New(chainCfg)
	if err != nil {
		t.Fatalf("open chain: %v", err)
	}
	w := &crashWorker{t: t, c: c, report: report, inPool: make(map[wire.OutPoint]bool)}
	tip := c.BestSnapshot()
	w.reportf("start %d %v", tip.Height, tip.Hash)

	// Everything the worker chooses follows from the seed and the tip.
	w.rng = rand.New(rand.NewPCG(cfg.Seed, binary.LittleEndian.Uint64(tip.Hash[:8])))
	block, err := c.BlockByHash(tip.Hash)
	if err != nil {
		t.Fatalf("tip block: %v", err)
	}
	w.g = chaintest.Resume(c.Network(), tip.Hash.String(), block, tip.Height)
	w.g.SetExtraNonce(w.rng.Uint64() >> 1)

	var ops []wire.OutPoint
	if _, err := c.ForEachUtxo(func(op wire.OutPoint, _ *utxo.Entry) error {
		ops = append(ops, op)
		return nil
	}); err != nil {
		t.Fatalf("walk utxo set: %v", err)
	}
	slices.SortFunc(ops, func(a, b wire.OutPoint) int {
		if c := bytes.Compare(a.Hash[:], b.Hash[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	for _, op := range ops {
		w.addCoin(op)
	}
	return w
}

// reportf writes one report line to the parent; a parent gone ends the
// child.
func (w *crashWorker) reportf(format string, args ...any) {
	if _, err := fmt.Fprintf(w.report, format+"\n", args...); err != nil {
		w.t.Fatalf("report to parent: %v", err)
	}
}

// step does one random thing to the chain.
func (w *crashWorker) step() {
	switch r := w.rng.IntN(100); {
	case r < 50:
		w.extend(true)
	case r < 75:
		w.extend(false)
	case r < 93:
		w.reorg()
	default:
		w.invalidateReconsider()
	}
}

// known returns the generator's name of a stored block, registering the
// block first if it was built by another process.
func (w *crashWorker) known(hash chainhash.Hash) string {
	if name, ok := w.g.Lookup(hash); ok {
		return name
	}
	block, err := w.c.BlockByHash(hash)
	if err != nil {
		w.t.Fatalf("block %v: %v", hash, err)
	}
	info, err := w.c.BlockInfo(hash)
	if err != nil {
		w.t.Fatalf("block %v: %v", hash, err)
	}
	name := hash.String()
	w.g.AddBlock(name, block, info.Height)
	return name
}

// extend builds a block on the tip, with spending transactions if spend,
// and processes it.
func (w *crashWorker) extend(spend bool) {
	tip := w.c.BestSnapshot()
	w.g.SetTip(w.known(tip.Hash))
	var txs []*wire.MsgTx
	var fees int64
	if spend {
		txs, fees = w.spends(tip.Height+1, tip.Height)
	}
	b := w.nextBlock(txs, fees)
	w.process(b, tip.Height+1, true)
	w.addOutputs(b)
}

// reorg builds a branch off the tip's ancestor 1-3 blocks back that is one
// block longer than the main chain, so that its last block triggers the
// reorganization. The branch may spend outputs that were unspent at the
// fork, and half the time its last block also holds again all the
// transactions of the blocks it replaces, as after a real reorganization
// (its coinbase forgoes their fees).
func (w *crashWorker) reorg() {
	tip := w.c.BestSnapshot()
	depth := int32(1 + w.rng.IntN(3))
	forkHeight := tip.Height - depth
	if forkHeight < 1 {
		w.extend(false)
		return
	}
	fork, err := w.c.BlockHashByHeight(forkHeight)
	if err != nil {
		w.t.Fatalf("fork block: %v", err)
	}
	var replay []*wire.MsgTx
	if w.rng.IntN(2) == 0 {
		for h := forkHeight + 1; h <= tip.Height; h++ {
			b, err := w.c.BlockByHeight(h)
			if err != nil {
				w.t.Fatalf("block at %d: %v", h, err)
			}
			replay = append(replay, b.Transactions[1:]...)
		}
	}
	w.reportf("reorg %d", depth)
	w.g.SetTip(w.known(fork))
	var branch []*wire.MsgBlock
	for i := int32(0); i <= depth; i++ {
		height := forkHeight + 1 + i
		var txs []*wire.MsgTx
		var fees int64
		if w.rng.IntN(2) == 0 {
			// Only outputs that were unspent at the fork, which the
			// replaced blocks did not spend either.
			txs, fees = w.spends(height, forkHeight)
		}
		if i == depth {
			txs = append(txs, replay...)
		}
		b := w.nextBlock(txs, fees)
		w.process(b, height, i == depth)
		branch = append(branch, b)
	}
	for _, b := range branch {
		w.addOutputs(b)
	}
}

// invalidateReconsider invalidates a main-chain block 0-2 blocks below the
// tip, sometimes builds a block on the tip that leaves, and reconsiders the
// block, which must bring back a chain with at least the old tip's work.
func (w *crashWorker) invalidateReconsider() {
	tip := w.c.BestSnapshot()
	target, err := w.c.BlockHashByHeight(tip.Height - int32(w.rng.IntN(3)))
	if err != nil {
		w.t.Fatalf("block to invalidate: %v", err)
	}
	w.reportf("invalidate %v", target)
	if err := w.c.InvalidateBlock(target); err != nil {
		w.t.Fatalf("invalidate %v: %v", target, err)
	}
	if info, err := w.c.BlockInfo(target); err != nil || info.MainChain || !info.Invalid {
		w.t.Fatalf("invalidated block %v: %+v, %v", target, info, err)
	}
	if w.rng.IntN(2) == 0 {
		w.extend(false)
	}
	w.reportf("reconsider %v", target)
	if err := w.c.ReconsiderBlock(target); err != nil {
		w.t.Fatalf("reconsider %v: %v", target, err)
	}
	if now := w.c.BestSnapshot(); now.ChainWork.Cmp(tip.ChainWork) < 0 {
		w.t.Fatalf("after reconsidering %v the tip %v has less work than the tip %v before", target, now.Hash, tip.Hash)
	}
}

// nextBlock builds a block on the generator's tip holding txs, whose
// coinbase claims the subsidy and fees.
func (w *crashWorker) nextBlock(txs []*wire.MsgTx, fees int64) *wire.MsgBlock {
	w.names++
	height := w.g.TipHeight() + 1
	value := consensus.CalcBlockSubsidy(height, &w.c.Network().Consensus) + fees
	return w.g.NextBlock(fmt.Sprintf("x%d", w.names), nil, txs, func(b *wire.MsgBlock) {
		b.Transactions[0].TxOut[0].Value = value
	})
}

// process hands a block to the chain, which must accept it and put it on
// the main chain or not as main says, and reports it.
func (w *crashWorker) process(b *wire.MsgBlock, height int32, main bool) {
	res, err := w.c.ProcessBlock(b)
	if err != nil {
		w.t.Fatalf("block %v at height %d: %v", b.BlockHash(), height, err)
	}
	if res.MainChain != main {
		w.t.Fatalf("block %v at height %d: main chain %v, want %v", res.Hash, height, res.MainChain, main)
	}
	flushed := w.c.UtxoCacheStats().Dirty == 0
	w.reportf("block %v %d %d %d %d", res.Hash, height, crashBit(res.MainChain), crashBit(flushed), len(b.Transactions)-1)
}

func crashBit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addOutputs adds the outputs of a processed block to the pool.
func (w *crashWorker) addOutputs(b *wire.MsgBlock) {
	for _, tx := range b.Transactions {
		txid := tx.TxHash()
		for o := range tx.TxOut {
			w.addCoin(wire.OutPoint{Hash: txid, Index: uint32(o)})
		}
	}
}

// addCoin adds op to the pool unless it is there.
func (w *crashWorker) addCoin(op wire.OutPoint) {
	if !w.inPool[op] {
		w.inPool[op] = true
		w.pool = append(w.pool, op)
	}
}

// spends returns 1-3 transactions for a block at height spending pool
// outputs created at or below maxCoinHeight, some followed by a chain of
// transactions spending their first output in the same block, and their
// fees.
func (w *crashWorker) spends(height, maxCoinHeight int32) ([]*wire.MsgTx, int64) {
	var txs []*wire.MsgTx
	var fees int64
	for n := 1 + w.rng.IntN(3); n > 0; n-- {
		op, e := w.pick(height, maxCoinHeight)
		if e == nil {
			break
		}
		prev, amount := op, e.Amount
		for depth := 0; depth < 3 && amount >= crashMinCoin; depth++ {
			fee := 1 + w.rng.Int64N(amount/10)
			tx := crashSpendTx(prev, amount-fee, 1+w.rng.IntN(3))
			txs = append(txs, tx)
			fees += fee
			if w.rng.IntN(2) == 0 {
				break
			}
			prev, amount = wire.OutPoint{Hash: tx.TxHash(), Index: 0}, tx.TxOut[0].Value
		}
	}
	return txs, fees
}

// pick returns a pool output that is unspent at the tip, was created at or
// below maxCoinHeight and may be spent at height, and removes it from the
// pool; nil if a few tries find none.
func (w *crashWorker) pick(height, maxCoinHeight int32) (wire.OutPoint, *utxo.Entry) {
	maturity := w.c.Network().Consensus.CoinbaseMaturity
	for try := 0; try < 16 && len(w.pool) > 0; try++ {
		i := w.rng.IntN(len(w.pool))
		op := w.pool[i]
		e, err := w.c.FetchUtxoEntry(op)
		if err != nil {
			w.t.Fatalf("fetch utxo %v: %v", op, err)
		}
		if e == nil || e.Amount < crashMinCoin || !bytes.Equal(e.PkScript, chaintest.OpTrueScript) {
			w.drop(i)
			continue
		}
		if e.Height > maxCoinHeight || (e.IsCoinBase && height-e.Height < maturity) {
			continue
		}
		w.drop(i)
		return op, e
	}
	return wire.OutPoint{}, nil
}

// drop removes pool entry i.
func (w *crashWorker) drop(i int) {
	delete(w.inPool, w.pool[i])
	last := len(w.pool) - 1
	w.pool[i] = w.pool[last]
	w.pool = w.pool[:last]
}

// crashSpendTx returns a transaction spending the OP_TRUE output op into
// outs OP_TRUE outputs that share value.
func crashSpendTx(op wire.OutPoint, value int64, outs int) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: op, Sequence: wire.MaxTxInSequenceNum})
	for i := 0; i < outs; i++ {
		v := value / int64(outs)
		if i == 0 {
			v += value % int64(outs)
		}
		tx.AddTxOut(&wire.TxOut{Value: v, PkScript: chaintest.OpTrueScript})
	}
	return tx
}
