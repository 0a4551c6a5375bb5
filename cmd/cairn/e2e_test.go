package main

// End-to-end tests of issue #3: the real cairn binary, started as child
// processes on loopback, driven over JSON-RPC with btcd's rpcclient (whose
// result types must decode Cairn's answers), raw HTTP and `cairn rpc`.
// Helpers are in e2e_helpers_test.go.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// regtestBits is the fixed regtest target.
const regtestBits = 0x207fffff

// coinsToSat converts an RPC amount in coins to base units.
func coinsToSat(t *testing.T, v float64) int64 {
	t.Helper()
	a, err := btcutil.NewAmount(v)
	if err != nil {
		t.Fatal(err)
	}
	return int64(a)
}

// expectedDifficulty is Core's difficulty of bits: the 0x1d00ffff target
// over bits's target, computed here independently of the node.
func expectedDifficulty(bits uint32) float64 {
	target := func(c uint32) *big.Float {
		m := new(big.Float).SetInt64(int64(c & 0x007fffff))
		return m.SetMantExp(m, 8*(int(c>>24)-3))
	}
	f, _ := new(big.Float).Quo(target(0x1d00ffff), target(bits)).Float64()
	return f
}

// rpcCode returns the code of an RPC error returned by rpcclient, or 0.
func rpcCode(err error) btcjson.RPCErrorCode {
	var rerr *btcjson.RPCError
	if errors.As(err, &rerr) {
		return rerr.Code
	}
	return 0
}

// mustHash parses a display-order hash.
func mustHash(t *testing.T, s string) *chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatalf("hash %q: %v", s, err)
	}
	return h
}

