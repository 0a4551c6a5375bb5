package consensus

import (
	"bufio"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// asertVectorDir holds the aserti3-2d conformance vectors (see its
// README.md).
const asertVectorDir = "../testdata/asert"

// asertVectorFiles names every vector file that must be present.
var asertVectorFiles = []string{
	"run01", "run02", "run03", "run04", "run05",
	"run06", "run07", "run08", "run09", "run10",
}

// The parameters every vector run assumes: Bitcoin's proof-of-work limit, a
// 600-second spacing and a two-day half-life.
const (
	vectorPowLimitBits = 0x1d00ffff
	vectorSpacing      = 600
	vectorHalfLife     = 172800
)

// asertVectorLine is one data line of a vector file: the target (as nBits)
// of the block after a block at height with timestamp time.
type asertVectorLine struct {
	lineNo    int
	iteration uint64
	height    uint64
	time      int64
	bits      uint32
}

// asertVectorRun is one parsed vector file.
type asertVectorRun struct {
	description      string
	anchorHeight     uint64
	anchorParentTime int64
	anchorBits       uint32
	iterations       uint64
	lines            []asertVectorLine
}

// parseHexBits parses a 0x-prefixed 32-bit hex value.
func parseHexBits(s string) (uint32, error) {
	hex, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return 0, fmt.Errorf("%q lacks the 0x prefix", s)
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	return uint32(v), err
}

// parseASERTVectors reads and parses one vector file, failing the test on
// any malformed line or missing header.
func parseASERTVectors(t *testing.T, path string) *asertVectorRun {
	t.Helper()

	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open vectors: %v", err)
	}
	defer f.Close()

	run := new(asertVectorRun)
	seen := make(map[string]bool)
	scanner := bufio.NewScanner(f)
	for lineNo := 1; scanner.Scan(); lineNo++ {
		line := scanner.Text()
		fail := func(err error) {
			t.Helper()
			t.Fatalf("%s:%d: %q: %v", path, lineNo, line, err)
		}
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case strings.HasPrefix(line, "##"):
			key, value, ok := strings.Cut(strings.TrimPrefix(line, "##"), ":")
			if !ok {
				fail(fmt.Errorf("header line without a colon"))
			}
			key, value = strings.TrimSpace(key), strings.TrimSpace(value)
			seen[key] = true
			switch key {
			case "description":
				run.description = value
			case "anchor height":
				run.anchorHeight, err = strconv.ParseUint(value, 10, 64)
			case "anchor ancestor time":
				run.anchorParentTime, err = strconv.ParseInt(value, 10, 64)
			case "anchor nBits":
				run.anchorBits, err = parseHexBits(value)
			case "iterations":
				run.iterations, err = strconv.ParseUint(value, 10, 64)
			}
			if err != nil {
				fail(err)
			}
		case strings.HasPrefix(line, "#"):
			continue
		default:
			fields := strings.Fields(line)
			if len(fields) != 4 {
				fail(fmt.Errorf("got %d fields, want 4", len(fields)))
			}
			v := asertVectorLine{lineNo: lineNo}
			if v.iteration, err = strconv.ParseUint(fields[0], 10, 64); err != nil {
				fail(err)
			}
			if v.height, err = strconv.ParseUint(fields[1], 10, 64); err != nil {
				fail(err)
			}
			if v.time, err = strconv.ParseInt(fields[2], 10, 64); err != nil {
				fail(err)
			}
			if v.bits, err = parseHexBits(fields[3]); err != nil {
				fail(err)
			}
			run.lines = append(run.lines, v)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}

	for _, key := range []string{"description", "anchor height",
		"anchor ancestor time", "anchor nBits", "iterations"} {
		if !seen[key] {
			t.Fatalf("%s: missing %q header", path, key)
		}
	}
	if len(run.lines) == 0 {
		t.Fatalf("%s: no data lines", path)
	}
	if uint64(len(run.lines)) != run.iterations {
		t.Fatalf("%s: %d data lines, header says %d iterations", path,
			len(run.lines), run.iterations)
	}
	return run
}

