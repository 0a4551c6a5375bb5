//go:build !amd64

package sha

const useSHANI = false

func block(h *[8]uint32, p *[64]byte) { blockGeneric(h, p) }

func doubleHash2(mid *[8]uint32, tails *[2][64]byte, out *[2][8]uint32) {
	doubleHash2Generic(mid, tails, out)
}