// TestE2EChainReadback ensures blocks mined with generatetoaddress read back
// consistently through every block and transaction query of btcd's
// rpcclient: heights, links, coinbase values, UTXOs and the transaction
// index.
func TestE2EChainReadback(t *testing.T) {
	t.Parallel()
	const blocks = 101
	n := startNode(t, t.TempDir(), nodeOpts{args: []string{"--txindex"}})
	c := n.client(t)
	addr := testAddress(t)
	payScript, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}

	mined, err := c.GenerateToAddress(blocks, addr, nil)
	if err != nil {
		t.Fatalf("generatetoaddress: %v", err)
	}
	if len(mined) != blocks {
		t.Fatalf("generatetoaddress returned %d hashes, want %d", len(mined), blocks)
	}
	count, err := c.GetBlockCount()
	if err != nil || count != blocks {
		t.Fatalf("getblockcount = %d, %v; want %d", count, err, blocks)
	}
	best, err := c.GetBestBlockHash()
	if err != nil || *best != *mined[blocks-1] {
		t.Fatalf("getbestblockhash = %v, %v; want %v", best, err, mined[blocks-1])
	}
	genesis, err := c.GetBlockHash(0)
	if err != nil || *genesis != chainparams.Regtest().GenesisHash() {
		t.Fatalf("getblockhash 0 = %v, %v; want the regtest genesis", genesis, err)
	}
	wantDiff := expectedDifficulty(regtestBits)

	// hashes[h] is the block at height h.
	hashes := append([]*chainhash.Hash{genesis}, mined...)
	for h := int64(1); h <= blocks; h++ {
		hash := hashes[h]
		got, err := c.GetBlockHash(h)
		if err != nil || *got != *hash {
			t.Fatalf("getblockhash %d = %v, %v; want %v", h, got, err, hash)
		}
		confs := int64(blocks) - h + 1

		vb, err := c.GetBlockVerbose(hash)
		if err != nil {
			t.Fatalf("getblock %v 1: %v", hash, err)
		}
		wantNext := ""
		if h < blocks {
			wantNext = hashes[h+1].String()
		}
		if vb.Hash != hash.String() || vb.Height != h || vb.Confirmations != confs ||
			vb.PreviousHash != hashes[h-1].String() || vb.NextHash != wantNext ||
			len(vb.Tx) != 1 || vb.Bits != "207fffff" || vb.Difficulty != wantDiff {
			t.Fatalf("getblock height %d (verbosity 1): %+v\nwant confirmations %d, previous %v, next %q, 1 tx, bits 207fffff, difficulty %g",
				h, vb, confs, hashes[h-1], wantNext, wantDiff)
		}
		if vb.Time <= chainparams.Regtest().Consensus.GenesisTime {
			t.Errorf("block %d time %d is not after the genesis block's", h, vb.Time)
		}

		raw, err := c.GetBlock(hash)
		if err != nil {
			t.Fatalf("getblock %v 0: %v", hash, err)
		}
		if raw.BlockHash() != *hash || raw.Header.PrevBlock != *hashes[h-1] || len(raw.Transactions) != 1 {
			t.Fatalf("getblock height %d (verbosity 0): hash %v prev %v txs %d", h, raw.BlockHash(), raw.Header.PrevBlock, len(raw.Transactions))
		}
		cb := raw.Transactions[0]
		if cb.TxHash().String() != vb.Tx[0] || raw.Header.MerkleRoot.String() != vb.MerkleRoot {
			t.Fatalf("block %d: coinbase %v merkle %v, verbose says %v %v", h, cb.TxHash(), raw.Header.MerkleRoot, vb.Tx[0], vb.MerkleRoot)
		}
		if cb.TxOut[0].Value != subsidy(h) || !bytes.Equal(cb.TxOut[0].PkScript, payScript) {
			t.Fatalf("block %d coinbase pays %d to %x, want %d to %x", h, cb.TxOut[0].Value, cb.TxOut[0].PkScript, subsidy(h), payScript)
		}

		hdr, err := c.GetBlockHeader(hash)
		if err != nil {
			t.Fatalf("getblockheader %v false: %v", hash, err)
		}
		if hdr.BlockHash() != *hash || hdr.PrevBlock != *hashes[h-1] || hdr.Timestamp.Unix() != vb.Time || hdr.Nonce != vb.Nonce {
			t.Fatalf("getblockheader height %d: %+v disagrees with getblock %+v", h, hdr, vb)
		}
		hv, err := c.GetBlockHeaderVerbose(hash)
		if err != nil {
			t.Fatalf("getblockheader %v true: %v", hash, err)
		}
		if hv.Hash != vb.Hash || int64(hv.Height) != h || hv.Confirmations != confs || hv.PreviousHash != vb.PreviousHash ||
			hv.NextHash != wantNext || hv.MerkleRoot != vb.MerkleRoot || hv.Time != vb.Time || hv.Nonce != uint64(vb.Nonce) ||
			hv.Bits != vb.Bits || hv.Difficulty != wantDiff || hv.VersionHex != vb.VersionHex || hv.Version != vb.Version {
			t.Fatalf("getblockheader height %d: %+v disagrees with getblock %+v", h, hv, vb)
		}

		vt, err := c.GetBlockVerboseTx(hash)
		if err != nil {
			t.Fatalf("getblock %v 2: %v", hash, err)
		}
		if vt.Hash != vb.Hash || vt.Height != h || len(vt.Tx) != 1 || vt.Tx[0].Txid != vb.Tx[0] {
			t.Fatalf("getblock height %d (verbosity 2): %+v", h, vt)
		}
		ctx := vt.Tx[0]
		if len(ctx.Vin) != 1 || ctx.Vin[0].Coinbase == "" || len(ctx.Vout) < 1 {
			t.Fatalf("block %d coinbase (verbosity 2): %+v", h, ctx)
		}
		if out := ctx.Vout[0]; coinsToSat(t, out.Value) != subsidy(h) || out.N != 0 ||
			out.ScriptPubKey.Address != addr.String() || out.ScriptPubKey.Type != "pubkeyhash" ||
			out.ScriptPubKey.Hex != hex.EncodeToString(payScript) {
			t.Fatalf("block %d coinbase output 0: %+v", h, out)
		}
		for _, out := range ctx.Vout[1:] {
			if out.Value != 0 || out.ScriptPubKey.Type != "nulldata" {
				t.Fatalf("block %d coinbase has an extra output that is not a zero-value commitment: %+v", h, out)
			}
		}
		var txBuf bytes.Buffer
		_ = cb.Serialize(&txBuf)
		if ctx.Hex != hex.EncodeToString(txBuf.Bytes()) {
			t.Fatalf("block %d coinbase hex differs from the raw block's", h)
		}

		txid := cb.TxHash()
		txOut, err := c.GetTxOut(&txid, 0, true)
		if err != nil || txOut == nil {
			t.Fatalf("gettxout %v 0 = %+v, %v", txid, txOut, err)
		}
		if txOut.BestBlock != best.String() || txOut.Confirmations != confs || coinsToSat(t, txOut.Value) != subsidy(h) ||
			!txOut.Coinbase || txOut.ScriptPubKey.Address != addr.String() {
			t.Fatalf("gettxout %v 0 (height %d): %+v", txid, h, txOut)
		}
		for i := 1; i < len(cb.TxOut); i++ {
			if o, err := c.GetTxOut(&txid, uint32(i), true); err != nil || o != nil {
				t.Fatalf("gettxout %v %d (a zero-value commitment) = %+v, %v; want null", txid, i, o, err)
			}
		}

		tx, err := c.GetRawTransaction(&txid)
		if err != nil || *tx.Hash() != txid {
			t.Fatalf("getrawtransaction %v (txindex): %v, %v", txid, tx, err)
		}
		rtx, err := c.GetRawTransactionVerbose(&txid)
		if err != nil {
			t.Fatalf("getrawtransaction %v 1: %v", txid, err)
		}
		if rtx.Txid != txid.String() || rtx.BlockHash != hash.String() || int64(rtx.Confirmations) != confs ||
			rtx.Hex != ctx.Hex || rtx.Blocktime != vb.Time || len(rtx.Vout) != len(cb.TxOut) {
			t.Fatalf("getrawtransaction %v 1 (height %d): %+v", txid, h, rtx)
		}
	}

	gh, err := c.GetBlockHeaderVerbose(genesis)
	if err != nil {
		t.Fatalf("getblockheader genesis: %v", err)
	}
	if gh.Height != 0 || gh.PreviousHash != "" || gh.NextHash != hashes[1].String() || gh.Confirmations != blocks+1 {
		t.Fatalf("getblockheader genesis: %+v", gh)
	}

	tips, err := c.GetChainTips()
	if err != nil {
		t.Fatalf("getchaintips: %v", err)
	}
	if len(tips) != 1 || tips[0].Height != blocks || tips[0].Hash != best.String() || tips[0].BranchLen != 0 || tips[0].Status != "active" {
		t.Fatalf("getchaintips: %+v", tips)
	}
	diff, err := c.GetDifficulty()
	if err != nil || diff != wantDiff {
		t.Fatalf("getdifficulty = %v, %v; want %g", diff, err, wantDiff)
	}

	set, err := c.GetTxOutSetInfo()
	if err != nil {
		t.Fatalf("gettxoutsetinfo: %v", err)
	}
	if set.Height != blocks || set.BestBlock != *best || set.TxOuts != blocks || set.Transactions != blocks ||
		int64(set.TotalAmount) != blocks*subsidy(1) {
		t.Fatalf("gettxoutsetinfo: %+v", set)
	}
	var idx map[string]struct {
		Synced bool  `json:"synced"`
		Height int32 `json:"best_block_height"`
	}
	n.mustCall(t, &idx, "getindexinfo")
	if ti, ok := idx["txindex"]; !ok || !ti.Synced || ti.Height != blocks {
		t.Fatalf("getindexinfo with --txindex: %+v", idx)
	}
	// The block filter index is on by default.
	if fi, ok := idx["basic block filter index"]; !ok || !fi.Synced || fi.Height != blocks {
		t.Fatalf("getindexinfo by default: %+v, want the basic block filter index", idx)
	}
	var filter struct {
		Filter string `json:"filter"`
		Header string `json:"header"`
	}
	n.mustCall(t, &filter, "getblockfilter", best.String())
	if len(filter.Filter) < 2 || len(filter.Header) != 64 {
		t.Fatalf("getblockfilter of the tip: %+v", filter)
	}

	// Errors keep Core's codes.
	if _, err := c.GetBlockHash(blocks + 1); rpcCode(err) != btcjson.ErrRPCInvalidParameter {
		t.Errorf("getblockhash %d: %v, want code -8", blocks+1, err)
	}
	if _, err := c.GetBlockVerbose(&chainhash.Hash{1}); rpcCode(err) != btcjson.ErrRPCInvalidAddressOrKey {
		t.Errorf("getblock of an unknown hash: %v, want code -5", err)
	}
	genesisCoinbase := chainparams.Regtest().Genesis.Transactions[0].TxHash()
	if _, err := c.GetRawTransaction(&genesisCoinbase); rpcCode(err) != btcjson.ErrRPCInvalidAddressOrKey {
		t.Errorf("getrawtransaction of the genesis coinbase: %v, want code -5", err)
	}

	// getblockchaininfo: the raw answer must decode into btcjson's type, and
	// rpcclient's typed call must work against the node.
	raw, err := c.RawRequest("getblockchaininfo", nil)
	if err != nil {
		t.Fatalf("getblockchaininfo: %v", err)
	}
	var info btcjson.GetBlockChainInfoResult
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatalf("getblockchaininfo does not decode into btcjson.GetBlockChainInfoResult: %v\n%s", err, raw)
	}
	if info.Chain != "regtest" || info.Blocks != blocks || info.Headers != blocks || info.BestBlockHash != best.String() ||
		info.Difficulty != wantDiff || info.MedianTime == 0 || len(info.ChainWork) != 64 {
		t.Errorf("getblockchaininfo: %s", raw)
	}
	t.Run("rpcclient batch", func(t *testing.T) {
		user, pass, err := n.creds()
		if err != nil {
			t.Fatal(err)
		}
		b, err := rpcclient.NewBatch(&rpcclient.ConnConfig{Host: n.rpcAddr, User: user, Pass: pass, HTTPPostMode: true, DisableTLS: true})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Shutdown()
		countF := b.GetBlockCountAsync()
		hashF := b.GetBlockHashAsync(50)
		badF := b.GetBlockHashAsync(blocks + 1)
		if err := b.Send(); err != nil {
			t.Fatalf("batch: %v", err)
		}
		if count, err := countF.Receive(); err != nil || count != blocks {
			t.Errorf("batched getblockcount = %d, %v", count, err)
		}
		if h, err := hashF.Receive(); err != nil || *h != *hashes[50] {
			t.Errorf("batched getblockhash 50 = %v, %v; want %v", h, err, hashes[50])
		}
		if _, err := badF.Receive(); rpcCode(err) != btcjson.ErrRPCInvalidParameter {
			t.Errorf("batched getblockhash %d: %v, want code -8", blocks+1, err)
		}
	})
	t.Run("rpcclient.GetBlockChainInfo", func(t *testing.T) {
		// rpcclient detects the backend's version first: getinfo (which
		// must answer "method not found") and then getnetworkinfo.
		typed, err := c.GetBlockChainInfo()
		if err != nil {
			t.Fatalf("rpcclient GetBlockChainInfo: %v", err)
		}
		if typed.Chain != "regtest" || typed.Blocks != blocks || typed.BestBlockHash != best.String() {
			t.Fatalf("rpcclient GetBlockChainInfo: %+v", typed)
		}
	})
}

