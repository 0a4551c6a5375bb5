package chain

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

// rulesHarness is a harness whose clock a test may pin, for the future-time
// rule. Unpinned, the clock follows the generator (an hour after its latest
// block).
type rulesHarness struct {
	*harness
	pinned atomic.Int64 // Unix seconds; zero means unpinned
}

// newRulesHarness returns a rules harness on a fresh chain of net.
func newRulesHarness(t *testing.T, net *chainparams.Network) *rulesHarness {
	t.Helper()
	rh := &rulesHarness{}
	h := &harness{t: t, g: chaintest.New(net), dir: t.TempDir()}
	h.cfg = Config{Dir: h.dir, Network: net, Now: func() time.Time {
		if s := rh.pinned.Load(); s != 0 {
			return time.Unix(s, 0)
		}
		return h.g.Now()
	}}
	rh.harness = h
	h.open()
	t.Cleanup(func() {
		if h.chain != nil {
			h.chain.Close()
		}
	})
	return rh
}

// pinClock sets the chain's clock to now until unpinClock.
func (h *rulesHarness) pinClock(now time.Time) { h.pinned.Store(now.Unix()) }

// unpinClock lets the clock follow the generator again.
func (h *rulesHarness) unpinClock() { h.pinned.Store(0) }

// chainTipName returns the generator's name of the chain's tip.
func (h *rulesHarness) chainTipName() string {
	h.t.Helper()
	return h.g.NameOf(h.chain.BestSnapshot().Hash)
}

// medianTime returns the median time past of the named block, computed
// from the generator's headers independently of the chain.
func (h *rulesHarness) medianTime(name string) int64 {
	h.t.Helper()
	var ts []int64
	for b := h.g.Block(name); len(ts) < consensus.MedianTimeBlocks; {
		ts = append(ts, b.Header.Timestamp.Unix())
		if b.Header.PrevBlock == (chainhash.Hash{}) {
			break
		}
		b = h.g.Block(h.g.NameOf(b.Header.PrevBlock))
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

// fund mines and accepts a block named name whose one transaction spends
// out to one output per value, each paying pkScript, and returns those
// outputs.
func (h *rulesHarness) fund(name string, out chaintest.SpendableOut, values []int64, pkScript []byte) []chaintest.SpendableOut {
	h.t.Helper()
	tx := chaintest.CreateTx([]chaintest.SpendableOut{out}, values, pkScript)
	h.g.NextBlock(name, nil, []*wire.MsgTx{tx})
	h.acceptTip()
	return chaintest.TxOuts(tx)
}

// submit processes block and expects an error of kind want with Bitcoin
// Core's reject reason.
func (h *rulesHarness) submit(what string, block *wire.MsgBlock, want consensus.ErrorKind, reason string) {
	h.t.Helper()
	_, err := h.chain.ProcessBlock(block)
	if !errors.Is(err, want) {
		h.t.Fatalf("%s: got error %v, want kind %v", what, err, want)
	}
	if got := RejectReason(err); got != reason {
		h.t.Fatalf("%s: got reject reason %q, want %q (error %v)", what, got, reason, err)
	}
}

// acceptBlock processes block, which need not be known to the generator
// under its hash, and expects it to become the tip.
func (h *rulesHarness) acceptBlock(what string, block *wire.MsgBlock) {
	h.t.Helper()
	res, err := h.chain.ProcessBlock(block)
	if err != nil {
		h.t.Fatalf("%s: unexpected error: %v", what, err)
	}
	if !res.MainChain || h.chain.BestSnapshot().Hash != block.BlockHash() {
		h.t.Fatalf("%s: accepted but not the tip", what)
	}
}

// splitValues divides total less fee into n equal outputs.
func splitValues(total, fee int64, n int) []int64 {
	values := make([]int64, n)
	for i := range values {
		values[i] = (total - fee) / int64(n)
	}
	return values
}

// sumAmounts returns the total value of outs.
func sumAmounts(outs []chaintest.SpendableOut) int64 {
	var sum int64
	for _, o := range outs {
		sum += o.Amount
	}
	return sum
}

// subsidyOnly is a munger that makes the coinbase claim the subsidy of the
// generator's next block and no fees, for blocks whose fees the generator
// cannot compute (or which would push the coinbase out of range).
func subsidyOnly(h *rulesHarness) func(*wire.MsgBlock) {
	return chaintest.SetCoinbaseValue(consensus.CalcBlockSubsidy(h.g.TipHeight()+1, &h.g.Net.Consensus))
}

// rulesKey signs the P2WPKH outputs of the rule tests.
var rulesKey, _ = btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x11}, 32))

// fundP2WPKH mines a block paying a mature coinbase to a P2WPKH output of
// rulesKey and returns that output.
func (h *rulesHarness) fundP2WPKH(name, coinbase string) chaintest.SpendableOut {
	h.t.Helper()
	out := h.g.CoinbaseOut(coinbase)
	o := h.fund(name, out, []int64{out.Amount - 1000}, chaintest.P2WPKHScript(rulesKey))[0]
	o.Key = rulesKey
	return o
}

// spendP2WPKH returns a signed transaction spending out to OP_TRUE.
func (h *rulesHarness) spendP2WPKH(out chaintest.SpendableOut) *wire.MsgTx {
	h.t.Helper()
	tx, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{out}, []int64{out.Amount - 1000}, chaintest.OpTrueScript)
	if err != nil {
		h.t.Fatal(err)
	}
	return tx
}

// Networks of the rule tests that regtest cannot stand in for.

// asertNet is a custom network that retargets with ASERT every block, at a
// difficulty the generator solves at once: pow limit 0x207fffff, genesis
// (the anchor) 128 times harder, 10-second spacing and a one-hour
// half-life.
func asertNet(t *testing.T) *chainparams.Network {
	t.Helper()
	net, err := chainparams.ParseSpec([]byte(`{
		"name": "rules-asert",
		"target_spacing": "10s",
		"difficulty": "asert",
		"asert_half_life": "1h",
		"pow_limit_bits": "0x207fffff",
		"genesis": {"time": 1795305600, "message": "rules asert", "bits": "0x2000ffff"}
	}`))
	if err != nil {
		t.Fatalf("asert chain spec: %v", err)
	}
	if net.Consensus.NoRetargeting {
		t.Fatal("asert chain spec: retargeting is off")
	}
	return net
}

// richNet is a custom network whose every coinbase creates MaxMoney and
// matures after one block, so that sums of inputs and of fees can leave the
// money range.
func richNet(t *testing.T) *chainparams.Network {
	t.Helper()
	net, err := chainparams.ParseSpec([]byte(`{
		"name": "rules-rich",
		"subsidy": 21000000,
		"coinbase_maturity": 1,
		"genesis": {"time": 1795305600, "message": "rules rich"}
	}`))
	if err != nil {
		t.Fatalf("rich chain spec: %v", err)
	}
	return net
}

// lateBIP34Net is regtest with BIP34 active only from height 1000, so that
// coinbases may repeat and BIP30 is enforced.
func lateBIP34Net(*testing.T) *chainparams.Network {
	net := chainparams.Regtest()
	net.Consensus.BIP34Height = 1000
	return net
}

