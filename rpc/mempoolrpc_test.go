package rpc

// Tests of the pool calls (mempoolrpc.go) and of the pool's part in
// getrawtransaction, gettxout, generateblock and getmininginfo, over a real
// regtest chain and a real mempool.TxPool on it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
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
	var total int64
	for _, o := range outs {
		total += o.Amount
	}
	values := make([]int64, nOut)
	each := (total - fee) / int64(nOut)
	for i := range values {
		values[i] = each
	}
	values[nOut-1] += total - fee - each*int64(nOut)
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

// TestMempoolRPCSendRawTransaction ensures sendrawtransaction adds a valid
// transaction to the pool, relays it and returns its txid; answers (and
// relays again, as Core does) a transaction already in the pool; and
// refuses the rest with Bitcoin Core's codes: -27 already in the chain, -25
// missing inputs or a fee rate above maxfeerate (0 disables the check),
// -26 a policy rejection with its reason, -22 undecodable, -3 a wrong type,
// and maxfeerate as Core's ParseFeeRate reads it.
func TestMempoolRPCSendRawTransaction(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 11)
	confirmed := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	n.mineBlock(t, "c1", confirmed)
	doubleSpend := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 2000)
	accepted := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 1, 1000)
	noFee := n.spend(t, []chaintest.SpendableOut{n.coinbase(2)}, 1, 0)
	cb3 := n.coinbase(3)
	dust := n.spendValues(t, []chaintest.SpendableOut{cb3}, []int64{100, cb3.Amount - 100 - 1000})
	// 0.05 coins on about 110 vbytes: some 45 coins per 1,000 vbytes, far
	// above the default maxfeerate of 0.10.
	highFee := n.spend(t, []chaintest.SpendableOut{n.coinbase(4)}, 1, 5_000_000)
	highFee2 := n.spend(t, []chaintest.SpendableOut{n.coinbase(5)}, 1, 5_000_000)
	// About 9 base units per vbyte: 0.00009 coins per 1,000 vbytes.
	normal := n.spend(t, []chaintest.SpendableOut{n.coinbase(6)}, 1, 1000)
	normal2 := n.spend(t, []chaintest.SpendableOut{n.coinbase(7)}, 1, 1000)
	normal3 := n.spend(t, []chaintest.SpendableOut{n.coinbase(8)}, 1, 1000)
	normal4 := n.spend(t, []chaintest.SpendableOut{n.coinbase(10)}, 1, 1000)
	missing := n.spend(t, []chaintest.SpendableOut{{
		OutPoint: wire.OutPoint{Hash: chainhash.DoubleHashH([]byte("nowhere")), Index: 0},
		Amount:   oneCoin, PkScript: n.pk, Key: n.key,
	}}, 1, 1000)
	// A bad signature: the last byte of the DER signature (before the
	// sighash byte) changed.
	badSig := n.spend(t, []chaintest.SpendableOut{n.coinbase(9)}, 1, 1000)
	sig := badSig.TxIn[0].Witness[0]
	sig[len(sig)-2] ^= 0x01
	// A coinbase one block old.
	young := n.g.NextBlock("young", nil, nil, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = n.pk })
	if _, err := n.chain.ProcessBlock(young); err != nil {
		t.Fatal(err)
	}
	n.settle(t, 1)
	youngOut := n.g.CoinbaseOut("young")
	youngOut.Key = n.key
	immature := n.spend(t, []chaintest.SpendableOut{youngOut}, 1, 1000)

	// The cases run in order: "resubmission" needs "accepted" before it.
	tests := []struct {
		name     string
		params   []any
		tx       *wire.MsgTx // the transaction sent, if any
		wantCode int         // 0: success, returning tx's txid
		wantMsg  string
		inPool   bool // tx is in the pool afterwards
		relays   int  // OnTransaction calls the case makes
	}{
		{name: "accepted", params: []any{txHexString(accepted)}, tx: accepted, inPool: true, relays: 1},
		{name: "resubmission of a pool transaction", params: []any{txHexString(accepted)}, tx: accepted, inPool: true, relays: 1},
		{name: "already confirmed", params: []any{txHexString(confirmed)}, tx: confirmed,
			wantCode: -27, wantMsg: "Transaction outputs already in utxo set"},
		{name: "spends an output a block spent", params: []any{txHexString(doubleSpend)}, tx: doubleSpend,
			wantCode: -25, wantMsg: "bad-txns-inputs-missingorspent"},
		{name: "missing inputs", params: []any{txHexString(missing)}, tx: missing,
			wantCode: -25, wantMsg: "bad-txns-inputs-missingorspent"},
		{name: "below the minimum relay fee", params: []any{txHexString(noFee)}, tx: noFee,
			wantCode: -26, wantMsg: "min relay fee not met"},
		{name: "dust output", params: []any{txHexString(dust)}, tx: dust, wantCode: -26, wantMsg: "dust"},
		{name: "bad signature", params: []any{txHexString(badSig)}, tx: badSig, wantCode: -26, wantMsg: "mandatory-script-verify-flag-failed"},
		{name: "immature coinbase", params: []any{txHexString(immature)}, tx: immature, wantCode: -26, wantMsg: "bad-txns-premature-spend-of-coinbase"},
		{name: "fee rate above the default maxfeerate", params: []any{txHexString(highFee)}, tx: highFee,
			wantCode: -25, wantMsg: "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"},
		{name: "fee rate above an explicit maxfeerate", params: []any{txHexString(normal), 0.00001}, tx: normal,
			wantCode: -25, wantMsg: "Fee exceeds maximum"},
		{name: "fee rate within an explicit maxfeerate", params: []any{txHexString(normal), 0.001}, tx: normal, inPool: true, relays: 1},
		{name: "maxfeerate 0 disables the check", params: []any{txHexString(highFee), 0}, tx: highFee, inPool: true, relays: 1},
		{name: "maxfeerate null is the default", params: []any{txHexString(highFee2), nil}, tx: highFee2,
			wantCode: -25, wantMsg: "Fee exceeds maximum"},
		{name: "maxfeerate as a numeric string", params: []any{txHexString(normal2), "0.001"}, tx: normal2, inPool: true, relays: 1},
		{name: "negative maxfeerate", params: []any{txHexString(normal3), -0.1}, tx: normal3,
			wantCode: -3, wantMsg: "Amount out of range"},
		{name: "maxfeerate of 1 coin per kvB", params: []any{txHexString(normal4), 1}, tx: normal4,
			wantCode: -8, wantMsg: "Fee rates larger than or equal to 1"},
		{name: "maxfeerate of the wrong type", params: []any{txHexString(normal3), true}, wantCode: -3},
		{name: "odd-length hex", params: []any{"abc"}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "not hex", params: []any{"zz"}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "hex but not a transaction", params: []any{"00"}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "empty string", params: []any{""}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "truncated transaction", params: []any{txHexString(normal3)[:40]}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "number instead of hex", params: []any{5}, wantCode: -3},
		{name: "object instead of hex", params: []any{map[string]any{}}, wantCode: -3},
	}
	for _, test := range tests {
		before := n.relayCount()
		res, rerr := call(t, n.srv, "sendrawtransaction", test.params...)
		if test.wantCode == 0 {
			if rerr != nil {
				t.Errorf("%q: error %v, want txid %s", test.name, rerr, test.tx.TxHash())
			} else if got := str(t, res); got != test.tx.TxHash().String() {
				t.Errorf("%q: returned %s, want %s", test.name, got, test.tx.TxHash())
			}
		} else {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
		}
		if test.tx != nil {
			if got := n.pool.Have(test.tx.TxHash()); got != test.inPool {
				t.Errorf("%q: in the pool afterwards: %v, want %v", test.name, got, test.inPool)
			}
		}
		if got := n.relayCount() - before; got != test.relays {
			t.Errorf("%q: OnTransaction called %d times, want %d", test.name, got, test.relays)
		}
	}
}