// TestASERTVectorFilesPresent ensures every vector file exists and holds data
// lines, so that a lost or truncated file cannot make TestASERTVectors pass
// vacuously.
func TestASERTVectorFilesPresent(t *testing.T) {
	t.Parallel()

	entries, err := os.ReadDir(asertVectorDir)
	if err != nil {
		t.Fatalf("read vector directory: %v", err)
	}
	present := make(map[string]bool)
	for _, e := range entries {
		present[e.Name()] = true
	}
	for _, name := range asertVectorFiles {
		if !present[name] {
			t.Errorf("vector file %s is missing", name)
			continue
		}
		run := parseASERTVectors(t, filepath.Join(asertVectorDir, name))
		if len(run.lines) == 0 {
			t.Errorf("vector file %s has no data lines", name)
		}
	}
}

// TestASERTVectors ensures CalcASERTTarget reproduces every target of the
// aserti3-2d conformance vectors, including heights beyond the signed 64-bit
// range and times beyond the signed 32-bit range.
func TestASERTVectors(t *testing.T) {
	t.Parallel()

	powLimit, _, _ := CompactToBig(vectorPowLimitBits)
	for _, name := range asertVectorFiles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			run := parseASERTVectors(t, filepath.Join(asertVectorDir, name))
			refTarget, err := TargetFromBits(run.anchorBits, powLimit)
			if err != nil {
				t.Fatalf("anchor bits %08x: %v", run.anchorBits, err)
			}
			for _, v := range run.lines {
				if v.height < run.anchorHeight {
					t.Fatalf("line %d: height %d below anchor height %d",
						v.lineNo, v.height, run.anchorHeight)
				}
				target := CalcASERTTarget(refTarget, vectorSpacing,
					vectorHalfLife, v.time-run.anchorParentTime,
					v.height-run.anchorHeight, powLimit)
				if got := BigToCompact(target); got != v.bits {
					t.Errorf("%s line %d (iteration %d, height %d, "+
						"time %d): got bits %08x, want %08x",
						run.description, v.lineNo, v.iteration,
						v.height, v.time, got, v.bits)
				}
			}
		})
	}
}

// TestASERTFactorExact ensures the unsigned 64-bit polynomial of asertFactor
// never wraps, by comparing it with exact integer arithmetic for every
// fractional exponent, and that it stays within one doubling.
func TestASERTFactorExact(t *testing.T) {
	t.Parallel()

	prev := uint64(0)
	for i := 0; i <= 0xffff; i++ {
		f := big.NewInt(int64(i))
		sum := new(big.Int).Mul(big.NewInt(195766423245049), f)
		sq := new(big.Int).Mul(f, f)
		sum.Add(sum, new(big.Int).Mul(big.NewInt(971821376), sq))
		sum.Add(sum, new(big.Int).Mul(big.NewInt(5127), sq.Mul(sq, f)))
		sum.Add(sum, new(big.Int).Lsh(big.NewInt(1), 47))
		want := sum.Rsh(sum, 48).Uint64() + asertRadix

		got := asertFactor(uint16(i))
		if got != want {
			t.Fatalf("frac %d: got factor %d, want %d", i, got, want)
		}
		if got < prev || got >= 2*asertRadix {
			t.Fatalf("frac %d: factor %d not in [%d, %d)", i, got, prev,
				2*asertRadix)
		}
		prev = got
	}
}

