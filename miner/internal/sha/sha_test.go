package sha

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand"
	"testing"
)

// sum256 hashes msg (any length) with Block, padding as SHA-256 does.
func sum256(msg []byte, blockFn func(*[8]uint32, *[64]byte)) [32]byte {
	padded := append([]byte(nil), msg...)
	padded = append(padded, 0x80)
	for len(padded)%64 != 56 {
		padded = append(padded, 0)
	}
	padded = binary.BigEndian.AppendUint64(padded, uint64(len(msg))*8)
	h := IV
	for i := 0; i < len(padded); i += 64 {
		blockFn(&h, (*[64]byte)(padded[i:i+64]))
	}
	var out [32]byte
	for i, w := range h {
		binary.BigEndian.PutUint32(out[4*i:], w)
	}
	return out
}

// TestBlockMatchesStdlib ensures the portable and (where the CPU has it) the
// SHA-NI compression give crypto/sha256's digests for messages of many
// lengths, and identical states for random blocks and states.
func TestBlockMatchesStdlib(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(1))
	impls := map[string]func(*[8]uint32, *[64]byte){"generic": blockGeneric, "dispatch": Block}
	for n := 0; n < 300; n++ {
		msg := make([]byte, n)
		r.Read(msg)
		want := sha256.Sum256(msg)
		for name, fn := range impls {
			if got := sum256(msg, fn); got != want {
				t.Fatalf("%s: length %d: got %x, want %x", name, n, got, want)
			}
		}
	}
	for i := 0; i < 2000; i++ {
		var h [8]uint32
		var p [64]byte
		for j := range h {
			h[j] = r.Uint32()
		}
		r.Read(p[:])
		a, b := h, h
		blockGeneric(&a, &p)
		Block(&b, &p)
		if a != b {
			t.Fatalf("random block %d: generic %x, dispatch %x", i, a, b)
		}
	}
	t.Logf("SHA-NI kernel in use: %v", Accelerated())
}

// BenchmarkBlock measures one compression.
func BenchmarkBlock(b *testing.B) {
	h := IV
	var p [64]byte
	for i := 0; i < b.N; i++ {
		p[0] = byte(i)
		Block(&h, &p)
	}
}

// BenchmarkBlockGeneric measures the portable compression.
func BenchmarkBlockGeneric(b *testing.B) {
	h := IV
	var p [64]byte
	for i := 0; i < b.N; i++ {
		p[0] = byte(i)
		blockGeneric(&h, &p)
	}
}

// TestDoubleHash2 ensures the two-lane header hash (assembly where the CPU
// has SHA-NI) equals the portable one and crypto/sha256's double hash of the
// 80-byte header, for both lanes and many random headers.
func TestDoubleHash2(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 3000; i++ {
		var hdr [2][80]byte
		r.Read(hdr[0][:])
		hdr[1] = hdr[0]
		r.Read(hdr[1][64:])
		mid := IV
		Block(&mid, (*[64]byte)(hdr[0][:64]))
		var tails [2][64]byte
		for lane := range tails {
			copy(tails[lane][:16], hdr[lane][64:])
			tails[lane][16] = 0x80
			binary.BigEndian.PutUint64(tails[lane][56:], 640)
		}
		var got, gen [2][8]uint32
		DoubleHash2(&mid, &tails, &got)
		doubleHash2Generic(&mid, &tails, &gen)
		for lane := range hdr {
			first := sha256.Sum256(hdr[lane][:])
			want := sha256.Sum256(first[:])
			var gotBytes [32]byte
			for j, w := range got[lane] {
				binary.BigEndian.PutUint32(gotBytes[4*j:], w)
			}
			if gotBytes != want || got[lane] != gen[lane] {
				t.Fatalf("header %d lane %d: got %x, generic %x, want %x", i, lane, got[lane], gen[lane], want)
			}
		}
	}
}

// BenchmarkDoubleHash2 measures two header hashes per call.
func BenchmarkDoubleHash2(b *testing.B) {
	mid := IV
	var tails [2][64]byte
	var out [2][8]uint32
	for i := 0; i < b.N; i++ {
		tails[0][12] = byte(i)
		tails[1][12] = byte(i + 1)
		DoubleHash2(&mid, &tails, &out)
	}
}