// TestE2ESubmitBlock ensures submitblock accepts a block built by
// generateblock without submitting it, reports "duplicate" for it
// afterwards, rejects a copy whose body no longer matches its merkle root
// without poisoning the real block, and refuses undecodable data with -22.
func TestE2ESubmitBlock(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), nodeOpts{})
	c := n.client(t)
	addr := testAddress(t)
	if _, err := c.GenerateToAddress(3, addr, nil); err != nil {
		t.Fatal(err)
	}
	tipBefore, err := c.GetBestBlockHash()
	if err != nil {
		t.Fatal(err)
	}

	var gen struct {
		Hash string `json:"hash"`
		Hex  string `json:"hex"`
	}
	n.mustCall(t, &gen, "generateblock", addr.String(), []string{}, false)
	rawBlock, err := hex.DecodeString(gen.Hex)
	if err != nil {
		t.Fatalf("generateblock hex: %v", err)
	}
	var block wire.MsgBlock
	if err := block.Deserialize(bytes.NewReader(rawBlock)); err != nil {
		t.Fatalf("generateblock hex does not decode: %v", err)
	}
	if block.BlockHash().String() != gen.Hash || block.Header.PrevBlock != *tipBefore {
		t.Fatalf("generateblock: hash %v prev %v, answer %q, tip %v", block.BlockHash(), block.Header.PrevBlock, gen.Hash, tipBefore)
	}
	if count, _ := c.GetBlockCount(); count != 3 {
		t.Fatalf("generateblock with submit=false changed the height to %d", count)
	}

	// The same header over a different body: the coinbase pays one unit
	// less, so the header (and its proof of work) stays valid but the merkle
	// root no longer matches.
	var mutated wire.MsgBlock
	if err := mutated.Deserialize(bytes.NewReader(rawBlock)); err != nil {
		t.Fatal(err)
	}
	mutated.Transactions[0].TxOut[0].Value--
	if mutated.BlockHash() != block.BlockHash() {
		t.Fatal("mutation changed the header")
	}
	if err := c.SubmitBlock(btcutil.NewBlock(&mutated), nil); err == nil || err.Error() != "bad-txnmrklroot" {
		t.Fatalf("submitblock of a block with a mismatched merkle root: %v, want bad-txnmrklroot", err)
	}
	if tip, _ := c.GetBestBlockHash(); *tip != *tipBefore {
		t.Fatalf("a rejected block moved the tip to %v", tip)
	}

	// The real block is not poisoned by its mutated copy.
	if err := c.SubmitBlock(btcutil.NewBlock(&block), nil); err != nil {
		t.Fatalf("submitblock of a valid block: %v, want null", err)
	}
	if tip, err := c.GetBestBlockHash(); err != nil || tip.String() != gen.Hash {
		t.Fatalf("after submitblock the tip is %v, %v; want %s", tip, err, gen.Hash)
	}
	if count, _ := c.GetBlockCount(); count != 4 {
		t.Fatalf("after submitblock the height is %d, want 4", count)
	}
	if err := c.SubmitBlock(btcutil.NewBlock(&block), nil); err == nil || err.Error() != "duplicate" {
		t.Fatalf("submitblock again: %v, want duplicate", err)
	}
	if err := c.SubmitBlock(btcutil.NewBlock(&mutated), nil); err == nil || err.Error() != "duplicate" {
		t.Fatalf("submitblock of the mutated copy of a stored block: %v, want duplicate", err)
	}

	for _, data := range []string{"zz", "00", hex.EncodeToString(rawBlock[:80])} {
		param, _ := json.Marshal(data)
		_, err := c.RawRequest("submitblock", []json.RawMessage{param})
		if rpcCode(err) != btcjson.ErrRPCDeserialization {
			t.Errorf("submitblock %q: %v, want code -22", data, err)
		}
	}
	if tip, _ := c.GetBestBlockHash(); tip.String() != gen.Hash {
		t.Fatalf("the tip moved to %v", tip)
	}

	// A valid block on the parent of the tip, with the same work as the
	// tip, is stored off the best chain: "inconclusive", and a second tip.
	//
	//   ... -> gen(4) -> y(5)    active
	//                \-> x(5)    submitted after y
	var side struct {
		Hash string `json:"hash"`
		Hex  string `json:"hex"`
	}
	n.mustCall(t, &side, "generateblock", addr.String(), []string{}, false)
	y, err := c.GenerateToAddress(1, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	param, _ := json.Marshal(side.Hex)
	res, err := c.RawRequest("submitblock", []json.RawMessage{param})
	if err != nil || string(res) != `"inconclusive"` {
		t.Fatalf("submitblock of a side-chain block: %s, %v; want \"inconclusive\"", res, err)
	}
	if tip, _ := c.GetBestBlockHash(); *tip != *y[0] {
		t.Fatalf("a side-chain block of equal work replaced the first-seen tip: tip %v, want %v", tip, y[0])
	}
	tips, err := c.GetChainTips()
	if err != nil {
		t.Fatalf("getchaintips: %v", err)
	}
	var active, fork *btcjson.GetChainTipsResult
	for _, tip := range tips {
		switch tip.Hash {
		case y[0].String():
			active = tip
		case side.Hash:
			fork = tip
		}
	}
	if len(tips) != 2 || active == nil || fork == nil ||
		active.Height != 5 || active.BranchLen != 0 || active.Status != "active" ||
		fork.Height != 5 || fork.BranchLen != 1 || (fork.Status != "valid-headers" && fork.Status != "valid-fork") {
		var b strings.Builder
		for _, tip := range tips {
			fmt.Fprintf(&b, "%+v\n", *tip)
		}
		t.Fatalf("getchaintips with a side block %s:\n%s", side.Hash, b.String())
	}
}

