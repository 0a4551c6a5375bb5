package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
)

// Credentials of the test servers in user/password mode.
const (
	testUser = "alice"
	testPass = "correct horse battery staple"
)

// testNow is the fixed clock of the test chains: a month after the genesis
// time of the built-in networks, so every generated block is in its past.
func testNow() time.Time { return time.Unix(1795305600, 0).Add(30 * 24 * time.Hour) }

// TestMain removes the shared fixture after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	richOnce.Do(func() {}) // no fixture is built after this point
	if rich != nil {
		rich.close()
	}
	os.Exit(code)
}

// testNode is a real regtest chain with generated blocks behind a Server.
type testNode struct {
	g     *chaintest.Generator
	chain *chain.BlockChain
	srv   *Server
	net   *chainparams.Network
	dir   string
}

// nodeConfig selects what newTestNode builds.
type nodeConfig struct {
	net       *chainparams.Network // Regtest when nil
	txIndex   bool
	filters   bool // the block filter index
	addrIndex bool // the address index
	generator Generator
	stop      func()
	startTime time.Time
	// blocks coinbase-only blocks b1..bN are mined on genesis.
	blocks int
}

// newTestNode returns a node on a fresh chain in a temporary directory,
// closed when the test ends.
func newTestNode(t testing.TB, cfg nodeConfig) *testNode {
	t.Helper()
	n, err := openTestNode(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.close)
	if err := n.mine("b", 1, cfg.blocks); err != nil {
		t.Fatal(err)
	}
	return n
}

// openTestNode opens a chain in dir and a listening server over it.
func openTestNode(dir string, cfg nodeConfig) (*testNode, error) {
	net := cfg.net
	if net == nil {
		net = chainparams.Regtest()
	}
	c, err := chain.New(chain.Config{Dir: dir, Network: net, TxIndex: cfg.txIndex,
		BlockFilterIndex: cfg.filters, AddrIndex: cfg.addrIndex, Now: testNow})
	if err != nil {
		return nil, fmt.Errorf("open chain: %w", err)
	}
	srv, err := New(Config{
		Addr: "127.0.0.1:0", User: testUser, Password: testPass,
		Chain: c, Generator: cfg.generator, Stop: cfg.stop, StartTime: cfg.startTime,
	})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("new server: %w", err)
	}
	// Listen sets the credentials the server checks (see
	// TestAuthBeforeListen); the listener itself is not served.
	if err := srv.Listen(); err != nil {
		c.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	return &testNode{g: chaintest.New(net), chain: c, srv: srv, net: net, dir: dir}, nil
}

// close closes the server's listener and the chain.
func (n *testNode) close() {
	n.srv.mu.Lock()
	if n.srv.listener != nil {
		n.srv.listener.Close()
	}
	n.srv.mu.Unlock()
	n.chain.Close()
}

// mine extends the generator's tip by coinbase-only blocks named
// prefix<from>..prefix<from+count-1> and processes each, expecting it to
// become the tip.
func (n *testNode) mine(prefix string, from, count int) error {
	for i := from; i < from+count; i++ {
		n.g.NextBlock(fmt.Sprintf("%s%d", prefix, i), nil, nil)
		if err := n.acceptTip(); err != nil {
			return err
		}
	}
	return nil
}

// acceptTip processes the generator's tip, expecting it to become the
// chain's tip.
func (n *testNode) acceptTip() error {
	name := n.g.TipName()
	res, err := n.chain.ProcessBlock(n.g.Tip())
	if err != nil {
		return fmt.Errorf("block %s: %w", name, err)
	}
	if !res.MainChain {
		return fmt.Errorf("block %s is not on the main chain", name)
	}
	return nil
}

// process processes the named block and expects no error.
func (n *testNode) process(t testing.TB, name string) chain.ProcessResult {
	t.Helper()
	res, err := n.chain.ProcessBlock(n.g.Block(name))
	if err != nil {
		t.Fatalf("block %s: %v", name, err)
	}
	return res
}

// hash returns the display hash of the named block.
func (n *testNode) hash(name string) string {
	return consensus.BlockHash(&n.g.Block(name).Header).String()
}

