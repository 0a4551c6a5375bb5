package miner

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
)

// templateRefresh bounds how long workers search one template before a new
// one (with a new time) is built.
const templateRefresh = 30 * time.Second

// TipSource is a chain that announces tip changes.
type TipSource interface {
	Chain
	Subscribe() *chain.Subscription
}

// CPUMiner mines on the best tip with Threads workers, each on a template
// of its own extra nonce, until its context ends. A new tip from anywhere
// abandons the round; a found block goes to the chain like any other.
type CPUMiner struct {
	Chain   TipSource
	PayTo   []byte
	Threads int
	Log     *slog.Logger
	Now     func() time.Time

	extraNonce atomic.Uint64
	found      atomic.Uint64
}

// Found returns how many blocks this miner found that the chain accepted.
func (m *CPUMiner) Found() uint64 { return m.found.Load() }

// Run mines until ctx ends.
func (m *CPUMiner) Run(ctx context.Context) error {
	if len(m.PayTo) == 0 {
		return errors.New("miner: no output script to pay to")
	}
	threads := m.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	now := m.Now
	if now == nil {
		now = time.Now
	}
	log := m.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sub := m.Chain.Subscribe()
	defer sub.Close()
	maxFuture := m.Chain.Network().Consensus.MaxFutureBlockTime
	for ctx.Err() == nil {
		// Blocks found faster than one a second push the median time
		// past, and so the earliest allowed time, ahead of the clock; past
		// the future limit the chain would refuse them. Wait for the
		// clock (or a new tip) instead of mining blocks it cannot take.
		if ahead := m.Chain.BestSnapshot().MedianTime.Add(time.Second).Sub(now().Add(maxFuture)); ahead > 0 {
			log.Debug("waiting for the clock: the next block would be too far in the future", "wait", ahead)
			select {
			case <-ctx.Done():
				return nil
			case <-sub.C():
			case <-time.After(ahead):
			}
			continue
		}
		round, cancel := context.WithTimeout(ctx, templateRefresh)
		solved := make(chan *wire.MsgBlock, threads)
		var wg sync.WaitGroup
		for i := 0; i < threads; i++ {
			block, err := NewTemplate(m.Chain, m.PayTo, nil, m.extraNonce.Add(1), now())
			if err != nil {
				cancel()
				return err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if Solve(round, block, 1<<32) == nil {
					solved <- block
				}
			}()
		}
		select {
		case <-ctx.Done():
		case <-round.Done():
		case <-sub.C():
		case block := <-solved:
			cancel()
			if res, err := m.Chain.ProcessBlock(block); err != nil {
				log.Warn("mined block refused", "hash", res.Hash, "err", err)
			} else if res.MainChain {
				m.found.Add(1)
				log.Info("mined block", "hash", res.Hash, "height", m.Chain.BestSnapshot().Height)
			}
		}
		cancel()
		wg.Wait()
		drain(sub)
	}
	return nil
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
