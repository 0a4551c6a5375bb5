package consensus

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// hexToBig parses a big-endian hex number, panicking on malformed input.
func hexToBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(fmt.Sprintf("invalid hex %q", s))
	}
	return n
}

// bigToHash returns the hash whose little-endian reading is n, the inverse of
// HashToBig for 0 <= n < 2^256.
func bigToHash(n *big.Int) chainhash.Hash {
	var be [chainhash.HashSize]byte
	n.FillBytes(be[:])
	var h chainhash.Hash
	for i, b := range be {
		h[chainhash.HashSize-1-i] = b
	}
	return h
}

// TestCompactToBig ensures CompactToBig decodes compact targets, including
// Bitcoin Core's arith_uint256 SetCompact test cases, with Core's sign and
// overflow flags, and that BigToCompact gives back Core's GetCompact value.
func TestCompactToBig(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name         string
		bits         uint32
		want         string // hex of the absolute value
		wantNegative bool
		wantOverflow bool
		wantCompact  uint32 // BigToCompact of the (signed) result
	}{
		{name: "zero", bits: 0, want: "0", wantCompact: 0},
		{name: "size 0 drops mantissa", bits: 0x00123456, want: "0", wantCompact: 0},
		{name: "size 1 zero byte", bits: 0x01003456, want: "0", wantCompact: 0},
		{name: "size 2 zero bytes", bits: 0x02000056, want: "0", wantCompact: 0},
		{name: "size 3 zero mantissa", bits: 0x03000000, want: "0", wantCompact: 0},
		{name: "size 4 zero mantissa", bits: 0x04000000, want: "0", wantCompact: 0},
		{name: "size 0 sign set", bits: 0x00923456, want: "0", wantCompact: 0},
		{name: "size 1 sign set zero byte", bits: 0x01803456, want: "0", wantCompact: 0},
		{name: "size 2 sign set zero bytes", bits: 0x02800056, want: "0", wantCompact: 0},
		{name: "size 3 sign set zero mantissa", bits: 0x03800000, want: "0", wantCompact: 0},
		{name: "size 4 sign set zero mantissa", bits: 0x04800000, want: "0", wantCompact: 0},
		{name: "size 1", bits: 0x01123456, want: "12", wantCompact: 0x01120000},
		{
			name: "size 1 negative", bits: 0x01fedcba, want: "7e",
			wantNegative: true, wantCompact: 0x01fe0000,
		},
		{name: "size 2", bits: 0x02123456, want: "1234", wantCompact: 0x02123400},
		{name: "size 3", bits: 0x03123456, want: "123456", wantCompact: 0x03123456},
		{name: "size 4", bits: 0x04123456, want: "12345600", wantCompact: 0x04123456},
		{
			name: "size 4 negative", bits: 0x04923456, want: "12345600",
			wantNegative: true, wantCompact: 0x04923456,
		},
		{name: "size 5 leading zero", bits: 0x05009234, want: "92340000", wantCompact: 0x05009234},
		{
			name: "size 32", bits: 0x20123456,
			want:        "1234560000000000000000000000000000000000000000000000000000000000",
			wantCompact: 0x20123456,
		},
		{name: "size 255 overflows", bits: 0xff123456, want: "123456" + strings.Repeat("00", 252), wantOverflow: true},
		{name: "bitcoin pow limit", bits: 0x1d00ffff, want: "ffff" + strings.Repeat("00", 26), wantCompact: 0x1d00ffff},
		{name: "regtest pow limit", bits: 0x207fffff, want: "7fffff" + strings.Repeat("00", 29), wantCompact: 0x207fffff},
		{name: "size 34 one byte fits", bits: 0x220000ff, want: "ff" + strings.Repeat("00", 31), wantCompact: 0x2100ff00},
		{name: "size 34 two bytes overflow", bits: 0x22000100, want: "0100" + strings.Repeat("00", 31), wantOverflow: true},
		{name: "size 33 two bytes fit", bits: 0x2100ffff, want: "ffff" + strings.Repeat("00", 30), wantCompact: 0x2100ffff},
		{name: "size 33 three bytes overflow", bits: 0x21010000, want: "010000" + strings.Repeat("00", 30), wantOverflow: true},
		{name: "size 35 overflows", bits: 0x23000001, want: "01" + strings.Repeat("00", 32), wantOverflow: true},
		{name: "size 35 zero mantissa does not overflow", bits: 0x23000000, want: "0", wantCompact: 0},
		{name: "size 33 negative overflow", bits: 0x21810000, want: "010000" + strings.Repeat("00", 30), wantNegative: true, wantOverflow: true},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			got, negative, overflow := CompactToBig(test.bits)
			want := hexToBig(test.want)
			if test.wantNegative {
				want.Neg(want)
			}
			if got.Cmp(want) != 0 {
				t.Errorf("CompactToBig(%08x) = %x, want %x", test.bits,
					got, want)
			}
			if negative != test.wantNegative {
				t.Errorf("CompactToBig(%08x) negative = %v, want %v",
					test.bits, negative, test.wantNegative)
			}
			if overflow != test.wantOverflow {
				t.Errorf("CompactToBig(%08x) overflow = %v, want %v",
					test.bits, overflow, test.wantOverflow)
			}
			if overflow {
				return
			}
			if c := BigToCompact(got); c != test.wantCompact {
				t.Errorf("BigToCompact(%x) = %08x, want %08x", got, c,
					test.wantCompact)
			}
		})
	}
}

