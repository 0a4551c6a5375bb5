package consensus

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// coinDecimals is how many decimals of a coin a base unit is (CoinValue is
// 10^coinDecimals).
const coinDecimals = 8

// Errors of ParseCoins and ParseCoinsJSON, which wrap them with the text
// they were given; test them with errors.Is.
var (
	// ErrCoinsSyntax: the text is not a number of coins.
	ErrCoinsSyntax = errors.New("not a decimal number of coins")
	// ErrCoinsPrecision: the amount has more than 8 decimals, a fraction
	// of a base unit.
	ErrCoinsPrecision = errors.New("more than 8 decimals")
	// ErrCoinsNegative: the amount is below zero.
	ErrCoinsNegative = errors.New("negative")
	// ErrCoinsTooLarge: the amount is more than MaxMoney.
	ErrCoinsTooLarge = errors.New("more than the 21000000 coins that can ever exist")
)

// FormatCoins writes base units v as coins with 8 decimals, as Bitcoin
// Core's ValueFromAmount does: "0.10000000", "-12.50000000".
func FormatCoins(v int64) string {
	// The magnitude as unsigned, which holds that of math.MinInt64 too.
	u, sign := uint64(v), ""
	if v < 0 {
		u, sign = -u, "-"
	}
	frac := strconv.FormatUint(u%CoinValue, 10)
	return sign + strconv.FormatUint(u/CoinValue, 10) + "." + strings.Repeat("0", coinDecimals-len(frac)) + frac
}

// ParseCoins reads a decimal amount of coins as base units, exactly: digits
// with at most one decimal point and at most 8 digits after it ("12.5",
// "0.00000001", ".5", "5."), from 0 to MaxMoney. It takes no exponent,
// spaces, digit separators or sign: a minus sign before an amount is
// ErrCoinsNegative. An error wraps one of ErrCoinsSyntax,
// ErrCoinsPrecision, ErrCoinsNegative and ErrCoinsTooLarge.
func ParseCoins(s string) (int64, error) {
	text, neg := strings.CutPrefix(s, "-")
	whole, frac, _ := strings.Cut(text, ".")
	v, err := coinUnits(whole, frac)
	if neg && (err == nil || err == ErrCoinsTooLarge) {
		err = ErrCoinsNegative
	}
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	return v, nil
}

// ParseCoinsJSON reads an amount of coins written as a JSON number, as
// Bitcoin Core's AmountFromValue reads the amounts of RPC calls: an optional
// minus sign, an integer part without leading zeros, an optional fraction
// and an optional exponent ("0.5", "1e-05", "2.5E+3"). Zeros that end the
// fraction are dropped before the precision is checked. Zero with a minus
// sign is zero. An error wraps the same errors as ParseCoins's.
func ParseCoinsJSON(s string) (int64, error) {
	v, err := parseJSONCoins(s)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	return v, nil
}

// parseJSONCoins is ParseCoinsJSON without the amount in its errors: it
// applies the exponent to the digits, then reads them as ParseCoins would.
func parseJSONCoins(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	// The integer part: 0, or digits that do not start with 0.
	i := digitRun(s)
	if i == 0 || (s[0] == '0' && i > 1) {
		return 0, ErrCoinsSyntax
	}
	digits := s[:i]
	s = s[i:]
	exp := 0
	if strings.HasPrefix(s, ".") {
		n := digitRun(s[1:])
		if n == 0 {
			return 0, ErrCoinsSyntax
		}
		digits += s[1 : 1+n]
		exp = -n
		s = s[1+n:]
	}
	if len(s) > 0 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		expNeg := false
		if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
			expNeg = s[0] == '-'
			s = s[1:]
		}
		n := digitRun(s)
		if n == 0 {
			return 0, ErrCoinsSyntax
		}
		// Saturate: any exponent this large puts a nonzero amount out of
		// range or below a base unit, whatever its digits.
		e := 0
		for _, c := range s[:n] {
			e = min(e*10+int(c-'0'), 1<<20)
		}
		if expNeg {
			e = -e
		}
		exp += e
		s = s[n:]
	}
	if s != "" {
		return 0, ErrCoinsSyntax
	}

	// digits × 10^exp, without the zeros that do not change the value.
	digits = strings.TrimLeft(digits, "0")
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	switch {
	case digits == "":
		return 0, nil
	case exp < -coinDecimals:
		return 0, ErrCoinsPrecision
	case neg:
		return 0, ErrCoinsNegative
	case len(digits)+exp > len(strconv.Itoa(MaxMoney/CoinValue)):
		return 0, ErrCoinsTooLarge
	case exp >= 0:
		return coinUnits(digits+strings.Repeat("0", exp), "")
	case len(digits)+exp <= 0:
		return coinUnits("", strings.Repeat("0", -exp-len(digits))+digits)
	default:
		point := len(digits) + exp
		return coinUnits(digits[:point], digits[point:])
	}
}

// coinUnits returns the base units of the coins whose integer digits are
// whole and whose decimals are frac: digits only, at least one in all.
func coinUnits(whole, frac string) (int64, error) {
	if (whole == "" && frac == "") || digitRun(whole) != len(whole) || digitRun(frac) != len(frac) {
		return 0, ErrCoinsSyntax
	}
	if len(frac) > coinDecimals {
		return 0, ErrCoinsPrecision
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > len(strconv.Itoa(MaxMoney/CoinValue)) {
		return 0, ErrCoinsTooLarge
	}
	var v int64
	for _, c := range whole + frac + strings.Repeat("0", coinDecimals-len(frac)) {
		v = v*10 + int64(c-'0')
	}
	if v > MaxMoney {
		return 0, ErrCoinsTooLarge
	}
	return v, nil
}

// digitRun returns how many ASCII digits s starts with.
func digitRun(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return len(s)
}
