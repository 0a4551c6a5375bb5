package mempool

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool/policy"
)

// ruleTest is one transaction handed to a fresh pool and what must become
// of it.
type ruleTest struct {
	name string
	// harness builds the chain and pool; nil means newHarness(t, 4): four
	// mature P2WPKH coinbases b0..b3 (heights 1..4), then bare OP_TRUE
	// coinbases, tip at height 104.
	harness func(t *testing.T) *harness
	// build prepares the pool and returns the transaction to submit.
	build func(t *testing.T, h *harness) *wire.MsgTx
	// reason is the expected reject reason; "" means accepted.
	reason string
	code   RejectCode
	// kind, if set, is the consensus ErrorKind the rejection wraps.
	kind error
	// detail, if set, must occur in RejectError.Detail.
	detail string
	// inPool says the refused transaction is nonetheless in the pool (it
	// was there before).
	inPool bool
	// check, if set, runs after the submission.
	check func(t *testing.T, h *harness, tx *wire.MsgTx)
}

func one(o chaintest.SpendableOut) []chaintest.SpendableOut { return []chaintest.SpendableOut{o} }

// entryMem is the pool's memory estimate of tx as an entry.
func entryMem(tx *wire.MsgTx) int64 {
	return (&entry{raw: make([]byte, tx.SerializeSize())}).memSize(len(tx.TxIn))
}

// chainOf returns n transactions, each spending the previous one's only
// output, the first spending out, each paying fee.
func (h *harness) chainOf(out chaintest.SpendableOut, n int, fee int64) []*wire.MsgTx {
	h.t.Helper()
	txs := make([]*wire.MsgTx, n)
	for i := range txs {
		txs[i] = h.spend(one(out), 1, fee)
		out = h.out(txs[i], 0)
	}
	return txs
}

// bigTx returns a non-witness transaction of exactly size bytes (weight
// 4*size) spending a confirmed P2SH(OP_TRUE) output to 3,222 P2WPKH outputs
// and an OP_RETURN that pads it.
func bigTx(t *testing.T, h *harness, size int) *wire.MsgTx {
	t.Helper()
	in := h.fund(0, 2_000_000, p2shScript(opTrueRedeem))[0]
	const k = 3222
	build := func(pad int) *wire.MsgTx {
		outputs := make([]*wire.TxOut, 0, k+1)
		for i := 0; i < k; i++ {
			outputs = append(outputs, payTo(300, h.pk))
		}
		outputs = append(outputs, payTo(0, nullData(t, pad)))
		return buildTx(t, one(in), outputs, func(tx *wire.MsgTx) { tx.TxIn[0].SignatureScript = opTrueSigScript })
	}
	tx := build(40)
	tx = build(40 + size - tx.SerializeSize())
	if tx.SerializeSize() != size || tx.HasWitness() {
		t.Fatalf("built %d bytes, want %d without witness", tx.SerializeSize(), size)
	}
	return tx
}

// bigSigScriptTx returns a spend of a confirmed P2SH(2DROP 2DROP TRUE)
// output whose scriptSig (four pushes and the redeem script, all minimal)
// is exactly size bytes, and which passes every script rule.
func bigSigScriptTx(t *testing.T, h *harness, size int) *wire.MsgTx {
	t.Helper()
	redeem := []byte{txscript.OP_2DROP, txscript.OP_2DROP, txscript.OP_TRUE}
	in := h.fund(0, 1_000_000, p2shScript(redeem))[0]
	junk := func(n int) []byte { return bytes.Repeat([]byte{0x11}, n) }
	for n := 0; n < 300; n++ {
		sig := pushScript(t, junk(520), junk(520), junk(519), junk(n), redeem)
		if len(sig) == size {
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-20_000, h.pk)},
				func(tx *wire.MsgTx) { tx.TxIn[0].SignatureScript = sig })
		}
	}
	t.Fatalf("no scriptSig of %d bytes", size)
	return nil
}

// multisigOuts returns n bare 1-of-1 multisig outputs of value each; each
// counts 20 legacy sigops (80 sigop cost).
func (h *harness) multisigOuts(n int, value int64) []*wire.TxOut {
	h.t.Helper()
	script, err := txscript.NewScriptBuilder().AddOp(txscript.OP_1).
		AddData(h.key.PubKey().SerializeCompressed()).AddOp(txscript.OP_1).
		AddOp(txscript.OP_CHECKMULTISIG).Script()
	if err != nil {
		h.t.Fatal(err)
	}
	outs := make([]*wire.TxOut, n)
	for i := range outs {
		outs[i] = payTo(value, script)
	}
	return outs
}

// sigopsTx spends coinbase 0 to n bare multisig outputs plus change.
func sigopsTx(t *testing.T, h *harness, n int) *wire.MsgTx {
	t.Helper()
	in := h.coinbase(0)
	outs := append(h.multisigOuts(n, 600), payTo(in.Amount-int64(n)*600-100_000, h.pk))
	return buildTx(t, one(in), outs, nil)
}

// fanOut confirms n P2WPKH outputs of 100,000 and puts one pool transaction
// spending each (fee 1,000) in the pool. It returns the outputs.
func fanOut(t *testing.T, h *harness, n int) []chaintest.SpendableOut {
	t.Helper()
	scripts := make([][]byte, n)
	for i := range scripts {
		scripts[i] = h.pk
	}
	outs := h.fund(0, 100_000, scripts...)
	for _, o := range outs {
		h.accept(t, h.p2wpkhSpend(one(o), 1000))
	}
	return outs
}

// fullPool replaces the pool with one whose memory bound fits exactly the
// given transactions plus the next (extra) one minus a byte, so that the
// next one's arrival forces one eviction, and accepts txs.
func fullPool(t *testing.T, h *harness, next *wire.MsgTx, txs ...*wire.MsgTx) {
	t.Helper()
	limit := entryMem(next) - 1
	for _, tx := range txs {
		limit += entryMem(tx)
	}
	h.newPool(Config{MaxPoolBytes: limit})
	h.accept(t, txs...)
}

