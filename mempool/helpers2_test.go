package mempool

import (
	"bytes"
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/mempool/policy"
)

// Helpers shared by rules_test.go and bench_test.go. They build on
// harness_test.go without changing it.

// newYoungHarness is newHarness with total blocks instead of funded+100:
// the first funded blocks pay the key, so with total < funded+100 the
// youngest funded coinbases are not yet mature. Block bi is at height i+1
// and its coinbase may be spent at height i+1+100.
func newYoungHarness(t testing.TB, funded, total int) *harness {
	t.Helper()
	net := chainparams.Regtest()
	h := &harness{t: t, g: chaintest.New(net)}
	h.key, _ = btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("mempool test key")))
	h.pk = chaintest.P2WPKHScript(h.key)
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: func() time.Time { return h.g.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	h.chain = c
	for i := 0; i < total; i++ {
		pay := func(b *wire.MsgBlock) {}
		if i < funded {
			pay = func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = h.pk }
		}
		h.g.NextBlock("b"+itoa(i), nil, nil, pay)
		if _, err := c.ProcessBlock(h.g.Tip()); err != nil {
			t.Fatal(err)
		}
	}
	h.clock = h.g.Now()
	h.pool = New(Config{Chain: c, Now: func() time.Time { return h.clock }})
	return h
}

// newPool replaces the harness's pool with one configured by cfg (its
// Chain and Now are filled in).
func (h *harness) newPool(cfg Config) *TxPool {
	cfg.Chain = h.chain
	cfg.Now = func() time.Time { return h.clock }
	h.pool = New(cfg)
	return h.pool
}

// signInputs signs every input of tx, each spending the P2WPKH output outs[i]
// with its Key, replacing any witness. Call it after the last change to tx.
func signInputs(t testing.TB, tx *wire.MsgTx, outs []chaintest.SpendableOut) *wire.MsgTx {
	t.Helper()
	prev := make(map[wire.OutPoint]*wire.TxOut, len(outs))
	for _, o := range outs {
		prev[o.OutPoint] = &wire.TxOut{Value: o.Amount, PkScript: o.PkScript}
	}
	hashes := txscript.NewTxSigHashes(tx, txscript.NewMultiPrevOutFetcher(prev))
	for i, o := range outs {
		if o.Key == nil {
			continue
		}
		w, err := txscript.WitnessSignature(tx, hashes, i, o.Amount, o.PkScript, txscript.SigHashAll, o.Key, true)
		if err != nil {
			t.Fatalf("sign input %d: %v", i, err)
		}
		tx.TxIn[i].Witness = w
	}
	return tx
}

// buildTx returns a version 2 transaction spending outs (final sequence
// numbers but for lock time use) to outputs, changed by mod before it is
// signed. Inputs whose out has no Key are left unsigned.
func buildTx(t testing.TB, outs []chaintest.SpendableOut, outputs []*wire.TxOut, mod func(*wire.MsgTx)) *wire.MsgTx {
	t.Helper()
	tx := wire.NewMsgTx(2)
	for _, o := range outs {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: o.OutPoint, Sequence: wire.MaxTxInSequenceNum - 2})
	}
	for _, o := range outputs {
		tx.AddTxOut(&wire.TxOut{Value: o.Value, PkScript: o.PkScript})
	}
	if mod != nil {
		mod(tx)
	}
	return signInputs(t, tx, outs)
}

// payTo returns an output of value paying pkScript.
func payTo(value int64, pkScript []byte) *wire.TxOut {
	return &wire.TxOut{Value: value, PkScript: pkScript}
}

// sumAmounts returns the sum of outs' amounts.
func sumAmounts(outs []chaintest.SpendableOut) int64 {
	var n int64
	for _, o := range outs {
		n += o.Amount
	}
	return n
}

// withFeeRate builds a transaction whose fee is exactly policy.Fee(rate, vsize)
// plus delta: build gets the fee to leave and must return the signed
// transaction. Signatures vary in length, so it retries until the size
// settles.
func withFeeRate(t testing.TB, rate, delta int64, build func(fee int64) *wire.MsgTx) *wire.MsgTx {
	t.Helper()
	fee := int64(200)
	for i := 0; i < 10; i++ {
		tx := build(fee)
		want := policy.Fee(rate, txVSize(tx)) + delta
		if want == fee {
			return tx
		}
		fee = want
	}
	t.Fatalf("fee for rate %d did not settle", rate)
	return nil
}

// txVSize returns tx's virtual size.
func txVSize(tx *wire.MsgTx) int64 {
	return policy.VirtualSize(int64(tx.SerializeSizeStripped()*3 + tx.SerializeSize()))
}

// p2wpkhSpend returns a one-output P2WPKH spend of outs to the harness key,
// leaving fee.
func (h *harness) p2wpkhSpend(outs []chaintest.SpendableOut, fee int64) *wire.MsgTx {
	h.t.Helper()
	return buildTx(h.t, outs, []*wire.TxOut{payTo(sumAmounts(outs)-fee, h.pk)}, nil)
}