// The shared fixture is a read-only regtest chain with the transaction and
// block filter indexes on. Tests must not change it.
//
//	genesis -> b1 -> ... -> b100 -> b101(txA) -> b102(txB, txC) -> b103
//	                           |             \-> s102 (side, stored)
//	                           \-> h101 (header only)
//
// txA spends b1's coinbase to a P2WPKH output (0) and OP_TRUE (1); txB
// spends txA:0 with a witness; txC spends b2's coinbase to P2PKH (0), P2SH
// (1), OP_RETURN (2) and OP_TRUE (3).
type richFixture struct {
	*testNode
	key             *btcec.PrivateKey
	txA, txB, txC   *wire.MsgTx
	p2pkhAddr       string // address of txC:0
	p2shAddr        string // address of txC:1
	p2wpkhAddr      string // address of txA:0
	p2pkhPkScript   []byte
	p2wpkhPkScript  []byte
	p2shRedeem      []byte
	tipHeight       int32
	mainChainBlocks []string // b1..b103
}

var (
	richOnce sync.Once
	rich     *richFixture
	richErr  error
)

// richNode returns the shared fixture, building it on first use.
func richNode(t testing.TB) *richFixture {
	t.Helper()
	richOnce.Do(func() { rich, richErr = buildRich() })
	if richErr != nil {
		t.Fatalf("shared fixture: %v", richErr)
	}
	return rich
}

// close releases the fixture and its directory.
func (r *richFixture) close() {
	r.testNode.close()
	os.RemoveAll(r.dir)
}

func buildRich() (*richFixture, error) {
	dir, err := os.MkdirTemp("", "cairn-rpc-test-")
	if err != nil {
		return nil, err
	}
	n, err := openTestNode(dir, nodeConfig{txIndex: true, filters: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r := &richFixture{testNode: n}
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
	if err := n.mine("b", 1, 100); err != nil {
		return nil, err
	}
	params := n.net.AddressParams()
	r.key, _ = btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x42}, 32))
	pkHash := btcutil.Hash160(r.key.PubKey().SerializeCompressed())
	r.p2wpkhPkScript = chaintest.P2WPKHScript(r.key)
	wpkh, err := btcutil.NewAddressWitnessPubKeyHash(pkHash, params)
	if err != nil {
		return nil, err
	}
	r.p2wpkhAddr = wpkh.EncodeAddress()
	pkh, err := btcutil.NewAddressPubKeyHash(pkHash, params)
	if err != nil {
		return nil, err
	}
	r.p2pkhAddr = pkh.EncodeAddress()
	r.p2pkhPkScript, _ = txscript.PayToAddrScript(pkh)
	r.p2shRedeem = []byte{txscript.OP_TRUE}
	sh, err := btcutil.NewAddressScriptHash(r.p2shRedeem, params)
	if err != nil {
		return nil, err
	}
	r.p2shAddr = sh.EncodeAddress()
	p2shScript, _ := txscript.PayToAddrScript(sh)

	// b101: txA spends b1's coinbase to P2WPKH and OP_TRUE.
	cb1 := n.g.CoinbaseOut("b1")
	r.txA = wire.NewMsgTx(2)
	r.txA.AddTxIn(&wire.TxIn{PreviousOutPoint: cb1.OutPoint, Sequence: wire.MaxTxInSequenceNum})
	r.txA.AddTxOut(&wire.TxOut{Value: 10 * consensus.CoinValue, PkScript: r.p2wpkhPkScript})
	r.txA.AddTxOut(&wire.TxOut{Value: cb1.Amount - 10*consensus.CoinValue - 1000, PkScript: chaintest.OpTrueScript})
	n.g.NextBlock("b101", nil, []*wire.MsgTx{r.txA})
	if err := n.acceptTip(); err != nil {
		return nil, err
	}

	// b102: txB spends txA:0 with a witness; txC spends b2's coinbase.
	r.txB, err = chaintest.SpendP2WPKH([]chaintest.SpendableOut{{
		OutPoint: wire.OutPoint{Hash: consensus.TxHash(r.txA), Index: 0},
		Amount:   10 * consensus.CoinValue, PkScript: r.p2wpkhPkScript, Key: r.key,
	}}, []int64{10*consensus.CoinValue - 500}, chaintest.OpTrueScript)
	if err != nil {
		return nil, err
	}
	cb2 := n.g.CoinbaseOut("b2")
	r.txC = wire.NewMsgTx(1)
	r.txC.AddTxIn(&wire.TxIn{PreviousOutPoint: cb2.OutPoint, Sequence: wire.MaxTxInSequenceNum})
	r.txC.AddTxOut(&wire.TxOut{Value: consensus.CoinValue, PkScript: r.p2pkhPkScript})
	r.txC.AddTxOut(&wire.TxOut{Value: consensus.CoinValue, PkScript: p2shScript})
	nullData, _ := txscript.NullDataScript([]byte("cairn"))
	r.txC.AddTxOut(&wire.TxOut{Value: 0, PkScript: nullData})
	r.txC.AddTxOut(&wire.TxOut{Value: cb2.Amount - 2*consensus.CoinValue - 1000, PkScript: chaintest.OpTrueScript})
	n.g.NextBlock("b102", nil, []*wire.MsgTx{r.txB, r.txC})
	if err := n.acceptTip(); err != nil {
		return nil, err
	}
	if err := n.mine("b", 103, 1); err != nil {
		return nil, err
	}
	r.tipHeight = 103
	for i := 1; i <= 103; i++ {
		r.mainChainBlocks = append(r.mainChainBlocks, fmt.Sprintf("b%d", i))
	}

	// s102: a stored side block, with less work than the tip.
	n.g.SetTip("b101")
	n.g.NextBlock("s102", nil, nil)
	if res, err := n.chain.ProcessBlock(n.g.Block("s102")); err != nil || res.MainChain {
		return nil, fmt.Errorf("side block s102: main %v, err %v", res.MainChain, err)
	}
	// h101: a header without its block.
	n.g.SetTip("b100")
	n.g.NextBlock("h101", nil, nil)
	if _, err := n.chain.ProcessHeaders([]wire.BlockHeader{n.g.Block("h101").Header}); err != nil {
		return nil, fmt.Errorf("header h101: %w", err)
	}
	n.g.SetTip("b103")
	ok = true
	return r, nil
}

