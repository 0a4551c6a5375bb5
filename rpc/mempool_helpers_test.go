package rpc

// Helpers of the tests that run the pool's calls over a real regtest chain
// and a real mempool.TxPool on it: those of mempoolrpc_test.go and the
// pool's part of rawtx_test.go (sendrawtransaction, testmempoolaccept) and
// generating_test.go (generateblock).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/mempool"
)

// poolMaxBytes is the --maxmempool of the test pools.
const poolMaxBytes = 300_000_000

// oneCoin is one coin in base units.
const oneCoin = 100_000_000

// settleTimeout bounds the wait for a chain notification.
const settleTimeout = 10 * time.Second

// poolNode is a regtest chain whose first coinbases pay a P2WPKH key the
// test holds, with a mempool on it and a Server over both. Chain
// notifications reach the pool only through settle, so every test sees the
// pool in a known state.
type poolNode struct {
	g     *chaintest.Generator
	chain *chain.BlockChain
	pool  *mempool.TxPool
	srv   *Server
	sub   *chain.Subscription
	key   *btcec.PrivateKey
	pk    []byte
	addr  string // the bech32 address of pk

	mu      sync.Mutex
	relayed []chainhash.Hash // what OnTransaction heard, in order
}

// newPoolNode mines funded blocks f0..f<funded-1> paying the key, then 100
// blocks m0..m99 so that every funded coinbase is mature, and opens the pool
// and the server.
func newPoolNode(t *testing.T, funded int) *poolNode {
	t.Helper()
	net := chainparams.Regtest()
	n := &poolNode{g: chaintest.New(net)}
	n.key, _ = btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("cairn rpc mempool test key")))
	n.pk = chaintest.P2WPKHScript(n.key)
	wpkh, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(n.key.PubKey().SerializeCompressed()), net.AddressParams())
	if err != nil {
		t.Fatal(err)
	}
	n.addr = wpkh.EncodeAddress()
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	n.chain = c
	for i := 0; i < funded; i++ {
		n.g.NextBlock(fmt.Sprintf("f%d", i), nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = n.pk })
		if _, err := c.ProcessBlock(n.g.Tip()); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		n.g.NextBlock(fmt.Sprintf("m%d", i), nil, nil)
		if _, err := c.ProcessBlock(n.g.Tip()); err != nil {
			t.Fatal(err)
		}
	}
	n.sub = c.Subscribe()
	t.Cleanup(n.sub.Close)
	n.pool = mempool.New(mempool.Config{Chain: c, MaxPoolBytes: poolMaxBytes, Now: testNow})
	n.srv = newPoolServer(t, c, n.pool, &poolGenerator{n: n}, func(tx *wire.MsgTx) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.relayed = append(n.relayed, tx.TxHash())
	})
	return n
}

// newPoolServer returns a listening server over c with pool (which may be
// nil: no mempool) and gen, closed when the test ends.
func newPoolServer(t *testing.T, c Chain, pool Mempool, gen Generator, onTx func(*wire.MsgTx)) *Server {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", User: testUser, Password: testPass, Chain: c, Generator: gen, OnTransaction: onTx}
	if pool != nil {
		cfg.Mempool = pool
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		srv.listener.Close()
	})
	return srv
}

// relayCount returns how many transactions OnTransaction heard of.
func (n *poolNode) relayCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.relayed)
}

// settle hands the pool the next count chain notifications, as the node's
// pool.Run does.
func (n *poolNode) settle(t *testing.T, count int) {
	t.Helper()
	for i := 0; i < count; i++ {
		select {
		case note, ok := <-n.sub.C():
			if !ok {
				t.Fatal("chain subscription closed")
			}
			n.pool.HandleNotification(note)
		case <-time.After(settleTimeout):
			t.Fatalf("no chain notification within %v (%d of %d)", settleTimeout, i, count)
		}
	}
}

// mineBlock connects a block named name holding txs on the tip and lets the
// pool see it.
func (n *poolNode) mineBlock(t *testing.T, name string, txs ...*wire.MsgTx) *wire.MsgBlock {
	t.Helper()
	b := n.g.NextBlock(name, nil, txs)
	res, err := n.chain.ProcessBlock(b)
	if err != nil || !res.MainChain {
		t.Fatalf("block %s: main chain %v, %v", name, res.MainChain, err)
	}
	n.settle(t, 1)
	return b
}