// TestRejectReasons ensures each rule of acceptance refuses a transaction
// that breaks it, and only it, with Bitcoin Core's reject reason and the
// right RejectCode; rows with no reason are the accepted side of a
// boundary.
func TestRejectReasons(t *testing.T) {
	t.Parallel()
	young := func(t *testing.T) *harness { return newYoungHarness(t, 3, 101) }
	tests := []ruleTest{{
		name: "already in the pool",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := h.spend(one(h.coinbase(0)), 1, 1000)
			h.accept(t, tx)
			return tx
		},
		reason: "txn-already-in-mempool", code: RejectDuplicate, inPool: true,
	}, {
		name: "negative output value",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := h.spend(one(h.coinbase(0)), 2, 1000)
			tx.TxOut[1].Value = -1
			return tx
		},
		reason: "bad-txns-vout-negative", code: RejectInvalid, kind: consensus.ErrBadTxOutValue,
	}, {
		name: "output over max money",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := h.spend(one(h.coinbase(0)), 1, 1000)
			tx.TxOut[0].Value = consensus.MaxMoney + 1
			return tx
		},
		reason: "bad-txns-vout-toolarge", code: RejectInvalid, kind: consensus.ErrTxOutValueTooLarge,
	}, {
		name: "same input twice",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return buildTx(t, []chaintest.SpendableOut{h.coinbase(0), h.coinbase(0)},
				[]*wire.TxOut{payTo(1000, h.pk)}, nil)
		},
		reason: "bad-txns-inputs-duplicate", code: RejectInvalid, kind: consensus.ErrDuplicateTxInputs,
	}, {
		name: "no inputs",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := wire.NewMsgTx(2)
			tx.AddTxOut(payTo(1000, h.pk))
			return tx
		},
		reason: "bad-txns-vin-empty", code: RejectInvalid, kind: consensus.ErrNoTxInputs,
	}, {
		name: "no outputs",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return buildTx(t, one(h.coinbase(0)), nil, nil)
		},
		reason: "bad-txns-vout-empty", code: RejectInvalid, kind: consensus.ErrNoTxOutputs,
	}, {
		name: "null prevout beside a real input",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := h.spend(one(h.coinbase(0)), 1, 1000)
			tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}})
			return tx
		},
		reason: "bad-txns-prevout-null", code: RejectInvalid, kind: consensus.ErrBadTxInput,
	}, {
		name: "coinbase",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return h.g.CreateCoinbase(h.g.TipHeight()+1, 1000, h.pk)
		},
		reason: "coinbase", code: RejectInvalid,
	}, {
		name: "version 0",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return buildTx(t, one(h.coinbase(0)), []*wire.TxOut{payTo(1000, h.pk)},
				func(tx *wire.MsgTx) { tx.Version = 0 })
		},
		reason: "version", code: RejectNonstandard,
	}, {
		name: "version 4",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return buildTx(t, one(h.coinbase(0)), []*wire.TxOut{payTo(1000, h.pk)},
				func(tx *wire.MsgTx) { tx.Version = 4 })
		},
		reason: "version", code: RejectNonstandard,
	}, {
		name: "version 3 accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-1000, h.pk)},
				func(tx *wire.MsgTx) { tx.Version = 3 })
		},
	}, {
		name:  "weight 400,000 accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx { return bigTx(t, h, policy.MaxStandardTxWeight/4) },
		check: func(t *testing.T, h *harness, tx *wire.MsgTx) {
			if d, err := h.pool.Entry(tx.TxHash()); err != nil || d.Weight != policy.MaxStandardTxWeight {
				t.Errorf("entry %+v, %v; want weight %d", d, err, policy.MaxStandardTxWeight)
			}
		},
	}, {
		name:   "weight 400,004",
		build:  func(t *testing.T, h *harness) *wire.MsgTx { return bigTx(t, h, policy.MaxStandardTxWeight/4+1) },
		reason: "tx-size", code: RejectNonstandard,
	}, {
		name: "64 bytes without witness",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			tx := buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-1000, nullData(t, 4))}, nil)
			if n := tx.SerializeSizeStripped(); n != 64 {
				t.Fatalf("stripped size %d", n)
			}
			return tx
		},
		reason: "tx-size-small", code: RejectNonstandard,
	}, {
		name: "65 bytes without witness accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-1000, nullData(t, 5))}, nil)
		},
	}, {
		name: "scriptSig of 1,650 bytes accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return bigSigScriptTx(t, h, policy.MaxStandardScriptSigSize)
		},
	}, {
		name: "scriptSig of 1,651 bytes",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return bigSigScriptTx(t, h, policy.MaxStandardScriptSigSize+1)
		},
		reason: "scriptsig-size", code: RejectNonstandard,
	}, {
		name: "scriptSig with OP_NOP",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.fund(0, 1_000_000, p2shScript(opTrueRedeem))[0]
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-20_000, h.pk)}, func(tx *wire.MsgTx) {
				tx.TxIn[0].SignatureScript = append([]byte{txscript.OP_NOP}, opTrueSigScript...)
			})
		},
		reason: "scriptsig-not-pushonly", code: RejectNonstandard,
	}, {
		name: "bare OP_TRUE output",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			return buildTx(t, one(in), []*wire.TxOut{payTo(1000, chaintest.OpTrueScript),
				payTo(in.Amount-2000, h.pk)}, nil)
		},
		reason: "scriptpubkey", code: RejectNonstandard,
	}, {
		name: "OP_RETURN of 83 bytes accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			return buildTx(t, one(in), []*wire.TxOut{payTo(0, nullData(t, policy.MaxOpReturnRelay)),
				payTo(in.Amount-1000, h.pk)}, nil)
		},
	}, {
		name: "OP_RETURN of 84 bytes",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			return buildTx(t, one(in), []*wire.TxOut{payTo(0, nullData(t, policy.MaxOpReturnRelay+1)),
				payTo(in.Amount-1000, h.pk)}, nil)
		},
		reason: "scriptpubkey", code: RejectNonstandard,
	}, {
		name: "two OP_RETURN outputs",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			return buildTx(t, one(in), []*wire.TxOut{payTo(0, nullData(t, 10)), payTo(0, nullData(t, 10)),
				payTo(in.Amount-1000, h.pk)}, nil)
		},
		reason: "multi-op-return", code: RejectNonstandard,
	}, {
		name:   "P2WPKH output of 293",
		build:  func(t *testing.T, h *harness) *wire.MsgTx { return dustTx(t, h, h.pk, 293) },
		reason: "dust", code: RejectNonstandard,
	}, {
		name:  "P2WPKH output of 294 accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx { return dustTx(t, h, h.pk, 294) },
	}, {
		name:   "P2PKH output of 545",
		build:  func(t *testing.T, h *harness) *wire.MsgTx { return dustTx(t, h, p2pkhScript(), 545) },
		reason: "dust", code: RejectNonstandard,
	}, {
		name:  "P2PKH output of 546 accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx { return dustTx(t, h, p2pkhScript(), 546) },
	}, {
		name: "lock time at the next height",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return lockTimeTx(t, h, uint32(h.g.TipHeight()+1))
		},
		reason: "non-final", code: RejectNonstandard,
	}, {
		name: "lock time at the tip height accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return lockTimeTx(t, h, uint32(h.g.TipHeight()))
		},
	}, {
		name: "lock time at the median time past",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return lockTimeTx(t, h, uint32(h.chain.BestSnapshot().MedianTime.Unix()))
		},
		reason: "non-final", code: RejectNonstandard,
	}, {
		name: "lock time a second before the median time past accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return lockTimeTx(t, h, uint32(h.chain.BestSnapshot().MedianTime.Unix()-1))
		},
	}, {
		name: "lock time at the next height with final sequences accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-1000, h.pk)}, func(tx *wire.MsgTx) {
				tx.LockTime = uint32(h.g.TipHeight() + 1)
				tx.TxIn[0].Sequence = wire.MaxTxInSequenceNum
			})
		},
	}, {
		name: "already confirmed",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := h.spend(one(h.coinbase(0)), 2, 1000)
			h.confirm(tx)
			return tx
		},
		reason: "txn-already-known", code: RejectAlreadyKnown,
	}, {
		name: "unknown input",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			out := h.coinbase(0)
			out.OutPoint.Hash = chainhash.DoubleHashH([]byte("nowhere"))
			return h.spend(one(out), 1, 1000)
		},
		reason: "bad-txns-inputs-missingorspent", code: RejectMissingInputs,
	}, {
		name: "input spent in the chain",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			h.confirm(h.spend(one(h.coinbase(0)), 1, 1000))
			return h.spend(one(h.coinbase(0)), 1, 2000)
		},
		reason: "bad-txns-inputs-missingorspent", code: RejectMissingInputs,
	}, {
		name:    "coinbase 100 blocks deep accepted",
		harness: young,
		build:   func(t *testing.T, h *harness) *wire.MsgTx { return h.spend(one(h.coinbase(1)), 1, 1000) },
	}, {
		name:    "coinbase 99 blocks deep",
		harness: young,
		build:   func(t *testing.T, h *harness) *wire.MsgTx { return h.spend(one(h.coinbase(2)), 1, 1000) },
		reason:  "bad-txns-premature-spend-of-coinbase", code: RejectPremature,
	}, {
		name: "outputs above inputs",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.coinbase(0)
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount+1, h.pk)}, nil)
		},
		reason: "bad-txns-in-belowout", code: RejectInvalid,
	}, {
		name: "relative height lock reached accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			// Coinbase 0 is at height 1: a lock of n blocks allows height 1+n.
			return sequenceTx(t, h, 2, uint32(h.g.TipHeight()))
		},
	}, {
		name: "relative height lock one block short",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return sequenceTx(t, h, 2, uint32(h.g.TipHeight()+1))
		},
		reason: "non-BIP68-final", code: RejectNonstandard,
	}, {
		name: "relative time lock not reached",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return sequenceTx(t, h, 2, consensus.SequenceLockTimeIsSeconds|0xffff)
		},
		reason: "non-BIP68-final", code: RejectNonstandard,
	}, {
		name: "relative lock ignored in version 1 accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return sequenceTx(t, h, 1, uint32(h.g.TipHeight()+1))
		},
	}, {
		name: "spends a bare OP_TRUE output",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.g.CoinbaseOut("b4")
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-1000, h.pk)}, nil)
		},
		reason: "bad-txns-nonstandard-inputs", code: RejectNonstandard,
	}, {
		name: "spends P2SH with 16 sigops",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			redeem := []byte{txscript.OP_16, txscript.OP_CHECKMULTISIG}
			in := h.fund(0, 1_000_000, p2shScript(redeem))[0]
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-20_000, h.pk)}, func(tx *wire.MsgTx) {
				tx.TxIn[0].SignatureScript = pushScript(t, redeem)
			})
		},
		reason: "bad-txns-nonstandard-inputs", code: RejectNonstandard,
	}, {
		name:  "sigop cost 15,921 accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx { return sigopsTx(t, h, 199) },
		check: func(t *testing.T, h *harness, tx *wire.MsgTx) {
			if d, err := h.pool.Entry(tx.TxHash()); err != nil || d.SigOpCost != 199*80+1 {
				t.Errorf("entry %+v, %v; want sigop cost %d", d, err, 199*80+1)
			}
		},
	}, {
		name:   "sigop cost 16,001",
		build:  func(t *testing.T, h *harness) *wire.MsgTx { return sigopsTx(t, h, 200) },
		reason: "bad-txns-too-many-sigops", code: RejectNonstandard,
	}, {
		name: "fee of 1 sat/vB accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return h.spendAtRate(one(h.coinbase(0)), 1, policy.DefaultMinRelayFeeRate, 0)
		},
	}, {
		name: "fee one below 1 sat/vB",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return h.spendAtRate(one(h.coinbase(0)), 1, policy.DefaultMinRelayFeeRate, -1)
		},
		reason: "min relay fee not met", code: RejectInsufficientFee,
	}, {
		name: "below the raised pool minimum",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			raiseMinFee(t, h)
			return h.spendAtRate(one(h.coinbase(3)), 1, 3000, -1)
		},
		reason: "mempool min fee not met", code: RejectInsufficientFee,
	}, {
		name: "at the raised pool minimum, the lowest in a full pool",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			raiseMinFee(t, h)
			// Two outputs: larger than the evicted one, so it cannot fit.
			return h.spendAtRate(one(h.coinbase(3)), 2, 3000, 0)
		},
		reason: "mempool full", code: RejectInsufficientFee,
	}, {
		name: "lowest fee rate in a full pool",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			a := h.spendAtRate(one(h.coinbase(0)), 1, 5000, 0)
			b := h.spendAtRate(one(h.coinbase(1)), 1, 5000, 0)
			c := h.spendAtRate(one(h.coinbase(2)), 1, 2000, 0)
			fullPool(t, h, c, a, b)
			return c
		},
		reason: "mempool full", code: RejectInsufficientFee,
		check: func(t *testing.T, h *harness, tx *wire.MsgTx) {
			if h.pool.Count() != 2 {
				t.Errorf("pool holds %d, want the 2 it had", h.pool.Count())
			}
		},
	}, {
		name: "25th transaction of a chain accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			txs := h.chainOf(h.coinbase(0), 25, 1000)
			h.accept(t, txs[:24]...)
			return txs[24]
		},
		check: func(t *testing.T, h *harness, tx *wire.MsgTx) {
			if d, err := h.pool.Entry(tx.TxHash()); err != nil || d.AncestorCount != 25 {
				t.Errorf("entry %+v, %v; want 25 ancestors", d, err)
			}
		},
	}, {
		name: "26th transaction of a chain",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			txs := h.chainOf(h.coinbase(0), 26, 1000)
			h.accept(t, txs[:25]...)
			return txs[25]
		},
		reason: "too-long-mempool-chain", code: RejectNonstandard, detail: "ancestors",
	}, {
		name: "24th child of one parent accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return nthChild(t, h, 24)
		},
	}, {
		name: "25th child of one parent",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			return nthChild(t, h, 25)
		},
		reason: "too-long-mempool-chain", code: RejectNonstandard, detail: "descendants",
	}, {
		name: "replacement evicting 100 accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			outs := fanOut(t, h, 100)
			return h.p2wpkhSpend(outs, 300_000)
		},
		check: func(t *testing.T, h *harness, tx *wire.MsgTx) {
			if h.pool.Count() != 1 {
				t.Errorf("pool holds %d, want the replacement only", h.pool.Count())
			}
		},
	}, {
		name: "replacement evicting 101",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			outs := fanOut(t, h, 101)
			return h.p2wpkhSpend(outs, 300_000)
		},
		reason: "too many potential replacements", code: RejectNonstandard,
		check: func(t *testing.T, h *harness, tx *wire.MsgTx) {
			if h.pool.Count() != 101 {
				t.Errorf("pool holds %d, want the 101 originals", h.pool.Count())
			}
		},
	}, {
		name: "replacement spending the replaced",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			a := h.spend(one(h.coinbase(0)), 2, 1000)
			h.accept(t, a)
			return h.p2wpkhSpend([]chaintest.SpendableOut{h.coinbase(0), h.out(a, 0)}, 100_000)
		},
		reason: "bad-txns-spends-conflicting-tx", code: RejectInvalid,
	}, {
		name: "replacement adding an unconfirmed input",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			a := h.spend(one(h.coinbase(0)), 1, 1000)
			b := h.spend(one(h.coinbase(1)), 1, 1000)
			h.accept(t, a, b)
			return h.p2wpkhSpend([]chaintest.SpendableOut{h.coinbase(0), h.out(b, 0)}, 100_000)
		},
		reason: "replacement-adds-unconfirmed", code: RejectNonstandard,
	}, {
		name: "replacement adding a confirmed input accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			a := h.spend(one(h.coinbase(0)), 1, 1000)
			h.accept(t, a)
			return h.p2wpkhSpend([]chaintest.SpendableOut{h.coinbase(0), h.coinbase(1)}, 100_000)
		},
	}, {
		name: "replacement at a lower fee rate",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			a := h.spendAtRate(one(h.coinbase(0)), 1, 100_000, 0)
			h.accept(t, a)
			// Two outputs: more fee than a plus its own size, a lower rate.
			fee := policy.Fee(100_000, txVSize(a)) + 1000
			r := h.spend(one(h.coinbase(0)), 2, fee)
			if fee*txVSize(a) >= policy.Fee(100_000, txVSize(a))*txVSize(r) {
				t.Fatalf("replacement rate not lower")
			}
			return r
		},
		reason: "insufficient fee", code: RejectInsufficientFee, detail: "new feerate",
	}, {
		name: "replacement paying less than the evicted child too",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			a := h.spend(one(h.coinbase(0)), 1, 1000)
			child := h.spend(one(h.out(a, 0)), 1, 5000)
			h.accept(t, a, child)
			return h.spend(one(h.coinbase(0)), 1, 2000)
		},
		reason: "insufficient fee", code: RejectInsufficientFee, detail: "less fees than conflicting",
	}, {
		name: "replacement one short of paying for its size",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			a := h.spend(one(h.coinbase(0)), 1, 1000)
			h.accept(t, a)
			return h.spendAtRate(one(h.coinbase(0)), 1, policy.IncrementalRelayFeeRate, 1000-1)
		},
		reason: "insufficient fee", code: RejectInsufficientFee, detail: "not enough additional fees",
	}, {
		name: "replacement paying exactly for its size accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			a := h.spend(one(h.coinbase(0)), 1, 1000)
			h.accept(t, a)
			return h.spendAtRate(one(h.coinbase(0)), 1, policy.IncrementalRelayFeeRate, 1000)
		},
	}, {
		name: "high-S signature",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := h.spend(one(h.coinbase(0)), 1, 1000)
			tx.TxIn[0].Witness[0] = highS(t, tx.TxIn[0].Witness[0])
			return tx
		},
		reason: "non-mandatory-script-verify-flag", code: RejectNonstandard,
	}, {
		name: "non-minimal push of the redeem script",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.fund(0, 1_000_000, p2shScript(opTrueRedeem))[0]
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-20_000, h.pk)}, func(tx *wire.MsgTx) {
				tx.TxIn[0].SignatureScript = []byte{txscript.OP_PUSHDATA1, 1, txscript.OP_TRUE}
			})
		},
		reason: "non-mandatory-script-verify-flag", code: RejectNonstandard,
	}, {
		name: "minimal push of the redeem script accepted",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.fund(0, 1_000_000, p2shScript(opTrueRedeem))[0]
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-20_000, h.pk)}, func(tx *wire.MsgTx) {
				tx.TxIn[0].SignatureScript = opTrueSigScript
			})
		},
	}, {
		name: "signature of other outputs",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := h.spend(one(h.coinbase(0)), 1, 1000)
			tx.TxOut[0].Value--
			return tx
		},
		reason: "mandatory-script-verify-flag-failed", code: RejectInvalid, kind: consensus.ErrScriptValidation,
	}, {
		name: "wrong P2SH redeem script",
		build: func(t *testing.T, h *harness) *wire.MsgTx {
			in := h.fund(0, 1_000_000, p2shScript(opTrueRedeem))[0]
			return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-20_000, h.pk)}, func(tx *wire.MsgTx) {
				tx.TxIn[0].SignatureScript = []byte{txscript.OP_DATA_1, txscript.OP_2}
			})
		},
		reason: "mandatory-script-verify-flag-failed", code: RejectInvalid, kind: consensus.ErrScriptValidation,
	}}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			var h *harness
			if test.harness != nil {
				h = test.harness(t)
			} else {
				h = newHarness(t, 4)
			}
			tx := test.build(t, h)
			before := h.pool.Count()
			res, err := h.pool.ProcessTransaction(tx, false)
			if test.check != nil {
				defer test.check(t, h, tx)
			}
			if test.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(res.Accepted) != 1 || !h.pool.Have(tx.TxHash()) {
					t.Fatalf("not in the pool: %+v", res)
				}
				return
			}
			if got := Reason(err); got != test.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, test.reason)
			}
			var re *RejectError
			if !errors.As(err, &re) {
				t.Fatalf("%T is not a *RejectError", err)
			}
			if re.Code != test.code {
				t.Errorf("code %d, want %d", re.Code, test.code)
			}
			if test.kind != nil && !errors.Is(err, test.kind) {
				t.Errorf("%v does not wrap %v", err, test.kind)
			}
			if !strings.Contains(re.Detail, test.detail) {
				t.Errorf("detail %q does not mention %q", re.Detail, test.detail)
			}
			if h.pool.Have(tx.TxHash()) != test.inPool {
				t.Errorf("in the pool: %v, want %v", h.pool.Have(tx.TxHash()), test.inPool)
			}
			if h.pool.Count() != before {
				t.Errorf("pool changed from %d to %d transactions", before, h.pool.Count())
			}
		})
	}
}

