package explorer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool"
)

// testChain is a regtest chain of 15 blocks (b1..b15, the fifth with a
// payment) and a stale block s14 beside b14.
func testChain(t *testing.T) (*chain.BlockChain, *chaintest.Generator, *httptest.Server) {
	t.Helper()
	net := chainparams.Regtest()
	net.Consensus.CoinbaseMaturity = 1
	g := chaintest.New(net)
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: g.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	process := func(b *wire.MsgBlock) {
		if _, err := c.ProcessBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 15; i++ {
		var txs []*wire.MsgTx
		if i == 5 {
			out := g.CoinbaseOut("b1")
			txs = append(txs, chaintest.CreateSpendTx(out, 1000))
		}
		process(g.NextBlock(fmt.Sprintf("b%d", i), nil, txs))
		if i == 13 {
			process(g.NextBlock("s14", nil, nil))
			g.SetTip("b13")
		}
	}
	srv, err := New(Config{Chain: c})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return c, g, hs
}

func get(t *testing.T, hs *httptest.Server, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(hs.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestBlocksAPI checks the block endpoints against the chain's own data:
// tip, blocks by height and hash, header, status (main chain and stale),
// txids, raw bytes and the paged list, and the errors of bad input.
func TestBlocksAPI(t *testing.T) {
	c, g, hs := testChain(t)
	tip := c.BestSnapshot()
	if code, body := get(t, hs, "/api/blocks/tip/height"); code != 200 || string(body) != "15" {
		t.Fatalf("tip height: %d %s", code, body)
	}
	if _, body := get(t, hs, "/api/blocks/tip/hash"); string(body) != tip.Hash.String() {
		t.Fatalf("tip hash: %s", body)
	}
	b5 := g.Block("b5")
	h5 := consensus.BlockHash(&b5.Header)
	if _, body := get(t, hs, "/api/block-height/5"); string(body) != h5.String() {
		t.Fatalf("block-height/5: %s", body)
	}
	var blk blockJSON
	_, body := get(t, hs, "/api/block/"+h5.String())
	if err := json.Unmarshal(body, &blk); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	info, _ := c.BlockInfo(h5)
	if blk.ID != h5.String() || blk.Height != 5 || blk.TxCount != 2 || blk.Size != b5.SerializeSize() ||
		blk.Weight != consensus.BlockWeight(b5) || blk.MerkleRoot != b5.Header.MerkleRoot.String() ||
		blk.PreviousBlockHash == nil || *blk.PreviousBlockHash != b5.Header.PrevBlock.String() ||
		blk.Timestamp != b5.Header.Timestamp.Unix() || blk.Bits != b5.Header.Bits || blk.Nonce != b5.Header.Nonce ||
		blk.MedianTime != info.MedianTime || blk.Version != b5.Header.Version {
		t.Fatalf("block: %+v", blk)
	}
	var hdr bytes.Buffer
	b5.Header.Serialize(&hdr)
	if _, body := get(t, hs, "/api/block/"+h5.String()+"/header"); string(body) != hex.EncodeToString(hdr.Bytes()) {
		t.Fatalf("header: %s", body)
	}
	raw, _ := c.RawBlock(h5)
	if _, body := get(t, hs, "/api/block/"+h5.String()+"/raw"); !bytes.Equal(body, raw) {
		t.Fatal("raw block differs")
	}
	var ids []string
	_, body = get(t, hs, "/api/block/"+h5.String()+"/txids")
	if json.Unmarshal(body, &ids) != nil || len(ids) != 2 || ids[1] != b5.Transactions[1].TxHash().String() {
		t.Fatalf("txids: %s", body)
	}
	if _, body := get(t, hs, "/api/block/"+h5.String()+"/txid/1"); string(body) != ids[1] {
		t.Fatalf("txid/1: %s", body)
	}
	var st blockStatus
	_, body = get(t, hs, "/api/block/"+h5.String()+"/status")
	h6 := consensus.BlockHash(&g.Block("b6").Header)
	if json.Unmarshal(body, &st) != nil || !st.InBestChain || st.Height == nil || *st.Height != 5 ||
		st.NextBest == nil || *st.NextBest != h6.String() {
		t.Fatalf("status of b5: %s", body)
	}
	stale := consensus.BlockHash(&g.Block("s14").Header)
	_, body = get(t, hs, "/api/block/"+stale.String()+"/status")
	if string(bytes.TrimSpace(body)) != `{"in_best_chain":false,"next_best":null}` {
		t.Fatalf("status of a stale block: %s", body)
	}
	var page []blockJSON
	_, body = get(t, hs, "/api/blocks")
	if json.Unmarshal(body, &page) != nil || len(page) != 10 || page[0].Height != 15 || page[9].Height != 6 {
		t.Fatalf("blocks: %s", body)
	}
	_, body = get(t, hs, "/api/blocks/3")
	if json.Unmarshal(body, &page) != nil || len(page) != 4 || page[0].Height != 3 || page[3].Height != 0 ||
		page[3].PreviousBlockHash != nil {
		t.Fatalf("blocks/3: %s", body)
	}
	for _, tc := range []struct {
		path string
		code int
		msg  string
	}{
		{"/api/block/zz", 400, "Invalid hex"},
		{"/api/block/" + strings.Repeat("00", 32), 404, "Block not found"},
		{"/api/block-height/99", 404, "Block not found"},
		{"/api/block-height/-1", 400, "Invalid height"},
		{"/api/blocks/x", 400, "Invalid height"},
		{"/api/block/" + h5.String() + "/txid/7", 404, "out of range"},
	} {
		code, body := get(t, hs, tc.path)
		if code != tc.code || !strings.Contains(string(body), tc.msg) {
			t.Errorf("%s: %d %s, want %d %q", tc.path, code, body, tc.code, tc.msg)
		}
	}
	// Read-only: nothing else is served.
	resp, err := http.Post(hs.URL+"/api/blocks/tip/height", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
}

// fakePool is a pool of given transactions.
type fakePool struct {
	Mempool // the methods the test does not call
	descs   []*mempool.TxDesc
	seq     uint64
	reads   int
}

func (f *fakePool) Sequence() uint64 { return f.seq }
func (f *fakePool) TxIDs() []chainhash.Hash {
	var ids []chainhash.Hash
	for _, d := range f.descs {
		ids = append(ids, d.TxID)
	}
	return ids
}
func (f *fakePool) Descs() []*mempool.TxDesc { return slices.Clone(f.descs) }
func (f *fakePool) Briefs() []mempool.Brief {
	f.reads++
	var out []mempool.Brief
	for _, d := range f.descs {
		out = append(out, mempool.Brief{TxID: d.TxID, Fee: d.Fee, VSize: d.VSize, Time: d.Time})
	}
	return out
}
func (f *fakePool) FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, error) {
	for _, d := range f.descs {
		if d.TxID == txid {
			return d.Tx, nil
		}
	}
	return nil, errors.New("not in the pool")
}
func (f *fakePool) EstimateFee(target int) (int64, error) {
	if target > 6 {
		return 0, errors.New("no estimate")
	}
	return int64(12000 / target), nil
}

// TestMempoolAPI checks the pool's summary (count, size, fee and the fee
// histogram, binned from the highest rate down as electrs bins it, and
// cached until the pool changes), its txids and the fee estimates.
func TestMempoolAPI(t *testing.T) {
	pool := &fakePool{seq: 1}
	// 30 transactions of 2,000 vB at rates 30, 29, ... 1 sat/vB.
	for i := 0; i < 30; i++ {
		tx := &wire.MsgTx{TxOut: []*wire.TxOut{{Value: int64(i)}, {Value: 1}}}
		pool.descs = append(pool.descs, &mempool.TxDesc{Tx: tx, TxID: chainhash.Hash{byte(i + 1)}, VSize: 2000,
			Fee: int64(2000 * (30 - i)), Time: time.Unix(int64(1000+i), 0)})
	}
	srv, err := New(Config{Chain: nopChain{}, Mempool: pool})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	var sum mempoolJSON
	_, body := get(t, hs, "/api/mempool")
	if err := json.Unmarshal(body, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Count != 30 || sum.VSize != 60_000 || sum.TotalFee != 2000*465 {
		t.Fatalf("summary %+v", sum)
	}
	// 26 transactions (52,000 vB) pass the 50,000 width: the first bin
	// closes at rate 5, the rest is one bin ending at rate 1.
	if want := [][2]float64{{5, 52_000}, {1, 8_000}}; !slices.Equal(sum.FeeHistogram, want) {
		t.Fatalf("histogram %v, want %v", sum.FeeHistogram, want)
	}
	get(t, hs, "/api/mempool")
	if pool.reads != 1 {
		t.Fatalf("the summary was computed %d times for one pool state", pool.reads)
	}
	pool.seq++
	get(t, hs, "/api/mempool")
	if pool.reads != 2 {
		t.Fatal("the summary was not computed again after the pool changed")
	}
	var ids []string
	_, body = get(t, hs, "/api/mempool/txids")
	if json.Unmarshal(body, &ids) != nil || len(ids) != 30 || ids[0] != (chainhash.Hash{1}).String() {
		t.Fatalf("txids: %s", body)
	}
	// The ten that entered last, newest first.
	var recent []recentJSON
	_, body = get(t, hs, "/api/mempool/recent")
	if json.Unmarshal(body, &recent) != nil || len(recent) != 10 {
		t.Fatalf("recent: %s", body)
	}
	for i, r := range recent {
		if want := (recentJSON{TxID: chainhash.Hash{byte(30 - i)}.String(), Fee: int64(2000 * (i + 1)), VSize: 2000,
			Value: int64(29-i) + 1}); r != want {
			t.Fatalf("recent[%d] = %+v, want %+v", i, r, want)
		}
	}
	var fees map[string]float64
	_, body = get(t, hs, "/api/fee-estimates")
	if json.Unmarshal(body, &fees) != nil || len(fees) != 6 || fees["1"] != 12 || fees["6"] != 2 {
		t.Fatalf("fee estimates: %s", body)
	}
}

// nopChain is a chain at genesis for tests that need none.
type nopChain struct {
	Chain // the methods the test does not call
}

func (nopChain) Network() *chainparams.Network  { return chainparams.Regtest() }
func (nopChain) BestSnapshot() *chain.BestState { return &chain.BestState{} }
func (nopChain) BlockHashByHeight(int32) (chainhash.Hash, error) {
	return chainhash.Hash{}, errors.New("none")
}
func (nopChain) BlockInfo(chainhash.Hash) (*chain.BlockInfo, error) { return nil, errors.New("none") }
func (nopChain) BlockByHash(chainhash.Hash) (*wire.MsgBlock, error) { return nil, errors.New("none") }
func (nopChain) RawBlock(chainhash.Hash) ([]byte, error)            { return nil, errors.New("none") }

// TestOutspendBudget ensures the spender search of a request reads at most
// its budget of transactions: with the budget spent, an output spent in
// the chain is answered spent without its spender rather than by reading
// on; with budget left, the spender is found through the address index.
func TestOutspendBudget(t *testing.T) {
	net := chainparams.Regtest()
	net.Consensus.CoinbaseMaturity = 1
	g := chaintest.New(net)
	c, err := chain.New(chain.Config{Dir: t.TempDir(), Network: net, Now: g.Now, AddrIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var spend *wire.MsgTx
	for i := 1; i <= 5; i++ {
		var txs []*wire.MsgTx
		if i == 5 {
			spend = chaintest.CreateSpendTx(g.CoinbaseOut("b1"), 1000)
			txs = append(txs, spend)
		}
		if _, err := c.ProcessBlock(g.NextBlock(fmt.Sprintf("b%d", i), nil, txs)); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(Config{Chain: c})
	if err != nil {
		t.Fatal(err)
	}
	cb := g.Block("b1").Transactions[0]
	d, err := srv.blockData(consensus.BlockHash(&g.Block("b1").Header))
	if err != nil {
		t.Fatal(err)
	}
	f := d.txOf(0)
	if f.txid != cb.TxHash() {
		t.Fatal("wrong transaction")
	}
	spent := func(budget int) outspendJSON {
		q := newSpendSearch()
		defer q.release()
		q.budget = budget
		return srv.outspend(f, 0, q)
	}
	if got := spent(0); !got.Spent || got.TxID != "" {
		t.Fatalf("with no budget: %+v, want spent without a spender", got)
	}
	if got := spent(1); !got.Spent || got.TxID != spend.TxHash().String() || got.Vin == nil || *got.Vin != 0 {
		t.Fatalf("with a budget of one: %+v, want the spender %v", got, spend.TxHash())
	}
}

// TestPostTxBounds ensures POST /api/tx reads at most the hex of the
// largest standard transaction before refusing a body (413), and answers
// a body that is not hex with a clear 400, neither reaching the pool.
func TestPostTxBounds(t *testing.T) {
	srv, err := New(Config{Chain: nopChain{}, Mempool: &fakePool{}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	for body, want := range map[string]int{
		strings.Repeat("00", maxPostTx/2+1): http.StatusRequestEntityTooLarge,
		"zz":                                http.StatusBadRequest,
		"00":                                http.StatusBadRequest,
	} {
		resp, err := http.Post(hs.URL+"/api/tx", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST of %d bytes: %d %s, want %d", len(body), resp.StatusCode, msg, want)
		}
	}
}
