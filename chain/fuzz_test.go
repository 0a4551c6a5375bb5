package chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
)

// FuzzProcessBlock inputs are one mode byte followed by a serialized block.
// The mode repairs parts of the header against a parent chosen from the
// template chain, so that the fuzzer reaches the checks after the header
// ones with arbitrary transactions:
const (
	fuzzSetPrev     = 1 << iota // PrevBlock = the parent's hash
	fuzzSetBits                 // Bits = what the parent's successor needs
	fuzzSetTime                 // Timestamp = the parent's time + 1 s
	fuzzFinalize                // witness commitment and merkle root
	fuzzSolve                   // solve the proof of work at regtest bits
	fuzzParentShift = 5         // mode >> 5: parent is the tip's k-th ancestor
	fuzzRepairAll   = fuzzSetPrev | fuzzSetBits | fuzzSetTime | fuzzFinalize | fuzzSolve
)

// fuzzTemplate is a regtest chain stored in a directory that each fuzz
// input copies, so that every input starts from the same state:
//
//	genesis -> b1 -> ... -> b101 -> fund
//
// fund spends b1's coinbase to a P2WPKH output and an OP_TRUE output, so
// that the next block can hold a segwit spend.
type fuzzTemplate struct {
	dir   string
	net   *chainparams.Network
	g     *chaintest.Generator
	now   time.Time
	chain []*wire.MsgBlock // main chain by height
	key   *btcec.PrivateKey
}

// newFuzzTemplate builds the template chain in a temporary directory.
func newFuzzTemplate(tb testing.TB) *fuzzTemplate {
	tb.Helper()
	net := chainparams.Regtest()
	tp := &fuzzTemplate{dir: tb.TempDir(), net: net, g: chaintest.New(net)}
	tp.key, _ = btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x42}, 32))
	c, err := New(Config{Dir: tp.dir, Network: net, TxIndex: true, Now: tp.g.Now})
	if err != nil {
		tb.Fatal(err)
	}
	for i := 1; i <= 101; i++ {
		tp.g.NextBlock("b"+itoa(i), nil, nil)
		if _, err := c.ProcessBlock(tp.g.Tip()); err != nil {
			tb.Fatal(err)
		}
	}
	fund := chaintest.CreateSpendTx(tp.g.CoinbaseOut("b1"), 1000)
	fund.TxOut[0].Value -= 10 * consensus.CoinValue
	fund.TxOut[0].PkScript = chaintest.P2WPKHScript(tp.key)
	fund.AddTxOut(&wire.TxOut{Value: 10 * consensus.CoinValue, PkScript: chaintest.OpTrueScript})
	tp.g.NextBlock("fund", nil, []*wire.MsgTx{fund})
	if _, err := c.ProcessBlock(tp.g.Tip()); err != nil {
		tb.Fatal(err)
	}
	for ht := int32(0); ht <= c.BestSnapshot().Height; ht++ {
		b, err := c.BlockByHeight(ht)
		if err != nil {
			tb.Fatal(err)
		}
		tp.chain = append(tp.chain, b)
	}
	if err := c.Close(); err != nil {
		tb.Fatal(err)
	}
	tp.now = tp.g.Now()
	return tp
}

// open copies the template database to a fresh directory and opens it.
func (tp *fuzzTemplate) open(t *testing.T) (*BlockChain, Config) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "chain")
	if err := os.CopyFS(dir, os.DirFS(tp.dir)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "LOCK"))
	cfg := Config{
		Dir:         dir,
		Network:     tp.net,
		TxIndex:     true,
		Now:         func() time.Time { return tp.now },
		SigCache:    txscript.NewSigCache(16),
		ScriptCache: NewScriptCache(16),
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

// seeds returns FuzzProcessBlock's seed inputs: valid and invalid blocks
// on the template's tip, a side-chain block, an orphan and blocks already
// stored, each as is and with every repair.
func (tp *fuzzTemplate) seeds(tb testing.TB) [][]byte {
	tb.Helper()
	g := tp.g
	var blocks []*wire.MsgBlock
	next := func(name string, spend *chaintest.SpendableOut, txs []*wire.MsgTx, mungers ...func(*wire.MsgBlock)) {
		g.SetTip("fund")
		blocks = append(blocks, g.NextBlock(name, spend, txs, mungers...))
	}

	next("next", nil, nil)
	out2 := g.CoinbaseOut("b2")
	next("spend", &out2, nil)
	fund := g.Block("fund").Transactions[1]
	prev := chaintest.SpendableOut{
		OutPoint: wire.OutPoint{Hash: consensus.TxHash(fund), Index: 0},
		Amount:   fund.TxOut[0].Value,
		PkScript: fund.TxOut[0].PkScript,
		Key:      tp.key,
	}
	segwit, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{prev}, []int64{prev.Amount - 5000}, chaintest.OpTrueScript)
	if err != nil {
		tb.Fatal(err)
	}
	next("segwit", nil, []*wire.MsgTx{segwit})
	opTrue := g.TxOut("fund", 1, 1)
	next("optrue", &opTrue, nil)
	immature := g.CoinbaseOut("b101")
	next("immature", &immature, nil)
	next("double-spend", &out2, []*wire.MsgTx{chaintest.CreateSpendTx(out2, 2)})
	next("bad-cb-amount", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].Value++ })
	next("bad-cb-height", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxIn[0].SignatureScript[0] ^= 1 })
	badSig := segwit.Copy()
	badSig.TxIn[0].Witness[0][10] ^= 1
	next("bad-sig", nil, []*wire.MsgTx{badSig})

	g.SetTip("b101")
	blocks = append(blocks, g.NextBlock("side", nil, nil))
	g.SetTip("next")
	blocks = append(blocks, g.NextBlock("orphan", nil, nil))
	blocks = append(blocks, tp.chain[len(tp.chain)-1], tp.net.Genesis)

	var seeds [][]byte
	for _, b := range blocks {
		var buf bytes.Buffer
		if err := b.Serialize(&buf); err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, append([]byte{0}, buf.Bytes()...), append([]byte{fuzzRepairAll}, buf.Bytes()...))
	}
	return seeds
}

