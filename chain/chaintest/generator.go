// Package chaintest generates valid (and deliberately invalid) blocks for
// tests and benchmarks: named blocks on any tip, coinbases with the BIP34
// height, witness commitments when needed, correct difficulty and a solved
// proof of work, and transactions spending earlier outputs.
//
// Outputs pay to a bare OP_TRUE script unless a key is given, so consensus
// scenarios need no signatures; [Generator.SpendP2WPKH] builds signed
// transactions for benchmarks.
package chaintest

import (
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
)

// OpTrueScript is the anyone-can-spend output script generated blocks pay to.
var OpTrueScript = []byte{txscript.OP_TRUE}

// BlockVersion is the version of generated blocks.
const BlockVersion = 0x20000000

// SpendableOut is an output a test can spend.
type SpendableOut struct {
	OutPoint wire.OutPoint
	Amount   int64
	PkScript []byte
	// Key signs for P2WPKH outputs; nil for OP_TRUE outputs.
	Key *btcec.PrivateKey
}

// Generator builds blocks on named tips. It is not safe for concurrent use.
type Generator struct {
	Net    *chainparams.Network
	params *consensus.Params

	blocks   map[string]*wire.MsgBlock
	heights  map[string]int32
	byHash   map[chainhash.Hash]string
	tip      string
	tipBlock *wire.MsgBlock
	// TimeStep is added to the parent's time for each block.
	TimeStep time.Duration
	extra    uint64
	// values remembers the value of every output generated, for fees.
	values map[wire.OutPoint]int64
}

// New returns a generator whose tip is the network's genesis block, named
// "genesis".
func New(net *chainparams.Network) *Generator {
	g := &Generator{
		Net:     net,
		params:  &net.Consensus,
		blocks:  map[string]*wire.MsgBlock{"genesis": net.Genesis},
		heights: map[string]int32{"genesis": 0},
		byHash:  map[chainhash.Hash]string{net.GenesisHash(): "genesis"},
		tip:     "genesis",
		values:  make(map[wire.OutPoint]int64),
		TimeStep: func() time.Duration {
			if net.Consensus.NoRetargeting {
				return time.Second
			}
			return net.Consensus.TargetSpacing
		}(),
	}
	g.tipBlock = net.Genesis
	return g
}

// Tip returns the current tip block; TipName its name; TipHeight its height.
func (g *Generator) Tip() *wire.MsgBlock { return g.tipBlock }
func (g *Generator) TipName() string     { return g.tip }
func (g *Generator) TipHeight() int32    { return g.heights[g.tip] }

// Block returns the named block; it panics on an unknown name, a test bug.
func (g *Generator) Block(name string) *wire.MsgBlock {
	b, ok := g.blocks[name]
	if !ok {
		panic(fmt.Sprintf("chaintest: no block named %q", name))
	}
	return b
}

// Height returns the height of the named block.
func (g *Generator) Height(name string) int32 {
	g.Block(name)
	return g.heights[name]
}

// SetTip makes the named block the parent of the next one.
func (g *Generator) SetTip(name string) {
	g.tipBlock = g.Block(name)
	g.tip = name
}

// Now returns a clock reading at which every generated block is in the
// past: the latest block time plus one hour.
func (g *Generator) Now() time.Time {
	var latest time.Time
	for _, b := range g.blocks {
		if b.Header.Timestamp.After(latest) {
			latest = b.Header.Timestamp
		}
	}
	return latest.Add(time.Hour)
}

// CoinbaseOut returns output 0 of the named block's coinbase.
func (g *Generator) CoinbaseOut(name string) SpendableOut {
	b := g.Block(name)
	cb := b.Transactions[0]
	return SpendableOut{
		OutPoint: wire.OutPoint{Hash: consensus.TxHash(cb), Index: 0},
		Amount:   cb.TxOut[0].Value,
		PkScript: cb.TxOut[0].PkScript,
	}
}