// TestMempoolRPCTestMempoolAccept ensures testmempoolaccept reports for
// each transaction, in order, its txid and wtxid and either allowed with
// its vsize and base fee or Core's reject-reason ("max-fee-exceeded" over
// maxfeerate, "missing-inputs" for unknown inputs), checks the array's
// size, and leaves the pool as it was.
func TestMempoolRPCTestMempoolAccept(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 8)
	confirmed := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	n.mineBlock(t, "c1", confirmed)
	inPool := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 2, 1500)
	n.send(t, inPool)
	fresh := n.spend(t, []chaintest.SpendableOut{n.coinbase(2)}, 1, 1234)
	fresh2 := n.spend(t, []chaintest.SpendableOut{n.coinbase(3)}, 3, 4321)
	child := n.spend(t, []chaintest.SpendableOut{n.out(inPool, 1)}, 1, 700)
	noFee := n.spend(t, []chaintest.SpendableOut{n.coinbase(4)}, 1, 0)
	highFee := n.spend(t, []chaintest.SpendableOut{n.coinbase(5)}, 1, 5_000_000)
	missing := n.spend(t, []chaintest.SpendableOut{{
		OutPoint: wire.OutPoint{Hash: chainhash.DoubleHashH([]byte("nowhere")), Index: 1},
		Amount:   oneCoin, PkScript: n.pk, Key: n.key,
	}}, 1, 1000)
	poolBefore := n.poolIDs()

	// want is one expected result; fee < 0 means not allowed.
	type want struct {
		tx     *wire.MsgTx
		fee    int64
		reason string
	}
	allowed := func(tx *wire.MsgTx, fee int64) want { return want{tx: tx, fee: fee} }
	refused := func(tx *wire.MsgTx, reason string) want { return want{tx: tx, fee: -1, reason: reason} }
	hexes := func(txs ...*wire.MsgTx) []string {
		out := []string{}
		for _, tx := range txs {
			out = append(out, txHexString(tx))
		}
		return out
	}
	many := make([]string, 26)
	for i := range many {
		many[i] = txHexString(fresh)
	}
	tests := []struct {
		name     string
		params   []any
		want     []want
		wantCode int
		wantMsg  string
	}{
		{name: "allowed", params: []any{hexes(fresh)}, want: []want{allowed(fresh, 1234)}},
		{name: "child of a pool transaction", params: []any{hexes(child)}, want: []want{allowed(child, 700)}},
		{name: "two independent transactions", params: []any{hexes(fresh, fresh2)},
			want: []want{allowed(fresh, 1234), allowed(fresh2, 4321)}},
		{name: "below the minimum relay fee", params: []any{hexes(noFee)}, want: []want{refused(noFee, "min relay fee not met")}},
		{name: "already in the pool", params: []any{hexes(inPool)}, want: []want{refused(inPool, "txn-already-in-mempool")}},
		{name: "already confirmed", params: []any{hexes(confirmed)}, want: []want{refused(confirmed, "txn-already-known")}},
		{name: "missing inputs", params: []any{hexes(missing)}, want: []want{refused(missing, "missing-inputs")}},
		{name: "fee rate above the default maxfeerate", params: []any{hexes(highFee)}, want: []want{refused(highFee, "max-fee-exceeded")}},
		{name: "fee rate above an explicit maxfeerate", params: []any{hexes(fresh), 0.00001}, want: []want{refused(fresh, "max-fee-exceeded")}},
		{name: "maxfeerate 0 disables the check", params: []any{hexes(highFee), 0}, want: []want{allowed(highFee, 5_000_000)}},
		{name: "empty array", params: []any{[]string{}}, wantCode: -8, wantMsg: "Array must contain between 1 and 25 transactions."},
		{name: "26 transactions", params: []any{many}, wantCode: -8, wantMsg: "Array must contain between 1 and 25 transactions."},
		{name: "not an array", params: []any{txHexString(fresh)}, wantCode: -3},
		{name: "array of numbers", params: []any{[]int{1}}, wantCode: -3},
		{name: "undecodable element", params: []any{[]string{"zz"}}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "element not a transaction", params: []any{[]string{"00"}}, wantCode: -22, wantMsg: "TX decode failed"},
		{name: "maxfeerate of the wrong type", params: []any{hexes(fresh), "x"}, wantCode: -3},
	}
	for _, test := range tests {
		res, rerr := call(t, n.srv, "testmempoolaccept", test.params...)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		var results []map[string]json.RawMessage
		decode(t, res, &results)
		if len(results) != len(test.want) {
			t.Errorf("%q: %d results, want %d: %s", test.name, len(results), len(test.want), res)
			continue
		}
		for i, w := range test.want {
			r := results[i]
			name := fmt.Sprintf("%q result %d", test.name, i)
			if got := str(t, r["txid"]); got != w.tx.TxHash().String() {
				t.Errorf("%s: txid %s, want %s", name, got, w.tx.TxHash())
			}
			if got := str(t, r["wtxid"]); got != w.tx.WitnessHash().String() {
				t.Errorf("%s: wtxid %s, want %s", name, got, w.tx.WitnessHash())
			}
			var ok bool
			decode(t, r["allowed"], &ok)
			if w.fee < 0 {
				if ok {
					t.Errorf("%s: allowed, want refused with %q", name, w.reason)
				}
				if got := str(t, r["reject-reason"]); got != w.reason {
					t.Errorf("%s: reject-reason %q, want %q", name, got, w.reason)
				}
				for _, k := range []string{"vsize", "fees"} {
					if _, has := r[k]; has {
						t.Errorf("%s: a refused transaction has %q", name, k)
					}
				}
				continue
			}
			if !ok {
				t.Errorf("%s: refused (%s), want allowed", name, r["reject-reason"])
				continue
			}
			if _, has := r["reject-reason"]; has {
				t.Errorf("%s: an allowed transaction has reject-reason %s", name, r["reject-reason"])
			}
			var vsize int64
			decode(t, r["vsize"], &vsize)
			if vsize != vsizeOf(w.tx) {
				t.Errorf("%s: vsize %d, want %d", name, vsize, vsizeOf(w.tx))
			}
			var fees struct {
				Base *float64 `json:"base"`
			}
			decode(t, r["fees"], &fees)
			if fees.Base == nil || *fees.Base != btc(w.fee) {
				t.Errorf("%s: fees %s, want base %v", name, r["fees"], btc(w.fee))
			}
		}
	}
	if got := n.poolIDs(); !reflect.DeepEqual(got, poolBefore) {
		t.Errorf("testmempoolaccept changed the pool: %v, want %v", got, poolBefore)
	}
	var info struct {
		Size int `json:"size"`
	}
	decode(t, mustCall(t, n.srv, "getmempoolinfo"), &info)
	if info.Size != 1 {
		t.Errorf("getmempoolinfo size %d after testmempoolaccept, want 1", info.Size)
	}
}

