package chain

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/minio/sha256-simd"

	"github.com/cairnchain/cairn/chain/utxo"
)

// undoCase is one spent output and the input that spends it.
type undoCase struct {
	name    string
	script  []byte
	in      *wire.TxIn
	maxSize int // most bytes its entry may take (height 300, amount < 2^21)
}

func undoCases(t *testing.T) []undoCase {
	pubKey := bytes.Repeat([]byte{0x02}, 33)
	witnessScript := append([]byte{txscript.OP_1}, bytes.Repeat([]byte{0xab}, 100)...)
	redeem := []byte{txscript.OP_0, txscript.OP_DATA_20}
	redeem = append(redeem, btcutil.Hash160(pubKey)...)
	sig := bytes.Repeat([]byte{0x30}, 71)
	p2pkh, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).AddOp(txscript.OP_HASH160).
		AddData(btcutil.Hash160(pubKey)).AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
	p2sh, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_HASH160).AddData(btcutil.Hash160(redeem)).
		AddOp(txscript.OP_EQUAL).Script()
	sigScript, _ := txscript.NewScriptBuilder().AddData(sig).AddData(pubKey).Script()
	redeemPush, _ := txscript.NewScriptBuilder().AddData(redeem).Script()
	wsh := sha256.Sum256(witnessScript)
	p2wpkh := append([]byte{txscript.OP_0, txscript.OP_DATA_20}, btcutil.Hash160(pubKey)...)
	p2wsh := append([]byte{txscript.OP_0, txscript.OP_DATA_32}, wsh[:]...)
	p2tr := append([]byte{txscript.OP_1, txscript.OP_DATA_32}, bytes.Repeat([]byte{0x5c}, 32)...)
	otherKey := bytes.Repeat([]byte{0x03}, 33)
	return []undoCase{
		{"p2pkh", p2pkh, &wire.TxIn{SignatureScript: sigScript}, 6},
		{"p2sh-p2wpkh", p2sh, &wire.TxIn{SignatureScript: redeemPush, Witness: wire.TxWitness{sig, pubKey}}, 6},
		{"p2wpkh", p2wpkh, &wire.TxIn{Witness: wire.TxWitness{sig, pubKey}}, 6},
		{"p2wsh", p2wsh, &wire.TxIn{Witness: wire.TxWitness{nil, sig, witnessScript}}, 6},
		{"p2tr", p2tr, &wire.TxIn{Witness: wire.TxWitness{bytes.Repeat([]byte{1}, 64)}}, 6 + 32},
		// Inputs that do not reveal their script (invalid spends whose
		// scripts were assumed valid, or non-push signature scripts) keep
		// it whole.
		{"p2wpkh, other key", p2wpkh, &wire.TxIn{Witness: wire.TxWitness{sig, otherKey}}, 6 + 1 + 22},
		{"p2wpkh, no witness", p2wpkh, &wire.TxIn{}, 6 + 1 + 22},
		{"p2pkh, non-push", p2pkh, &wire.TxIn{SignatureScript: append(bytes.Clone(sigScript), txscript.OP_NOP)}, 6 + 1 + 25},
		{"p2sh, empty", p2sh, &wire.TxIn{}, 6 + 1 + 23},
		{"bare multisig", append([]byte{txscript.OP_1, txscript.OP_DATA_33}, append(pubKey, txscript.OP_1, txscript.OP_CHECKMULTISIG)...),
			&wire.TxIn{SignatureScript: []byte{txscript.OP_0, txscript.OP_DATA_1, 1}}, 6 + 1 + 37},
		{"empty script", nil, &wire.TxIn{}, 6 + 1},
	}
}

// undoBlock puts each input in its own transaction after a coinbase.
func undoBlock(ins []*wire.TxIn) *wire.MsgBlock {
	b := &wire.MsgBlock{Transactions: []*wire.MsgTx{{TxIn: []*wire.TxIn{{}}}}}
	for _, in := range ins {
		b.Transactions = append(b.Transactions, &wire.MsgTx{TxIn: []*wire.TxIn{in}})
	}
	return b
}

// TestUndoRoundTrip ensures every kind of spent output comes back as it
// was, that scripts the spending input reveals cost no bytes, and that one
// it does not reveal is kept whole.
func TestUndoRoundTrip(t *testing.T) {
	cases := undoCases(t)
	var ins []*wire.TxIn
	var spent []*utxo.Entry
	for i, c := range cases {
		e := &utxo.Entry{Amount: 1_000_000 + int64(i), PkScript: c.script, Height: 300, IsCoinBase: i%2 == 0}
		one, err := encodeUndo(undoBlock([]*wire.TxIn{c.in}), []*utxo.Entry{e})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if size := len(one) - 1; size > c.maxSize {
			t.Errorf("%s: entry of %d bytes, want at most %d", c.name, size, c.maxSize)
		}
		ins = append(ins, c.in)
		spent = append(spent, e)
	}
	block := undoBlock(ins)
	raw, err := encodeUndo(block, spent)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeUndo(raw, block)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range spent {
		if g := got[i]; g.Amount != e.Amount || g.Height != e.Height || g.IsCoinBase != e.IsCoinBase ||
			!bytes.Equal(g.PkScript, e.PkScript) {
			t.Errorf("%s: decoded %+v, want %+v", cases[i].name, g, e)
		}
	}
	if _, err := encodeUndo(block, spent[1:]); err == nil {
		t.Error("encodeUndo accepted fewer spent outputs than inputs")
	}
}

// TestUndoDecodeErrors ensures undo data that does not fit its block, or
// is cut short or padded, is reported as a corrupt database.
func TestUndoDecodeErrors(t *testing.T) {
	c := undoCases(t)[2] // p2wpkh, derived
	block := undoBlock([]*wire.TxIn{c.in})
	raw, err := encodeUndo(block, []*utxo.Entry{{Amount: 5, PkScript: c.script, Height: 7}})
	if err != nil {
		t.Fatal(err)
	}
	p2tr := undoCases(t)[4]
	trRaw, _ := encodeUndo(undoBlock([]*wire.TxIn{p2tr.in}), []*utxo.Entry{{Amount: 5, PkScript: p2tr.script, Height: 7}})
	tests := []struct {
		name  string
		raw   []byte
		block *wire.MsgBlock
	}{
		{"empty", nil, block},
		{"count above inputs", []byte{2, 14, 5, 2}, block},
		{"count below inputs", raw, undoBlock([]*wire.TxIn{c.in, c.in})},
		{"truncated", raw[:len(raw)-1], block},
		{"trailing byte", append(bytes.Clone(raw), 0), block},
		{"derived script, input without witness", raw, undoBlock([]*wire.TxIn{{}})},
		{"truncated taproot key", trRaw[:len(trRaw)-1], block},
		{"raw script past the end", []byte{1, 14, 5, undoScriptRaw + 10, 1, 2}, block},
		{"height out of range", []byte{1, 0xff, 0xff, 0xff, 0xff, 0x7f, 5, undoScriptRaw}, block},
	}
	for _, test := range tests {
		if _, err := decodeUndo(test.raw, test.block); !errors.Is(err, ErrCorruptDatabase) {
			t.Errorf("%s: err %v, want ErrCorruptDatabase", test.name, err)
		}
	}
}
