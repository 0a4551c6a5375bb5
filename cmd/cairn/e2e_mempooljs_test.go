package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"
)

// mempoolJSDir holds the npm project that reads the explorer through
// @mempool/mempool.js (package.json and its lock file; node_modules is
// installed by the test).
const mempoolJSDir = "testdata/mempooljs"

// needNode returns the path of node after installing the npm project's
// packages, or skips the test where Node.js or npm is missing, unless
// CAIRN_MEMPOOLJS_REQUIRED is set (as .ci/run sets it), where it fails.
func needNode(t *testing.T) string {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	npm, err2 := exec.LookPath("npm")
	if err != nil || err2 != nil {
		if os.Getenv("CAIRN_MEMPOOLJS_REQUIRED") != "" {
			t.Fatal("node and npm are required (CAIRN_MEMPOOLJS_REQUIRED is set) but not installed")
		}
		t.Skip("node and npm are not installed (apt-get install nodejs npm)")
	}
	if _, err := os.Stat(filepath.Join(mempoolJSDir, "node_modules", "@mempool", "mempool.js")); err != nil {
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel", "error")
		cmd.Dir = mempoolJSDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", mempoolJSDir, err, out)
		}
	}
	return nodeBin
}

// TestE2EMempoolJS reads a `cairn node`'s explorer with
// @mempool/mempool.js 3.0.0 (npm), unmodified: tip, blocks (mempool.space's
// /api/v1/ shapes with their fee extras), a transaction with its proofs
// and outspends, an address, the pool, fees, difficulty and hash rate, and
// compares what it read with JSON-RPC.
func TestE2EMempoolJS(t *testing.T) {
	t.Parallel()
	nodeBin := needNode(t)
	haddr := freeAddr(t)
	n := startNode(t, t.TempDir(), nodeOpts{args: []string{"--http-addr", haddr}})
	dir := t.TempDir()
	a := &walletCLI{t: t, n: n, file: filepath.Join(dir, "a.dat"), env: []string{"CAIRN_WALLET_PASSWORD=a"}}
	b := &walletCLI{t: t, n: n, file: filepath.Join(dir, "b.dat"), env: []string{"CAIRN_WALLET_PASSWORD=b"}}
	a.ok(nil, []string{"create"}, nil)
	b.ok(nil, []string{"create"}, nil)
	addrA, addrB := a.address(), b.address()
	n.mustCall(t, nil, "generatetoaddress", 101, addrA)
	var paid struct{ TxID string }
	a.ok(&paid, []string{"send"}, nil, addrB, "2")
	n.mustCall(t, nil, "generatetoaddress", 1, addrA)
	// One payment left in the pool, to B again.
	var pooled struct{ TxID string }
	a.ok(&pooled, []string{"send"}, nil, addrB, "0.5")

	cmd := exec.Command(nodeBin, "check.js", haddr, addrB, paid.TxID)
	cmd.Dir = mempoolJSDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node check.js: %v\n%s", err, stderr.String())
	}
	var got struct {
		TipHeight int32  `json:"tipHeight"`
		TipHash   string `json:"tipHash"`
		Block     struct {
			ID     string `json:"id"`
			Height int32  `json:"height"`
			Extras struct {
				Reward    int64 `json:"reward"`
				TotalFees int64 `json:"totalFees"`
			} `json:"extras"`
		} `json:"block"`
		Blocks      []struct{ ID string } `json:"blocks"`
		BlockStatus struct {
			InBestChain bool `json:"in_best_chain"`
		} `json:"blockStatus"`
		BlockTxids    []string    `json:"blockTxids"`
		BlockTxs      []esploraTx `json:"blockTxs"`
		BlockHeader   string      `json:"blockHeader"`
		BlockAtHeight string      `json:"blockAtHeight"`
		Tx            esploraTx   `json:"tx"`
		TxStatus      esploraStatus
		TxHex         string `json:"txHex"`
		TxMerkleProof struct {
			BlockHeight int32 `json:"block_height"`
		} `json:"txMerkleProof"`
		TxMerkleBlockProof string `json:"txMerkleBlockProof"`
		TxOutspends        []struct {
			Spent bool `json:"spent"`
		} `json:"txOutspends"`
		Address         esploraAddress `json:"address"`
		AddressTxs      []esploraTx    `json:"addressTxs"`
		AddressUtxo     []esploraUtxo  `json:"addressUtxo"`
		FeesRecommended struct {
			FastestFee, HalfHourFee, HourFee, EconomyFee, MinimumFee float64
		} `json:"feesRecommended"`
		MempoolBlocks []struct {
			NTx       int   `json:"nTx"`
			TotalFees int64 `json:"totalFees"`
		} `json:"mempoolBlocks"`
		Cpfp struct {
			EffectiveFeePerVsize float64 `json:"effectiveFeePerVsize"`
		} `json:"cpfp"`
		Mempool struct {
			Count int `json:"count"`
		} `json:"mempool"`
		MempoolTxids         []string `json:"mempoolTxids"`
		MempoolRecent        []struct{ TxID string }
		DifficultyAdjustment struct {
			NextRetargetHeight int32 `json:"nextRetargetHeight"`
			RemainingBlocks    int   `json:"remainingBlocks"`
		} `json:"difficultyAdjustment"`
		Hashrate struct {
			CurrentDifficulty float64 `json:"currentDifficulty"`
			Hashrates         []struct {
				AvgHashrate float64 `json:"avgHashrate"`
			} `json:"hashrates"`
		} `json:"hashrate"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("mempool.js output: %v\n%s", err, raw)
	}

	var height int32
	n.mustCall(t, &height, "getblockcount")
	var best string
	n.mustCall(t, &best, "getbestblockhash")
	var cb coreBlock
	n.mustCall(t, &cb, "getblock", best, 1)
	var h1 string
	n.mustCall(t, &h1, "getblockhash", 1)
	if got.TipHeight != height || got.TipHash != best || got.Block.ID != best || got.Block.Height != height ||
		!got.BlockStatus.InBestChain || !slices.Equal(got.BlockTxids, cb.Tx) || len(got.BlockTxs) != cb.NTx ||
		got.BlockAtHeight != h1 || len(got.BlockHeader) != 160 {
		t.Fatalf("blocks read by mempool.js disagree with JSON-RPC:\n%s", raw)
	}
	if want := min(int(height)+1, 15); len(got.Blocks) != want || got.Blocks[0].ID != best {
		t.Fatalf("getBlocks: %d blocks, want %d", len(got.Blocks), want)
	}
	// The tip block holds the payment: reward is subsidy plus its fee.
	var coinbase coreTx
	n.mustCall(t, &coinbase, "getrawtransaction", cb.Tx[0], true)
	var reward int64
	for _, o := range coinbase.Vout {
		reward += sats(o.Value)
	}
	if got.Block.Extras.Reward != reward || got.Block.Extras.TotalFees != got.Tx.Fee || got.Tx.Fee <= 0 {
		t.Fatalf("block extras %+v, coinbase pays %d, payment fee %d", got.Block.Extras, reward, got.Tx.Fee)
	}
	var ct coreTx
	n.mustCall(t, &ct, "getrawtransaction", paid.TxID, true)
	if got.Tx.TxID != paid.TxID || got.TxHex != ct.Hex || !got.TxStatus.Confirmed || got.TxStatus.BlockHash != best ||
		got.TxMerkleProof.BlockHeight != height || len(got.TxOutspends) != len(ct.Vout) {
		t.Fatalf("transaction read by mempool.js disagrees with getrawtransaction:\n%s", raw)
	}
	// Script assembly is Esplora's (rust-bitcoin's), which clients split
	// on spaces: a push is named by its opcode before its data.
	asmPrefix := map[string]string{"v0_p2wpkh": "0014 OP_0 OP_PUSHBYTES_20 ", "v1_p2tr": "5120 OP_PUSHNUM_1 OP_PUSHBYTES_32 "}
	for i, o := range got.Tx.Vout {
		p, ok := asmPrefix[o.ScriptPubKeyType]
		program, asm, _ := strings.Cut(p, " ")
		if want := asm + strings.TrimPrefix(o.ScriptPubKey, program); !ok || o.ScriptPubKeyAsm != want {
			t.Fatalf("vout %d (%s): scriptpubkey_asm %q, want %q", i, o.ScriptPubKeyType, o.ScriptPubKeyAsm, want)
		}
	}
	if in := got.Tx.Vin[0]; in.ScriptSig != "" || in.ScriptSigAsm != "" || len(in.Witness) == 0 {
		t.Fatalf("the payment's input: scriptsig %q, asm %q, witness %v", in.ScriptSig, in.ScriptSigAsm, in.Witness)
	}
	proof, err := hex.DecodeString(got.TxMerkleBlockProof)
	var mb wire.MsgMerkleBlock
	if err != nil || mb.BtcDecode(bytes.NewReader(proof), wire.ProtocolVersion, wire.BaseEncoding) != nil ||
		mb.Header.BlockHash().String() != best || int(mb.Transactions) != cb.NTx {
		t.Fatalf("merkleblock-proof %s", got.TxMerkleBlockProof)
	}
	if got.Address.Address != addrB || got.Address.ChainStats.FundedTxoSum != 2e8 || got.Address.ChainStats.TxCount != 1 ||
		got.Address.MempoolStats.FundedTxoSum != 5e7 || len(got.AddressTxs) != 2 || got.AddressTxs[0].TxID != pooled.TxID ||
		len(got.AddressUtxo) != 2 {
		t.Fatalf("address read by mempool.js:\n%s", raw)
	}
	var pool []string
	n.mustCall(t, &pool, "getrawmempool")
	if got.Mempool.Count != len(pool) || !slices.Equal(got.MempoolTxids, pool) || len(got.MempoolRecent) != 1 ||
		got.MempoolRecent[0].TxID != pooled.TxID || len(got.MempoolBlocks) != 1 || got.MempoolBlocks[0].NTx != 1 {
		t.Fatalf("pool read by mempool.js, getrawmempool %v:\n%s", pool, raw)
	}
	f := got.FeesRecommended
	if f.MinimumFee <= 0 || f.EconomyFee < f.MinimumFee || f.HourFee < f.EconomyFee || f.HalfHourFee < f.HourFee || f.FastestFee < f.HalfHourFee {
		t.Fatalf("fees/recommended %+v", f)
	}
	var diff float64
	n.mustCall(t, &diff, "getdifficulty")
	if got.DifficultyAdjustment.NextRetargetHeight != height+1 || got.DifficultyAdjustment.RemainingBlocks != 1 ||
		got.Hashrate.CurrentDifficulty != diff || len(got.Hashrate.Hashrates) == 0 {
		t.Fatalf("difficulty read by mempool.js (getdifficulty %v):\n%s", diff, raw)
	}
	if got.Cpfp.EffectiveFeePerVsize <= 0 {
		t.Fatalf("cpfp %+v", got.Cpfp)
	}
}