// dustTx spends coinbase 0 to an output of value paying script, plus
// change.
func dustTx(t *testing.T, h *harness, script []byte, value int64) *wire.MsgTx {
	t.Helper()
	in := h.coinbase(0)
	return buildTx(t, one(in), []*wire.TxOut{payTo(value, script), payTo(in.Amount-value-1000, h.pk)}, nil)
}

// lockTimeTx spends coinbase 0 with lock time lt and a non-final sequence.
func lockTimeTx(t *testing.T, h *harness, lt uint32) *wire.MsgTx {
	t.Helper()
	in := h.coinbase(0)
	return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-1000, h.pk)}, func(tx *wire.MsgTx) {
		tx.LockTime = lt
	})
}

// sequenceTx spends coinbase 0 (height 1) with the given version and
// sequence.
func sequenceTx(t *testing.T, h *harness, version int32, seq uint32) *wire.MsgTx {
	t.Helper()
	in := h.coinbase(0)
	return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-1000, h.pk)}, func(tx *wire.MsgTx) {
		tx.Version = version
		tx.TxIn[0].Sequence = seq
	})
}

// nthChild puts a parent with 30 outputs and n-1 children in the pool and
// returns the nth child.
func nthChild(t *testing.T, h *harness, n int) *wire.MsgTx {
	t.Helper()
	parent := h.spend(one(h.coinbase(0)), 30, 10_000)
	h.accept(t, parent)
	for i := 0; i < n-1; i++ {
		h.accept(t, h.spend(one(h.out(parent, uint32(i))), 1, 1000))
	}
	return h.spend(one(h.out(parent, uint32(n-1))), 1, 1000)
}

