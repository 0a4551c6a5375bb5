package consensus_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime/metrics"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

// This file fuzzes the decoding of blocks and transactions with btcd's wire
// package and the context-free consensus checks that run on what it decodes.
//
// # What round-trips
//
// btcd decodes canonically: it rejects non-minimal varints, a BIP144 marker
// whose flag is not 1, and a marker with no witness data at all
// (errSuperfluousWitnessRecord). A successful decode therefore re-encodes
// to exactly the bytes it consumed, in the encoding it was decoded with:
// Serialize after Deserialize, SerializeNoWitness after DeserializeNoWitness.
// The targets check that, and that decoding the re-encoding gives an equal
// value. Two things are not canonical and are not asserted:
//   - bytes after the object: Deserialize stops at the object's end and
//     ignores the rest, so only the consumed prefix is compared;
//   - a transaction with no inputs, in the encoding without witness: its
//     0x00 input count reads as the BIP144 marker in the witness encoding,
//     so it round-trips through SerializeNoWitness/DeserializeNoWitness only.
//     Every other transaction decoded without witness also decodes the same
//     with Deserialize.
//
// # Allocation
//
// btcd bounds every count it reads before allocating for it, but by a
// constant (wire/msgtx.go, wire/msgblock.go), not by the bytes left in the
// input: a handful of bytes may claim 818,401 inputs, 3,728,271 outputs,
// 4,000,000 witness items or 400,001 transactions, and btcd allocates the
// claimed slice before it finds the input too short. decodeAllocBudget is
// the largest such allocation; the targets check that decoding n bytes
// allocates at most 64n plus that budget, and TestDecodeHostileLengths pins
// the behaviour for each claim.

// btcd v0.25.0's decoding limits (unexported in wire).
const (
	maxTxInPerMessage       = wire.MaxMessagePayload/(9+chainhash.HashSize) + 1
	maxTxOutPerMessage      = wire.MaxMessagePayload/wire.MinTxOutPayload + 1
	maxTxPerBlock           = wire.MaxBlockPayload/10 + 1
	maxWitnessItemsPerInput = 4_000_000
	maxWitnessItemSize      = 4_000_000
	// scriptSlabSize is the script buffer btcd borrows for each decode
	// (and allocates when its free list is empty).
	scriptSlabSize = 1 << 22
)

// Allocation bounds of one decode.
var (
	// decodeAllocBudget is the most btcd allocates for a count that the
	// input does not back with bytes: the largest single claimed slice
	// (with its pointer slice), a block's transaction slice, two script
	// slabs and a MiB of slack.
	decodeAllocBudget = uint64(max(
		maxTxInPerMessage*(unsafe.Sizeof(wire.TxIn{})+unsafe.Sizeof(&wire.TxIn{})),
		maxTxOutPerMessage*(unsafe.Sizeof(wire.TxOut{})+unsafe.Sizeof(&wire.TxOut{})),
		maxWitnessItemsPerInput*unsafe.Sizeof([]byte(nil)),
	)) + maxTxPerBlock*uint64(unsafe.Sizeof(&wire.MsgTx{})) + 2*scriptSlabSize + 1<<20

	// rejectAllocBudget bounds a decode that refuses a count before
	// allocating for it: one script slab and a MiB of slack.
	rejectAllocBudget = uint64(scriptSlabSize + 1<<20)
)

// decodeAllocLimit returns the most decoding n bytes may allocate.
func decodeAllocLimit(n int) uint64 { return 64*uint64(n) + decodeAllocBudget }

// heapAllocs returns the bytes allocated on the heap so far by the whole
// process. Deltas are only meaningful while no other test runs.
func heapAllocs() uint64 {
	s := [1]metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s[:])
	return s[0].Value.Uint64()
}

// encoding is one of btcd's two serializations of blocks and transactions.
type encoding struct {
	name    string
	witness bool
}

var encodings = []encoding{{"witness", true}, {"no-witness", false}}

// decodeTx decodes data as a transaction in enc with the guarded decoder
// every untrusted path uses, and returns it, the number of bytes it consumed
// (all of them on success: trailing bytes are an error), and the bytes
// allocated while decoding.
func decodeTx(data []byte, enc encoding) (*wire.MsgTx, int, uint64, error) {
	before := heapAllocs()
	var tx *wire.MsgTx
	var err error
	if enc.witness {
		tx, err = consensus.DecodeTx(data)
	} else {
		tx, err = consensus.DecodeTxNoWitness(data)
	}
	allocs := heapAllocs() - before
	if err != nil {
		return &wire.MsgTx{}, 0, allocs, err
	}
	return tx, len(data), allocs, nil
}