// lateSegwitNet is regtest with segwit active only from height 1000.
func lateSegwitNet(*testing.T) *chainparams.Network {
	net := chainparams.Regtest()
	net.Consensus.SegwitHeight = 1000
	return net
}

// matureBase is the base chain of rows that spend coinbases: b0..b109 at
// heights 1..110, so the next block (height 111) may spend the coinbases of
// b0..b10.
const matureBase = 110

// ruleTest is one row of TestRulesRejectBlocks.
type ruleTest struct {
	name string
	// net returns the network; nil means regtest.
	net func(*testing.T) *chainparams.Network
	// base is how many blocks b0, b1, ... to mine and accept first, and
	// step (if not zero) the generator's time step while mining them.
	base int
	step time.Duration
	// build returns the block that breaks the rule. The chain's tip when
	// it returns is the tip the block must leave unchanged.
	build func(t *testing.T, h *rulesHarness) *wire.MsgBlock
	// want and reason are the error kind and Bitcoin Core's reject reason.
	want   consensus.ErrorKind
	reason string
	// remembered: the block is marked invalid, so that submitting it again
	// fails with ErrKnownInvalid (duplicate-invalid), also after a restart.
	// Otherwise submitting it again fails as the first time.
	remembered bool
	// after, if set, runs once the rejection is checked: typically it
	// shows that the block broke only the one rule, by accepting its
	// genuine form.
	after func(t *testing.T, h *rulesHarness)
}

