package consensus

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// coinTest is one text and what reading it must give: units, or an error
// wrapping err.
type coinTest struct {
	in    string
	units int64
	err   error
}

// parseCoinsTests are ParseCoins's cases.
var parseCoinsTests = []coinTest{
	{in: "0.1", units: 10_000_000},
	{in: "12.5", units: 1_250_000_000},
	{in: "0.00000001", units: 1},
	{in: "20999999.99999999", units: MaxMoney - 1},
	{in: "21000000", units: MaxMoney},
	{in: "21000000.00000000", units: MaxMoney},
	{in: ".5", units: 50_000_000},
	{in: "5.", units: 500_000_000},
	{in: "0", units: 0},
	{in: "0.00000000", units: 0},
	{in: "007.25", units: 725_000_000},
	{in: "00000000000000000000001", units: CoinValue},

	{in: "1e3", err: ErrCoinsSyntax},
	{in: "1E3", err: ErrCoinsSyntax},
	{in: "1e300", err: ErrCoinsSyntax},
	{in: "", err: ErrCoinsSyntax},
	{in: ".", err: ErrCoinsSyntax},
	{in: "-", err: ErrCoinsSyntax},
	{in: "+1", err: ErrCoinsSyntax},
	{in: " 1", err: ErrCoinsSyntax},
	{in: "1 ", err: ErrCoinsSyntax},
	{in: "1,000", err: ErrCoinsSyntax},
	{in: "1_000", err: ErrCoinsSyntax},
	{in: "0x10", err: ErrCoinsSyntax},
	{in: "1.2.3", err: ErrCoinsSyntax},
	{in: "--1", err: ErrCoinsSyntax},
	{in: "-.", err: ErrCoinsSyntax},
	{in: "NaN", err: ErrCoinsSyntax},
	{in: "Inf", err: ErrCoinsSyntax},
	{in: "ten", err: ErrCoinsSyntax},
	{in: "\u0661", err: ErrCoinsSyntax}, // ARABIC-INDIC DIGIT ONE
	{in: "0.000000001", err: ErrCoinsPrecision},
	{in: "1.123456789", err: ErrCoinsPrecision},
	{in: "0.100000000", err: ErrCoinsPrecision},
	{in: "-1", err: ErrCoinsNegative},
	{in: "-0.5", err: ErrCoinsNegative},
	{in: "-0", err: ErrCoinsNegative},
	{in: "21000000.00000001", err: ErrCoinsTooLarge},
	{in: "21000001", err: ErrCoinsTooLarge},
	{in: "99999999", err: ErrCoinsTooLarge},
	{in: "100000000000000000000000000", err: ErrCoinsTooLarge},
}

// parseCoinsJSONTests are ParseCoinsJSON's cases.
var parseCoinsJSONTests = []coinTest{
	{in: "0.5", units: 50_000_000},
	{in: "0", units: 0},
	{in: "-0", units: 0},
	{in: "-0.0e5", units: 0},
	{in: "0e999999999", units: 0},
	{in: "1e-8", units: 1},
	{in: "1E-8", units: 1},
	{in: "1e-05", units: 1000},
	{in: "1.5e-7", units: 15},
	{in: "0.000010000", units: 1000},
	{in: "0.100000000000000000000", units: 10_000_000},
	{in: "2.5E+3", units: 250_000_000_000},
	{in: "2.1e7", units: MaxMoney},
	{in: "210000000e-1", units: MaxMoney},
	{in: "21000000", units: MaxMoney},
	{in: "20999999.99999999", units: MaxMoney - 1},

	{in: ".5", err: ErrCoinsSyntax},
	{in: "5.", err: ErrCoinsSyntax},
	{in: "01", err: ErrCoinsSyntax},
	{in: "+1", err: ErrCoinsSyntax},
	{in: "1e", err: ErrCoinsSyntax},
	{in: "1e+", err: ErrCoinsSyntax},
	{in: "1.e5", err: ErrCoinsSyntax},
	{in: "", err: ErrCoinsSyntax},
	{in: "-", err: ErrCoinsSyntax},
	{in: `"0.5"`, err: ErrCoinsSyntax},
	{in: "0.5 ", err: ErrCoinsSyntax},
	{in: "Infinity", err: ErrCoinsSyntax},
	{in: "1e-9", err: ErrCoinsPrecision},
	{in: "0.000000001", err: ErrCoinsPrecision},
	{in: "1e-999999999", err: ErrCoinsPrecision},
	{in: "-1", err: ErrCoinsNegative},
	{in: "-0.1", err: ErrCoinsNegative},
	{in: "-1e30", err: ErrCoinsNegative},
	{in: "21000000.00000001", err: ErrCoinsTooLarge},
	{in: "1e8", err: ErrCoinsTooLarge},
	{in: "1e999999999", err: ErrCoinsTooLarge},
	{in: "1e99999999999999999999999", err: ErrCoinsTooLarge},
}