// decodeBlock is decodeTx for blocks.
func decodeBlock(data []byte, enc encoding) (*wire.MsgBlock, int, uint64, error) {
	before := heapAllocs()
	var b *wire.MsgBlock
	var err error
	if enc.witness {
		b, err = consensus.DecodeBlock(data)
	} else {
		b, err = consensus.DecodeBlockNoWitness(data)
	}
	allocs := heapAllocs() - before
	if err != nil {
		return &wire.MsgBlock{}, 0, allocs, err
	}
	return b, len(data), allocs, nil
}

// serializer is implemented by wire.MsgTx and wire.MsgBlock.
type serializer interface {
	Serialize(io.Writer) error
	SerializeNoWitness(io.Writer) error
}

// encode serializes v in enc.
func encode(t *testing.T, v serializer, enc encoding) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if enc.witness {
		err = v.Serialize(&buf)
	} else {
		err = v.SerializeNoWitness(&buf)
	}
	if err != nil {
		t.Fatalf("%s: serialize: %v", enc.name, err)
	}
	return buf.Bytes()
}

// checkRuleError fails unless err is nil or a consensus.RuleError with a
// reject reason.
func checkRuleError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var re consensus.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("%s: error %v (%T) is not a RuleError", what, err, err)
	}
	if consensus.RejectReason(err) == "" {
		t.Fatalf("%s: error %v has no reject reason", what, err)
	}
}

// checkTx runs the context-free transaction functions on tx and checks
// their invariants.
func checkTx(t *testing.T, tx *wire.MsgTx) {
	t.Helper()
	err := consensus.CheckTransactionSanity(tx)
	checkRuleError(t, "CheckTransactionSanity", err)
	if err == nil {
		if len(tx.TxIn) == 0 || len(tx.TxOut) == 0 {
			t.Fatalf("CheckTransactionSanity accepted %d inputs and %d outputs", len(tx.TxIn), len(tx.TxOut))
		}
	}
	if w, s := consensus.TxWeight(tx), tx.SerializeSizeStripped(); w < s*consensus.WitnessScaleFactor {
		t.Fatalf("TxWeight %d is below 4 x stripped size %d", w, s)
	}
	if got, want := consensus.TxHash(tx), tx.TxHash(); got != want {
		t.Fatalf("TxHash %v, btcd says %v", got, want)
	}
	if got, want := consensus.WitnessHash(tx), tx.WitnessHash(); got != want {
		t.Fatalf("WitnessHash %v, btcd says %v", got, want)
	}
	if consensus.CountLegacySigOps(tx) < 0 {
		t.Fatal("negative legacy sigop count")
	}
	checkRuleError(t, "CheckCoinbaseHeight", consensus.CheckCoinbaseHeight(tx, 1))
	consensus.IsFinalTx(tx, 100, 1_700_000_000)

	// Sigop cost and sequence locks read the outputs spent: let each
	// input spend an output script of the transaction itself, which
	// gives the fuzzer control over both scripts.
	if len(tx.TxOut) > 0 {
		prevScripts := make([][]byte, len(tx.TxIn))
		heights := make([]int32, len(tx.TxIn))
		for i := range prevScripts {
			prevScripts[i] = tx.TxOut[i%len(tx.TxOut)].PkScript
			heights[i] = int32(i)
		}
		if consensus.CalcTxSigOpCost(tx, prevScripts, true, true) < 0 {
			t.Fatal("negative sigop cost")
		}
		consensus.CalcSequenceLock(tx, heights, func(h int32) int64 { return int64(h) * 600 })
	}
}