// repair applies the mode's header repairs to b.
func (tp *fuzzTemplate) repair(b *wire.MsgBlock, mode byte) {
	parent := tp.chain[len(tp.chain)-1-int(mode>>fuzzParentShift)]
	parentHeight := int32(len(tp.chain) - 1 - int(mode>>fuzzParentShift))
	p := &tp.net.Consensus
	if mode&fuzzSetPrev != 0 {
		b.Header.PrevBlock = consensus.BlockHash(&parent.Header)
	}
	if mode&fuzzSetBits != 0 {
		b.Header.Bits = consensus.CalcNextRequiredBits(p, parentHeight, parent.Header.Timestamp.Unix())
	}
	if mode&fuzzSetTime != 0 {
		b.Header.Timestamp = parent.Header.Timestamp.Add(time.Second)
	}
	if mode&fuzzFinalize != 0 && len(b.Transactions) > 0 {
		if len(b.Transactions[0].TxIn) > 0 {
			chaintest.Finalize(b)
		} else {
			b.Header.MerkleRoot, _ = consensus.CalcMerkleRoot(consensus.TxHashes(b))
		}
	}
	// Solving takes two tries on average at the regtest limit; at any
	// other bits it could take forever.
	if mode&fuzzSolve != 0 && b.Header.Bits == p.PowLimitBits {
		chaintest.Solve(b, p)
	}
}

// fuzzState is what a failed ProcessBlock must leave unchanged: the tip and
// a digest of the UTXO set.
type fuzzState struct {
	tip    chainhash.Hash
	height int32
	utxos  int
	digest [sha256.Size]byte // XOR of the entries' hashes: order free
}

// fuzzChainState returns c's tip and UTXO digest.
func fuzzChainState(t *testing.T, c *BlockChain) fuzzState {
	t.Helper()
	var s fuzzState
	best, err := c.ForEachUtxo(func(op wire.OutPoint, e *utxo.Entry) error {
		buf := append([]byte(nil), op.Hash[:]...)
		buf = binary.LittleEndian.AppendUint32(buf, op.Index)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(e.Amount))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(e.Height))
		if e.IsCoinBase {
			buf = append(buf, 1)
		}
		h := sha256.Sum256(append(buf, e.PkScript...))
		for i := range s.digest {
			s.digest[i] ^= h[i]
		}
		s.utxos++
		return nil
	})
	if err != nil {
		t.Fatalf("walk utxo set: %v", err)
	}
	s.tip, s.height = best.Hash, best.Height
	return s
}

// checkFuzzError fails unless err is a rule violation with a reject reason.
func checkFuzzError(t *testing.T, what string, err error) {
	t.Helper()
	var re RuleError
	if !errors.As(err, &re) {
		t.Fatalf("%s: error %v (%T) is not a rule violation", what, err, err)
	}
	if RejectReason(err) == "" {
		t.Fatalf("%s: rule error %v has no reject reason", what, err)
	}
}

// FuzzProcessBlock ensures that ProcessBlock, given arbitrary bytes decoded
// as a block on a fresh copy of a regtest chain, never panics; that it fails
// only with rule violations that carry a reject reason and leave the tip
// and UTXO set unchanged; that a block it accepts onto the main chain
// becomes the tip with a UTXO set that matches the chain's blocks and
// survives a restart; and that a second submission of the same block fails
// without changing anything.
func FuzzProcessBlock(f *testing.F) {
	tp := newFuzzTemplate(f)
	for _, seed := range tp.seeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		var block wire.MsgBlock
		if err := block.Deserialize(bytes.NewReader(data[1:])); err != nil {
			return
		}
		tp.repair(&block, data[0])
		hash := consensus.BlockHash(&block.Header)

		c, cfg := tp.open(t)
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		before := fuzzChainState(t, c)
		res, err := c.ProcessBlock(&block)
		after := fuzzChainState(t, c)
		t.Logf("mode %#02x, block %v: main chain %v, error %v", data[0], hash, res.MainChain, err)
		switch {
		case err != nil:
			checkFuzzError(t, "ProcessBlock", err)
			if after != before {
				t.Fatalf("failed block (%v) changed the chain from %+v to %+v", err, before, after)
			}
		case res.Hash != hash:
			t.Fatalf("result hash %v, block hash %v", res.Hash, hash)
		case res.MainChain:
			if after.tip != hash || after.height != before.height+1 {
				t.Fatalf("block %v on the main chain, tip %v at %d (was %d)", hash, after.tip, after.height, before.height)
			}
			checkUtxoSet(t, c)
		default:
			if after != before {
				t.Fatalf("side-chain block changed the chain from %+v to %+v", before, after)
			}
		}

		if _, err2 := c.ProcessBlock(&block); err2 == nil {
			t.Fatalf("block %v accepted twice (first: %v)", hash, err)
		} else {
			checkFuzzError(t, "second ProcessBlock", err2)
		}
		if again := fuzzChainState(t, c); again != after {
			t.Fatalf("second submission changed the chain from %+v to %+v", after, again)
		}

		if err == nil {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			c = nil
			c2, err := New(cfg)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			c = c2
			if reopened := fuzzChainState(t, c); reopened != after {
				t.Fatalf("restart changed the chain from %+v to %+v", after, reopened)
			}
		}
	})
}
