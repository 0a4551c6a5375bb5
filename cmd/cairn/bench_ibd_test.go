package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

var (
	ibdBlocks     = flag.Int("bench.ibdblocks", 2000, "blocks of the chain BenchmarkInitialSync syncs")
	ibdBlockBytes = flag.Int("bench.ibdblockbytes", 1_000_000, "serialized bytes of each of its blocks")
	ibdModes      = flag.String("bench.ibdmodes", "assumevalid,prune,full", "syncs BenchmarkInitialSync runs, comma-separated: full, assumevalid, prune")
)

// ibdSpec is the benchmark's network: regtest's rules at a fixed, trivial
// difficulty, with an hour's target spacing so that two weeks are 336
// blocks (assumevalid skips the scripts of blocks more than that below the
// best header), a coinbase maturity of 10, pruning from the first block
// (its blocks are full from the first; regtest waits for 1,000), and a
// genesis block early in 2026 so that 2,000 hourly blocks end in the past.
const ibdSpec = `{"name": "ibdbench", "base": "regtest", "difficulty": "fixed", "target_spacing": "1h",
	"pow_limit_bits": "0x207fffff", "coinbase_maturity": 10, "prune_after_height": 0,
	"genesis": {"time": 1767225600, "message": "Cairn initial sync benchmark"}}`

// ibdFunding is how many outputs each of the first blocks' coinbases pays,
// over ibdFundingBlocks blocks.
const (
	ibdFunding       = 2000
	ibdFundingBlocks = 10
)

// ibdCoin is a spendable output of the benchmark chain: P2WPKH, P2TR (key
// path) or 2-of-3 multisig P2WSH, of one of three keys.
type ibdCoin struct {
	op    wire.OutPoint
	value int64
	kind  int // 0 P2WPKH, 1 P2TR, 2 P2WSH 2-of-3
	key   int
}

// ibdScripts holds the keys and the output scripts of each kind.
type ibdScripts struct {
	keys     [3]*btcec.PrivateKey
	wpkh     [3][]byte
	tr       [3][]byte
	multisig []byte // the witness script
	wsh      []byte
}

func newIBDScripts() *ibdScripts {
	s := &ibdScripts{}
	var pubs [][]byte
	for i := range s.keys {
		s.keys[i], _ = btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("cairn ibd bench key " + strconv.Itoa(i))))
		s.wpkh[i] = chaintest.P2WPKHScript(s.keys[i])
		s.tr[i], _ = txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(s.keys[i].PubKey()))
		pubs = append(pubs, s.keys[i].PubKey().SerializeCompressed())
	}
	b := txscript.NewScriptBuilder().AddOp(txscript.OP_2)
	for _, p := range pubs {
		b.AddData(p)
	}
	s.multisig, _ = b.AddOp(txscript.OP_3).AddOp(txscript.OP_CHECKMULTISIG).Script()
	h := sha256.Sum256(s.multisig)
	s.wsh, _ = txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(h[:]).Script()
	return s
}

func (s *ibdScripts) script(kind, key int) []byte {
	switch kind {
	case 0:
		return s.wpkh[key]
	case 1:
		return s.tr[key]
	}
	return s.wsh
}

