package consensus

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// rulesPowLimitBits is the regtest proof-of-work limit the block tests
// solve at.
const rulesPowLimitBits = 0x207fffff

// rulesPowLimit is the target of rulesPowLimitBits.
var rulesPowLimit, _, _ = CompactToBig(rulesPowLimitBits)

// rulesOutPoint returns a distinct non-null outpoint for tag.
func rulesOutPoint(tag byte, index uint32) wire.OutPoint {
	return wire.OutPoint{Hash: chainhash.Hash{tag}, Index: index}
}

// rulesCoinbase returns a coinbase whose scriptSig is the BIP34 push of
// height and a tag byte, paying value to OP_TRUE.
func rulesCoinbase(height int32, value int64) *wire.MsgTx {
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript:  append(CoinbaseHeightPrefix(height), 0x01, 0xcb),
		Sequence:         wire.MaxTxInSequenceNum,
	})
	tx.AddTxOut(&wire.TxOut{Value: value, PkScript: []byte{txscript.OP_TRUE}})
	return tx
}

// rulesSpend returns a transaction spending the given outpoints to one
// OP_TRUE output per value.
func rulesSpend(prevs []wire.OutPoint, values ...int64) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	for _, p := range prevs {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: p, Sequence: wire.MaxTxInSequenceNum})
	}
	for _, v := range values {
		tx.AddTxOut(&wire.TxOut{Value: v, PkScript: []byte{txscript.OP_TRUE}})
	}
	return tx
}

// rulesBlock returns a block of txs at regtest difficulty with a correct
// merkle root and a solved proof of work.
func rulesBlock(txs ...*wire.MsgTx) *wire.MsgBlock {
	b := &wire.MsgBlock{
		Header: wire.BlockHeader{
			Version:   0x20000000,
			Timestamp: time.Unix(1795305600, 0),
			Bits:      rulesPowLimitBits,
		},
		Transactions: txs,
	}
	b.Header.MerkleRoot, _ = CalcMerkleRoot(TxHashes(b))
	rulesSolve(b)
	return b
}

// rulesSolve searches nonces until the header meets its target.
func rulesSolve(b *wire.MsgBlock) {
	target, _, _ := CompactToBig(b.Header.Bits)
	for {
		h := BlockHash(&b.Header)
		if HashToBig(&h).Cmp(target) <= 0 {
			return
		}
		b.Header.Nonce++
	}
}

// rulesSizedTx returns a one-input transaction whose size without witness
// is exactly size bytes.
func rulesSizedTx(t *testing.T, size int) *wire.MsgTx {
	t.Helper()
	tx := rulesSpend([]wire.OutPoint{rulesOutPoint(1, 0)}, 1)
	tx.TxOut[0].PkScript = nil
	base := tx.SerializeSizeStripped() // with a 1-byte varint and empty script
	// A script of 65,536 bytes or more has a 5-byte length varint.
	tx.TxOut[0].PkScript = make([]byte, size-base-4)
	if got := tx.SerializeSizeStripped(); got != size {
		t.Fatalf("sized tx is %d bytes, want %d", got, size)
	}
	return tx
}

// checkKind checks that err is nil when want is nil, and otherwise wraps
// want with want's reject reason.
func checkKind(t *testing.T, name string, err error, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%q: unexpected error %v", name, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%q: got error %v, want %v", name, err, want)
		return
	}
	var re RuleError
	if !errors.As(err, &re) {
		t.Errorf("%q: error %v is not a RuleError", name, err)
	}
	kind := want.(ErrorKind)
	if got := RejectReason(err); got == "" || got != kind.RejectReason() {
		t.Errorf("%q: reject reason %q, want %q", name, got, kind.RejectReason())
	}
}