// TestMempoolRPCReplacement ensures a conflicting transaction paying too
// little is refused with -26 "insufficient fee", testmempoolaccept allows a
// better-paying one without touching the pool, and sendrawtransaction of it
// evicts the original with its descendants.
func TestMempoolRPCReplacement(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 2)
	parent := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 2, 1000)
	child := n.spend(t, []chaintest.SpendableOut{n.out(parent, 0)}, 1, 1000)
	other := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 1, 1000)
	for _, tx := range []*wire.MsgTx{parent, child, other} {
		n.send(t, tx)
	}
	cheap := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 500)
	_, rerr := call(t, n.srv, "sendrawtransaction", txHexString(cheap))
	checkErr(t, "lower-fee replacement", rerr, -26, "insufficient fee")
	// Enough fee rate but less fee in all than parent and child.
	short := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1900)
	_, rerr = call(t, n.srv, "sendrawtransaction", txHexString(short))
	checkErr(t, "replacement paying less than it evicts", rerr, -26, "insufficient fee")

	rich := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 20_000)
	var results []struct {
		Allowed bool `json:"allowed"`
	}
	decode(t, mustCall(t, n.srv, "testmempoolaccept", []string{txHexString(rich)}), &results)
	if len(results) != 1 || !results[0].Allowed {
		t.Errorf("testmempoolaccept of the replacement: %+v, want allowed", results)
	}
	if got, want := n.poolIDs(), sortedIDs(parent, child, other); !reflect.DeepEqual(got, want) {
		t.Fatalf("pool after testmempoolaccept: %v, want %v", got, want)
	}
	n.send(t, rich)
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); !reflect.DeepEqual(got, sortedIDs(rich, other)) {
		t.Errorf("getrawmempool after the replacement: %v, want %v", got, sortedIDs(rich, other))
	}
	for _, tx := range []*wire.MsgTx{parent, child} {
		_, rerr := call(t, n.srv, "getmempoolentry", tx.TxHash().String())
		checkErr(t, "getmempoolentry of a replaced transaction", rerr, -5, "Transaction not in mempool")
	}
}

// mempoolEntryFields are the fields of Core's getmempoolentry.
var mempoolEntryFields = []string{"vsize", "weight", "time", "height", "descendantcount", "descendantsize",
	"ancestorcount", "ancestorsize", "wtxid", "fees", "depends", "spentby", "bip125-replaceable", "unbroadcast"}

