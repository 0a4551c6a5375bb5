package wallet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Partially signed transactions (BIP174, with BIP371's taproot fields):
// a machine with the node creates one from the wallet's coins, a machine
// with the wallet file signs it, and either finalizes it into a
// transaction to broadcast.

// fingerprint is the master key's BIP32 fingerprint, as PSBTs carry it.
func (k *Keychain) fingerprint() (uint32, error) {
	pub, err := k.master.ECPubKey()
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(btcutil.Hash160(pub.SerializeCompressed())[:4]), nil
}

// PSBTCreate builds the unsigned transaction of req as a PSBT carrying,
// for each input, the output it spends and its key's derivation.
func (w *Wallet) PSBTCreate(req SendRequest, tip int32) (*psbt.Packet, int64, error) {
	tx, coins, fee, err := w.build(req, tip)
	if err != nil {
		return nil, 0, err
	}
	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		return nil, 0, fmt.Errorf("wallet: %w", err)
	}
	fp, err := w.keys.fingerprint()
	if err != nil {
		return nil, 0, err
	}
	for i, c := range coins {
		key, err := w.keys.PrivKey(c.Path)
		if err != nil {
			return nil, 0, err
		}
		steps, _ := w.keys.path(c.Path)
		in := &p.Inputs[i]
		in.WitnessUtxo = &wire.TxOut{Value: c.Value, PkScript: c.Script}
		if c.Path.Type == P2TR {
			xonly := schnorr.SerializePubKey(key.PubKey())
			in.TaprootInternalKey = xonly
			in.TaprootBip32Derivation = []*psbt.TaprootBip32Derivation{{XOnlyPubKey: xonly, MasterKeyFingerprint: fp, Bip32Path: steps}}
		} else {
			in.Bip32Derivation = []*psbt.Bip32Derivation{{PubKey: key.PubKey().SerializeCompressed(), MasterKeyFingerprint: fp, Bip32Path: steps}}
			in.SighashType = txscript.SigHashAll
		}
	}
	return p, fee, nil
}

// PSBTSign signs every input of p that spends one of the wallet's
// scripts, and finalizes it, returning how many it signed. It needs no
// node.
func (w *Wallet) PSBTSign(p *psbt.Packet) (int, error) {
	prev := make(map[wire.OutPoint]*wire.TxOut)
	for i, in := range p.Inputs {
		if in.WitnessUtxo == nil {
			return 0, fmt.Errorf("wallet: PSBT input %d has no witness UTXO (only segwit inputs are signed)", i)
		}
		prev[p.UnsignedTx.TxIn[i].PreviousOutPoint] = in.WitnessUtxo
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prev)
	hashes := txscript.NewTxSigHashes(p.UnsignedTx, fetcher)
	signed := 0
	for i := range p.Inputs {
		in := &p.Inputs[i]
		path, ok := w.scripts[string(in.WitnessUtxo.PkScript)]
		if !ok {
			continue
		}
		key, err := w.keys.PrivKey(path)
		if err != nil {
			return 0, err
		}
		if path.Type == P2TR {
			sig, err := txscript.RawTxInTaprootSignature(p.UnsignedTx, hashes, i, in.WitnessUtxo.Value,
				in.WitnessUtxo.PkScript, nil, txscript.SigHashDefault, key)
			if err != nil {
				return 0, fmt.Errorf("wallet: sign input %d: %w", i, err)
			}
			in.TaprootKeySpendSig = sig
		} else {
			sig, err := txscript.RawTxInWitnessSignature(p.UnsignedTx, hashes, i, in.WitnessUtxo.Value,
				in.WitnessUtxo.PkScript, txscript.SigHashAll, key)
			if err != nil {
				return 0, fmt.Errorf("wallet: sign input %d: %w", i, err)
			}
			in.PartialSigs = append(in.PartialSigs, &psbt.PartialSig{PubKey: key.PubKey().SerializeCompressed(), Signature: sig})
		}
		signed++
		// Finalize what is complete, as Core's walletprocesspsbt does:
		// the PSBT then shows whether anything is missing.
		if _, err := psbt.MaybeFinalize(p, i); err != nil {
			return 0, fmt.Errorf("wallet: finalize input %d: %w", i, err)
		}
	}
	return signed, nil
}