// checkTxRoundTrip checks that tx, decoded from consumed in enc, re-encodes
// to consumed and decodes again to an equal value.
func checkTxRoundTrip(t *testing.T, tx *wire.MsgTx, consumed []byte, enc encoding) {
	t.Helper()
	again := encode(t, tx, enc)
	if !bytes.Equal(again, consumed) {
		t.Fatalf("%s: re-encoding differs:\n got %x\nwant %x", enc.name, again, consumed)
	}
	tx2, _, _, err := decodeTx(again, enc)
	if err != nil {
		t.Fatalf("%s: re-encoding does not decode: %v", enc.name, err)
	}
	if !reflect.DeepEqual(tx, tx2) {
		t.Fatalf("%s: re-decoded transaction differs", enc.name)
	}
	want := tx.SerializeSize()
	if !enc.witness {
		want = tx.SerializeSizeStripped()
	}
	if want != len(consumed) {
		t.Fatalf("%s: size %d, consumed %d bytes", enc.name, want, len(consumed))
	}
	// Across encodings: without witness data both encodings agree, except
	// for the input-less transaction (see the file comment).
	if !enc.witness && len(tx.TxIn) > 0 {
		tx3, n, _, err := decodeTx(again, encodings[0])
		if err != nil || n != len(again) || !reflect.DeepEqual(tx, tx3) {
			t.Fatalf("legacy encoding of a transaction with inputs decodes differently with witness: %v", err)
		}
	}
}

// FuzzDecodeTx ensures that decoding arbitrary bytes as a transaction, in
// either encoding, never panics, allocates at most decodeAllocLimit, and
// round-trips when it succeeds; and that the context-free transaction
// checks never panic on what decodes and fail only with reject reasons.
func FuzzDecodeTx(f *testing.F) {
	for _, seed := range txSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, enc := range encodings {
			tx, n, allocs, err := decodeTx(data, enc)
			if limit := decodeAllocLimit(len(data)); allocs > limit {
				t.Fatalf("%s: decoding %d bytes allocated %d bytes, limit %d", enc.name, len(data), allocs, limit)
			}
			if err != nil {
				continue
			}
			checkTxRoundTrip(t, tx, data[:n], enc)
			checkTx(t, tx)
		}
	})
}

// checkBlockRoundTrip is checkTxRoundTrip for blocks.
func checkBlockRoundTrip(t *testing.T, b *wire.MsgBlock, consumed []byte, enc encoding) {
	t.Helper()
	again := encode(t, b, enc)
	if !bytes.Equal(again, consumed) {
		t.Fatalf("%s: re-encoding differs:\n got %x\nwant %x", enc.name, again, consumed)
	}
	b2, _, _, err := decodeBlock(again, enc)
	if err != nil {
		t.Fatalf("%s: re-encoding does not decode: %v", enc.name, err)
	}
	if !reflect.DeepEqual(b, b2) {
		t.Fatalf("%s: re-decoded block differs", enc.name)
	}
	want := b.SerializeSize()
	if !enc.witness {
		want = b.SerializeSizeStripped()
	}
	if want != len(consumed) {
		t.Fatalf("%s: size %d, consumed %d bytes", enc.name, want, len(consumed))
	}
	if got, want := consensus.BlockHash(&b.Header), consensus.DoubleHashH(consumed[:wire.MaxBlockHeaderPayload]); got != want {
		t.Fatalf("BlockHash %v, hash of the header bytes %v", got, want)
	}
}