// rpcReply is a JSON-RPC 1.0 reply.
type rpcReply struct {
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// withAuth sets the test credentials on a request.
func withAuth(r *http.Request) { r.SetBasicAuth(testUser, testPass) }

// post sends body to s with an authenticated POST / and returns the
// recorded response.
func post(t testing.TB, s *Server, body string) *httptest.ResponseRecorder {
	t.Helper()
	return send(t, s, http.MethodPost, "/", body, withAuth)
}

// send sends a request through s.ServeHTTP; auth may be nil.
func send(t testing.TB, s *Server, method, path, body string, auth func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != nil {
		auth(req)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// requestBody returns a JSON-RPC 1.0 request body.
func requestBody(t testing.TB, method string, params any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": "test", "method": method, "params": params})
	if err != nil {
		t.Fatalf("marshal request: %v", err)
	}
	return string(b)
}

// call makes a JSON-RPC 1.0 call with positional params and returns its
// result or error. It checks Core's HTTP status for the outcome.
func call(t testing.TB, s *Server, method string, params ...any) (json.RawMessage, *Error) {
	t.Helper()
	if params == nil {
		params = []any{}
	}
	return callRaw(t, s, requestBody(t, method, params))
}

// callNamed makes a JSON-RPC 1.0 call with named params.
func callNamed(t testing.TB, s *Server, method string, params map[string]any) (json.RawMessage, *Error) {
	t.Helper()
	return callRaw(t, s, requestBody(t, method, params))
}

// callRaw posts one JSON-RPC 1.0 request body and decodes the reply. A
// result must have a shape the method's help documents.
func callRaw(t testing.TB, s *Server, body string) (json.RawMessage, *Error) {
	t.Helper()
	rec := post(t, s, body)
	var reply rpcReply
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("reply to %s: status %d, undecodable body %q: %v", body, rec.Code, rec.Body.String(), err)
	}
	want := http.StatusOK
	if reply.Error != nil {
		want = statusFor(reply.Error.Code)
	}
	if rec.Code != want {
		t.Errorf("reply to %s: HTTP status %d, want %d (error %v)", body, rec.Code, want, reply.Error)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("reply to %s: Content-Type %q, want application/json", body, ct)
	}
	if reply.Error == nil {
		checkResultDoc(t, s, body, reply.Result)
	}
	return reply.Result, reply.Error
}

// statusFor is Core's HTTP status of a JSON-RPC 1.0 error.
func statusFor(code btcjson.RPCErrorCode) int {
	switch code {
	case codeInvalidRequest:
		return http.StatusBadRequest
	case codeMethodNotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// mustCall makes a call that must succeed.
func mustCall(t testing.TB, s *Server, method string, params ...any) json.RawMessage {
	t.Helper()
	res, rerr := call(t, s, method, params...)
	if rerr != nil {
		t.Fatalf("%s %v: unexpected error %v", method, params, rerr)
	}
	return res
}

// callCase calls method for one case of a table: a case that wants an
// error code (wantCode not 0) is checked against it here, an unexpected
// error is reported, and either way ok is false; otherwise it returns the
// result for the case's own checks.
func callCase(t testing.TB, s *Server, name, method string, params []any, wantCode int, wantMsg string) (json.RawMessage, bool) {
	t.Helper()
	res, rerr := call(t, s, method, params...)
	if wantCode != 0 {
		checkErr(t, name, rerr, wantCode, wantMsg)
		return nil, false
	}
	if rerr != nil {
		t.Errorf("%q: unexpected error %v", name, rerr)
		return nil, false
	}
	return res, true
}

// checkErr fails unless rerr has code and its message contains substr.
func checkErr(t testing.TB, name string, rerr *Error, code int, substr string) {
	t.Helper()
	if rerr == nil {
		t.Errorf("%s: no error, want code %d (%q)", name, code, substr)
		return
	}
	if int(rerr.Code) != code {
		t.Errorf("%s: error code %d (%q), want %d", name, rerr.Code, rerr.Message, code)
	}
	if !strings.Contains(rerr.Message, substr) {
		t.Errorf("%s: error message %q does not contain %q", name, rerr.Message, substr)
	}
}

// decode unmarshals raw into v.
func decode(t testing.TB, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

// object decodes raw as a JSON object of raw values.
func object(t testing.TB, raw json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	decode(t, raw, &m)
	return m
}

// keys returns the sorted keys of m.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkKeys fails unless m has exactly the keys want.
func checkKeys(t testing.TB, name string, m map[string]json.RawMessage, want ...string) {
	t.Helper()
	want = append([]string(nil), want...)
	sort.Strings(want)
	if got := keys(m); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: keys %v, want %v", name, got, want)
	}
}

// str decodes a JSON string.
func str(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	decode(t, raw, &s)
	return s
}

// blockHex serializes a block to hex.
func blockHex(b *wire.MsgBlock) string {
	var buf bytes.Buffer
	_ = b.Serialize(&buf)
	return hex.EncodeToString(buf.Bytes())
}

// headerHex serializes a header to hex.
func headerHex(h *wire.BlockHeader) string {
	var buf bytes.Buffer
	_ = h.Serialize(&buf)
	return hex.EncodeToString(buf.Bytes())
}

// txHexString serializes a transaction (with witness) to hex.
func txHexString(tx *wire.MsgTx) string {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	return hex.EncodeToString(buf.Bytes())
}

// genCall records one GenerateToAddress call.
type genCall struct {
	n        int
	pkScript []byte
	maxTries uint64
}

// blockCall records one GenerateBlock call.
type blockCall struct {
	pkScript []byte
	txs      []*wire.MsgTx
	submit   bool
}

// fakeGenerator implements Generator without mining: it records its
// arguments and returns made-up hashes and blocks, or err.
type fakeGenerator struct {
	err error
	// template is what BlockTemplate returns.
	template *BlockTemplate

	mu         sync.Mutex
	calls      []genCall
	blockCalls []blockCall
}

var _ Generator = (*fakeGenerator)(nil)

func (f *fakeGenerator) BlockTemplate() (*BlockTemplate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.template, nil
}

func (f *fakeGenerator) GenerateToAddress(_ context.Context, n int, pkScript []byte, maxTries uint64) ([]chainhash.Hash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, genCall{n: n, pkScript: pkScript, maxTries: maxTries})
	if f.err != nil {
		return nil, f.err
	}
	out := make([]chainhash.Hash, n)
	for i := range out {
		out[i] = chainhash.DoubleHashH([]byte{byte(i), byte(i >> 8)})
	}
	return out, nil
}

func (f *fakeGenerator) GenerateBlock(_ context.Context, pkScript []byte, txs []*wire.MsgTx, submit bool) (*wire.MsgBlock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blockCalls = append(f.blockCalls, blockCall{pkScript: pkScript, txs: txs, submit: submit})
	if f.err != nil {
		return nil, f.err
	}
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}, SignatureScript: []byte{0x51, 0x51}, Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(&wire.TxOut{Value: 50 * consensus.CoinValue, PkScript: pkScript})
	b := &wire.MsgBlock{
		Header:       wire.BlockHeader{Version: chaintest.BlockVersion, Timestamp: testNow(), Bits: 0x207fffff},
		Transactions: append([]*wire.MsgTx{cb}, txs...),
	}
	chaintest.Finalize(b)
	return b, nil
}

// lastCall returns the last GenerateToAddress call.
func (f *fakeGenerator) lastCall(t testing.TB) genCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("GenerateToAddress was not called")
	}
	return f.calls[len(f.calls)-1]
}

