package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/gcs/builder"
	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/rpcclient"
)

func TestMain(m *testing.M) {
	lockWait = 100 * time.Millisecond
	os.Exit(m.Run())
}

// testOptions create the tests' wallets with a cheap key derivation, so
// that they open fast; the file stores its cost.
var testOptions = CreateOptions{KDF: KDFParams{Time: 1, Memory: 64, Threads: 1}}

// TestCreateKDF ensures a wallet file is sealed at the cost Create is
// given, or at the default one for none, keeps it across saves, and that
// a cost no wallet file may state is refused before any file is written.
func TestCreateKDF(t *testing.T) {
	net := chainparams.Regtest()
	dir := t.TempDir()
	kdfOf := func(path string) KDFParams {
		t.Helper()
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var env envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		return env.Params
	}
	fast := filepath.Join(dir, "fast")
	w, err := Create(fast, []byte("pw"), net, abandon, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.NewAddress(P2WPKH); err != nil {
		t.Fatal(err)
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := kdfOf(fast); got != testOptions.KDF {
		t.Fatalf("file sealed with %+v, want %+v", got, testOptions.KDF)
	}

	// No cost given is the default one (not sealed here: it takes a
	// while on purpose).
	if got := (CreateOptions{Birthday: 7}).kdf(); got != DefaultKDFParams() || !got.valid() {
		t.Fatalf("no cost given: %+v, want the default %+v", got, DefaultKDFParams())
	}

	bad := filepath.Join(dir, "bad")
	if _, err := Create(bad, []byte("pw"), net, abandon, CreateOptions{KDF: KDFParams{Time: 1, Memory: 64}}); err == nil ||
		!strings.Contains(err.Error(), "out of bounds") {
		t.Fatalf("zero threads: %v", err)
	}
	if _, err := os.Stat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused wallet left a file: %v", err)
	}
}

// TestFileEncryption ensures a wallet file opens with its password only,
// holds nothing readable, and that a wrong password or a damaged file is
// a clear error that leaves the file as it was.
func TestFileEncryption(t *testing.T) {
	net := chainparams.Regtest()
	path := filepath.Join(t.TempDir(), "wallet.dat")
	w, err := Create(path, []byte("correct horse"), net, abandon, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	// The file is locked while open.
	if _, err := Open(path, []byte("correct horse"), net); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("open while open: %v", err)
	}
	w.Close()
	if _, err := Create(path, []byte("x"), net, abandon, testOptions); !errors.Is(err, ErrWalletExists) {
		t.Fatalf("second create: %v", err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", info.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("abandon")) {
		t.Fatal("the mnemonic is readable in the file")
	}
	if _, err := Open(path, []byte("wrong"), net); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, raw) {
		t.Fatal("a wrong password changed the file")
	}
	w2, err := Open(path, []byte("correct horse"), net)
	if err != nil || w2.Mnemonic() != w.Mnemonic() {
		t.Fatalf("reopen: %v", err)
	}
	w2.Close()
	if _, err := Open(path, []byte("correct horse"), chainparams.Main()); err == nil {
		t.Fatal("a regtest wallet opened as main")
	}
	// Any changed byte of the sealed part or the parameters fails.
	for _, mutate := range []func([]byte) []byte{
		func(b []byte) []byte { i := bytes.Index(b, []byte(`"sealed": "`)) + 15; b[i] ^= 1; return b },
		func(b []byte) []byte { return bytes.Replace(b, []byte(`"time": 1`), []byte(`"time": 2`), 1) },
		func(b []byte) []byte { return b[:len(b)/2] },
	} {
		bad := filepath.Join(t.TempDir(), "bad.dat")
		_ = os.WriteFile(bad, mutate(append([]byte(nil), raw...)), 0o600)
		if _, err := Open(bad, []byte("correct horse"), net); err == nil {
			t.Fatal("a damaged file opened")
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none"), []byte("x"), net); !errors.Is(err, ErrNoWallet) {
		t.Fatalf("missing file: %v", err)
	}
	// A tampered file cannot make the command derive at any cost: its
	// parameters are refused before any key is derived (deriving 4 GiB x
	// 100 passes would take this test minutes and gigabytes).
	for _, params := range []string{
		`{"time": 100, "memory_kib": 4194304, "threads": 4}`,
		`{"time": 16, "memory_kib": 1048576, "threads": 4}`, // 16 GiB-passes in all
		`{"time": 1, "memory_kib": 2097152, "threads": 4}`,
		`{"time": 1, "memory_kib": 64, "threads": 255}`,
		`{"time": 0, "memory_kib": 64, "threads": 1}`,
	} {
		var env map[string]json.RawMessage
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		env["kdf_params"] = json.RawMessage(params)
		tampered, _ := json.Marshal(env)
		bad := filepath.Join(t.TempDir(), "tampered.dat")
		_ = os.WriteFile(bad, tampered, 0o600)
		if _, err := Open(bad, []byte("correct horse"), net); err == nil || !strings.Contains(err.Error(), "tampered") {
			t.Fatalf("kdf_params %s: %v", params, err)
		}
	}
}

// TestSelectCoins covers branch and bound's exact match, the fallback with
// change, and insufficient funds.
func TestSelectCoins(t *testing.T) {
	coin := func(v int64, i uint32) Coin {
		return Coin{OutPoint: wire.OutPoint{Index: i}, Value: v, Path: KeyPath{Type: P2WPKH}}
	}
	rate := 1.0
	inFee := feeFor(inputVBWPKH, rate)
	base := feeFor(txOverheadVB+31, rate)
	// Exactly 30,000 + fees from two coins: no change.
	coins := []Coin{coin(100_000, 0), coin(20_000+inFee, 1), coin(10_000+inFee+base, 2), coin(7_000, 3)}
	sel, err := SelectCoins(coins, 30_000, 31, rate, 294)
	if err != nil || sel.Change != 0 || len(sel.Coins) != 2 {
		t.Fatalf("exact match: %+v, %v", sel, err)
	}
	// 60,000: no exact set, so the largest coin with change.
	sel, err = SelectCoins(coins, 60_000, 31, rate, 294)
	if err != nil || sel.Change == 0 || len(sel.Coins) != 1 || sel.Coins[0].Value != 100_000 {
		t.Fatalf("with change: %+v, %v", sel, err)
	}
	if got := sel.Change + sel.Fee + 60_000; got != 100_000 {
		t.Fatalf("change %d + fee %d + amount do not add up to the input", sel.Change, sel.Fee)
	}
	if _, err := SelectCoins(coins, 1_000_000, 31, rate, 294); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("insufficient: %v", err)
	}
}

// fakeNode serves a chaintest chain with BIP158 filters, as a node would.
type fakeNode struct {
	blocks  []*wire.MsgBlock // by height; [0] is genesis
	outputs map[wire.OutPoint][]byte
	sent    []*wire.MsgTx
	refuse  error         // SendRawTransaction's answer when set
	pool    []*wire.MsgTx // the node's transaction pool
}

func newFakeNode(net *chainparams.Network) *fakeNode {
	return &fakeNode{blocks: []*wire.MsgBlock{net.Genesis}, outputs: make(map[wire.OutPoint][]byte)}
}

// setChain makes blocks (after genesis) the node's chain.
func (f *fakeNode) setChain(blocks []*wire.MsgBlock) {
	f.blocks = append(f.blocks[:1], blocks...)
	for _, b := range blocks {
		for _, tx := range b.Transactions {
			for i, out := range tx.TxOut {
				f.outputs[wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}] = out.PkScript
			}
		}
	}
}