// TestMempoolRPCPoolQueries ensures getrawmempool (plain and verbose),
// getmempoolentry, getmempoolinfo, getmempoolancestors and
// getmempooldescendants (plain and verbose) describe a pool holding a small
// family of transactions with Core's fields and values, and getmininginfo
// counts it. The family:
//
//	parent -> child -> grandchild
//	      \-> sibling
//	unrelated
func TestMempoolRPCPoolQueries(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 2)
	tipHeight := n.chain.BestSnapshot().Height

	// The empty pool.
	if raw := mustCall(t, n.srv, "getrawmempool"); string(bytes.TrimSpace(raw)) != "[]" {
		t.Errorf("getrawmempool of an empty pool = %s, want []", raw)
	}
	if raw := mustCall(t, n.srv, "getrawmempool", true); string(bytes.TrimSpace(raw)) != "{}" {
		t.Errorf("getrawmempool true of an empty pool = %s, want {}", raw)
	}
	info := object(t, mustCall(t, n.srv, "getmempoolinfo"))
	checkKeys(t, "getmempoolinfo", info, "loaded", "size", "bytes", "usage", "total_fee", "maxmempool",
		"mempoolminfee", "minrelaytxfee", "incrementalrelayfee", "unbroadcastcount", "fullrbf")
	for _, k := range []string{"size", "bytes", "usage", "total_fee", "unbroadcastcount"} {
		if string(info[k]) != "0" {
			t.Errorf("getmempoolinfo %s of an empty pool = %s, want 0", k, info[k])
		}
	}

	parent := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 2, 2000)
	child := n.spend(t, []chaintest.SpendableOut{n.out(parent, 0)}, 1, 1500)
	grandchild := n.spend(t, []chaintest.SpendableOut{n.out(child, 0)}, 1, 1200)
	sibling := n.spend(t, []chaintest.SpendableOut{n.out(parent, 1)}, 1, 1100)
	unrelated := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 1, 3000)
	all := []*wire.MsgTx{parent, child, grandchild, sibling, unrelated}
	for _, tx := range all {
		n.send(t, tx)
	}
	fee := map[*wire.MsgTx]int64{parent: 2000, child: 1500, grandchild: 1200, sibling: 1100, unrelated: 3000}

	// Expected entries, from the family above.
	type family struct {
		tx                   *wire.MsgTx
		ancestors, descends  []*wire.MsgTx // not counting tx itself
		depends, spentBy     []*wire.MsgTx
		ancestorFee, descFee int64
	}
	fams := []family{
		{tx: parent, descends: []*wire.MsgTx{child, grandchild, sibling}, spentBy: []*wire.MsgTx{child, sibling}},
		{tx: child, ancestors: []*wire.MsgTx{parent}, descends: []*wire.MsgTx{grandchild}, depends: []*wire.MsgTx{parent}, spentBy: []*wire.MsgTx{grandchild}},
		{tx: grandchild, ancestors: []*wire.MsgTx{parent, child}, depends: []*wire.MsgTx{child}},
		{tx: sibling, ancestors: []*wire.MsgTx{parent}, depends: []*wire.MsgTx{parent}},
		{tx: unrelated},
	}
	entries := map[string]json.RawMessage{}
	for _, f := range fams {
		name := "getmempoolentry " + f.tx.TxHash().String()
		raw := mustCall(t, n.srv, "getmempoolentry", f.tx.TxHash().String())
		entries[f.tx.TxHash().String()] = raw
		e := object(t, raw)
		checkKeys(t, name, e, mempoolEntryFields...)
		var got mempoolEntry
		decode(t, raw, &got)
		sort.Strings(got.Depends)
		sort.Strings(got.SpentBy)
		wantSize, wantAncSize, wantDescSize := vsizeOf(f.tx), vsizeOf(f.tx), vsizeOf(f.tx)
		wantAncFee, wantDescFee := fee[f.tx], fee[f.tx]
		for _, a := range f.ancestors {
			wantAncSize += vsizeOf(a)
			wantAncFee += fee[a]
		}
		for _, d := range f.descends {
			wantDescSize += vsizeOf(d)
			wantDescFee += fee[d]
		}
		want := got
		want.VSize, want.Weight, want.Time, want.Height = wantSize, weightOf(f.tx), testNow().Unix(), tipHeight
		want.AncestorCount, want.AncestorSize = 1+len(f.ancestors), wantAncSize
		want.DescendantCount, want.DescendantSize = 1+len(f.descends), wantDescSize
		want.WTxID = f.tx.WitnessHash().String()
		want.Fees = map[string]float64{"base": btc(fee[f.tx]), "modified": btc(fee[f.tx]),
			"ancestor": btc(wantAncFee), "descendant": btc(wantDescFee)}
		want.Depends, want.SpentBy = sortedIDs(f.depends...), sortedIDs(f.spentBy...)
		want.BIP125 = true // full RBF: everything is replaceable
		want.Unbroadcast = false
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}

	// getrawmempool, plain and verbose.
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); !reflect.DeepEqual(got, sortedIDs(all...)) {
		t.Errorf("getrawmempool = %v, want %v", got, sortedIDs(all...))
	}
	if got := txidSet(t, "getrawmempool false", mustCall(t, n.srv, "getrawmempool", false)); !reflect.DeepEqual(got, sortedIDs(all...)) {
		t.Errorf("getrawmempool false = %v, want %v", got, sortedIDs(all...))
	}
	verbose := object(t, mustCall(t, n.srv, "getrawmempool", true))
	checkKeys(t, "getrawmempool true", verbose, sortedIDs(all...)...)
	for id, raw := range verbose {
		if !reflect.DeepEqual(anyJSON(t, raw), anyJSON(t, entries[id])) {
			t.Errorf("getrawmempool true entry %s = %s, want getmempoolentry's %s", id, raw, entries[id])
		}
	}
	_, rerr := call(t, n.srv, "getrawmempool", "yes")
	checkErr(t, "getrawmempool verbose as a string", rerr, -3, "")
	// mempool_sequence, Core's second parameter: an object of the txids
	// and a sequence number, and refused with verbose.
	seqRaw := mustCall(t, n.srv, "getrawmempool", false, true)
	var seq map[string]json.RawMessage
	if err := json.Unmarshal(seqRaw, &seq); err != nil {
		t.Errorf("getrawmempool false true = %s, want an object of txids and mempool_sequence", seqRaw)
	} else {
		checkKeys(t, "getrawmempool false true", seq, "txids", "mempool_sequence")
		var ids []string
		if err := json.Unmarshal(seq["txids"], &ids); err != nil || !reflect.DeepEqual(sortedStrings(ids), sortedIDs(all...)) {
			t.Errorf("getrawmempool false true txids = %s, want %v", seq["txids"], sortedIDs(all...))
		}
	}
	_, rerr = call(t, n.srv, "getrawmempool", true, true)
	checkErr(t, "getrawmempool true true", rerr, -8, "Verbose results cannot contain mempool sequence values.")

	// getmempoolentry errors.
	for _, test := range []struct {
		name     string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "unknown txid", params: []any{chainhash.DoubleHashH([]byte("x")).String()}, wantCode: -5, wantMsg: "Transaction not in mempool"},
		{name: "confirmed coinbase", params: []any{n.coinbase(0).OutPoint.Hash.String()}, wantCode: -5, wantMsg: "Transaction not in mempool"},
		{name: "short txid", params: []any{"abcd"}, wantCode: -8, wantMsg: "must be of length 64"},
		{name: "txid not hex", params: []any{strings.Repeat("z", 64)}, wantCode: -8, wantMsg: "must be hexadecimal"},
		{name: "txid as a number", params: []any{1}, wantCode: -3},
	} {
		_, rerr := call(t, n.srv, "getmempoolentry", test.params...)
		checkErr(t, "getmempoolentry "+test.name, rerr, test.wantCode, test.wantMsg)
	}

	// getmempoolancestors and getmempooldescendants.
	for _, test := range []struct {
		name    string
		method  string
		tx      *wire.MsgTx
		verbose bool
		want    []*wire.MsgTx
	}{
		{name: "ancestors of the grandchild", method: "getmempoolancestors", tx: grandchild, want: []*wire.MsgTx{parent, child}},
		{name: "ancestors of the grandchild, verbose", method: "getmempoolancestors", tx: grandchild, verbose: true, want: []*wire.MsgTx{parent, child}},
		{name: "ancestors of the sibling", method: "getmempoolancestors", tx: sibling, want: []*wire.MsgTx{parent}},
		{name: "ancestors of the parent", method: "getmempoolancestors", tx: parent},
		{name: "ancestors of the parent, verbose", method: "getmempoolancestors", tx: parent, verbose: true},
		{name: "descendants of the parent", method: "getmempooldescendants", tx: parent, want: []*wire.MsgTx{child, grandchild, sibling}},
		{name: "descendants of the parent, verbose", method: "getmempooldescendants", tx: parent, verbose: true, want: []*wire.MsgTx{child, grandchild, sibling}},
		{name: "descendants of the child", method: "getmempooldescendants", tx: child, want: []*wire.MsgTx{grandchild}},
		{name: "descendants of the grandchild", method: "getmempooldescendants", tx: grandchild},
		{name: "descendants of the unrelated", method: "getmempooldescendants", tx: unrelated, verbose: true},
	} {
		id := test.tx.TxHash().String()
		if !test.verbose {
			raw := mustCall(t, n.srv, test.method, id)
			if got := txidSet(t, test.name, raw); !reflect.DeepEqual(got, sortedIDs(test.want...)) {
				t.Errorf("%q: %v, want %v", test.name, got, sortedIDs(test.want...))
			}
			raw2 := mustCall(t, n.srv, test.method, id, false)
			if !bytes.Equal(raw, raw2) {
				t.Errorf("%q: verbose false answered %s, the default %s", test.name, raw2, raw)
			}
			continue
		}
		m := object(t, mustCall(t, n.srv, test.method, id, true))
		checkKeys(t, test.name, m, sortedIDs(test.want...)...)
		for k, raw := range m {
			if !reflect.DeepEqual(anyJSON(t, raw), anyJSON(t, entries[k])) {
				t.Errorf("%q: entry %s = %s, want getmempoolentry's %s", test.name, k, raw, entries[k])
			}
		}
	}
	for _, method := range []string{"getmempoolancestors", "getmempooldescendants"} {
		_, rerr := call(t, n.srv, method, chainhash.DoubleHashH([]byte("x")).String())
		checkErr(t, method+" of an unknown txid", rerr, -5, "Transaction not in mempool")
		_, rerr = call(t, n.srv, method, parent.TxHash().String(), "yes")
		checkErr(t, method+" verbose as a string", rerr, -3, "")
		_, rerr = call(t, n.srv, method, "abcd")
		checkErr(t, method+" short txid", rerr, -8, "")
	}

	// getmempoolinfo.
	var totalSize, totalFee int64
	for _, tx := range all {
		totalSize += vsizeOf(tx)
		totalFee += fee[tx]
	}
	var gotInfo struct {
		Loaded              bool    `json:"loaded"`
		Size                int     `json:"size"`
		Bytes               int64   `json:"bytes"`
		Usage               int64   `json:"usage"`
		TotalFee            float64 `json:"total_fee"`
		MaxMempool          int64   `json:"maxmempool"`
		MempoolMinFee       float64 `json:"mempoolminfee"`
		MinRelayTxFee       float64 `json:"minrelaytxfee"`
		IncrementalRelayFee float64 `json:"incrementalrelayfee"`
		UnbroadcastCount    int     `json:"unbroadcastcount"`
		FullRBF             bool    `json:"fullrbf"`
	}
	decode(t, mustCall(t, n.srv, "getmempoolinfo"), &gotInfo)
	wantInfo := gotInfo
	wantInfo.Loaded, wantInfo.Size, wantInfo.Bytes, wantInfo.TotalFee = true, len(all), totalSize, btc(totalFee)
	wantInfo.MaxMempool, wantInfo.MempoolMinFee, wantInfo.MinRelayTxFee, wantInfo.IncrementalRelayFee = poolMaxBytes, 0.00001, 0.00001, 0.00001
	wantInfo.UnbroadcastCount, wantInfo.FullRBF = 0, true
	if !reflect.DeepEqual(gotInfo, wantInfo) {
		t.Errorf("getmempoolinfo:\n got %+v\nwant %+v", gotInfo, wantInfo)
	}
	if gotInfo.Usage <= totalSize {
		t.Errorf("getmempoolinfo usage %d, want more than the transactions' %d vbytes", gotInfo.Usage, totalSize)
	}

	var mining struct {
		PooledTx int `json:"pooledtx"`
	}
	decode(t, mustCall(t, n.srv, "getmininginfo"), &mining)
	if mining.PooledTx != len(all) {
		t.Errorf("getmininginfo pooledtx = %d, want %d", mining.PooledTx, len(all))
	}
}