// spendAtRate returns a one-output spend of outs to the harness key paying
// exactly rate (per 1,000 vbytes) plus delta.
func (h *harness) spendAtRate(outs []chaintest.SpendableOut, nOut int, rate, delta int64) *wire.MsgTx {
	h.t.Helper()
	return withFeeRate(h.t, rate, delta, func(fee int64) *wire.MsgTx { return h.spend(outs, nOut, fee) })
}

// accept accepts each transaction or fails the test.
func (h *harness) accept(t testing.TB, txs ...*wire.MsgTx) {
	t.Helper()
	for _, tx := range txs {
		if _, err := h.pool.ProcessTransaction(tx, false); err != nil {
			t.Fatalf("accept %v: %v", tx.TxHash(), err)
		}
	}
}

// confirm mines a block holding txs (each must be valid) under a fresh name.
func (h *harness) confirm(txs ...*wire.MsgTx) *wire.MsgBlock {
	h.t.Helper()
	return h.mine("c"+itoa(int(h.g.TipHeight())+1), txs...)
}

// fund confirms a transaction spending funded coinbase cb to one output of
// value per script, and returns those outputs (P2WPKH ones with the key).
func (h *harness) fund(cb int, value int64, scripts ...[]byte) []chaintest.SpendableOut {
	h.t.Helper()
	in := h.coinbase(cb)
	outputs := make([]*wire.TxOut, len(scripts))
	for i, s := range scripts {
		outputs[i] = payTo(value, s)
	}
	outputs = append(outputs, payTo(in.Amount-value*int64(len(scripts))-100_000, h.pk))
	tx := buildTx(h.t, []chaintest.SpendableOut{in}, outputs, nil)
	h.confirm(tx)
	outs := make([]chaintest.SpendableOut, len(scripts))
	for i := range scripts {
		outs[i] = h.out(tx, uint32(i))
		if !bytes.Equal(scripts[i], h.pk) {
			outs[i].Key = nil
		}
	}
	return outs
}

// p2shScript returns the P2SH output script of redeem.
func p2shScript(redeem []byte) []byte {
	s, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_HASH160).
		AddData(btcutil.Hash160(redeem)).AddOp(txscript.OP_EQUAL).Script()
	return s
}

// opTrueRedeem is a P2SH redeem script anyone can satisfy without a
// signature, so the size of its spends is known in advance.
var opTrueRedeem = []byte{txscript.OP_TRUE}

// opTrueSigScript is the minimal scriptSig spending P2SH(OP_TRUE).
var opTrueSigScript = []byte{txscript.OP_DATA_1, txscript.OP_TRUE}

// pushScript returns a script pushing each of data canonically.
func pushScript(t testing.TB, data ...[]byte) []byte {
	t.Helper()
	b := txscript.NewScriptBuilder()
	for _, d := range data {
		b.AddData(d)
	}
	s, err := b.Script()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nullData returns an OP_RETURN script of exactly size bytes: OP_RETURN and
// one canonical push.
func nullData(t testing.TB, size int) []byte {
	t.Helper()
	if size == 1 {
		return []byte{txscript.OP_RETURN}
	}
	for n := size - 2; n >= 0; n-- {
		s := append([]byte{txscript.OP_RETURN}, pushScript(t, bytes.Repeat([]byte{0xaa}, n))...)
		if len(s) == size {
			return s
		}
	}
	t.Fatalf("no OP_RETURN script of %d bytes", size)
	return nil
}

// p2pkhScript returns a P2PKH output script (to a key nobody uses).
func p2pkhScript() []byte {
	s, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).AddOp(txscript.OP_HASH160).
		AddData(make([]byte, 20)).AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
	return s
}

// highS rewrites the DER signature of a witness (signature plus sighash
// byte) with S replaced by N-S: still valid for consensus, not for the
// LOW_S policy rule.
func highS(t testing.TB, sig []byte) []byte {
	t.Helper()
	der, hashType := sig[:len(sig)-1], sig[len(sig)-1]
	if len(der) < 8 || der[0] != 0x30 || der[2] != 0x02 {
		t.Fatalf("not a DER signature: %x", der)
	}
	rLen := int(der[3])
	r := der[4 : 4+rLen]
	if der[4+rLen] != 0x02 {
		t.Fatalf("not a DER signature: %x", der)
	}
	sLen := int(der[5+rLen])
	s := new(big.Int).SetBytes(der[6+rLen : 6+rLen+sLen])
	s.Sub(btcec.S256().N, s)
	sb := s.Bytes()
	if sb[0]&0x80 != 0 {
		sb = append([]byte{0}, sb...)
	}
	body := append([]byte{0x02, byte(len(r))}, r...)
	body = append(body, 0x02, byte(len(sb)))
	body = append(body, sb...)
	out := append([]byte{0x30, byte(len(body))}, body...)
	return append(out, hashType)
}