// TestE2ERestart ensures the node shuts down cleanly on the stop call and on
// SIGTERM (exit code 0, cookie removed, port closed) and comes back with the
// same tip.
func TestE2ERestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := testAddress(t)

	n := startNode(t, dir, nodeOpts{})
	if _, err := n.client(t).GenerateToAddress(20, addr, nil); err != nil {
		t.Fatal(err)
	}
	var tip string
	n.mustCall(t, &tip, "getbestblockhash")
	n.stopRPC(t)
	if _, _, _, err := postRPC(n.rpcAddr, "x", "y", "getblockcount"); err == nil {
		t.Errorf("the RPC port still answers after stop")
	}

	n = startNode(t, dir, nodeOpts{})
	c := n.client(t)
	if h, err := c.GetBlockCount(); err != nil || h != 20 {
		t.Fatalf("after a restart the height is %d, %v; want 20", h, err)
	}
	if got, err := c.GetBestBlockHash(); err != nil || got.String() != tip {
		t.Fatalf("after a restart the tip is %v, %v; want %s", got, err, tip)
	}
	if _, err := c.GenerateToAddress(5, addr, nil); err != nil {
		t.Fatal(err)
	}
	n.mustCall(t, &tip, "getbestblockhash")
	n.terminate(t)

	n = startNode(t, dir, nodeOpts{})
	c = n.client(t)
	if h, err := c.GetBlockCount(); err != nil || h != 25 {
		t.Fatalf("after SIGTERM and a restart the height is %d, %v; want 25", h, err)
	}
	if got, err := c.GetBestBlockHash(); err != nil || got.String() != tip {
		t.Fatalf("after SIGTERM and a restart the tip is %v, %v; want %s", got, err, tip)
	}
	checkUtxoSet(t, n, c, 25)
	n.stopRPC(t)
}

