package coreshape

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript"
)

// Descriptor is the output descriptor Core infers for an output script
// when it knows no keys or scripts behind it (InferDescriptor with a dummy
// signing provider), with its checksum: pk() for a bare public key,
// multi() for bare multisig, rawtr() for a taproot output whose key is on
// the curve, addr() for any other script with an address, and raw() for
// the rest. typ and addr are ClassifyScript's answers for script.
func Descriptor(script []byte, typ, addr string) string {
	d := inferDescriptor(script, typ, addr)
	return d + "#" + DescriptorChecksum(d)
}

func inferDescriptor(script []byte, typ, addr string) string {
	switch typ {
	case "pubkey":
		if key := script[1 : len(script)-1]; nonHybridKey(key) {
			return "pk(" + hex.EncodeToString(key) + ")"
		}
	case "multisig":
		if d, ok := multiDescriptor(script); ok {
			return d
		}
	case "witness_v1_taproot":
		if _, err := schnorr.ParsePubKey(script[2:]); err == nil {
			return "rawtr(" + hex.EncodeToString(script[2:]) + ")"
		}
	}
	if addr != "" {
		return "addr(" + addr + ")"
	}
	return "raw(" + hex.EncodeToString(script) + ")"
}

// nonHybridKey is Core's CPubKey::IsValidNonHybrid: a compressed or
// uncompressed key whose length matches its first byte (Core checks no
// more, not even that the point is on the curve).
func nonHybridKey(k []byte) bool {
	switch {
	case len(k) == 33:
		return k[0] == 0x02 || k[0] == 0x03
	case len(k) == 65:
		return k[0] == 0x04
	}
	return false
}

// multiDescriptor is multi(k,key,...) for a bare multisig script whose
// keys are all non-hybrid.
func multiDescriptor(script []byte) (string, bool) {
	tok := txscript.MakeScriptTokenizer(0, script)
	var parts []string
	for tok.Next() {
		op := tok.Opcode()
		switch {
		case len(parts) == 0 && op >= txscript.OP_1 && op <= txscript.OP_16:
			parts = append(parts, strconv.Itoa(int(op-txscript.OP_1+1)))
		case len(parts) > 0 && tok.Data() != nil:
			if !nonHybridKey(tok.Data()) {
				return "", false
			}
			parts = append(parts, hex.EncodeToString(tok.Data()))
		}
	}
	if tok.Err() != nil || len(parts) < 2 {
		return "", false
	}
	return "multi(" + strings.Join(parts, ",") + ")", true
}

// descriptorCharset is the descriptor checksum's input character set, in
// the order of its values (BIP 380).
const descriptorCharset = "0123456789()[],'/*abcdefgh@:$%{}" +
	"IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~" +
	"ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "

// checksumCharset is the bech32 alphabet the checksum is written in.
const checksumCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// descPolyMod is one step of the checksum's BCH code over GF(32).
func descPolyMod(c uint64, val int) uint64 {
	c0 := c >> 35
	c = (c&0x7ffffffff)<<5 ^ uint64(val)
	for i, g := range [5]uint64{0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d, 0x3706b1677a, 0x644d626ffd} {
		if c0>>i&1 != 0 {
			c ^= g
		}
	}
	return c
}

// DescriptorChecksum is BIP 380's eight-character checksum of a
// descriptor, or "" when it holds a character descriptors may not.
func DescriptorChecksum(desc string) string {
	c := uint64(1)
	cls, clsCount := 0, 0
	for _, ch := range desc {
		pos := strings.IndexRune(descriptorCharset, ch)
		if pos < 0 {
			return ""
		}
		c = descPolyMod(c, pos&31)
		cls = cls*3 + pos>>5
		if clsCount++; clsCount == 3 {
			c = descPolyMod(c, cls)
			cls, clsCount = 0, 0
		}
	}
	if clsCount > 0 {
		c = descPolyMod(c, cls)
	}
	for range 8 {
		c = descPolyMod(c, 0)
	}
	c ^= 1
	var out [8]byte
	for j := range out {
		out[j] = checksumCharset[c>>(5*(7-j))&31]
	}
	return string(out[:])
}
