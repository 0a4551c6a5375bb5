package sha

import "encoding/binary"

// DoubleHash2 computes, for two padded 16-byte header tails (each a whole
// final block: header bytes 64..79, 0x80, zeros, bit length 640), the double
// SHA-256 of the header whose first 64 bytes compressed to mid. The results
// are the second hash's state words; the hash's bytes are their big-endian
// encodings. On SHA-NI machines the two lanes run interleaved in one
// assembly call.
func DoubleHash2(mid *[8]uint32, tails *[2][64]byte, out *[2][8]uint32) {
	doubleHash2(mid, tails, out)
}

// secondBlock is the padding of a 32-byte message.
func secondBlock(first [8]uint32) [64]byte {
	var b [64]byte
	for i, w := range first {
		binary.BigEndian.PutUint32(b[4*i:], w)
	}
	b[32] = 0x80
	binary.BigEndian.PutUint64(b[56:], 256)
	return b
}

// doubleHash2Generic is DoubleHash2 with the portable compression.
func doubleHash2Generic(mid *[8]uint32, tails *[2][64]byte, out *[2][8]uint32) {
	for lane := range tails {
		s := *mid
		blockGeneric(&s, &tails[lane])
		second := secondBlock(s)
		o := IV
		blockGeneric(&o, &second)
		out[lane] = o
	}
}