// TestRulesCheckTransactionSanity ensures the context-free transaction
// checks accept the edge values they allow and reject each violation with
// its kind.
func TestRulesCheckTransactionSanity(t *testing.T) {
	t.Parallel()
	op1, op2 := rulesOutPoint(1, 0), rulesOutPoint(2, 0)
	coinbaseWithScript := func(n int) *wire.MsgTx {
		tx := rulesCoinbase(1, 50*CoinValue)
		tx.TxIn[0].SignatureScript = bytes.Repeat([]byte{txscript.OP_1}, n)
		return tx
	}
	witnessHeavy := rulesSizedTx(t, MaxBlockWeight/WitnessScaleFactor)
	witnessHeavy.TxIn[0].Witness = wire.TxWitness{make([]byte, 500_000)}

	tests := []struct {
		name string
		tx   *wire.MsgTx
		want error
	}{
		{name: "valid spend", tx: rulesSpend([]wire.OutPoint{op1}, 1)},
		{name: "valid coinbase", tx: rulesCoinbase(1, 50*CoinValue)},
		{name: "no inputs", tx: rulesSpend(nil, 1), want: ErrNoTxInputs},
		{name: "no outputs", tx: rulesSpend([]wire.OutPoint{op1}), want: ErrNoTxOutputs},
		{name: "no inputs and no outputs", tx: rulesSpend(nil), want: ErrNoTxInputs},
		{name: "size without witness exactly 1,000,000", tx: rulesSizedTx(t, MaxBlockWeight/WitnessScaleFactor)},
		{name: "size without witness 1,000,001", tx: rulesSizedTx(t, MaxBlockWeight/WitnessScaleFactor+1),
			want: ErrTxTooBig},
		{name: "witness does not count towards size", tx: witnessHeavy},
		{name: "zero output", tx: rulesSpend([]wire.OutPoint{op1}, 0)},
		{name: "negative output", tx: rulesSpend([]wire.OutPoint{op1}, 1, -1), want: ErrBadTxOutValue},
		{name: "output of MaxMoney", tx: rulesSpend([]wire.OutPoint{op1}, MaxMoney)},
		{name: "output of MaxMoney+1", tx: rulesSpend([]wire.OutPoint{op1}, MaxMoney+1),
			want: ErrTxOutValueTooLarge},
		{name: "output of max int64", tx: rulesSpend([]wire.OutPoint{op1}, math.MaxInt64),
			want: ErrTxOutValueTooLarge},
		{name: "outputs summing to MaxMoney", tx: rulesSpend([]wire.OutPoint{op1}, MaxMoney-1, 1)},
		{name: "outputs summing to MaxMoney+1", tx: rulesSpend([]wire.OutPoint{op1}, MaxMoney, 1),
			want: ErrTxOutTotalTooLarge},
		{name: "many outputs of MaxMoney", tx: rulesSpend([]wire.OutPoint{op1}, MaxMoney, MaxMoney, MaxMoney),
			want: ErrTxOutTotalTooLarge},
		{name: "duplicate inputs", tx: rulesSpend([]wire.OutPoint{op1, op2, op1}, 1),
			want: ErrDuplicateTxInputs},
		{name: "same txid, other index", tx: rulesSpend([]wire.OutPoint{op1, rulesOutPoint(1, 1)}, 1)},
		{name: "coinbase scriptSig of 2 bytes", tx: coinbaseWithScript(2)},
		{name: "coinbase scriptSig of 100 bytes", tx: coinbaseWithScript(100)},
		{name: "coinbase scriptSig of 0 bytes", tx: coinbaseWithScript(0), want: ErrBadCoinbaseScriptLen},
		{name: "coinbase scriptSig of 1 byte", tx: coinbaseWithScript(1), want: ErrBadCoinbaseScriptLen},
		{name: "coinbase scriptSig of 101 bytes", tx: coinbaseWithScript(101), want: ErrBadCoinbaseScriptLen},
		{name: "null outpoint among two inputs", tx: rulesSpend([]wire.OutPoint{op1, {Index: wire.MaxPrevOutIndex}}, 1),
			want: ErrBadTxInput},
		{name: "zero hash with index 0 is not null", tx: rulesSpend([]wire.OutPoint{{}}, 1)},
		{name: "index 0xffffffff with a hash is not null",
			tx: rulesSpend([]wire.OutPoint{rulesOutPoint(1, wire.MaxPrevOutIndex)}, 1)},
	}
	for _, test := range tests {
		checkKind(t, test.name, CheckTransactionSanity(test.tx), test.want)
	}
}

// TestRulesCheckBlockSanity ensures the context-free block checks accept a
// valid block, return its txids, and reject each violation with its kind.
func TestRulesCheckBlockSanity(t *testing.T) {
	t.Parallel()
	cb := rulesCoinbase(1, 50*CoinValue)
	spend1 := rulesSpend([]wire.OutPoint{rulesOutPoint(1, 0)}, 1)
	spend2 := rulesSpend([]wire.OutPoint{rulesOutPoint(2, 0)}, 1)
	valid := rulesBlock(cb, spend1, spend2)

	unsolved := rulesBlock(cb)
	for {
		unsolved.Header.Nonce++
		h := BlockHash(&unsolved.Header)
		if HashToBig(&h).Cmp(rulesPowLimit) > 0 {
			break
		}
	}
	easyBits := rulesBlock(cb)
	easyBits.Header.Bits = 0x2100ffff
	rulesSolve(easyBits)

	badRoot := rulesBlock(cb, spend1)
	badRoot.Header.MerkleRoot[0] ^= 1
	rulesSolve(badRoot)

	// [cb s1 s2 s2] has the header of [cb s1 s2].
	dupTail := &wire.MsgBlock{Header: valid.Header, Transactions: []*wire.MsgTx{cb, spend1, spend2, spend2}}
	// An equal pair anywhere is a mutation, even when the root matches.
	dupPair := rulesBlock(cb, spend1, spend2, spend2)
	// A repeat that pairs with nothing equal is no mutation (the root is
	// the block's own), but the block still holds a transaction twice,
	// as fullblocktests' b56p2 does.
	dupApart := rulesBlock(cb, spend1, spend2, spend1)

	big := rulesSpend([]wire.OutPoint{rulesOutPoint(1, 0)}, 1)
	big.TxOut[0].PkScript = make([]byte, MaxBlockWeight/WitnessScaleFactor)

	negative := rulesSpend([]wire.OutPoint{rulesOutPoint(1, 0)}, -1)
	checkSigs := func(n int) *wire.MsgTx {
		tx := rulesSpend([]wire.OutPoint{rulesOutPoint(3, 0)}, 1)
		tx.TxOut[0].PkScript = bytes.Repeat([]byte{txscript.OP_CHECKSIG}, n)
		return tx
	}

	tests := []struct {
		name  string
		block *wire.MsgBlock
		want  error
	}{
		{name: "valid", block: valid},
		{name: "coinbase only", block: rulesBlock(cb)},
		{name: "hash above target", block: unsolved, want: ErrHighHash},
		{name: "bits above the pow limit", block: easyBits, want: ErrHighHash},
		{name: "merkle root mismatch", block: badRoot, want: ErrBadMerkleRoot},
		{name: "CVE-2012-2459 duplicate tail", block: dupTail, want: ErrDuplicateTx},
		{name: "equal pair of transactions", block: dupPair, want: ErrDuplicateTx},
		{name: "a transaction twice, not paired", block: dupApart, want: ErrDuplicateTx},
		{name: "no transactions", block: rulesBlock(), want: ErrBlockLength},
		{name: "size without witness above 1 MB", block: rulesBlock(cb, big), want: ErrBlockLength},
		{name: "first transaction not a coinbase", block: rulesBlock(spend1, spend2), want: ErrFirstTxNotCoinbase},
		{name: "second coinbase", block: rulesBlock(cb, rulesCoinbase(2, 0)), want: ErrMultipleCoinbases},
		{name: "transaction failing sanity", block: rulesBlock(cb, negative), want: ErrBadTxOutValue},
		{name: "legacy sigops at the limit", block: rulesBlock(cb, checkSigs(MaxBlockSigOpsCost/WitnessScaleFactor))},
		{name: "legacy sigops above the limit", block: rulesBlock(cb, checkSigs(MaxBlockSigOpsCost/WitnessScaleFactor+1)),
			want: ErrTooManySigOps},
	}
	for _, test := range tests {
		txids, err := CheckBlockSanity(test.block, rulesPowLimit)
		checkKind(t, test.name, err, test.want)
		if err != nil {
			if txids != nil {
				t.Errorf("%q: txids returned with an error", test.name)
			}
			continue
		}
		want := TxHashes(test.block)
		if len(txids) != len(want) {
			t.Errorf("%q: %d txids, want %d", test.name, len(txids), len(want))
			continue
		}
		for i := range want {
			if txids[i] != want[i] {
				t.Errorf("%q: txid %d is %v, want %v", test.name, i, txids[i], want[i])
			}
		}
	}

	// The error of a failing transaction names it.
	_, err := CheckBlockSanity(rulesBlock(cb, negative), rulesPowLimit)
	if err == nil || !strings.Contains(err.Error(), negative.TxHash().String()) {
		t.Errorf("error %v does not name transaction %v", err, negative.TxHash())
	}
}