// checkBlock runs the context-free block functions on b and checks their
// invariants. It modifies b.
func checkBlock(t *testing.T, b *wire.MsgBlock) {
	t.Helper()
	p := &fuzzRegtest.Consensus
	txids, err := consensus.CheckBlockSanity(b, p.PowLimit)
	checkRuleError(t, "CheckBlockSanity", err)
	hashes := consensus.TxHashes(b)
	root, mutated := consensus.CalcMerkleRoot(hashes)
	if err == nil {
		if !reflect.DeepEqual(txids, hashes) {
			t.Fatal("CheckBlockSanity returned txids other than TxHashes")
		}
		if root != b.Header.MerkleRoot || mutated {
			t.Fatalf("CheckBlockSanity accepted merkle root %v (mutated %v), computed %v",
				b.Header.MerkleRoot, mutated, root)
		}
		if len(b.Transactions) == 0 || !consensus.IsCoinBaseTx(b.Transactions[0]) {
			t.Fatal("CheckBlockSanity accepted a block without a leading coinbase")
		}
	}
	if consensus.IsMutationError(err) && consensus.CheckBlockHeaderSanity(&b.Header, p.PowLimit) != nil {
		t.Fatalf("mutation error %v for a header that fails its proof of work", err)
	}

	// Weight is three times the stripped size plus the full size, which
	// is the header's 4 x 80 plus the transactions' weights.
	overhead := consensus.WitnessScaleFactor * (wire.MaxBlockHeaderPayload + wire.VarIntSerializeSize(uint64(len(b.Transactions))))
	sum := overhead
	for _, tx := range b.Transactions {
		sum += consensus.TxWeight(tx)
		checkTx(t, tx)
	}
	if w := consensus.BlockWeight(b); w != sum {
		t.Fatalf("BlockWeight %d, header and transaction weights sum to %d", w, sum)
	}
	for _, segwit := range []bool{false, true} {
		checkRuleError(t, fmt.Sprintf("CheckWitnessCommitment(segwit %v)", segwit),
			consensus.CheckWitnessCommitment(b, segwit))
	}
	consensus.CalcWitnessMerkleRoot(b.Transactions)

	// Repair the header so that the checks after proof of work and the
	// merkle root run on the fuzzed transactions too.
	if len(b.Transactions) == 0 {
		return
	}
	if len(b.Transactions[0].TxIn) > 0 {
		chaintest.Finalize(b) // witness commitment and merkle root
		if consensus.BlockHasWitness(b) {
			if err := consensus.CheckWitnessCommitment(b, true); err != nil {
				t.Fatalf("CheckWitnessCommitment after Finalize: %v", err)
			}
		}
	} else {
		b.Header.MerkleRoot, _ = consensus.CalcMerkleRoot(consensus.TxHashes(b))
	}
	b.Header.Bits = p.PowLimitBits
	chaintest.Solve(b, p)
	_, err = consensus.CheckBlockSanity(b, p.PowLimit)
	checkRuleError(t, "CheckBlockSanity (repaired header)", err)
	txids = consensus.TxHashes(b)
	_, mutated = consensus.CalcMerkleRoot(txids)
	repeated := len(slices.Compact(slices.SortedFunc(slices.Values(txids), func(a, b chainhash.Hash) int {
		return bytes.Compare(a[:], b[:])
	}))) != len(txids)
	switch {
	case errors.Is(err, consensus.ErrHighHash), errors.Is(err, consensus.ErrBadMerkleRoot):
		t.Fatalf("repaired header still fails: %v", err)
	case (mutated || repeated) != errors.Is(err, consensus.ErrDuplicateTx):
		t.Fatalf("merkle tree mutated %v, a txid repeated %v, but CheckBlockSanity says %v", mutated, repeated, err)
	}
}

// fuzzRegtest gives the proof-of-work limit of the checks (0x207fffff: half of
// all hashes meet it, so fuzzed headers often pass).
var fuzzRegtest = chainparams.Regtest()

// FuzzDecodeBlock ensures that decoding arbitrary bytes as a block, in
// either encoding, never panics, allocates at most decodeAllocLimit, and
// round-trips when it succeeds; and that the context-free block checks
// never panic on what decodes and fail only with reject reasons.
func FuzzDecodeBlock(f *testing.F) {
	for _, seed := range blockSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// What the scan refuses never decodes, and the scan's estimate
		// of what decodes is what it costs decoded.
		sb, scanErr := consensus.ScanBlock(data)
		if b, err := consensus.DecodeBlock(data); err == nil && scanErr != nil {
			t.Fatalf("DecodeBlock decodes what ScanBlock refuses: %v", scanErr)
		} else if err == nil && sb.DecodedSize != consensus.DecodedSize(b) {
			t.Fatalf("ScanBlock's DecodedSize %d, DecodedSize of the decoded block %d", sb.DecodedSize, consensus.DecodedSize(b))
		}
		for _, enc := range encodings {
			b, n, allocs, err := decodeBlock(data, enc)
			if limit := decodeAllocLimit(len(data)); allocs > limit {
				t.Fatalf("%s: decoding %d bytes allocated %d bytes, limit %d", enc.name, len(data), allocs, limit)
			}
			if err != nil {
				continue
			}
			checkBlockRoundTrip(t, b, data[:n], enc)
			if !enc.witness && !consensus.BlockHasWitness(b) && blockHasInputs(b) {
				b2, n2, _, err := decodeBlock(data[:n], encodings[0])
				if err != nil || n2 != n || !reflect.DeepEqual(b, b2) {
					t.Fatalf("legacy block decodes differently with witness: %v", err)
				}
			}
			checkBlock(t, b)
		}
	})
}

