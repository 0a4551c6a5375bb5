package miner

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/miner/pow"
)

// Tuning of the engine.
const (
	// checkEvery is how many nonces a worker hashes between looks at its
	// stop flag: about 4 ms at this machine's rate, well within the 50 ms
	// in which stale work must be dropped.
	checkEvery = 1 << 16
	// templateRefresh is how often a template is rebuilt to pick up
	// better-paying transactions.
	templateRefresh = 5 * time.Second
	// rateWindow is the interval HashesPerSec averages over.
	rateWindow = 2 * time.Second
	// maxRoundAge bounds how long a round runs without a new tip, so that
	// block times stay near the clock (a worker needs minutes to exhaust
	// its nonces).
	maxRoundAge = 30 * time.Second
)

// TipSource is a chain that announces tip changes.
type TipSource interface {
	Chain
	Subscribe() *chain.Subscription
}

// Miner searches proof of work on the best tip with Threads workers until
// its context ends. Each worker hashes its own header: a coinbase with an
// extra nonce no other worker has, so no two workers ever test the same
// header; when a worker exhausts the 2^32 nonces it takes a new extra nonce
// (and the current time). A new tip from anywhere, or better-paying
// transactions, start a new round; workers drop stale work within
// milliseconds. A found block goes to the chain like any other.
type Miner struct {
	Chain TipSource
	// Txs offers pool transactions; nil mines coinbase-only blocks.
	Txs     TxSource
	PayTo   []byte
	Threads int
	// Interval, if positive, is how long the miner waits after each new
	// tip (its own block or a peer's) before it mines on it: on a
	// fixed-difficulty chain such as regtest, where a block takes
	// microseconds, it paces the chain like a network would.
	Interval time.Duration
	// Emulated, if positive, replaces the proof-of-work search by a clock,
	// for experiments with many nodes on one machine: the miner holds
	// this share of the network's hash rate, so it finds its next block
	// after an exponentially distributed delay of mean TargetSpacing ÷
	// Emulated, a memoryless race like real mining that starts again on
	// every new tip; then it solves the block's (trivial) proof of work
	// and publishes it. Blocks are fully valid. Only for fixed-difficulty
	// chains, where the work takes microseconds; the caller checks that.
	Emulated float64
	// Rand draws the emulated delays; nil uses a randomly seeded source.
	Rand *rand.Rand
	// Mined, if set, is told of each block found, before the chain has
	// it: a strategy that must know its own blocks (Selfish.Mined).
	Mined func(b *wire.MsgBlock, hash chainhash.Hash, height int32)
	// Logger receives the miner's log; nil discards it.
	Logger *slog.Logger
	Now    func() time.Time

	// nonceSpace and target replace 2^32 and the block's target in tests.
	nonceSpace uint64
	target     *big.Int
	// onWork, if set, is called by a worker whenever it starts on a header.
	onWork func(worker int, h *wire.BlockHeader)

	randOnce sync.Once
	ownRand  *rand.Rand

	extraNonce atomic.Uint64
	hashes     atomic.Uint64
	found      atomic.Uint64
	rate       atomic.Uint64 // float64 bits
}

// Found returns how many blocks the miner found that became the tip.
func (m *Miner) Found() uint64 { return m.found.Load() }

// Hashes returns the number of headers hashed so far.
func (m *Miner) Hashes() uint64 { return m.hashes.Load() }

// HashesPerSec returns the recent hash rate (zero when idle).
func (m *Miner) HashesPerSec() float64 { return math.Float64frombits(m.rate.Load()) }

func (m *Miner) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// work is one round's template, shared read-only by the workers.
type work struct {
	block      *wire.MsgBlock
	branch     []chainhash.Hash
	height     int32
	medianTime time.Time
	target     pow.Target
	fees       int64
}

