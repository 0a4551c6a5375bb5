package wallet

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// TestInsufficientFundsExplained ensures a payment the spendable coins
// cannot make says, in the network's unit, what it wants and what is
// spendable, how much is immature and at which heights it matures (the
// first coin, and enough to pay), and what others' pending payments hold.
func TestInsufficientFundsExplained(t *testing.T) {
	net := chainparams.Regtest()
	g := chaintest.New(net)
	node := newFakeNode(net)
	w, err := Create(filepath.Join(t.TempDir(), "w"), []byte("pw"), net, abandon, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := w.NewAddress(P2WPKH)
	script, _ := payScript(addr)
	var blocks []*wire.MsgBlock
	for i := 0; i < 3; i++ { // coinbases at heights 1, 2 and 3
		blocks = append(blocks, g.NextBlock("cb"+itoa(i), nil, nil, func(m *wire.MsgBlock) { m.Transactions[0].TxOut[0].PkScript = script }))
	}
	node.setChain(blocks)
	tip, _, err := w.Scan(node)
	if err != nil || tip != 3 {
		t.Fatalf("scan: %d, %v", tip, err)
	}
	to, _ := net.DecodeAddress("rcrn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5p0994")
	coin := int64(btcutil.SatoshiPerBitcoin)
	for _, tc := range []struct {
		req  SendRequest
		want string
	}{
		{SendRequest{To: to, Amount: 60 * coin, FeeRate: 1},
			"wallet: insufficient funds: want 60.00000000 rCRN and its fee, have 0.00000000 rCRN spendable; " +
				"150.00000000 rCRN are immature (coinbase outputs mature after 100 blocks; the first matures at height 101, enough to pay this at height 102)"},
		{SendRequest{To: to, Amount: 40 * coin, FeeRate: 1},
			"want 40.00000000 rCRN and its fee, have 0.00000000 rCRN spendable; 150.00000000 rCRN are immature " +
				"(coinbase outputs mature after 100 blocks; the first matures at height 101, enough to pay this)"},
		// The fee counts: three coins pay 100 and its fee, but not 150.
		{SendRequest{To: to, Amount: 150 * coin, FeeRate: 1},
			"the first matures at height 101, but not even all of them would pay this)"},
		{SendRequest{To: to, Amount: 150 * coin, FeeRate: 1, SubtractFee: true},
			"want 150.00000000 rCRN (the fee taken out of it), have 0.00000000 rCRN spendable; 150.00000000 rCRN are immature " +
				"(coinbase outputs mature after 100 blocks; the first matures at height 101, enough to pay this at height 103)"},
	} {
		_, _, err := w.CreateTx(tc.req, tip)
		var fe *FundsError
		if !errors.Is(err, ErrInsufficientFunds) || !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d coins (subtract fee %v):\n got %v\nwant %s", tc.req.Amount/coin, tc.req.SubtractFee, err, tc.want)
		}
		if strings.Contains(fmt.Sprint(err), "BTC") {
			t.Errorf("the error names BTC: %v", err)
		}
	}
	// One matures: 50 spendable, the rest as before.
	blocks = append(blocks, g.NextBlock("m", nil, nil))
	node.setChain(blocks)
	for len(blocks) < 101 {
		blocks = append(blocks, g.NextBlock("m"+itoa(len(blocks)), nil, nil))
	}
	node.setChain(blocks)
	if tip, _, err = w.Scan(node); err != nil || tip != 101 {
		t.Fatalf("scan: %d, %v", tip, err)
	}
	_, _, err = w.CreateTx(SendRequest{To: to, Amount: 60 * coin, FeeRate: 1}, tip)
	if want := "have 50.00000000 rCRN spendable; 100.00000000 rCRN are immature (coinbase outputs mature after 100 blocks; " +
		"the first matures at height 102, enough to pay this)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("with one coin mature:\n got %v\nwant %s", err, want)
	}
	// No immature coin: no word of maturity.
	_, _, err = w.CreateTx(SendRequest{To: to, Amount: 1000 * coin, FeeRate: 1}, tip+2)
	if err == nil || strings.Contains(err.Error(), "immature") || !strings.HasSuffix(err.Error(), "have 150.00000000 rCRN spendable") {
		t.Errorf("all mature: %v", err)
	}
}