func (f *fakeNode) BlockCount() (int32, error) { return int32(len(f.blocks) - 1), nil }
func (f *fakeNode) BlockHash(h int32) (chainhash.Hash, error) {
	return consensus.BlockHash(&f.blocks[h].Header), nil
}
func (f *fakeNode) BlockFilter(hash chainhash.Hash) ([]byte, error) {
	for _, b := range f.blocks {
		if consensus.BlockHash(&b.Header) == hash {
			var prev [][]byte
			for _, tx := range b.Transactions[1:] {
				for _, in := range tx.TxIn {
					prev = append(prev, f.outputs[in.PreviousOutPoint])
				}
			}
			filter, err := builder.BuildBasicFilter(b, prev)
			if err != nil {
				return nil, err
			}
			return filter.NBytes()
		}
	}
	return nil, errors.New("unknown block")
}
func (f *fakeNode) Block(hash chainhash.Hash) (*wire.MsgBlock, error) {
	for _, b := range f.blocks {
		if consensus.BlockHash(&b.Header) == hash {
			return b, nil
		}
	}
	return nil, errors.New("unknown block")
}
func (f *fakeNode) SendRawTransaction(tx *wire.MsgTx) error {
	if f.refuse != nil {
		return f.refuse
	}
	f.sent = append(f.sent, tx)
	return nil
}
func (f *fakeNode) EstimateFee(int) (float64, error) { return 0, errors.New("no estimate") }