// Run mines until ctx ends.
func (m *Miner) Run(ctx context.Context) error {
	if len(m.PayTo) == 0 {
		return errors.New("miner: no output script to pay to")
	}
	threads := m.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	log := m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sub := m.Chain.Subscribe()
	defer sub.Close()
	go m.trackRate(ctx)
	maxFuture := m.Chain.Network().Consensus.MaxFutureBlockTime
	var tip chainhash.Hash
	var tipSince time.Time
	var found time.Time // when the emulated search ends, on tip
	for ctx.Err() == nil {
		if m.Emulated > 0 {
			// A new tip draws a new delay: the race restarts, as real
			// mining restarts on a new header (and, being memoryless,
			// loses nothing by it).
			if best := m.Chain.BestSnapshot().Hash; best != tip || found.IsZero() {
				tip, found = best, time.Now().Add(m.emulatedDelay())
			}
			if wait := time.Until(found); wait > 0 {
				if !waitOrTip(ctx, sub, wait) {
					return nil
				}
				continue
			}
		} else if m.Interval > 0 {
			if best := m.Chain.BestSnapshot().Hash; best != tip {
				tip, tipSince = best, time.Now()
			}
			if wait := time.Until(tipSince.Add(m.Interval)); wait > 0 {
				if !waitOrTip(ctx, sub, wait) {
					return nil
				}
				continue
			}
		}
		// Blocks found faster than one a second push the median time
		// past, and so the earliest allowed time, ahead of the clock;
		// past the future limit the chain would refuse them. Wait for the
		// clock (or a new tip) instead of mining blocks it cannot take.
		if ahead := m.Chain.BestSnapshot().MedianTime.Add(time.Second).Sub(m.now().Add(maxFuture)); ahead > 0 {
			if !waitOrTip(ctx, sub, ahead) {
				return nil
			}
			continue
		}
		w, err := m.newWork()
		if err != nil {
			return err
		}
		if m.Emulated > 0 {
			// The clock said this miner won: solve the trivial work on
			// one thread and publish.
			var stop atomic.Bool
			if b := m.search(0, w, &stop); b != nil {
				m.submit(b, w, log)
			}
			found = time.Time{}
			drain(sub)
			continue
		}
		var stop atomic.Bool
		solved := make(chan *wire.MsgBlock, threads)
		var wg sync.WaitGroup
		for i := 0; i < threads; i++ {
			wg.Add(1)
			go func(id int) {
				defer wg.Done()
				if b := m.search(id, w, &stop); b != nil {
					solved <- b
				}
			}(i)
		}
		refresh := time.NewTimer(templateRefresh)
		roundStart := time.Now()
		var solvedBlock *wire.MsgBlock
	wait:
		for {
			select {
			case <-ctx.Done():
				break wait
			case <-sub.C():
				break wait
			case solvedBlock = <-solved:
				break wait
			case <-refresh.C:
				if m.betterFees(w) || time.Since(roundStart) > maxRoundAge {
					break wait
				}
				refresh.Reset(templateRefresh)
			}
		}
		refresh.Stop()
		stop.Store(true)
		wg.Wait()
		if solvedBlock != nil {
			m.submit(solvedBlock, w, log)
		}
		drain(sub)
	}
	return nil
}

// waitOrTip waits d, or until the chain changes; false when ctx ended.
func waitOrTip(ctx context.Context, sub *chain.Subscription, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-sub.C():
	case <-t.C:
	}
	return true
}

// submit hands a solved block to the chain.
func (m *Miner) submit(b *wire.MsgBlock, w *work, log *slog.Logger) {
	if m.Mined != nil {
		m.Mined(b, consensus.BlockHash(&b.Header), w.height)
	}
	res, err := m.Chain.ProcessBlock(b)
	switch {
	case err != nil:
		log.Warn("mined block refused", "hash", res.Hash, "err", err)
	case res.MainChain:
		m.found.Add(1)
		// The chain logs the new tip at Info: one line a block.
		log.Debug("mined block", "hash", res.Hash, "height", w.height, "txs", len(b.Transactions))
	}
}

// emulatedDelay draws the time until an emulated miner of share Emulated
// finds a block: exponential, of mean TargetSpacing ÷ Emulated.
func (m *Miner) emulatedDelay() time.Duration {
	r := m.Rand
	if r == nil {
		r = m.defaultRand()
	}
	mean := float64(m.Chain.Network().Consensus.TargetSpacing) / m.Emulated
	return time.Duration(r.ExpFloat64() * mean)
}

// defaultRand returns the miner's own randomly seeded source.
func (m *Miner) defaultRand() *rand.Rand {
	m.randOnce.Do(func() { m.ownRand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) })
	return m.ownRand
}

