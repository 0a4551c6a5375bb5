package electrum

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool"
)

// testNode is a chain with the address and transaction indexes, a pool
// following it, and an Electrum server over both on loopback.
type testNode struct {
	t     testing.TB
	g     *chaintest.Generator
	chain *chain.BlockChain
	pool  *mempool.TxPool
	srv   *Server
	addr  string
	key   *btcec.PrivateKey
	pk    []byte // the key's P2WPKH script; coinbases pay it
}

func newTestNode(t testing.TB, configure func(*Config)) *testNode {
	t.Helper()
	net := chainparams.Regtest()
	net.Consensus.CoinbaseMaturity = 1
	g := chaintest.New(net)
	// No transaction index: transaction.get finds confirmed transactions
	// through the histories the client read.
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, AddrIndex: true, Now: g.Now})
	if err != nil {
		t.Fatal(err)
	}
	pool := mempool.New(mempool.Config{Chain: c, Now: g.Now})
	cfg := Config{Listen: []string{"127.0.0.1:0"}, Chain: c, Mempool: pool, Version: "Cairn test"}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { pool.Run(ctx); done <- struct{}{} }()
	go func() { srv.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		c.Close()
	})
	key, _ := btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("electrum test key")))
	n := &testNode{t: t, g: g, chain: c, pool: pool, srv: srv, addr: srv.Addrs()[0].String(), key: key,
		pk: chaintest.P2WPKHScript(key)}
	return n
}

// mine builds a block on the generator's tip whose coinbase pays the test
// key, holding txs, and processes it.
func (n *testNode) mine(name string, txs ...*wire.MsgTx) *wire.MsgBlock {
	n.t.Helper()
	b := n.g.NextBlock(name, nil, txs, func(b *wire.MsgBlock) { b.Transactions[0].TxOut[0].PkScript = n.pk })
	if _, err := n.chain.ProcessBlock(b); err != nil {
		n.t.Fatalf("block %s: %v", name, err)
	}
	return b
}

// coinbaseOut is the spendable coinbase output of the named block.
func (n *testNode) coinbaseOut(name string) chaintest.SpendableOut {
	o := n.g.CoinbaseOut(name)
	o.Key = n.key
	return o
}

// scriptHashHex is the protocol's script hash of a script.
func scriptHashHex(script []byte) string {
	h := sha256.Sum256(script)
	for i, j := 0, len(h)-1; i < j; i, j = i+1, j-1 {
		h[i], h[j] = h[j], h[i]
	}
	return hex.EncodeToString(h[:])
}

// client is a protocol client: it sends requests and sorts what comes back
// into answers and notifications.
type client struct {
	t     testing.TB
	conn  net.Conn
	r     *bufio.Reader
	id    int
	notes []map[string]any
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReaderSize(conn, 4<<20)}
}

// readMsg reads one message, or returns nil at EOF or after timeout.
func (c *client) readMsg(timeout time.Duration) map[string]any {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		c.t.Fatalf("server sent %q: %v", line, err)
	}
	if m["jsonrpc"] != "2.0" {
		c.t.Fatalf("message without jsonrpc 2.0: %s", line)
	}
	return m
}

// call sends a request and returns its answer's result or error,
// collecting notifications that arrive first.
func (c *client) call(method string, params ...any) (json.RawMessage, *rpcError) {
	c.t.Helper()
	c.id++
	if params == nil {
		params = []any{}
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": c.id, "method": method, "params": params})
	return c.callRaw(append(b, '\n'), float64(c.id))
}

func (c *client) callRaw(line []byte, id float64) (json.RawMessage, *rpcError) {
	c.t.Helper()
	if _, err := c.conn.Write(line); err != nil {
		c.t.Fatal(err)
	}
	for {
		m := c.readMsg(10 * time.Second)
		if m == nil {
			c.t.Fatalf("no answer to %s", line)
		}
		if _, ok := m["method"]; ok {
			c.notes = append(c.notes, m)
			continue
		}
		if got, _ := m["id"].(float64); got != id && m["id"] != nil {
			c.t.Fatalf("answer to id %v, want %v", m["id"], id)
		}
		if e, ok := m["error"].(map[string]any); ok {
			return nil, &rpcError{Code: int(e["code"].(float64)), Message: e["message"].(string)}
		}
		res, _ := json.Marshal(m["result"])
		return res, nil
	}
}

// mustCall is call that fails the test on an error, decoding into out.
func (c *client) mustCall(out any, method string, params ...any) {
	c.t.Helper()
	res, rerr := c.call(method, params...)
	if rerr != nil {
		c.t.Fatalf("%s: %v", method, rerr)
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			c.t.Fatalf("%s: %s: %v", method, res, err)
		}
	}
}