// ruleTests returns the rows of TestRulesRejectBlocks: for every consensus
// rule, a block that breaks exactly that rule.
func ruleTests() []ruleTest {
	return []ruleTest{
		// Header: proof of work and difficulty.
		{
			name: "high-hash: hash above the target of its bits",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				b := h.g.NextBlock("bad", nil, nil)
				chaintest.Unsolve(b)
				return b
			},
			want: ErrHighHash, reason: "high-hash",
		},
		{
			name: "high-hash: bits easier than the pow limit",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, chaintest.WithBits(0x2100ffff))
			},
			want: ErrHighHash, reason: "high-hash",
		},
		{
			name: "bad-diffbits: regtest bits other than the fixed pow limit",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, chaintest.WithBits(0x207ffffe))
			},
			want: ErrUnexpectedDifficulty, reason: "bad-diffbits",
			// A header failing its context checks is not stored (Core's
			// AcceptBlockHeader): sent again, it fails the same way.
		},
		{
			name: "bad-diffbits: ASERT bits of the anchor after fast blocks",
			net:  asertNet,
			base: 20,
			step: time.Second,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				p := &h.g.Net.Consensus
				tip := h.g.Tip()
				required := consensus.CalcNextRequiredBits(p, h.g.TipHeight(), tip.Header.Timestamp.Unix())
				if required == p.GenesisBits {
					t.Fatalf("ASERT did not retarget: required bits %08x equal the anchor's", required)
				}
				return h.g.NextBlock("bad", nil, nil, chaintest.WithBits(p.GenesisBits))
			},
			want: ErrUnexpectedDifficulty, reason: "bad-diffbits",
			// A header failing its context checks is not stored (Core's
			// AcceptBlockHeader): sent again, it fails the same way.
		},

		// Header: time and version.
		{
			name: "time-too-old: time equal to the median time past",
			base: 12,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				mtp := time.Unix(h.medianTime("b11"), 0)
				return h.g.NextBlock("bad", nil, nil, chaintest.WithTimestamp(mtp))
			},
			want: ErrTimeTooOld, reason: "time-too-old",
			// A header failing its context checks is not stored (Core's
			// AcceptBlockHeader): sent again, it fails the same way.
			after: func(t *testing.T, h *rulesHarness) {
				// One second later is fine.
				h.g.SetTip("b11")
				mtp := time.Unix(h.medianTime("b11"), 0)
				h.g.NextBlock("mtp+1", nil, nil, chaintest.WithTimestamp(mtp.Add(time.Second)))
				h.acceptTip()
			},
		},
		{
			name: "time-too-new: one second beyond the future limit, accepted once the clock moves",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				now := h.g.Tip().Header.Timestamp.Add(time.Hour)
				h.pinClock(now)
				limit := now.Add(h.g.Net.Consensus.MaxFutureBlockTime)
				return h.g.NextBlock("bad", nil, nil, chaintest.WithTimestamp(limit.Add(time.Second)))
			},
			want: ErrTimeTooNew, reason: "time-too-new",
			after: func(t *testing.T, h *rulesHarness) {
				bad := h.g.Block("bad")
				h.pinClock(bad.Header.Timestamp.Add(-h.g.Net.Consensus.MaxFutureBlockTime))
				h.acceptBlock("the same block a second later", bad)
				h.unpinClock()
			},
		},
		{
			name: "bad-version: version 1 with BIP34 active",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, chaintest.WithVersion(1))
			},
			want: ErrBadVersion, reason: "bad-version",
			// A header failing its context checks is not stored (Core's
			// AcceptBlockHeader): sent again, it fails the same way.
		},
		{
			name: "bad-version: version 2 with BIP66 active",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, chaintest.WithVersion(2))
			},
			want: ErrBadVersion, reason: "bad-version",
			// A header failing its context checks is not stored (Core's
			// AcceptBlockHeader): sent again, it fails the same way.
		},
		{
			name: "bad-version: version 3 with BIP65 active",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, chaintest.WithVersion(3))
			},
			want: ErrBadVersion, reason: "bad-version",
			// A header failing its context checks is not stored (Core's
			// AcceptBlockHeader): sent again, it fails the same way.
			after: func(t *testing.T, h *rulesHarness) {
				h.g.SetTip("b2")
				h.g.NextBlock("v4", nil, nil, chaintest.WithVersion(4))
				h.acceptTip()
			},
		},

		// Block index: parents and duplicates.
		{
			name: "prev-blk-not-found: unknown parent",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, chaintest.WithPrevBlock(chainhash.Hash{0xde, 0xad}))
			},
			want: ErrMissingParent, reason: "prev-blk-not-found",
		},
		{
			//   b2 -> badparent(bad-cb-amount) -> bad
			name: "bad-prevblk: child of a block that failed to connect",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				parent := h.g.NextBlock("badparent", nil, nil, chaintest.AddCoinbaseValue(1))
				h.submit("badparent", parent, ErrBadCoinbaseValue, "bad-cb-amount")
				return h.g.NextBlock("bad", nil, nil)
			},
			want: ErrInvalidAncestor, reason: "bad-prevblk",
		},
		{
			//   b2 -> badparent(bad-version) -> bad
			// The invalid header was not stored, so its child has no
			// known parent (Core: prev-blk-not-found).
			name: "prev-blk-not-found: child of a header that broke a header rule",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				parent := h.g.NextBlock("badparent", nil, nil, chaintest.WithVersion(1))
				h.submit("badparent", parent, ErrBadVersion, "bad-version")
				return h.g.NextBlock("bad", nil, nil)
			},
			want: ErrMissingParent, reason: "prev-blk-not-found",
		},
		{
			name: "duplicate: the tip again",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.Block("b2")
			},
			want: ErrDuplicateBlock, reason: "duplicate",
		},
		{
			name: "duplicate: a stored side-chain block again",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				h.g.SetTip("b1")
				side := h.g.NextBlock("side", nil, nil)
				if res := h.accept("side"); res.MainChain {
					t.Fatal("side block on the main chain")
				}
				return side
			},
			want: ErrDuplicateBlock, reason: "duplicate",
		},
		{
			name: "duplicate-invalid: a block that failed before",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				bad := h.g.NextBlock("bad", nil, nil, chaintest.AddCoinbaseValue(1))
				h.submit("first submission", bad, ErrBadCoinbaseValue, "bad-cb-amount")
				return bad
			},
			want: ErrKnownInvalid, reason: "duplicate-invalid", remembered: true,
		},

		// Block sanity: merkle root and its mutations.
		{
			name: "bad-txnmrklroot: coinbase altered under a valid header",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				bad := chaintest.CopyBlock(h.g.NextBlock("genuine", nil, nil))
				sig := bad.Transactions[0].TxIn[0].SignatureScript
				sig[len(sig)-1] ^= 1
				return bad
			},
			want: ErrBadMerkleRoot, reason: "bad-txnmrklroot",
			after: acceptGenuine,
		},
		{
			name: "bad-txnmrklroot: transaction dropped under a valid header",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				bad := chaintest.CopyBlock(h.g.NextBlock("genuine", &out, nil))
				bad.Transactions = bad.Transactions[:1]
				return bad
			},
			want: ErrBadMerkleRoot, reason: "bad-txnmrklroot",
			after: acceptGenuine,
		},
		{
			// [cb t1 t2] -> [cb t1 t2 t2]: the same root.
			name: "bad-txns-duplicate: last transaction repeated (CVE-2012-2459)",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out0, out1 := h.g.CoinbaseOut("b0"), h.g.CoinbaseOut("b1")
				g := h.g.NextBlock("genuine", &out0, []*wire.MsgTx{chaintest.CreateSpendTx(out1, 1)})
				bad := chaintest.DuplicateTail(g, 1)
				if bad.Header.MerkleRoot != mustMerkleRoot(bad) {
					t.Fatal("mutated block has another merkle root")
				}
				return bad
			},
			want: ErrDuplicateTx, reason: "bad-txns-duplicate",
			after: acceptGenuine,
		},
		{
			// [cb t1 .. t5] -> [cb t1 .. t5 t4 t5]: the pair (t4 t5) is
			// what the second level of the tree pads with.
			name: "bad-txns-duplicate: last two transactions repeated (second level)",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				var txs []*wire.MsgTx
				for i := 0; i < 5; i++ {
					txs = append(txs, chaintest.CreateSpendTx(h.g.CoinbaseOut("b"+strconv.Itoa(i)), 1))
				}
				g := h.g.NextBlock("genuine", nil, txs)
				bad := chaintest.DuplicateTail(g, 2)
				if bad.Header.MerkleRoot != mustMerkleRoot(bad) {
					t.Fatal("mutated block has another merkle root")
				}
				return bad
			},
			want: ErrDuplicateTx, reason: "bad-txns-duplicate",
			after: acceptGenuine,
		},

		// Block sanity: size and coinbase position.
		{
			name: "bad-blk-length: no transactions",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, func(b *wire.MsgBlock) { b.Transactions = nil })
			},
			want: ErrBlockLength, reason: "bad-blk-length", remembered: true,
		},
		{
			name: "bad-blk-length: size without witness above 1 MB",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				tx := chaintest.CreateSpendTx(out, 1)
				big := make([]byte, consensus.MaxBlockWeight/consensus.WitnessScaleFactor)
				big[0] = txscript.OP_RETURN
				tx.AddTxOut(&wire.TxOut{PkScript: big})
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx})
			},
			want: ErrBlockLength, reason: "bad-blk-length", remembered: true,
		},
		{
			name: "bad-cb-missing: first transaction not a coinbase",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				return h.g.NextBlock("bad", &out, nil, func(b *wire.MsgBlock) {
					b.Transactions = b.Transactions[1:]
				})
			},
			want: ErrFirstTxNotCoinbase, reason: "bad-cb-missing", remembered: true,
		},
		{
			name: "bad-cb-multiple: second coinbase",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				cb2 := h.g.CreateCoinbase(h.g.TipHeight()+1, 0, chaintest.OpTrueScript)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{cb2})
			},
			want: ErrMultipleCoinbases, reason: "bad-cb-multiple", remembered: true,
		},

		// Block sanity: every transaction's context-free checks.
		{
			name: "bad-txns-vin-empty",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				tx := wire.NewMsgTx(2)
				tx.AddTxOut(&wire.TxOut{Value: 0, PkScript: chaintest.OpTrueScript})
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx})
			},
			want: ErrNoTxInputs, reason: "bad-txns-vin-empty", remembered: true,
		},
		{
			name: "bad-txns-vout-empty",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				tx := chaintest.CreateSpendTx(out, 1)
				tx.TxOut = nil
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx}, subsidyOnly(h))
			},
			want: ErrNoTxOutputs, reason: "bad-txns-vout-empty", remembered: true,
		},
		{
			name: "bad-txns-vout-negative",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				tx := chaintest.CreateTx([]chaintest.SpendableOut{out}, []int64{-1, out.Amount - 1},
					chaintest.OpTrueScript)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx})
			},
			want: ErrBadTxOutValue, reason: "bad-txns-vout-negative", remembered: true,
		},
		{
			name: "bad-txns-vout-toolarge",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				tx := chaintest.CreateTx([]chaintest.SpendableOut{out}, []int64{consensus.MaxMoney + 1},
					chaintest.OpTrueScript)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx}, subsidyOnly(h))
			},
			want: ErrTxOutValueTooLarge, reason: "bad-txns-vout-toolarge", remembered: true,
		},
		{
			name: "bad-txns-txouttotal-toolarge",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				tx := chaintest.CreateTx([]chaintest.SpendableOut{out},
					[]int64{consensus.MaxMoney, 1}, chaintest.OpTrueScript)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx}, subsidyOnly(h))
			},
			want: ErrTxOutTotalTooLarge, reason: "bad-txns-txouttotal-toolarge", remembered: true,
		},
		{
			name: "bad-txns-inputs-duplicate",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				tx := chaintest.CreateTx([]chaintest.SpendableOut{out, out}, []int64{out.Amount - 1},
					chaintest.OpTrueScript)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx}, subsidyOnly(h))
			},
			want: ErrDuplicateTxInputs, reason: "bad-txns-inputs-duplicate", remembered: true,
		},
		{
			name: "bad-txns-prevout-null: null outpoint in a transaction of two inputs",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				null := chaintest.SpendableOut{OutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}}
				tx := chaintest.CreateTx([]chaintest.SpendableOut{out, null}, []int64{out.Amount - 1},
					chaintest.OpTrueScript)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx})
			},
			want: ErrBadTxInput, reason: "bad-txns-prevout-null", remembered: true,
		},
		{
			name: "bad-cb-length: scriptSig of one byte",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				// Height 4 pushes as the single byte OP_4: a correct
				// BIP34 prefix, but too short.
				return h.g.NextBlock("bad", nil, nil, chaintest.WithCoinbaseScript([]byte{txscript.OP_4}))
			},
			want: ErrBadCoinbaseScriptLen, reason: "bad-cb-length", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				h.g.SetTip("b2")
				h.g.NextBlock("two-bytes", nil, nil, chaintest.WithCoinbaseScript([]byte{txscript.OP_4, 0}))
				h.acceptTip()
			},
		},
		{
			name: "bad-cb-length: scriptSig of 101 bytes",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				sig := append([]byte{txscript.OP_4}, make([]byte, 100)...)
				return h.g.NextBlock("bad", nil, nil, chaintest.WithCoinbaseScript(sig))
			},
			want: ErrBadCoinbaseScriptLen, reason: "bad-cb-length", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				h.g.SetTip("b2")
				sig := append([]byte{txscript.OP_4}, make([]byte, 99)...)
				h.g.NextBlock("hundred-bytes", nil, nil, chaintest.WithCoinbaseScript(sig))
				h.acceptTip()
			},
		},
		{
			name: "bad-blk-sigops: legacy sigops of outputs above the limit",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{checkSigTx(out, consensus.MaxBlockSigOpsCost/4+1)})
			},
			want: ErrTooManySigOps, reason: "bad-blk-sigops", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				// Exactly at the limit is fine.
				out := h.g.CoinbaseOut("b0")
				h.g.SetTip(h.chainTipName())
				h.g.NextBlock("at-limit", nil, []*wire.MsgTx{checkSigTx(out, consensus.MaxBlockSigOpsCost/4)})
				h.acceptTip()
			},
		},

		// Block context: BIP34 height, finality, witness, weight.
		{
			name: "bad-cb-height: scriptSig starts with the next height",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				sig := append(consensus.CoinbaseHeightPrefix(h.g.TipHeight()+2), 0, 0)
				return h.g.NextBlock("bad", nil, nil, chaintest.WithCoinbaseScript(sig))
			},
			want: ErrBadCoinbaseHeight, reason: "bad-cb-height", remembered: true,
		},
		{
			name: "bad-cb-height: height 4 pushed as one data byte instead of OP_4",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, chaintest.WithCoinbaseScript([]byte{0x01, 0x04, 0x00}))
			},
			want: ErrBadCoinbaseHeight, reason: "bad-cb-height", remembered: true,
		},
		{
			name: "bad-txns-nonfinal: height lock time equal to the block height",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{lockTimeTx(h, uint32(h.g.TipHeight()+1))})
			},
			want: ErrUnfinalizedTx, reason: "bad-txns-nonfinal", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				h.g.SetTip(h.chainTipName())
				h.g.NextBlock("final", nil, []*wire.MsgTx{lockTimeTx(h, uint32(h.g.TipHeight()))})
				h.acceptTip()
			},
		},
		{
			// The block's own time is after the lock time: only the
			// median time past (BIP113) makes the transaction non-final.
			name: "bad-txns-nonfinal: time lock time equal to the median time past",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				mtp := h.medianTime(h.g.TipName())
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{lockTimeTx(h, uint32(mtp))})
			},
			want: ErrUnfinalizedTx, reason: "bad-txns-nonfinal", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				h.g.SetTip(h.chainTipName())
				mtp := h.medianTime(h.g.TipName())
				h.g.NextBlock("final", nil, []*wire.MsgTx{lockTimeTx(h, uint32(mtp-1))})
				h.acceptTip()
			},
		},
		{
			name: "bad-witness-nonce-size: coinbase witness of 31 bytes",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.fundP2WPKH("fund", "b0")
				bad := chaintest.CopyBlock(h.g.NextBlock("genuine", nil, []*wire.MsgTx{h.spendP2WPKH(out)}))
				bad.Transactions[0].TxIn[0].Witness = wire.TxWitness{make([]byte, 31)}
				return bad
			},
			want: ErrBadWitnessNonceSize, reason: "bad-witness-nonce-size",
			after: acceptGenuine,
		},
		{
			name: "bad-witness-nonce-size: coinbase witness of two items",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.fundP2WPKH("fund", "b0")
				bad := chaintest.CopyBlock(h.g.NextBlock("genuine", nil, []*wire.MsgTx{h.spendP2WPKH(out)}))
				bad.Transactions[0].TxIn[0].Witness = wire.TxWitness{make([]byte, 32), {}}
				return bad
			},
			want: ErrBadWitnessNonceSize, reason: "bad-witness-nonce-size",
			after: acceptGenuine,
		},
		{
			name: "bad-witness-merkle-match: signature altered under a valid header",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.fundP2WPKH("fund", "b0")
				bad := chaintest.CopyBlock(h.g.NextBlock("genuine", nil, []*wire.MsgTx{h.spendP2WPKH(out)}))
				bad.Transactions[1].TxIn[0].Witness[0][10] ^= 1
				return bad
			},
			want: ErrBadWitnessCommitment, reason: "bad-witness-merkle-match",
			after: acceptGenuine,
		},
		{
			name: "unexpected-witness: witness data without a commitment",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				bad := chaintest.CopyBlock(h.g.NextBlock("genuine", &out, nil))
				bad.Transactions[1].TxIn[0].Witness = wire.TxWitness{{0x01}}
				return bad
			},
			want: ErrUnexpectedWitness, reason: "unexpected-witness",
			after: acceptGenuine,
		},
		{
			name: "unexpected-witness: witness data before segwit activates",
			net:  lateSegwitNet,
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.fundP2WPKH("fund", "b0")
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{h.spendP2WPKH(out)})
			},
			want: ErrUnexpectedWitness, reason: "unexpected-witness",
			after: func(t *testing.T, h *rulesHarness) {
				// Before segwit a P2WPKH output is anyone-can-spend:
				// the same block without its witnesses is valid.
				stripped := chaintest.CopyBlock(h.g.Block("bad"))
				for _, tx := range stripped.Transactions {
					for _, in := range tx.TxIn {
						in.Witness = nil
					}
				}
				h.acceptBlock("witness-stripped block", stripped)
			},
		},
		{
			name: "bad-blk-weight: witness data above 4M weight units",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				outs := h.fund("fund", h.g.CoinbaseOut("b0"), splitValues(h.g.CoinbaseOut("b0").Amount, 10_000, 20),
					chaintest.P2WSHScript(dropScript))
				bad := h.g.NextBlock("bad", nil, []*wire.MsgTx{bulkyWitnessTx(outs)})
				if w := consensus.BlockWeight(bad); w <= consensus.MaxBlockWeight {
					t.Fatalf("block weight %d is within the limit", w)
				}
				return bad
			},
			want: ErrBlockWeightTooHigh, reason: "bad-blk-weight", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				// The same witnesses on 14 of the inputs fit, and
				// their scripts pass.
				outs := chaintest.TxOuts(h.g.Block("fund").Transactions[1])
				h.g.SetTip("fund")
				h.g.NextBlock("heavy", nil, []*wire.MsgTx{bulkyWitnessTx(outs[:14])})
				h.acceptTip()
			},
		},

		// Connect: the UTXO set, values, locks and scripts.
		{
			name: "bad-txns-inputs-missingorspent: input does not exist",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				ghost := chaintest.SpendableOut{OutPoint: wire.OutPoint{Hash: chainhash.Hash{0x01}}, Amount: consensus.CoinValue}
				return h.g.NextBlock("bad", &ghost, nil, subsidyOnly(h))
			},
			want: ErrMissingOrSpentInput, reason: "bad-txns-inputs-missingorspent", remembered: true,
		},
		{
			//   b109 -> spend1(spends b0's coinbase) -> bad(spends it again)
			name: "bad-txns-inputs-missingorspent: input spent by an earlier block",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				h.g.NextBlock("spend1", &out, nil)
				h.acceptTip()
				return h.g.NextBlock("bad", &out, nil)
			},
			want: ErrMissingOrSpentInput, reason: "bad-txns-inputs-missingorspent", remembered: true,
		},
		{
			name: "bad-txns-inputs-missingorspent: input spent twice in one block",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				return h.g.NextBlock("bad", &out, []*wire.MsgTx{chaintest.CreateSpendTx(out, 2)})
			},
			want: ErrMissingOrSpentInput, reason: "bad-txns-inputs-missingorspent", remembered: true,
		},
		{
			name: "bad-txns-inputs-missingorspent: input created later in the same block",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				parent := chaintest.CreateSpendTx(h.g.CoinbaseOut("b0"), 1)
				child := chaintest.CreateSpendTx(chaintest.TxOuts(parent)[0], 1)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{child, parent}, subsidyOnly(h))
			},
			want: ErrMissingOrSpentInput, reason: "bad-txns-inputs-missingorspent", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				// In the other order the chain is valid.
				parent := chaintest.CreateSpendTx(h.g.CoinbaseOut("b0"), 1)
				child := chaintest.CreateSpendTx(chaintest.TxOuts(parent)[0], 1)
				h.g.SetTip(h.chainTipName())
				h.g.NextBlock("ordered", nil, []*wire.MsgTx{parent, child})
				h.acceptTip()
			},
		},
		{
			// b11's coinbase is at height 12; the block is at 111.
			name: "bad-txns-premature-spend-of-coinbase: 99 confirmations",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b11")
				return h.g.NextBlock("bad", &out, nil)
			},
			want: ErrImmatureSpend, reason: "bad-txns-premature-spend-of-coinbase", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				h.g.SetTip(h.chainTipName())
				h.mine("m", 1)
				out := h.g.CoinbaseOut("b11")
				h.g.NextBlock("mature", &out, nil)
				h.acceptTip()
			},
		},
		{
			name: "bad-txns-in-belowout: outputs one unit above the inputs",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				tx := chaintest.CreateSpendTx(h.g.CoinbaseOut("b0"), -1)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx}, subsidyOnly(h))
			},
			want: ErrSpendTooHigh, reason: "bad-txns-in-belowout", remembered: true,
		},
		{
			name: "bad-txns-inputvalues-outofrange: inputs sum above MaxMoney",
			net:  richNet,
			base: 2,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				outs := []chaintest.SpendableOut{h.g.CoinbaseOut("b0"), h.g.CoinbaseOut("b1")}
				tx := chaintest.CreateTx(outs, []int64{consensus.MaxMoney}, chaintest.OpTrueScript)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx}, subsidyOnly(h))
			},
			want: ErrInputValuesOutOfRange, reason: "bad-txns-inputvalues-outofrange", remembered: true,
		},
		{
			name: "bad-txns-accumulated-fee-outofrange: block fees above MaxMoney",
			net:  richNet,
			base: 2,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				var txs []*wire.MsgTx
				for _, name := range []string{"b0", "b1"} {
					txs = append(txs, chaintest.CreateTx([]chaintest.SpendableOut{h.g.CoinbaseOut(name)},
						[]int64{0}, chaintest.OpTrueScript))
				}
				return h.g.NextBlock("bad", nil, txs, subsidyOnly(h))
			},
			want: ErrAccumulatedFeeOutOfRange, reason: "bad-txns-accumulated-fee-outofrange", remembered: true,
		},
		{
			//   genesis -> a(coinbase C) -> bad(coinbase C again, while a's is unspent)
			name: "bad-txns-BIP30: coinbase repeats an unspent earlier one",
			net:  lateBIP34Net,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				h.g.NextBlock("a", nil, nil, chaintest.WithCoinbaseScript(bip30Script))
				h.acceptTip()
				bad := h.g.NextBlock("bad", nil, nil, chaintest.WithCoinbaseScript(bip30Script))
				if bad.Transactions[0].TxHash() != h.g.Block("a").Transactions[0].TxHash() {
					t.Fatal("the coinbases differ")
				}
				return bad
			},
			want: ErrOverwriteTx, reason: "bad-txns-BIP30", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				// Once the first one is spent, the txid may repeat.
				h.g.SetTip("a")
				h.mine("m", int(h.g.Net.Consensus.CoinbaseMaturity)-1)
				out := h.g.CoinbaseOut("a")
				h.g.NextBlock("spend-a", &out, nil)
				h.acceptTip()
				h.g.NextBlock("again", nil, nil, chaintest.WithCoinbaseScript(bip30Script), subsidyOnly(h))
				h.acceptTip()
			},
		},
		{
			// b6's coinbase is at height 7; a lock of 105 blocks opens at
			// height 7+105 = 112, one above this block.
			name: "bad-txns-nonfinal: BIP68 height lock one block short",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{relativeLockTx(h.g.CoinbaseOut("b6"), 2, 105)})
			},
			want: ErrSequenceLockNotMet, reason: "bad-txns-nonfinal", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				h.g.SetTip(h.chainTipName())
				h.mine("m", 1)
				h.g.NextBlock("unlocked", nil, []*wire.MsgTx{relativeLockTx(h.g.CoinbaseOut("b6"), 2, 105)})
				h.acceptTip()
			},
		},
		{
			// Blocks 512 s apart: b10's coinbase (height 11) locked for
			// n*512 s opens once the median time past moved n blocks on
			// from that of its parent b9.
			name: "bad-txns-nonfinal: BIP68 time lock 512 seconds short",
			base: matureBase,
			step: 512 * time.Second,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				n := timeLockUnits(h, "b109", "b9") + 1
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{
					relativeLockTx(h.g.CoinbaseOut("b10"), 2, consensus.SequenceLockTimeIsSeconds|n)})
			},
			want: ErrSequenceLockNotMet, reason: "bad-txns-nonfinal", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				n := timeLockUnits(h, "b109", "b9") + 1
				h.g.SetTip(h.chainTipName())
				h.mine("m", 1)
				h.g.NextBlock("unlocked", nil, []*wire.MsgTx{
					relativeLockTx(h.g.CoinbaseOut("b10"), 2, consensus.SequenceLockTimeIsSeconds|n)})
				h.acceptTip()
			},
		},
		{
			// Bitcoin Core reads the version as unsigned: 0xffffffff is
			// >= 2 and enforces BIP68.
			name: "bad-txns-nonfinal: BIP68 height lock of a transaction with version 0xffffffff",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{relativeLockTx(h.g.CoinbaseOut("b6"), -1, 105)})
			},
			want: ErrSequenceLockNotMet, reason: "bad-txns-nonfinal", remembered: true,
		},
		{
			name: "bad-blk-sigops: P2SH sigops counted when the block connects",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				outs := h.fund("fund", out, splitValues(out.Amount, 1000, 6), chaintest.P2SHScript(sigOpsRedeem))
				// 6 inputs of 199*20 sigops at 4 each: 95,520.
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{p2shSpendTx(outs)})
			},
			want: ErrTooManySigOps, reason: "bad-blk-sigops", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				// 5 of them, 79,600, are within the limit and pass.
				outs := chaintest.TxOuts(h.g.Block("fund").Transactions[1])
				h.g.SetTip("fund")
				h.g.NextBlock("five", nil, []*wire.MsgTx{p2shSpendTx(outs[:5])})
				h.acceptTip()
			},
		},
		{
			name: "bad-blk-sigops: witness sigops counted when the block connects",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				outs := h.fund("fund", out, splitValues(out.Amount, 1000, 21), chaintest.P2WSHScript(sigOpsRedeem))
				// 21 inputs of 199*20 witness sigops at 1 each: 83,580.
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{p2wshSigOpsTx(outs)})
			},
			want: ErrTooManySigOps, reason: "bad-blk-sigops", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				// 20 of them, 79,600, are within the limit and pass.
				outs := chaintest.TxOuts(h.g.Block("fund").Transactions[1])
				h.g.SetTip("fund")
				h.g.NextBlock("twenty", nil, []*wire.MsgTx{p2wshSigOpsTx(outs[:20])})
				h.acceptTip()
			},
		},
		{
			name: "bad-cb-amount: coinbase claims one unit above the subsidy",
			base: 3,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				return h.g.NextBlock("bad", nil, nil, chaintest.AddCoinbaseValue(1))
			},
			want: ErrBadCoinbaseValue, reason: "bad-cb-amount", remembered: true,
		},
		{
			name: "bad-cb-amount: coinbase claims one unit above subsidy plus fees",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				tx := chaintest.CreateSpendTx(h.g.CoinbaseOut("b0"), 1000)
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx}, chaintest.AddCoinbaseValue(1))
			},
			want: ErrBadCoinbaseValue, reason: "bad-cb-amount", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				// Claiming exactly subsidy plus fees is fine.
				h.g.SetTip(h.chainTipName())
				tx := chaintest.CreateSpendTx(h.g.CoinbaseOut("b0"), 1000)
				b := h.g.NextBlock("fees", nil, []*wire.MsgTx{tx})
				want := consensus.CalcBlockSubsidy(h.g.TipHeight(), &h.g.Net.Consensus) + 1000
				if got := b.Transactions[0].TxOut[0].Value; got != want {
					t.Fatalf("coinbase claims %d, want %d", got, want)
				}
				h.acceptTip()
			},
		},
		{
			name: "mandatory-script-verify-flag-failed: script evaluates to false",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				locked := h.fund("fund", out, []int64{out.Amount - 1000}, []byte{txscript.OP_2, txscript.OP_EQUAL})[0]
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{scriptSigSpend(locked, txscript.OP_3)})
			},
			want: ErrScriptValidation, reason: "mandatory-script-verify-flag-failed", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				locked := chaintest.TxOuts(h.g.Block("fund").Transactions[1])[0]
				h.g.SetTip("fund")
				h.g.NextBlock("unlocked", nil, []*wire.MsgTx{scriptSigSpend(locked, txscript.OP_2)})
				h.acceptTip()
			},
		},
		{
			name: "mandatory-script-verify-flag-failed: P2WPKH with a bad signature",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.fundP2WPKH("fund", "b0")
				tx := h.spendP2WPKH(out)
				tx.TxIn[0].Witness[0][10] ^= 1 // committed: a bad signature, not a mutation
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{tx})
			},
			want: ErrScriptValidation, reason: "mandatory-script-verify-flag-failed", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				out := chaintest.TxOuts(h.g.Block("fund").Transactions[1])[0]
				out.Key = rulesKey
				h.g.SetTip("fund")
				h.g.NextBlock("signed", nil, []*wire.MsgTx{h.spendP2WPKH(out)})
				h.acceptTip()
			},
		},
		{
			name: "mandatory-script-verify-flag-failed: CHECKLOCKTIMEVERIFY above the lock time (BIP65)",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				locked := h.fund("fund", out, []int64{out.Amount - 1000}, cltvScript)[0]
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{cltvSpend(locked, 99)})
			},
			want: ErrScriptValidation, reason: "mandatory-script-verify-flag-failed", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				locked := chaintest.TxOuts(h.g.Block("fund").Transactions[1])[0]
				h.g.SetTip("fund")
				h.g.NextBlock("unlocked", nil, []*wire.MsgTx{cltvSpend(locked, 100)})
				h.acceptTip()
			},
		},
		{
			name: "mandatory-script-verify-flag-failed: CHECKSEQUENCEVERIFY with BIP68 disabled (BIP112)",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				locked := h.fund("fund", out, []int64{out.Amount - 1000}, csvScript)[0]
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{relativeLockTx(locked, 2, consensus.SequenceLockTimeDisabled|1)})
			},
			want: ErrScriptValidation, reason: "mandatory-script-verify-flag-failed", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				locked := chaintest.TxOuts(h.g.Block("fund").Transactions[1])[0]
				h.g.SetTip("fund")
				h.g.NextBlock("unlocked", nil, []*wire.MsgTx{relativeLockTx(locked, 2, 1)})
				h.acceptTip()
			},
		},
		{
			name: "mandatory-script-verify-flag-failed: CHECKMULTISIG dummy not empty (BIP147)",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				locked := h.fund("fund", out, []int64{out.Amount - 1000}, multisigScript)[0]
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{multisigSpend(t, locked, txscript.OP_1)})
			},
			want: ErrScriptValidation, reason: "mandatory-script-verify-flag-failed", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				locked := chaintest.TxOuts(h.g.Block("fund").Transactions[1])[0]
				h.g.SetTip("fund")
				h.g.NextBlock("signed", nil, []*wire.MsgTx{multisigSpend(t, locked, txscript.OP_0)})
				h.acceptTip()
			},
		},
		{
			name: "mandatory-script-verify-flag-failed: signature not strict DER (BIP66)",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				locked := h.fund("fund", out, []int64{out.Amount - 1000}, p2pkScript)[0]
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{p2pkSpend(t, locked, true)})
			},
			want: ErrScriptValidation, reason: "mandatory-script-verify-flag-failed", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				locked := chaintest.TxOuts(h.g.Block("fund").Transactions[1])[0]
				h.g.SetTip("fund")
				h.g.NextBlock("signed", nil, []*wire.MsgTx{p2pkSpend(t, locked, false)})
				h.acceptTip()
			},
		},
		{
			name: "mandatory-script-verify-flag-failed: taproot key path with a bad signature (BIP341)",
			base: matureBase,
			build: func(t *testing.T, h *rulesHarness) *wire.MsgBlock {
				out := h.g.CoinbaseOut("b0")
				locked := h.fund("fund", out, []int64{out.Amount - 1000}, p2trScript(t))[0]
				return h.g.NextBlock("bad", nil, []*wire.MsgTx{taprootSpend(t, locked, true)})
			},
			want: ErrScriptValidation, reason: "mandatory-script-verify-flag-failed", remembered: true,
			after: func(t *testing.T, h *rulesHarness) {
				locked := chaintest.TxOuts(h.g.Block("fund").Transactions[1])[0]
				h.g.SetTip("fund")
				h.g.NextBlock("signed", nil, []*wire.MsgTx{taprootSpend(t, locked, false)})
				h.acceptTip()
			},
		},
	}
}

