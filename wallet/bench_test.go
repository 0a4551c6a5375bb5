package wallet

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/gcs/builder"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

var benchWalletBlocks = flag.Int("bench.walletblocks", 50_000, "blocks paying the wallet in BenchmarkLargeWallet")

// indexedNode is fakeNode with blocks found by hash in a map, so that the
// benchmark measures the wallet, not the fake node.
type indexedNode struct {
	*fakeNode
	byHash map[chainhash.Hash]*wire.MsgBlock
}

func (n *indexedNode) Block(hash chainhash.Hash) (*wire.MsgBlock, error) {
	if b, ok := n.byHash[hash]; ok {
		return b, nil
	}
	return nil, errors.New("unknown block")
}

func (n *indexedNode) BlockFilter(hash chainhash.Hash) ([]byte, error) {
	b, ok := n.byHash[hash]
	if !ok {
		return nil, errors.New("unknown block")
	}
	var prev [][]byte
	for _, tx := range b.Transactions[1:] {
		for _, in := range tx.TxIn {
			prev = append(prev, n.outputs[in.PreviousOutPoint])
		}
	}
	filter, err := builder.BuildBasicFilter(b, prev)
	if err != nil {
		return nil, err
	}
	return filter.NBytes()
}

// BenchmarkLargeWallet is a miner's wallet: -bench.walletblocks (50,000)
// blocks each paying it a coinbase. It reports the time of the first scan
// of all of them (goal <= 60 s), of the balance and of building and signing
// a send (goals <= 1 s), as a wallet whose lookups scanned every record
// took 20 minutes for the balance of 43,615 such blocks.
func BenchmarkLargeWallet(b *testing.B) {
	net := chainparams.Regtest()
	g := chaintest.New(net)
	w, err := Create(filepath.Join(b.TempDir(), "w"), []byte("pw"), net, abandon, testOptions)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	addr, _ := w.NewAddress(P2WPKH)
	script, _ := payScript(addr)
	node := &indexedNode{fakeNode: newFakeNode(net), byHash: map[chainhash.Hash]*wire.MsgBlock{net.GenesisHash(): net.Genesis}}
	blocks := make([]*wire.MsgBlock, 0, *benchWalletBlocks)
	for i := 0; i < *benchWalletBlocks; i++ {
		blk := g.NextBlock(fmt.Sprint("b", i), nil, nil, func(m *wire.MsgBlock) { m.Transactions[0].TxOut[0].PkScript = script })
		blocks = append(blocks, blk)
		node.byHash[consensus.BlockHash(&blk.Header)] = blk
	}
	node.setChain(blocks)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		tip, _, err := w.Scan(node)
		if err != nil {
			b.Fatal(err)
		}
		scan := time.Since(start)
		start = time.Now()
		bal := w.Balance(tip)
		balance := time.Since(start)
		if n := len(w.st.Txs); n != *benchWalletBlocks || bal.Total() == 0 {
			b.Fatalf("%d transactions, balance %+v", n, bal)
		}
		to, _ := w.NewAddress(P2WPKH)
		start = time.Now()
		if _, _, err := w.CreateTx(SendRequest{To: to, Amount: 1000 * btcutil.SatoshiPerBitcoin, FeeRate: 2}, tip); err != nil {
			b.Fatal(err)
		}
		send := time.Since(start)
		start = time.Now()
		hist := w.History()
		history := time.Since(start)
		if len(hist) != *benchWalletBlocks {
			b.Fatalf("history of %d", len(hist))
		}
		b.ReportMetric(scan.Seconds(), "scan-s")
		b.ReportMetric(float64(balance.Microseconds())/1000, "balance-ms")
		b.ReportMetric(float64(send.Microseconds())/1000, "send-ms")
		b.ReportMetric(float64(history.Microseconds())/1000, "history-ms")
	}
}