// sign fills the witnesses of tx, whose inputs spend coins.
func (s *ibdScripts) sign(tx *wire.MsgTx, coins []ibdCoin) error {
	prev := make(map[wire.OutPoint]*wire.TxOut, len(coins))
	for _, c := range coins {
		prev[c.op] = &wire.TxOut{Value: c.value, PkScript: s.script(c.kind, c.key)}
	}
	hashes := txscript.NewTxSigHashes(tx, txscript.NewMultiPrevOutFetcher(prev))
	for i, c := range coins {
		var err error
		switch c.kind {
		case 0:
			tx.TxIn[i].Witness, err = txscript.WitnessSignature(tx, hashes, i, c.value, s.wpkh[c.key], txscript.SigHashAll, s.keys[c.key], true)
		case 1:
			tx.TxIn[i].Witness, err = txscript.TaprootWitnessSignature(tx, hashes, i, c.value, s.tr[c.key], txscript.SigHashDefault, s.keys[c.key])
		default:
			var a, b []byte
			if a, err = txscript.RawTxInWitnessSignature(tx, hashes, i, c.value, s.multisig, txscript.SigHashAll, s.keys[0]); err == nil {
				b, err = txscript.RawTxInWitnessSignature(tx, hashes, i, c.value, s.multisig, txscript.SigHashAll, s.keys[1])
			}
			tx.TxIn[i].Witness = wire.TxWitness{nil, a, b, s.multisig}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ibdChain is the generated chain, serialized.
type ibdChain struct {
	net    *chainparams.Network
	raw    [][]byte
	bytes  int64 // with the genesis block
	inputs int
}

// genIBDChain generates (or reads from the cache in the temporary
// directory, as it is deterministic) n blocks of about size bytes each
// after the funding blocks: transactions of one to three inputs and two
// outputs of the three kinds, signed.
func genIBDChain(tb testing.TB, n, size int) *ibdChain {
	tb.Helper()
	net, err := chainparams.ParseSpec([]byte(ibdSpec))
	if err != nil {
		tb.Fatal(err)
	}
	out := &ibdChain{net: net, bytes: int64(net.Genesis.SerializeSize())}
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-ibd-bench-v2-%d-%d.bin", n, size))
	if f, err := os.Open(cache); err == nil {
		defer f.Close()
		r := bufio.NewReaderSize(f, 1<<20)
		var hdr [4]byte
		for {
			if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
				break
			} else if err != nil {
				tb.Fatal(err)
			}
			raw := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
			if _, err := io.ReadFull(r, raw); err != nil {
				tb.Fatal(err)
			}
			out.raw = append(out.raw, raw)
			out.bytes += int64(len(raw))
		}
		if blk, err := consensus.DecodeBlock(out.raw[0]); err == nil && blk.Header.PrevBlock == net.GenesisHash() &&
			len(out.raw) == n+ibdFundingBlocks+int(net.Consensus.CoinbaseMaturity) {
			tb.Logf("chain read from %s", cache)
			return out
		}
		out.raw, out.bytes = nil, int64(net.Genesis.SerializeSize())
	}
	start := time.Now()
	s := newIBDScripts()
	g := chaintest.New(net)
	g.TimeStep = time.Hour
	rng := rand.New(rand.NewPCG(1, 2))
	var coins []ibdCoin // spendable from the next block on
	var pending []ibdCoin
	add := func(blk *wire.MsgBlock) {
		raw := serializeBlockBytes(blk)
		out.raw = append(out.raw, raw)
		out.bytes += int64(len(raw))
	}
	for i := 0; i < ibdFundingBlocks; i++ {
		blk := g.NextBlock(fmt.Sprintf("f%d", i), nil, nil, func(b *wire.MsgBlock) {
			cb := b.Transactions[0]
			v := cb.TxOut[0].Value / ibdFunding
			cb.TxOut = cb.TxOut[:0]
			for j := 0; j < ibdFunding; j++ {
				kind, key := j%3, (j/3)%3
				cb.AddTxOut(&wire.TxOut{Value: v, PkScript: s.script(kind, key)})
			}
		})
		cb := blk.Transactions[0]
		for j, o := range cb.TxOut {
			coins = append(coins, ibdCoin{op: wire.OutPoint{Hash: cb.TxHash(), Index: uint32(j)}, value: o.Value, kind: j % 3, key: (j / 3) % 3})
		}
		add(blk)
	}
	for i := 0; i < int(net.Consensus.CoinbaseMaturity); i++ {
		add(g.NextBlock(fmt.Sprintf("m%d", i), nil, nil))
	}
	type signed struct {
		tx    *wire.MsgTx
		coins []ibdCoin
	}
	workers := runtime.GOMAXPROCS(0)
	var carry []*wire.MsgTx
	type maturingCoin struct {
		at   int
		coin ibdCoin
	}
	var maturing []maturingCoin
	for b := 0; b < n; b++ {
		txs := carry
		carry = nil
		total := 1000
		for _, tx := range txs {
			total += tx.SerializeSize()
		}
		for total < size {
			// A batch built in order (coins are taken as it goes), then
			// signed on every core.
			batch := make([]signed, 0, 256)
			for len(batch) < cap(batch) && len(coins) >= 3 {
				nIn := 1 + rng.IntN(3)
				tx := wire.NewMsgTx(2)
				var in []ibdCoin
				var sum int64
				for k := 0; k < nIn; k++ {
					j := rng.IntN(len(coins))
					c := coins[j]
					coins[j] = coins[len(coins)-1]
					coins = coins[:len(coins)-1]
					in = append(in, c)
					sum += c.value
					tx.AddTxIn(&wire.TxIn{PreviousOutPoint: c.op, Sequence: wire.MaxTxInSequenceNum})
				}
				fee := int64(200 + 150*nIn)
				if sum < fee+1000 {
					continue // dust: left unspent
				}
				// Two outputs, or one when splitting would leave small
				// coins: values then stay well above the fees.
				nOut := 2
				if sum-fee < 200_000 {
					nOut = 1
				}
				var outs []ibdCoin
				for k := 0; k < nOut; k++ {
					kind, key := rng.IntN(3), rng.IntN(3)
					v := (sum - fee) / int64(nOut)
					tx.AddTxOut(&wire.TxOut{Value: v, PkScript: s.script(kind, key)})
					outs = append(outs, ibdCoin{value: v, kind: kind, key: key})
				}
				txid := tx.TxHash() // the inputs' witnesses do not change it
				for k := range outs {
					outs[k].op = wire.OutPoint{Hash: txid, Index: uint32(k)}
				}
				pending = append(pending, outs...)
				batch = append(batch, signed{tx, in})
			}
			if len(batch) == 0 {
				tb.Fatalf("the benchmark chain ran out of coins at block %d", b)
			}
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for j := w; j < len(batch); j += workers {
						if err := s.sign(batch[j].tx, batch[j].coins); err != nil {
							errs <- err
							return
						}
					}
				}(w)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				tb.Fatal(err)
			}
			for _, st := range batch {
				if total < size {
					txs = append(txs, st.tx)
					total += st.tx.SerializeSize()
				} else {
					carry = append(carry, st.tx) // the next block's
				}
			}
		}
		// Each coinbase pays ibdFunding/10 coins of the three kinds, spent
		// once mature: new money that keeps the coins from running out.
		blk := g.NextBlock(fmt.Sprintf("b%d", b), nil, txs, func(blk *wire.MsgBlock) {
			cb := blk.Transactions[0]
			v := cb.TxOut[0].Value / (ibdFunding / 10)
			cb.TxOut = cb.TxOut[:0]
			for j := 0; j < ibdFunding/10; j++ {
				cb.AddTxOut(&wire.TxOut{Value: v, PkScript: s.script(j%3, (j/3)%3)})
			}
		})
		for _, tx := range txs {
			out.inputs += len(tx.TxIn)
		}
		add(blk)
		cb := blk.Transactions[0]
		for j, o := range cb.TxOut[:ibdFunding/10] { // then the witness commitment
			maturing = append(maturing, maturingCoin{at: b + int(net.Consensus.CoinbaseMaturity),
				coin: ibdCoin{op: wire.OutPoint{Hash: cb.TxHash(), Index: uint32(j)}, value: o.Value, kind: j % 3, key: (j / 3) % 3}})
		}
		for len(maturing) > 0 && maturing[0].at <= b {
			coins = append(coins, maturing[0].coin)
			maturing = maturing[1:]
		}
		// Outputs of the carried transactions stay pending until their
		// block; the rest can be spent from the next block on.
		carried := make(map[chainhash.Hash]bool, len(carry))
		for _, tx := range carry {
			carried[tx.TxHash()] = true
		}
		var still []ibdCoin
		for _, c := range pending {
			if carried[c.op.Hash] {
				still = append(still, c)
			} else {
				coins = append(coins, c)
			}
		}
		pending = still
		if b%100 == 99 {
			fmt.Fprintf(os.Stderr, "generated %d of %d blocks (%v)\n", b+1, n, time.Since(start).Round(time.Second))
		}
	}
	var buf bytes.Buffer
	for _, raw := range out.raw {
		var hdr [4]byte
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(raw)))
		buf.Write(hdr[:])
		buf.Write(raw)
	}
	if err := os.WriteFile(cache+".tmp", buf.Bytes(), 0o600); err == nil {
		_ = os.Rename(cache+".tmp", cache)
	}
	tb.Logf("generated %d blocks, %d bytes, %d inputs in %v", len(out.raw), out.bytes, out.inputs, time.Since(start).Round(time.Second))
	return out
}