// PSBTFinalize finalizes every input of p and extracts the transaction,
// verifying its scripts.
func PSBTFinalize(p *psbt.Packet) (*wire.MsgTx, error) {
	if err := psbt.MaybeFinalizeAll(p); err != nil {
		return nil, fmt.Errorf("wallet: the PSBT cannot be finalized (is every input signed?): %w", err)
	}
	tx, err := psbt.Extract(p)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	prev := make(map[wire.OutPoint]*wire.TxOut)
	for i, in := range p.Inputs {
		if in.WitnessUtxo != nil {
			prev[tx.TxIn[i].PreviousOutPoint] = in.WitnessUtxo
		}
	}
	return tx, verify(tx, txscript.NewMultiPrevOutFetcher(prev))
}

// DecodePSBT reads a base64 PSBT.
func DecodePSBT(s string) (*psbt.Packet, error) {
	p, err := psbt.NewFromRawBytes(strings.NewReader(strings.TrimSpace(s)), true)
	if err != nil {
		return nil, fmt.Errorf("wallet: not a base64 PSBT: %w", err)
	}
	return p, nil
}

// EncodePSBT writes p as base64.
func EncodePSBT(p *psbt.Packet) (string, error) { return p.B64Encode() }

// ErrNotBumpable marks a transaction bumpfee cannot replace.
var ErrNotBumpable = errors.New("wallet: cannot bump the fee")

// BumpFee builds a replacement of the wallet's pending transaction txid
// paying rate (base units per vbyte), at least BIP125's increment more
// than it did, taken from its change output.
func (w *Wallet) BumpFee(txid string, rate float64) (*wire.MsgTx, int64, error) {
	r := w.find(txid)
	switch {
	case r == nil:
		return nil, 0, fmt.Errorf("%w: %s is not a transaction of this wallet", ErrNotBumpable, txid)
	case !r.Mine:
		return nil, 0, fmt.Errorf("%w: %s was not sent by this wallet", ErrNotBumpable, txid)
	case r.Height > 0:
		return nil, 0, fmt.Errorf("%w: %s is already confirmed", ErrNotBumpable, txid)
	case r.ReplacedBy != "":
		return nil, 0, fmt.Errorf("%w: %s was already replaced by %s", ErrNotBumpable, txid, r.ReplacedBy)
	}
	for _, other := range w.live() {
		if other.Height == 0 && other.TxID != txid && !consensus.IsCoinBaseTx(other.tx) {
			for _, in := range other.tx.TxIn {
				if in.PreviousOutPoint.Hash.String() == txid {
					return nil, 0, fmt.Errorf("%w: %s has a pending child %s in this wallet (bump that one, or wait)",
						ErrNotBumpable, txid, other.TxID)
				}
			}
		}
	}
	tx := r.tx.Copy()
	// Priced on the largest size the replacement can sign to, so that a
	// longer signature never leaves it short of BIP125's increment.
	vsize := max(VirtualSize(r.tx), w.estimateVSize(tx))
	oldRate := float64(r.Fee) / float64(VirtualSize(r.tx))
	rate = max(rate, oldRate+incrementalVB)
	fee := max(feeFor(vsize, rate), r.Fee+feeFor(vsize, incrementalVB))
	change := -1
	for i, out := range tx.TxOut {
		if p, ok := w.scripts[string(out.PkScript)]; ok && p.Chain == Internal {
			change = i
		}
	}
	if change < 0 {
		return nil, 0, fmt.Errorf("%w: %s has no change output to pay a higher fee from", ErrNotBumpable, txid)
	}
	out := tx.TxOut[change]
	out.Value -= fee - r.Fee
	if out.Value < dustOf(out.PkScript) {
		return nil, 0, fmt.Errorf("%w: its change of %s cannot pay a fee of %s", ErrNotBumpable,
			w.amount(out.Value+fee-r.Fee), w.amount(fee))
	}
	coins := make([]Coin, len(tx.TxIn))
	have := make(map[wire.OutPoint]Coin)
	for _, c := range w.Coins() {
		have[c.OutPoint] = c
	}
	for i, in := range tx.TxIn {
		c, ok := have[in.PreviousOutPoint]
		if !ok {
			return nil, 0, fmt.Errorf("%w: input %v is not the wallet's", ErrNotBumpable, in.PreviousOutPoint)
		}
		coins[i] = c
		in.Witness = nil
	}
	if err := w.sign(tx, coins); err != nil {
		return nil, 0, err
	}
	return tx, fee, nil
}

