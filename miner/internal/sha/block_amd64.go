package sha

import "github.com/klauspost/cpuid/v2"

// useSHANI selects the assembly kernel: it needs the SHA extensions and the
// SSSE3/SSE4.1 shuffles and blends it uses around them.
var useSHANI = cpuid.CPU.Supports(cpuid.SHA, cpuid.SSSE3, cpuid.SSE4)

// blockSHANI compresses one block with the SHA-NI instructions.
//
//go:noescape
func blockSHANI(h *[8]uint32, p *[64]byte)

func block(h *[8]uint32, p *[64]byte) {
	if useSHANI {
		blockSHANI(h, p)
		return
	}
	blockGeneric(h, p)
}

// doubleHash2SHANI computes two header hashes from one midstate; see
// DoubleHash2.
//
//go:noescape
func doubleHash2SHANI(mid *[8]uint32, tails *[2][64]byte, out *[2][8]uint32)

func doubleHash2(mid *[8]uint32, tails *[2][64]byte, out *[2][8]uint32) {
	if useSHANI {
		doubleHash2SHANI(mid, tails, out)
		return
	}
	doubleHash2Generic(mid, tails, out)
}
