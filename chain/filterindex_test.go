package chain

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/gcs"
	"github.com/btcsuite/btcd/btcutil/gcs/builder"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/utxo"
)

// newFilterHarness returns a harness on a fresh regtest chain that keeps the
// block filter index (and the transaction index).
func newFilterHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessConfig(t, chainparams.Regtest(), func(c *Config) { c.BlockFilterIndex = true })
}

// testKey returns a fixed private key made of the byte b, so that the
// scripts (and so the filters) of a test are the same on every run.
func testKey(b byte) *btcec.PrivateKey {
	k, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
	return k
}

// decodeTestFilter parses a filter as BlockFilter returns it.
func decodeTestFilter(t testing.TB, raw []byte) *gcs.Filter {
	t.Helper()
	f, err := gcs.FromNBytes(builder.DefaultP, builder.DefaultM, raw)
	if err != nil {
		t.Fatalf("decode filter %x: %v", raw, err)
	}
	return f
}

// checkFilterIndex ensures that the chain's block filter index holds, for
// every main-chain block, the BIP158 basic filter of the block's output
// scripts and of the scripts of the outputs it spends (tracked here from
// genesis, independently of the chain's undo data), and the header chained
// onto the previous block's, from all zeros at genesis. It returns the
// filters and headers by block hash.
func checkFilterIndex(t testing.TB, c *BlockChain) map[chainhash.Hash]filterWant {
	t.Helper()
	scripts := make(map[wire.OutPoint][]byte)
	out := make(map[chainhash.Hash]filterWant)
	var prev chainhash.Hash
	tip := c.BestSnapshot()
	for ht := int32(0); ht <= tip.Height; ht++ {
		block, err := c.BlockByHeight(ht)
		if err != nil {
			t.Fatalf("block at %d: %v", ht, err)
		}
		hash := block.BlockHash()
		var spent [][]byte
		for i, tx := range block.Transactions {
			if i > 0 {
				for _, in := range tx.TxIn {
					s, ok := scripts[in.PreviousOutPoint]
					if !ok {
						t.Fatalf("height %d spends unknown output %v", ht, in.PreviousOutPoint)
					}
					spent = append(spent, s)
					delete(scripts, in.PreviousOutPoint)
				}
			}
			txid := tx.TxHash()
			for o, txOut := range tx.TxOut {
				scripts[wire.OutPoint{Hash: txid, Index: uint32(o)}] = txOut.PkScript
			}
		}
		wantFilter, err := builder.BuildBasicFilter(block, spent)
		if err != nil {
			t.Fatal(err)
		}
		wantRaw, _ := wantFilter.NBytes()
		wantHeader, _ := builder.MakeHeaderForFilter(wantFilter, prev)

		raw, header, err := c.BlockFilter(hash)
		if err != nil {
			t.Fatalf("BlockFilter of the block at %d: %v", ht, err)
		}
		if !bytes.Equal(raw, wantRaw) {
			t.Fatalf("filter of the block at %d is %x, want %x", ht, raw, wantRaw)
		}
		// The header chains onto the previous one through the filter as
		// stored, as a BIP157 client checks it.
		if h, _ := builder.MakeHeaderForFilter(decodeTestFilter(t, raw), prev); header != wantHeader || h != header {
			t.Fatalf("filter header of the block at %d is %v, want %v", ht, header, wantHeader)
		}
		out[hash] = filterWant{filter: raw, header: header}
		prev = header
	}
	return out
}

// filterWant is a block's filter and filter header.
type filterWant struct {
	filter []byte
	header chainhash.Hash
}

// expectFilter checks that the chain's filter of the named block is want.
func (h *harness) expectFilter(name string, want filterWant) {
	h.t.Helper()
	raw, header, err := h.chain.BlockFilter(h.g.Block(name).BlockHash())
	if err != nil || !bytes.Equal(raw, want.filter) || header != want.header {
		h.t.Fatalf("filter of %q: %x, %v, %v; want %x, %v", name, raw, header, err, want.filter, want.header)
	}
}

