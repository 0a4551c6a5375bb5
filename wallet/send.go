package wallet

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/mempool/policy"
)

// Virtual sizes used to price a transaction before it is signed.
const (
	txOverheadVB  = 11 // version, counts, lock time, segwit marker (rounded up)
	inputVBWPKH   = 68 // outpoint, sequence, and a 72-byte signature + key witness
	inputVBTR     = 58 // outpoint, sequence, and a 64-byte Schnorr signature
	changeOutVB   = 31 // a P2WPKH output
	rbfSequence   = wire.MaxTxInSequenceNum - 2
	bnbMaxTries   = 100_000
	minFeeRate    = 1.0 // base units per vbyte: the relay floor
	incrementalVB = 1.0 // BIP125: a replacement pays this much more per vbyte
)

// Errors of sending.
var (
	// ErrInsufficientFunds: the spendable coins do not pay the amount
	// and its fee. The error is a [*FundsError] with the figures.
	ErrInsufficientFunds = errors.New("wallet: insufficient funds")
	ErrDust              = errors.New("wallet: amount is dust")
)

// FundsError is [ErrInsufficientFunds] with the figures: what a payment
// wants, what the wallet may spend, and what it may not spend yet.
type FundsError struct {
	// Want is the amount to pay; Unit the network's coin ("" prints
	// bare numbers).
	Want int64
	Unit string
	// FeeIncluded: the fee comes out of Want rather than on top of it.
	FeeIncluded bool
	// Spendable is the value of the coins the payment may spend.
	Spendable int64
	// Immature is the value of the wallet's coinbase coins short of
	// maturity, which takes Maturity blocks. FirstMature is the height
	// at which the first of them becomes spendable, EnoughAt the lowest
	// height at which enough of them has to pay Want and the fee (0:
	// not even all of them would).
	Immature              int64
	Maturity              int32
	FirstMature, EnoughAt int32
	// Pending is the value of others' payments to the wallet that await
	// confirmation.
	Pending int64
}