// TestScanSendReorg follows a wallet through mining to it, a send, the
// send's confirmation, a reorganization that unconfirms it, and its
// confirmation again; and a second wallet finding its coins by the gap
// limit.
func TestScanSendReorg(t *testing.T) {
	net := chainparams.Regtest()
	g := chaintest.New(net)
	node := newFakeNode(net)
	a, err := Create(filepath.Join(t.TempDir(), "a"), []byte("pw"), net, abandon, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Create(filepath.Join(t.TempDir(), "b"), []byte("pw"), net, "legal winner thank year wave sausage worth useful legal winner thank yellow", testOptions)
	if err != nil {
		t.Fatal(err)
	}
	addrA, _ := a.NewAddress(P2TR) // a taproot coinbase: the send signs a key-path spend
	scriptA, _ := payScript(addrA)
	var blocks []*wire.MsgBlock
	blocks = append(blocks, g.NextBlock("cb", nil, nil, func(m *wire.MsgBlock) { m.Transactions[0].TxOut[0].PkScript = scriptA }))
	for i := 0; i < 99; i++ {
		blocks = append(blocks, g.NextBlock("m"+itoa(i), nil, nil))
	}
	node.setChain(blocks)
	tip, res, err := a.Scan(node)
	if err != nil || tip != 100 || res.Fetched != 1 {
		t.Fatalf("scan: tip %d, %+v, %v", tip, res, err)
	}
	if bal := a.Balance(tip); bal.Immature != 50*btcutil.SatoshiPerBitcoin || bal.Confirmed != 0 {
		t.Fatalf("at 100 confirmations short of one: %+v", bal)
	}
	blocks = append(blocks, g.NextBlock("m99", nil, nil))
	node.setChain(blocks)
	tip, _, _ = a.Scan(node)
	if bal := a.Balance(tip); bal.Confirmed != 50*btcutil.SatoshiPerBitcoin || bal.Immature != 0 {
		t.Fatalf("mature: %+v", bal)
	}

	// Pay b's address 16 (within the gap limit of 20 from 0).
	var pathB KeyPath
	pathB = KeyPath{Type: P2WPKH, Chain: External, Index: 16}
	addrB, _, _ := b.keys.Address(pathB)
	tx, fee, err := a.CreateTx(SendRequest{To: addrB, Amount: 10 * btcutil.SatoshiPerBitcoin, FeeRate: 2}, tip)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Broadcast(node, tx, fee, ""); err != nil {
		t.Fatal(err)
	}
	if vsize := (tx.SerializeSizeStripped()*3 + tx.SerializeSize() + 3) / 4; fee < int64(2*vsize) || fee > int64(2*vsize)+10 {
		t.Fatalf("fee %d for %d vbytes at 2/vB", fee, vsize)
	}
	bal := a.Balance(tip)
	if bal.Confirmed != 0 || bal.Unconfirmed != 40*btcutil.SatoshiPerBitcoin-fee {
		t.Fatalf("after the send: %+v", bal)
	}

	fork := len(blocks)
	blocks = append(blocks, g.NextBlock("x", nil, []*wire.MsgTx{tx}))
	node.setChain(blocks)
	tip, _, _ = a.Scan(node)
	if bal := a.Balance(tip); bal.Confirmed != 40*btcutil.SatoshiPerBitcoin-fee || bal.Unconfirmed != 0 {
		t.Fatalf("after confirmation: %+v", bal)
	}
	if _, _, err := b.Scan(node); err != nil {
		t.Fatal(err)
	}
	if got := b.Balance(tip).Confirmed; got != 10*btcutil.SatoshiPerBitcoin {
		t.Fatalf("b found %d", got)
	}
	h := a.History()
	if len(h) != 2 || h[1].Amount != -10*btcutil.SatoshiPerBitcoin || h[1].Fee != fee {
		t.Fatalf("history %+v", h)
	}

	// A longer branch without the send: it is pending again.
	g.SetTip("m99")
	alt := append([]*wire.MsgBlock(nil), blocks[:fork]...)
	alt = append(alt, g.NextBlock("y1", nil, nil), g.NextBlock("y2", nil, nil))
	node.setChain(alt)
	tip, res, err = a.Scan(node)
	if err != nil || res.Reorged != int32(fork) {
		t.Fatalf("reorg scan: %+v, %v", res, err)
	}
	if bal := a.Balance(tip); bal.Confirmed != 0 || bal.Unconfirmed != 40*btcutil.SatoshiPerBitcoin-fee {
		t.Fatalf("after the reorg: %+v", bal)
	}
	alt = append(alt, g.NextBlock("y3", nil, []*wire.MsgTx{tx}))
	node.setChain(alt)
	tip, _, _ = a.Scan(node)
	if bal := a.Balance(tip); bal.Confirmed != 40*btcutil.SatoshiPerBitcoin-fee {
		t.Fatalf("confirmed again: %+v", bal)
	}
}

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

func payScript(a btcutil.Address) ([]byte, error) { return txscriptPay(a) }

// funded returns a wallet holding one mature 50-coin P2WPKH coinbase and
// the node serving its chain.
func funded(t *testing.T) (*Wallet, *fakeNode, *chaintest.Generator, []*wire.MsgBlock, int32) {
	t.Helper()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	node := newFakeNode(net)
	w, err := Create(filepath.Join(t.TempDir(), "w"), []byte("pw"), net, abandon, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := w.NewAddress(P2WPKH)
	script, _ := payScript(addr)
	blocks := []*wire.MsgBlock{g.NextBlock("cb", nil, nil, func(m *wire.MsgBlock) { m.Transactions[0].TxOut[0].PkScript = script })}
	for i := 0; i < 100; i++ {
		blocks = append(blocks, g.NextBlock("m"+itoa(i), nil, nil))
	}
	node.setChain(blocks)
	tip, _, err := w.Scan(node)
	if err != nil {
		t.Fatal(err)
	}
	return w, node, g, blocks, tip
}

// TestBumpFee ensures a pending send is replaced by one paying at least
// the BIP125 increment more, taken from its change, that the replaced one
// no longer counts, and that confirmed or foreign transactions are refused.
func TestBumpFee(t *testing.T) {
	w, node, g, blocks, tip := funded(t)
	to, err := w.net.DecodeAddress("rcrn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5p0994")
	if err != nil {
		t.Fatal(err)
	}
	tx, fee, err := w.CreateTx(SendRequest{To: to, Amount: btcutil.SatoshiPerBitcoin, FeeRate: 1}, tip)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Broadcast(node, tx, fee, ""); err != nil {
		t.Fatal(err)
	}
	if tx.TxIn[0].Sequence > wire.MaxTxInSequenceNum-2 {
		t.Fatal("the send does not signal replaceability")
	}
	bumped, newFee, err := w.BumpFee(tx.TxHash().String(), 5)
	if err != nil {
		t.Fatal(err)
	}
	vsize := VirtualSize(bumped)
	if newFee < 5*vsize || newFee < fee+vsize || bumped.TxOut[0].Value != tx.TxOut[0].Value {
		t.Fatalf("bumped fee %d for %d vbytes (old %d), payment %d", newFee, vsize, fee, bumped.TxOut[0].Value)
	}
	if err := w.Broadcast(node, bumped, newFee, tx.TxHash().String()); err != nil {
		t.Fatal(err)
	}
	if bal := w.Balance(tip); bal.Unconfirmed != 49*btcutil.SatoshiPerBitcoin-newFee {
		t.Fatalf("balance after the bump: %+v", bal)
	}
	if _, _, err := w.BumpFee(tx.TxHash().String(), 10); !errors.Is(err, ErrNotBumpable) {
		t.Fatalf("bumping a replaced transaction: %v", err)
	}
	blocks = append(blocks, g.NextBlock("x", nil, []*wire.MsgTx{bumped}))
	node.setChain(blocks)
	tip, _, _ = w.Scan(node)
	if _, _, err := w.BumpFee(bumped.TxHash().String(), 10); !errors.Is(err, ErrNotBumpable) {
		t.Fatalf("bumping a confirmed transaction: %v", err)
	}
	if bal := w.Balance(tip); bal.Confirmed != 49*btcutil.SatoshiPerBitcoin-newFee {
		t.Fatalf("balance after confirmation: %+v", bal)
	}
}

// TestPSBTRoundTrip ensures a PSBT created by one copy of the wallet is
// signed by another that has only the file, and finalizes into a valid
// transaction; and that the send errors are clear.
func TestPSBTRoundTrip(t *testing.T) {
	w, _, _, _, tip := funded(t)
	to, err := w.net.DecodeAddress("rcrn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5p0994")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := w.PSBTCreate(SendRequest{To: to, Amount: btcutil.SatoshiPerBitcoin, FeeRate: 3}, tip)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := EncodePSBT(p)
	if _, err := PSBTFinalize(p); err == nil {
		t.Fatal("an unsigned PSBT finalized")
	}
	if err := w.Save(); err != nil { // the signer checks against the saved coins
		t.Fatal(err)
	}
	w.Close()
	offline, err := Open(w.path, []byte("pw"), w.net)
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	p2, err := DecodePSBT(enc)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := offline.PSBTCheck(p2)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Inputs) != 1 || !sum.Inputs[0].Mine || len(sum.Outputs) != 2 || sum.Outputs[0].Mine || !sum.Outputs[1].Mine ||
		sum.Outputs[0].Address != to.EncodeAddress() || sum.Outputs[0].Value != btcutil.SatoshiPerBitcoin ||
		sum.Fee != sum.Inputs[0].Value-sum.Outputs[0].Value-sum.Outputs[1].Value || sum.FeeRate < 2.9 || sum.FeeRate > 3.1 {
		t.Fatalf("summary %+v", sum)
	}
	// What the wallet's records contradict is refused before signing.
	for _, tc := range []struct {
		name   string
		mutate func(p *psbt.Packet)
		want   string
	}{
		{"understated input value (the segwit fee attack)", func(p *psbt.Packet) { p.Inputs[0].WitnessUtxo.Value -= 1000 }, "record of that coin"},
		{"invented coin", func(p *psbt.Packet) { p.UnsignedTx.TxIn[0].PreviousOutPoint.Index += 7 }, "no record"},
		{"previous transaction of another output", func(p *psbt.Packet) { p.Inputs[0].NonWitnessUtxo = wire.NewMsgTx(2) }, "previous transaction"},
		{"more paid than spent", func(p *psbt.Packet) { p.UnsignedTx.TxOut[0].Value += 100 * btcutil.SatoshiPerBitcoin }, "from inputs of"},
		{"no witness UTXO", func(p *psbt.Packet) { p.Inputs[0].WitnessUtxo = nil }, "no witness UTXO"},
	} {
		bad, _ := DecodePSBT(enc)
		tc.mutate(bad)
		if _, err := offline.PSBTCheck(bad); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if n, err := offline.PSBTSign(p2); err != nil || n != 1 {
		t.Fatalf("signed %d inputs: %v", n, err)
	}
	tx, err := PSBTFinalize(p2)
	if err != nil {
		t.Fatal(err)
	}
	if tx.TxOut[0].Value != btcutil.SatoshiPerBitcoin {
		t.Fatalf("payment %d", tx.TxOut[0].Value)
	}
	if _, err := DecodePSBT("not a psbt"); err == nil {
		t.Fatal("garbage decoded as a PSBT")
	}

	mainAddr, _ := btcutil.DecodeAddress("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", &chaincfg.MainNetParams)
	for _, tc := range []struct {
		req  SendRequest
		want error
	}{
		{SendRequest{To: to, Amount: 100 * btcutil.SatoshiPerBitcoin}, ErrInsufficientFunds},
		{SendRequest{To: to, Amount: 100}, ErrDust},
	} {
		if _, _, err := w.CreateTx(tc.req, tip); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.req, err, tc.want)
		}
	}
	if _, _, err := w.CreateTx(SendRequest{To: mainAddr, Amount: btcutil.SatoshiPerBitcoin}, tip); err == nil {
		t.Error("paid an address of another network")
	}
	// Subtracting the fee pays the whole balance in one output.
	tx, fee, err := w.CreateTx(SendRequest{To: to, Amount: 50 * btcutil.SatoshiPerBitcoin, FeeRate: 2, SubtractFee: true}, tip)
	if err != nil || len(tx.TxOut) != 1 || tx.TxOut[0].Value != 50*btcutil.SatoshiPerBitcoin-fee {
		t.Fatalf("subtract fee: %v, fee %d, outputs %d", err, fee, len(tx.TxOut))
	}
}