// TestCalcASERTTargetEdges ensures CalcASERTTarget clamps to the limits
// without overflow for extreme inputs and easy limits, and never returns a
// value aliasing its arguments.
func TestCalcASERTTargetEdges(t *testing.T) {
	t.Parallel()

	const maxU64 = ^uint64(0)
	const maxI64 = int64(^uint64(0) >> 1)
	const minI64 = -maxI64 - 1

	tests := []struct {
		name       string
		refBits    uint32
		spacing    int64
		halfLife   int64
		timeDiff   int64
		heightDiff uint64
		limitBits  uint32
		want       *big.Int // nil means the limit
	}{{
		name:     "on schedule keeps target",
		refBits:  0x1b0404cb,
		spacing:  600,
		halfLife: 172800,
		timeDiff: 600 * 101, heightDiff: 100,
		limitBits: 0x1d00ffff,
		want:      mustCompact(0x1b0404cb),
	}, {
		name:     "one half-life late doubles",
		refBits:  0x1b0404cb,
		spacing:  600,
		halfLife: 172800,
		timeDiff: 600*101 + 172800, heightDiff: 100,
		limitBits: 0x1d00ffff,
		want:      new(big.Int).Lsh(mustCompact(0x1b0404cb), 1),
	}, {
		name:     "one half-life early halves",
		refBits:  0x1b0404cb,
		spacing:  600,
		halfLife: 172800,
		timeDiff: 600*101 - 172800, heightDiff: 100,
		limitBits: 0x1d00ffff,
		want:      new(big.Int).Rsh(mustCompact(0x1b0404cb), 1),
	}, {
		name:     "huge time clamps to bitcoin limit",
		refBits:  0x1b0404cb,
		spacing:  600,
		halfLife: 1,
		timeDiff: maxI64, heightDiff: 0,
		limitBits: 0x1d00ffff,
	}, {
		name:     "huge time clamps to regtest limit",
		refBits:  0x207fffff,
		spacing:  1,
		halfLife: 1,
		timeDiff: maxI64, heightDiff: 0,
		limitBits: 0x207fffff,
	}, {
		name:     "regtest limit late block stays at limit",
		refBits:  0x207fffff,
		spacing:  600,
		halfLife: 3600,
		timeDiff: 600 + 3600, heightDiff: 0,
		limitBits: 0x207fffff,
	}, {
		name:     "regtest limit early block halves",
		refBits:  0x207fffff,
		spacing:  600,
		halfLife: 3600,
		timeDiff: 600 - 3600, heightDiff: 0,
		limitBits: 0x207fffff,
		want:      new(big.Int).Rsh(mustCompact(0x207fffff), 1),
	}, {
		name:     "huge height and early time floors at one",
		refBits:  0x1d00ffff,
		spacing:  maxI64,
		halfLife: 1,
		timeDiff: minI64, heightDiff: maxU64,
		limitBits: 0x1d00ffff,
		want:      big.NewInt(1),
	}, {
		name:     "minimum target stays at one on schedule",
		refBits:  0x01010000,
		spacing:  600,
		halfLife: 172800,
		timeDiff: 600, heightDiff: 0,
		limitBits: 0x1d00ffff,
		want:      big.NewInt(1),
	}}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			ref := mustCompact(test.refBits)
			limit := mustCompact(test.limitBits)
			refCopy := new(big.Int).Set(ref)
			limitCopy := new(big.Int).Set(limit)
			got := CalcASERTTarget(ref, test.spacing, test.halfLife,
				test.timeDiff, test.heightDiff, limit)

			want := test.want
			if want == nil {
				want = limit
			}
			if got.Cmp(want) != 0 {
				t.Errorf("got %064x, want %064x", got, want)
			}
			if ref.Cmp(refCopy) != 0 || limit.Cmp(limitCopy) != 0 {
				t.Errorf("arguments were modified")
			}
			if got == ref || got == limit {
				t.Errorf("result aliases an argument")
			}
		})
	}
}

// mustCompact decodes bits that are known to encode a valid, non-negative
// target.
func mustCompact(bits uint32) *big.Int {
	n, negative, overflow := CompactToBig(bits)
	if negative || overflow {
		panic(fmt.Sprintf("bits %08x are not a valid target", bits))
	}
	return n
}

