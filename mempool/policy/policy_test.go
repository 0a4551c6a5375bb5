package policy

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// TestDustThreshold checks the thresholds Bitcoin Core's wallets and
// tests know: 546 for P2PKH, 294 for P2WPKH, 330 for P2WSH and P2TR, none
// for OP_RETURN.
func TestDustThreshold(t *testing.T) {
	p2pkh := append(append([]byte{txscript.OP_DUP, txscript.OP_HASH160, txscript.OP_DATA_20}, make([]byte, 20)...),
		txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG)
	p2wpkh := append([]byte{txscript.OP_0, txscript.OP_DATA_20}, make([]byte, 20)...)
	p2wsh := append([]byte{txscript.OP_0, txscript.OP_DATA_32}, make([]byte, 32)...)
	p2tr := append([]byte{txscript.OP_1, txscript.OP_DATA_32}, make([]byte, 32)...)
	tests := []struct {
		name   string
		script []byte
		want   int64
	}{
		{"p2pkh", p2pkh, 546},
		{"p2wpkh", p2wpkh, 294},
		{"p2wsh", p2wsh, 330},
		{"p2tr", p2tr, 330},
		{"op_return", []byte{txscript.OP_RETURN, txscript.OP_DATA_1, 7}, 0},
		{"oversized", bytes.Repeat([]byte{txscript.OP_NOP}, txscript.MaxScriptSize+1), 0},
	}
	for _, tt := range tests {
		out := &wire.TxOut{Value: tt.want, PkScript: tt.script}
		if got := DustThreshold(out); got != tt.want {
			t.Errorf("%s: DustThreshold = %d, want %d", tt.name, got, tt.want)
		}
		if IsDust(out) {
			t.Errorf("%s: %d is dust, want not", tt.name, out.Value)
		}
		if tt.want > 0 {
			out.Value--
			if !IsDust(out) {
				t.Errorf("%s: %d is not dust, want dust", tt.name, out.Value)
			}
		}
	}
}

// TestFee checks Core's CFeeRate::GetFee rounding: down, but never to
// zero for a positive rate and size.
func TestFee(t *testing.T) {
	tests := []struct{ rate, vsize, want int64 }{
		{1000, 141, 141},
		{1500, 141, 211},
		{1, 141, 1},
		{0, 141, 0},
		{1000, 0, 0},
	}
	for _, tt := range tests {
		if got := Fee(tt.rate, tt.vsize); got != tt.want {
			t.Errorf("Fee(%d, %d) = %d, want %d", tt.rate, tt.vsize, got, tt.want)
		}
	}
	for weight, want := range map[int64]int64{0: 0, 1: 1, 4: 1, 5: 2, 561: 141} {
		if got := VirtualSize(weight); got != want {
			t.Errorf("VirtualSize(%d) = %d, want %d", weight, got, want)
		}
	}
}

// TestCheckTransactionStandardError checks that a breach is an *Error
// carrying Core's reject reason.
func TestCheckTransactionStandardError(t *testing.T) {
	tx := wire.NewMsgTx(4)
	err := CheckTransactionStandard(tx, 0)
	var pe *Error
	if !errors.As(err, &pe) || pe.Reason != "version" {
		t.Fatalf("CheckTransactionStandard = %v, want a version *Error", err)
	}
	if got, want := err.Error(), "version (version 4 is not 1, 2 or 3)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