// Scripts and spends of the soft-fork rows. Each spends to OP_TRUE with a
// fee of 1000.
var (
	// cltvScript needs a lock time of at least 100.
	cltvScript = mustScript(txscript.NewScriptBuilder().AddInt64(100).
			AddOp(txscript.OP_CHECKLOCKTIMEVERIFY).AddOp(txscript.OP_DROP).AddOp(txscript.OP_TRUE))
	// csvScript needs a relative lock of at least one block.
	csvScript = mustScript(txscript.NewScriptBuilder().AddInt64(1).
			AddOp(txscript.OP_CHECKSEQUENCEVERIFY).AddOp(txscript.OP_DROP).AddOp(txscript.OP_TRUE))
	// multisigScript is a bare 1-of-1 multisig of rulesKey.
	multisigScript = mustScript(txscript.NewScriptBuilder().AddOp(txscript.OP_1).
			AddData(rulesKey.PubKey().SerializeCompressed()).AddOp(txscript.OP_1).
			AddOp(txscript.OP_CHECKMULTISIG))
	// p2pkScript pays to rulesKey.
	p2pkScript = mustScript(txscript.NewScriptBuilder().
			AddData(rulesKey.PubKey().SerializeCompressed()).AddOp(txscript.OP_CHECKSIG))
)

