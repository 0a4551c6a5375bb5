package testnet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/wallet"
)

// acceptingNode takes every transaction, so that a wallet records its
// sends as pending: enough to give a wallet file a coin without a chain.
type acceptingNode struct{}

func (acceptingNode) BlockCount() (int32, error)                 { return 0, nil }
func (acceptingNode) BlockHash(int32) (chainhash.Hash, error)    { return chainhash.Hash{}, nil }
func (acceptingNode) BlockFilter(chainhash.Hash) ([]byte, error) { return nil, nil }
func (acceptingNode) Block(chainhash.Hash) (*wire.MsgBlock, error) {
	return nil, os.ErrNotExist
}
func (acceptingNode) SendRawTransaction(*wire.MsgTx) error { return nil }
func (acceptingNode) EstimateFee(int) (float64, error)     { return 1, nil }

// stoppedTestnet writes the folder a stopped two-node testnet leaves (the
// state file, the chain spec, each node's wallet without coins) and
// returns its state.
func stoppedTestnet(t *testing.T) *State {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "localnet")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	raw, net, err := makeSpec(context.Background(), time.Second, regtestPowLimit, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, specName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &State{Dir: dir, Spacing: time.Second, net: net}
	for _, name := range []string{"node0", "node1"} {
		n := &Node{Name: name, Dir: filepath.Join(dir, name)}
		n.Wallet = filepath.Join(n.Dir, "wallet.dat")
		w := newWallet(t, n.Wallet, Password, net)
		w.Close()
		// A node's own files are no wallets.
		if err := os.WriteFile(filepath.Join(n.Dir, "mempool.dat"), []byte{0, 1, 2, 3}, 0o600); err != nil {
			t.Fatal(err)
		}
		s.Nodes = append(s.Nodes, n)
	}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	return s
}

// newWallet creates a wallet file of net at path.
func newWallet(t *testing.T, path, password string, net *chainparams.Network) *wallet.Wallet {
	t.Helper()
	mnemonic, err := wallet.NewMnemonic(12)
	if err != nil {
		t.Fatal(err)
	}
	// A cheap key derivation keeps the test fast; the file stores its cost.
	w, err := wallet.Create(path, []byte(password), net, mnemonic,
		wallet.CreateOptions{KDF: wallet.KDFParams{Time: 1, Memory: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// giveCoin records in the wallet file at path (of the testnet's password)
// a pending payment of value to itself.
func giveCoin(t *testing.T, path string, net *chainparams.Network, value int64) {
	t.Helper()
	w, err := wallet.Open(path, []byte(Password), net)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	addr, err := w.NewAddress(wallet.P2WPKH)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := txscript.PayToAddrScript(addr)
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{1}}})
	tx.AddTxOut(&wire.TxOut{Value: value, PkScript: script})
	if err := w.Broadcast(acceptingNode{}, tx, 0, ""); err != nil {
		t.Fatal(err)
	}
	if got := w.LastBalance().Total(); got != value {
		t.Fatalf("the wallet holds %d after the payment of %d", got, value)
	}
}

// TestClearDirKeepsWalletsWithCoins ensures up replaces a stopped
// testnet whose wallets hold nothing, but refuses, naming the files, one
// whose wallets hold coins or cannot be opened to tell, unless forced.
func TestClearDirKeepsWalletsWithCoins(t *testing.T) {
	// No coins anywhere: replaced.
	s := stoppedTestnet(t)
	if err := clearDir(s.Dir, "cairn", false); err != nil {
		t.Fatalf("a testnet whose wallets are empty: %v", err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("the folder is still there: %v", err)
	}

	// node1's wallet holds 12.5 coins: refused, then forced.
	s = stoppedTestnet(t)
	giveCoin(t, s.Nodes[1].Wallet, s.net, 1_250_000_000)
	err := clearDir(s.Dir, "cairn", false)
	if err == nil {
		t.Fatal("a testnet whose wallet holds coins was replaced")
	}
	for _, want := range []string{s.Nodes[1].Wallet + " (12.50000000 rCRN)", "--force", "holds wallets with coins"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), s.Nodes[0].Wallet) {
		t.Errorf("the refusal names node0's empty wallet: %v", err)
	}
	if _, err := os.Stat(s.Nodes[1].Wallet); err != nil {
		t.Fatalf("the wallet was deleted: %v", err)
	}
	if err := clearDir(s.Dir, "cairn", true); err != nil {
		t.Fatalf("forced: %v", err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("forced, the folder is still there: %v", err)
	}

	// A wallet of cairn wallet's in a node's data folder, holding coins.
	s = stoppedTestnet(t)
	extra := filepath.Join(s.Nodes[0].Dir, networkName, "wallet.dat")
	newWallet(t, extra, Password, s.net).Close()
	giveCoin(t, extra, s.net, 1)
	if err := clearDir(s.Dir, "cairn", false); err == nil || !strings.Contains(err.Error(), extra+" (0.00000001 rCRN)") {
		t.Fatalf("a CLI wallet with coins in the folder: %v", err)
	}

	// A wallet of another password, and a damaged node wallet: they
	// may hold coins.
	s = stoppedTestnet(t)
	other := filepath.Join(s.Dir, "mine.dat")
	newWallet(t, other, "not the testnet's", s.net).Close()
	if err := os.WriteFile(s.Nodes[0].Wallet, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = clearDir(s.Dir, "cairn", false)
	if err == nil {
		t.Fatal("a testnet with wallets that do not open was replaced")
	}
	for _, want := range []string{other + " (it does not open, so it may hold coins: wallet: wrong password",
		s.Nodes[0].Wallet + " (it does not open", "damaged"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "mempool.dat") || strings.Contains(err.Error(), s.Nodes[1].Wallet) {
		t.Errorf("the refusal names a file without coins: %v", err)
	}
	if err := clearDir(s.Dir, "cairn", true); err != nil {
		t.Fatalf("forced: %v", err)
	}
}