// newWork builds a round's template on the current tip.
func (m *Miner) newWork() (*work, error) {
	var txs []*wire.MsgTx
	var fees int64
	best := m.Chain.BestSnapshot()
	if m.Txs != nil {
		maxWeight, maxSigOps := blockLimits()
		sel, f := m.Txs.SelectForBlock(best.Hash, maxWeight, maxSigOps)
		fees = f
		for _, d := range sel {
			txs = append(txs, d.Tx)
		}
	}
	block, err := buildTemplate(m.Chain, best, m.PayTo, txs, fees, 0, m.now())
	if err != nil {
		return nil, err
	}
	target := m.target
	if target == nil {
		target, _, _ = consensus.CompactToBig(block.Header.Bits)
	}
	return &work{
		block:      block,
		branch:     consensus.MerkleBranch(consensus.TxHashes(block)),
		height:     best.Height + 1,
		medianTime: best.MedianTime,
		target:     pow.NewTarget(target),
		fees:       fees,
	}, nil
}

// betterFees reports whether the pool now pays more than w's template.
func (m *Miner) betterFees(w *work) bool {
	if m.Txs == nil {
		return false
	}
	maxWeight, maxSigOps := blockLimits()
	_, fees := m.Txs.SelectForBlock(w.block.Header.PrevBlock, maxWeight, maxSigOps)
	return fees > w.fees
}

// header returns a copy of w's block with a fresh extra nonce in its
// coinbase, the merkle root that follows, and the current time.
func (m *Miner) header(w *work) *wire.MsgBlock {
	en := m.extraNonce.Add(1)
	block := *w.block
	block.Transactions = append([]*wire.MsgTx(nil), w.block.Transactions...)
	cb := w.block.Transactions[0].Copy()
	// Only the extra nonce push changes: same height prefix, same length.
	sig := cb.TxIn[0].SignatureScript
	copy(sig[len(sig)-8:], uint64LE(en))
	block.Transactions[0] = cb
	block.Header.MerkleRoot = consensus.MerkleRootFromBranch(consensus.TxHash(cb), w.branch)
	block.Header.Timestamp = blockTime(m.now(), w.medianTime)
	block.Header.Nonce = 0
	return &block
}

// search runs one worker until it finds a block or stop is set.
func (m *Miner) search(id int, w *work, stop *atomic.Bool) *wire.MsgBlock {
	space := m.nonceSpace
	if space == 0 {
		space = 1 << 32
	}
	for !stop.Load() {
		block := m.header(w)
		if m.onWork != nil {
			m.onWork(id, &block.Header)
		}
		hh := pow.NewHeaderHasher(&block.Header)
		var counted uint64
		for n := uint64(0); n < space; n += 2 {
			out := hh.HashPair(uint32(n))
			for lane := range out {
				if n+uint64(lane) < space && w.target.Meets(out[lane]) {
					m.hashes.Add(n + 2 - counted)
					block.Header.Nonce = uint32(n) + uint32(lane)
					return block
				}
			}
			if (n+2)%checkEvery == 0 {
				m.hashes.Add(n + 2 - counted)
				counted = n + 2
				if stop.Load() {
					return nil
				}
				// Let block processing, RPC and the network run: a
				// worker never holds a core for more than one check.
				runtime.Gosched()
			}
		}
		m.hashes.Add(space - counted)
		// Nonces exhausted: roll the extra nonce and go on.
	}
	return nil
}

// trackRate keeps HashesPerSec current.
func (m *Miner) trackRate(ctx context.Context) {
	tick := time.NewTicker(rateWindow)
	defer tick.Stop()
	last, lastTime := m.hashes.Load(), time.Now()
	for {
		select {
		case <-ctx.Done():
			m.rate.Store(0)
			return
		case now := <-tick.C:
			h := m.hashes.Load()
			m.rate.Store(math.Float64bits(float64(h-last) / now.Sub(lastTime).Seconds()))
			last, lastTime = h, now
		}
	}
}

// drain discards queued notifications: the next round starts on the tip.
func drain(sub *chain.Subscription) {
	for {
		select {
		case <-sub.C():
		default:
			return
		}
	}
}