// mustScript returns the builder's script; the scripts above are valid.
func mustScript(b *txscript.ScriptBuilder) []byte {
	s, err := b.Script()
	if err != nil {
		panic(err)
	}
	return s
}

// cltvSpend spends a cltvScript output with the given lock time.
func cltvSpend(out chaintest.SpendableOut, lockTime uint32) *wire.MsgTx {
	tx := chaintest.CreateSpendTx(out, 1000)
	tx.LockTime = lockTime
	tx.TxIn[0].Sequence = wire.MaxTxInSequenceNum - 1
	return tx
}

// legacySig returns rulesKey's SIGHASH_ALL signature of input 0 of tx.
func legacySig(t *testing.T, tx *wire.MsgTx, pkScript []byte) []byte {
	t.Helper()
	sig, err := txscript.RawTxInSignature(tx, 0, pkScript, txscript.SigHashAll, rulesKey)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// multisigSpend spends a multisigScript output with the given dummy opcode.
func multisigSpend(t *testing.T, out chaintest.SpendableOut, dummy byte) *wire.MsgTx {
	t.Helper()
	tx := chaintest.CreateSpendTx(out, 1000)
	sig := legacySig(t, tx, out.PkScript)
	tx.TxIn[0].SignatureScript = mustScript(txscript.NewScriptBuilder().AddOp(dummy).AddData(sig))
	return tx
}

// p2pkSpend spends a p2pkScript output; with padded, the signature's R gets
// a superfluous leading zero byte, which BER allows and strict DER does not.
func p2pkSpend(t *testing.T, out chaintest.SpendableOut, padded bool) *wire.MsgTx {
	t.Helper()
	tx := chaintest.CreateSpendTx(out, 1000)
	sig := legacySig(t, tx, out.PkScript)
	if padded {
		// 0x30 len 0x02 rlen R 0x02 slen S hashtype
		rLen := int(sig[3])
		p := []byte{0x30, sig[1] + 1, 0x02, sig[3] + 1, 0x00}
		p = append(p, sig[4:4+rLen]...)
		sig = append(p, sig[4+rLen:]...)
	}
	tx.TxIn[0].SignatureScript = mustScript(txscript.NewScriptBuilder().AddData(sig))
	return tx
}

// p2trScript returns the BIP86 taproot output script of rulesKey.
func p2trScript(t *testing.T) []byte {
	t.Helper()
	s, err := txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(rulesKey.PubKey()))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// taprootSpend spends a p2trScript output by the key path; with bad, the
// Schnorr signature is altered.
func taprootSpend(t *testing.T, out chaintest.SpendableOut, bad bool) *wire.MsgTx {
	t.Helper()
	tx := chaintest.CreateSpendTx(out, 1000)
	fetcher := txscript.NewCannedPrevOutputFetcher(out.PkScript, out.Amount)
	w, err := txscript.TaprootWitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 0, out.Amount,
		out.PkScript, txscript.SigHashDefault, rulesKey)
	if err != nil {
		t.Fatal(err)
	}
	if bad {
		w[0][10] ^= 1
	}
	tx.TxIn[0].Witness = w
	return tx
}