// raiseMinFee fills a small pool with transactions at 2 and 4 sat/vB and
// adds one at 10 sat/vB, which evicts the first and raises the pool's
// minimum to 2+1 sat/vB. It uses coinbases 0..2.
func raiseMinFee(t *testing.T, h *harness) {
	t.Helper()
	a := h.spendAtRate(one(h.coinbase(0)), 1, 2000, 0)
	b := h.spendAtRate(one(h.coinbase(1)), 1, 4000, 0)
	c := h.spendAtRate(one(h.coinbase(2)), 1, 10_000, 0)
	fullPool(t, h, c, a, b)
	h.accept(t, c)
	if h.pool.Have(a.TxHash()) || h.pool.Count() != 2 {
		t.Fatalf("the 2 sat/vB transaction was not evicted")
	}
	if got := h.pool.Info().MinFeeRate; got != 3000 {
		t.Fatalf("pool minimum %d, want 3000", got)
	}
}

// TestRejectNotRejection ensures Reason is empty for nil and for errors that
// are not rejections.
func TestRejectNotRejection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: ""},
		{name: "other", err: ErrNotInPool, want: ""},
		{name: "wrapped", err: fmt.Errorf("x: %w", reject(RejectDuplicate, "txn-already-in-mempool", "")), want: "txn-already-in-mempool"},
	}
	for _, test := range tests {
		if got := Reason(test.err); got != test.want {
			t.Errorf("%q: got %q, want %q", test.name, got, test.want)
		}
	}
}