// TestBlockFilterMatches ensures a block's filter matches the scripts of
// its outputs and of the outputs it spends, and not an unrelated script, an
// OP_RETURN output or the coinbase input; and that the OP_RETURN-only
// genesis block has the empty filter chained onto the zero header.
//
//	genesis -> fund(pays to A) -> m0 ... m99 -> spend(A -> B; m0 -> OP_TRUE, OP_RETURN)
func TestBlockFilterMatches(t *testing.T) {
	t.Parallel()
	h := newFilterHarness(t)
	keyA, keyB := testKey(0xa1), testKey(0xb2)
	scriptA, scriptB := chaintest.P2WPKHScript(keyA), chaintest.P2WPKHScript(keyB)
	unrelated := chaintest.P2WPKHScript(testKey(0xc3))
	nullData, _ := txscript.NullDataScript([]byte("cairn filter"))

	h.g.NextBlock("fund", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = scriptA })
	h.acceptTip()
	h.mine("m", 100)
	fundOut := h.g.CoinbaseOut("fund")
	fundOut.Key = keyA
	txAB, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{fundOut}, []int64{fundOut.Amount - 1000}, scriptB)
	if err != nil {
		t.Fatal(err)
	}
	txNull := chaintest.CreateSpendTx(h.g.CoinbaseOut("m0"), 1000)
	txNull.AddTxOut(&wire.TxOut{Value: 0, PkScript: nullData})
	h.g.NextBlock("spend", nil, []*wire.MsgTx{txAB, txNull})
	h.acceptTip()

	// Genesis pays to a bare OP_RETURN only: N = 0, no data, and its
	// header is dSHA256(dSHA256(0x00) || 32 zero bytes).
	raw, header, err := h.chain.BlockFilter(h.g.Net.GenesisHash())
	if err != nil || !bytes.Equal(raw, []byte{0}) {
		t.Fatalf("genesis filter %x, %v; want 00", raw, err)
	}
	filterHash := chainhash.DoubleHashB([]byte{0})
	if want := chainhash.DoubleHashH(append(filterHash, make([]byte, 32)...)); header != want {
		t.Fatalf("genesis filter header %v, want %v", header, want)
	}

	tests := []struct {
		name   string
		block  string
		script []byte
		want   bool
	}{
		{name: "fund: its coinbase output", block: "fund", script: scriptA, want: true},
		{name: "fund: a later output", block: "fund", script: scriptB, want: false},
		{name: "m5: OP_TRUE coinbase output", block: "m5", script: chaintest.OpTrueScript, want: true},
		{name: "m5: unrelated", block: "m5", script: scriptA, want: false},
		{name: "spend: output script", block: "spend", script: scriptB, want: true},
		{name: "spend: spent P2WPKH script", block: "spend", script: scriptA, want: true},
		{name: "spend: OP_TRUE outputs and spent script", block: "spend", script: chaintest.OpTrueScript, want: true},
		{name: "spend: OP_RETURN output", block: "spend", script: nullData, want: false},
		{name: "spend: coinbase input script", block: "spend", script: h.g.Block("spend").Transactions[0].TxIn[0].SignatureScript, want: false},
		{name: "spend: unrelated script", block: "spend", script: unrelated, want: false},
	}
	for _, test := range tests {
		hash := h.g.Block(test.block).BlockHash()
		raw, _, err := h.chain.BlockFilter(hash)
		if err != nil {
			t.Fatalf("%q: %v", test.name, err)
		}
		got, err := decodeTestFilter(t, raw).Match(builder.DeriveKey(&hash), test.script)
		if err != nil || got != test.want {
			t.Errorf("%q: match %v (%v), want %v", test.name, got, err, test.want)
		}
	}
	if f := decodeTestFilter(t, mustFilter(t, h, "spend")); f.N() != 3 {
		t.Errorf("spend filter holds %d elements, want 3 (OP_TRUE once, B, A; nothing for OP_RETURN)", f.N())
	}
	checkFilterIndex(t, h.chain)
}

// mustFilter returns the filter of the named block.
func mustFilter(t testing.TB, h *harness, name string) []byte {
	t.Helper()
	raw, _, err := h.chain.BlockFilter(h.g.Block(name).BlockHash())
	if err != nil {
		t.Fatalf("filter of %q: %v", name, err)
	}
	return raw
}