// TestCalcASERTTargetMonotonic ensures, over seeded random inputs, that a
// later parent time never gives a harder target and a higher parent height at
// the same time never gives an easier one.
func TestCalcASERTTargetMonotonic(t *testing.T) {
	t.Parallel()

	rng := rand.New(rand.NewPCG(0xca124, 0xa5e47))
	limits := []*big.Int{mustCompact(0x1d00ffff), mustCompact(0x207fffff)}

	// randTarget returns a random target in [1, limit].
	randTarget := func(limit *big.Int) *big.Int {
		n := new(big.Int).Rsh(limit, uint(rng.IntN(limit.BitLen())))
		var buf [32]byte
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		n.Mod(new(big.Int).SetBytes(buf[:]), n.Add(n, big.NewInt(1)))
		if n.Sign() == 0 {
			n.SetInt64(1)
		}
		return n
	}
	// randInt64 returns an int64 of random magnitude, mostly small.
	randInt64 := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return int64(rng.Uint64())
		case 1:
			return rng.Int64N(1<<40) - 1<<39
		default:
			return rng.Int64N(1<<24) - 1<<23
		}
	}
	// randUint64 returns a uint64 of random magnitude, mostly small.
	randUint64 := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			return rng.Uint64()
		case 1:
			return rng.Uint64N(1 << 40)
		default:
			return rng.Uint64N(1 << 16)
		}
	}

	for i := 0; i < 20000; i++ {
		limit := limits[rng.IntN(len(limits))]
		ref := randTarget(limit)
		spacing := 1 + rng.Int64N(3600)
		halfLife := 1 + rng.Int64N(7*24*3600)
		t1, t2 := randInt64(), randInt64()
		if t1 > t2 {
			t1, t2 = t2, t1
		}
		h1, h2 := randUint64(), randUint64()
		if h1 > h2 {
			h1, h2 = h2, h1
		}

		early := CalcASERTTarget(ref, spacing, halfLife, t1, h1, limit)
		late := CalcASERTTarget(ref, spacing, halfLife, t2, h1, limit)
		if late.Cmp(early) < 0 {
			t.Fatalf("ref %x spacing %d half-life %d height %d: time %d "+
				"gives %x, later time %d gives harder %x", ref, spacing,
				halfLife, h1, t1, early, t2, late)
		}
		earlyBits, lateBits := BigToCompact(early), BigToCompact(late)
		if mustCompact(lateBits).Cmp(mustCompact(earlyBits)) < 0 {
			t.Fatalf("later time gives harder bits %08x than %08x",
				lateBits, earlyBits)
		}

		low := CalcASERTTarget(ref, spacing, halfLife, t1, h1, limit)
		high := CalcASERTTarget(ref, spacing, halfLife, t1, h2, limit)
		if high.Cmp(low) > 0 {
			t.Fatalf("ref %x spacing %d half-life %d time %d: height %d "+
				"gives %x, higher height %d gives easier %x", ref,
				spacing, halfLife, t1, h1, low, h2, high)
		}
		for _, target := range []*big.Int{early, late, high} {
			if target.Sign() <= 0 || target.Cmp(limit) > 0 {
				t.Fatalf("target %x outside [1, %x]", target, limit)
			}
		}
	}
}