// TestTrimByDescendantFeeRate ensures a full pool evicts the package with
// the lowest descendant fee rate (a low-fee parent is kept by its rich
// child), raises its minimum fee rate above the evicted rate, and that the
// minimum halves every 12 hours back down to the relay minimum.
func TestTrimByDescendantFeeRate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 4)
	parent := h.spendAtRate(one(h.coinbase(0)), 1, 1000, 0)
	child := h.spendAtRate(one(h.out(parent, 0)), 1, 50_000, 0)
	mid := h.spendAtRate(one(h.coinbase(1)), 1, 5000, 0)
	next := h.spendAtRate(one(h.coinbase(2)), 1, 10_000, 0)
	fullPool(t, h, next, parent, child, mid)
	if got := h.pool.Info().MinFeeRate; got != policy.DefaultMinRelayFeeRate {
		t.Fatalf("minimum %d before any eviction", got)
	}
	h.accept(t, next)
	for _, tx := range []*wire.MsgTx{parent, child, next} {
		if !h.pool.Have(tx.TxHash()) {
			t.Errorf("%v evicted", tx.TxHash())
		}
	}
	if h.pool.Have(mid.TxHash()) {
		t.Error("the 5 sat/vB transaction was kept")
	}
	info := h.pool.Info()
	if info.Usage > info.MaxBytes {
		t.Errorf("usage %d over the bound %d", info.Usage, info.MaxBytes)
	}
	start := h.clock
	for _, step := range []struct {
		after time.Duration
		want  int64
	}{
		{0, 6000},
		{12*time.Hour - time.Second, 6000},
		{12 * time.Hour, 3000},
		{24 * time.Hour, 1500},
		{36 * time.Hour, policy.DefaultMinRelayFeeRate},
		{1000 * time.Hour, policy.DefaultMinRelayFeeRate},
	} {
		h.clock = start.Add(step.after)
		if got := h.pool.Info().MinFeeRate; got != step.want {
			t.Errorf("after %v: minimum %d, want %d", step.after, got, step.want)
		}
	}
}

// TestExpire ensures Expire drops transactions older than the expiry with
// their (younger) descendants, keeps the rest, and drops expired orphans.
func TestExpire(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 3)
	start := h.clock
	old := h.spend(one(h.coinbase(0)), 1, 1000)
	h.accept(t, old)
	h.clock = start.Add(time.Hour)
	child := h.spend(one(h.out(old, 0)), 1, 1000)
	young := h.spend(one(h.coinbase(1)), 1, 1000)
	h.accept(t, child, young)
	orphan := h.spend(one(h.out(h.spend(one(h.coinbase(2)), 1, 1000), 0)), 1, 1000)
	if res, err := h.pool.ProcessTransaction(orphan, true); err != nil || !res.Orphaned {
		t.Fatalf("orphan: %+v, %v", res, err)
	}

	h.clock = start.Add(DefaultExpiry)
	h.pool.Expire()
	if h.pool.Count() != 3 || h.pool.OrphanCount() != 0 {
		t.Fatalf("at the expiry: %d in the pool, %d orphans; want 3 and the orphan expired",
			h.pool.Count(), h.pool.OrphanCount())
	}
	h.clock = start.Add(DefaultExpiry + time.Second)
	h.pool.Expire()
	if h.pool.Have(old.TxHash()) || h.pool.Have(child.TxHash()) || !h.pool.Have(young.TxHash()) {
		t.Fatalf("after the expiry: old %v, child %v, young %v; want only young",
			h.pool.Have(old.TxHash()), h.pool.Have(child.TxHash()), h.pool.Have(young.TxHash()))
	}
}

// TestOrphanPoolBounds ensures the orphan pool holds at most MaxOrphans,
// refuses a duplicate, expires orphans after OrphanExpiry, and drops an
// orphan that turns out invalid when its parent arrives.
func TestOrphanPoolBounds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 1)
	h.newPool(Config{MaxOrphans: 3})
	orphanOf := func(i int) *wire.MsgTx {
		out := h.coinbase(0)
		out.OutPoint = wire.OutPoint{Hash: chainhash.DoubleHashH([]byte("parent " + itoa(i)))}
		return h.spend(one(out), 1, 1000)
	}
	for i := 0; i < 5; i++ {
		res, err := h.pool.ProcessTransaction(orphanOf(i), true)
		if err != nil || !res.Orphaned {
			t.Fatalf("orphan %d: %+v, %v", i, res, err)
		}
	}
	if n := h.pool.OrphanCount(); n != 3 {
		t.Fatalf("%d orphans, want at most 3", n)
	}
	h.clock = h.clock.Add(DefaultOrphanExpiry + time.Second)
	last := orphanOf(5)
	if res, err := h.pool.ProcessTransaction(last, true); err != nil || !res.Orphaned {
		t.Fatalf("orphan after expiry: %+v, %v", res, err)
	}
	if n := h.pool.OrphanCount(); n != 1 {
		t.Fatalf("%d orphans after the expiry, want the new one only", n)
	}
	if res, err := h.pool.ProcessTransaction(last, true); err != nil || res.Orphaned || h.pool.OrphanCount() != 1 {
		t.Fatalf("duplicate orphan: %+v, %v, %d orphans", res, err, h.pool.OrphanCount())
	}

	// An orphan with a bad signature waits, then is dropped when its
	// parent makes it checkable.
	parent := h.spend(one(h.coinbase(0)), 1, 1000)
	bad := h.spend(one(h.out(parent, 0)), 1, 1000)
	bad.TxOut[0].Value--
	if res, err := h.pool.ProcessTransaction(bad, true); err != nil || !res.Orphaned {
		t.Fatalf("bad orphan: %+v, %v", res, err)
	}
	res, err := h.pool.ProcessTransaction(parent, true)
	if err != nil || len(res.Accepted) != 1 {
		t.Fatalf("parent: %+v, %v", res, err)
	}
	if h.pool.Have(bad.TxHash()) || h.pool.OrphanCount() != 1 {
		t.Fatalf("bad orphan in the pool %v, %d orphans; want it gone", h.pool.Have(bad.TxHash()), h.pool.OrphanCount())
	}
}