// TxOut returns output idx of transaction txIdx of the named block.
func (g *Generator) TxOut(name string, txIdx int, idx uint32) SpendableOut {
	tx := g.Block(name).Transactions[txIdx]
	return SpendableOut{
		OutPoint: wire.OutPoint{Hash: consensus.TxHash(tx), Index: idx},
		Amount:   tx.TxOut[idx].Value,
		PkScript: tx.TxOut[idx].PkScript,
	}
}

// CreateCoinbase returns a coinbase for height paying value to pkScript. Its
// scriptSig is the BIP34 height push followed by an 8-byte extra nonce that
// makes every coinbase unique.
func (g *Generator) CreateCoinbase(height int32, value int64, pkScript []byte) *wire.MsgTx {
	g.extra++
	sig := append(consensus.CoinbaseHeightPrefix(height), 0x08)
	for i := 0; i < 8; i++ {
		sig = append(sig, byte(g.extra>>(8*i)))
	}
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript:  sig,
		Sequence:         wire.MaxTxInSequenceNum,
	})
	tx.AddTxOut(&wire.TxOut{Value: value, PkScript: pkScript})
	return tx
}

// CreateSpendTx returns a transaction spending out to one OP_TRUE output,
// leaving fee to the miner.
func CreateSpendTx(out SpendableOut, fee int64) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: out.OutPoint, Sequence: wire.MaxTxInSequenceNum})
	tx.AddTxOut(&wire.TxOut{Value: out.Amount - fee, PkScript: OpTrueScript})
	return tx
}

// NextBlock builds a block named name on the tip and makes it the tip. The
// block holds a coinbase paying subsidy plus fees, then a transaction
// spending spend (if not nil) with a fee of 1 unit, then extra
// transactions. Each munger may change the block before its coinbase value,
// witness commitment, merkle root and proof of work are finalized.
func (g *Generator) NextBlock(name string, spend *SpendableOut, extra []*wire.MsgTx, mungers ...func(*wire.MsgBlock)) *wire.MsgBlock {
	if _, dup := g.blocks[name]; dup {
		panic(fmt.Sprintf("chaintest: block %q exists", name))
	}
	parent := g.tipBlock
	parentHeight := g.heights[g.tip]
	height := parentHeight + 1

	var txs []*wire.MsgTx
	if spend != nil {
		txs = append(txs, CreateSpendTx(*spend, 1))
	}
	txs = append(txs, extra...)
	cb := g.CreateCoinbase(height, consensus.CalcBlockSubsidy(height, g.params), OpTrueScript)
	block := &wire.MsgBlock{
		Header: wire.BlockHeader{
			Version:   BlockVersion,
			PrevBlock: consensus.BlockHash(&parent.Header),
			Timestamp: parent.Header.Timestamp.Add(g.TimeStep),
			Bits:      consensus.CalcNextRequiredBits(g.params, parentHeight, parent.Header.Timestamp.Unix()),
		},
		Transactions: append([]*wire.MsgTx{cb}, txs...),
	}
	cb.TxOut[0].Value += g.fees(block)
	for _, m := range mungers {
		m(block)
	}
	Finalize(block)
	Solve(block, g.params)
	g.add(name, block, height)
	return block
}

// fees returns the fees of the block's non-coinbase transactions, assuming
// they spend outputs this generator created (or earlier transactions of the
// same block).
func (g *Generator) fees(block *wire.MsgBlock) int64 {
	values := make(map[wire.OutPoint]int64)
	var fees int64
	for _, tx := range block.Transactions[1:] {
		h := consensus.TxHash(tx)
		for i, o := range tx.TxOut {
			values[wire.OutPoint{Hash: h, Index: uint32(i)}] = o.Value
		}
		for _, in := range tx.TxIn {
			v, ok := values[in.PreviousOutPoint]
			if !ok {
				v = g.values[in.PreviousOutPoint]
			}
			fees += v
		}
		for _, o := range tx.TxOut {
			fees -= o.Value
		}
	}
	return fees
}

// add records a finished block as the new tip.
func (g *Generator) add(name string, block *wire.MsgBlock, height int32) {
	g.blocks[name] = block
	g.heights[name] = height
	g.byHash[consensus.BlockHash(&block.Header)] = name
	g.tip, g.tipBlock = name, block
	for _, tx := range block.Transactions {
		h := consensus.TxHash(tx)
		for i, o := range tx.TxOut {
			g.values[wire.OutPoint{Hash: h, Index: uint32(i)}] = o.Value
		}
	}
}