// blockHasInputs reports whether every transaction of b has an input.
func blockHasInputs(b *wire.MsgBlock) bool {
	for _, tx := range b.Transactions {
		if len(tx.TxIn) == 0 {
			return false
		}
	}
	return true
}

// seedBlocks returns the genesis blocks of the built-in networks and a
// short regtest chain from chaintest: coinbase-only, an OP_TRUE spend, a
// payment to P2WPKH and a signed segwit spend of it (with a witness
// commitment).
func seedBlocks(tb testing.TB) []*wire.MsgBlock {
	tb.Helper()
	blocks := []*wire.MsgBlock{chainparams.Main().Genesis, chainparams.Test().Genesis, fuzzRegtest.Genesis}

	g := chaintest.New(fuzzRegtest)
	g.NextBlock("b1", nil, nil)
	g.NextBlock("b2", nil, nil)
	key, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x11}, 32))
	fund := chaintest.CreateSpendTx(g.CoinbaseOut("b1"), 1000)
	fund.TxOut[0].PkScript = chaintest.P2WPKHScript(key)
	out2 := g.CoinbaseOut("b2")
	g.NextBlock("b3", &out2, []*wire.MsgTx{fund})
	prev := chaintest.SpendableOut{
		OutPoint: wire.OutPoint{Hash: consensus.TxHash(fund), Index: 0},
		Amount:   fund.TxOut[0].Value,
		PkScript: fund.TxOut[0].PkScript,
		Key:      key,
	}
	spend, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{prev}, []int64{prev.Amount / 2, prev.Amount/2 - 1000}, chaintest.OpTrueScript)
	if err != nil {
		tb.Fatal(err)
	}
	g.NextBlock("b4", nil, []*wire.MsgTx{spend})
	if !consensus.BlockHasWitness(g.Block("b4")) {
		tb.Fatal("segwit seed block has no witness")
	}
	for _, name := range []string{"b1", "b3", "b4"} {
		blocks = append(blocks, g.Block(name))
	}
	return blocks
}

// truncations returns prefixes of b cut at interesting places.
func truncations(b []byte, cuts ...int) [][]byte {
	var out [][]byte
	for _, n := range append(cuts, len(b)/2, len(b)-1) {
		if n > 0 && n < len(b) {
			out = append(out, b[:n])
		}
	}
	return out
}

// blockSeeds returns each seed block in both encodings, truncated after the
// header, after the transaction count, in the middle and before the last
// byte, and with a trailing byte.
func blockSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, b := range seedBlocks(tb) {
		for _, enc := range encodings {
			var buf bytes.Buffer
			if enc.witness {
				_ = b.Serialize(&buf)
			} else {
				_ = b.SerializeNoWitness(&buf)
			}
			raw := buf.Bytes()
			seeds = append(seeds, raw, append(bytes.Clone(raw), 0))
			seeds = append(seeds, truncations(raw, wire.MaxBlockHeaderPayload, wire.MaxBlockHeaderPayload+1)...)
		}
	}
	return seeds
}

// txSeeds returns the transactions of the seed blocks in both encodings and
// truncated, and hand-made edge cases.
func txSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, b := range seedBlocks(tb) {
		for _, tx := range b.Transactions {
			for _, enc := range encodings {
				var buf bytes.Buffer
				if enc.witness {
					_ = tx.Serialize(&buf)
				} else {
					_ = tx.SerializeNoWitness(&buf)
				}
				raw := buf.Bytes()
				seeds = append(seeds, raw)
				seeds = append(seeds, truncations(raw, 4, 5, 6)...)
			}
		}
	}
	return append(seeds,
		// No inputs, one empty output, legacy encoding: the input count
		// reads as the BIP144 marker in the witness encoding.
		hexBytes(tb, "01000000"+"00"+"01"+"0000000000000000"+"00"+"00000000"),
		// BIP144 marker and flag with no witness data (superfluous).
		hexBytes(tb, "01000000"+"0001"+"01"+outPointHex+"00"+"ffffffff"+"01"+"0000000000000000"+"00"+"00"+"00000000"),
		// Non-minimal varint input count.
		hexBytes(tb, "01000000"+"fd0100"+outPointHex+"00"+"ffffffff"+"01"+"0000000000000000"+"00"+"00000000"),
	)
}

// outPointHex is an outpoint (hash 0x11.., index 0) in hex.
const outPointHex = "1111111111111111111111111111111111111111111111111111111111111111" + "00000000"