// TestBlockConnected ensures a connected block removes its transactions,
// leaving their children with one ancestor fewer, and removes pool
// transactions conflicting with it together with their descendants.
//
//	pool:  a -> aChild      b -> bChild      c
//	block: a' (spends a's input)   b
func TestBlockConnected(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 3)
	a := h.spend(one(h.coinbase(0)), 1, 1000)
	aChild := h.spend(one(h.out(a, 0)), 1, 1000)
	b := h.spend(one(h.coinbase(1)), 1, 1000)
	bChild := h.spend(one(h.out(b, 0)), 1, 1000)
	c := h.spend(one(h.coinbase(2)), 1, 1000)
	h.accept(t, a, aChild, b, bChild, c)
	aPrime := h.spend(one(h.coinbase(0)), 1, 3000)
	h.confirm(aPrime, b)
	want := map[*wire.MsgTx]bool{a: false, aChild: false, b: false, bChild: true, c: true}
	for tx, in := range want {
		if h.pool.Have(tx.TxHash()) != in {
			t.Errorf("%v in the pool: %v, want %v", tx.TxHash(), !in, in)
		}
	}
	if d, err := h.pool.Entry(bChild.TxHash()); err != nil || d.AncestorCount != 1 || len(d.Parents) != 0 {
		t.Errorf("child of the mined tx: %+v, %v", d, err)
	}
	if h.pool.IsSpent(h.coinbase(0).OutPoint) {
		t.Error("the conflict's input is still marked spent")
	}
}

// TestBlockDisconnected ensures a disconnected block's transactions return
// to the pool, and that pool transactions spending a coinbase that the
// shorter chain makes immature leave it with their descendants; only the
// returned transaction is handed to OnAccepted, for the network to announce.
//
//	b0 .. b100 -> m1 (x)      then m1 is invalidated
//	pool: y (b2's coinbase, exactly mature at m1+1) -> yChild, w (b1's)
func TestBlockDisconnected(t *testing.T) {
	t.Parallel()
	h := newYoungHarness(t, 3, 101)
	x := h.spend(one(h.coinbase(0)), 1, 1000)
	m1 := h.mine("m1", x)
	y := h.spend(one(h.coinbase(2)), 1, 1000)
	yChild := h.spend(one(h.out(y, 0)), 1, 1000)
	w := h.spend(one(h.coinbase(1)), 1, 1000)
	h.accept(t, y, yChild, w)
	var returned []*wire.MsgTx
	h.pool.cfg.OnAccepted = func(descs []*TxDesc) {
		for _, d := range descs {
			returned = append(returned, d.Tx)
		}
	}

	if err := h.chain.InvalidateBlock(m1.BlockHash()); err != nil {
		t.Fatal(err)
	}
	h.pool.HandleNotification(chain.Notification{Type: chain.BlockDisconnected, Block: m1})
	want := map[*wire.MsgTx]bool{x: true, y: false, yChild: false, w: true}
	for tx, in := range want {
		if h.pool.Have(tx.TxHash()) != in {
			t.Errorf("%v in the pool: %v, want %v", tx.TxHash(), !in, in)
		}
	}
	if len(returned) != 1 || returned[0].TxHash() != x.TxHash() {
		t.Errorf("OnAccepted heard of %d transactions, want x alone", len(returned))
	}
}

// TestDisconnectedParentAdoptsChildren ensures a transaction returning from
// a disconnected block becomes the in-pool parent of pool transactions that
// spend it: they count it as an ancestor, are saved after it, and leave
// with it when it is replaced (else the pool would keep a transaction
// spending an output that no longer exists).
func TestDisconnectedParentAdoptsChildren(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	x := h.spend(one(h.coinbase(0)), 1, 1000)
	m1 := h.confirm(x)
	y := h.spend(one(h.out(x, 0)), 1, 1000)
	h.accept(t, y)
	if err := h.chain.InvalidateBlock(m1.BlockHash()); err != nil {
		t.Fatal(err)
	}
	h.pool.HandleNotification(chain.Notification{Type: chain.BlockDisconnected, Block: m1})
	if !h.pool.Have(x.TxHash()) || !h.pool.Have(y.TxHash()) {
		t.Fatal("x or y not in the pool")
	}
	if d, err := h.pool.Entry(y.TxHash()); err != nil || d.AncestorCount != 2 {
		t.Errorf("y: %+v, %v; want x as its ancestor", d, err)
	}
	if d, err := h.pool.Entry(x.TxHash()); err != nil || d.DescendantCount != 2 {
		t.Errorf("x: %+v, %v; want y as its descendant", d, err)
	}
	replacement := h.spend(one(h.coinbase(0)), 1, 20_000)
	h.accept(t, replacement)
	if h.pool.Have(y.TxHash()) {
		t.Error("y stays in the pool, spending the replaced x")
	}
}

// TestRevalidateDropsNonFinal ensures a pool transaction whose lock time the
// shorter chain no longer satisfies leaves the pool after a disconnection
// (Bitcoin Core's removeForReorg checks finality and BIP68 locks as well as
// coinbase maturity).
func TestRevalidateDropsNonFinal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	m1 := h.confirm()
	tx := lockTimeTx(t, h, uint32(h.g.TipHeight())) // final at tip+1 only
	h.accept(t, tx)
	if err := h.chain.InvalidateBlock(m1.BlockHash()); err != nil {
		t.Fatal(err)
	}
	h.pool.HandleNotification(chain.Notification{Type: chain.BlockDisconnected, Block: m1})
	in := h.coinbase(0)
	same := buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-5000, h.pk)}, func(tx *wire.MsgTx) {
		tx.LockTime = uint32(h.g.TipHeight())
	})
	if _, err := h.pool.TestAccept(same); Reason(err) != "non-final" {
		t.Fatalf("the same lock time is not refused after the disconnection: %v", err)
	}
	if h.pool.Have(tx.TxHash()) {
		t.Error("a transaction no longer final stays in the pool")
	}
}

// TestEstimateFee ensures EstimateFee reports insufficient data until ten
// pool transactions were confirmed in its window, then the median of their
// fee rates for target 1 and the 35th percentile for target 6.
func TestEstimateFee(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 20)
	if _, err := h.pool.EstimateFee(1); !errors.Is(err, ErrInsufficientData) {
		t.Fatalf("empty: %v", err)
	}
	var txs []*wire.MsgTx
	for i := 0; i < 20; i++ {
		tx := h.spendAtRate(one(h.coinbase(i)), 1, int64(i+1)*1000, 0)
		h.accept(t, tx)
		txs = append(txs, tx)
	}
	h.confirm(txs[:9]...)
	if _, err := h.pool.EstimateFee(1); !errors.Is(err, ErrInsufficientData) {
		t.Fatalf("after 9 samples: %v", err)
	}
	h.confirm(txs[9:]...)
	for _, test := range []struct {
		target int
		want   int64
	}{
		{1, 10_000}, // sorted rates 1..20 sat/vB: index 0.5*19 = 9
		{2, 10_000},
		{6, 7000},  // index int(0.35*19) = 6
		{25, 4000}, // index int(0.2*19) = 3
	} {
		if got, err := h.pool.EstimateFee(test.target); err != nil || got != test.want {
			t.Errorf("target %d: %d, %v; want %d", test.target, got, err, test.want)
		}
	}
	// Five blocks later target 1's window of six blocks holds only the
	// second block (10..20 sat/vB); one more and it holds none.
	for i := 0; i < 5; i++ {
		h.confirm()
	}
	if got, err := h.pool.EstimateFee(1); err != nil || got != 15_000 {
		t.Errorf("5 blocks later, target 1: %d, %v; want 15000", got, err)
	}
	h.confirm()
	if _, err := h.pool.EstimateFee(1); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("6 blocks later, target 1: %v", err)
	}
	if got, err := h.pool.EstimateFee(6); err != nil || got != 7000 {
		t.Errorf("6 blocks later, target 6: %d, %v", got, err)
	}
}