// estimateVSize is the largest virtual size tx can have once signed: the
// wallet's per-input estimates plus its outputs.
func (w *Wallet) estimateVSize(tx *wire.MsgTx) int64 {
	vb := int64(txOverheadVB)
	for _, in := range tx.TxIn {
		vb += inputVBWPKH
		if r := w.find(in.PreviousOutPoint.Hash.String()); r != nil && int(in.PreviousOutPoint.Index) < len(r.tx.TxOut) {
			if p, ok := w.scripts[string(r.tx.TxOut[in.PreviousOutPoint.Index].PkScript)]; ok && p.Type == P2TR {
				vb += inputVBTR - inputVBWPKH
			}
		}
	}
	for _, out := range tx.TxOut {
		vb += outputVB(out.PkScript)
	}
	return vb
}

// VirtualSize is a transaction's size in vbytes.
func VirtualSize(tx *wire.MsgTx) int64 {
	return int64((tx.SerializeSizeStripped()*3 + tx.SerializeSize() + 3) / 4)
}

// CancelTx builds a replacement of the wallet's pending send txid that
// spends the same inputs and pays everything, less a fee BIP125 accepts
// over the original's, back to a fresh change address of the wallet: the
// send is cancelled if the replacement confirms first.
func (w *Wallet) CancelTx(txid string, rate float64) (*wire.MsgTx, int64, error) {
	r := w.find(txid)
	switch {
	case r == nil || !r.Mine:
		return nil, 0, fmt.Errorf("%w: %s was not sent by this wallet", ErrNotBumpable, txid)
	case r.Height > 0:
		return nil, 0, fmt.Errorf("%w: %s is already confirmed", ErrNotBumpable, txid)
	}
	have := make(map[wire.OutPoint]Coin)
	for _, c := range w.Coins() {
		have[c.OutPoint] = c
	}
	tx := wire.NewMsgTx(r.tx.Version)
	tx.LockTime = r.tx.LockTime
	var coins []Coin
	var in int64
	for _, txin := range r.tx.TxIn {
		c, ok := have[txin.PreviousOutPoint]
		if !ok {
			return nil, 0, fmt.Errorf("%w: input %v is not the wallet's", ErrNotBumpable, txin.PreviousOutPoint)
		}
		coins = append(coins, c)
		in += c.Value
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: c.OutPoint, Sequence: rbfSequence})
	}
	script, _, err := w.changeScript()
	if err != nil {
		return nil, 0, err
	}
	tx.AddTxOut(&wire.TxOut{PkScript: script})
	vsize := w.estimateVSize(tx)
	fee := max(feeFor(vsize, max(rate, minFeeRate)), r.Fee+feeFor(vsize, incrementalVB))
	tx.TxOut[0].Value = in - fee
	if tx.TxOut[0].Value < dustOf(script) {
		return nil, 0, fmt.Errorf("%w: its inputs cannot pay the fee", ErrNotBumpable)
	}
	if err := w.sign(tx, coins); err != nil {
		return nil, 0, err
	}
	return tx, fee, nil
}

// Ceilings above which `psbt sign` refuses without --force, as Core's
// wallet refuses fees over -maxtxfee (0.1 coin) and sendrawtransaction
// rates over -maxfeerate (0.1 coin per 1,000 vbytes).
const (
	MaxPSBTFee     = btcutil.SatoshiPerBitcoin / 10
	MaxPSBTFeeRate = 10_000 // base units per vbyte
)

// PSBTInput and PSBTOutput are one side of a PSBT's summary.
type PSBTInput struct {
	OutPoint string `json:"outpoint"`
	Value    int64  `json:"value"`
	Mine     bool   `json:"mine"`
}

// PSBTOutput is an output of a PSBT's summary; Address is empty for a
// script without one.
type PSBTOutput struct {
	Address string `json:"address"`
	Value   int64  `json:"value"`
	Mine    bool   `json:"mine"`
}

// PSBTSummary is what signing a PSBT approves: what it spends, what it
// pays, and the fee, with the fee rate of the signed transaction's
// estimated size.
type PSBTSummary struct {
	Inputs  []PSBTInput  `json:"inputs"`
	Outputs []PSBTOutput `json:"outputs"`
	Fee     int64        `json:"fee"`
	VSize   int64        `json:"vsize"`
	FeeRate float64      `json:"fee_rate"`
}

