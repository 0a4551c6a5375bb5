package miner

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
)

// BlockVersion is the version of mined blocks (BIP9 top bits, no signals).
const BlockVersion = 0x20000000

// Chain is what the miner needs of the block chain.
type Chain interface {
	Network() *chainparams.Network
	BestSnapshot() *chain.BestState
	FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error)
	ProcessBlock(block *wire.MsgBlock) (chain.ProcessResult, error)
}

var _ Chain = (*chain.BlockChain)(nil)

// ErrMissingInput is returned by NewTemplate for a transaction spending an
// output that is neither unspent nor created earlier in the template.
var ErrMissingInput = errors.New("miner: transaction input not found")

// NewTemplate builds an unsolved block on the tip of c: a coinbase paying
// subsidy plus the fees of txs to payTo (its scriptSig the BIP34 height and
// extraNonce), then txs in the given order, with a witness commitment and
// the merkle root set. Its time is now, or one second past the median time
// past if that is later.
func NewTemplate(c Chain, payTo []byte, txs []*wire.MsgTx, extraNonce uint64, now time.Time) (*wire.MsgBlock, error) {
	fees, err := templateFees(c, txs)
	if err != nil {
		return nil, err
	}
	return buildTemplate(c, c.BestSnapshot(), payTo, txs, fees, extraNonce, now)
}

// buildTemplate is NewTemplate on best with the transactions' fees already
// known.
func buildTemplate(c Chain, best *chain.BestState, payTo []byte, txs []*wire.MsgTx, fees int64, extraNonce uint64, now time.Time) (*wire.MsgBlock, error) {
	net := c.Network()
	p := &net.Consensus
	height := best.Height + 1
	coinbase, err := NewCoinbase(height, extraNonce, consensus.CalcBlockSubsidy(height, p)+fees, payTo)
	if err != nil {
		return nil, err
	}
	ts := blockTime(now, best.MedianTime)
	block := &wire.MsgBlock{
		Header: wire.BlockHeader{
			Version:   BlockVersion,
			PrevBlock: best.Hash,
			Timestamp: ts,
			Bits:      consensus.CalcNextRequiredBits(p, best.Height, best.Time.Unix()),
		},
		Transactions: append([]*wire.MsgTx{coinbase}, txs...),
	}
	if height >= p.SegwitHeight {
		AddWitnessCommitment(block)
	}
	root, _ := consensus.CalcMerkleRoot(consensus.TxHashes(block))
	block.Header.MerkleRoot = root
	return block, nil
}

// blockTime is now, or one second past the median time past if that is
// later: the earliest time the rules allow.
func blockTime(now, medianTime time.Time) time.Time {
	ts := now.Truncate(time.Second)
	if minTime := medianTime.Add(time.Second); ts.Before(minTime) {
		ts = minTime
	}
	return ts
}

// templateFees sums the fees of txs, looking inputs up in the UTXO set and
// among the outputs of earlier transactions of the list.
func templateFees(c Chain, txs []*wire.MsgTx) (int64, error) {
	created := make(map[wire.OutPoint]int64)
	var fees int64
	for _, tx := range txs {
		txid := consensus.TxHash(tx)
		var in, out int64
		for _, txIn := range tx.TxIn {
			if v, ok := created[txIn.PreviousOutPoint]; ok {
				in += v
				continue
			}
			e, err := c.FetchUtxoEntry(txIn.PreviousOutPoint)
			if err != nil {
				return 0, err
			}
			if e == nil {
				return 0, fmt.Errorf("%w: %v spends %v", ErrMissingInput, txid, txIn.PreviousOutPoint)
			}
			in += e.Amount
		}
		for i, o := range tx.TxOut {
			out += o.Value
			created[wire.OutPoint{Hash: txid, Index: uint32(i)}] = o.Value
		}
		fees += in - out
	}
	return fees, nil
}

// NewCoinbase returns a coinbase for height paying value to payTo. Its
// scriptSig is the BIP34 height push followed by an 8-byte extra nonce.
func NewCoinbase(height int32, extraNonce uint64, value int64, payTo []byte) (*wire.MsgTx, error) {
	if len(payTo) == 0 {
		return nil, errors.New("miner: no output script to pay to")
	}
	sig, err := txscript.NewScriptBuilder().AddOps(consensus.CoinbaseHeightPrefix(height)).
		AddData(uint64LE(extraNonce)).Script()
	if err != nil {
		return nil, fmt.Errorf("miner: coinbase script: %w", err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript:  sig,
		Sequence:         wire.MaxTxInSequenceNum,
	})
	tx.AddTxOut(&wire.TxOut{Value: value, PkScript: payTo})
	return tx, nil
}

func uint64LE(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// AddWitnessCommitment gives the block's coinbase the BIP141 witness
// reserved value (zero) and a commitment output to the block's witness
// merkle root. Call it again after changing the transactions.
func AddWitnessCommitment(block *wire.MsgBlock) {
	cb := block.Transactions[0]
	reserved := make([]byte, 32)
	cb.TxIn[0].Witness = wire.TxWitness{reserved}
	commitment := consensus.CalcWitnessCommitment(consensus.CalcWitnessMerkleRoot(block.Transactions), reserved)
	script := consensus.WitnessCommitmentScript(commitment)
	if i := consensus.WitnessCommitmentIndex(cb); i >= 0 {
		cb.TxOut[i].PkScript = script
		return
	}
	cb.AddTxOut(&wire.TxOut{Value: 0, PkScript: script})
}

// BlockTemplate is the work an external miner needs (getblocktemplate):
// everything of the next block but the coinbase.
type BlockTemplate struct {
	PrevHash      chainhash.Hash
	Height        int32
	Version       int32
	Bits          uint32
	Target        *big.Int
	CurTime       time.Time
	MinTime       time.Time
	Txs           []*TxDesc
	CoinbaseValue int64
	// WitnessCommitment is the coinbase output script committing to the
	// transactions' witnesses (with the all-zero reserved value), or nil
	// before segwit.
	WitnessCommitment []byte
}

// NewBlockTemplate assembles the next block's template on c's tip with
// transactions from txs (nil: none), chosen as the miner chooses them.
func NewBlockTemplate(c Chain, txs TxSource, now time.Time) (*BlockTemplate, error) {
	p := &c.Network().Consensus
	best := c.BestSnapshot()
	t := &BlockTemplate{
		PrevHash: best.Hash,
		Height:   best.Height + 1,
		Version:  BlockVersion,
		Bits:     consensus.CalcNextRequiredBits(p, best.Height, best.Time.Unix()),
		CurTime:  blockTime(now, best.MedianTime),
		MinTime:  best.MedianTime.Add(time.Second),
	}
	t.Target, _, _ = consensus.CompactToBig(t.Bits)
	var fees int64
	if txs != nil {
		maxWeight, maxSigOps := blockLimits()
		t.Txs, fees = txs.SelectForBlock(best.Hash, maxWeight, maxSigOps)
	}
	t.CoinbaseValue = consensus.CalcBlockSubsidy(t.Height, p) + fees
	if t.Height >= p.SegwitHeight {
		all := make([]*wire.MsgTx, 1, len(t.Txs)+1)
		all[0] = wire.NewMsgTx(1) // the coinbase's wtxid counts as zero
		for _, d := range t.Txs {
			all = append(all, d.Tx)
		}
		root := consensus.CalcWitnessMerkleRoot(all)
		t.WitnessCommitment = consensus.WitnessCommitmentScript(consensus.CalcWitnessCommitment(root, make([]byte, 32)))
	}
	return t, nil
}