// waitNote waits for a notification of method whose first parameter is
// first (any when empty) and returns its parameters.
func (c *client) waitNote(method, first string) []any {
	c.t.Helper()
	match := func(m map[string]any) []any {
		if m["method"] != method {
			return nil
		}
		params, _ := m["params"].([]any)
		if first != "" && (len(params) == 0 || params[0] != first) {
			return nil
		}
		return params
	}
	for i, m := range c.notes {
		if p := match(m); p != nil {
			c.notes = append(c.notes[:i], c.notes[i+1:]...)
			return p
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m := c.readMsg(time.Until(deadline))
		if m == nil {
			break
		}
		if p := match(m); p != nil {
			return p
		}
		c.notes = append(c.notes, m)
	}
	c.t.Fatalf("no %s notification for %q", method, first)
	return nil
}

// waitStatus waits until a notification gives the script the status want.
func (c *client) waitStatus(sh, want string) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last []any
	for time.Now().Before(deadline) {
		last = c.waitNote("blockchain.scripthash.subscribe", sh)
		if last[1] == want {
			return
		}
	}
	c.t.Fatalf("script %s: last status %v, want %s", sh, last, want)
}

// statusFor computes a status independently: SHA-256 of "txid:height:".
func statusFor(entries ...string) string {
	h := sha256.Sum256([]byte(strings.Join(entries, "")))
	return hex.EncodeToString(h[:])
}

func entry(txid chainhash.Hash, height int) string { return fmt.Sprintf("%v:%d:", txid, height) }

// historyItem and listUnspentEntry decode the protocol's answers.
type historyItem struct {
	TxHash string `json:"tx_hash"`
	Height int32  `json:"height"`
	Fee    *int64 `json:"fee,omitempty"`
}

type listUnspentEntry struct {
	TxHash string `json:"tx_hash"`
	TxPos  uint32 `json:"tx_pos"`
	Height int32  `json:"height"`
	Value  int64  `json:"value"`
}