// refMerkleRoot is a plain recursive merkle root, the reference for
// CalcMerkleRoot.
func refMerkleRoot(hashes []chainhash.Hash) chainhash.Hash {
	if len(hashes) == 1 {
		return hashes[0]
	}
	if len(hashes)%2 == 1 {
		hashes = append(hashes[:len(hashes):len(hashes)], hashes[len(hashes)-1])
	}
	next := make([]chainhash.Hash, len(hashes)/2)
	for i := range next {
		next[i] = DoubleHashH(append(hashes[2*i][:], hashes[2*i+1][:]...))
	}
	return refMerkleRoot(next)
}

// TestRulesCalcMerkleRoot ensures CalcMerkleRoot computes Bitcoin's merkle
// root (including a mainnet block's), flags exactly the lists with an equal
// pair at some level (CVE-2012-2459), and leaves its input alone.
func TestRulesCalcMerkleRoot(t *testing.T) {
	t.Parallel()
	h := func(n byte) chainhash.Hash { return DoubleHashH([]byte{n}) }
	a, b, c, d, e, f := h(1), h(2), h(3), h(4), h(5), h(6)
	pair := func(x, y chainhash.Hash) chainhash.Hash { return DoubleHashH(append(x[:], y[:]...)) }
	hash := func(s string) chainhash.Hash {
		v, err := chainhash.NewHashFromStr(s)
		if err != nil {
			t.Fatal(err)
		}
		return *v
	}

	tests := []struct {
		name        string
		hashes      []chainhash.Hash
		wantRoot    chainhash.Hash
		wantMutated bool
	}{
		{name: "empty", hashes: nil, wantRoot: chainhash.Hash{}},
		{name: "one", hashes: []chainhash.Hash{a}, wantRoot: a},
		{name: "two", hashes: []chainhash.Hash{a, b}, wantRoot: pair(a, b)},
		{name: "three pads with its last", hashes: []chainhash.Hash{a, b, c},
			wantRoot: pair(pair(a, b), pair(c, c))},
		{name: "three with the tail repeated", hashes: []chainhash.Hash{a, b, c, c},
			wantRoot: pair(pair(a, b), pair(c, c)), wantMutated: true},
		{name: "equal pair", hashes: []chainhash.Hash{a, a}, wantRoot: pair(a, a), wantMutated: true},
		{name: "equal pair at the second level", hashes: []chainhash.Hash{a, b, a, b},
			wantRoot: pair(pair(a, b), pair(a, b)), wantMutated: true},
		{name: "equal but not paired", hashes: []chainhash.Hash{a, b, a},
			wantRoot: pair(pair(a, b), pair(a, a))},
		{name: "six", hashes: []chainhash.Hash{a, b, c, d, e, f},
			wantRoot: pair(pair(pair(a, b), pair(c, d)), pair(pair(e, f), pair(e, f)))},
		{name: "six with the last two repeated", hashes: []chainhash.Hash{a, b, c, d, e, f, e, f},
			wantRoot: pair(pair(pair(a, b), pair(c, d)), pair(pair(e, f), pair(e, f))), wantMutated: true},
		{
			name: "mainnet block 100000",
			hashes: []chainhash.Hash{
				hash("8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87"),
				hash("fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4"),
				hash("6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4"),
				hash("e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d"),
			},
			wantRoot: hash("f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"),
		},
	}
	for _, test := range tests {
		in := append([]chainhash.Hash(nil), test.hashes...)
		root, mutated := CalcMerkleRoot(in)
		if root != test.wantRoot || mutated != test.wantMutated {
			t.Errorf("%q: got %v, %v; want %v, %v", test.name, root, mutated, test.wantRoot, test.wantMutated)
		}
		for i := range in {
			if in[i] != test.hashes[i] {
				t.Errorf("%q: input hash %d modified", test.name, i)
			}
		}
	}

	// Distinct leaves of every count up to 33 match the reference and are
	// not mutated.
	for n := 1; n <= 33; n++ {
		hashes := make([]chainhash.Hash, n)
		for i := range hashes {
			hashes[i] = h(byte(i + 10))
		}
		root, mutated := CalcMerkleRoot(hashes)
		if want := refMerkleRoot(hashes); root != want || mutated {
			t.Errorf("%d distinct leaves: got %v, %v; want %v, false", n, root, mutated, want)
		}
	}
}