// acceptGenuine is the after step of mutation rows: the block named
// "genuine", whose header the mutated block shared, is accepted.
func acceptGenuine(t *testing.T, h *rulesHarness) {
	t.Helper()
	h.acceptBlock("genuine block after its mutation", h.g.Block("genuine"))
}

// mustMerkleRoot returns the merkle root of block's transactions.
func mustMerkleRoot(block *wire.MsgBlock) chainhash.Hash {
	root, _ := consensus.CalcMerkleRoot(consensus.TxHashes(block))
	return root
}

// checkSigTx spends out to OP_TRUE plus a zero-value output of n
// OP_CHECKSIGs: n legacy sigops.
func checkSigTx(out chaintest.SpendableOut, n int) *wire.MsgTx {
	tx := chaintest.CreateSpendTx(out, 1)
	tx.AddTxOut(&wire.TxOut{PkScript: bytes.Repeat([]byte{txscript.OP_CHECKSIG}, n)})
	return tx
}

// lockTimeTx spends b0's coinbase with the given lock time and a non-final
// sequence number (that does not encode a BIP68 lock).
func lockTimeTx(h *rulesHarness, lockTime uint32) *wire.MsgTx {
	tx := chaintest.CreateSpendTx(h.g.CoinbaseOut("b0"), 1)
	tx.LockTime = lockTime
	tx.TxIn[0].Sequence = wire.MaxTxInSequenceNum - 1
	return tx
}

