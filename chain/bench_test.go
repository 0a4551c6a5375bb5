package chain

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

var (
	benchBlocks   = flag.Int("bench.blocks", 2000, "blocks of transactions in BenchmarkConnectP2WPKH")
	benchTxs      = flag.Int("bench.txs", 200, "P2WPKH transactions per block in BenchmarkConnectP2WPKH")
	benchCacheMiB = flag.Int("bench.dbcache", 450, "UTXO cache size in MiB for BenchmarkConnectP2WPKH")
)

// p2wpkhChain is a generated regtest chain: maturity blocks whose coinbases
// each pay txs P2WPKH outputs, then blocks of txs one-input P2WPKH spends.
// Blocks are kept serialized, as a node receives them: holding 400,000
// decoded transactions would make the garbage collector of the benchmark
// process, not the chain, the bottleneck.
type p2wpkhChain struct {
	raw      [][]byte
	txs      int
	lastTime time.Time
}

var (
	benchChainOnce sync.Once
	benchChain     *p2wpkhChain
)

// genP2WPKHChain generates the benchmark chain once per process.
func genP2WPKHChain(tb testing.TB, nBlocks, txsPerBlock int) *p2wpkhChain {
	tb.Helper()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	key, _ := btcec.PrivKeyFromBytes(chainhash.DoubleHashB([]byte("cairn bench key")))
	pk := chaintest.P2WPKHScript(key)
	maturity := int(net.Consensus.CoinbaseMaturity)
	total := nBlocks + maturity
	out := &p2wpkhChain{}
	splitCoinbase := func(b *wire.MsgBlock) {
		cb := b.Transactions[0]
		v := cb.TxOut[0].Value / int64(txsPerBlock)
		cb.TxOut = cb.TxOut[:0]
		for i := 0; i < txsPerBlock; i++ {
			cb.AddTxOut(&wire.TxOut{Value: v, PkScript: pk})
		}
	}
	// Sign in parallel: generation is setup, not what is measured.
	for i := 0; i < total; i++ {
		var txs []*wire.MsgTx
		if i >= maturity {
			fund := g.Block(itoa(i - maturity))
			cb := fund.Transactions[0]
			cbHash := cb.TxHash()
			txs = make([]*wire.MsgTx, txsPerBlock)
			var wg sync.WaitGroup
			var signErr error
			var mu sync.Mutex
			workers := runtime.GOMAXPROCS(0)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for j := w; j < txsPerBlock; j += workers {
						o := chaintest.SpendableOut{
							OutPoint: wire.OutPoint{Hash: cbHash, Index: uint32(j)},
							Amount:   cb.TxOut[j].Value, PkScript: pk, Key: key,
						}
						tx, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{o}, []int64{o.Amount - 500}, pk)
						if err != nil {
							mu.Lock()
							signErr = err
							mu.Unlock()
							return
						}
						txs[j] = tx
					}
				}(w)
			}
			wg.Wait()
			if signErr != nil {
				tb.Fatal(signErr)
			}
		}
		blk := g.NextBlock(itoa(i), nil, txs, splitCoinbase)
		out.raw = append(out.raw, serializeBlock(blk))
		out.txs += len(txs)
		out.lastTime = blk.Header.Timestamp
	}
	return out
}

// BenchmarkConnectP2WPKH decodes and connects a generated chain of
// -bench.blocks blocks of -bench.txs P2WPKH transactions each into a fresh
// chain, scripts verified, and reports blocks/s and tx/s of connecting,
// tx/s+flush counting the final write of the whole UTXO cache too (a
// running node flushes only when the cache fills or every few minutes), the
// UTXO cache hit rate, one core's signature verifications per second
// measured in the same run, and ratio = tx/s / (cores x sigs/s/core), whose
// target is at least 0.8 (ratio+flush likewise with the final flush).
// It runs without and with the address index (--addrindex), whose cost is
// the difference in tx/s and in disk bytes per chain byte.
func BenchmarkConnectP2WPKH(b *testing.B) {
	benchChainOnce.Do(func() { benchChain = genP2WPKHChain(b, *benchBlocks, *benchTxs) })
	for _, addr := range []bool{false, true} {
		b.Run(fmt.Sprintf("addrindex=%v", addr), func(b *testing.B) { benchConnect(b, benchChain, addr) })
	}
}

