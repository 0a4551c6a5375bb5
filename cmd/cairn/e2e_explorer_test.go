package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/consensus"
)

// explorerClient reads a node's explorer over HTTP.
type explorerClient struct {
	t    *testing.T
	base string
}

// get answers the status and body of a GET.
func (x *explorerClient) get(path string) (int, []byte) {
	x.t.Helper()
	resp, err := http.Get(x.base + path)
	if err != nil {
		x.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		x.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// json GETs path, expects 200 and decodes the body into out.
func (x *explorerClient) json(path string, out any) {
	x.t.Helper()
	code, body := x.get(path)
	if code != http.StatusOK {
		x.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		x.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

func (x *explorerClient) text(path string) string {
	x.t.Helper()
	code, body := x.get(path)
	if code != http.StatusOK {
		x.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	return string(body)
}

// Esplora's shapes, as a client reads them.
type (
	esploraStatus struct {
		Confirmed   bool   `json:"confirmed"`
		BlockHeight int32  `json:"block_height"`
		BlockHash   string `json:"block_hash"`
		BlockTime   int64  `json:"block_time"`
	}
	esploraOut struct {
		ScriptPubKey        string `json:"scriptpubkey"`
		ScriptPubKeyAsm     string `json:"scriptpubkey_asm"`
		ScriptPubKeyType    string `json:"scriptpubkey_type"`
		ScriptPubKeyAddress string `json:"scriptpubkey_address"`
		Value               int64  `json:"value"`
	}
	esploraTx struct {
		TxID     string `json:"txid"`
		Version  int32  `json:"version"`
		Locktime uint32 `json:"locktime"`
		Vin      []struct {
			TxID         string      `json:"txid"`
			Vout         uint32      `json:"vout"`
			Prevout      *esploraOut `json:"prevout"`
			ScriptSig    string      `json:"scriptsig"`
			ScriptSigAsm string      `json:"scriptsig_asm"`
			Witness      []string    `json:"witness"`
			IsCoinbase   bool        `json:"is_coinbase"`
			Sequence     uint32      `json:"sequence"`
		} `json:"vin"`
		Vout   []esploraOut  `json:"vout"`
		Size   int           `json:"size"`
		Weight int           `json:"weight"`
		Fee    int64         `json:"fee"`
		Status esploraStatus `json:"status"`
	}
	esploraStats struct {
		FundedTxoCount int   `json:"funded_txo_count"`
		FundedTxoSum   int64 `json:"funded_txo_sum"`
		SpentTxoCount  int   `json:"spent_txo_count"`
		SpentTxoSum    int64 `json:"spent_txo_sum"`
		TxCount        int   `json:"tx_count"`
	}
	esploraAddress struct {
		Address      string       `json:"address"`
		ChainStats   esploraStats `json:"chain_stats"`
		MempoolStats esploraStats `json:"mempool_stats"`
	}
	esploraUtxo struct {
		TxID   string        `json:"txid"`
		Vout   uint32        `json:"vout"`
		Status esploraStatus `json:"status"`
		Value  int64         `json:"value"`
	}
)

// Core's shapes, as getblock and getrawtransaction answer them.
type (
	coreVout struct {
		Value        float64 `json:"value"`
		N            uint32  `json:"n"`
		ScriptPubKey struct {
			Hex     string `json:"hex"`
			Address string `json:"address"`
			Type    string `json:"type"`
		} `json:"scriptPubKey"`
	}
	coreTx struct {
		TxID     string `json:"txid"`
		Hex      string `json:"hex"`
		Version  int32  `json:"version"`
		Size     int    `json:"size"`
		Weight   int    `json:"weight"`
		LockTime uint32 `json:"locktime"`
		Vin      []struct {
			Coinbase  string `json:"coinbase"`
			TxID      string `json:"txid"`
			Vout      uint32 `json:"vout"`
			ScriptSig *struct {
				Hex string `json:"hex"`
			} `json:"scriptSig"`
			Witness  []string `json:"txinwitness"`
			Sequence uint32   `json:"sequence"`
		} `json:"vin"`
		Vout          []coreVout `json:"vout"`
		BlockHash     string     `json:"blockhash"`
		Confirmations int        `json:"confirmations"`
		BlockTime     int64      `json:"blocktime"`
	}
	coreBlock struct {
		Hash              string   `json:"hash"`
		Height            int32    `json:"height"`
		Version           int32    `json:"version"`
		MerkleRoot        string   `json:"merkleroot"`
		Time              int64    `json:"time"`
		MedianTime        int64    `json:"mediantime"`
		Nonce             uint32   `json:"nonce"`
		Bits              string   `json:"bits"`
		Difficulty        float64  `json:"difficulty"`
		Size              int      `json:"size"`
		Weight            int      `json:"weight"`
		NTx               int      `json:"nTx"`
		PreviousBlockHash string   `json:"previousblockhash"`
		NextBlockHash     string   `json:"nextblockhash"`
		Tx                []string `json:"tx"`
	}
)

func sats(coins float64) int64 { return int64(math.Round(coins * 1e8)) }

// TestE2EExplorerAPI checks the explorer's Esplora API of a `cairn node`
// process against the same data read over JSON-RPC: blocks, transactions
// (with their previous outputs, fee, status, merkle proof and outspends),
// addresses recomputed from every block, a transaction posted to POST
// /api/tx, and the live event stream.
func TestE2EExplorerAPI(t *testing.T) {
	t.Parallel()
	haddr := freeAddr(t)
	n := startNode(t, t.TempDir(), nodeOpts{args: []string{"--http-addr", haddr}})
	x := &explorerClient{t: t, base: "http://" + haddr}
	dir := t.TempDir()
	a := &walletCLI{t: t, n: n, file: filepath.Join(dir, "a.dat"), env: []string{"CAIRN_WALLET_PASSWORD=a"}}
	b := &walletCLI{t: t, n: n, file: filepath.Join(dir, "b.dat"), env: []string{"CAIRN_WALLET_PASSWORD=b"}}
	a.ok(nil, []string{"create"}, nil)
	b.ok(nil, []string{"create"}, nil)
	addrA, addrB := a.address(), b.address()

	// Events: the stream opens with the tip, and a mined block follows.
	events := openEvents(t, x.base+"/api/events")
	if ev := events.next("tip"); ev["height"] != float64(0) {
		t.Fatalf("first tip event %v", ev)
	}
	n.mustCall(t, nil, "generatetoaddress", 101, addrA)
	for {
		if ev := events.next("tip"); ev["height"] == float64(101) {
			break
		}
	}

	var paid struct{ TxID string }
	a.ok(&paid, []string{"send"}, nil, addrB, "2")
	if ev := events.next("mempool"); ev["count"] != float64(1) {
		t.Fatalf("mempool event %v", ev)
	}
	// Unconfirmed: in the pool stats of B, status unconfirmed.
	var ab esploraAddress
	x.json("/api/address/"+addrB, &ab)
	if ab.Address != addrB || ab.ChainStats != (esploraStats{}) ||
		ab.MempoolStats != (esploraStats{FundedTxoCount: 1, FundedTxoSum: 2e8, TxCount: 1}) {
		t.Fatalf("address B with the payment in the pool: %+v", ab)
	}
	var st esploraStatus
	x.json("/api/tx/"+paid.TxID+"/status", &st)
	if st.Confirmed {
		t.Fatalf("pool transaction status %+v", st)
	}
	var recent []struct{ TxID string }
	x.json("/api/mempool/recent", &recent)
	if len(recent) != 1 || recent[0].TxID != paid.TxID {
		t.Fatalf("mempool/recent %+v", recent)
	}
	n.mustCall(t, nil, "generatetoaddress", 1, addrA)

	// B pays A back through POST /api/tx.
	var created struct{ PSBT string }
	b.ok(&created, []string{"psbt", "create"}, []string{"--fee-rate", "2"}, addrA, "1")
	var signed struct{ PSBT string }
	b.ok(&signed, []string{"psbt", "sign"}, nil, created.PSBT)
	var final struct{ Hex, TxID string }
	b.ok(&final, []string{"psbt", "finalize"}, nil, signed.PSBT)
	resp, err := http.Post(x.base+"/api/tx", "text/plain", strings.NewReader(final.Hex))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != final.TxID {
		t.Fatalf("POST /api/tx: %d %s", resp.StatusCode, body)
	}
	var pool []string
	n.mustCall(t, &pool, "getrawmempool")
	if len(pool) != 1 || pool[0] != final.TxID {
		t.Fatalf("pool after POST /api/tx: %v", pool)
	}
	// Bad posts: clear errors, nothing pooled.
	for _, bad := range []string{"zz", "00", final.Hex[:len(final.Hex)-2]} {
		resp, err := http.Post(x.base+"/api/tx", "text/plain", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "TX decode failed") {
			t.Fatalf("POST /api/tx %q: %d %s", bad, resp.StatusCode, body)
		}
	}
	var spendOut esploraTx
	x.json("/api/tx/"+final.TxID, &spendOut)
	var outspend struct {
		Spent  bool          `json:"spent"`
		TxID   string        `json:"txid"`
		Vin    uint32        `json:"vin"`
		Status esploraStatus `json:"status"`
	}
	x.json("/api/tx/"+spendOut.Vin[0].TxID+"/outspend/"+strconv.Itoa(int(spendOut.Vin[0].Vout)), &outspend)
	if !outspend.Spent || outspend.TxID != final.TxID || outspend.Status.Confirmed {
		t.Fatalf("outspend of the pool spend's input: %+v", outspend)
	}
	var hashes []string
	n.mustCall(t, &hashes, "generatetoaddress", 1, addrA)
	x.json("/api/tx/"+spendOut.Vin[0].TxID+"/outspend/"+strconv.Itoa(int(spendOut.Vin[0].Vout)), &outspend)
	if !outspend.Spent || outspend.TxID != final.TxID || !outspend.Status.Confirmed || outspend.Status.BlockHash != hashes[0] {
		t.Fatalf("outspend of the mined spend's input: %+v", outspend)
	}

	// Every block and transaction against getblock and getrawtransaction;
	// the addresses' statistics and unspent outputs recomputed from them.
	var height int32
	n.mustCall(t, &height, "getblockcount")
	if got := x.text("/api/blocks/tip/height"); got != strconv.Itoa(int(height)) {
		t.Fatalf("tip height %s, getblockcount %d", got, height)
	}
	type model struct {
		stats esploraStats
		utxos map[string]esploraUtxo
	}
	models := map[string]*model{addrA: {utxos: map[string]esploraUtxo{}}, addrB: {utxos: map[string]esploraUtxo{}}}
	outs := map[string]coreVout{} // "txid:n" -> output, for prevouts
	for h := int32(0); h <= height; h++ {
		var hash string
		n.mustCall(t, &hash, "getblockhash", h)
		if got := x.text("/api/block-height/" + strconv.Itoa(int(h))); got != hash {
			t.Fatalf("block-height/%d %s, getblockhash %s", h, got, hash)
		}
		var cb coreBlock
		n.mustCall(t, &cb, "getblock", hash, 1)
		checkExplorerBlock(t, x, &cb)
		for pos, txid := range cb.Tx {
			if h == 0 {
				break // the genesis coinbase is in no index, as in Core
			}
			var ct coreTx
			n.mustCall(t, &ct, "getrawtransaction", txid, true)
			var et esploraTx
			x.json("/api/tx/"+txid, &et)
			checkExplorerTx(t, &et, &ct, outs, &cb)
			if got := x.text("/api/tx/" + txid + "/hex"); got != ct.Hex {
				t.Fatalf("tx %s hex differs from getrawtransaction", txid)
			}
			checkMerkleProof(t, x, txid, pos, &cb)
			touched := map[string]bool{}
			for _, in := range ct.Vin {
				if in.Coinbase != "" {
					continue
				}
				key := in.TxID + ":" + strconv.Itoa(int(in.Vout))
				prev := outs[key]
				if m := models[prev.ScriptPubKey.Address]; m != nil {
					m.stats.SpentTxoCount++
					m.stats.SpentTxoSum += sats(prev.Value)
					delete(m.utxos, key)
					touched[prev.ScriptPubKey.Address] = true
				}
			}
			for _, o := range ct.Vout {
				key := txid + ":" + strconv.Itoa(int(o.N))
				outs[key] = o
				if m := models[o.ScriptPubKey.Address]; m != nil {
					m.stats.FundedTxoCount++
					m.stats.FundedTxoSum += sats(o.Value)
					m.utxos[key] = esploraUtxo{TxID: txid, Vout: o.N, Value: sats(o.Value),
						Status: esploraStatus{Confirmed: true, BlockHeight: h, BlockHash: hash, BlockTime: cb.Time}}
					touched[o.ScriptPubKey.Address] = true
				}
			}
			for addr := range touched {
				models[addr].stats.TxCount++
			}
		}
	}
	for addr, m := range models {
		var got esploraAddress
		x.json("/api/address/"+addr, &got)
		if got.ChainStats != m.stats || got.MempoolStats != (esploraStats{}) {
			t.Fatalf("address %s: %+v, recomputed from the blocks %+v", addr, got, m.stats)
		}
		var utxos []esploraUtxo
		x.json("/api/address/"+addr+"/utxo", &utxos)
		if len(utxos) != len(m.utxos) {
			t.Fatalf("address %s: %d unspent outputs, recomputed %d", addr, len(utxos), len(m.utxos))
		}
		for _, u := range utxos {
			if want := m.utxos[u.TxID+":"+strconv.Itoa(int(u.Vout))]; u != want {
				t.Fatalf("address %s: utxo %+v, recomputed %+v", addr, u, want)
			}
		}
		// Its transactions, newest first, in pages of 25.
		var page []esploraTx
		x.json("/api/address/"+addr+"/txs", &page)
		if want := min(m.stats.TxCount, 25); len(page) != want {
			t.Fatalf("address %s: first page of %d transactions, want %d", addr, len(page), want)
		}
		if len(page) > 1 && page[0].Status.BlockHeight < page[len(page)-1].Status.BlockHeight {
			t.Fatalf("address %s: transactions not newest first", addr)
		}
		if m.stats.TxCount > 25 {
			var next []esploraTx
			x.json("/api/address/"+addr+"/txs/chain/"+page[24].TxID, &next)
			if len(next) != min(m.stats.TxCount-25, 25) || next[0].Status.BlockHeight > page[24].Status.BlockHeight {
				t.Fatalf("address %s: second page of %d transactions", addr, len(next))
			}
		}
	}

	// Bad input: clear errors.
	for path, want := range map[string]int{
		"/api/tx/zz":                           400,
		"/api/tx/" + strings.Repeat("0", 64):   404,
		"/api/address/notanaddress":            400,
		"/api/scripthash/abcd":                 400,
		"/api/tx/" + paid.TxID + "/outspend/9": 404,
		"/api/block/" + hashes[0] + "/txs/3":   400,
	} {
		if code, body := x.get(path); code != want {
			t.Fatalf("GET %s: %d %s, want %d", path, code, body, want)
		}
	}
}

// checkExplorerBlock compares /api/block/:hash and its txids with getblock.
func checkExplorerBlock(t *testing.T, x *explorerClient, cb *coreBlock) {
	t.Helper()
	var eb struct {
		ID                string  `json:"id"`
		Height            int32   `json:"height"`
		Version           int32   `json:"version"`
		Timestamp         int64   `json:"timestamp"`
		TxCount           int     `json:"tx_count"`
		Size              int     `json:"size"`
		Weight            int     `json:"weight"`
		MerkleRoot        string  `json:"merkle_root"`
		PreviousBlockHash *string `json:"previousblockhash"`
		MedianTime        int64   `json:"mediantime"`
		Nonce             uint32  `json:"nonce"`
		Bits              uint32  `json:"bits"`
		Difficulty        float64 `json:"difficulty"`
	}
	x.json("/api/block/"+cb.Hash, &eb)
	bits, _ := strconv.ParseUint(cb.Bits, 16, 32)
	prev := ""
	if eb.PreviousBlockHash != nil {
		prev = *eb.PreviousBlockHash
	}
	if eb.ID != cb.Hash || eb.Height != cb.Height || eb.Version != cb.Version || eb.Timestamp != cb.Time ||
		eb.TxCount != cb.NTx || eb.Size != cb.Size || eb.Weight != cb.Weight || eb.MerkleRoot != cb.MerkleRoot ||
		prev != cb.PreviousBlockHash || eb.MedianTime != cb.MedianTime || eb.Nonce != cb.Nonce ||
		eb.Bits != uint32(bits) || eb.Difficulty != cb.Difficulty {
		t.Fatalf("block %s:\n explorer %+v\n getblock %+v", cb.Hash, eb, cb)
	}
	var ids []string
	x.json("/api/block/"+cb.Hash+"/txids", &ids)
	if strings.Join(ids, ",") != strings.Join(cb.Tx, ",") {
		t.Fatalf("block %s txids %v, getblock %v", cb.Hash, ids, cb.Tx)
	}
	var st struct {
		InBestChain bool    `json:"in_best_chain"`
		Height      int32   `json:"height"`
		NextBest    *string `json:"next_best"`
	}
	x.json("/api/block/"+cb.Hash+"/status", &st)
	next := ""
	if st.NextBest != nil {
		next = *st.NextBest
	}
	if !st.InBestChain || st.Height != cb.Height || next != cb.NextBlockHash {
		t.Fatalf("block %s status %+v", cb.Hash, st)
	}
	// The transactions, 25 to a page.
	var txs []esploraTx
	x.json("/api/block/"+cb.Hash+"/txs", &txs)
	if len(txs) != min(cb.NTx, 25) || txs[0].TxID != cb.Tx[0] {
		t.Fatalf("block %s txs: %d", cb.Hash, len(txs))
	}
}

// esploraTypes are Esplora's names of Core's script types.
var esploraTypes = map[string]string{"witness_v0_keyhash": "v0_p2wpkh", "witness_v0_scripthash": "v0_p2wsh",
	"pubkeyhash": "p2pkh", "scripthash": "p2sh", "nulldata": "op_return", "witness_v1_taproot": "v1_p2tr"}

// checkExplorerTx compares /api/tx/:txid with getrawtransaction; outs are
// the outputs of the transactions before it, for prevouts and the fee.
func checkExplorerTx(t *testing.T, et *esploraTx, ct *coreTx, outs map[string]coreVout, cb *coreBlock) {
	t.Helper()
	bad := func(what string, got, want any) {
		t.Fatalf("tx %s: %s %v, getrawtransaction %v", ct.TxID, what, got, want)
	}
	if et.TxID != ct.TxID || et.Version != ct.Version || et.Locktime != ct.LockTime || et.Size != ct.Size || et.Weight != ct.Weight {
		bad("header", et, ct)
	}
	if !et.Status.Confirmed || et.Status.BlockHash != ct.BlockHash || et.Status.BlockHeight != cb.Height ||
		et.Status.BlockTime != ct.BlockTime {
		bad("status", et.Status, ct.BlockHash)
	}
	if len(et.Vin) != len(ct.Vin) || len(et.Vout) != len(ct.Vout) {
		bad("inputs and outputs", [2]int{len(et.Vin), len(et.Vout)}, [2]int{len(ct.Vin), len(ct.Vout)})
	}
	var in, out int64
	for i, v := range et.Vin {
		c := ct.Vin[i]
		if c.Coinbase != "" {
			if !v.IsCoinbase || v.Prevout != nil || v.ScriptSig != c.Coinbase || v.Sequence != c.Sequence {
				bad("coinbase input", v, c)
			}
			continue
		}
		if v.IsCoinbase || v.TxID != c.TxID || v.Vout != c.Vout || v.Sequence != c.Sequence ||
			c.ScriptSig == nil || v.ScriptSig != c.ScriptSig.Hex || strings.Join(v.Witness, ",") != strings.Join(c.Witness, ",") {
			bad("input "+strconv.Itoa(i), v, c)
		}
		prev := outs[c.TxID+":"+strconv.Itoa(int(c.Vout))]
		if v.Prevout == nil || v.Prevout.Value != sats(prev.Value) || v.Prevout.ScriptPubKey != prev.ScriptPubKey.Hex ||
			v.Prevout.ScriptPubKeyAddress != prev.ScriptPubKey.Address {
			bad("prevout "+strconv.Itoa(i), v.Prevout, prev)
		}
		in += sats(prev.Value)
	}
	for i, v := range et.Vout {
		c := ct.Vout[i]
		if v.Value != sats(c.Value) || v.ScriptPubKey != c.ScriptPubKey.Hex || v.ScriptPubKeyAddress != c.ScriptPubKey.Address ||
			v.ScriptPubKeyType != esploraTypes[c.ScriptPubKey.Type] {
			bad("output "+strconv.Itoa(i), v, c)
		}
		out += v.Value
	}
	if fee := in - out; len(ct.Vin) > 0 && ct.Vin[0].Coinbase == "" && et.Fee != fee || ct.Vin[0].Coinbase != "" && et.Fee != 0 {
		bad("fee", et.Fee, fee)
	}
}

// checkMerkleProof checks /merkle-proof against the block's merkle root.
func checkMerkleProof(t *testing.T, x *explorerClient, txid string, pos int, cb *coreBlock) {
	t.Helper()
	var p struct {
		BlockHeight int32    `json:"block_height"`
		Merkle      []string `json:"merkle"`
		Pos         int      `json:"pos"`
	}
	x.json("/api/tx/"+txid+"/merkle-proof", &p)
	h, _ := chainhash.NewHashFromStr(txid)
	cur := *h
	for i, s := range p.Merkle {
		sib, err := chainhash.NewHashFromStr(s)
		if err != nil {
			t.Fatal(err)
		}
		if pos>>i&1 == 1 {
			cur = consensus.HashMerkleBranches(sib, &cur)
		} else {
			cur = consensus.HashMerkleBranches(&cur, sib)
		}
	}
	if p.BlockHeight != cb.Height || p.Pos != pos || cur.String() != cb.MerkleRoot {
		t.Fatalf("tx %s merkle proof %+v leads to %v, block root %s", txid, p, cur, cb.MerkleRoot)
	}
}

// eventStream reads a Server-Sent Events stream.
type eventStream struct {
	t  *testing.T
	r  *bufio.Reader
	ch chan [2]string
}

func openEvents(t *testing.T, url string) *eventStream {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &eventStream{t: t, r: bufio.NewReader(resp.Body), ch: make(chan [2]string, 1024)}
	go func() {
		defer close(s.ch)
		var name string
		var data bytes.Buffer
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data.WriteString(line[len("data: "):])
			case line == "" && name != "":
				s.ch <- [2]string{name, data.String()}
				name = ""
				data.Reset()
			}
		}
	}()
	return s
}

// next returns the data of the next event named name, skipping others.
func (s *eventStream) next(name string) map[string]any {
	s.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-s.ch:
			if !ok {
				s.t.Fatalf("event stream closed waiting for %q", name)
			}
			if ev[0] != name {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(ev[1]), &m); err != nil {
				s.t.Fatalf("event %s: %v in %s", name, err, ev[1])
			}
			return m
		case <-deadline:
			s.t.Fatalf("no %q event in 30 s", name)
		}
	}
}