// relativeLockTx spends out in a transaction of the given version whose
// input has sequence number seq.
func relativeLockTx(out chaintest.SpendableOut, version int32, seq uint32) *wire.MsgTx {
	tx := chaintest.CreateSpendTx(out, 1)
	tx.Version = version
	tx.TxIn[0].Sequence = seq
	return tx
}

// timeLockUnits returns the largest BIP68 time lock, in units of 512 s, that
// an output created in the child of coinParent satisfies in a child of tip.
func timeLockUnits(h *rulesHarness, tip, coinParent string) uint32 {
	h.t.Helper()
	d := h.medianTime(tip) - h.medianTime(coinParent)
	return uint32(d >> consensus.SequenceLockTimeGranularity)
}

// scriptSigSpend spends out to OP_TRUE with a scriptSig of the given opcode.
func scriptSigSpend(out chaintest.SpendableOut, op byte) *wire.MsgTx {
	tx := chaintest.CreateSpendTx(out, 1000)
	tx.TxIn[0].SignatureScript = []byte{op}
	return tx
}

// bip30Script is the coinbase scriptSig the BIP30 row repeats.
var bip30Script = []byte{0x02, 0xb1, 0x30}

// sigOpsRedeem is a P2SH redeem (or P2WSH witness) script that passes (its
// body is never executed) and counts 199*20 precise sigops within the
// 201-opcode limit.
var sigOpsRedeem = func() []byte {
	s := []byte{txscript.OP_0, txscript.OP_IF}
	s = append(s, bytes.Repeat([]byte{txscript.OP_CHECKMULTISIG}, 199)...)
	return append(s, txscript.OP_ENDIF, txscript.OP_1)
}()

