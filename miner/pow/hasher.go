package pow

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"math/bits"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/miner/internal/sha"
)

// HeaderHasher hashes one header for many nonces. The first 64 bytes of the
// header (version, previous hash, most of the merkle root) are compressed
// once into a midstate; each nonce then costs two compressions: the last 16
// header bytes with their padding, and the second SHA-256 over the first
// digest. Nonces go in pairs, which the SHA-NI kernel hashes interleaved.
type HeaderHasher struct {
	mid   [8]uint32
	tails [2][64]byte // header bytes 64..79, 0x80, zeros, bit length 640
	out   [2][8]uint32
}

// NewHeaderHasher prepares h for nonce search; h's own nonce is ignored.
func NewHeaderHasher(h *wire.BlockHeader) *HeaderHasher {
	var buf bytes.Buffer
	buf.Grow(wire.MaxBlockHeaderPayload)
	_ = h.Serialize(&buf)
	raw := buf.Bytes()
	hh := &HeaderHasher{mid: sha.IV}
	sha.Block(&hh.mid, (*[64]byte)(raw[:64]))
	for lane := range hh.tails {
		copy(hh.tails[lane][:16], raw[64:80])
		hh.tails[lane][16] = 0x80
		binary.BigEndian.PutUint64(hh.tails[lane][56:], 80*8)
	}
	return hh
}

// HashPair returns the double SHA-256 of the header with nonces n and n+1,
// as the eight state words of each second hash (the hash's bytes are their
// big-endian encodings, in order). The result is valid until the next call.
func (hh *HeaderHasher) HashPair(n uint32) *[2][8]uint32 {
	binary.LittleEndian.PutUint32(hh.tails[0][12:16], n)
	binary.LittleEndian.PutUint32(hh.tails[1][12:16], n+1)
	sha.DoubleHash2(&hh.mid, &hh.tails, &hh.out)
	return &hh.out
}

// Hash returns the double SHA-256 of the header with one nonce.
func (hh *HeaderHasher) Hash(nonce uint32) [8]uint32 { return hh.HashPair(nonce)[0] }

// StateHash converts the second hash's state words to a chainhash.Hash.
func StateHash(s [8]uint32) chainhash.Hash {
	var h chainhash.Hash
	for i, w := range s {
		binary.BigEndian.PutUint32(h[4*i:], w)
	}
	return h
}

// Target is a target prepared for fast comparison with hash states: the
// hash read as a little-endian number has its most significant 32 bits in
// the byte-swapped last state word.
type Target struct {
	top uint32
	big *big.Int
}

func NewTarget(target *big.Int) Target {
	t := new(big.Int).Rsh(target, 224)
	top := uint64(0xffffffff)
	if t.IsUint64() && t.Uint64() <= 0xffffffff {
		top = t.Uint64()
	}
	return Target{top: uint32(top), big: target}
}

// Meets reports whether the hash state s is at or below the target.
func (t *Target) Meets(s [8]uint32) bool {
	top := bits.ReverseBytes32(s[7])
	if top != t.top {
		return top < t.top
	}
	h := StateHash(s)
	var be [32]byte
	for i := range h {
		be[31-i] = h[i]
	}
	return new(big.Int).SetBytes(be[:]).Cmp(t.big) <= 0
}