// TestMempoolRPCEstimateSmartFee ensures estimatesmartfee checks its
// parameters as Core does, reports insufficient data with an errors array
// before any pool transaction confirmed, and afterwards a fee rate in coins
// per 1,000 vbytes drawn from the fee rates that confirmed: the median for
// short targets, lower for longer ones.
func TestMempoolRPCEstimateSmartFee(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 1)
	for _, test := range []struct {
		name     string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "conf_target 0", params: []any{0}, wantCode: -8, wantMsg: "Invalid conf_target, must be between 1 and 1008"},
		{name: "conf_target -1", params: []any{-1}, wantCode: -8, wantMsg: "Invalid conf_target, must be between 1 and 1008"},
		{name: "conf_target 1009", params: []any{1009}, wantCode: -8, wantMsg: "Invalid conf_target, must be between 1 and 1008"},
		{name: "conf_target as a string", params: []any{"6"}, wantCode: -3},
		{name: "conf_target not whole", params: []any{2.5}, wantCode: -3},
		{name: "unknown estimate_mode", params: []any{6, "bogus"}, wantCode: -8,
			wantMsg: `Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"`},
		{name: "estimate_mode as a number", params: []any{6, 1}, wantCode: -3},
		{name: "estimate_mode economical", params: []any{6, "economical"}},
		{name: "estimate_mode CONSERVATIVE", params: []any{6, "CONSERVATIVE"}},
		{name: "estimate_mode unset", params: []any{6, "unset"}},
		// Core compares modes case-insensitively (FeeModeFromString).
		{name: "estimate_mode Conservative", params: []any{6, "Conservative"}},
		{name: "estimate_mode Economical", params: []any{6, "Economical"}},
	} {
		_, rerr := call(t, n.srv, "estimatesmartfee", test.params...)
		if test.wantCode == 0 {
			if rerr != nil {
				t.Errorf("estimatesmartfee %q: unexpected error %v", test.name, rerr)
			}
			continue
		}
		checkErr(t, "estimatesmartfee "+test.name, rerr, test.wantCode, test.wantMsg)
	}

	for _, target := range []int{1, 2, 6, 1008} {
		m := object(t, mustCall(t, n.srv, "estimatesmartfee", target))
		if _, has := m["feerate"]; has {
			t.Errorf("estimatesmartfee %d without data has a feerate: %v", target, m)
		}
		var errs []string
		decode(t, m["errors"], &errs)
		if len(errs) != 1 || errs[0] != "Insufficient data or no feerate found" {
			t.Errorf("estimatesmartfee %d without data: errors %v", target, errs)
		}
		var blocks int
		if raw, ok := m["blocks"]; !ok {
			t.Errorf("estimatesmartfee %d without data lacks blocks", target)
		} else if decode(t, raw, &blocks); blocks < 0 || blocks > target {
			t.Errorf("estimatesmartfee %d without data: blocks %d", target, blocks)
		}
	}

	// A parent with 12 outputs and 12 children paying rising fees, all
	// confirmed in one block: 13 fee rates.
	parent := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 12, 6000)
	n.send(t, parent)
	txs := []*wire.MsgTx{parent}
	fees := []int64{6000}
	for i := uint32(0); i < 12; i++ {
		fee := 500 + 400*int64(i)
		child := n.spend(t, []chaintest.SpendableOut{n.out(parent, i)}, 1, fee)
		n.send(t, child)
		txs = append(txs, child)
		fees = append(fees, fee)
	}
	var rates []float64
	for i, tx := range txs {
		rates = append(rates, float64(fees[i])*1000/float64(vsizeOf(tx)))
	}
	sort.Float64s(rates)
	n.mineBlock(t, "confirm", txs...)
	if n.pool.Count() != 0 {
		t.Fatalf("pool holds %d transactions after the block", n.pool.Count())
	}

	estimate := func(target int) float64 {
		t.Helper()
		m := object(t, mustCall(t, n.srv, "estimatesmartfee", target))
		if _, has := m["errors"]; has {
			t.Fatalf("estimatesmartfee %d after the block: errors %s", target, m["errors"])
		}
		if _, has := m["blocks"]; !has {
			t.Errorf("estimatesmartfee %d lacks blocks", target)
		}
		var rate float64
		decode(t, m["feerate"], &rate)
		return rate
	}
	median := btc(int64(rates[(len(rates)-1)/2]))
	if got := estimate(2); got != median {
		t.Errorf("estimatesmartfee 2 = %v, want the median confirmed rate %v coins/kvB (rates %v)", got, median, rates)
	}
	prev := estimate(1)
	for _, target := range []int{2, 6, 25, 1008} {
		got := estimate(target)
		if got > prev {
			t.Errorf("estimatesmartfee %d = %v, above the estimate for a shorter target (%v)", target, got, prev)
		}
		if got < btc(int64(rates[0])) || got > btc(int64(rates[len(rates)-1])) {
			t.Errorf("estimatesmartfee %d = %v, outside the confirmed rates %v..%v", target, got, btc(int64(rates[0])), btc(int64(rates[len(rates)-1])))
		}
		prev = got
	}
}