// TestInsufficientFundsPending ensures a payment received and then
// reorganized out of the chain, pending again, is named in the error as
// awaiting confirmation rather than silently missing.
func TestInsufficientFundsPending(t *testing.T) {
	a, node, g, blocks, tip := funded(t)
	b, err := Create(filepath.Join(t.TempDir(), "b"), []byte("pw"), a.net, "legal winner thank year wave sausage worth useful legal winner thank yellow", testOptions)
	if err != nil {
		t.Fatal(err)
	}
	addrB, _ := b.NewAddress(P2WPKH)
	pay, fee, err := a.CreateTx(SendRequest{To: addrB, Amount: 10 * btcutil.SatoshiPerBitcoin, FeeRate: 1}, tip)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Broadcast(node, pay, fee, ""); err != nil {
		t.Fatal(err)
	}
	fork := g.TipName()
	node.setChain(append(blocks, g.NextBlock("pay", nil, []*wire.MsgTx{pay})))
	if _, _, err := b.Scan(node); err != nil {
		t.Fatal(err)
	}
	g.SetTip(fork)
	alt := append(append([]*wire.MsgBlock(nil), blocks...), g.NextBlock("alt1", nil, nil), g.NextBlock("alt2", nil, nil))
	node.setChain(alt)
	tip, _, err = b.Scan(node)
	if err != nil {
		t.Fatal(err)
	}
	if bal := b.Balance(tip); bal.Unconfirmed != 10*btcutil.SatoshiPerBitcoin {
		t.Fatalf("b after the reorganization: %+v", bal)
	}
	_, _, err = b.CreateTx(SendRequest{To: addrB, Amount: btcutil.SatoshiPerBitcoin, FeeRate: 1}, tip)
	want := "want 1.00000000 rCRN and its fee, have 0.00000000 rCRN spendable; 10.00000000 rCRN paid to this wallet await confirmation"
	if !errors.Is(err, ErrInsufficientFunds) || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("got %v\nwant ...%s", err, want)
	}
}

// TestGenesisChanged ensures a wallet of a network that was created
// again under the same name (another genesis block) is refused with the
// reason and the way out, not as a wallet "of network localnet, not
// localnet".
func TestGenesisChanged(t *testing.T) {
	spec := func(message string) *chainparams.Network {
		n, err := chainparams.ParseSpec([]byte(`{"name": "localnet", "genesis": {"time": 1795305600, "message": "` + message + `"}}`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	old, recreated := spec("first"), spec("second")
	if old.GenesisHash() == recreated.GenesisHash() {
		t.Fatal("the two networks share a genesis block")
	}
	path := filepath.Join(t.TempDir(), "wallet.dat")
	w, err := Create(path, []byte("pw"), old, abandon, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, err = Open(path, []byte("pw"), recreated)
	if !errors.Is(err, ErrGenesisChanged) {
		t.Fatalf("open on the recreated network: %v", err)
	}
	for _, want := range []string{path, "genesis block changed", "the network was recreated", old.GenesisHash().String(),
		recreated.GenesisHash().String(), "cairn wallet restore --wallet NEW_FILE", "mnemonic"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "not localnet") {
		t.Errorf("the error reads as another network's: %v", err)
	}
	if _, err := Open(path, []byte("pw"), chainparams.Regtest()); err == nil || errors.Is(err, ErrGenesisChanged) ||
		!strings.Contains(err.Error(), "a wallet of network localnet, not regtest") {
		t.Fatalf("open on another network: %v", err)
	}
	w, err = Open(path, []byte("pw"), old)
	if err != nil {
		t.Fatalf("open on its own network: %v", err)
	}
	w.Close()
}

// TestLastBalance ensures a wallet file tells, with no node, what it held
// at its last scan; and FormatAmount's rendering.
func TestLastBalance(t *testing.T) {
	w, _, _, _, _ := funded(t)
	if got := w.LastBalance(); got.Confirmed != 50*btcutil.SatoshiPerBitcoin || got.Total() != got.Confirmed {
		t.Fatalf("last balance %+v", got)
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	again, err := Open(w.path, []byte("pw"), w.net)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := again.LastBalance(); got.Total() != 50*btcutil.SatoshiPerBitcoin {
		t.Fatalf("last balance read back %+v", got)
	}
	fresh, err := Create(filepath.Join(t.TempDir(), "fresh"), []byte("pw"), w.net, abandon, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if got := fresh.LastBalance(); got.Total() != 0 {
		t.Fatalf("a fresh wallet's last balance %+v", got)
	}
	for v, want := range map[int64]string{0: "0.00000000 rCRN", 1: "0.00000001 rCRN", -1_250_000_000: "-12.50000000 rCRN"} {
		if got := FormatAmount(v, "rCRN"); got != want {
			t.Errorf("FormatAmount(%d) = %q, want %q", v, got, want)
		}
	}
	if got := FormatAmount(5, ""); got != "0.00000005" {
		t.Errorf("without a unit: %q", got)
	}
}