// TestRulesCoinbaseHeightPrefix ensures the BIP34 prefix is serialized
// exactly as Bitcoin Core's CScript() << height: OP_0, OP_1..OP_16, then a
// minimal little-endian number push with a sign byte when the top bit is
// set.
func TestRulesCoinbaseHeightPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		height int32
		want   string
	}{
		{0, "00"},
		{1, "51"},
		{16, "60"},
		{17, "0111"},
		{127, "017f"},
		{128, "028000"},
		{255, "02ff00"},
		{256, "020001"},
		{32767, "02ff7f"},
		{32768, "03008000"},
		{8388607, "03ffff7f"},
		{8388608, "0400008000"},
		{math.MaxInt32, "04ffffff7f"},
	}
	for _, test := range tests {
		got := hex.EncodeToString(CoinbaseHeightPrefix(test.height))
		if got != test.want {
			t.Errorf("height %d: got %s, want %s", test.height, got, test.want)
		}
		// btcd's script builder pushes numbers as Core does.
		builder, err := txscript.NewScriptBuilder().AddInt64(int64(test.height)).Script()
		if err != nil {
			t.Fatal(err)
		}
		if want := hex.EncodeToString(builder); got != want {
			t.Errorf("height %d: got %s, script builder gives %s", test.height, got, want)
		}
	}
}

// TestRulesCheckCoinbaseHeight ensures the BIP34 check wants the exact
// prefix and nothing else.
func TestRulesCheckCoinbaseHeight(t *testing.T) {
	t.Parallel()
	withScript := func(hexScript string) *wire.MsgTx {
		s, err := hex.DecodeString(hexScript)
		if err != nil {
			t.Fatal(err)
		}
		tx := rulesCoinbase(0, 0)
		tx.TxIn[0].SignatureScript = s
		return tx
	}
	tests := []struct {
		name   string
		tx     *wire.MsgTx
		height int32
		want   error
	}{
		{name: "prefix then data", tx: withScript("028000" + "0102"), height: 128},
		{name: "prefix alone", tx: withScript("54"), height: 4},
		{name: "another height", tx: withScript("55" + "00"), height: 4, want: ErrBadCoinbaseHeight},
		{name: "small height as a data push", tx: withScript("0104" + "00"), height: 4, want: ErrBadCoinbaseHeight},
		{name: "128 without its sign byte", tx: withScript("0180" + "00"), height: 128, want: ErrBadCoinbaseHeight},
		{name: "non-minimal push", tx: withScript("03800000"), height: 128, want: ErrBadCoinbaseHeight},
		{name: "empty scriptSig", tx: withScript(""), height: 1, want: ErrBadCoinbaseHeight},
		{name: "no inputs", tx: wire.NewMsgTx(1), height: 1, want: ErrBadCoinbaseHeight},
	}
	for _, test := range tests {
		checkKind(t, test.name, CheckCoinbaseHeight(test.tx, test.height), test.want)
	}
}

// TestRulesIsFinalTx ensures lock times are compared with the height or
// the time by the 500,000,000 threshold, strictly, and that final sequence
// numbers on every input disable them.
func TestRulesIsFinalTx(t *testing.T) {
	t.Parallel()
	const nonFinal = wire.MaxTxInSequenceNum - 1
	tests := []struct {
		name      string
		lockTime  uint32
		sequences []uint32
		height    int32
		time      int64
		want      bool
	}{
		{name: "zero lock time", lockTime: 0, sequences: []uint32{0}, height: 1, time: 1, want: true},
		{name: "height lock below the height", lockTime: 99, sequences: []uint32{nonFinal}, height: 100, want: true},
		{name: "height lock equal to the height", lockTime: 100, sequences: []uint32{nonFinal}, height: 100},
		{name: "height lock above the height", lockTime: 101, sequences: []uint32{nonFinal}, height: 100},
		{name: "height lock above, all sequences final", lockTime: 101,
			sequences: []uint32{wire.MaxTxInSequenceNum, wire.MaxTxInSequenceNum}, height: 100, want: true},
		{name: "height lock above, one sequence not final", lockTime: 101,
			sequences: []uint32{wire.MaxTxInSequenceNum, nonFinal}, height: 100},
		{name: "height lock ignores the time", lockTime: 100, sequences: []uint32{nonFinal},
			height: 100, time: math.MaxInt64},
		{name: "time lock below the time", lockTime: 1_700_000_000, sequences: []uint32{nonFinal},
			time: 1_700_000_001, want: true},
		{name: "time lock equal to the time", lockTime: 1_700_000_000, sequences: []uint32{nonFinal},
			time: 1_700_000_000},
		{name: "time lock ignores the height", lockTime: 1_700_000_000, sequences: []uint32{nonFinal},
			height: math.MaxInt32, time: 1_700_000_000},
		{name: "time lock above, all sequences final", lockTime: 1_700_000_000,
			sequences: []uint32{wire.MaxTxInSequenceNum}, time: 1, want: true},
		{name: "499,999,999 is a height", lockTime: LockTimeThreshold - 1, sequences: []uint32{nonFinal},
			height: LockTimeThreshold - 1, time: math.MaxInt64},
		{name: "500,000,000 is a time", lockTime: LockTimeThreshold, sequences: []uint32{nonFinal},
			height: math.MaxInt32, time: LockTimeThreshold},
		{name: "500,000,000 below the time", lockTime: LockTimeThreshold, sequences: []uint32{nonFinal},
			time: LockTimeThreshold + 1, want: true},
		{name: "max lock time", lockTime: math.MaxUint32, sequences: []uint32{nonFinal},
			time: math.MaxUint32},
	}
	for _, test := range tests {
		tx := wire.NewMsgTx(2)
		for i, s := range test.sequences {
			tx.AddTxIn(&wire.TxIn{PreviousOutPoint: rulesOutPoint(byte(i+1), 0), Sequence: s})
		}
		tx.LockTime = test.lockTime
		if got := IsFinalTx(tx, test.height, test.time); got != test.want {
			t.Errorf("%q: got %v, want %v", test.name, got, test.want)
		}
	}
}

