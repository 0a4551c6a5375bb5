package chaintest

import (
	"math/rand"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// SigVerifyRate measures this machine's signature verifications per second
// with workers goroutines verifying at once, each on its own locked OS
// thread: the median of three one-second rounds. One verification is what
// every P2WPKH input needs at the least: parse the 33-byte compressed
// public key (a square root to recover y), parse the DER signature, and
// verify it. Benchmarks use it as the yardstick of what the hardware
// allows (workers 1: one core's rate).
func SigVerifyRate(workers int) float64 {
	const n = 64
	var pubs, sigs, hashes [n][]byte
	r := rand.New(rand.NewSource(1))
	for i := range n {
		var seed [32]byte
		r.Read(seed[:])
		key, _ := btcec.PrivKeyFromBytes(seed[:])
		hashes[i] = chainhash.DoubleHashB(seed[:])
		sigs[i] = ecdsa.Sign(key, hashes[i]).Serialize()
		pubs[i] = key.PubKey().SerializeCompressed()
	}
	var rates []float64
	for range 3 {
		var total atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				count := 0
				for time.Since(start) < time.Second {
					i := count % n
					pub, err := btcec.ParsePubKey(pubs[i])
					if err != nil {
						panic(err)
					}
					sig, err := ecdsa.ParseDERSignature(sigs[i])
					if err != nil || !sig.Verify(hashes[i], pub) {
						panic("chaintest: a signature of SigVerifyRate does not verify")
					}
					count++
				}
				total.Add(int64(count))
			}()
		}
		wg.Wait()
		rates = append(rates, float64(total.Load())/time.Since(start).Seconds())
	}
	sort.Float64s(rates)
	return rates[1]
}

// LiveHeap returns the live heap after two full collections, for
// benchmarks that report memory.
func LiveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