func serializeBlockBytes(b *wire.MsgBlock) []byte {
	var buf bytes.Buffer
	buf.Grow(b.SerializeSize())
	_ = b.Serialize(&buf)
	return buf.Bytes()
}

// seedIBDPeer writes the chain into a node's data folder, as the node keeps
// it: the headers first, then the blocks, the scripts of all but the last
// two weeks assumed valid.
func seedIBDPeer(tb testing.TB, c *ibdChain, dir string) {
	tb.Helper()
	last, _ := consensus.DecodeBlock(c.raw[len(c.raw)-1])
	lastHash := last.BlockHash()
	netDir := filepath.Join(dir, c.net.Name)
	bc, err := chain.New(chain.Config{Dir: filepath.Join(netDir, "chain"), BlocksDir: filepath.Join(netDir, "blocks"),
		Network: c.net, AssumeValid: &lastHash, BlockFilterIndex: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer bc.Close()
	var headers []wire.BlockHeader
	for _, raw := range c.raw {
		var h wire.BlockHeader
		if err := h.Deserialize(bytes.NewReader(raw[:80])); err != nil {
			tb.Fatal(err)
		}
		headers = append(headers, h)
	}
	if _, err := bc.ProcessHeaders(headers); err != nil {
		tb.Fatal(err)
	}
	for i, raw := range c.raw {
		blk, err := consensus.DecodeBlock(raw)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := bc.ProcessBlock(blk); err != nil {
			tb.Fatalf("seed block %d: %v", i, err)
		}
	}
}

// dirSize returns the bytes of the regular files under dir.
func dirSize(dir string) int64 { return dirSizeMatch(dir, "*") }

// dirSizeMatch sums the sizes of the regular files under dir whose names
// match pattern (filepath.Match).
func dirSizeMatch(dir, pattern string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if ok, _ := filepath.Match(pattern, d.Name()); ok {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// procStats returns a process's CPU time and peak resident memory.
func procStats(pid int) (cpu time.Duration, peakRSS int64) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name (which may hold spaces).
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		if len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				peakRSS = kb << 10
			}
		}
	}
	return cpu, peakRSS
}

