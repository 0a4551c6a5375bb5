package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// TestE2EExternalMiner ensures external mining software can mine on a
// node: it takes getblocktemplate's work, builds its own coinbase (BIP34
// height, witness commitment, the template's coinbase value), solves the
// header and submits the block with submitblock, which becomes the tip.
func TestE2EExternalMiner(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), nodeOpts{})
	addr := testAddress(t)
	n.mustCall(t, nil, "generatetoaddress", 3, addr.String())

	var tmpl struct {
		Version           int32  `json:"version"`
		PreviousBlockHash string `json:"previousblockhash"`
		Transactions      []struct {
			Data string `json:"data"`
		} `json:"transactions"`
		CoinbaseValue            int64  `json:"coinbasevalue"`
		Target                   string `json:"target"`
		CurTime                  int64  `json:"curtime"`
		Bits                     string `json:"bits"`
		Height                   int32  `json:"height"`
		DefaultWitnessCommitment string `json:"default_witness_commitment"`
	}
	n.mustCall(t, &tmpl, "getblocktemplate", map[string]any{"rules": []string{"segwit"}})
	if tmpl.Height != 4 || tmpl.CoinbaseValue != 50*consensus.CoinValue || len(tmpl.Transactions) != 0 {
		t.Fatalf("template: %+v", tmpl)
	}

	payTo, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := txscript.NewScriptBuilder().AddOps(consensus.CoinbaseHeightPrefix(tmpl.Height)).
		AddData([]byte("external miner")).Script()
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}, SignatureScript: sig,
		Sequence: wire.MaxTxInSequenceNum, Witness: wire.TxWitness{make([]byte, 32)}})
	cb.AddTxOut(&wire.TxOut{Value: tmpl.CoinbaseValue, PkScript: payTo})
	commitment, err := hex.DecodeString(tmpl.DefaultWitnessCommitment)
	if err != nil || len(commitment) == 0 {
		t.Fatalf("default_witness_commitment %q: %v", tmpl.DefaultWitnessCommitment, err)
	}
	cb.AddTxOut(&wire.TxOut{Value: 0, PkScript: commitment})

	prev, err := chainhash.NewHashFromStr(tmpl.PreviousBlockHash)
	if err != nil {
		t.Fatal(err)
	}
	bits, err := strconv.ParseUint(tmpl.Bits, 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	block := &wire.MsgBlock{
		Header: wire.BlockHeader{Version: tmpl.Version, PrevBlock: *prev,
			Timestamp: time.Unix(tmpl.CurTime, 0), Bits: uint32(bits)},
		Transactions: []*wire.MsgTx{cb},
	}
	root, _ := consensus.CalcMerkleRoot(consensus.TxHashes(block))
	block.Header.MerkleRoot = root
	target, ok := new(big.Int).SetString(tmpl.Target, 16)
	if !ok {
		t.Fatalf("target %q", tmpl.Target)
	}
	for {
		h := block.BlockHash()
		if consensus.HashToBig(&h).Cmp(target) <= 0 {
			break
		}
		block.Header.Nonce++
	}
	var buf bytes.Buffer
	if err := block.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	var result any = "unset"
	n.mustCall(t, &result, "submitblock", hex.EncodeToString(buf.Bytes()))
	if result != nil {
		t.Fatalf("submitblock: %v", result)
	}
	var best string
	n.mustCall(t, &best, "getbestblockhash")
	if best != block.BlockHash().String() {
		t.Fatalf("tip %s, want the submitted block %s", best, block.BlockHash())
	}
	var info struct {
		Blocks       int32    `json:"blocks"`
		HashesPerSec *float64 `json:"hashespersec"`
	}
	n.mustCall(t, &info, "getmininginfo")
	if info.Blocks != 4 || info.HashesPerSec == nil {
		t.Fatalf("getmininginfo: %+v", info)
	}
}

// TestE2EMineBenchmark ensures `cairn mine --benchmark --json` ends with an
// object carrying threads and a positive hashes_per_sec, and that bad
// arguments fail with a clear message.
func TestE2EMineBenchmark(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := runCairn(t, nil, "mine", "--benchmark", "--threads", "2", "--duration", "300ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := bytes.Split(bytes.TrimSpace([]byte(stdout)), []byte("\n"))
	var r struct {
		Threads      int     `json:"threads"`
		HashesPerSec float64 `json:"hashes_per_sec"`
	}
	if err := json.Unmarshal(lines[len(lines)-1], &r); err != nil || r.Threads != 2 || r.HashesPerSec <= 0 {
		t.Fatalf("last line %q: %+v (%v)", lines[len(lines)-1], r, err)
	}
	if _, stderr, code := runCairn(t, nil, "mine", "--threads", "2"); code == 0 || !bytes.Contains([]byte(stderr), []byte("--benchmark")) {
		t.Fatalf("without --benchmark: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runCairn(t, nil, "mine", "--benchmark", "--threads", "0"); code == 0 || !bytes.Contains([]byte(stderr), []byte("--threads")) {
		t.Fatalf("--threads 0: exit %d, %q", code, stderr)
	}
}