// TestRulesSequenceLocks ensures CalcSequenceLock computes BIP68 locks as
// Bitcoin Core's CalculateSequenceLocks does and SequenceLockActive compares
// them strictly.
func TestRulesSequenceLocks(t *testing.T) {
	t.Parallel()
	// The median time past at height h is 1,000,000 + 600*h.
	mtp := func(h int32) int64 { return 1_000_000 + 600*int64(h) }
	seconds := func(units uint32) uint32 { return SequenceLockTimeIsSeconds | units }
	none := SequenceLock{MinHeight: -1, MinTime: -1}

	tests := []struct {
		name    string
		version int32
		seqs    []uint32
		heights []int32
		want    SequenceLock
	}{
		{name: "version 1 has no lock", version: 1, seqs: []uint32{10}, heights: []int32{100}, want: none},
		{name: "disable flag", version: 2, seqs: []uint32{SequenceLockTimeDisabled | 10}, heights: []int32{100},
			want: none},
		{name: "final sequence", version: 2, seqs: []uint32{wire.MaxTxInSequenceNum}, heights: []int32{100},
			want: none},
		{name: "height lock", version: 2, seqs: []uint32{10}, heights: []int32{100},
			want: SequenceLock{MinHeight: 109, MinTime: -1}},
		{name: "zero height lock", version: 2, seqs: []uint32{0}, heights: []int32{100},
			want: SequenceLock{MinHeight: 99, MinTime: -1}},
		{name: "bits outside the mask ignored", version: 2, seqs: []uint32{0x003f0005}, heights: []int32{100},
			want: SequenceLock{MinHeight: 104, MinTime: -1}},
		{name: "time lock from the parent's median time", version: 2, seqs: []uint32{seconds(3)},
			heights: []int32{100}, want: SequenceLock{MinHeight: -1, MinTime: mtp(99) + 3*512 - 1}},
		{name: "time lock of an output at height 0", version: 2, seqs: []uint32{seconds(1)},
			heights: []int32{0}, want: SequenceLock{MinHeight: -1, MinTime: mtp(0) + 512 - 1}},
		{name: "largest of several inputs", version: 2,
			seqs:    []uint32{5, 20, seconds(2), seconds(1), SequenceLockTimeDisabled},
			heights: []int32{100, 90, 50, 80, 200},
			want:    SequenceLock{MinHeight: 109, MinTime: mtp(79) + 512 - 1}},
		// Bitcoin Core compares the version as unsigned, so these enforce
		// BIP68.
		{name: "version 0xffffffff", version: -1, seqs: []uint32{10}, heights: []int32{100},
			want: SequenceLock{MinHeight: 109, MinTime: -1}},
		{name: "version 0x80000000", version: math.MinInt32, seqs: []uint32{10}, heights: []int32{100},
			want: SequenceLock{MinHeight: 109, MinTime: -1}},
	}
	for _, test := range tests {
		tx := wire.NewMsgTx(test.version)
		for i, s := range test.seqs {
			tx.AddTxIn(&wire.TxIn{PreviousOutPoint: rulesOutPoint(byte(i+1), 0), Sequence: s})
		}
		tx.AddTxOut(&wire.TxOut{Value: 1})
		if got := CalcSequenceLock(tx, test.heights, mtp); got != test.want {
			t.Errorf("%q: got %+v, want %+v", test.name, got, test.want)
		}
	}

	// A coinbase has no lock whatever its sequence.
	cb := rulesCoinbase(1, 1)
	cb.Version = 2
	cb.TxIn[0].Sequence = 10
	if got := CalcSequenceLock(cb, []int32{0}, mtp); got != none {
		t.Errorf("coinbase: got %+v, want no lock", got)
	}

	active := []struct {
		name    string
		lock    SequenceLock
		height  int32
		prevMTP int64
		want    bool
	}{
		{name: "no lock", lock: none, height: 0, prevMTP: 0, want: true},
		{name: "height below", lock: SequenceLock{MinHeight: 109, MinTime: -1}, height: 110, prevMTP: 0, want: true},
		{name: "height equal", lock: SequenceLock{MinHeight: 109, MinTime: -1}, height: 109, prevMTP: 0},
		{name: "time below", lock: SequenceLock{MinHeight: -1, MinTime: 5000}, height: 1, prevMTP: 5001, want: true},
		{name: "time equal", lock: SequenceLock{MinHeight: -1, MinTime: 5000}, height: 1, prevMTP: 5000},
		{name: "both, time short", lock: SequenceLock{MinHeight: 9, MinTime: 5000}, height: 10, prevMTP: 5000},
		{name: "both, height short", lock: SequenceLock{MinHeight: 10, MinTime: 5000}, height: 10, prevMTP: 5001},
		{name: "both met", lock: SequenceLock{MinHeight: 9, MinTime: 5000}, height: 10, prevMTP: 5001, want: true},
	}
	for _, test := range active {
		if got := SequenceLockActive(test.lock, test.height, test.prevMTP); got != test.want {
			t.Errorf("%q: got %v, want %v", test.name, got, test.want)
		}
	}
}