// TestTestAcceptLeavesPool ensures TestAccept reports what
// ProcessTransaction would and changes nothing: no entry, no eviction, no
// orphan.
func TestTestAcceptLeavesPool(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 3)
	a := h.spend(one(h.coinbase(0)), 1, 1000)
	d, err := h.pool.TestAccept(a)
	if err != nil || d.Fee != 1000 || d.TxID != a.TxHash() {
		t.Fatalf("valid: %+v, %v", d, err)
	}
	if h.pool.Count() != 0 {
		t.Fatal("TestAccept added a transaction")
	}
	h.accept(t, a)
	replacement := h.spend(one(h.coinbase(0)), 1, 20_000)
	if _, err := h.pool.TestAccept(replacement); err != nil {
		t.Fatalf("replacement: %v", err)
	}
	if !h.pool.Have(a.TxHash()) || h.pool.Have(replacement.TxHash()) {
		t.Fatal("TestAccept replaced a transaction")
	}
	orphan := h.spend(one(h.out(h.spend(one(h.coinbase(1)), 1, 1000), 0)), 1, 1000)
	if _, err := h.pool.TestAccept(orphan); Reason(err) != "bad-txns-inputs-missingorspent" || h.pool.OrphanCount() != 0 {
		t.Fatalf("orphan: %v, %d orphans", err, h.pool.OrphanCount())
	}
	cheap := h.spend(one(h.coinbase(2)), 1, 10)
	if _, err := h.pool.TestAccept(cheap); Reason(err) != "min relay fee not met" {
		t.Fatalf("cheap: %v", err)
	}
	if h.pool.Count() != 1 {
		t.Fatalf("pool holds %d, want 1", h.pool.Count())
	}
}

// TestSaveLoad ensures a saved pool loads back with its entry times, that
// a damaged file is an error after loading what precedes the damage, and
// that a missing file loads nothing without error.
func TestSaveLoad(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	start := h.clock
	parent := h.spend(one(h.coinbase(0)), 2, 1000)
	h.accept(t, parent)
	h.clock = start.Add(time.Minute)
	child := h.spend(one(h.out(parent, 1)), 1, 1000)
	h.clock = start.Add(2 * time.Minute)
	other := h.spend(one(h.coinbase(1)), 1, 1000)
	h.accept(t, child, other)
	dir := t.TempDir()
	path := filepath.Join(dir, "mempool.dat")
	if err := h.pool.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hugeSize := bytes.Clone(raw)
	hugeSize[len(persistMagic)+8+8] = 0xff // first entry's size
	hugeSize[len(persistMagic)+8+8+3] = 0xff

	tests := []struct {
		name    string
		path    string
		want    int
		wantErr bool
	}{
		{name: "round trip", path: path, want: 3},
		{name: "missing", path: filepath.Join(dir, "none.dat"), want: 0},
		{name: "truncated in the last entry", path: write("trunc.dat", raw[:len(raw)-10]), want: 2, wantErr: true},
		{name: "truncated count", path: write("short.dat", raw[:len(persistMagic)+3]), wantErr: true},
		{name: "bad magic", path: write("magic.dat", append([]byte("CAIRNMP9"), raw[8:]...)), wantErr: true},
		{name: "empty", path: write("empty.dat", nil), wantErr: true},
		{name: "huge entry size", path: write("huge.dat", hugeSize), wantErr: true},
	}
	for _, test := range tests {
		fresh := New(Config{Chain: h.chain, Now: h.pool.now})
		n, err := fresh.Load(test.path)
		if n != test.want || (err != nil) != test.wantErr {
			t.Errorf("%q: %d, %v; want %d, error %v", test.name, n, err, test.want, test.wantErr)
		}
		if fresh.Count() != n {
			t.Errorf("%q: %d loaded, %d in the pool", test.name, n, fresh.Count())
		}
		if test.name != "round trip" {
			continue
		}
		for _, tx := range []*wire.MsgTx{parent, child, other} {
			orig, _ := h.pool.Entry(tx.TxHash())
			got, err := fresh.Entry(tx.TxHash())
			if err != nil || !got.Time.Equal(orig.Time.Truncate(time.Second)) {
				t.Errorf("%v: %+v, %v; want time %v", tx.TxHash(), got, err, orig.Time)
			}
		}
	}
}

// TestConcurrentProcess ensures ProcessTransaction, queries and
// replacements from many goroutines at once leave the pool consistent: every
// independent transaction in, chains complete, and of two conflicting
// spends the better-paying one, whichever arrives first.
func TestConcurrentProcess(t *testing.T) {
	t.Parallel()
	const n = 24
	h := newHarness(t, n+2)
	var indep, low, high []*wire.MsgTx
	for i := 0; i < n; i++ {
		indep = append(indep, h.spend(one(h.coinbase(i)), 1, 1000))
	}
	// Conflicting pairs on coinbases n and n+1.
	for i := 0; i < 2; i++ {
		low = append(low, h.spend(one(h.coinbase(n+i)), 1, 1000))
		high = append(high, h.spend(one(h.coinbase(n+i)), 1, 50_000))
	}
	chainTxs := h.chainOf(h.out(indep[0], 0), 10, 1000)

	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	submit := func(tx *wire.MsgTx, allowed ...string) {
		defer wg.Done()
		if _, err := h.pool.ProcessTransaction(tx, true); err != nil {
			for _, r := range allowed {
				if Reason(err) == r {
					return
				}
			}
			errs <- err
		}
	}
	for _, tx := range indep {
		wg.Add(2)
		go submit(tx, "txn-already-in-mempool")
		go submit(tx, "txn-already-in-mempool")
	}
	for i := range low {
		wg.Add(2)
		go submit(low[i], "insufficient fee")
		go submit(high[i])
	}
	wg.Add(1)
	go func() { // a chain, in order, once its root is in
		defer wg.Done()
		// Racing the root through the orphan pool can strand the chain:
		// TestOrphanRacingItsParent covers that.
		for !h.pool.Have(indep[0].TxHash()) {
			runtime.Gosched()
		}
		for _, tx := range chainTxs {
			if _, err := h.pool.ProcessTransaction(tx, true); err != nil {
				errs <- err
			}
		}
	}()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for i := 0; i < 3; i++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = h.pool.Info()
				_ = h.pool.Descs()
				for _, id := range h.pool.TxIDs() {
					_, _ = h.pool.Entry(id)
					_, _ = h.pool.Descendants(id)
				}
				_, _ = h.pool.EstimateFee(2)
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := h.pool.Count(), n+len(high)+len(chainTxs); got != want {
		t.Errorf("pool holds %d, want %d", got, want)
	}
	for i := range high {
		if !h.pool.Have(high[i].TxHash()) || h.pool.Have(low[i].TxHash()) {
			t.Errorf("pair %d: the low-fee spend won", i)
		}
	}
	if h.pool.OrphanCount() != 0 {
		t.Errorf("%d orphans left", h.pool.OrphanCount())
	}
	if d, err := h.pool.Entry(chainTxs[len(chainTxs)-1].TxHash()); err != nil || d.AncestorCount != len(chainTxs)+1 {
		t.Errorf("chain tip: %+v, %v", d, err)
	}
}

