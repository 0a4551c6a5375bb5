package chain

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/internal/store/faultstore"
)

// TestPowerCutRecovery is the crash test with power cuts instead of kills.
// SIGKILL leaves what the process wrote in the kernel's buffers, so it
// cannot show what a power cut does to writes made without a sync: the
// block bodies, which the chain writes without one and relies on its
// synced flushes to make durable before anything durable refers to them.
// Here the crash test's worker runs in this process on a storage that
// simulates power cuts (faultstore, LevelDB's fault-injection technique);
// at a random moment the test takes what a cut would leave, every file
// back to its last sync, and reopens the chain on it. The checks are the
// crash test's: the tip on the best valid chain, the UTXO set, the
// transaction and filter indexes, every block the index says is stored
// readable (no index entry outlives its body), and every block accepted
// before the last journal sync still stored.
func TestPowerCutRecovery(t *testing.T) {
	t.Parallel()
	iterations := crashIterationCount(t)
	seed := crashSeed(t)
	t.Logf("seed %d (%s=%d repeats the choices), %d iterations", seed, crashSeedEnv, seed, iterations)
	rng := rand.New(rand.NewPCG(seed, 0x706f7765725f6375))

	fs := faultstore.New(rng.Uint64())
	fs.TornJournals = true
	crashPremineChain(t, powerCutConfig(fs))

	checker := newCrashChecker(t, rng.Uint64())
	var totals crashReport
	lostBlocks, tornBlocks, cutsAfterFlush, cuts := 0, 0, 0, 0
	height := int32(crashPremine)
	// Whether a cut tears a block from the files is chance: when none did
	// in the planned cuts (rare; under the race detector and load the
	// timing shifts), up to as many again are made before the check below
	// calls the simulation broken.
	for i := 0; i < iterations || (tornBlocks == 0 && i < 2*iterations); i++ {
		mode := crashModeTiny
		if i%2 == 1 {
			mode = crashModeLarge
		}
		delay := time.Duration(50+rng.IntN(551)) * time.Millisecond
		child := crashChildConfig{Seed: rng.Uint64(), Mode: mode}
		// Every third round a slow disk: the memtable the journal
		// rotated away from waits for its table until the cut.
		slow := i%3 == 2
		cut, rep, accepted := runPowerCut(t, fs, child, delay, slow)
		if rep.flushed > 0 {
			cutsAfterFlush++
		}
		totals.add(rep)

		c, err := New(powerCutConfig(cut))
		if err != nil {
			t.Fatalf("iteration %d: reopen after the power cut: %v", i, err)
		}
		lost := 0
		for _, h := range accepted {
			if !c.HaveBlock(h) {
				lost++
			}
		}
		lostBlocks += lost
		tornBlocks += c.unsyncedLost
		checker.check(c, rep, i == iterations-1)
		height = c.BestSnapshot().Height
		t.Logf("iteration %d: mode %s, slow disk %v, cut after %v: worker started at height %d, accepted %d blocks "+
			"(%d before its last journal sync, all kept; %d lost after it; %d connected, %d spends, %d reorgs, "+
			"%d invalidations); recovered height %d",
			i, mode, slow, delay, rep.startHeight, len(accepted), len(rep.stored), lost, rep.connected, rep.spends,
			rep.reorgs, rep.invalidations, height)
		if err := c.Close(); err != nil {
			t.Fatalf("iteration %d: close: %v", i, err)
		}
		fs = cut
		cuts++
	}
	t.Logf("%d power cuts: %d blocks accepted, %d of them lost with the unsynced writes, %d spending transactions, "+
		"%d reorgs, %d invalidations; height %d -> %d",
		cuts, len(totals.stored), lostBlocks, totals.spends, totals.reorgs, totals.invalidations,
		crashPremine, height)
	if height <= crashPremine || totals.connected == 0 {
		t.Fatalf("the workers made no progress: height %d after %d cuts (premined %d)", height, iterations, crashPremine)
	}
	if cutsAfterFlush == 0 {
		t.Fatal("no cut came after a flush: the test never cut a node with flushed state")
	}
	if lostBlocks == 0 {
		t.Fatal("no cut lost an accepted block: the power cuts are not simulated")
	}
	// An index record written without a sync may survive a cut that its
	// block did not (the disk wrote one page back and not the other): the
	// start must find those and forget them.
	t.Logf("%d blocks found cut or torn in the block files by the starts", tornBlocks)
	if tornBlocks == 0 {
		t.Fatal("no start found a block cut from the block files: the torn writes are not simulated")
	}
}

// powerCutConfig is the crash test's chain configuration on fs, with a
// memtable of 256 KiB so that the journal rotates every few hundred blocks.
func powerCutConfig(fs *faultstore.Storage) Config {
	cfg := crashConfig("")
	cfg.storage = fs
	cfg.storageWriteBuffer = 256 << 10
	cfg.blockFS = fs.Files
	cfg.maxBlockFile = 1 << 20 // several files, one of them written at any cut
	return cfg
}

// runPowerCut runs a crash worker on fs and cuts the power delay after it
// started; slow holds table files back until the cut. It returns what the cut left, the report with only the blocks
// that must have survived (those accepted before a later journal sync:
// goleveldb writes one journal at a time, so the sync made them durable),
// and every block the worker had accepted.
func runPowerCut(t *testing.T, fs *faultstore.Storage, child crashChildConfig, delay time.Duration, slow bool) (
	*faultstore.Storage, *crashReport, []chainhash.Hash) {
	t.Helper()
	sink := &powerCutReport{fs: fs}
	w := newCrashWorker(t, child, powerCutConfig(fs), sink)
	release := func() {}
	if slow {
		release = fs.HoldTables()
	}
	defer release()

	var cut *faultstore.Storage
	var cutErr error
	var durable uint64
	done := make(chan struct{})
	timer := time.AfterFunc(delay, func() {
		defer close(done)
		sink.mu.Lock()
		defer sink.mu.Unlock()
		// Count the syncs before the copy: a sync between the two only
		// leaves the copy more than the count promises.
		durable = fs.JournalSyncs()
		cut, cutErr = fs.PowerCut()
		sink.cut = true
		release() // the worker may be waiting for a table
	})
	for !sink.isCut() {
		w.step()
	}
	timer.Stop()
	<-done
	if err := w.c.Close(); err != nil {
		t.Fatalf("close the worker's chain after the cut: %v", err)
	}
	if cutErr != nil {
		t.Fatal(cutErr)
	}
	if len(sink.rep.bad) > 0 {
		t.Fatalf("worker wrote unreadable report lines %q", sink.rep.bad)
	}
	rep := sink.rep
	accepted := rep.stored
	rep.stored = nil
	for i, h := range accepted {
		if sink.syncs[i] < durable {
			rep.stored = append(rep.stored, h)
		}
	}
	return cut, &rep, accepted
}

// powerCutReport collects the report lines of a worker in this process
// until the cut, with the journal sync count at each accepted block.
type powerCutReport struct {
	fs *faultstore.Storage

	mu    sync.Mutex
	rep   crashReport
	syncs []uint64 // per rep.stored entry
	cut   bool
}

// Write implements io.Writer; each call is one report line.
func (r *powerCutReport) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cut {
		return len(p), nil // the worker runs on after the cut, unheard
	}
	line := strings.TrimSuffix(string(bytes.Clone(p)), "\n")
	n := len(r.rep.stored)
	r.rep.parse(line)
	if len(r.rep.stored) > n {
		r.syncs = append(r.syncs, r.fs.JournalSyncs())
	}
	return len(p), nil
}

func (r *powerCutReport) isCut() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cut
}
