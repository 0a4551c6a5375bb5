package pow

import (
	"context"
	"crypto/sha256"
	"math/big"
	"math/rand"
	"runtime"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// TestHeaderHasher ensures the midstate hasher gives the block hash that
// consensus computes, for random headers and nonces, and that the fast
// target comparison agrees with consensus's proof-of-work check.
func TestHeaderHasher(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 200; i++ {
		var h wire.BlockHeader
		h.Version = r.Int31()
		r.Read(h.PrevBlock[:])
		r.Read(h.MerkleRoot[:])
		h.Timestamp = time.Unix(int64(r.Uint32()), 0)
		h.Bits = r.Uint32()
		hh := NewHeaderHasher(&h)
		for j := 0; j < 10; j++ {
			n := r.Uint32()
			pair := *hh.HashPair(n)
			for lane, s := range pair {
				h.Nonce = n + uint32(lane)
				got := StateHash(s)
				if want := consensus.BlockHash(&h); got != want {
					t.Fatalf("header %d nonce %d (lane %d): got %v, want %v", i, h.Nonce, lane, got, want)
				}
				first := sha256.Sum256(mustSerialize(&h))
				if chainhash.Hash(sha256.Sum256(first[:])) != got {
					t.Fatal("disagrees with crypto/sha256")
				}
			}
		}
	}
	for _, bits := range []uint32{0x207fffff, 0x1d00ffff, 0x1f00ffff, 0x03123456} {
		target, _, _ := consensus.CompactToBig(bits)
		pt := NewTarget(target)
		var h wire.BlockHeader
		h.Bits = bits
		hh := NewHeaderHasher(&h)
		for n := uint32(0); n < 5000; n++ {
			h.Nonce = n
			s := hh.Hash(n)
			hash := StateHash(s)
			want := consensus.HashToBig(&hash).Cmp(target) <= 0
			if pt.Meets(s) != want {
				t.Fatalf("bits %08x nonce %d: meets %v, want %v", bits, n, !want, want)
			}
		}
	}
	// A target whose top word equals a hash's top word takes the slow path.
	var h wire.BlockHeader
	hh := NewHeaderHasher(&h)
	s := hh.Hash(0)
	hash := StateHash(s)
	exact := consensus.HashToBig(&hash)
	for delta, want := range map[int64]bool{-1: false, 0: true, 1: true} {
		pt := NewTarget(new(big.Int).Add(exact, big.NewInt(delta)))
		if pt.Meets(s) != want {
			t.Fatalf("target hash%+d: meets %v, want %v", delta, !want, want)
		}
	}
}

func mustSerialize(h *wire.BlockHeader) []byte {
	var buf [80]byte
	w := bytesWriter{b: buf[:0]}
	_ = h.Serialize(&w)
	return w.b
}

type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// BenchmarkHeaderHash measures one nonce's double SHA-256 with the
// midstate (nonces hashed in pairs, as the miner does).
func BenchmarkHeaderHash(b *testing.B) {
	hh := NewHeaderHasher(&wire.BlockHeader{})
	var sink uint32
	for i := 0; i < b.N; i += 2 {
		out := hh.HashPair(uint32(i))
		sink ^= out[0][7] ^ out[1][7]
	}
	_ = sink
}

// BenchmarkPlainDoubleSHA256 is the reference the miner is measured
// against: crypto/sha256's Sum256(Sum256(header)).
func BenchmarkPlainDoubleSHA256(b *testing.B) {
	var h [80]byte
	for i := 0; i < b.N; i++ {
		h[76] = byte(i)
		f := sha256.Sum256(h[:])
		_ = sha256.Sum256(f[:])
	}
}

// BenchmarkMinerScaling measures the mining rate on one thread and on every
// core in the same run, with crypto/sha256's plain double hash of the header
// on one thread as the reference. Targets: per core at least 2x the plain
// rate (goal 3x), and all cores at least 1.9x one core on two cores.
func BenchmarkMinerScaling(b *testing.B) {
	const d = 3 * time.Second
	plain := func() float64 {
		var h [80]byte
		n := 0
		start := time.Now()
		for time.Since(start) < d {
			for i := 0; i < 1<<16; i++ {
				h[76], h[77] = byte(i), byte(i>>8)
				f := sha256.Sum256(h[:])
				_ = sha256.Sum256(f[:])
			}
			n += 1 << 16
		}
		return float64(n) / time.Since(start).Seconds()
	}
	for i := 0; i < b.N; i++ {
		base := plain()
		one := Benchmark(context.Background(), 1, d)
		all := Benchmark(context.Background(), runtime.NumCPU(), d)
		b.ReportMetric(base/1e6, "plain-MH/s")
		b.ReportMetric(one.HashesPerSec/1e6, "1thread-MH/s")
		b.ReportMetric(all.HashesPerSec/1e6, "allcores-MH/s")
		b.ReportMetric(one.HashesPerSec/base, "x-plain")
		b.ReportMetric(all.HashesPerSec/one.HashesPerSec, "x-scaling")
	}
}