// Error says what is missing and, when coins are not spendable yet,
// when they will be.
func (e *FundsError) Error() string {
	var b strings.Builder
	fee := " and its fee"
	if e.FeeIncluded {
		fee = " (the fee taken out of it)"
	}
	fmt.Fprintf(&b, "%v: want %s%s, have %s spendable", ErrInsufficientFunds, FormatAmount(e.Want, e.Unit), fee, FormatAmount(e.Spendable, e.Unit))
	if e.Immature > 0 {
		fmt.Fprintf(&b, "; %s are immature (coinbase outputs mature after %d blocks; the first matures at height %d",
			FormatAmount(e.Immature, e.Unit), e.Maturity, e.FirstMature)
		switch {
		case e.EnoughAt == 0:
			b.WriteString(", but not even all of them would pay this")
		case e.EnoughAt == e.FirstMature:
			b.WriteString(", enough to pay this")
		default:
			fmt.Fprintf(&b, ", enough to pay this at height %d", e.EnoughAt)
		}
		b.WriteString(")")
	}
	if e.Pending > 0 {
		fmt.Fprintf(&b, "; %s paid to this wallet await confirmation", FormatAmount(e.Pending, e.Unit))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInsufficientFunds) hold.
func (e *FundsError) Is(target error) bool { return target == ErrInsufficientFunds }

// inputVB is the virtual size of spending a coin.
func inputVB(c Coin) int64 {
	if c.Path.Type == P2TR {
		return inputVBTR
	}
	return inputVBWPKH
}

// feeFor returns the fee of vbytes at rate, rounded up.
func feeFor(vbytes int64, rate float64) int64 { return int64(math.Ceil(float64(vbytes) * rate)) }

// effectiveValue is what coin c adds to a payment at rate once the fee of
// spending it is paid.
func effectiveValue(c Coin, rate float64) int64 { return c.Value - feeFor(inputVB(c), rate) }

// selectionNeed is the effective value coins must add up to for a
// payment of target with outputs of outputsVB at rate.
func selectionNeed(target, outputsVB int64, rate float64) int64 {
	return target + feeFor(txOverheadVB+outputsVB, rate)
}

// Spendable returns the coins a new transaction may spend at tip: mature,
// unspent, and confirmed or the change of the wallet's own pending
// transactions.
func (w *Wallet) Spendable(tip int32) []Coin {
	var out []Coin
	for _, c := range w.Coins() {
		if c.SpentBy != "" || w.immature(c, tip) {
			continue
		}
		if c.Height == 0 {
			if r := w.find(c.OutPoint.Hash.String()); r == nil || !r.Mine {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// Selection is the outcome of coin selection.
type Selection struct {
	Coins  []Coin
	Fee    int64
	Change int64 // 0: no change output
}

// SelectCoins picks coins paying target plus the fee at rate of a
// transaction with the given outputs' vbytes: branch and bound first (an
// exact match within the cost of a change output, so no change), then
// the largest coins first with change. Change below dust goes to the fee.
func SelectCoins(coins []Coin, target int64, outputsVB int64, rate float64, changeDust int64) (*Selection, error) {
	base := txOverheadVB + outputsVB
	costOfChange := feeFor(changeOutVB, rate) + feeFor(inputVBWPKH, rate)
	effective := func(c Coin) int64 { return effectiveValue(c, rate) }
	var pool []Coin
	var total, value int64
	for _, c := range coins {
		value += c.Value
		if effective(c) > 0 {
			pool = append(pool, c)
			total += effective(c)
		}
	}
	sort.Slice(pool, func(i, j int) bool { return effective(pool[i]) > effective(pool[j]) })
	need := selectionNeed(target, outputsVB, rate)
	if total < need {
		return nil, &FundsError{Want: target, Spendable: value}
	}
	if sel := branchAndBound(pool, effective, need, costOfChange); sel != nil {
		var sum, vb int64
		for _, c := range sel {
			sum += c.Value
			vb += inputVB(c)
		}
		return &Selection{Coins: sel, Fee: sum - target}, nil
	}
	// Largest first, with a change output.
	var sel []Coin
	var sum, vb int64
	for _, c := range pool {
		sel = append(sel, c)
		sum += c.Value
		vb += inputVB(c)
		fee := feeFor(base+vb+changeOutVB, rate)
		if change := sum - target - fee; change >= changeDust {
			return &Selection{Coins: sel, Fee: fee, Change: change}, nil
		}
		if feeNoChange := feeFor(base+vb, rate); sum-target >= feeNoChange {
			// What is left does not make a change output above dust
			// once that output is paid for: it goes to the fee.
			return &Selection{Coins: sel, Fee: sum - target}, nil
		}
	}
	return nil, &FundsError{Want: target, Spendable: value}
}

// branchAndBound searches, largest coins first, for a set whose effective
// value lies in [need, need+slack]: Bitcoin Core's changeless selection.
func branchAndBound(pool []Coin, effective func(Coin) int64, need, slack int64) []Coin {
	remaining := make([]int64, len(pool)+1) // effective value of pool[i:]
	for i := len(pool) - 1; i >= 0; i-- {
		remaining[i] = remaining[i+1] + effective(pool[i])
	}
	var best []int
	bestWaste := int64(math.MaxInt64)
	var chosen []int
	tries := 0
	var search func(i int, sum int64)
	search = func(i int, sum int64) {
		if tries++; tries > bnbMaxTries || sum > need+slack || sum+remaining[i] < need {
			return
		}
		if sum >= need {
			if waste := sum - need; waste < bestWaste {
				bestWaste = waste
				best = append(best[:0], chosen...)
			}
			return
		}
		if i == len(pool) {
			return
		}
		chosen = append(chosen, i)
		search(i+1, sum+effective(pool[i]))
		chosen = chosen[:len(chosen)-1]
		search(i+1, sum)
	}
	search(0, 0)
	if best == nil {
		return nil
	}
	out := make([]Coin, len(best))
	for k, i := range best {
		out[k] = pool[i]
	}
	return out
}

// outputVB is the virtual size of an output paying script.
func outputVB(script []byte) int64 {
	return int64(8 + wire.VarIntSerializeSize(uint64(len(script))) + len(script))
}

// dustOf returns the dust threshold of an output paying script.
func dustOf(script []byte) int64 { return policy.DustThreshold(&wire.TxOut{PkScript: script}) }

// SendRequest describes a payment.
type SendRequest struct {
	To     btcutil.Address
	Amount int64
	// FeeRate in base units per vbyte.
	FeeRate float64
	// SubtractFee takes the fee out of the amount.
	SubtractFee bool
}

// CreateTx builds and signs a transaction for req from the spendable
// coins at tip, with change to a fresh change address, signalling BIP125
// replaceability. It returns the transaction and its fee; nothing is
// recorded until Broadcast.
func (w *Wallet) CreateTx(req SendRequest, tip int32) (*wire.MsgTx, int64, error) {
	tx, coins, fee, err := w.build(req, tip)
	if err != nil {
		return nil, 0, err
	}
	if err := w.sign(tx, coins); err != nil {
		return nil, 0, err
	}
	return tx, fee, nil
}

// build selects coins and builds the unsigned transaction of req,
// returning the coins its inputs spend, in order, and its fee.
func (w *Wallet) build(req SendRequest, tip int32) (*wire.MsgTx, []Coin, int64, error) {
	if req.To == nil {
		return nil, nil, 0, errors.New("wallet: no address to pay")
	}
	if !req.To.IsForNet(w.params) {
		return nil, nil, 0, fmt.Errorf("wallet: %s is not an address of network %s", req.To, w.net.Name)
	}
	payTo, err := txscript.PayToAddrScript(req.To)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("wallet: %w", err)
	}
	if req.FeeRate < minFeeRate {
		req.FeeRate = minFeeRate
	}
	if req.Amount <= 0 {
		return nil, nil, 0, errors.New("wallet: the amount must be positive")
	}
	dust := dustOf(payTo)
	if !req.SubtractFee && req.Amount < dust {
		return nil, nil, 0, fmt.Errorf("%w: %s is below %s for this address", ErrDust, w.amount(req.Amount), w.amount(dust))
	}
	changeScript, _, err := w.peekChange()
	if err != nil {
		return nil, nil, 0, err
	}
	coins := w.Spendable(tip)
	var sel *Selection
	amount := req.Amount
	if req.SubtractFee {
		// Coins worth the amount, then the fee comes out of it.
		sel, err = SelectCoins(coins, req.Amount, outputVB(payTo), 0, dustOf(changeScript))
		if err == nil {
			var vb int64
			for _, c := range sel.Coins {
				vb += inputVB(c)
			}
			fee := feeFor(txOverheadVB+outputVB(payTo)+changeOutVB*boolInt(sel.Change > 0)+vb, req.FeeRate)
			leftover := sel.Fee // coins over the amount that are below dust (no change)
			amount = req.Amount - max(0, fee-leftover)
			sel.Fee = max(fee, leftover)
			if amount < dust {
				return nil, nil, 0, fmt.Errorf("%w: %s after the fee is below %s", ErrDust, w.amount(amount), w.amount(dust))
			}
		}
	} else {
		sel, err = SelectCoins(coins, req.Amount, outputVB(payTo), req.FeeRate, dustOf(changeScript))
	}
	if fe := (*FundsError)(nil); errors.As(err, &fe) {
		rate := req.FeeRate
		if req.SubtractFee {
			rate = 0 // as selected: the fee comes out of the amount
		}
		w.explainFunds(fe, tip, coins, outputVB(payTo), rate, req.SubtractFee)
	}
	if err != nil {
		return nil, nil, 0, err
	}
	tx := wire.NewMsgTx(2)
	tx.LockTime = uint32(max(tip, 0)) // discourages fee sniping, as Core does
	for _, c := range sel.Coins {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: c.OutPoint, Sequence: rbfSequence})
	}
	tx.AddTxOut(&wire.TxOut{Value: amount, PkScript: payTo})
	if sel.Change > 0 {
		script, _, err := w.changeScript()
		if err != nil {
			return nil, nil, 0, err
		}
		tx.AddTxOut(&wire.TxOut{Value: sel.Change, PkScript: script})
	}
	var in int64
	for _, c := range sel.Coins {
		in += c.Value
	}
	var out int64
	for _, o := range tx.TxOut {
		out += o.Value
	}
	return tx, sel.Coins, in - out, nil
}

// explainFunds completes e, the shortfall of a payment from the coins
// spendable at tip, with the network's unit, the wallet's immature
// coinbase coins (when they mature, and at which height enough of them
// has to pay, selected as SelectCoins would at rate) and others' pending
// payments to the wallet.
func (w *Wallet) explainFunds(e *FundsError, tip int32, spendable []Coin, outputsVB int64, rate float64, feeIncluded bool) {
	e.Unit, e.FeeIncluded = w.net.Unit(), feeIncluded
	e.Maturity = w.net.Consensus.CoinbaseMaturity
	var immature []Coin
	for _, c := range w.Coins() {
		switch {
		case c.SpentBy != "":
		case c.Coinbase && c.Height > 0 && w.immature(c, tip):
			immature = append(immature, c)
			e.Immature += c.Value
		case c.Height == 0 && !c.Coinbase:
			if r := w.find(c.OutPoint.Hash.String()); r != nil && !r.Mine {
				e.Pending += c.Value
			}
		}
	}
	if len(immature) == 0 {
		return
	}
	// The wallet spends a coinbase coin once it is Maturity blocks deep
	// past its own block (see immature): at height Height+Maturity.
	maturesAt := func(c Coin) int32 { return c.Height + e.Maturity }
	sort.SliceStable(immature, func(i, j int) bool { return immature[i].Height < immature[j].Height })
	e.FirstMature = maturesAt(immature[0])
	var total int64
	for _, c := range spendable {
		total += max(0, effectiveValue(c, rate))
	}
	need := selectionNeed(e.Want, outputsVB, rate)
	for _, c := range immature {
		if total += max(0, effectiveValue(c, rate)); total >= need {
			e.EnoughAt = maturesAt(c)
			return
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// peekChange returns the next change script without using it.
func (w *Wallet) peekChange() ([]byte, KeyPath, error) {
	p := KeyPath{Type: P2WPKH, Chain: Internal, Index: w.st.Next[chainKey(P2WPKH, Internal)]}
	_, script, err := w.keys.Address(p)
	return script, p, err
}

// sign signs every input of tx, which spends coins in order.
func (w *Wallet) sign(tx *wire.MsgTx, coins []Coin) error {
	prev := make(map[wire.OutPoint]*wire.TxOut, len(coins))
	for _, c := range coins {
		prev[c.OutPoint] = &wire.TxOut{Value: c.Value, PkScript: c.Script}
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prev)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, c := range coins {
		key, err := w.keys.PrivKey(c.Path)
		if err != nil {
			return err
		}
		var wit wire.TxWitness
		if c.Path.Type == P2TR {
			wit, err = txscript.TaprootWitnessSignature(tx, hashes, i, c.Value, c.Script, txscript.SigHashDefault, key)
		} else {
			wit, err = txscript.WitnessSignature(tx, hashes, i, c.Value, c.Script, txscript.SigHashAll, key, true)
		}
		if err != nil {
			return fmt.Errorf("wallet: sign input %d: %w", i, err)
		}
		tx.TxIn[i].Witness = wit
	}
	return verify(tx, fetcher)
}

// verify runs every input's script, so that a transaction the wallet
// signed wrongly never leaves it.
func verify(tx *wire.MsgTx, fetcher txscript.PrevOutputFetcher) error {
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, in := range tx.TxIn {
		prev := fetcher.FetchPrevOutput(in.PreviousOutPoint)
		if prev == nil {
			return fmt.Errorf("wallet: input %d: the output it spends is unknown (only segwit inputs with a witness UTXO are handled)", i)
		}
		vm, err := txscript.NewEngine(prev.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return fmt.Errorf("wallet: input %d does not verify: %w", i, err)
		}
	}
	return nil
}

// Broadcast sends tx through the node and records it as the wallet's own
// pending transaction with its fee; replaces, if not empty, is the
// transaction it replaces (a fee bump), marked so in the same save.
func (w *Wallet) Broadcast(node Node, tx *wire.MsgTx, fee int64, replaces string) error {
	if err := node.SendRawTransaction(tx); err != nil {
		return err
	}
	r := w.record(tx, 0, "")
	r.Mine, r.Fee = true, fee
	if old := w.find(replaces); old != nil {
		old.ReplacedBy = r.TxID
		w.markConflicts()
	}
	return w.Save()
}

// txscriptPay is txscript.PayToAddrScript.
var txscriptPay = txscript.PayToAddrScript
