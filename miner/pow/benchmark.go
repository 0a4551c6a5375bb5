package pow

import (
	"context"
	"crypto/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/miner/internal/sha"
)

// BenchResult is what Benchmark measured.
type BenchResult struct {
	Threads      int     `json:"threads"`
	Seconds      float64 `json:"seconds"`
	Hashes       uint64  `json:"hashes"`
	HashesPerSec float64 `json:"hashes_per_sec"`
	PerThread    float64 `json:"hashes_per_sec_per_thread"`
	// Kernel names the hashing path: "sha-ni" or "generic".
	Kernel string `json:"kernel"`
}

// Kernel names the hashing path this machine uses.
func Kernel() string {
	if sha.Accelerated() {
		return "sha-ni"
	}
	return "generic"
}

// Benchmark hashes random headers on threads workers for d (or until ctx
// ends), exactly as the mining workers do, and reports the rate.
func Benchmark(ctx context.Context, threads int, d time.Duration) BenchResult {
	if threads <= 0 {
		threads = 1
	}
	var total atomic.Uint64
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h wire.BlockHeader
			_, _ = rand.Read(h.PrevBlock[:])
			_, _ = rand.Read(h.MerkleRoot[:])
			hh := NewHeaderHasher(&h)
			var sink uint32
			for n := uint32(0); !stop.Load(); n += checkEvery {
				for j := uint32(0); j < checkEvery; j += 2 {
					out := hh.HashPair(n + j)
					sink ^= out[0][7] ^ out[1][7]
				}
				total.Add(checkEvery)
				runtime.Gosched() // as the mining workers do
			}
			_ = sink
		}()
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	stop.Store(true)
	wg.Wait()
	secs := time.Since(start).Seconds()
	r := BenchResult{Threads: threads, Seconds: secs, Hashes: total.Load(), Kernel: Kernel()}
	r.HashesPerSec = float64(r.Hashes) / secs
	r.PerThread = r.HashesPerSec / float64(threads)
	return r
}