// TestSession drives the protocol as a wallet does: negotiate, subscribe
// to headers and a script, see its coins, broadcast a payment and see it
// unconfirmed, confirmed, back in the pool after a reorganization, and
// confirmed again; prove transactions and headers.
func TestSession(t *testing.T) {
	n := newTestNode(t, nil)
	n.mine("b1")
	n.mine("b2")
	n.mine("b3")
	c := dial(t, n.addr)
	var version []string
	c.mustCall(&version, "server.version", "electrum/4.3.4", "1.4")
	if len(version) != 2 || version[0] != "Cairn test" || version[1] != "1.4" {
		t.Fatalf("server.version: %q", version)
	}
	if _, rerr := c.call("server.version", "electrum/4.3.4", "1.4"); rerr == nil || rerr.Code != codeBadRequest {
		t.Fatalf("second server.version: %v", rerr)
	}
	var features map[string]any
	c.mustCall(&features, "server.features")
	if features["genesis_hash"] != n.chain.Network().GenesisHash().String() || features["protocol_max"] != "1.4.2" ||
		features["hash_function"] != "sha256" {
		t.Fatalf("server.features: %v", features)
	}
	var tip tipResult
	c.mustCall(&tip, "blockchain.headers.subscribe")
	b3 := n.g.Block("b3")
	if tip.Height != 3 || tip.Hex != headerHex(&b3.Header) {
		t.Fatalf("headers.subscribe: %+v", tip)
	}

	shA := scriptHashHex(n.pk)
	cb := func(name string) chainhash.Hash { return consensus.TxHash(n.g.Block(name).Transactions[0]) }
	var status *string
	c.mustCall(&status, "blockchain.scripthash.subscribe", shA)
	if want := statusFor(entry(cb("b1"), 1), entry(cb("b2"), 2), entry(cb("b3"), 3)); status == nil || *status != want {
		t.Fatalf("status of A: %v, want %s", status, want)
	}
	var balance map[string]int64
	c.mustCall(&balance, "blockchain.scripthash.get_balance", shA)
	subsidy := n.g.Block("b1").Transactions[0].TxOut[0].Value
	if balance["confirmed"] != 3*subsidy || balance["unconfirmed"] != 0 {
		t.Fatalf("balance: %v", balance)
	}

	// A payment from A to B, broadcast through the server.
	keyB, _ := btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("electrum test key B")))
	pkB := chaintest.P2WPKHScript(keyB)
	shB := scriptHashHex(pkB)
	tx, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{n.coinbaseOut("b1")}, []int64{subsidy - 10_000}, pkB)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tx.Serialize(&buf)
	var txid string
	c.mustCall(&txid, "blockchain.transaction.broadcast", hex.EncodeToString(buf.Bytes()))
	if txid != tx.TxHash().String() {
		t.Fatalf("broadcast returned %s, want %v", txid, tx.TxHash())
	}
	note := c.waitNote("blockchain.scripthash.subscribe", shA)
	wantA := statusFor(entry(cb("b1"), 1), entry(cb("b2"), 2), entry(cb("b3"), 3), entry(tx.TxHash(), 0))
	if len(note) != 2 || note[1] != wantA {
		t.Fatalf("notification for A: %v, want status %s", note, wantA)
	}
	c.mustCall(&status, "blockchain.scripthash.subscribe", shB)
	if want := statusFor(entry(tx.TxHash(), 0)); status == nil || *status != want {
		t.Fatalf("status of B in the pool: %v", status)
	}
	var hist []historyItem
	c.mustCall(&hist, "blockchain.scripthash.get_mempool", shB)
	if len(hist) != 1 || hist[0].Height != 0 || hist[0].Fee == nil || *hist[0].Fee != 10_000 {
		t.Fatalf("get_mempool of B: %+v", hist)
	}
	c.mustCall(&balance, "blockchain.scripthash.get_balance", shA)
	if balance["confirmed"] != 3*subsidy || balance["unconfirmed"] != -subsidy {
		t.Fatalf("balance of A with the payment pooled: %v", balance)
	}
	var utxos []listUnspentEntry
	c.mustCall(&utxos, "blockchain.scripthash.listunspent", shA)
	if len(utxos) != 2 || utxos[0].Height != 2 || utxos[1].Height != 3 {
		t.Fatalf("listunspent of A, one coin spent in the pool: %+v", utxos)
	}

	// Confirmed in b4.
	b4 := n.mine("b4", tx)
	note = c.waitNote("blockchain.headers.subscribe", "")
	if m, _ := note[0].(map[string]any); m["height"] != 4.0 || m["hex"] != headerHex(&b4.Header) {
		t.Fatalf("header notification: %v", note)
	}
	note = c.waitNote("blockchain.scripthash.subscribe", shB)
	if want := statusFor(entry(tx.TxHash(), 4)); note[1] != want {
		t.Fatalf("B after b4: %v", note)
	}
	hist = nil
	c.mustCall(&hist, "blockchain.scripthash.get_history", shB)
	if len(hist) != 1 || hist[0].Height != 4 || hist[0].Fee != nil {
		t.Fatalf("history of B: %+v", hist)
	}
	var merkle struct {
		BlockHeight int32    `json:"block_height"`
		Merkle      []string `json:"merkle"`
		Pos         int      `json:"pos"`
	}
	c.mustCall(&merkle, "blockchain.transaction.get_merkle", tx.TxHash().String(), 4)
	var branch []chainhash.Hash
	for _, s := range merkle.Merkle {
		branch = append(branch, mustHash(t, s))
	}
	if merkle.Pos != 1 || foldBranch(tx.TxHash(), branch, merkle.Pos) != b4.Header.MerkleRoot {
		t.Fatalf("get_merkle %+v does not prove the tx under b4's merkle root", merkle)
	}
	var id string
	c.mustCall(&id, "blockchain.transaction.id_from_pos", 4, 1)
	if id != tx.TxHash().String() {
		t.Fatalf("id_from_pos: %s", id)
	}
	var rawHex string
	c.mustCall(&rawHex, "blockchain.transaction.get", tx.TxHash().String())
	if rawHex != hex.EncodeToString(buf.Bytes()) {
		t.Fatal("transaction.get returned other bytes")
	}
	var verbose map[string]any
	c.mustCall(&verbose, "blockchain.transaction.get", tx.TxHash().String(), true)
	if verbose["txid"] != tx.TxHash().String() || verbose["blockhash"] != b4.BlockHash().String() || verbose["confirmations"] != 1.0 {
		t.Fatalf("verbose transaction.get: %v", verbose)
	}

	// A longer branch from b3 without the payment: it returns to the pool.
	n.g.SetTip("b3")
	n.mine("c4")
	n.mine("c5")
	// The block's transactions return to the pool after it is
	// disconnected: B may be notified without history first.
	c.waitStatus(shB, statusFor(entry(tx.TxHash(), 0)))
	// The reorganization may be announced block by block; it ends at c5.
	for {
		note = c.waitNote("blockchain.headers.subscribe", "")
		if m, _ := note[0].(map[string]any); m["height"] == 5.0 {
			break
		}
	}
	n.mine("c6", tx)
	c.waitStatus(shB, statusFor(entry(tx.TxHash(), 6)))

	// Header proofs: block.header and block.headers with a checkpoint.
	var proof struct {
		Header string   `json:"header"`
		Branch []string `json:"branch"`
		Root   string   `json:"root"`
	}
	c.mustCall(&proof, "blockchain.block.header", 2, 5)
	var leaves []chainhash.Hash
	for h := int32(0); h <= 5; h++ {
		hash, _ := n.chain.BlockHashByHeight(h)
		leaves = append(leaves, hash)
	}
	branch = nil
	for _, s := range proof.Branch {
		branch = append(branch, mustHash(t, s))
	}
	if foldBranch(leaves[2], branch, 2).String() != proof.Root {
		t.Fatalf("header proof does not fold to its root: %+v", proof)
	}
	var headers struct {
		Hex   string `json:"hex"`
		Count int    `json:"count"`
		Max   int    `json:"max"`
	}
	c.mustCall(&headers, "blockchain.block.headers", 0, 3000)
	if headers.Count != 7 || headers.Max != 2016 || len(headers.Hex) != 7*160 {
		t.Fatalf("block.headers: count %d max %d hex %d", headers.Count, headers.Max, len(headers.Hex))
	}
	if _, rerr := c.call("blockchain.block.header", 9); rerr == nil || !strings.Contains(rerr.Message, "out of range") {
		t.Fatalf("header past the tip: %v", rerr)
	}
	var unsub bool
	c.mustCall(&unsub, "blockchain.scripthash.unsubscribe", shB)
	if !unsub || n.srv.SubscriptionCount() != 1 {
		t.Fatalf("unsubscribe: %v, %d subscriptions left", unsub, n.srv.SubscriptionCount())
	}
}