// TestBlockFilterErrors ensures BlockFilter tells an index that is off, an
// unknown block and a block without a filter (stored off the main chain, or
// a header only) apart.
//
//	genesis -> b0 -> b1 -> b2
//	               \-> s1        (stored, never connected)
//	               \-> h1        (header only)
func TestBlockFilterErrors(t *testing.T) {
	t.Parallel()
	h := newFilterHarness(t)
	h.mine("b", 3)
	h.g.SetTip("b0")
	h.g.NextBlock("s1", nil, nil)
	if res := h.accept("s1"); res.MainChain {
		t.Fatal("s1 became the tip")
	}
	h.g.SetTip("b0")
	hdr := h.g.NextBlock("h1", nil, nil).Header
	if _, err := h.chain.ProcessHeaders([]wire.BlockHeader{hdr}); err != nil {
		t.Fatal(err)
	}
	if !h.chain.BlockFilterIndexEnabled() {
		t.Fatal("BlockFilterIndexEnabled is false with Config.BlockFilterIndex")
	}
	off := newHarness(t)
	if off.chain.BlockFilterIndexEnabled() {
		t.Fatal("BlockFilterIndexEnabled is true without Config.BlockFilterIndex")
	}

	tests := []struct {
		name  string
		chain *BlockChain
		hash  chainhash.Hash
		want  error
	}{
		{name: "index off", chain: off.chain, hash: off.g.Net.GenesisHash(), want: ErrFilterIndexOff},
		{name: "unknown block", chain: h.chain, hash: chainhash.Hash{1}, want: ErrUnknownBlock},
		{name: "side block", chain: h.chain, hash: h.g.Block("s1").BlockHash(), want: ErrFilterNotFound},
		{name: "header only", chain: h.chain, hash: h.g.Block("h1").BlockHash(), want: ErrFilterNotFound},
		{name: "main chain", chain: h.chain, hash: h.g.Block("b2").BlockHash(), want: nil},
	}
	for _, test := range tests {
		_, _, err := test.chain.BlockFilter(test.hash)
		if !errors.Is(err, test.want) || (test.want == nil) != (err == nil) {
			t.Errorf("%q: got %v, want %v", test.name, err, test.want)
		}
	}
	if err := h.chain.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.chain.BlockFilter(h.g.Block("b2").BlockHash()); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: got %v, want %v", err, ErrClosed)
	}
	h.chain = nil
}

// TestBlockFilterIndexRestart ensures filters of blocks not yet flushed
// are served from memory, and that all of them survive a restart, whether
// written by a flush or by Close.
func TestBlockFilterIndexRestart(t *testing.T) {
	t.Parallel()
	h := newFilterHarness(t)
	h.mine("a", 101)
	h.g.NextBlock("spend", ptr(h.g.CoinbaseOut("a0")), nil)
	h.acceptTip()
	if n := len(h.chain.pendingFilters); n == 0 {
		t.Fatal("no filter pending before the first flush; the test no longer covers the pending path")
	}
	checkFilterIndex(t, h.chain)
	if err := h.chain.Flush(); err != nil {
		t.Fatal(err)
	}
	h.mine("b", 3)
	before := checkFilterIndex(t, h.chain)
	h.restart()
	after := checkFilterIndex(t, h.chain)
	if len(after) != len(before) {
		t.Fatalf("%d filters after the restart, %d before", len(after), len(before))
	}
	for hash, want := range before {
		if got := after[hash]; !bytes.Equal(got.filter, want.filter) || got.header != want.header {
			t.Fatalf("filter of %v changed across the restart", hash)
		}
	}
}