// p2shSpendTx spends P2SH outputs of sigOpsRedeem to OP_TRUE.
func p2shSpendTx(outs []chaintest.SpendableOut) *wire.MsgTx {
	tx := chaintest.CreateTx(outs, []int64{sumAmounts(outs) - 1000}, chaintest.OpTrueScript)
	push, _ := txscript.NewScriptBuilder().AddData(sigOpsRedeem).Script()
	for _, in := range tx.TxIn {
		in.SignatureScript = push
	}
	return tx
}

// p2wshSigOpsTx spends P2WSH outputs of sigOpsRedeem to OP_TRUE.
func p2wshSigOpsTx(outs []chaintest.SpendableOut) *wire.MsgTx {
	tx := chaintest.CreateTx(outs, []int64{sumAmounts(outs) - 1000}, chaintest.OpTrueScript)
	for _, in := range tx.TxIn {
		in.Witness = wire.TxWitness{sigOpsRedeem}
	}
	return tx
}

// dropScript is a witness script that drops 400 stack items and succeeds.
var dropScript = append(bytes.Repeat([]byte{txscript.OP_2DROP}, 200), txscript.OP_TRUE)

// bulkyWitnessTx spends P2WSH outputs of dropScript to OP_TRUE, each input
// with 400 witness items of 520 bytes: about 209,000 weight units an input.
func bulkyWitnessTx(outs []chaintest.SpendableOut) *wire.MsgTx {
	tx := chaintest.CreateTx(outs, []int64{sumAmounts(outs) - 1000}, chaintest.OpTrueScript)
	item := make([]byte, txscript.MaxScriptElementSize)
	for _, in := range tx.TxIn {
		w := make(wire.TxWitness, 0, 401)
		for i := 0; i < 400; i++ {
			w = append(w, item)
		}
		in.Witness = append(w, dropScript)
	}
	return tx
}

// TestRulesRejectBlocks ensures that for every consensus rule a block that
// breaks it is rejected with the rule's error kind and Bitcoin Core's reject
// reason; that the block is remembered as invalid exactly when it should be
// (not after a failure a mutated body, a missing parent or the clock could
// cause); that the tip does not move; and that the valid chain still
// extends afterwards. Most rows follow this shape:
//
//	genesis -> b0 -> ... -> bN -> [after's blocks] -> extend
//	                          \-> bad (rejected)
//
// Mutation rows submit a copy of a valid block "genuine" with the same
// header and an altered body, then the genuine block:
//
//	... -> bN -> genuine -> extend
//	         \-> genuine' (same hash, mutated body: rejected, not remembered)
func TestRulesRejectBlocks(t *testing.T) {
	t.Parallel()
	for _, test := range ruleTests() {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			net := chainparams.Regtest()
			if test.net != nil {
				net = test.net(t)
			}
			h := newRulesHarness(t, net)
			if test.step != 0 {
				h.g.TimeStep = test.step
			}
			h.mine("b", test.base)
			bad := test.build(t, h)
			tip := h.chain.BestSnapshot()
			hash := bad.BlockHash()

			h.submit("first submission", bad, test.want, test.reason)

			again, againReason := test.want, test.reason
			if test.remembered {
				again, againReason = ErrKnownInvalid, "duplicate-invalid"
			}
			h.submit("second submission", bad, again, againReason)
			info, err := h.chain.BlockInfo(hash)
			if invalid := err == nil && info.Invalid; invalid != test.remembered {
				t.Fatalf("block marked invalid: %v, want %v", invalid, test.remembered)
			}
			if got := h.chain.BestSnapshot(); got.Hash != tip.Hash {
				t.Fatalf("tip moved from %v (height %d) to %v (height %d)", tip.Hash, tip.Height, got.Hash, got.Height)
			}

			h.restart()
			h.submit("submission after a restart", bad, again, againReason)
			if got := h.chain.BestSnapshot(); got.Hash != tip.Hash {
				t.Fatalf("tip moved from %v to %v across a restart", tip.Hash, got.Hash)
			}

			if test.after != nil {
				test.after(t, h)
			}
			h.g.SetTip(h.chainTipName())
			h.g.NextBlock("extend", nil, nil)
			h.acceptTip()
		})
	}
}

// TestRulesCoverEveryKind ensures TestRulesRejectBlocks has a row for every
// ErrorKind of package consensus, read from the declarations in
// consensus/errors.go so that a new kind without a row fails here.
func TestRulesCoverEveryKind(t *testing.T) {
	t.Parallel()
	// No block can break bad-txns-oversize alone: a transaction whose
	// size without witness exceeds the limit makes its block exceed it
	// first (bad-blk-length), as in Bitcoin Core. consensus tests it.
	unreachable := map[consensus.ErrorKind]string{
		ErrTxTooBig: "bad-blk-length always fires first",
	}
	covered := make(map[consensus.ErrorKind]bool)
	for _, test := range ruleTests() {
		covered[test.want] = true
		if want := test.want.RejectReason(); want != test.reason {
			t.Errorf("row %q: reason %q, but the table maps %v to %q", test.name, test.reason, test.want, want)
		}
	}
	kinds := declaredKinds(t)
	if len(kinds) == 0 {
		t.Fatal("no ErrorKind declarations found in consensus/errors.go")
	}
	for _, kind := range kinds {
		if _, ok := unreachable[kind]; ok {
			if covered[kind] {
				t.Errorf("%v is listed as unreachable but has a row", kind)
			}
			continue
		}
		if !covered[kind] {
			t.Errorf("no row rejects a block with %v [%s]", kind, kind.RejectReason())
		}
	}
}

// declaredKinds returns every ErrorKind constant declared in
// consensus/errors.go.
func declaredKinds(t *testing.T) []consensus.ErrorKind {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "consensus/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []consensus.ErrorKind
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "ErrorKind" || len(call.Args) != 1 {
			return true
		}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			kinds = append(kinds, consensus.ErrorKind(s))
		}
		return true
	})
	return kinds
}