// coinbase returns funded block fi's coinbase output, spendable with the key.
func (n *poolNode) coinbase(i int) chaintest.SpendableOut {
	out := n.g.CoinbaseOut(fmt.Sprintf("f%d", i))
	out.Key = n.key
	return out
}

// out returns output i of tx, spendable with the key.
func (n *poolNode) out(tx *wire.MsgTx, i uint32) chaintest.SpendableOut {
	return chaintest.SpendableOut{OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: i},
		Amount: tx.TxOut[i].Value, PkScript: tx.TxOut[i].PkScript, Key: n.key}
}

// spend returns a signed transaction spending outs to nOut equal outputs
// paying the key, leaving fee.
func (n *poolNode) spend(t *testing.T, outs []chaintest.SpendableOut, nOut int, fee int64) *wire.MsgTx {
	t.Helper()
	values := chaintest.SplitEvenly(outs, nOut, fee)
	return n.spendValues(t, outs, values)
}

// spendValues returns a signed transaction spending outs to outputs of the
// given values paying the key.
func (n *poolNode) spendValues(t *testing.T, outs []chaintest.SpendableOut, values []int64) *wire.MsgTx {
	t.Helper()
	tx, err := chaintest.SpendP2WPKH(outs, values, n.pk)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// send submits tx with sendrawtransaction, which must accept it.
func (n *poolNode) send(t *testing.T, tx *wire.MsgTx) {
	t.Helper()
	if got := str(t, mustCall(t, n.srv, "sendrawtransaction", txHexString(tx))); got != tx.TxHash().String() {
		t.Fatalf("sendrawtransaction returned %s, want %s", got, tx.TxHash())
	}
}

// poolIDs returns the pool's txids, sorted.
func (n *poolNode) poolIDs() []string {
	var out []string
	for _, id := range n.pool.TxIDs() {
		out = append(out, id.String())
	}
	sort.Strings(out)
	return out
}

// poolGenerator is a Generator over the test's chaintest generator: it
// builds the block generateblock asks for and processes it.
type poolGenerator struct {
	n     *poolNode
	count int
}

var _ Generator = (*poolGenerator)(nil)

func (p *poolGenerator) BlockTemplate() (*BlockTemplate, error) {
	return nil, errors.New("no templates in this test")
}

func (p *poolGenerator) GenerateToAddress(context.Context, int, []byte, uint64) ([]chainhash.Hash, error) {
	return nil, errors.New("no generatetoaddress in this test")
}

func (p *poolGenerator) GenerateBlock(_ context.Context, pkScript []byte, txs []*wire.MsgTx, submit bool) (*wire.MsgBlock, error) {
	parent := p.n.g.TipName()
	p.count++
	b := p.n.g.NextBlock(fmt.Sprintf("gen%d", p.count), nil, txs, func(b *wire.MsgBlock) {
		b.Transactions[0].TxOut[0].PkScript = pkScript
	})
	if !submit {
		p.n.g.SetTip(parent)
		return b, nil
	}
	if _, err := p.n.chain.ProcessBlock(b); err != nil {
		p.n.g.SetTip(parent)
		return nil, err
	}
	return b, nil
}

// weightOf is a transaction's BIP141 weight, computed here from its sizes.
func weightOf(tx *wire.MsgTx) int64 {
	return int64(tx.SerializeSizeStripped()*3 + tx.SerializeSize())
}

// vsizeOf is a transaction's virtual size: its weight over 4, rounded up.
func vsizeOf(tx *wire.MsgTx) int64 { return (weightOf(tx) + 3) / 4 }

// btc converts base units to coins as the RPC prints them.
func btc(units int64) float64 { return float64(units) / 1e8 }

// txidSet decodes a JSON array of txids into a sorted slice; a null answer
// fails the test (Core answers an empty array).
func txidSet(t *testing.T, name string, raw json.RawMessage) []string {
	t.Helper()
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		t.Fatalf("%s: null, want an array", name)
	}
	var ids []string
	decode(t, raw, &ids)
	sort.Strings(ids)
	return ids
}

// sortedIDs returns the sorted txids of txs.
func sortedIDs(txs ...*wire.MsgTx) []string {
	out := []string{}
	for _, tx := range txs {
		out = append(out, tx.TxHash().String())
	}
	sort.Strings(out)
	return out
}

// sortedStrings returns a sorted copy of s.
func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// anyJSON decodes raw into a generic value for comparisons.
func anyJSON(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	var v any
	decode(t, raw, &v)
	return v
}