// TestRulesCalcBlockSubsidy ensures the subsidy halves every interval, is
// zero from the 64th halving on, and shifts exactly as Bitcoin Core's
// nSubsidy >>= halvings does before that.
func TestRulesCalcBlockSubsidy(t *testing.T) {
	t.Parallel()
	main := &Params{BaseSubsidy: 50 * CoinValue, SubsidyHalvingInterval: 210_000}
	regtest := &Params{BaseSubsidy: 50 * CoinValue, SubsidyHalvingInterval: 150}
	everyBlock := &Params{BaseSubsidy: 50 * CoinValue, SubsidyHalvingInterval: 1}
	never := &Params{BaseSubsidy: 50 * CoinValue}
	tests := []struct {
		name   string
		params *Params
		height int32
		want   int64
	}{
		{"genesis", main, 0, 50 * CoinValue},
		{"last of the first era", main, 209_999, 50 * CoinValue},
		{"first halving", main, 210_000, 25 * CoinValue},
		{"second halving", main, 420_000, 1_250_000_000},
		{"tenth halving", main, 2_100_000, 50 * CoinValue >> 10},
		{"32nd halving leaves one unit", main, 210_000 * 32, 1},
		{"33rd halving", main, 210_000 * 33, 0},
		{"highest height", main, math.MaxInt32, 0},
		{"regtest first halving", regtest, 150, 25 * CoinValue},
		{"regtest last before", regtest, 149, 50 * CoinValue},
		{"every block, 32 halvings", everyBlock, 32, 1},
		{"every block, 63 halvings", everyBlock, 63, 0},
		{"every block, 64 halvings", everyBlock, 64, 0},
		{"every block, 1000 halvings", everyBlock, 1000, 0},
		{"no halving interval", never, math.MaxInt32, 50 * CoinValue},
	}
	for _, test := range tests {
		if got := CalcBlockSubsidy(test.height, test.params); got != test.want {
			t.Errorf("%q: got %d, want %d", test.name, got, test.want)
		}
	}

	// A base subsidy that survives 63 shifts shows the 64-halving cutoff.
	huge := &Params{BaseSubsidy: math.MaxInt64, SubsidyHalvingInterval: 1}
	if got := CalcBlockSubsidy(62, huge); got != 1 {
		t.Errorf("max base, 62 halvings: got %d, want 1", got)
	}
	if got := CalcBlockSubsidy(64, huge); got != 0 {
		t.Errorf("max base, 64 halvings: got %d, want 0", got)
	}
}

