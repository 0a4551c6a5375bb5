package mempool

import (
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// harness is a regtest chain whose first coinbases pay a P2WPKH key, with
// a pool over it.
type harness struct {
	t     testing.TB
	g     *chaintest.Generator
	chain *chain.BlockChain
	pool  *TxPool
	key   *btcec.PrivateKey
	pk    []byte
	clock time.Time
}

// newHarness mines 101+extra blocks (the first `funded` pay the key) and
// opens a pool.
func newHarness(t testing.TB, funded int) *harness {
	t.Helper()
	net := chainparams.Regtest()
	h := &harness{t: t, g: chaintest.New(net)}
	h.key, _ = btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("mempool test key")))
	h.pk = chaintest.P2WPKHScript(h.key)
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: func() time.Time { return h.g.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	h.chain = c
	for i := 0; i < funded+100; i++ {
		pay := func(b *wire.MsgBlock) {}
		if i < funded {
			pay = func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = h.pk }
		}
		h.g.NextBlock("b"+itoa(i), nil, nil, pay)
		if _, err := c.ProcessBlock(h.g.Tip()); err != nil {
			t.Fatal(err)
		}
	}
	h.clock = h.g.Now()
	h.pool = New(Config{Chain: c, Now: func() time.Time { return h.clock }})
	return h
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// coinbase returns funded block i's coinbase output as a spendable P2WPKH.
func (h *harness) coinbase(i int) chaintest.SpendableOut {
	out := h.g.CoinbaseOut("b" + itoa(i))
	out.Key = h.key
	return out
}

// spend builds a signed transaction spending outs to n equal outputs paying
// the key, leaving fee.
func (h *harness) spend(outs []chaintest.SpendableOut, n int, fee int64) *wire.MsgTx {
	h.t.Helper()
	values := chaintest.SplitEvenly(outs, n, fee)
	tx, err := chaintest.SpendP2WPKH(outs, values, h.pk)
	if err != nil {
		h.t.Fatal(err)
	}
	return tx
}

// out returns output i of tx as a spendable P2WPKH.
func (h *harness) out(tx *wire.MsgTx, i uint32) chaintest.SpendableOut {
	return chaintest.SpendableOut{OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: i},
		Amount: tx.TxOut[i].Value, PkScript: tx.TxOut[i].PkScript, Key: h.key}
}

// mine connects a block holding txs and lets the pool see it.
func (h *harness) mine(name string, txs ...*wire.MsgTx) *wire.MsgBlock {
	h.t.Helper()
	b := h.g.NextBlock(name, nil, txs)
	if _, err := h.chain.ProcessBlock(b); err != nil {
		h.t.Fatal(err)
	}
	h.pool.HandleNotification(chain.Notification{Type: chain.BlockConnected, Block: b, Hash: b.BlockHash(), Height: h.g.TipHeight()})
	return b
}