// TestGapLimit ensures the wallet watches GapLimit addresses past the last
// used one of a chain, finding payments that stay within the gap of each
// other and not one beyond it.
func TestGapLimit(t *testing.T) {
	a, node, g, blocks, tip := funded(t)
	b, err := Create(filepath.Join(t.TempDir(), "b"), []byte("pw"), a.net, "legal winner thank year wave sausage worth useful legal winner thank yellow", testOptions)
	if err != nil {
		t.Fatal(err)
	}
	// 19 is within the first 20; 19+20 = 39 within the next; 39+21 = 60 is past.
	for _, i := range []uint32{19, 39, 60} {
		addr, _, _ := b.keys.Address(KeyPath{Type: P2WPKH, Chain: External, Index: i})
		pay, fee, err := a.CreateTx(SendRequest{To: addr, Amount: btcutil.SatoshiPerBitcoin, FeeRate: 1}, tip)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Broadcast(node, pay, fee, ""); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, g.NextBlock("gap"+itoa(int(i)), nil, []*wire.MsgTx{pay}))
		node.setChain(blocks)
		if tip, _, err = a.Scan(node); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := b.Scan(node); err != nil {
		t.Fatal(err)
	}
	if got := b.Balance(tip).Confirmed; got != 2*btcutil.SatoshiPerBitcoin {
		t.Fatalf("b found %d, want the payments to indexes 19 and 39 only", got)
	}
	if addr, _ := b.NewAddress(P2WPKH); addr.EncodeAddress() == "" || b.st.Next["wpkh/0"] != 41 {
		t.Fatalf("next receive index %d, want 41 after using 39 and handing out 40", b.st.Next["wpkh/0"])
	}
}