func benchConnect(b *testing.B, c *p2wpkhChain, addrIndex bool) {
	sigRate := chaintest.SigVerifyRate(1)
	cores := runtime.GOMAXPROCS(0)
	var chainBytes int64
	for _, raw := range c.raw {
		chainBytes += int64(len(raw))
	}
	b.ResetTimer()
	var connectTime, flushTime time.Duration
	var hitRate float64
	var disk int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		net := chainparams.Regtest()
		chain, err := New(Config{Dir: dir, Network: net, CacheBytes: int64(*benchCacheMiB) << 20, AddrIndex: addrIndex,
			Now: func() time.Time { return c.lastTime }})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for _, raw := range c.raw {
			blk, err := consensus.DecodeBlock(raw)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := chain.ProcessBlock(blk); err != nil {
				b.Fatal(err)
			}
		}
		connectTime += time.Since(start)
		flushStart := time.Now()
		if err := chain.Flush(); err != nil {
			b.Fatal(err)
		}
		flushTime += time.Since(flushStart)
		b.StopTimer()
		hitRate = chain.UtxoCacheStats().HitRate()
		if got := chain.ScriptStats().InputsChecked; got != uint64(c.txs) {
			b.Fatalf("checked %d inputs, want %d", got, c.txs)
		}
		disk = chain.DiskSize()
		chain.Close()
	}
	n := float64(b.N)
	secs, flushSecs := connectTime.Seconds()/n, flushTime.Seconds()/n
	txRate := float64(c.txs) / secs
	txRateFlushed := float64(c.txs) / (secs + flushSecs)
	capacity := float64(cores) * sigRate
	b.ReportMetric(float64(len(c.raw))/secs, "blocks/s")
	b.ReportMetric(txRate, "tx/s")
	b.ReportMetric(txRateFlushed, "tx/s+flush")
	b.ReportMetric(sigRate, "sigs/s/core")
	b.ReportMetric(txRate/capacity, "ratio")
	b.ReportMetric(txRateFlushed/capacity, "ratio+flush")
	b.ReportMetric(hitRate*100, "hit%")
	b.ReportMetric(flushSecs, "flush-s")
	b.ReportMetric(float64(disk)/float64(chainBytes), "disk/chain")
}

var benchLongBlocks = flag.Int("bench.longblocks", 100_000, "blocks in BenchmarkLongChain")

// BenchmarkLongChain connects -bench.longblocks (100,000) small blocks (a
// coinbase and, from height 101 on, one spend of the coinbase 100 blocks
// back) into a fresh chain, then closes and reopens it, to show what grows
// with the length of history: it reports the connect rate over the first
// and the last tenth of the chain (flat if nothing per block grows), the
// start-up time and the heap after start-up at the full length (the block
// index is loaded whole, as Core loads it; goleveldb replays at most one
// write buffer of journal), and the disk bytes per chain byte.
func BenchmarkLongChain(b *testing.B) {
	n := *benchLongBlocks
	net := chainparams.Regtest()
	g := chaintest.New(net)
	g.TimeStep = time.Second
	raws := make([][]byte, 0, n)
	var chainBytes int64
	for i := 0; i < n; i++ {
		var spend *chaintest.SpendableOut
		if i >= 100 {
			out := g.CoinbaseOut(itoa(i - 100))
			spend = &out
		}
		blk := g.NextBlock(itoa(i), spend, nil)
		raw := serializeBlock(blk)
		raws = append(raws, raw)
		chainBytes += int64(len(raw))
	}
	end := g.Now()
	now := func() time.Time { return end }
	b.ResetTimer()
	var first, last, startup time.Duration
	var heap int64
	var disk int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		c, err := New(Config{Dir: dir, Network: net, Now: now})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		tenth := n / 10
		for j, raw := range raws {
			start := time.Now()
			blk, err := consensus.DecodeBlock(raw)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.ProcessBlock(blk); err != nil {
				b.Fatalf("block %d: %v", j, err)
			}
			switch {
			case j < tenth:
				first += time.Since(start)
			case j >= n-tenth:
				last += time.Since(start)
			}
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		before := chaintest.LiveHeap()
		start := time.Now()
		c, err = New(Config{Dir: dir, Network: net, Now: now})
		if err != nil {
			b.Fatal(err)
		}
		startup += time.Since(start)
		heap = chaintest.LiveHeap() - before
		if c.BestSnapshot().Height != int32(n) {
			b.Fatalf("reopened at height %d, want %d", c.BestSnapshot().Height, n)
		}
		disk = c.DiskSize()
		c.Close()
	}
	runs := float64(b.N)
	tenth := float64(n / 10)
	b.ReportMetric(tenth*runs/first.Seconds(), "blocks/s-first10%")
	b.ReportMetric(tenth*runs/last.Seconds(), "blocks/s-last10%")
	b.ReportMetric(startup.Seconds()*1000/runs, "startup-ms")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(disk)/float64(chainBytes), "disk/chain")
}