// TestMempoolRPCRawTransactionAndTxOut ensures getrawtransaction finds a
// pool transaction (hex and verbose, without block fields), and gettxout
// with include_mempool sees the pool: an output a pool transaction spends
// is null with it and the UTXO without it; an output a pool transaction
// creates has 0 confirmations with it and is null without it.
func TestMempoolRPCRawTransactionAndTxOut(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 1)
	best := n.chain.BestSnapshot()
	cb := n.coinbase(0)
	tx := n.spend(t, []chaintest.SpendableOut{cb}, 2, 1000)
	n.send(t, tx)
	id := tx.TxHash().String()

	if got := str(t, mustCall(t, n.srv, "getrawtransaction", id)); got != txHexString(tx) {
		t.Errorf("getrawtransaction of a pool transaction = %s, want %s", got, txHexString(tx))
	}
	for _, verbose := range []any{true, 1} {
		m := object(t, mustCall(t, n.srv, "getrawtransaction", id, verbose))
		for _, k := range []string{"blockhash", "confirmations", "time", "blocktime", "in_active_chain"} {
			if _, has := m[k]; has {
				t.Errorf("getrawtransaction %v of a pool transaction has %q", verbose, k)
			}
		}
		if got := str(t, m["txid"]); got != id {
			t.Errorf("getrawtransaction %v: txid %s, want %s", verbose, got, id)
		}
		if got := str(t, m["hash"]); got != tx.WitnessHash().String() {
			t.Errorf("getrawtransaction %v: hash %s, want the wtxid %s", verbose, got, tx.WitnessHash())
		}
		if got := str(t, m["hex"]); got != txHexString(tx) {
			t.Errorf("getrawtransaction %v: hex %s", verbose, got)
		}
	}
	_, rerr := call(t, n.srv, "getrawtransaction", chainhash.DoubleHashH([]byte("x")).String())
	checkErr(t, "getrawtransaction of an unknown txid", rerr, -5, "No such mempool transaction")

	type txOut struct {
		BestBlock     string  `json:"bestblock"`
		Confirmations int64   `json:"confirmations"`
		Value         float64 `json:"value"`
		ScriptPubKey  struct {
			Hex     string `json:"hex"`
			Address string `json:"address"`
			Type    string `json:"type"`
		} `json:"scriptPubKey"`
		Coinbase bool `json:"coinbase"`
	}
	utxo := &txOut{BestBlock: best.Hash.String(), Confirmations: int64(best.Height), Value: btc(cb.Amount), Coinbase: true}
	created := &txOut{BestBlock: best.Hash.String(), Confirmations: 0, Value: btc(tx.TxOut[1].Value)}
	for _, o := range []*txOut{utxo, created} {
		o.ScriptPubKey.Hex = fmt.Sprintf("%x", n.pk)
		o.ScriptPubKey.Address = n.addr
		o.ScriptPubKey.Type = "witness_v0_keyhash"
	}
	for _, test := range []struct {
		name   string
		params []any
		want   *txOut // nil: null
	}{
		{name: "spent in the pool, default", params: []any{cb.OutPoint.Hash.String(), 0}},
		{name: "spent in the pool, include_mempool true", params: []any{cb.OutPoint.Hash.String(), 0, true}},
		{name: "spent in the pool, include_mempool false", params: []any{cb.OutPoint.Hash.String(), 0, false}, want: utxo},
		{name: "created in the pool, include_mempool true", params: []any{id, 1, true}, want: created},
		{name: "created in the pool, default", params: []any{id, 1}, want: created},
		{name: "created in the pool, include_mempool false", params: []any{id, 1, false}},
		{name: "no such output of a pool transaction", params: []any{id, 2, true}},
	} {
		raw := mustCall(t, n.srv, "gettxout", test.params...)
		if test.want == nil {
			if string(bytes.TrimSpace(raw)) != "null" {
				t.Errorf("gettxout %q = %s, want null", test.name, raw)
			}
			continue
		}
		m := object(t, raw)
		checkKeys(t, "gettxout "+test.name, m, "bestblock", "confirmations", "value", "scriptPubKey", "coinbase")
		var got txOut
		decode(t, raw, &got)
		if got != *test.want {
			t.Errorf("gettxout %q:\n got %+v\nwant %+v", test.name, got, *test.want)
		}
	}

	// Confirmed, the created output counts one confirmation.
	n.mineBlock(t, "confirm", tx)
	var got txOut
	decode(t, mustCall(t, n.srv, "gettxout", id, 1, true), &got)
	if got.Confirmations != 1 || got.Coinbase {
		t.Errorf("gettxout of a confirmed output: %+v, want 1 confirmation", got)
	}
	if raw := mustCall(t, n.srv, "gettxout", cb.OutPoint.Hash.String(), 0, false); string(bytes.TrimSpace(raw)) != "null" {
		t.Errorf("gettxout of the coinbase spent in a block = %s, want null", raw)
	}
}