// TestCorePolicyParity ensures rules of Bitcoin Core's policy that the
// btcd script classes do not give for free: IsStandard's bare multisig of
// 1..3 keys with 1 <= m <= n, Solver's OP_RETURN followed by any pushes,
// IsWitnessStandard's P2WSH stack items of at most 80 bytes, PreChecks'
// distinct reason for a transaction whose txid (not wtxid) is in the pool,
// and CheckFeeRate testing the pool minimum before the relay minimum.
func TestCorePolicyParity(t *testing.T) {
	t.Parallel()
	multisig := func(t *testing.T, m byte, keys int) []byte {
		t.Helper()
		b := txscript.NewScriptBuilder().AddOp(txscript.OP_1 - 1 + m)
		if m == 0 {
			b = txscript.NewScriptBuilder().AddOp(txscript.OP_0)
		}
		for i := 0; i < keys; i++ {
			b.AddData(append([]byte{0x02}, bytes.Repeat([]byte{byte(i + 1)}, 32)...))
		}
		s, err := b.AddOp(txscript.OP_1 - 1 + byte(keys)).AddOp(txscript.OP_CHECKMULTISIG).Script()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	witnessScript := []byte{txscript.OP_DROP, txscript.OP_TRUE}
	wsHash := sha256.Sum256(witnessScript)
	p2wsh := append([]byte{txscript.OP_0, txscript.OP_DATA_32}, wsHash[:]...)
	p2wshSpend := func(t *testing.T, h *harness, item int) *wire.MsgTx {
		t.Helper()
		in := h.fund(0, 1_000_000, p2wsh)[0]
		return buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-20_000, h.pk)}, func(tx *wire.MsgTx) {
			tx.TxIn[0].Witness = wire.TxWitness{bytes.Repeat([]byte{7}, item), witnessScript}
		})
	}
	output := func(t *testing.T, h *harness, script []byte) *wire.MsgTx {
		t.Helper()
		in := h.coinbase(0)
		return buildTx(t, one(in), []*wire.TxOut{payTo(1000, script), payTo(in.Amount-10_000, h.pk)}, nil)
	}
	tests := []struct {
		name   string
		build  func(t *testing.T, h *harness) *wire.MsgTx
		reason string
	}{
		{name: "bare 1-of-3 multisig", build: func(t *testing.T, h *harness) *wire.MsgTx { return output(t, h, multisig(t, 1, 3)) }},
		{name: "bare 1-of-4 multisig", build: func(t *testing.T, h *harness) *wire.MsgTx { return output(t, h, multisig(t, 1, 4)) }, reason: "scriptpubkey"},
		{name: "bare 0-of-1 multisig", build: func(t *testing.T, h *harness) *wire.MsgTx { return output(t, h, multisig(t, 0, 1)) }, reason: "scriptpubkey"},
		{name: "bare 2-of-1 multisig", build: func(t *testing.T, h *harness) *wire.MsgTx { return output(t, h, multisig(t, 2, 1)) }, reason: "scriptpubkey"},
		{name: "OP_RETURN with two pushes", build: func(t *testing.T, h *harness) *wire.MsgTx {
			return output(t, h, append([]byte{txscript.OP_RETURN}, pushScript(t, []byte("cairn"), []byte("data"))...))
		}},
		{name: "P2WSH stack item of 80 bytes", build: func(t *testing.T, h *harness) *wire.MsgTx { return p2wshSpend(t, h, 80) }},
		{name: "P2WSH stack item of 81 bytes", build: func(t *testing.T, h *harness) *wire.MsgTx { return p2wshSpend(t, h, 81) },
			reason: "bad-witness-nonstandard"},
		{name: "same txid, other witness", build: func(t *testing.T, h *harness) *wire.MsgTx {
			tx := h.spend(one(h.coinbase(0)), 1, 1000)
			h.accept(t, tx)
			other := tx.Copy()
			other.TxIn[0].Witness[0] = highS(t, other.TxIn[0].Witness[0])
			return other
		}, reason: "txn-same-nonwitness-data-in-mempool"},
		{name: "below both the raised minimum and the relay fee", build: func(t *testing.T, h *harness) *wire.MsgTx {
			raiseMinFee(t, h)
			return h.spendAtRate(one(h.coinbase(3)), 1, policy.DefaultMinRelayFeeRate, -1)
		}, reason: "mempool min fee not met"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, 4)
			tx := test.build(t, h)
			_, err := h.pool.ProcessTransaction(tx, false)
			if got := Reason(err); got != test.reason {
				t.Errorf("reason %q (%v), want %q", got, err, test.reason)
			}
		})
	}
}

// TestOrphanRacingItsParent ensures a child submitted while its parent is
// being accepted never stays behind in the orphan pool: either it finds
// the parent, or the parent's acceptance finds it. A child that checked
// before the parent was added but reached the orphan pool after the parent
// looked for orphans would wait forever.
func TestOrphanRacingItsParent(t *testing.T) {
	t.Parallel()
	const rounds, children = 10, 20 // within the descendant limit of 25
	h := newHarness(t, rounds+1)
	// How long an acceptance takes here (scripts dominate), to spread the
	// children's arrivals over the parent's.
	probe := h.spend(one(h.coinbase(rounds)), 1, 1000)
	start := time.Now()
	if _, err := h.pool.TestAccept(probe); err != nil {
		t.Fatal(err)
	}
	span := 2 * time.Since(start)
	stuck := 0
	for i := 0; i < rounds; i++ {
		parent := h.spend(one(h.coinbase(i)), children, 10_000)
		kids := make([]*wire.MsgTx, children)
		for j := range kids {
			kids[j] = h.spend(one(h.out(parent, uint32(j))), 1, 1000)
		}
		var wg sync.WaitGroup
		wg.Add(1 + children)
		begin := time.Now()
		go func() {
			defer wg.Done()
			if _, err := h.pool.ProcessTransaction(parent, true); err != nil {
				t.Error(err)
			}
		}()
		for j, kid := range kids {
			go func() {
				defer wg.Done()
				for time.Since(begin) < span*time.Duration(j)/children {
					runtime.Gosched()
				}
				if _, err := h.pool.ProcessTransaction(kid, true); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for _, kid := range kids {
			if !h.pool.Have(kid.TxHash()) {
				stuck++
			}
		}
	}
	if stuck > 0 {
		t.Errorf("%d of %d children not in the pool though their parent is (%d orphans waiting, the rest "+
			"evicted from the bounded orphan pool)", stuck, rounds*children, h.pool.OrphanCount())
	}
}