// TestRulesCheckWitnessCommitment ensures the BIP141 commitment is checked
// whenever present (last matching output wins), the reserved value must be
// one 32-byte item, and witness data without a commitment, or before segwit,
// is refused.
func TestRulesCheckWitnessCommitment(t *testing.T) {
	t.Parallel()
	// build returns a block of a coinbase and a spend; with commit, the
	// coinbase commits to the witness root and the reserved value
	// (32 zero bytes unless given).
	type opts struct {
		witness  bool // the spend carries witness data
		commit   bool
		reserved []byte
	}
	build := func(o opts) *wire.MsgBlock {
		cb := rulesCoinbase(1, 50*CoinValue)
		spend := rulesSpend([]wire.OutPoint{rulesOutPoint(1, 0)}, 1)
		if o.witness {
			spend.TxIn[0].Witness = wire.TxWitness{{0x01}, {0x02}}
		}
		b := &wire.MsgBlock{Transactions: []*wire.MsgTx{cb, spend}}
		if o.commit {
			reserved := o.reserved
			if reserved == nil {
				reserved = make([]byte, 32)
			}
			cb.TxIn[0].Witness = wire.TxWitness{reserved}
			c := CalcWitnessCommitment(CalcWitnessMerkleRoot(b.Transactions), reserved)
			cb.AddTxOut(&wire.TxOut{PkScript: WitnessCommitmentScript(c)})
		}
		return b
	}
	mutate := func(b *wire.MsgBlock, f func(b *wire.MsgBlock)) *wire.MsgBlock {
		f(b)
		return b
	}
	reserved := bytes.Repeat([]byte{0x42}, 32)

	tests := []struct {
		name   string
		block  *wire.MsgBlock
		segwit bool
		want   error
	}{
		{name: "no witness, no commitment", block: build(opts{}), segwit: true},
		{name: "no witness, no commitment, before segwit", block: build(opts{})},
		{name: "witness and commitment", block: build(opts{witness: true, commit: true}), segwit: true},
		{name: "non-zero reserved value", block: build(opts{witness: true, commit: true, reserved: reserved}),
			segwit: true},
		{name: "commitment without witness transactions", block: build(opts{commit: true}), segwit: true},
		{name: "witness without commitment", block: build(opts{witness: true}), segwit: true,
			want: ErrUnexpectedWitness},
		{name: "coinbase witness without commitment", block: mutate(build(opts{}), func(b *wire.MsgBlock) {
			b.Transactions[0].TxIn[0].Witness = wire.TxWitness{make([]byte, 32)}
		}), segwit: true, want: ErrUnexpectedWitness},
		{name: "witness and commitment before segwit", block: build(opts{witness: true, commit: true}),
			want: ErrUnexpectedWitness},
		{name: "commitment and coinbase witness before segwit", block: build(opts{commit: true}),
			want: ErrUnexpectedWitness},
		{name: "witness altered after commitment", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) { b.Transactions[1].TxIn[0].Witness[0][0] ^= 1 }),
			segwit: true, want: ErrBadWitnessCommitment},
		{name: "reserved value altered after commitment", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) { b.Transactions[0].TxIn[0].Witness[0][0] ^= 1 }),
			segwit: true, want: ErrBadWitnessCommitment},
		{name: "no coinbase witness", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) { b.Transactions[0].TxIn[0].Witness = nil }),
			segwit: true, want: ErrBadWitnessNonceSize},
		{name: "no coinbase witness, no witness transactions", block: mutate(build(opts{commit: true}),
			func(b *wire.MsgBlock) { b.Transactions[0].TxIn[0].Witness = nil }),
			segwit: true, want: ErrBadWitnessNonceSize},
		{name: "reserved value of 33 bytes", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) { b.Transactions[0].TxIn[0].Witness = wire.TxWitness{make([]byte, 33)} }),
			segwit: true, want: ErrBadWitnessNonceSize},
		{name: "two coinbase witness items", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) {
				b.Transactions[0].TxIn[0].Witness = append(b.Transactions[0].TxIn[0].Witness, []byte{})
			}),
			segwit: true, want: ErrBadWitnessNonceSize},
		{name: "last of two commitments is right", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) {
				cb := b.Transactions[0]
				wrong := &wire.TxOut{PkScript: WitnessCommitmentScript(chainhash.Hash{1})}
				cb.TxOut = append(cb.TxOut[:1], wrong, cb.TxOut[1])
			}), segwit: true},
		{name: "first of two commitments is right", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) {
				cb := b.Transactions[0]
				cb.AddTxOut(&wire.TxOut{PkScript: WitnessCommitmentScript(chainhash.Hash{1})})
			}), segwit: true, want: ErrBadWitnessCommitment},
		{name: "commitment script with trailing bytes", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) {
				out := b.Transactions[0].TxOut[1]
				out.PkScript = append(out.PkScript, 0x00)
			}), segwit: true},
		{name: "37-byte script is no commitment", block: mutate(build(opts{witness: true, commit: true}),
			func(b *wire.MsgBlock) {
				out := b.Transactions[0].TxOut[1]
				out.PkScript = out.PkScript[:37]
			}), segwit: true, want: ErrUnexpectedWitness},
		{name: "no transactions", block: &wire.MsgBlock{}, segwit: true, want: ErrBlockLength},
	}
	for _, test := range tests {
		checkKind(t, test.name, CheckWitnessCommitment(test.block, test.segwit), test.want)
	}
}

// TestRulesIsMutationError ensures exactly the failures a third party can
// cause by altering a valid block's body count as mutations.
func TestRulesIsMutationError(t *testing.T) {
	t.Parallel()
	mutations := map[ErrorKind]bool{
		ErrBadMerkleRoot:        true,
		ErrDuplicateTx:          true,
		ErrBadWitnessNonceSize:  true,
		ErrBadWitnessCommitment: true,
		ErrUnexpectedWitness:    true,
	}
	for kind := range rejectReasons {
		err := fmt.Errorf("context: %w", ruleError(kind, "test"))
		if got := IsMutationError(err); got != mutations[kind] {
			t.Errorf("%v: IsMutationError %v, want %v", kind, got, mutations[kind])
		}
	}
	if IsMutationError(nil) || IsMutationError(io.EOF) {
		t.Error("a nil or non-rule error counts as a mutation")
	}
}

