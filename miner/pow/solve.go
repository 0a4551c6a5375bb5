package pow

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// ErrMaxTries is returned when no nonce within the allowed tries meets the
// target.
var ErrMaxTries = errors.New("pow: no solution within maxtries")

// checkEvery is how many nonces a Solve worker hashes between looks at
// whether to stop: about 4 ms at this machine's rate.
const checkEvery = 1 << 16

// Solve searches the block's nonces for one whose header hash meets the
// block's target, with the mining engine's midstate kernel on every core,
// each core on its own share of the nonce range. It gives up after
// maxTries nonces in all (ErrMaxTries) or when ctx ends.
func Solve(ctx context.Context, block *wire.MsgBlock, maxTries uint64) error {
	target, neg, overflow := consensus.CompactToBig(block.Header.Bits)
	if neg || overflow || target.Sign() <= 0 {
		return fmt.Errorf("pow: bits %08x are not a valid target", block.Header.Bits)
	}
	if maxTries > 1<<32 {
		maxTries = 1 << 32
	}
	pt := NewTarget(target)
	hh := NewHeaderHasher(&block.Header)
	threads := uint64(runtime.NumCPU())
	if maxTries < 1<<16 {
		threads = 1 // not worth the goroutines
	}
	share := (maxTries + threads - 1) / threads
	var found atomic.Bool
	var nonce atomic.Uint32
	var wg sync.WaitGroup
	for t := uint64(0); t < threads; t++ {
		lo := t * share
		hi := min(lo+share, maxTries)
		wg.Add(1)
		go func(h HeaderHasher) {
			defer wg.Done()
			for n := lo; n < hi; n += 2 {
				out := h.HashPair(uint32(n))
				for lane := uint64(0); lane < 2 && n+lane < hi; lane++ {
					if pt.Meets(out[lane]) && found.CompareAndSwap(false, true) {
						nonce.Store(uint32(n + lane))
					}
				}
				if (n-lo)%checkEvery == 0 && (found.Load() || ctx.Err() != nil) {
					return
				}
			}
		}(*hh)
	}
	wg.Wait()
	if found.Load() {
		block.Header.Nonce = nonce.Load()
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return ErrMaxTries
}