// TestBigToCompact ensures BigToCompact encodes numbers like Bitcoin Core's
// GetCompact, never setting the sign bit for a non-negative number, and that
// decoding the result gives the number rounded down to its three most
// significant bytes.
func TestBigToCompact(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		n    *big.Int
		want uint32
	}{
		{name: "zero", n: big.NewInt(0), want: 0},
		{name: "one", n: big.NewInt(1), want: 0x01010000},
		{name: "0x7f fits one byte", n: big.NewInt(0x7f), want: 0x017f0000},
		{name: "0x80 avoids the sign bit", n: big.NewInt(0x80), want: 0x02008000},
		{name: "0x12", n: big.NewInt(0x12), want: 0x01120000},
		{name: "0x1234", n: big.NewInt(0x1234), want: 0x02123400},
		{name: "0x123456", n: big.NewInt(0x123456), want: 0x03123456},
		{name: "0x800000 avoids the sign bit", n: big.NewInt(0x800000), want: 0x04008000},
		{name: "truncates low bytes", n: hexToBig("123456789"), want: 0x05012345},
		{name: "0x92340000", n: hexToBig("92340000"), want: 0x05009234},
		{name: "bitcoin pow limit", n: hexToBig("ffff" + strings.Repeat("00", 26)), want: 0x1d00ffff},
		{name: "regtest pow limit", n: hexToBig("7fffff" + strings.Repeat("00", 29)), want: 0x207fffff},
		{name: "all ones 256 bits", n: hexToBig(strings.Repeat("ff", 32)), want: 0x2100ffff},
		{name: "negative sets the sign bit", n: big.NewInt(-0x7e), want: 0x01fe0000},
		{name: "negative 0x80", n: big.NewInt(-0x80), want: 0x02808000},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			orig := new(big.Int).Set(test.n)
			got := BigToCompact(test.n)
			if got != test.want {
				t.Errorf("BigToCompact(%x) = %08x, want %08x", test.n,
					got, test.want)
			}
			if test.n.Cmp(orig) != 0 {
				t.Errorf("BigToCompact modified its argument")
			}
			if test.n.Sign() >= 0 && got&compactSignBit != 0 {
				t.Errorf("BigToCompact(%x) = %08x sets the sign bit",
					test.n, got)
			}

			// Decoding must give the number with the bytes below the
			// mantissa cleared: the top three significant bytes, or two
			// when the sign bit forced a longer exponent.
			back, _, overflow := CompactToBig(got)
			if overflow {
				t.Fatalf("CompactToBig(%08x) overflows", got)
			}
			abs := new(big.Int).Abs(test.n)
			drop := 0
			if size := int(got >> 24); size > 3 {
				drop = 8 * (size - 3)
			}
			want := new(big.Int).Lsh(new(big.Int).Rsh(abs, uint(drop)), uint(drop))
			if test.n.Sign() < 0 {
				want.Neg(want)
			}
			if back.Cmp(want) != 0 {
				t.Errorf("CompactToBig(BigToCompact(%x)) = %x, want %x",
					test.n, back, want)
			}
		})
	}
}