// checkUtxoSet checks that the node's UTXO set is exactly that of a
// coinbase-only chain of its height (at least minHeight): one output per
// block holding its subsidy, at the tip the node reports.
func checkUtxoSet(t *testing.T, n *node, c *rpcclient.Client, minHeight int64) int64 {
	t.Helper()
	height, err := c.GetBlockCount()
	if err != nil {
		t.Fatal(err)
	}
	if height < minHeight {
		t.Errorf("height %d, want at least %d (blocks the node had accepted were lost)", height, minHeight)
	}
	best, err := c.GetBestBlockHash()
	if err != nil {
		t.Fatal(err)
	}
	atHeight, err := c.GetBlockHash(height)
	if err != nil || *atHeight != *best {
		t.Errorf("getblockhash %d = %v, %v; getbestblockhash %v", height, atHeight, err, best)
	}
	set, err := c.GetTxOutSetInfo()
	if err != nil {
		t.Fatalf("gettxoutsetinfo: %v", err)
	}
	var total int64
	for h := int64(1); h <= height; h++ {
		total += subsidy(h)
	}
	if set.Height != height || set.BestBlock != *best || set.TxOuts != height || set.Transactions != height || int64(set.TotalAmount) != total {
		t.Errorf("gettxoutsetinfo at height %d, tip %v: %+v\nwant txouts %d, transactions %d, total_amount %v",
			height, best, set, height, height, btcutil.Amount(total))
	}
	return height
}

// TestE2EKillDuringMining ensures that a node killed with SIGKILL while it
// mines comes back with a consistent chain and UTXO set, and with every
// block it had reported.
//
// Regtest mines tens of thousands of blocks a second, and each block's time
// must pass the median of the last 11, so block times run ahead of the
// clock by about a second every 6 blocks; past 2 hours ahead the node
// refuses them. Each round therefore kills the miner once the chain has
// grown by a bounded number of blocks (plus a varying delay), rather than
// after a fixed time.
func TestE2EKillDuringMining(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := testAddress(t).String()
	var height int64
	for i, round := range []struct {
		grow  int64
		delay time.Duration
	}{{200, 0}, {500, 10 * time.Millisecond}, {300, 25 * time.Millisecond}, {1000, 0}, {400, 50 * time.Millisecond}} {
		m := startNode(t, dir, nodeOpts{args: []string{"--mine", "--mine-interval", "0", "--miner-address", addr, "--miner-threads", "2"}})
		var seen int64
		deadline := time.Now().Add(20 * time.Second)
		for seen < height+round.grow {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the miner reached height %d, want %d within 20s", i, seen, height+round.grow)
			}
			time.Sleep(5 * time.Millisecond)
			m.mustCall(t, &seen, "getblockcount")
		}
		time.Sleep(round.delay)
		m.mustCall(t, &seen, "getblockcount")
		m.kill(t)

		n := startNode(t, dir, nodeOpts{})
		height = checkUtxoSet(t, n, n.client(t), seen)
		t.Logf("round %d: killed at reported height %d; restarted at height %d", i, seen, height)
		n.stopRPC(t)
		if t.Failed() {
			return
		}
	}

	// SIGTERM while mining is a clean shutdown that keeps every block.
	m := startNode(t, dir, nodeOpts{args: []string{"--mine", "--mine-interval", "0", "--miner-address", addr, "--miner-threads", "2"}})
	var seen int64
	for seen <= height {
		time.Sleep(5 * time.Millisecond)
		m.mustCall(t, &seen, "getblockcount")
	}
	m.terminate(t)
	n := startNode(t, dir, nodeOpts{})
	checkUtxoSet(t, n, n.client(t), seen)
}

// TestE2ERPCAuth ensures the cookie file has mode 0600 and Core's format,
// that fixed credentials replace it, and that wrong credentials get HTTP
// 401.
func TestE2ERPCAuth(t *testing.T) {
	t.Parallel()
	cookieNode := startNode(t, t.TempDir(), nodeOpts{})
	userNode := startNode(t, t.TempDir(), nodeOpts{user: "alice", pass: "s3cret"})

	fi, err := os.Stat(cookieNode.cookiePath())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cookie file mode %v, want 0600", fi.Mode().Perm())
	}
	content, err := os.ReadFile(cookieNode.cookiePath())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^__cookie__:[0-9a-f]{64}$`).Match(content) {
		t.Errorf("cookie file holds %q, want __cookie__:<64 hex digits>", content)
	}
	user, pass, _ := cookieNode.creds()
	if status, _, _, err := postRPC(cookieNode.rpcAddr, user, pass, "getblockcount"); err != nil || status != http.StatusOK {
		t.Errorf("with the cookie: HTTP %d, %v", status, err)
	}

	if _, err := os.Stat(userNode.cookiePath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("with --rpc-user/--rpc-password a cookie file exists (stat: %v)", err)
	}
	var count int64
	userNode.mustCall(t, &count, "getblockcount")

	for _, tc := range []struct {
		name, addr, user, pass string
	}{
		{"cookie node, wrong password", cookieNode.rpcAddr, "__cookie__", strings.Repeat("0", 64)},
		{"cookie node, no password", cookieNode.rpcAddr, "__cookie__", ""},
		{"user node, wrong password", userNode.rpcAddr, "alice", "wrong"},
		{"user node, wrong user", userNode.rpcAddr, "bob", "s3cret"},
		{"user node, cookie user", userNode.rpcAddr, "__cookie__", pass},
	} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+tc.addr+"/", strings.NewReader(`{"method":"getblockcount","params":[],"id":1}`))
		req.SetBasicAuth(tc.user, tc.pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: HTTP %d, want 401", tc.name, resp.StatusCode)
		}
	}
	resp, err := http.Post("http://"+userNode.rpcAddr+"/", "application/json", strings.NewReader(`{"method":"getblockcount","params":[],"id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without credentials: HTTP %d, want 401", resp.StatusCode)
	}

	// rpcclient with wrong credentials fails instead of decoding anything.
	bad, err := rpcclient.New(&rpcclient.ConnConfig{Host: userNode.rpcAddr, User: "alice", Pass: "wrong", HTTPPostMode: true, DisableTLS: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Shutdown()
	if _, err := bad.GetBlockCount(); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("rpcclient with wrong credentials: %v, want an HTTP 401 error", err)
	}
}

