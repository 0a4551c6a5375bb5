// Package sha is the miner's SHA-256 compression function: one 64-byte
// block into an eight-word state, with no padding or length handling, so
// that the miner can hash a header's first 64 bytes once (the midstate) and
// then only the last 16 bytes for each nonce.
//
// On amd64 with the SHA extensions (SHA-NI) it runs an assembly kernel;
// everywhere else a portable Go implementation. Tests check that both give
// identical results and agree with crypto/sha256.
package sha

// IV is SHA-256's initial state.
var IV = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// Block compresses one 64-byte block into state h.
func Block(h *[8]uint32, p *[64]byte) { block(h, p) }

// Accelerated reports whether Block runs the SHA-NI kernel.
func Accelerated() bool { return useSHANI }