// TestHashToBig ensures HashToBig reads hash bytes as a little-endian number.
func TestHashToBig(t *testing.T) {
	t.Parallel()

	var low, high, genesis chainhash.Hash
	low[0] = 0x01
	high[31] = 0x80
	if err := chainhash.Decode(&genesis,
		"000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		hash chainhash.Hash
		want *big.Int
	}{
		{name: "zero", hash: chainhash.Hash{}, want: big.NewInt(0)},
		{name: "first byte is least significant", hash: low, want: big.NewInt(1)},
		{name: "last byte is most significant", hash: high, want: new(big.Int).Lsh(big.NewInt(1), 255)},
		{
			name: "bitcoin genesis hash", hash: genesis,
			want: hexToBig("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"),
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			if got := HashToBig(&test.hash); got.Cmp(test.want) != 0 {
				t.Errorf("got %x, want %x", got, test.want)
			}
			if back := bigToHash(test.want); back != test.hash {
				t.Errorf("bigToHash round trip: got %v, want %v", back,
					test.hash)
			}
		})
	}
}

// TestCalcWork ensures CalcWork returns floor(2^256 / (target+1)), matching
// Bitcoin Core's GetBlockProof, and 0 for unusable targets.
func TestCalcWork(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		bits uint32
		want *big.Int
	}{
		{name: "bitcoin pow limit", bits: 0x1d00ffff, want: hexToBig("100010001")},
		{name: "regtest pow limit", bits: 0x207fffff, want: big.NewInt(2)},
		{name: "target one", bits: 0x01010000, want: new(big.Int).Lsh(big.NewInt(1), 255)},
		{name: "bitcoin block 100000", bits: 0x1b04864c, want: hexToBig("38946224e37e")},
		{name: "zero target", bits: 0, want: big.NewInt(0)},
		{name: "zero mantissa", bits: 0x1d000000, want: big.NewInt(0)},
		{name: "negative target", bits: 0x04923456, want: big.NewInt(0)},
		{name: "overflowing target", bits: 0xff123456, want: big.NewInt(0)},
		{name: "largest target", bits: 0x2100ffff, want: big.NewInt(1)},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			got := CalcWork(test.bits)
			if got.Cmp(test.want) != 0 {
				t.Errorf("CalcWork(%08x) = %x, want %x", test.bits, got,
					test.want)
			}

			// Cross-check with Core's formula (~target / (target+1)) + 1.
			target, negative, overflow := CompactToBig(test.bits)
			if negative || overflow || target.Sign() == 0 {
				return
			}
			mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256),
				big.NewInt(1))
			notTarget := new(big.Int).Xor(target, mask)
			core := notTarget.Quo(notTarget,
				new(big.Int).Add(target, big.NewInt(1)))
			core.Add(core, big.NewInt(1))
			if got.Cmp(core) != 0 {
				t.Errorf("CalcWork(%08x) = %x, Core's formula gives %x",
					test.bits, got, core)
			}
		})
	}
}

