// Command gengenesis mines the genesis blocks of the built-in networks once,
// on every core, and prints the nonces to hard-code in chainparams. It is a
// maintainer's tool: run it only when a genesis parameter changes.
//
//	go run ./chain/chainparams/internal/gengenesis
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
)

func main() {
	for _, n := range []*chainparams.Network{chainparams.Regtest(), chainparams.Test(), chainparams.Main()} {
		nonce, ok := mine(n.Genesis)
		if !ok {
			fmt.Printf("%s: no nonce found; change the time or message\n", n.Name)
			continue
		}
		b := *n.Genesis
		b.Header.Nonce = nonce
		fmt.Printf("%s: nonce %d hash %v\n", n.Name, nonce, consensus.BlockHash(&b.Header))
	}
}

// mine searches the nonce space on all cores and returns the smallest nonce
// found by any worker in its own stride.
func mine(genesis *wire.MsgBlock) (uint32, bool) {
	target, _, _ := consensus.CompactToBig(genesis.Header.Bits)
	workers := runtime.NumCPU()
	quick := target.BitLen() <= 248
	var found atomic.Bool
	var mu sync.Mutex
	best, ok := uint32(0), false
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(start uint32) {
			defer wg.Done()
			var buf bytes.Buffer
			_ = genesis.Header.Serialize(&buf)
			hdr := buf.Bytes()
			for n := uint64(start); n <= 0xffffffff && !found.Load(); n += uint64(workers) {
				binary.LittleEndian.PutUint32(hdr[76:], uint32(n))
				hash := consensus.DoubleHashH(hdr)
				// Targets below 2^248 need a zero top byte: a cheap
				// first filter before the big-integer compare.
				if (quick && hash[31] != 0) || consensus.HashToBig(&hash).Cmp(target) > 0 {
					continue
				}
				mu.Lock()
				if !ok || uint32(n) < best {
					best, ok = uint32(n), true
				}
				mu.Unlock()
				found.Store(true)
				return
			}
		}(uint32(w))
	}
	wg.Wait()
	return best, ok
}