// lastBlockCall returns the last GenerateBlock call.
func (f *fakeGenerator) lastBlockCall(t testing.TB) blockCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.blockCalls) == 0 {
		t.Fatal("GenerateBlock was not called")
	}
	return f.blockCalls[len(f.blockCalls)-1]
}

// callCount returns how many calls the generator received.
func (f *fakeGenerator) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls) + len(f.blockCalls)
}

// regtestDifficulty is Core's difficulty of regtest's bits 0x207fffff:
// 0xffff * 2^208 / (0x7fffff * 2^232).
var regtestDifficulty = 65535.0 / (8388607.0 * (1 << 24))

// blockName names the generator's main-chain block at height.
func blockName(height int32) string {
	if height == 0 {
		return "genesis"
	}
	return fmt.Sprintf("b%d", height)
}

// medianTime is the median of the timestamps of the main-chain block at
// height and its ten ancestors.
func medianTime(g *chaintest.Generator, height int32) int64 {
	var ts []int64
	for h := height; h >= 0 && h > height-11; h-- {
		ts = append(ts, g.Block(blockName(h)).Header.Timestamp.Unix())
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts[len(ts)/2]
}

// chainWork is the work of height+1 regtest blocks as Core prints it.
func chainWork(height int32) string {
	w := new(big.Int).Mul(consensus.CalcWork(0x207fffff), big.NewInt(int64(height)+1))
	return fmt.Sprintf("%064x", w)
}

// verboseBlock is getblock's verbose answer.
type verboseBlock struct {
	Hash          string          `json:"hash"`
	Confirmations int64           `json:"confirmations"`
	Height        int32           `json:"height"`
	Version       int32           `json:"version"`
	VersionHex    string          `json:"versionHex"`
	MerkleRoot    string          `json:"merkleroot"`
	Time          int64           `json:"time"`
	MedianTime    int64           `json:"mediantime"`
	Nonce         uint32          `json:"nonce"`
	Bits          string          `json:"bits"`
	Difficulty    float64         `json:"difficulty"`
	ChainWork     string          `json:"chainwork"`
	NTx           int             `json:"nTx"`
	Previous      string          `json:"previousblockhash"`
	Next          string          `json:"nextblockhash"`
	StrippedSize  int             `json:"strippedsize"`
	Size          int             `json:"size"`
	Weight        int             `json:"weight"`
	Tx            json.RawMessage `json:"tx"`
}

// checkBlockHeaderFields compares the header part of a verbose block or
// header answer with the generator's main-chain block at height.
func checkBlockHeaderFields(t *testing.T, name string, r *richFixture, got verboseBlock, height int32) {
	t.Helper()
	b := r.g.Block(blockName(height))
	want := verboseBlock{
		Hash: r.hash(blockName(height)), Confirmations: int64(r.tipHeight - height + 1), Height: height,
		Version: b.Header.Version, VersionHex: fmt.Sprintf("%08x", uint32(b.Header.Version)), MerkleRoot: b.Header.MerkleRoot.String(),
		Time: b.Header.Timestamp.Unix(), MedianTime: medianTime(r.g, height), Nonce: b.Header.Nonce,
		Bits: "207fffff", Difficulty: regtestDifficulty, ChainWork: chainWork(height), NTx: len(b.Transactions),
	}
	if height > 0 {
		want.Previous = r.hash(blockName(height - 1))
	}
	if height < r.tipHeight {
		want.Next = r.hash(blockName(height + 1))
	}
	got.StrippedSize, got.Size, got.Weight, got.Tx = 0, 0, 0, nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
	}
}