// TestCalcNextRequiredBits ensures CalcNextRequiredBits honours
// NoRetargeting, keeps the genesis bits for blocks on schedule, doubles the
// target for a block one half-life late and halves it for one a half-life
// early, within compact rounding.
func TestCalcNextRequiredBits(t *testing.T) {
	t.Parallel()

	const genesisTime = 1_700_000_000
	mainLike := &Params{
		PowLimit:      mustCompact(0x1d00ffff),
		PowLimitBits:  0x1d00ffff,
		TargetSpacing: 10 * time.Minute,
		AsertHalfLife: 2 * 24 * time.Hour,
		GenesisTime:   genesisTime,
		GenesisBits:   0x1c0ffff0,
	}
	fastLike := &Params{
		PowLimit:      mustCompact(0x1e0fffff),
		PowLimitBits:  0x1e0fffff,
		TargetSpacing: 30 * time.Second,
		AsertHalfLife: time.Hour,
		GenesisTime:   genesisTime,
		GenesisBits:   0x1d7fffff,
	}
	regtestLike := &Params{
		PowLimit:      mustCompact(0x207fffff),
		PowLimitBits:  0x207fffff,
		TargetSpacing: 10 * time.Minute,
		AsertHalfLife: 2 * 24 * time.Hour,
		NoRetargeting: true,
		GenesisTime:   genesisTime,
		GenesisBits:   0x207fffff,
	}
	easyRetarget := *regtestLike
	easyRetarget.NoRetargeting = false

	// scale returns the compact form of the target of bits times 2^shift.
	scale := func(bits uint32, shift int) uint32 {
		n := mustCompact(bits)
		if shift >= 0 {
			n.Lsh(n, uint(shift))
		} else {
			n.Rsh(n, uint(-shift))
		}
		return BigToCompact(n)
	}

	tests := []struct {
		name         string
		params       *Params
		parentHeight int32
		parentTime   int64
		want         uint32
	}{{
		name:         "no retargeting ignores time",
		params:       regtestLike,
		parentHeight: 5,
		parentTime:   genesisTime - 1_000_000,
		want:         0x207fffff,
	}, {
		name:         "no retargeting ignores height",
		params:       regtestLike,
		parentHeight: 1_000_000,
		parentTime:   genesisTime + 5,
		want:         0x207fffff,
	}, {
		name:         "block after genesis on schedule",
		params:       mainLike,
		parentHeight: 0,
		parentTime:   genesisTime,
		want:         0x1c0ffff0,
	}, {
		name:         "genesis itself",
		params:       mainLike,
		parentHeight: -1,
		parentTime:   0,
		want:         0x1c0ffff0,
	}, {
		name:         "on schedule far from genesis",
		params:       mainLike,
		parentHeight: 123_456,
		parentTime:   genesisTime + 123_456*600,
		want:         0x1c0ffff0,
	}, {
		name:         "one half-life late doubles",
		params:       mainLike,
		parentHeight: 1000,
		parentTime:   genesisTime + 1000*600 + 172800,
		want:         scale(0x1c0ffff0, 1),
	}, {
		name:         "two half-lives late quadruples",
		params:       mainLike,
		parentHeight: 1000,
		parentTime:   genesisTime + 1000*600 + 2*172800,
		want:         scale(0x1c0ffff0, 2),
	}, {
		name:         "one half-life early halves",
		params:       mainLike,
		parentHeight: 1000,
		parentTime:   genesisTime + 1000*600 - 172800,
		want:         scale(0x1c0ffff0, -1),
	}, {
		name:         "far behind clamps to the limit",
		params:       mainLike,
		parentHeight: 10,
		parentTime:   genesisTime + 100*172800,
		want:         0x1d00ffff,
	}, {
		name:         "fast network on schedule",
		params:       fastLike,
		parentHeight: 2880,
		parentTime:   genesisTime + 2880*30,
		want:         0x1d7fffff,
	}, {
		name:         "fast network one half-life late",
		params:       fastLike,
		parentHeight: 2880,
		parentTime:   genesisTime + 2880*30 + 3600,
		want:         scale(0x1d7fffff, 1),
	}, {
		name:         "easy limit late stays at the limit",
		params:       &easyRetarget,
		parentHeight: 7,
		parentTime:   genesisTime + 7*600 + 172800,
		want:         0x207fffff,
	}, {
		name:         "easy limit early halves",
		params:       &easyRetarget,
		parentHeight: 7,
		parentTime:   genesisTime + 7*600 - 172800,
		want:         scale(0x207fffff, -1),
	}}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			got := CalcNextRequiredBits(test.params, test.parentHeight,
				test.parentTime)
			if got != test.want {
				t.Errorf("got bits %08x, want %08x", got, test.want)
			}
		})
	}

	// Doubling is exact before compact rounding, so the compact result
	// must lie within one mantissa unit of twice the genesis target.
	got := mustCompact(CalcNextRequiredBits(mainLike, 1000,
		genesisTime+1000*600+172800))
	twice := new(big.Int).Lsh(mustCompact(mainLike.GenesisBits), 1)
	if got.Cmp(twice) > 0 {
		t.Errorf("doubled target %x above twice the genesis target %x",
			got, twice)
	}
	unit := new(big.Int).Rsh(twice, 15) // mantissa keeps at least 15 bits
	if diff := new(big.Int).Sub(twice, got); diff.Cmp(unit) > 0 {
		t.Errorf("doubled target %x more than compact rounding below %x",
			got, twice)
	}
}