// Finalize sets the witness commitment (when any transaction has witness
// data) and the merkle root.
func Finalize(block *wire.MsgBlock) {
	if consensus.BlockHasWitness(block) {
		cb := block.Transactions[0]
		if consensus.WitnessCommitmentIndex(cb) < 0 {
			cb.TxOut = append(cb.TxOut, &wire.TxOut{PkScript: make([]byte, 38)})
		}
		reserved := make([]byte, 32)
		cb.TxIn[0].Witness = wire.TxWitness{reserved}
		idx := len(cb.TxOut) - 1
		if i := consensus.WitnessCommitmentIndex(cb); i >= 0 {
			idx = i
		}
		commit := consensus.CalcWitnessCommitment(consensus.CalcWitnessMerkleRoot(block.Transactions), reserved)
		cb.TxOut[idx].PkScript = consensus.WitnessCommitmentScript(commit)
	}
	root, _ := consensus.CalcMerkleRoot(consensus.TxHashes(block))
	block.Header.MerkleRoot = root
}

// Solve searches nonces until the header meets its target. With bits at a
// regtest-like limit this takes a few tries.
func Solve(block *wire.MsgBlock, p *consensus.Params) {
	target, _, _ := consensus.CompactToBig(block.Header.Bits)
	for {
		h := consensus.BlockHash(&block.Header)
		if consensus.HashToBig(&h).Cmp(target) <= 0 {
			return
		}
		block.Header.Nonce++
		if block.Header.Nonce == 0 {
			block.Header.Timestamp = block.Header.Timestamp.Add(time.Second)
		}
	}
}

// Replace stores block under name, replacing what was there (for tests that
// alter a finished block), and makes it the tip.
func (g *Generator) Replace(name string, block *wire.MsgBlock) {
	delete(g.byHash, consensus.BlockHash(&g.Block(name).Header))
	g.add(name, block, g.heights[name])
}

// P2WPKHScript returns the P2WPKH output script of key.
func P2WPKHScript(key *btcec.PrivateKey) []byte {
	h := btcutil.Hash160(key.PubKey().SerializeCompressed())
	script, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(h).Script()
	return script
}

// SpendP2WPKH returns a signed transaction spending outs (each P2WPKH, with
// its Key) to outputs paying the given values to payTo.
func SpendP2WPKH(outs []SpendableOut, values []int64, payTo []byte) (*wire.MsgTx, error) {
	tx := wire.NewMsgTx(2)
	prev := make(map[wire.OutPoint]*wire.TxOut, len(outs))
	for _, o := range outs {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: o.OutPoint, Sequence: wire.MaxTxInSequenceNum - 2})
		prev[o.OutPoint] = &wire.TxOut{Value: o.Amount, PkScript: o.PkScript}
	}
	for _, v := range values {
		tx.AddTxOut(&wire.TxOut{Value: v, PkScript: payTo})
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prev)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, o := range outs {
		w, err := txscript.WitnessSignature(tx, hashes, i, o.Amount, o.PkScript, txscript.SigHashAll, o.Key, true)
		if err != nil {
			return nil, fmt.Errorf("chaintest: sign input %d: %w", i, err)
		}
		tx.TxIn[i].Witness = w
	}
	return tx, nil
}

// SplitEvenly returns n output values sharing what outs hold less fee, the
// last taking the remainder.
func SplitEvenly(outs []SpendableOut, n int, fee int64) []int64 {
	var total int64
	for _, o := range outs {
		total += o.Amount
	}
	values := make([]int64, n)
	each := (total - fee) / int64(n)
	for i := range values {
		values[i] = each
	}
	values[n-1] += total - fee - each*int64(n)
	return values
}

// NameOf returns the name of the block with hash, or its hash as a string.
func (g *Generator) NameOf(hash chainhash.Hash) string {
	if n, ok := g.byHash[hash]; ok {
		return n
	}
	return hash.String()
}