// TestBlockFilterIndexRebuild ensures that turning the index on builds it
// for the chain as it stands: from genesis on a chain that never had it,
// from the index tip when the chain only grew while it was off, and from
// genesis again when the chain reorganized away from the index tip while it
// was off. Filters of blocks no longer on the main chain stay.
//
//	genesis -> a0 ... a100 -> spend -> c0 -> c1 -> c2
//	                                \-> d0 -> d1 -> d2 -> d3
func TestBlockFilterIndexRebuild(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mine("a", 101)
	h.g.NextBlock("spend", ptr(h.g.CoinbaseOut("a0")), nil)
	h.acceptTip()
	if _, _, err := h.chain.BlockFilter(h.g.Block("spend").BlockHash()); !errors.Is(err, ErrFilterIndexOff) {
		t.Fatalf("BlockFilter with the index off: %v", err)
	}

	setIndex := func(on bool) {
		t.Helper()
		h.cfg.BlockFilterIndex = on
		h.restart()
	}
	setIndex(true) // never built: from genesis
	checkFilterIndex(t, h.chain)

	setIndex(false) // grows while off: from the index tip
	h.mine("c", 3)
	setIndex(true)
	onC := checkFilterIndex(t, h.chain)

	setIndex(false) // reorganizes while off: from genesis
	h.g.SetTip("spend")
	for i := 0; i < 4; i++ {
		h.g.NextBlock(fmt.Sprintf("d%d", i), nil, nil)
		h.accept(h.g.TipName())
	}
	h.expectTip("d3")
	setIndex(true)
	checkFilterIndex(t, h.chain)
	h.expectFilter("c2", onC[h.g.Block("c2").BlockHash()])

	// Nothing to do on the next start.
	h.restart()
	checkFilterIndex(t, h.chain)
}

// TestBlockFilterReorg ensures that after reorganizations the new main
// chain's blocks have their filters and chained headers, the filters of the
// blocks left behind stay valid, and a block connected again gets the same
// filter.
//
//	genesis -> fund -> m0 ... m99 -> a0(spends fund) -> a1 -> a2 -> a3
//	                              \-> s0(spends fund) -> s1 -> s2
func TestBlockFilterReorg(t *testing.T) {
	t.Parallel()
	h := newFilterHarness(t)
	keyA := testKey(0xa1)
	scriptA := chaintest.P2WPKHScript(keyA)
	h.g.NextBlock("fund", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = scriptA })
	h.acceptTip()
	h.mine("m", 100)
	fundOut := h.g.CoinbaseOut("fund")
	fundOut.Key = keyA
	spendTo := func(key byte) *wire.MsgTx {
		tx, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{fundOut}, []int64{fundOut.Amount - 1000},
			chaintest.P2WPKHScript(testKey(key)))
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}

	h.g.NextBlock("a0", nil, []*wire.MsgTx{spendTo(0xb1)})
	h.acceptTip()
	h.g.NextBlock("a1", nil, nil)
	h.acceptTip()
	onA := checkFilterIndex(t, h.chain)

	h.g.SetTip("m99")
	h.g.NextBlock("s0", nil, []*wire.MsgTx{spendTo(0xb2)})
	h.accept("s0")
	h.g.NextBlock("s1", nil, nil)
	h.accept("s1")
	h.expectTip("a1")
	if _, _, err := h.chain.BlockFilter(h.g.Block("s0").BlockHash()); !errors.Is(err, ErrFilterNotFound) {
		t.Fatalf("filter of the side block s0 before the reorg: %v", err)
	}
	h.g.NextBlock("s2", nil, nil)
	h.acceptTip()
	onS := checkFilterIndex(t, h.chain)
	for _, name := range []string{"a0", "a1"} {
		h.expectFilter(name, onA[h.g.Block(name).BlockHash()])
	}

	// Back to the a branch: a0 and a1 connect again.
	h.g.SetTip("a1")
	h.g.NextBlock("a2", nil, nil)
	h.accept("a2")
	h.g.NextBlock("a3", nil, nil)
	h.acceptTip()
	again := checkFilterIndex(t, h.chain)
	for _, name := range []string{"a0", "a1"} {
		hash := h.g.Block(name).BlockHash()
		if got, want := again[hash], onA[hash]; !bytes.Equal(got.filter, want.filter) || got.header != want.header {
			t.Fatalf("filter of %q changed when it connected again", name)
		}
	}
	h.restart()
	checkFilterIndex(t, h.chain)
	for _, name := range []string{"s0", "s1", "s2"} {
		h.expectFilter(name, onS[h.g.Block(name).BlockHash()])
	}
}

// TestBlockFilterConcurrent ensures BlockFilter may be called while blocks
// connect (run with -race): a block that is the tip always has its filter.
func TestBlockFilterConcurrent(t *testing.T) {
	t.Parallel()
	h := newFilterHarness(t)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var readErr error
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, _, err := h.chain.BlockFilter(h.chain.BestSnapshot().Hash); err != nil {
				readErr = err
				return
			}
		}
	}()
	h.mine("b", 30)
	close(done)
	wg.Wait()
	if readErr != nil {
		t.Fatalf("BlockFilter of the tip while blocks connect: %v", readErr)
	}
	checkFilterIndex(t, h.chain)
}