// PSBTCheck checks a PSBT against the wallet's own records before it is
// signed, and summarizes it. A segwit signature commits to the value of
// the output it spends but a signer learns that value from the PSBT; a
// PSBT that understates it makes the fee look small (the fee attack on
// hardware wallets). So every input paying one of the wallet's scripts
// must be a coin the wallet knows, with the value and script the PSBT
// claims; a full previous transaction, where given, must be the one the
// input names and agree with the witness UTXO. Inputs of others are taken
// as claimed, and the summary says which they are.
func (w *Wallet) PSBTCheck(p *psbt.Packet) (*PSBTSummary, error) {
	if len(p.Inputs) != len(p.UnsignedTx.TxIn) || len(p.Outputs) != len(p.UnsignedTx.TxOut) {
		return nil, errors.New("wallet: the PSBT's inputs or outputs do not match its transaction")
	}
	known := make(map[wire.OutPoint]Coin)
	for _, c := range w.Coins() {
		known[c.OutPoint] = c
	}
	s := &PSBTSummary{}
	var in, out int64
	// The signed transaction's weight: the unsigned one plus each
	// input's witness (P2WPKH's 108 weight units unless a key path).
	weight := int64(consensus.TxWeight(p.UnsignedTx)) + 2
	for i, pin := range p.Inputs {
		op := p.UnsignedTx.TxIn[i].PreviousOutPoint
		if pin.WitnessUtxo == nil {
			return nil, fmt.Errorf("wallet: PSBT input %d has no witness UTXO (only segwit inputs are signed)", i)
		}
		if prev := pin.NonWitnessUtxo; prev != nil {
			if prev.TxHash() != op.Hash || int(op.Index) >= len(prev.TxOut) ||
				prev.TxOut[op.Index].Value != pin.WitnessUtxo.Value ||
				string(prev.TxOut[op.Index].PkScript) != string(pin.WitnessUtxo.PkScript) {
				return nil, fmt.Errorf("wallet: PSBT input %d: its previous transaction does not match its witness UTXO or outpoint %v", i, op)
			}
		}
		value, script := pin.WitnessUtxo.Value, pin.WitnessUtxo.PkScript
		path, mine := w.scripts[string(script)]
		if mine {
			c, ok := known[op]
			switch {
			case !ok:
				return nil, fmt.Errorf("wallet: PSBT input %d spends %v, paid to this wallet's key %s, a coin the wallet has no record of "+
					"(scan first; a PSBT that invents coins can hide its fee)", i, op, w.keys.String(path))
			case c.Value != value || string(c.Script) != string(script):
				return nil, fmt.Errorf("wallet: PSBT input %d claims %v holds %s, but the wallet's record of that coin says %s",
					i, op, consensus.FormatCoins(value), consensus.FormatCoins(c.Value))
			}
		}
		if value < 0 || value > consensus.MaxMoney {
			return nil, fmt.Errorf("wallet: PSBT input %d claims an impossible value %d", i, value)
		}
		in += value
		s.Inputs = append(s.Inputs, PSBTInput{OutPoint: op.String(), Value: value, Mine: mine})
		if mine && path.Type == P2TR {
			weight += 66
		} else {
			weight += 108
		}
	}
	for _, o := range p.UnsignedTx.TxOut {
		out += o.Value
		_, mine := w.scripts[string(o.PkScript)]
		s.Outputs = append(s.Outputs, PSBTOutput{Address: w.addressOf(o.PkScript), Value: o.Value, Mine: mine})
	}
	if in > consensus.MaxMoney || out > in {
		return nil, fmt.Errorf("wallet: the PSBT pays %s from inputs of %s", consensus.FormatCoins(out), consensus.FormatCoins(in))
	}
	s.Fee = in - out
	s.VSize = (weight + 3) / 4
	s.FeeRate = float64(s.Fee) / float64(s.VSize)
	return s, nil
}

// addressOf returns a script's address on the wallet's network, or "".
func (w *Wallet) addressOf(script []byte) string {
	_, addrs, _, err := txscript.ExtractPkScriptAddrs(script, w.net.AddressParams())
	if err != nil || len(addrs) != 1 {
		return ""
	}
	return addrs[0].EncodeAddress()
}