// TestBadInput ensures malformed requests get JSON-RPC errors and the
// session stays usable, and that an over-long line ends it.
func TestBadInput(t *testing.T) {
	n := newTestNode(t, func(c *Config) { c.MaxLineBytes, c.MaxSendBytes = 10_000, 4000 })
	n.mine("b1")
	c := dial(t, n.addr)
	tests := []struct {
		name string
		line string
		code int
	}{
		{"not JSON", "{nope\n", codeParseError},
		{"not an object", "17\n", codeInvalidRequest},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"blockchain.nothing","params":[]}` + "\n", codeMethodNotFound},
		{"too many params", `{"jsonrpc":"2.0","id":1,"method":"server.ping","params":[1]}` + "\n", codeInvalidParams},
		{"missing param", `{"jsonrpc":"2.0","id":1,"method":"blockchain.scripthash.get_history","params":[]}` + "\n", codeInvalidParams},
		{"bad script hash", `{"jsonrpc":"2.0","id":1,"method":"blockchain.scripthash.get_history","params":["zz"]}` + "\n", codeBadRequest},
		{"negative height", `{"jsonrpc":"2.0","id":1,"method":"blockchain.block.header","params":[-1]}` + "\n", codeBadRequest},
		{"bad transaction", `{"jsonrpc":"2.0","id":1,"method":"blockchain.transaction.broadcast","params":["00"]}` + "\n", codeBadRequest},
		{"unknown transaction", `{"jsonrpc":"2.0","id":1,"method":"blockchain.transaction.get","params":["` + strings.Repeat("ab", 32) + `"]}` + "\n", codeDaemonError},
		{"empty batch", "[]\n", codeInvalidRequest},
	}
	for _, test := range tests {
		_, rerr := c.callRaw([]byte(test.line), 1)
		if rerr == nil || rerr.Code != test.code {
			t.Errorf("%s: error %v, want code %d", test.name, rerr, test.code)
		}
	}
	// Still usable, also with named parameters and a batch.
	c.mustCall(nil, "server.ping")
	res, rerr := c.callRaw([]byte(`{"jsonrpc":"2.0","id":5,"method":"blockchain.block.header","params":{"height":1}}`+"\n"), 5)
	if rerr != nil || !strings.Contains(string(res), hex.EncodeToString([]byte{0})[:0]) {
		t.Fatalf("named params: %s %v", res, rerr)
	}
	if _, err := c.conn.Write([]byte(`[{"jsonrpc":"2.0","id":7,"method":"server.ping"},{"jsonrpc":"2.0","id":8,"method":"server.banner"}]` + "\n")); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := c.r.ReadBytes('\n')
	if err := json.Unmarshal(line, &batch); err != nil || len(batch) != 2 {
		t.Fatalf("batch answer %q: %v", line, err)
	}
	// A line longer than the reader's buffer but within the bound is
	// read whole.
	longTx := strings.Repeat("ab", 3000)
	if _, rerr := c.callRaw([]byte(`{"jsonrpc":"2.0","id":9,"method":"blockchain.transaction.broadcast","params":["`+longTx+`"]}`+"\n"), 9); rerr == nil ||
		rerr.Code != codeBadRequest || !strings.Contains(rerr.Message, "decode") {
		t.Fatalf("a 6 KB request: %v", rerr)
	}
	// A batch whose answers together pass the answer bound is refused.
	var items []string
	for i := 0; i < 30; i++ {
		items = append(items, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"blockchain.block.header","params":[1]}`, 100+i))
	}
	if _, rerr := c.callRaw([]byte("["+strings.Join(items, ",")+"]\n"), 0); rerr == nil || !strings.Contains(rerr.Message, "too large") {
		t.Fatalf("a batch over the answer bound: %v", rerr)
	}
	// A line over the bound: an error, then the session ends.
	if _, err := c.conn.Write(append(bytes.Repeat([]byte{'x'}, 12_000), '\n')); err != nil {
		t.Fatal(err)
	}
	m := c.readMsg(5 * time.Second)
	if m == nil || m["error"] == nil {
		t.Fatalf("over-long line: %v", m)
	}
	if m := c.readMsg(5 * time.Second); m != nil {
		t.Fatalf("session still open after an over-long line: %v", m)
	}
}