// TestMempoolRPCGenerateBlock ensures generateblock takes pool transactions
// by txid into the block it mines, after which they leave the pool, and
// refuses a txid the pool does not hold; getmininginfo's pooledtx follows.
func TestMempoolRPCGenerateBlock(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 2)
	parent := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	child := n.spend(t, []chaintest.SpendableOut{n.out(parent, 0)}, 1, 1000)
	other := n.spend(t, []chaintest.SpendableOut{n.coinbase(1)}, 1, 1000)
	for _, tx := range []*wire.MsgTx{parent, child, other} {
		n.send(t, tx)
	}
	pooled := func() int {
		t.Helper()
		var m struct {
			PooledTx int `json:"pooledtx"`
		}
		decode(t, mustCall(t, n.srv, "getmininginfo"), &m)
		return m.PooledTx
	}
	if got := pooled(); got != 3 {
		t.Errorf("getmininginfo pooledtx = %d, want 3", got)
	}

	unknown := chainhash.DoubleHashH([]byte("x")).String()
	_, rerr := call(t, n.srv, "generateblock", n.addr, []string{unknown})
	checkErr(t, "generateblock with a txid not in the pool", rerr, -5, "Transaction "+unknown+" not in mempool.")

	var res struct {
		Hash string `json:"hash"`
	}
	decode(t, mustCall(t, n.srv, "generateblock", n.addr, []string{parent.TxHash().String(), child.TxHash().String()}), &res)
	n.settle(t, 1)
	best := n.chain.BestSnapshot()
	if best.Hash.String() != res.Hash {
		t.Fatalf("tip %s, want the generated block %s", best.Hash, res.Hash)
	}
	block, err := n.chain.BlockByHash(best.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sortedIDs(block.Transactions[1:]...), sortedIDs(parent, child); !reflect.DeepEqual(got, want) {
		t.Errorf("generated block holds %v, want %v", got, want)
	}
	if got := txidSet(t, "getrawmempool", mustCall(t, n.srv, "getrawmempool")); !reflect.DeepEqual(got, sortedIDs(other)) {
		t.Errorf("getrawmempool after generateblock = %v, want %v", got, sortedIDs(other))
	}
	if got := pooled(); got != 1 {
		t.Errorf("getmininginfo pooledtx after generateblock = %d, want 1", got)
	}
	_, rerr = call(t, n.srv, "generateblock", n.addr, []string{parent.TxHash().String()})
	checkErr(t, "generateblock with a txid already mined", rerr, -5, "not in mempool")
}