// TestE2EDataDirLock ensures a second node on a data directory in use exits
// non-zero with a message saying so, and leaves the first one alone.
func TestE2EDataDirLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startNode(t, dir, nodeOpts{})
	second := launchNode(t, dir, nodeOpts{})
	if code := second.waitExit(t, exitTimeout); code == 0 {
		t.Errorf("a second node on the same data directory exited with code 0")
	}
	if out := second.output(); !strings.Contains(out, "in use") || !strings.Contains(out, filepath.Join(dir, "regtest")) {
		t.Errorf("second node's message does not say the data directory %s is in use:\n%s", dir, out)
	}
	if _, err := os.Stat(first.cookiePath()); err != nil {
		t.Errorf("the first node's cookie file is gone: %v", err)
	}
	// A busy RPC port stops start-up too, naming the address.
	busy := launchNode(t, t.TempDir(), nodeOpts{rpcAddr: first.rpcAddr})
	if code := busy.waitExit(t, exitTimeout); code == 0 || !strings.Contains(busy.output(), first.rpcAddr) {
		t.Errorf("a node on a busy RPC port: exit code %d, output:\n%s", code, busy.output())
	}

	var count int64
	first.mustCall(t, &count, "getblockcount")
	first.stopRPC(t)
}

// TestE2EConfigAndEnv ensures the data directory's cairn.conf and the
// CAIRN_* environment variables are honoured, the command line wins over the
// file, and unknown keys and flags stop start-up with a message naming them.
func TestE2EConfigAndEnv(t *testing.T) {
	t.Parallel()
	writeConf := func(t *testing.T, dir, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, configFileName), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hasTxIndex := func(t *testing.T, n *node) bool {
		t.Helper()
		var idx map[string]json.RawMessage
		n.mustCall(t, &idx, "getindexinfo")
		_, ok := idx["txindex"]
		return ok
	}

	t.Run("regtest table", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeConf(t, dir, "# set by the e2e test\n[regtest]\ntxindex = true\n")
		n := startNode(t, dir, nodeOpts{})
		if !hasTxIndex(t, n) {
			t.Fatal("txindex = true in [regtest] of cairn.conf is not honoured")
		}
		// The transaction index answers without a block hash.
		c := n.client(t)
		hashes, err := c.GenerateToAddress(1, testAddress(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.GetBlock(hashes[0])
		if err != nil {
			t.Fatal(err)
		}
		txid := b.Transactions[0].TxHash()
		if _, err := c.GetRawTransaction(&txid); err != nil {
			t.Errorf("getrawtransaction with the txindex from cairn.conf: %v", err)
		}
	})

	t.Run("other network's table", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeConf(t, dir, "[main]\ntxindex = true\n")
		if n := startNode(t, dir, nodeOpts{}); hasTxIndex(t, n) {
			t.Fatal("the [main] table of cairn.conf applied to regtest")
		}
	})

	t.Run("command line wins", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeConf(t, dir, "[regtest]\ntxindex = true\n")
		if n := startNode(t, dir, nodeOpts{args: []string{"--txindex=false"}}); hasTxIndex(t, n) {
			t.Fatal("--txindex=false on the command line lost to cairn.conf")
		}
	})

	for _, tc := range []struct{ name, conf, key string }{
		{"unknown key in table", "[regtest]\ntxindx = true\n", "txindx"},
		{"unknown top-level key", "no-such-option = 3\n", "no-such-option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeConf(t, dir, tc.conf)
			_, stderr, code := runCairn(t, nil, "node", "--network", "regtest", "--datadir", dir, "--rpc-addr", freeAddr(t))
			if code == 0 || !strings.Contains(stderr, tc.key) {
				t.Fatalf("exit code %d, stderr:\n%s\nwant a failure naming %q", code, stderr, tc.key)
			}
		})
	}

	t.Run("CAIRN_RPC_ADDR", func(t *testing.T) {
		t.Parallel()
		addr := freeAddr(t)
		n := startNode(t, t.TempDir(), nodeOpts{rpcAddr: addr, noRPCAddrFlag: true, env: []string{"CAIRN_RPC_ADDR=" + addr}})
		var count int64
		n.mustCall(t, &count, "getblockcount")
	})

	t.Run("CAIRN_TXINDEX", func(t *testing.T) {
		t.Parallel()
		if n := startNode(t, t.TempDir(), nodeOpts{env: []string{"CAIRN_TXINDEX=true"}}); !hasTxIndex(t, n) {
			t.Fatal("CAIRN_TXINDEX=true is not honoured")
		}
	})

	t.Run("unknown flag", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, code := runCairn(t, nil, "node", "--network", "regtest", "--datadir", t.TempDir(), "--no-such-flag")
		if code == 0 || !strings.Contains(stdout+stderr, "no-such-flag") {
			t.Fatalf("exit code %d, output:\n%s%s\nwant a failure naming --no-such-flag", code, stdout, stderr)
		}
	})

	for _, bad := range [][]string{
		{"--peer", "/ip4/127.0.0.1/tcp/1"}, // no /p2p/<peer id>
		{"--peer", "nonsense"},
		{"--max-peers", "0"},
	} {
		t.Run("bad "+bad[0], func(t *testing.T) {
			t.Parallel()
			args := append([]string{"node", "--network", "regtest", "--datadir", t.TempDir(), "--rpc-addr", freeAddr(t)}, bad...)
			stdout, stderr, code := runCairn(t, nil, args...)
			if code == 0 || !strings.Contains(stdout+stderr, bad[0]) {
				t.Fatalf("%v: exit code %d, output:\n%s%s\nwant a failure naming %s", bad, code, stdout, stderr, bad[0])
			}
		})
	}
}

