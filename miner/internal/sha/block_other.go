//go:build !amd64

package sha

const useSHANI = false

func block(h *[8]uint32, p *[64]byte) { blockGeneric(h, p) }