// TestErrorKindIsAs ensures ErrorKind and RuleError work with errors.Is and
// errors.As, also when wrapped, and that RejectReason finds the kind.
func TestErrorKindIsAs(t *testing.T) {
	t.Parallel()
	ruleErr := ruleError(ErrBadMerkleRoot, "merkle root mismatch")
	tests := []struct {
		name       string
		err        error
		target     error
		wantMatch  bool
		wantAs     ErrorKind
		wantReason string
	}{{
		name:       "ErrBadMerkleRoot == ErrBadMerkleRoot",
		err:        ErrBadMerkleRoot,
		target:     ErrBadMerkleRoot,
		wantMatch:  true,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:       "RuleError.ErrBadMerkleRoot == ErrBadMerkleRoot",
		err:        ruleErr,
		target:     ErrBadMerkleRoot,
		wantMatch:  true,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:       "wrapped RuleError.ErrBadMerkleRoot == ErrBadMerkleRoot",
		err:        fmt.Errorf("block 1: %w", ruleErr),
		target:     ErrBadMerkleRoot,
		wantMatch:  true,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:       "joined RuleError.ErrBadMerkleRoot == ErrBadMerkleRoot",
		err:        errors.Join(io.ErrUnexpectedEOF, ruleErr),
		target:     ErrBadMerkleRoot,
		wantMatch:  true,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:       "RuleError.ErrBadMerkleRoot == itself",
		err:        ruleErr,
		target:     ruleErr,
		wantMatch:  true,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:       "ErrBadMerkleRoot != ErrDuplicateTx",
		err:        ErrBadMerkleRoot,
		target:     ErrDuplicateTx,
		wantMatch:  false,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:       "RuleError.ErrBadMerkleRoot != ErrDuplicateTx",
		err:        ruleErr,
		target:     ErrDuplicateTx,
		wantMatch:  false,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:       "ErrBadMerkleRoot != RuleError.ErrBadMerkleRoot",
		err:        ErrBadMerkleRoot,
		target:     ruleErr,
		wantMatch:  false,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:       "RuleError with another description",
		err:        ruleError(ErrBadMerkleRoot, "other"),
		target:     ruleErr,
		wantMatch:  false,
		wantAs:     ErrBadMerkleRoot,
		wantReason: "bad-txnmrklroot",
	}, {
		name:      "errors.New with the kind's text != ErrBadMerkleRoot",
		err:       errors.New("ErrBadMerkleRoot"),
		target:    ErrBadMerkleRoot,
		wantMatch: false,
	}, {
		name:       "kind missing from the table",
		err:        ruleError(ErrorKind("ErrBogus"), "bogus"),
		target:     ErrorKind("ErrBogus"),
		wantMatch:  true,
		wantAs:     ErrorKind("ErrBogus"),
		wantReason: "",
	}}
	for _, test := range tests {
		if got := errors.Is(test.err, test.target); got != test.wantMatch {
			t.Errorf("%q: errors.Is got %v, want %v", test.name, got, test.wantMatch)
		}
		var kind ErrorKind
		if ok := errors.As(test.err, &kind); ok != (test.wantAs != "") || kind != test.wantAs {
			t.Errorf("%q: errors.As got %v (%q), want %q", test.name, ok, kind, test.wantAs)
		}
		if got := RejectReason(test.err); got != test.wantReason {
			t.Errorf("%q: RejectReason got %q, want %q", test.name, got, test.wantReason)
		}
	}

	// errors.As finds the RuleError with its description, but not in a
	// bare kind.
	var re RuleError
	if !errors.As(fmt.Errorf("ctx: %w", ruleErr), &re) || re.Description != "merkle root mismatch" ||
		re.Err != ErrBadMerkleRoot {
		t.Errorf("errors.As to RuleError got %+v", re)
	}
	if errors.As(ErrBadMerkleRoot, &re) {
		t.Error("errors.As found a RuleError in a bare ErrorKind")
	}
	if got := ruleErr.Error(); got != "merkle root mismatch" {
		t.Errorf("RuleError.Error() = %q, want its description", got)
	}
	if got := ErrBadMerkleRoot.Error(); got != "ErrBadMerkleRoot" {
		t.Errorf("ErrorKind.Error() = %q, want its name", got)
	}
	if got := RejectReason(nil); got != "" {
		t.Errorf("RejectReason(nil) = %q", got)
	}
}

// TestRulesRejectReasons ensures every ErrorKind constant declared in
// errors.go is named after itself and has a reject reason, that the table
// holds no undeclared kind, and that every reason SPEC sections 5 and 6
// name is the reason of some kind.
func TestRulesRejectReasons(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := make(map[ErrorKind]bool)
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				call, ok := vs.Values[i].(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					continue
				}
				if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "ErrorKind" {
					continue
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok {
					t.Errorf("%s: kind is not a string literal", name.Name)
					continue
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				if s != name.Name {
					t.Errorf("constant %s has the value %q", name.Name, s)
				}
				kind := ErrorKind(s)
				declared[kind] = true
				if kind.RejectReason() == "" {
					t.Errorf("%s has no reject reason", name.Name)
				}
			}
		}
	}
	if len(declared) < len(rejectReasons) || len(declared) < 38 {
		t.Errorf("found %d declared kinds, the table has %d", len(declared), len(rejectReasons))
	}
	for kind := range rejectReasons {
		if !declared[kind] {
			t.Errorf("table entry %v is not a declared constant", kind)
		}
	}

	reasons := make(map[string]bool)
	for _, r := range rejectReasons {
		reasons[r] = true
	}
	spec := []string{
		// Section 5.
		"high-hash", "bad-diffbits", "time-too-old", "time-too-new", "bad-cb-missing",
		"bad-cb-multiple", "bad-txnmrklroot", "bad-txns-duplicate", "bad-blk-weight",
		"bad-blk-sigops", "bad-cb-height", "bad-cb-length", "bad-witness-merkle-match",
		"unexpected-witness", "bad-cb-amount", "bad-txns-nonfinal",
		// Section 6.
		"bad-txns-vin-empty", "bad-txns-vout-empty", "bad-txns-inputs-duplicate",
		"bad-txns-vout-negative", "bad-txns-vout-toolarge", "bad-txns-inputs-missingorspent",
		"bad-txns-premature-spend-of-coinbase", "bad-txns-in-belowout",
		"mandatory-script-verify-flag-failed",
	}
	for _, r := range spec {
		if !reasons[r] {
			t.Errorf("SPEC reason %q is the reason of no kind", r)
		}
	}
}

// TestMerkleBranch ensures the root recomputed from the first leaf's branch
// equals CalcMerkleRoot for lists of every size up to 40, with the first
// leaf replaced.
func TestMerkleBranch(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 40; n++ {
		hashes := make([]chainhash.Hash, n)
		for i := range hashes {
			hashes[i] = chainhash.Hash{byte(i), byte(n)}
		}
		branch := MerkleBranch(hashes)
		hashes[0] = chainhash.Hash{0xee}
		want, _ := CalcMerkleRoot(hashes)
		if got := MerkleRootFromBranch(hashes[0], branch); got != want {
			t.Fatalf("%d leaves: root %v, want %v", n, got, want)
		}
	}
}