// sha256Sum is SHA-256.
func sha256Sum(b []byte) [32]byte { return hashSHA256(b) }

// failingChain is a real chain whose storage reads and writes fail.
type failingChain struct {
	*chain.BlockChain
	err error
}

func (f *failingChain) BlockByHash(chainhash.Hash) (*wire.MsgBlock, error) { return nil, f.err }
func (f *failingChain) RawBlock(chainhash.Hash) ([]byte, error)            { return nil, f.err }
func (f *failingChain) FetchUtxoEntry(wire.OutPoint) (*utxo.Entry, error)  { return nil, f.err }
func (f *failingChain) UtxoSetStats() (*chain.UtxoStats, error)            { return nil, f.err }
func (f *failingChain) ProcessHeaders([]wire.BlockHeader) (int, error)     { return 0, f.err }
func (f *failingChain) InvalidateBlock(chainhash.Hash) error               { return f.err }
func (f *failingChain) ReconsiderBlock(chainhash.Hash) error               { return f.err }
func (f *failingChain) BlockFilter(chainhash.Hash) ([]byte, chainhash.Hash, error) {
	return nil, chainhash.Hash{}, f.err
}
func (f *failingChain) ProcessBlock(*wire.MsgBlock) (chain.ProcessResult, error) {
	return chain.ProcessResult{}, f.err
}
