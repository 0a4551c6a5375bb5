package consensus

import (
	"math/big"
	"time"
)

// asertRadix is the fixed-point scale of the ASERT exponent: an exponent of
// asertRadix doubles the target.
const asertRadix = 65536

// asertFactor returns 65536 * 2^(frac/65536), approximated by aserti3-2d's
// cubic polynomial with exactly the unsigned 64-bit arithmetic of the C++
// reference implementation (CalculateASERT in pow.cpp). The sum cannot wrap
// for any 16-bit frac, so the result equals the exact integer formula.
func asertFactor(frac uint16) uint64 {
	f := uint64(frac)
	return asertRadix + ((195766423245049*f +
		971821376*f*f +
		5127*f*f*f +
		1<<47) >> 48)
}

// CalcASERTTarget computes the aserti3-2d target of a block from its anchor:
// refTarget is the anchor block's target, timeDiff the time between the
// anchor's parent and the new block's parent, heightDiff the height of the
// new block's parent minus the anchor's height, and spacing and halfLife the
// target block interval and the half-life, all times in seconds. Blocks that
// come a half-life behind schedule double the target; a half-life ahead of
// schedule halves it.
//
// The result is bit-for-bit that of Bitcoin Cash Node's CalculateASERT
// whenever powLimit < 2^224 (the C++ preconditions), with the exponent
// ((timeDiff - spacing*(heightDiff+1)) * 65536) / halfLife computed without
// overflow for any inputs, and with the target arithmetic done on unbounded
// integers so that easy limits (such as regtest's 0x207fffff) work too: a
// target of 0 becomes 1, and a target above powLimit becomes powLimit.
//
// refTarget and halfLife must be positive; CalcASERTTarget panics otherwise,
// as the C++ asserts would fail. The arguments are not modified, and the
// returned value never aliases them.
//
// This function is safe for concurrent access.
func CalcASERTTarget(refTarget *big.Int, spacing, halfLife, timeDiff int64,
	heightDiff uint64, powLimit *big.Int) *big.Int {

	if refTarget.Sign() <= 0 {
		panic("consensus: CalcASERTTarget: reference target must be positive")
	}
	if halfLife <= 0 {
		panic("consensus: CalcASERTTarget: half-life must be positive")
	}

	// exponent = ((timeDiff - spacing*(heightDiff+1)) * 65536) / halfLife,
	// with Quo truncating towards zero like C++ division.
	exponent := new(big.Int).SetUint64(heightDiff)
	exponent.Add(exponent, big.NewInt(1))
	exponent.Mul(exponent, big.NewInt(spacing))
	exponent.Sub(big.NewInt(timeDiff), exponent)
	exponent.Mul(exponent, big.NewInt(asertRadix))
	exponent.Quo(exponent, big.NewInt(halfLife))

	// Split the exponent into an integer part, rounded down (big.Int's Rsh
	// is an arithmetic shift, like C++'s >> on int64), and a fractional
	// part in [0, 65536).
	shifts := new(big.Int).Rsh(exponent, 16)
	frac := uint16(new(big.Int).Sub(exponent,
		new(big.Int).Lsh(shifts, 16)).Uint64())

	// target = refTarget * 65536*2^(frac/65536) * 2^shifts / 65536.
	target := new(big.Int).SetUint64(asertFactor(frac))
	target.Mul(target, refTarget)
	shifts.Sub(shifts, big.NewInt(16))

	switch {
	case shifts.Sign() > 0:
		// target is at least 1, so shifting it left by powLimit's bit
		// length or more would exceed powLimit: clamp without building
		// a huge number.
		if !shifts.IsInt64() || shifts.Int64() >= int64(powLimit.BitLen()) {
			return new(big.Int).Set(powLimit)
		}
		target.Lsh(target, uint(shifts.Int64()))
	case shifts.Sign() < 0:
		shifts.Neg(shifts)
		if !shifts.IsInt64() || shifts.Int64() >= int64(target.BitLen()) {
			target.SetInt64(0)
		} else {
			target.Rsh(target, uint(shifts.Int64()))
		}
	}

	if target.Sign() == 0 {
		// 0 is not a valid target, but 1 is.
		return target.SetInt64(1)
	}
	if target.Cmp(powLimit) > 0 {
		return new(big.Int).Set(powLimit)
	}
	return target
}

// CalcNextRequiredBits returns the compact target a block must carry whose
// parent has height parentHeight and timestamp parentTime.
//
// With p.NoRetargeting every block carries p.PowLimitBits. Otherwise the
// target follows aserti3-2d ([CalcASERTTarget]) anchored at the genesis
// block: anchor height 0, anchor target p.GenesisBits and anchor parent time
// p.GenesisTime minus p.TargetSpacing, with p.TargetSpacing and
// p.AsertHalfLife taken in whole seconds. A negative parentHeight (the
// genesis block has no parent) gives p.GenesisBits.
//
// p.GenesisBits must encode a positive target and p.AsertHalfLife must be at
// least one second unless p.NoRetargeting is set; CalcNextRequiredBits
// panics otherwise.
//
// This function is safe for concurrent access.
func CalcNextRequiredBits(p *Params, parentHeight int32, parentTime int64) uint32 {
	if p.NoRetargeting {
		return p.PowLimitBits
	}
	if parentHeight < 0 {
		return p.GenesisBits
	}

	spacing := int64(p.TargetSpacing / time.Second)
	halfLife := int64(p.AsertHalfLife / time.Second)
	anchorParentTime := p.GenesisTime - spacing
	anchorTarget, negative, overflow := CompactToBig(p.GenesisBits)
	if negative || overflow {
		panic("consensus: CalcNextRequiredBits: invalid genesis bits")
	}

	target := CalcASERTTarget(anchorTarget, spacing, halfLife,
		parentTime-anchorParentTime, uint64(parentHeight), p.PowLimit)
	return BigToCompact(target)
}
