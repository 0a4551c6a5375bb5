package chaintest

import (
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Mungers for [Generator.NextBlock]. Each runs before the generator sets the
// witness commitment, the merkle root and the proof of work, so the block
// they produce is well formed apart from the rule the munger breaks.

// WithVersion sets the block version.
func WithVersion(version int32) func(*wire.MsgBlock) {
	return func(b *wire.MsgBlock) { b.Header.Version = version }
}

// WithTimestamp sets the block time.
func WithTimestamp(t time.Time) func(*wire.MsgBlock) {
	return func(b *wire.MsgBlock) { b.Header.Timestamp = t }
}

// WithBits sets the block's compact target. The generator solves the block
// at these bits.
func WithBits(bits uint32) func(*wire.MsgBlock) {
	return func(b *wire.MsgBlock) { b.Header.Bits = bits }
}

// WithPrevBlock sets the block's parent hash.
func WithPrevBlock(hash chainhash.Hash) func(*wire.MsgBlock) {
	return func(b *wire.MsgBlock) { b.Header.PrevBlock = hash }
}

// WithCoinbaseScript replaces the coinbase scriptSig.
func WithCoinbaseScript(script []byte) func(*wire.MsgBlock) {
	return func(b *wire.MsgBlock) { b.Transactions[0].TxIn[0].SignatureScript = script }
}

// AddCoinbaseValue adds delta to the coinbase's first output, on top of the
// subsidy and fees the generator pays.
func AddCoinbaseValue(delta int64) func(*wire.MsgBlock) {
	return func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].Value += delta }
}

// SetCoinbaseValue sets the coinbase's first output to value.
func SetCoinbaseValue(value int64) func(*wire.MsgBlock) {
	return func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].Value = value }
}

// CopyBlock returns a deep copy of block, for tests that alter a finished
// block and still need the original.
func CopyBlock(block *wire.MsgBlock) *wire.MsgBlock {
	c := &wire.MsgBlock{Header: block.Header}
	c.Transactions = make([]*wire.MsgTx, len(block.Transactions))
	for i, tx := range block.Transactions {
		c.Transactions[i] = tx.Copy()
	}
	return c
}

// DuplicateTail returns a copy of block whose last n transactions are
// repeated at its end: the CVE-2012-2459 mutation. When the block's
// transaction count makes the merkle tree pad with exactly those
// transactions (one for an odd count; two for a count of 6 mod 8, and so on),
// the copy has the same merkle root, and so the same header, as block.
func DuplicateTail(block *wire.MsgBlock, n int) *wire.MsgBlock {
	c := CopyBlock(block)
	tail := block.Transactions[len(block.Transactions)-n:]
	for _, tx := range tail {
		c.Transactions = append(c.Transactions, tx.Copy())
	}
	return c
}

// Unsolve changes the nonce of a block until its hash is above the target of
// its bits, so that it fails the proof-of-work check (high-hash). The
// target must not be the maximum; at regtest difficulty half the nonces
// fail.
func Unsolve(block *wire.MsgBlock) {
	target, _, _ := consensus.CompactToBig(block.Header.Bits)
	for {
		block.Header.Nonce++
		h := consensus.BlockHash(&block.Header)
		if consensus.HashToBig(&h).Cmp(target) > 0 {
			return
		}
	}
}

// P2SHScript returns the pay-to-script-hash output script of redeemScript.
func P2SHScript(redeemScript []byte) []byte {
	script, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_HASH160).
		AddData(btcutil.Hash160(redeemScript)).AddOp(txscript.OP_EQUAL).Script()
	return script
}

// P2WSHScript returns the version 0 pay-to-witness-script-hash output script
// of witnessScript.
func P2WSHScript(witnessScript []byte) []byte {
	h := chainhash.HashB(witnessScript)
	script, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(h).Script()
	return script
}

// CreateTx returns a version 2 transaction spending every output of outs
// (with final sequence numbers) to one output per value, each paying
// pkScript. Signature scripts and witnesses are left empty.
func CreateTx(outs []SpendableOut, values []int64, pkScript []byte) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	for _, o := range outs {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: o.OutPoint, Sequence: wire.MaxTxInSequenceNum})
	}
	for _, v := range values {
		tx.AddTxOut(&wire.TxOut{Value: v, PkScript: pkScript})
	}
	return tx
}

// TxOuts returns every output of tx as spendable outputs.
func TxOuts(tx *wire.MsgTx) []SpendableOut {
	txid := consensus.TxHash(tx)
	outs := make([]SpendableOut, len(tx.TxOut))
	for i, o := range tx.TxOut {
		outs[i] = SpendableOut{
			OutPoint: wire.OutPoint{Hash: txid, Index: uint32(i)},
			Amount:   o.Value,
			PkScript: o.PkScript,
		}
	}
	return outs
}

// PaymentBlocks builds blocks+1 blocks on the generator's tip, named
// prefix0 to prefixN: the first splits its coinbase into perBlock
// anyone-can-spend outputs, and each next one pays every output of the
// previous coinbase to target, one transaction each, and splits its own
// coinbase again. target so receives blocks*perBlock payments: a busy
// address's history, for benchmarks. Each block is handed to process.
func (g *Generator) PaymentBlocks(prefix string, blocks, perBlock int, target []byte, process func(*wire.MsgBlock) error) error {
	split := func(blk *wire.MsgBlock) {
		cb := blk.Transactions[0]
		v := cb.TxOut[0].Value / int64(perBlock)
		cb.TxOut = cb.TxOut[:0]
		for i := 0; i < perBlock; i++ {
			cb.AddTxOut(&wire.TxOut{Value: v, PkScript: OpTrueScript})
		}
	}
	prev := g.NextBlock(prefix+"0", nil, nil, split)
	if err := process(prev); err != nil {
		return err
	}
	for i := 1; i <= blocks; i++ {
		var txs []*wire.MsgTx
		for _, o := range TxOuts(prev.Transactions[0]) {
			txs = append(txs, CreateTx([]SpendableOut{o}, []int64{o.Amount}, target))
		}
		prev = g.NextBlock(fmt.Sprintf("%s%d", prefix, i), nil, txs, split)
		if err := process(prev); err != nil {
			return err
		}
	}
	return nil
}
