package rpc

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/btcsuite/btcd/btcutil"

	"github.com/cairnchain/cairn/chain/consensus"
)

// TestFeeRateArg checks that fee rates are read as Core's AmountFromValue
// reads them: from the decimal text of a number or numeric string, an
// exponent allowed, exactly to the base unit, with Core's errors.
func TestFeeRateArg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw      string
		want     int64
		wantCode int
		wantMsg  string
	}{
		{raw: `0.001`, want: 100_000},
		{raw: `"0.001"`, want: 100_000},
		{raw: `1e-05`, want: 1000},
		{raw: `"1E-5"`, want: 1000},
		{raw: `0.00001000000`, want: 1000},
		{raw: `0.12345678`, want: 12_345_678},
		{raw: `0`, want: 0},
		{raw: `null`, want: 7},
		{raw: `0.000000001`, wantCode: -3, wantMsg: "Invalid amount"},
		{raw: `"x"`, wantCode: -3, wantMsg: "Invalid amount"},
		{raw: `" 0.001"`, wantCode: -3, wantMsg: "Invalid amount"},
		{raw: `-0.1`, wantCode: -3, wantMsg: "Amount out of range"},
		{raw: `21000001`, wantCode: -3, wantMsg: "Amount out of range"},
		{raw: `1e400`, wantCode: -3, wantMsg: "Amount out of range"},
		{raw: `1`, wantCode: -8, wantMsg: "Fee rates larger than or equal to 1BTC/kvB are not accepted"},
		{raw: `true`, wantCode: -3, wantMsg: "JSON value of type bool is not of expected type number"},
	}
	for _, tt := range tests {
		got, err := args{json.RawMessage(tt.raw)}.feeRateArg(0, 7)
		var rerr *Error
		switch {
		case tt.wantMsg == "" && (err != nil || got != tt.want):
			t.Errorf("%s: %d, %v; want %d", tt.raw, got, err, tt.want)
		case tt.wantMsg != "" && (!errors.As(err, &rerr) || int(rerr.Code) != tt.wantCode || rerr.Message != tt.wantMsg):
			t.Errorf("%s: %d, %v; want error %d %q", tt.raw, got, err, tt.wantCode, tt.wantMsg)
		}
	}
}

// TestCoins checks that amounts in results are the floats btcutil's
// conversion gives, the nearest to their exact decimal value.
func TestCoins(t *testing.T) {
	t.Parallel()
	for _, units := range []int64{0, 1, 10_000_000, 123_456_789, consensus.MaxMoney - 1, consensus.MaxMoney, -1, -consensus.MaxMoney, math.MaxInt64 / 4096} {
		if got, want := coins(units), btcutil.Amount(units).ToBTC(); got != want {
			t.Errorf("coins(%d) = %v, want %v", units, got, want)
		}
	}
}