// TestBudgets ensures a client over the cost budget is disconnected with
// error -101, that subscriptions are capped per session, and that a
// server full of sessions turns new ones away with a clear error.
func TestBudgets(t *testing.T) {
	n := newTestNode(t, func(c *Config) {
		c.CostSoftLimit, c.CostHardLimit = 50, 100
		c.MaxSubs = 3
		c.MaxSessions = 2
	})
	n.mine("b1")
	c := dial(t, n.addr)
	for i := 0; i < 3; i++ {
		c.mustCall(nil, "blockchain.scripthash.subscribe", scriptHashHex([]byte{byte(i)}))
	}
	if _, rerr := c.call("blockchain.scripthash.subscribe", scriptHashHex([]byte{9})); rerr == nil ||
		!strings.Contains(rerr.Message, "subscription limit") {
		t.Fatalf("fourth subscription: %v", rerr)
	}
	// Errors cost 100 each: the next request finds the session over its
	// hard limit.
	c2 := dial(t, n.addr)
	c2.mustCall(nil, "server.ping")
	third := dial(t, n.addr)
	if m := third.readMsg(5 * time.Second); m == nil || m["error"] == nil ||
		!strings.Contains(m["error"].(map[string]any)["message"].(string), "too many sessions") {
		t.Fatalf("third session: %v", m)
	}
	for i := 0; i < 3; i++ {
		if _, err := c2.conn.Write([]byte("{bad\n")); err != nil {
			break
		}
	}
	var last map[string]any
	for m := c2.readMsg(10 * time.Second); m != nil; m = c2.readMsg(10 * time.Second) {
		last = m
	}
	if last == nil || last["error"] == nil || last["error"].(map[string]any)["code"] != float64(codeExcessiveResource) {
		t.Fatalf("last message before disconnection: %v", last)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.srv.SessionCount() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := n.srv.SessionCount(); got != 1 {
		t.Fatalf("%d sessions after the disconnection, want 1", got)
	}
}

// TestTLS ensures the TLS port serves the protocol with the self-signed
// certificate made on first start, and that the next start keeps it (a
// client pins it).
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, err := LoadCertificate(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadCertificate(dir, "", "")
	if err != nil || !bytes.Equal(again.Certificate[0], cert.Certificate[0]) {
		t.Fatalf("second start made another certificate (%v)", err)
	}
	if _, err := LoadCertificate(dir, filepath.Join(dir, CertFile), ""); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
	n := newTestNode(t, func(c *Config) {
		c.Listen = nil
		c.TLSListen = []string{"127.0.0.1:0"}
		c.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	})
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	conn, err := tls.Dial("tcp", n.addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	var version []string
	c.mustCall(&version, "server.version", "test", []string{"1.4", "1.4.2"})
	if len(version) != 2 || version[1] != "1.4.2" {
		t.Fatalf("server.version over TLS: %v", version)
	}
}

// TestVersionNegotiation checks the protocol version chosen for each
// client range, and that a client wanting only newer versions is refused.
func TestVersionNegotiation(t *testing.T) {
	n := newTestNode(t, nil)
	tests := []struct {
		arg  any
		want string
	}{
		{nil, "1.4"},
		{"1.4", "1.4"},
		{"1.4.1", "1.4.1"},
		{[]string{"1.4", "1.4.2"}, "1.4.2"},
		{[]string{"1.2", "1.9"}, "1.4.2"},
		{[]string{"1.5", "1.6"}, ""},
		{"2.0", ""},
		{"x", ""},
	}
	for _, test := range tests {
		c := dial(t, n.addr)
		params := []any{"test"}
		if test.arg != nil {
			params = append(params, test.arg)
		}
		var got []string
		res, rerr := c.call("server.version", params...)
		if test.want == "" {
			if rerr == nil || !strings.Contains(rerr.Message, "unsupported protocol version") {
				t.Errorf("%v: %s %v, want unsupported", test.arg, res, rerr)
			}
			continue
		}
		if rerr != nil || json.Unmarshal(res, &got) != nil || got[1] != test.want {
			t.Errorf("%v: %s %v, want %s", test.arg, res, rerr, test.want)
		}
	}
}

// TestHeaderNotificationsInOrder ensures a tip the server read before a
// client subscribed, and notifies after, is not sent: the client already
// has a newer one. (TestSession once heard of height 2 after subscribing
// at height 3, when the server's notifier for block 2 ran late.)
func TestHeaderNotificationsInOrder(t *testing.T) {
	n := newTestNode(t, nil)
	n.mine("b1")
	// A notifier that read the tip, then lost the CPU.
	stale, err := n.srv.tipHeader()
	if err != nil {
		t.Fatal(err)
	}
	n.mine("b2")
	c := dial(t, n.addr)
	var tip tipResult
	c.mustCall(&tip, "blockchain.headers.subscribe")
	if tip.Height != 2 {
		t.Fatalf("subscribed at height %d, want 2", tip.Height)
	}
	n.srv.mu.Lock()
	for ss := range n.srv.sessions {
		ss.notifyHeader(stale)
	}
	n.srv.mu.Unlock()
	b3 := n.mine("b3")
	note := c.waitNote("blockchain.headers.subscribe", "")
	if m, _ := note[0].(map[string]any); m["height"] != 3.0 || m["hex"] != headerHex(&b3.Header) {
		t.Fatalf("the first header notification after subscribing at height 2: %v, want height 3", note)
	}
}