// TestE2ERPCCommand ensures `cairn rpc` prints results like bitcoin-cli,
// reports the server's errors with a non-zero exit code, and says clearly
// when no node answers.
func TestE2ERPCCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := startNode(t, dir, nodeOpts{})
	hashes, err := n.client(t).GenerateToAddress(3, testAddress(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	rpcArgs := func(addr string, args ...string) []string {
		return append([]string{"rpc", "--network", "regtest", "--datadir", dir, "--rpc-addr", addr}, args...)
	}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return runCairn(t, nil, rpcArgs(n.rpcAddr, args...)...)
	}

	if out, errOut, code := run("getblockcount"); code != 0 || out != "3\n" {
		t.Errorf("getblockcount: exit %d, stdout %q, stderr %q; want \"3\\n\"", code, out, errOut)
	}
	if out, errOut, code := run("getblockhash", "2"); code != 0 || out != hashes[1].String()+"\n" {
		t.Errorf("getblockhash 2: exit %d, stdout %q, stderr %q; want the bare hash", code, out, errOut)
	}
	if out, errOut, code := run("--named", "getblockhash", "height=1"); code != 0 || out != hashes[0].String()+"\n" {
		t.Errorf("--named getblockhash height=1: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code := run("getblockchaininfo")
	var info btcjson.GetBlockChainInfoResult
	if code != 0 || !strings.HasPrefix(out, "{\n  \"") || json.Unmarshal([]byte(out), &info) != nil ||
		info.Blocks != 3 || info.Chain != "regtest" {
		t.Errorf("getblockchaininfo: exit %d, stdout:\n%s\nstderr %q; want indented JSON", code, out, errOut)
	}
	// help is the node's method, as with bitcoin-cli, not the CLI's usage.
	if out, errOut, code := run("help"); code != 0 || !strings.Contains(out, "getblockchaininfo") || strings.Contains(out, "USAGE") {
		t.Errorf("help: exit %d, stdout %q, stderr %q; want the node's method list", code, out, errOut)
	}
	if out, errOut, code := run("nosuchmethod"); code == 0 || out != "" || !strings.Contains(errOut, "Method not found") || !strings.Contains(errOut, "-32601") {
		t.Errorf("unknown method: exit %d, stdout %q, stderr %q; want a failure with the server's message", code, out, errOut)
	}
	if _, errOut, code := run("getblockhash", "99"); code == 0 || !strings.Contains(errOut, "Block height out of range") || !strings.Contains(errOut, "-8") {
		t.Errorf("getblockhash 99: exit %d, stderr %q; want the server's error", code, errOut)
	}

	if _, errOut, code := run("--rpc-user", "__cookie__", "--rpc-password", "wrong", "getblockcount"); code == 0 || !strings.Contains(errOut, "refused the RPC credentials") {
		t.Errorf("wrong credentials: exit %d, stderr %q", code, errOut)
	}

	// No node: with fixed credentials on a closed port, with the stale
	// cookie of a killed node, and with no cookie at all.
	closed := freeAddr(t)
	if _, errOut, code := runCairn(t, nil, "rpc", "--network", "regtest", "--datadir", t.TempDir(), "--rpc-addr", closed,
		"--rpc-user", "u", "--rpc-password", "p", "getblockcount"); code == 0 || !strings.Contains(errOut, "cannot reach") || !strings.Contains(errOut, closed) {
		t.Errorf("closed port: exit %d, stderr %q; want \"cannot reach\" and the address", code, errOut)
	}
	n.kill(t)
	if _, errOut, code := run("getblockcount"); code == 0 || !strings.Contains(errOut, "cannot reach") {
		t.Errorf("killed node (stale cookie): exit %d, stderr %q; want \"cannot reach\"", code, errOut)
	}
	if _, errOut, code := runCairn(t, nil, rpcArgs(closed, "getblockcount")...); code == 0 || errOut == "" {
		t.Errorf("killed node on another port: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := runCairn(t, nil, "rpc", "--network", "regtest", "--datadir", t.TempDir(), "--rpc-addr", closed, "getblockcount"); code == 0 ||
		!strings.Contains(errOut, "is the node running") {
		t.Errorf("no cookie: exit %d, stderr %q; want a hint that the node is not running", code, errOut)
	}
}

// TestE2EMetrics ensures /metrics serves the chain height and the RPC call
// counters in Prometheus text format.
func TestE2EMetrics(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	n := startNode(t, t.TempDir(), nodeOpts{args: []string{"--metrics-addr", metricsAddr}})
	if _, err := n.client(t).GenerateToAddress(7, testAddress(t), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := n.call("getblockhash", 99); err == nil {
		t.Fatal("getblockhash 99 succeeded")
	}

	body := scrapeMetrics(t, metricsAddr)
	metric := func(series string) (float64, bool) { return metricValue(body, series) }
	for _, tc := range []struct {
		series  string
		want    float64
		atLeast bool
	}{
		{"cairn_chain_height", 7, false},
		{`cairn_rpc_calls_total{method="generatetoaddress",result="ok"}`, 1, false},
		{`cairn_rpc_calls_total{method="getblockhash",result="error"}`, 1, false},
		{`cairn_rpc_calls_total{method="getblockcount",result="ok"}`, 1, true},
	} {
		v, ok := metric(tc.series)
		if !ok || (tc.atLeast && v < tc.want) || (!tc.atLeast && v != tc.want) {
			t.Errorf("metric %s = %v (found %v), want %v", tc.series, v, ok, tc.want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// TestE2EBech32Address ensures the node accepts its network's bech32
// (P2WPKH) addresses wherever it takes an address: validateaddress,
// generatetoaddress, generateblock and --miner-address.
func TestE2EBech32Address(t *testing.T) {
	t.Parallel()
	addr := testSegwitAddress(t)
	if !strings.HasPrefix(addr.String(), chainparams.Regtest().Bech32HRP+"1") {
		t.Fatalf("test address %s lacks the regtest HRP", addr)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, t.TempDir(), nodeOpts{})
	c := n.client(t)

	var va struct {
		IsValid      bool   `json:"isvalid"`
		Address      string `json:"address"`
		ScriptPubKey string `json:"scriptPubKey"`
		Error        string `json:"error"`
	}
	n.mustCall(t, &va, "validateaddress", addr.String())
	if !va.IsValid || va.Address != addr.String() || va.ScriptPubKey != hex.EncodeToString(script) {
		t.Errorf("validateaddress %s: %+v", addr, va)
	}
	if hashes, err := c.GenerateToAddress(1, addr, nil); err != nil {
		t.Errorf("generatetoaddress 1 %s: %v", addr, err)
	} else if b, err := c.GetBlockVerboseTx(hashes[0]); err != nil {
		t.Errorf("getblock: %v", err)
	} else if out := b.Tx[0].Vout[0]; out.ScriptPubKey.Address != addr.String() || out.ScriptPubKey.Type != "witness_v0_keyhash" {
		t.Errorf("coinbase output 0 of a block mined to %s: %+v", addr, out)
	}
	if _, err := n.call("generateblock", addr.String(), []string{}, false); err != nil {
		t.Errorf("generateblock %s: %v", addr, err)
	}
	m := startNode(t, t.TempDir(), nodeOpts{args: []string{"--mine", "--mine-interval", "0", "--miner-address", addr.String(), "--miner-threads", "1"}})
	deadline := time.Now().Add(readyTimeout)
	for {
		var height int64
		m.mustCall(t, &height, "getblockcount")
		if height > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a node mining to %s found no block in %v", addr, readyTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.kill(t)
}

// TestE2EStopDuringGenerate ensures the stop call ends a long
// generatetoaddress promptly, as Bitcoin Core's generate loop checks for
// shutdown between blocks, and that the blocks it made survive.
//
// The call asks for 100000 blocks; left alone, the generator stops only when
// block times reach the 2-hour future limit, about 6*7200 = 43200 blocks
// (see TestE2EKillDuringMining), so the final height tells whether it
// heeded the stop.
func TestE2EStopDuringGenerate(t *testing.T) {
	t.Parallel()
	const promptExit = 3 * time.Second
	dir := t.TempDir()
	n := startNode(t, dir, nodeOpts{})
	addr := testAddress(t).String()
	done := make(chan error, 1)
	go func() {
		_, err := n.call("generatetoaddress", 100000, addr)
		done <- err
	}()
	var seen int64
	for seen < 100 {
		time.Sleep(5 * time.Millisecond)
		n.mustCall(t, &seen, "getblockcount")
	}
	var msg string
	n.mustCall(t, &msg, "stop")
	stopped := time.Now()
	code := n.waitExit(t, 30*time.Second)
	took := time.Since(stopped)
	if code != 0 {
		t.Errorf("exit code %d after stop, want 0", code)
	}
	if took > promptExit {
		t.Errorf("the node took %v to exit after the stop call while generatetoaddress ran, want under %v", took.Round(time.Millisecond), promptExit)
	}
	select {
	case <-done:
	case <-time.After(exitTimeout):
		t.Fatal("generatetoaddress call still pending after the node exited")
	}

	r := startNode(t, dir, nodeOpts{})
	height := checkUtxoSet(t, r, r.client(t), seen)
	t.Logf("stop sent at height %d; the node exited %v later at height %d", seen, took.Round(time.Millisecond), height)
	if height > 30000 {
		t.Errorf("generatetoaddress went on after the stop call: height %d when stop was sent, %d after the restart", seen, height)
	}
}

// TestE2ELogFile ensures --log-file keeps the node's log in a file (as the
// testnet's nodes keep node.log), appended to across restarts, beside the
// standard error.
func TestE2ELogFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "node.log")
	for range 2 {
		n := startNode(t, dir, nodeOpts{args: []string{"--log-file", logFile}})
		n.stopRPC(t)
	}
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(raw), "msg=\"node running\""); c != 2 {
		t.Errorf("the log file holds %d \"node running\" lines over two runs, want 2:\n%s", c, raw)
	}
	if fi, err := os.Stat(logFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

// TestE2EMinePacing ensures `cairn node --network regtest --mine` paces its
// blocks by --mine-interval (regtest's proof of work costs microseconds)
// and logs one INFO line per block.
func TestE2EMinePacing(t *testing.T) {
	t.Parallel()
	logFile := filepath.Join(t.TempDir(), "node.log")
	start := time.Now() // before the process: it mines before RPC answers
	n := startNode(t, t.TempDir(), nodeOpts{args: []string{"--mine", "--mine-interval", "300ms", "--miner-threads", "1",
		"--miner-address", testAddress(t).String(), "--log-file", logFile}})
	var height int64
	for height < 3 {
		if time.Since(start) > time.Minute {
			t.Fatalf("height %d after a minute", height)
		}
		time.Sleep(50 * time.Millisecond)
		n.mustCall(t, &height, "getblockcount")
	}
	elapsed := time.Since(start)
	n.stopRPC(t)
	if most := int64(elapsed/(300*time.Millisecond)) + 1; height > most {
		t.Errorf("%d blocks in %v, at most %d with a 300 ms interval", height, elapsed, most)
	}
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var perBlock int
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, "level=INFO") && strings.Contains(line, "height=2 ") {
			perBlock++
		}
	}
	if perBlock != 1 {
		t.Errorf("%d INFO lines name block 2, want 1:\n%s", perBlock, raw)
	}
}