func hexBytes(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// varInt returns the canonical encoding of n as a Bitcoin varint.
func varInt(n uint64) []byte {
	var buf bytes.Buffer
	_ = wire.WriteVarInt(&buf, 0, n)
	return buf.Bytes()
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Pieces of hand-made transactions and blocks.
var (
	txVersion   = []byte{1, 0, 0, 0}
	witnessFlag = []byte{0x00, 0x01}
	sequence    = []byte{0xff, 0xff, 0xff, 0xff}
	lockTime    = []byte{0, 0, 0, 0}
	value       = make([]byte, 8)
	outPoint    = append(bytes.Repeat([]byte{0x11}, chainhash.HashSize), 0, 0, 0, 0)
	// oneInput is an input count of 1 and an input with an empty script.
	oneInput = cat(varInt(1), outPoint, varInt(0), sequence)
	// oneOutput is an output count of 1 and an output with an empty
	// script.
	oneOutput   = cat(varInt(1), value, varInt(0))
	blockHeader = make([]byte, wire.MaxBlockHeaderPayload)
)

// TestDecodeHostileLengths ensures that length prefixes claiming far more
// than the input holds make the guarded decoders fail at once without
// allocating for the claim, both for counts above btcd's own limits and for
// counts within them (which bare btcd decoding honours by allocating up to
// 150 MB for a message of a few bytes).
//
// The test does not run in parallel: it measures the process's allocations.
func TestDecodeHostileLengths(t *testing.T) {
	tests := []struct {
		name    string
		block   bool
		witness bool // decode with the witness encoding only
		data    []byte
	}{
		{name: "tx with 2^32 inputs", data: cat(txVersion, varInt(1<<32))},
		{name: "tx with 2^64-1 inputs", data: cat(txVersion, varInt(math.MaxUint64))},
		{name: "tx with max+1 inputs", data: cat(txVersion, varInt(maxTxInPerMessage+1))},
		{name: "tx with max inputs", data: cat(txVersion, varInt(maxTxInPerMessage))},
		{name: "tx with 2^32 outputs", data: cat(txVersion, oneInput, varInt(1<<32))},
		{name: "tx with max outputs", data: cat(txVersion, oneInput, varInt(maxTxOutPerMessage))},
		{name: "script length 2^32", data: cat(txVersion, varInt(1), outPoint, varInt(1<<32))},
		{name: "script length 4000001", data: cat(txVersion, varInt(1), outPoint, varInt(maxWitnessItemSize+1))},
		{name: "script length 4000000", data: cat(txVersion, varInt(1), outPoint, varInt(maxWitnessItemSize))},
		{name: "output script length 2^32", data: cat(txVersion, oneInput, varInt(1), value, varInt(1<<32))},
		{name: "2^32 witness items", witness: true,
			data: cat(txVersion, witnessFlag, oneInput, oneOutput, varInt(1<<32))},
		{name: "max witness items", witness: true,
			data: cat(txVersion, witnessFlag, oneInput, oneOutput, varInt(maxWitnessItemsPerInput))},
		{name: "witness item length 2^32", witness: true,
			data: cat(txVersion, witnessFlag, oneInput, oneOutput, varInt(1), varInt(1<<32))},
		{name: "block with 2^32 transactions", block: true, data: cat(blockHeader, varInt(1<<32))},
		{name: "block with max+1 transactions", block: true, data: cat(blockHeader, varInt(maxTxPerBlock+1))},
		{name: "block with max transactions", block: true, data: cat(blockHeader, varInt(maxTxPerBlock))},
		{name: "block whose tx claims 2^32 inputs", block: true,
			data: cat(blockHeader, varInt(1), txVersion, varInt(1<<32))},
		{name: "block whose tx claims max outputs", block: true,
			data: cat(blockHeader, varInt(1), txVersion, oneInput, varInt(maxTxOutPerMessage))},
	}
	// Warm btcd's script buffer free list.
	decodeTx(cat(txVersion, oneInput, oneOutput, lockTime), encodings[0])
	for _, test := range tests {
		for _, enc := range encodings {
			if test.witness && !enc.witness {
				continue
			}
			start := time.Now()
			var err error
			var allocs uint64
			if test.block {
				_, _, allocs, err = decodeBlock(test.data, enc)
			} else {
				_, _, allocs, err = decodeTx(test.data, enc)
			}
			elapsed := time.Since(start)
			t.Logf("%q (%s, %d bytes): %v in %v, %d bytes allocated", test.name, enc.name, len(test.data), err, elapsed, allocs)
			// Every claim, within btcd's limits or beyond them, asks for
			// more than the input holds: the guarded decoder refuses it
			// before btcd allocates anything for it.
			if !errors.Is(err, consensus.ErrMalformed) {
				t.Errorf("%q (%s): got error %v, want ErrMalformed", test.name, enc.name, err)
			}
			if allocs > rejectAllocBudget {
				t.Errorf("%q (%s): allocated %d bytes before refusing, want at most %d",
					test.name, enc.name, allocs, rejectAllocBudget)
			}
			if elapsed > 5*time.Second {
				t.Errorf("%q (%s): took %v", test.name, enc.name, elapsed)
			}
		}
	}
}

// TestDecodeScriptSlabOverflow ensures that a transaction whose scripts,
// read so far plus the next one claimed, exceed btcd's 4 MiB script buffer
// fails to decode rather than panicking. It needs only about 195 KB:
// 194,305 bytes of script followed by a claim of 4,000,000 more, which is
// within maxWitnessItemSize and is sliced from the buffer before any of it
// is read.
//
// btcd v0.25.0 panics here (wire.readScriptBuf slices its buffer without
// checking its capacity); the wire/v2 module fixed it. Until Cairn moves
// to it, every decoder of untrusted bytes (P2P messages, RPC hex, the chain
// spec's genesis hex) must guard the call.
func TestDecodeScriptSlabOverflow(t *testing.T) {
	t.Parallel()
	const filled = scriptSlabSize - maxWitnessItemSize + 1 // 194,305
	bigScript := cat(varInt(filled), make([]byte, filled))
	overflowTx := cat(txVersion, varInt(2),
		outPoint, bigScript, sequence,
		outPoint, varInt(maxWitnessItemSize))
	overflowWitness := cat(txVersion, witnessFlag, oneInput, oneOutput,
		varInt(2), bigScript, varInt(maxWitnessItemSize))
	tests := []struct {
		name    string
		block   bool
		witness bool
		data    []byte
	}{
		{name: "second input script", data: overflowTx},
		{name: "second witness item", witness: true, data: overflowWitness},
		{name: "block, second input script", block: true, data: cat(blockHeader, varInt(1), overflowTx)},
		{name: "block, second witness item", block: true, witness: true, data: cat(blockHeader, varInt(1), overflowWitness)},
	}
	for _, test := range tests {
		for _, enc := range encodings {
			if test.witness && !enc.witness {
				continue
			}
			err := func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				if test.block {
					_, _, _, err = decodeBlock(test.data, enc)
				} else {
					_, _, _, err = decodeTx(test.data, enc)
				}
				if err == nil {
					return errors.New("decoded without error")
				}
				return nil
			}()
			if err != nil {
				t.Errorf("%q (%s, %d bytes): %v", test.name, enc.name, len(test.data), err)
			}
		}
	}
}

// TestScanBlockSize ensures the scan's estimate of a block of empty
// witness items, which decode to far more than their bytes, is what the
// decoded block holds by DecodedSize, about 24 bytes an item, and that
// truncated bytes are refused.
func TestScanBlockSize(t *testing.T) {
	const items = 100_000
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: 1}, Witness: make(wire.TxWitness, items)})
	tx.AddTxOut(&wire.TxOut{PkScript: []byte{0x51}})
	b := wire.NewMsgBlock(&wire.BlockHeader{})
	_ = b.AddTransaction(tx)
	var buf bytes.Buffer
	if err := b.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	sb, err := consensus.ScanBlock(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := sb.Decode()
	if err != nil {
		t.Fatal(err)
	}
	size := sb.DecodedSize
	if want := consensus.DecodedSize(decoded); size != want {
		t.Fatalf("ScanBlock's DecodedSize %d, DecodedSize %d", size, want)
	}
	if size < 24*items || size > 24*items+1024 {
		t.Fatalf("%d witness items of %d bytes estimated at %d bytes decoded", items, buf.Len(), size)
	}
	if _, err := consensus.ScanBlock(buf.Bytes()[:buf.Len()-1]); !errors.Is(err, consensus.ErrMalformed) {
		t.Fatalf("truncated block: %v", err)
	}
}