// bip158Vector is one case of BIP158's testnet-19.json test vectors
// (https://github.com/bitcoin/bips/blob/master/bip-0158/testnet-19.json):
// a testnet3 block, the scripts of the outputs it spends, the previous
// block's filter header and the expected basic filter and header. Hashes
// and headers are in display (byte-reversed) order.
type bip158Vector struct {
	height      int32
	hash        string
	block       string
	prevScripts []string
	prevHeader  string
	filter      string
	header      string
	note        string
}

// bip158Vectors are the cases of testnet-19.json that fit on a page.
var bip158Vectors = []bip158Vector{
	{
		height:     2,
		hash:       "000000006c02c8ea6e4ff69651f7fcde348fb9d557a06e6957b65552002a7820",
		block:      "0100000006128e87be8b1b4dea47a7247d5528d2702c96826c7a648497e773b800000000e241352e3bec0a95a6217e10c3abb54adfa05abb12c126695595580fb92e222032e7494dffff001d00d235340101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff0e0432e7494d010e062f503253482fffffffff0100f2052a010000002321038a7f6ef1c8ca0c588aa53fa860128077c9e6c11e6830f4d7ee4e763a56b7718fac00000000",
		prevHeader: "d7bdac13a59d745b1add0d2ce852f1a0442e8945fc1bf3848d3cbffd88c24fe1",
		filter:     "0174a170",
		header:     "186afd11ef2b5e7e3504f2e8cbf8df28a1fd251fe53d60dff8b1467d1b386cf0",
	},
	{
		height:     987876,
		hash:       "0000000000000c00901f2049055e2a437c819d79a3d54fd63e6af796cd7b8a79",
		block:      "000000202694f74969fdb542090e95a56bc8aa2d646e27033850e32f1c5f000000000000f7e53676b3f12d5beb524ed617f2d25f5a93b5f4f52c1ba2678260d72712f8dd0a6dfe5740257e1a4b1768960101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1603e4120ff9c30a1c216900002f424d4920546573742fffffff0001205fa012000000001e76a914c486de584a735ec2f22da7cd9681614681f92173d83d0aa68688ac00000000",
		prevHeader: "fe4d230dbb0f4fec9bed23a5283e08baf996e3f32b93f52c7de1f641ddfd04ad",
		filter:     "010c0b40",
		header:     "0965a544743bbfa36f254446e75630c09404b3d164a261892372977538928ed5",
		note:       "Coinbase tx has unparsable output script",
	},
	{
		height:      1263442,
		hash:        "000000006f27ddfe1dd680044a34548f41bed47eba9e6f0b310da21423bc5f33",
		block:       "000000201c8d1a529c39a396db2db234d5ec152fa651a2872966daccbde028b400000000083f14492679151dbfaa1a825ef4c18518e780c1f91044180280a7d33f4a98ff5f45765aaddc001d38333b9a02010000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff230352471300fe5f45765afe94690a000963676d696e6572343208000000000000000000ffffffff024423a804000000001976a914f2c25ac3d59f3d674b1d1d0a25c27339aaac0ba688ac0000000000000000266a24aa21a9edcb26cb3052426b9ebb4d19c819ef87c19677bbf3a7c46ef0855bd1b2abe83491012000000000000000000000000000000000000000000000000000000000000000000000000002000000000101d20978463906ba4ff5e7192494b88dd5eb0de85d900ab253af909106faa22cc5010000000004000000014777ff000000000016001446c29eabe8208a33aa1023c741fa79aa92e881ff0347304402207d7ca96134f2bcfdd6b536536fdd39ad17793632016936f777ebb32c22943fda02206014d2fb8a6aa58279797f861042ba604ebd2f8f61e5bddbd9d3be5a245047b201004b632103eeaeba7ce5dc2470221e9517fb498e8d6bd4e73b85b8be655196972eb9ccd5566754b2752103a40b74d43df244799d041f32ce1ad515a6cd99501701540e38750d883ae21d3a68ac00000000",
		prevScripts: []string{"002027a5000c7917f785d8fc6e5a55adfca8717ecb973ebb7743849ff956d896a7ed"},
		prevHeader:  "31d66d516a9eda7de865df29f6ef6cb8e4bf9309e5dac899968a9a62a5df61e3",
		filter:      "0385acb4f0fe889ef0",
		header:      "4e6d564c2a2452065c205dd7eb2791124e0c4e0dbb064c410c24968572589dec",
		note:        "Includes witness data",
	},
	{
		height:     1414221,
		hash:       "0000000000000027b2b3b3381f114f674f481544ff2be37ae3788d7e078383b1",
		block:      "000000204ea88307a7959d8207968f152bedca5a93aefab253f1fb2cfb032a400000000070cebb14ec6dbc27a9dfd066d9849a4d3bac5f674665f73a5fe1de01a022a0c851fda85bf05f4c19a779d1450102000000010000000000000000000000000000000000000000000000000000000000000000ffffffff18034d94154d696e6572476174653030310d000000f238f401ffffffff01c817a804000000000000000000",
		prevHeader: "5e5e12d90693c8e936f01847859404c67482439681928353ca1296982042864e",
		filter:     "00",
		header:     "021e8882ef5a0ed932edeebbecfeda1d7ce528ec7b3daa27641acf1189d7b5dc",
		note:       "Empty data",
	},
}