func checkCoins(t *testing.T, name string, parse func(string) (int64, error), tests []coinTest) {
	t.Helper()
	for _, tt := range tests {
		got, err := parse(tt.in)
		switch {
		case tt.err == nil && (err != nil || got != tt.units):
			t.Errorf("%s(%q) = %d, %v; want %d", name, tt.in, got, err, tt.units)
		case tt.err != nil && !errors.Is(err, tt.err):
			t.Errorf("%s(%q) = %d, %v; want an error wrapping %q", name, tt.in, got, err, tt.err)
		case err != nil && !strings.Contains(err.Error(), strconv.Quote(tt.in)):
			t.Errorf("%s(%q): error %q does not name the amount", name, tt.in, err)
		}
	}
}

// TestParseCoins checks ParseCoins and ParseCoinsJSON against their tables.
func TestParseCoins(t *testing.T) {
	checkCoins(t, "ParseCoins", ParseCoins, parseCoinsTests)
	checkCoins(t, "ParseCoinsJSON", ParseCoinsJSON, parseCoinsJSONTests)
}

// TestFormatCoins checks that amounts print with 8 decimals, negatives
// with a leading minus.
func TestFormatCoins(t *testing.T) {
	tests := []struct {
		units int64
		want  string
	}{
		{0, "0.00000000"},
		{1, "0.00000001"},
		{10_000_000, "0.10000000"},
		{CoinValue, "1.00000000"},
		{1_250_000_000, "12.50000000"},
		{MaxMoney, "21000000.00000000"},
		{-1, "-0.00000001"},
		{-1_250_000_000, "-12.50000000"},
		{math.MaxInt64, "92233720368.54775807"},
		{math.MinInt64, "-92233720368.54775808"},
	}
	for _, tt := range tests {
		if got := FormatCoins(tt.units); got != tt.want {
			t.Errorf("FormatCoins(%d) = %q, want %q", tt.units, got, tt.want)
		}
	}
}

// ratCoins is the reference reading of an amount: its exact rational value
// in base units, if it is a whole number of them.
func ratCoins(s string) (int64, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, false
	}
	r.Mul(r, big.NewRat(CoinValue, 1))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// FuzzCoins checks that FormatCoins and ParseCoins are inverses on 0 to
// MaxMoney, that what either parser accepts is its exact value in range,
// and that FormatCoins writes the exact value of every int64.
func FuzzCoins(f *testing.F) {
	for _, tt := range parseCoinsTests {
		f.Add(tt.in, tt.units)
	}
	for _, tt := range parseCoinsJSONTests {
		f.Add(tt.in, tt.units)
	}
	f.Add("", int64(-1))
	f.Add("", int64(MaxMoney+1))
	f.Add("", int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, s string, v int64) {
		text := FormatCoins(v)
		if want := new(big.Rat).SetFrac64(v, CoinValue).FloatString(8); text != want {
			t.Fatalf("FormatCoins(%d) = %q, want %q", v, text, want)
		}
		got, err := ParseCoins(text)
		switch {
		case v >= 0 && v <= MaxMoney && (err != nil || got != v):
			t.Fatalf("ParseCoins(FormatCoins(%d)) = %d, %v", v, got, err)
		case v < 0 && !errors.Is(err, ErrCoinsNegative):
			t.Fatalf("ParseCoins(%q) = %d, %v; want ErrCoinsNegative", text, got, err)
		case v > MaxMoney && !errors.Is(err, ErrCoinsTooLarge):
			t.Fatalf("ParseCoins(%q) = %d, %v; want ErrCoinsTooLarge", text, got, err)
		}
		if v >= 0 && v <= MaxMoney {
			if got, err := ParseCoinsJSON(text); err != nil || got != v {
				t.Fatalf("ParseCoinsJSON(FormatCoins(%d)) = %d, %v", v, got, err)
			}
		}

		if u, err := ParseCoins(s); err == nil {
			if u < 0 || u > MaxMoney {
				t.Fatalf("ParseCoins(%q) = %d, out of range", s, u)
			}
			if want, ok := ratCoins(s); !ok || u != want {
				t.Fatalf("ParseCoins(%q) = %d, exactly %d", s, u, want)
			}
			if again, err := ParseCoins(FormatCoins(u)); err != nil || again != u {
				t.Fatalf("ParseCoins(FormatCoins(ParseCoins(%q))) = %d, %v; want %d", s, again, err, u)
			}
		}
		if u, err := ParseCoinsJSON(s); err == nil {
			if u < 0 || u > MaxMoney {
				t.Fatalf("ParseCoinsJSON(%q) = %d, out of range", s, u)
			}
			// big.Rat reads exponents too, but slowly when they are large.
			if _, exp, _ := strings.Cut(strings.ToLower(s), "e"); len(strings.TrimLeft(exp, "+-")) <= 3 {
				if want, ok := ratCoins(s); !ok || u != want {
					t.Fatalf("ParseCoinsJSON(%q) = %d, exactly %d", s, u, want)
				}
			}
		}
	})
}