// TestMempoolRPCWithoutMempool ensures every pool call fails with -1 on a
// server without a mempool, while gettxout, getrawtransaction,
// getmininginfo and generateblock still answer from the chain alone.
func TestMempoolRPCWithoutMempool(t *testing.T) {
	t.Parallel()
	gen := &fakeGenerator{}
	n := newTestNode(t, nodeConfig{blocks: 2, generator: gen})
	if n.srv.cfg.Mempool != nil {
		t.Fatal("test node has a mempool")
	}
	cb := n.g.CoinbaseOut("b1")
	tx := chaintest.CreateSpendTx(cb, 1000)
	hexTx := txHexString(tx)
	id := tx.TxHash().String()
	for _, test := range []struct {
		method string
		params []any
	}{
		{"sendrawtransaction", []any{hexTx}},
		{"testmempoolaccept", []any{[]string{hexTx}}},
		{"getrawmempool", nil},
		{"getrawmempool", []any{true}},
		{"getmempoolentry", []any{id}},
		{"getmempoolinfo", nil},
		{"getmempoolancestors", []any{id}},
		{"getmempooldescendants", []any{id, true}},
		{"estimatesmartfee", []any{6}},
	} {
		_, rerr := call(t, n.srv, test.method, test.params...)
		checkErr(t, fmt.Sprintf("%s %v", test.method, test.params), rerr, -1, "no mempool")
	}

	var mining struct {
		PooledTx *int `json:"pooledtx"`
	}
	decode(t, mustCall(t, n.srv, "getmininginfo"), &mining)
	if mining.PooledTx == nil || *mining.PooledTx != 0 {
		t.Errorf("getmininginfo pooledtx without a pool = %v, want 0", mining.PooledTx)
	}
	var out struct {
		Confirmations int64 `json:"confirmations"`
	}
	decode(t, mustCall(t, n.srv, "gettxout", cb.OutPoint.Hash.String(), 0, true), &out)
	if out.Confirmations != 2 {
		t.Errorf("gettxout include_mempool without a pool: confirmations %d, want 2", out.Confirmations)
	}
	_, rerr := call(t, n.srv, "getrawtransaction", id)
	checkErr(t, "getrawtransaction without a pool or index", rerr, -5, "No such mempool transaction")
	addr, err := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), n.net.AddressParams())
	if err != nil {
		t.Fatal(err)
	}
	_, rerr = call(t, n.srv, "generateblock", addr.EncodeAddress(), []string{id})
	checkErr(t, "generateblock with a txid without a pool", rerr, -5, "not in mempool")
	if gen.callCount() != 0 {
		t.Errorf("the generator was called %d times for a refused generateblock", gen.callCount())
	}
}

// TestMempoolRPCReorgRelinks ensures that when invalidateblock returns a
// block's transaction to the pool, pool transactions that already spent
// its outputs become its descendants: getmempoolentry's ancestor and
// descendant figures, depends and spentby, and getmempoolancestors and
// getmempooldescendants all see the family (Core updates them in
// UpdateTransactionsFromBlock), so that a block template orders the parent
// first.
//
//	... -> m99 -> c1(confirmed)      pool: spender (spends confirmed:0)
func TestMempoolRPCReorgRelinks(t *testing.T) {
	t.Parallel()
	n := newPoolNode(t, 1)
	confirmed := n.spend(t, []chaintest.SpendableOut{n.coinbase(0)}, 1, 1000)
	n.send(t, confirmed)
	block := n.mineBlock(t, "c1", confirmed)
	spender := n.spend(t, []chaintest.SpendableOut{n.out(confirmed, 0)}, 1, 50_000)
	n.send(t, spender)

	mustCall(t, n.srv, "invalidateblock", block.BlockHash().String())
	n.settle(t, 1)
	if got, want := n.poolIDs(), sortedIDs(confirmed, spender); !reflect.DeepEqual(got, want) {
		t.Fatalf("pool after invalidateblock: %v, want %v", got, want)
	}
	var se, ce struct {
		AncestorCount   int      `json:"ancestorcount"`
		DescendantCount int      `json:"descendantcount"`
		Depends         []string `json:"depends"`
		SpentBy         []string `json:"spentby"`
	}
	decode(t, mustCall(t, n.srv, "getmempoolentry", spender.TxHash().String()), &se)
	if se.AncestorCount != 2 || !reflect.DeepEqual(se.Depends, sortedIDs(confirmed)) {
		t.Errorf("getmempoolentry of the spender after the reorg: ancestorcount %d, depends %v; want 2 and %v",
			se.AncestorCount, se.Depends, sortedIDs(confirmed))
	}
	decode(t, mustCall(t, n.srv, "getmempoolentry", confirmed.TxHash().String()), &ce)
	if ce.DescendantCount != 2 || !reflect.DeepEqual(ce.SpentBy, sortedIDs(spender)) {
		t.Errorf("getmempoolentry of the returned transaction: descendantcount %d, spentby %v; want 2 and %v",
			ce.DescendantCount, ce.SpentBy, sortedIDs(spender))
	}
	if got := txidSet(t, "getmempoolancestors", mustCall(t, n.srv, "getmempoolancestors", spender.TxHash().String())); !reflect.DeepEqual(got, sortedIDs(confirmed)) {
		t.Errorf("getmempoolancestors of the spender after the reorg = %v, want %v", got, sortedIDs(confirmed))
	}
	if got := txidSet(t, "getmempooldescendants", mustCall(t, n.srv, "getmempooldescendants", confirmed.TxHash().String())); !reflect.DeepEqual(got, sortedIDs(spender)) {
		t.Errorf("getmempooldescendants of the returned transaction = %v, want %v", got, sortedIDs(spender))
	}
}
