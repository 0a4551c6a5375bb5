package consensus

import (
	"math/big"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// Constants of the compact ("nBits") target encoding.
const (
	// compactSignBit is the bit of a compact value that marks the mantissa
	// as negative.
	compactSignBit = 0x00800000
	// compactMantissaMask selects the 23-bit mantissa of a compact value.
	compactMantissaMask = 0x007fffff
)

// powTwo256 is 2^256, the numerator of [CalcWork]. It must not be modified.
var powTwo256 = new(big.Int).Lsh(big.NewInt(1), 256)

// CompactToBig decodes a compact ("nBits") target the way Bitcoin Core's
// arith_uint256::SetCompact does. The top byte is a base-256 exponent, the
// low 23 bits are the mantissa and bit 0x00800000 is the sign.
//
// negative reports that the sign bit is set and the mantissa (after the
// shift applied to exponents below 3) is not zero; the returned target is
// then the negated value. overflow reports that the value does not fit in 256
// bits; the returned target is then the unreduced value, which callers must
// not use as a target.
//
// This function is safe for concurrent access.
func CompactToBig(bits uint32) (target *big.Int, negative, overflow bool) {
	size := bits >> 24
	word := bits & compactMantissaMask

	if size <= 3 {
		word >>= 8 * (3 - size)
		target = new(big.Int).SetUint64(uint64(word))
	} else {
		target = new(big.Int).SetUint64(uint64(word))
		target.Lsh(target, uint(8*(size-3)))
	}

	negative = word != 0 && bits&compactSignBit != 0
	overflow = word != 0 && (size > 34 ||
		(word > 0xff && size > 33) ||
		(word > 0xffff && size > 32))
	if negative {
		target.Neg(target)
	}
	return target, negative, overflow
}

// BigToCompact encodes n in compact ("nBits") form the way Bitcoin Core's
// arith_uint256::GetCompact does: the mantissa keeps the three most
// significant bytes of n (rounding towards zero), and when its top bit would
// collide with the sign bit the mantissa is shifted one byte right and the
// exponent raised by one. A negative n is encoded as its absolute value with
// the sign bit set, as GetCompact(true) does; zero encodes as 0.
//
// n must be below 2^2032 so that the exponent fits in one byte; every
// 256-bit target does.
//
// This function is safe for concurrent access.
func BigToCompact(n *big.Int) uint32 {
	if n.Sign() == 0 {
		return 0
	}
	abs := new(big.Int).Abs(n)

	size := uint32((abs.BitLen() + 7) / 8)
	var compact uint32
	if size <= 3 {
		compact = uint32(abs.Uint64()) << (8 * (3 - size))
	} else {
		compact = uint32(abs.Rsh(abs, uint(8*(size-3))).Uint64())
	}

	// The 0x00800000 bit is the sign, so a mantissa that would set it is
	// divided by 256 and the exponent raised instead.
	if compact&compactSignBit != 0 {
		compact >>= 8
		size++
	}
	compact |= size << 24
	if n.Sign() < 0 && compact&compactMantissaMask != 0 {
		compact |= compactSignBit
	}
	return compact
}

// HashToBig reads a hash as a little-endian 256-bit unsigned number, the
// number proof of work compares against the target.
//
// This function is safe for concurrent access.
func HashToBig(hash *chainhash.Hash) *big.Int {
	var be [chainhash.HashSize]byte
	for i, b := range hash {
		be[chainhash.HashSize-1-i] = b
	}
	return new(big.Int).SetBytes(be[:])
}

// TargetFromBits decodes bits into a proof-of-work target and checks that it
// is usable: it returns a [RuleError] of kind [ErrHighHash] when the target
// is negative, zero, overflows 256 bits or is easier (greater) than powLimit.
//
// This function is safe for concurrent access.
func TargetFromBits(bits uint32, powLimit *big.Int) (*big.Int, error) {
	target, negative, overflow := CompactToBig(bits)
	switch {
	case negative:
		return nil, ruleError(ErrHighHash,
			"target bits %08x encode a negative target", bits)
	case overflow:
		return nil, ruleError(ErrHighHash,
			"target bits %08x overflow 256 bits", bits)
	case target.Sign() == 0:
		return nil, ruleError(ErrHighHash,
			"target bits %08x encode a zero target", bits)
	case target.Cmp(powLimit) > 0:
		return nil, ruleError(ErrHighHash,
			"target %064x of bits %08x is above the proof-of-work "+
				"limit %064x", target, bits, powLimit)
	}
	return target, nil
}

// CheckProofOfWork checks that bits encode a valid target no easier than
// powLimit (see [TargetFromBits]) and that hash, read as a number with
// [HashToBig], is not above that target. Every failure is a [RuleError] of
// kind [ErrHighHash].
//
// These checks are context free: they do not verify that bits are the
// difficulty the chain requires at this height (see [CalcNextRequiredBits]).
//
// This function is safe for concurrent access.
func CheckProofOfWork(hash chainhash.Hash, bits uint32, powLimit *big.Int) error {
	target, err := TargetFromBits(bits, powLimit)
	if err != nil {
		return err
	}
	if hashNum := HashToBig(&hash); hashNum.Cmp(target) > 0 {
		return ruleError(ErrHighHash,
			"block hash %064x is above target %064x", hashNum, target)
	}
	return nil
}

// CalcWork returns the expected number of hashes needed to find a block with
// the target encoded in bits: floor(2^256 / (target+1)), the value Bitcoin
// Core's GetBlockProof computes. It returns 0 when the target is negative,
// zero or overflows.
//
// This function is safe for concurrent access.
func CalcWork(bits uint32) *big.Int {
	target, negative, overflow := CompactToBig(bits)
	if negative || overflow || target.Sign() == 0 {
		return new(big.Int)
	}
	denominator := target.Add(target, big.NewInt(1))
	return denominator.Quo(powTwo256, denominator)
}