// TestTargetFromBits ensures TargetFromBits returns the decoded target for
// valid bits and an ErrHighHash RuleError for negative, zero, overflowing and
// too-easy targets.
func TestTargetFromBits(t *testing.T) {
	t.Parallel()

	powLimit := mustCompact(0x1d00ffff)
	tests := []struct {
		name    string
		bits    uint32
		want    *big.Int
		wantErr error
		errText string
	}{
		{name: "at the limit", bits: 0x1d00ffff, want: powLimit},
		{name: "below the limit", bits: 0x1b04864c, want: mustCompact(0x1b04864c)},
		{name: "target one", bits: 0x01010000, want: big.NewInt(1)},
		{name: "negative", bits: 0x1d80ffff, wantErr: ErrHighHash, errText: "negative"},
		{name: "zero", bits: 0, wantErr: ErrHighHash, errText: "zero"},
		{name: "zero mantissa", bits: 0x1d000000, wantErr: ErrHighHash, errText: "zero"},
		{name: "overflow", bits: 0xff123456, wantErr: ErrHighHash, errText: "overflow"},
		{name: "above the limit", bits: 0x1d010000, wantErr: ErrHighHash, errText: "above the proof-of-work limit"},
		{name: "regtest bits above bitcoin limit", bits: 0x207fffff, wantErr: ErrHighHash, errText: "above the proof-of-work limit"},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			got, err := TargetFromBits(test.bits, powLimit)
			if !errors.Is(err, test.wantErr) {
				t.Fatalf("TargetFromBits(%08x): got error %v, want %v",
					test.bits, err, test.wantErr)
			}
			if test.wantErr != nil {
				checkHighHashError(t, err, test.errText)
				return
			}
			if got.Cmp(test.want) != 0 {
				t.Errorf("TargetFromBits(%08x) = %x, want %x", test.bits,
					got, test.want)
			}
		})
	}
}

// checkHighHashError fails the test unless err is an ErrHighHash RuleError
// whose description contains text.
func checkHighHashError(t *testing.T, err error, text string) {
	t.Helper()

	var rerr RuleError
	if !errors.As(err, &rerr) {
		t.Fatalf("error %v (%T) is not a RuleError", err, err)
	}
	if !errors.Is(err, ErrHighHash) {
		t.Errorf("error %v is not ErrHighHash", err)
	}
	if reason := RejectReason(err); reason != "high-hash" {
		t.Errorf("reject reason %q, want high-hash", reason)
	}
	if !strings.Contains(rerr.Description, text) {
		t.Errorf("description %q does not mention %q", rerr.Description,
			text)
	}
}

// TestCheckProofOfWork ensures CheckProofOfWork accepts hashes at or below
// the target and rejects hashes above it and bad bits with ErrHighHash.
func TestCheckProofOfWork(t *testing.T) {
	t.Parallel()

	powLimit := mustCompact(0x1d00ffff)
	const bits = 0x1c0ffff0
	target := mustCompact(bits)
	below := new(big.Int).Sub(target, big.NewInt(1))
	above := new(big.Int).Add(target, big.NewInt(1))
	maxHash := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

	tests := []struct {
		name    string
		hash    *big.Int
		bits    uint32
		wantErr error
		errText string
	}{
		{name: "zero hash", hash: big.NewInt(0), bits: bits},
		{name: "just below target", hash: below, bits: bits},
		{name: "at target", hash: target, bits: bits},
		{
			name: "just above target", hash: above, bits: bits,
			wantErr: ErrHighHash,
			errText: fmt.Sprintf("block hash %064x is above target %064x", above, target),
		},
		{
			name: "largest hash", hash: maxHash, bits: bits,
			wantErr: ErrHighHash, errText: "is above target",
		},
		{name: "at the limit", hash: powLimit, bits: 0x1d00ffff},
		{
			name: "negative bits", hash: big.NewInt(0), bits: 0x1d80ffff,
			wantErr: ErrHighHash, errText: "negative",
		},
		{
			name: "zero bits", hash: big.NewInt(0), bits: 0,
			wantErr: ErrHighHash, errText: "zero",
		},
		{
			name: "overflowing bits", hash: big.NewInt(0), bits: 0xff123456,
			wantErr: ErrHighHash, errText: "overflow",
		},
		{
			name: "bits above the limit", hash: big.NewInt(0), bits: 0x1d010000,
			wantErr: ErrHighHash, errText: "above the proof-of-work limit",
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()

			err := CheckProofOfWork(bigToHash(test.hash), test.bits, powLimit)
			if !errors.Is(err, test.wantErr) {
				t.Fatalf("got error %v, want %v", err, test.wantErr)
			}
			if test.wantErr != nil {
				checkHighHashError(t, err, test.errText)
			}
		})
	}
}