// TestBlockFilterBIP158Vectors checks the filter code against BIP158's
// official test vectors: calcBasicFilter on blocks of testnet-19.json, and
// the whole index on a network whose genesis is Bitcoin testnet3's, whose
// filter and header the vectors give (height 0). Bitcoin's regtest genesis
// has the same coinbase but another hash, hence another filter key, and no
// official vector, so it is not checked.
func TestBlockFilterBIP158Vectors(t *testing.T) {
	t.Parallel()
	for _, v := range bip158Vectors {
		raw, err := hex.DecodeString(v.block)
		if err != nil {
			t.Fatalf("block %d: %v", v.height, err)
		}
		var block wire.MsgBlock
		if err := block.Deserialize(bytes.NewReader(raw)); err != nil {
			t.Fatalf("block %d: %v", v.height, err)
		}
		if got := block.BlockHash().String(); got != v.hash {
			t.Fatalf("block %d hashes to %s, want %s", v.height, got, v.hash)
		}
		var spent []*utxo.Entry
		for _, s := range v.prevScripts {
			script, _ := hex.DecodeString(s)
			spent = append(spent, &utxo.Entry{PkScript: script})
		}
		prev, err := chainhash.NewHashFromStr(v.prevHeader)
		if err != nil {
			t.Fatal(err)
		}
		rec, header, err := calcBasicFilter(&block, spent, *prev)
		if err != nil {
			t.Fatalf("block %d: %v", v.height, err)
		}
		filter, stored, err := decodeFilterRecord(rec)
		if err != nil || stored != header {
			t.Fatalf("block %d: record does not decode to its header: %v", v.height, err)
		}
		if hex.EncodeToString(filter) != v.filter || header.String() != v.header {
			t.Errorf("block %d (%s): filter %x header %v, want %s %s", v.height, v.note, filter, header, v.filter, v.header)
		}
	}

	// Height 0 of testnet-19.json: the testnet3 genesis block.
	var buf bytes.Buffer
	if err := chaincfg.TestNet3Params.GenesisBlock.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf(`{"name": "bip158", "difficulty": "asert", "genesis": {"hex": %q}}`, hex.EncodeToString(buf.Bytes()))
	net, err := chainparams.ParseSpec([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	const genesisHash = "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"
	if net.GenesisHash().String() != genesisHash {
		t.Fatalf("genesis %v, want testnet3's %s", net.GenesisHash(), genesisHash)
	}
	c, err := New(Config{Dir: t.TempDir(), Network: net, BlockFilterIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	filter, header, err := c.BlockFilter(net.GenesisHash())
	if err != nil {
		t.Fatal(err)
	}
	const wantFilter, wantHeader = "019dfca8", "21584579b7eb08997773e5aeff3a7f932700042d0ed2a6129012b7d7ae81b750"
	if hex.EncodeToString(filter) != wantFilter || header.String() != wantHeader {
		t.Errorf("testnet3 genesis: filter %x header %v, want %s %s", filter, header, wantFilter, wantHeader)
	}
}