// TestReplacementEdges covers what the review found: the original of a
// bump confirming instead of the bump, a bump refused while a pending
// child spends the change, a coinbase reorganized away, a pending send the
// node no longer takes, and a payment whose leftover cannot make change.
func TestReplacementEdges(t *testing.T) {
	w, node, g, blocks, tip := funded(t)
	to, err := w.net.DecodeAddress("rcrn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5p0994")
	if err != nil {
		t.Fatal(err)
	}
	orig, fee, err := w.CreateTx(SendRequest{To: to, Amount: btcutil.SatoshiPerBitcoin, FeeRate: 1}, tip)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Broadcast(node, orig, fee, ""); err != nil {
		t.Fatal(err)
	}
	// A pending child spending the change blocks a bump of the parent.
	child, childFee, err := w.CreateTx(SendRequest{To: to, Amount: btcutil.SatoshiPerBitcoin, FeeRate: 1}, tip)
	if err != nil || child.TxIn[0].PreviousOutPoint.Hash != orig.TxHash() {
		t.Fatalf("child %v: %v", child, err)
	}
	if err := w.Broadcast(node, child, childFee, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.BumpFee(orig.TxHash().String(), 5); !errors.Is(err, ErrNotBumpable) {
		t.Fatalf("bump with a pending child: %v", err)
	}
	// The node forgot the child and now refuses it: it is abandoned and
	// its coin counts again.
	node.refuse = &rpcclient.Error{Code: -25, Message: "bad-txns-inputs-missingorspent"}
	w.find(orig.TxHash().String()).Seen = 0 // the parent is offered first; refused too, abandoned too
	if n := w.Rebroadcast(node); n != 2 {
		t.Fatalf("abandoned %d", n)
	}
	if bal := w.Balance(tip); bal.Confirmed != 50*btcutil.SatoshiPerBitcoin || bal.Unconfirmed != 0 {
		t.Fatalf("after abandoning both: %+v", bal)
	}
	node.refuse = nil
	// Send again, bump it, and let the original confirm instead.
	orig, fee, _ = w.CreateTx(SendRequest{To: to, Amount: btcutil.SatoshiPerBitcoin, FeeRate: 1}, tip)
	_ = w.Broadcast(node, orig, fee, "")
	bump, bumpFee, err := w.BumpFee(orig.TxHash().String(), 5)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Broadcast(node, bump, bumpFee, orig.TxHash().String())
	blocks = append(blocks, g.NextBlock("orig", nil, []*wire.MsgTx{orig}))
	node.setChain(blocks)
	tip, _, _ = w.Scan(node)
	if bal := w.Balance(tip); bal.Confirmed != 49*btcutil.SatoshiPerBitcoin-fee || bal.Unconfirmed != 0 {
		t.Fatalf("the original confirmed: %+v (fee %d)", bal, fee)
	}
	if r := w.find(bump.TxHash().String()); r.ReplacedBy != orig.TxHash().String() {
		t.Fatalf("the bump should now be replaced by the original: %+v", r)
	}
	if spend := w.Spendable(tip); len(spend) != 1 || spend[0].OutPoint.Hash != orig.TxHash() {
		t.Fatalf("spendable %+v, want only the original's change", spend)
	}

	// A coinbase to the wallet reorganized away is gone, not pending.
	addr, _ := w.NewAddress(P2WPKH)
	script, _ := payScript(addr)
	base := len(blocks)
	blocks = append(blocks, g.NextBlock("cb2", nil, nil, func(m *wire.MsgBlock) { m.Transactions[0].TxOut[0].PkScript = script }))
	node.setChain(blocks)
	w.Scan(node)
	g.SetTip("orig")
	alt := append(append([]*wire.MsgBlock(nil), blocks[:base]...), g.NextBlock("z1", nil, nil), g.NextBlock("z2", nil, nil))
	node.setChain(alt)
	tip, _, _ = w.Scan(node)
	if bal := w.Balance(tip); bal.Unconfirmed != 0 || bal.Immature != 0 {
		t.Fatalf("after the coinbase's block left the chain: %+v", bal)
	}

	// One coin of 100,000 pays 99,590 without change: the leftover after
	// the fee is above dust but too small to pay for a change output.
	coins := []Coin{{OutPoint: wire.OutPoint{Index: 9}, Value: 100_000, Path: KeyPath{Type: P2WPKH}}}
	sel, err := SelectCoins(coins, 99_590, 31, 1, 294)
	if err != nil || sel.Change != 0 || sel.Fee != 410 {
		t.Fatalf("selection %+v, %v", sel, err)
	}
}

// TestCancelTx ensures a cancel spends the send's inputs back to the
// wallet, paying more fee than the send, and that the wallet counts the
// money as its own again once it confirms.
func TestCancelTx(t *testing.T) {
	w, node, g, blocks, tip := funded(t)
	to, _ := w.net.DecodeAddress("rcrn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5p0994")
	send, fee, err := w.CreateTx(SendRequest{To: to, Amount: 5 * btcutil.SatoshiPerBitcoin, FeeRate: 1}, tip)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Broadcast(node, send, fee, ""); err != nil {
		t.Fatal(err)
	}
	cancel, cfee, err := w.CancelTx(send.TxHash().String(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if cfee <= fee || len(cancel.TxOut) != 1 || cancel.TxIn[0].PreviousOutPoint != send.TxIn[0].PreviousOutPoint {
		t.Fatalf("cancel: fee %d (send %d), %d outputs", cfee, fee, len(cancel.TxOut))
	}
	if err := w.Broadcast(node, cancel, cfee, send.TxHash().String()); err != nil {
		t.Fatal(err)
	}
	blocks = append(blocks, g.NextBlock("c", nil, []*wire.MsgTx{cancel}))
	node.setChain(blocks)
	tip, _, _ = w.Scan(node)
	if bal := w.Balance(tip); bal.Confirmed != 50*btcutil.SatoshiPerBitcoin-cfee {
		t.Fatalf("after the cancel confirmed: %+v", bal)
	}
}

func (f *fakeNode) MempoolTxIDs() ([]chainhash.Hash, error) {
	var ids []chainhash.Hash
	for _, tx := range f.pool {
		ids = append(ids, tx.TxHash())
	}
	return ids, nil
}

func (f *fakeNode) MempoolTx(txid chainhash.Hash) (*wire.MsgTx, error) {
	for _, tx := range f.pool {
		if tx.TxHash() == txid {
			return tx, nil
		}
	}
	return nil, errors.New("not in the pool")
}

// TestIncomingUnconfirmed ensures a payment waiting in the node's pool
// shows in the receiving wallet as unconfirmed (balance and history) but
// is not spendable, that a payment spending it is found whatever the
// pool's order, that one leaving the pool unconfirmed is forgotten, and
// that it counts as confirmed once mined.
func TestIncomingUnconfirmed(t *testing.T) {
	a, node, g, blocks, tip := funded(t)
	b, err := Create(filepath.Join(t.TempDir(), "b"), []byte("pw"), a.net,
		"legal winner thank year wave sausage worth useful legal winner thank yellow", testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	toB, _ := b.NewAddress(P2WPKH)
	pay, _, err := a.CreateTx(SendRequest{To: toB, Amount: 3 * btcutil.SatoshiPerBitcoin, FeeRate: 2}, tip)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Scan(node); err != nil {
		t.Fatal(err)
	}
	// The child (B paying itself from the payment, as another copy of B
	// would) comes first in the pool: it is found once its parent is.
	toB2, _ := b.NewAddress(P2WPKH)
	scriptB, _ := payScript(toB)
	scriptB2, _ := payScript(toB2)
	var payOut uint32
	for i, o := range pay.TxOut {
		if bytes.Equal(o.PkScript, scriptB) {
			payOut = uint32(i)
		}
	}
	child := wire.NewMsgTx(2)
	child.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: pay.TxHash(), Index: payOut}})
	child.AddTxOut(&wire.TxOut{Value: 3*btcutil.SatoshiPerBitcoin - 1000, PkScript: scriptB2})
	node.pool = []*wire.MsgTx{child, pay}
	res, err := b.ScanMempool(node)
	if err != nil || res.Found != 2 {
		t.Fatalf("pool scan: %+v, %v", res, err)
	}
	if bal := b.Balance(tip); bal.Unconfirmed != 3*btcutil.SatoshiPerBitcoin-1000 || bal.Confirmed != 0 {
		t.Fatalf("balance with the payments pooled: %+v", bal)
	}
	if hist := b.History(); len(hist) != 2 || hist[0].Height != 0 {
		t.Fatalf("history: %+v", hist)
	}
	if coins := b.Spendable(tip); len(coins) != 0 {
		t.Fatalf("others' unconfirmed coins are spendable: %+v", coins)
	}
	// The pool drops them unconfirmed: forgotten.
	node.pool = nil
	if res, err := b.ScanMempool(node); err != nil || res.Forgotten != 2 {
		t.Fatalf("pool scan after eviction: %+v, %v", res, err)
	}
	if bal := b.Balance(tip); bal.Total() != 0 || len(b.History()) != 0 {
		t.Fatalf("after eviction: %+v", bal)
	}
	// Pooled again, then mined.
	node.pool = []*wire.MsgTx{pay}
	if _, err := b.ScanMempool(node); err != nil {
		t.Fatal(err)
	}
	node.setChain(append(blocks, g.NextBlock("pay", nil, []*wire.MsgTx{pay})))
	node.pool = nil
	tip, _, err = b.Scan(node)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := b.ScanMempool(node); err != nil || res.Forgotten != 0 {
		t.Fatalf("a confirmed payment was forgotten: %+v, %v", res, err)
	}
	if bal := b.Balance(tip); bal.Confirmed != 3*btcutil.SatoshiPerBitcoin || bal.Unconfirmed != 0 {
		t.Fatalf("balance once mined: %+v", bal)
	}
}