// BenchmarkInitialSync has a fresh `cairn node` process sync a realistic
// chain from two peers (`cairn node` processes holding it): -bench.ibdblocks
// (2,000) blocks of about -bench.ibdblockbytes (1 MB) of transactions with
// one to three inputs and two outputs, P2WPKH, P2TR key path and 2-of-3
// multisig P2WSH mixed. Each mode of -bench.ibdmodes is one sync: full (every
// script checked: --assumevalid 0), assumevalid (the chain's last block
// assumed valid: the scripts of all but the last two weeks, 336 blocks, are
// skipped) and prune (assumevalid with --prune 550). For each it reports
// blocks/s, CPU per block, the node's peak resident memory, and disk bytes
// per chain byte after the node stopped (block files, index and state);
// for prune, the most the block files and the whole data folder took while
// it synced, against the 550 MiB target.
func BenchmarkInitialSync(b *testing.B) {
	c := genIBDChain(b, *ibdBlocks, *ibdBlockBytes)
	n := len(c.raw)
	specPath := filepath.Join(b.TempDir(), "ibdbench.json")
	if err := os.WriteFile(specPath, []byte(ibdSpec), 0o600); err != nil {
		b.Fatal(err)
	}
	last, _ := consensus.DecodeBlock(c.raw[n-1])
	lastHash := last.BlockHash()
	seedStart := time.Now()
	peerA := b.TempDir()
	seedIBDPeer(b, c, peerA)
	peerB := b.TempDir()
	if err := os.CopyFS(peerB, os.DirFS(peerA)); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "chain: %d blocks, %.1f MB, %d inputs; peers seeded in %v\n", n, float64(c.bytes)/1e6, c.inputs,
		time.Since(seedStart).Round(time.Second))
	common := []string{"--chain-spec", specPath, "--rpc-user", "bench", "--rpc-password", "bench"}
	var peers []string
	for _, dir := range []string{peerA, peerB} {
		p := startNode(b, dir, nodeOpts{user: "bench", pass: "bench", args: append([]string{"--assumevalid", lastHash.String()}, common...)})
		var info struct {
			P2PAddresses []string `json:"p2paddresses"`
		}
		p.mustCall(b, &info, "getnetworkinfo")
		peers = append(peers, "--peer", info.P2PAddresses[0])
	}
	b.ResetTimer()
	utxoHash := ""
	for _, mode := range strings.Split(*ibdModes, ",") {
		args := append(append([]string{}, common...), peers...)
		switch mode {
		case "full":
			args = append(args, "--assumevalid", "0")
		case "assumevalid":
			args = append(args, "--assumevalid", lastHash.String())
		case "prune":
			args = append(args, "--assumevalid", lastHash.String(), "--prune", "550")
		default:
			b.Fatalf("unknown mode %q", mode)
		}
		dir := b.TempDir()
		start := time.Now()
		node := startNode(b, dir, nodeOpts{user: "bench", pass: "bench", args: args})
		netDir := filepath.Join(dir, c.net.Name)
		var maxBlocks, maxAll int64
		for {
			var height int
			node.mustCall(b, &height, "getblockcount")
			maxBlocks = max(maxBlocks, dirSize(filepath.Join(netDir, "blocks")))
			maxAll = max(maxAll, dirSize(netDir))
			if height >= n {
				break
			}
			if time.Since(start) > 2*time.Hour {
				b.Fatalf("%s: at height %d of %d after two hours", mode, height, n)
			}
			time.Sleep(250 * time.Millisecond)
		}
		elapsed := time.Since(start)
		cpu, rss := procStats(node.cmd.Process.Pid)
		var stats struct {
			Hash string `json:"hash_serialized_3"`
		}
		node.mustCall(b, &stats, "gettxoutsetinfo")
		node.stopRPC(b)
		disk := dirSize(netDir)
		blocksDir := filepath.Join(netDir, "blocks")
		undo := dirSizeMatch(blocksDir, "rev*.dat")
		db := disk - dirSize(blocksDir)
		if utxoHash != "" && stats.Hash != utxoHash {
			b.Errorf("%s: UTXO set %s, other modes %s", mode, stats.Hash, utxoHash)
		}
		utxoHash = stats.Hash
		// Also on stderr as it happens: the whole run takes most of an hour.
		fmt.Fprintf(os.Stderr, "%s: %d blocks in %v (%.2f blocks/s), CPU %.0f ms a block, peak RSS %d MiB, "+
			"disk %.3f bytes per chain byte (undo files %.3f, chain database %.3f), most block files %d MiB, "+
			"most data folder %d MiB, UTXO set %s\n",
			mode, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(cpu.Milliseconds())/float64(n),
			rss>>20, float64(disk)/float64(c.bytes), float64(undo)/float64(c.bytes), float64(db)/float64(c.bytes),
			maxBlocks>>20, maxAll>>20, stats.Hash)
		b.ReportMetric(float64(n)/elapsed.Seconds(), mode+"-blocks/s")
		b.ReportMetric(float64(cpu.Milliseconds())/float64(n), mode+"-cpu-ms/block")
		b.ReportMetric(float64(rss)/(1<<20), mode+"-peak-rss-MiB")
		b.ReportMetric(float64(disk)/float64(c.bytes), mode+"-disk/chain")
		if mode == "prune" {
			b.ReportMetric(float64(maxBlocks)/(1<<20), "prune-max-blockfiles-MiB")
			b.ReportMetric(float64(maxAll)/(1<<20), "prune-max-datadir-MiB")
			if maxBlocks > chain.MinPruneTarget {
				b.Errorf("pruned node's block files reached %d MiB, over the 550 MiB target", maxBlocks>>20)
			}
		}
	}
}