// BenchmarkAddrHistory reads the history and the unspent outputs of a
// script with 10,000 confirmed transactions (100 blocks of 100 payments)
// from the address index, each read in a view of its own as a server would
// take it, and reports p50 and p99 latency (goal p99 <= 10 ms).
func BenchmarkAddrHistory(b *testing.B) {
	net := chainparams.Regtest()
	net.Consensus.CoinbaseMaturity = 1
	g := chaintest.New(net)
	c, err := New(Config{Dir: b.TempDir(), Network: net, AddrIndex: true, Now: g.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	target := chaintest.P2WSHScript([]byte{txscript.OP_TRUE})
	const perBlock = 100
	split := func(blk *wire.MsgBlock) {
		cb := blk.Transactions[0]
		v := cb.TxOut[0].Value / perBlock
		cb.TxOut = cb.TxOut[:0]
		for i := 0; i < perBlock; i++ {
			cb.AddTxOut(&wire.TxOut{Value: v, PkScript: chaintest.OpTrueScript})
		}
	}
	prev := g.NextBlock("b0", nil, nil, split)
	process := func(blk *wire.MsgBlock) {
		if _, err := c.ProcessBlock(blk); err != nil {
			b.Fatal(err)
		}
	}
	process(prev)
	for i := 1; i <= 100; i++ {
		var txs []*wire.MsgTx
		for _, o := range chaintest.TxOuts(prev.Transactions[0]) {
			txs = append(txs, chaintest.CreateTx([]chaintest.SpendableOut{o}, []int64{o.Amount}, target))
		}
		prev = g.NextBlock(fmt.Sprintf("b%d", i), nil, txs, split)
		process(prev)
	}
	if err := c.Flush(); err != nil {
		b.Fatal(err)
	}
	sh := HashScript(target)
	measure := func(read func(v *AddrView) (int, error)) (p50, p99 time.Duration) {
		// 100 reads warm the caches (and let goleveldb finish the
		// compactions the chain's writes started), 300 are measured.
		const warm, n = 100, 300
		times := make([]time.Duration, 0, warm+n)
		for i := 0; i < warm+n; i++ {
			start := time.Now()
			v, err := c.AddrIndexView()
			if err != nil {
				b.Fatal(err)
			}
			got, err := read(v)
			v.Release()
			times = append(times, time.Since(start))
			if err != nil || got != 100*perBlock {
				b.Fatalf("read %d entries, %v", got, err)
			}
		}
		times = times[warm:]
		slices.Sort(times)
		return times[n/2], times[n*99/100]
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h50, h99 := measure(func(v *AddrView) (int, error) { h, err := v.History(sh, 0); return len(h), err })
		u50, u99 := measure(func(v *AddrView) (int, error) { u, err := v.Unspent(sh, 0); return len(u), err })
		b.ReportMetric(float64(h50.Microseconds())/1000, "history-p50-ms")
		b.ReportMetric(float64(h99.Microseconds())/1000, "history-p99-ms")
		b.ReportMetric(float64(u50.Microseconds())/1000, "unspent-p50-ms")
		b.ReportMetric(float64(u99.Microseconds())/1000, "unspent-p99-ms")
	}
}
