package p2p

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// BenchmarkPropagation8 measures how long a block connected on one of 8
// nodes on loopback takes to reach the last of them. The nodes form a ring
// with two chords (every node has 2 to 3 peers, so blocks cross several
// hops), and the mesh settles before the clock starts. It reports the
// median and 99th percentile over 100 blocks (b.N is ignored: run it with
// -benchtime 1x).
func BenchmarkPropagation8(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	const blocks = 100
	for i := 0; i < blocks; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	nodes := make([]*testNode, 8)
	for i := range nodes {
		nodes[i] = newTestNode(b, ctx, net, now)
	}
	for i := range nodes {
		connect(b, ctx, nodes[i], nodes[(i+1)%len(nodes)])
	}
	connect(b, ctx, nodes[0], nodes[4])
	connect(b, ctx, nodes[2], nodes[6])
	waitFor(b, 20*time.Second, "handshakes", func() bool {
		for _, n := range nodes {
			if n.node.PeerCount() < 2 {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // let the gossip mesh form
	b.ResetTimer()
	var lat []time.Duration
	for i := 0; i < blocks; i++ {
		src := nodes[i%len(nodes)]
		block := g.Block("b" + itoa(i))
		start := time.Now()
		if _, err := src.chain.ProcessBlock(block); err != nil {
			b.Fatal(err)
		}
		for _, n := range nodes {
			waitForFast(b, 30*time.Second, tipIs(n, block.BlockHash()))
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkBlockRelay compares the two ways of announcing blocks: whole
// blocks, and compact blocks rebuilt from the receivers' pools. 8 nodes
// with pools on loopback form a ring with two chords; every pool holds the
// transactions of the blocks to come (as after transaction gossip), and
// each of 10 blocks of 1,000 one-input P2WPKH transactions (about 220 KB)
// is connected on one node in turn (transaction relay is off, so that
// only block relay is measured). It reports the median and the slowest
// time for a block to reach the last node, and the bytes all nodes sent
// per byte of block (b.N is ignored: run it with -benchtime 1x).
func BenchmarkBlockRelay(b *testing.B) {
	const rounds, perBlock = 10, 1000
	net := chainparams.Regtest()
	f := newTxFixture(b, net, rounds*perBlock)
	var blocks []*wire.MsgBlock
	for r := range rounds {
		blocks = append(blocks, f.g.NextBlock("r"+itoa(r), nil, f.spends[r*perBlock:(r+1)*perBlock]))
	}
	for _, mode := range []struct {
		name  string
		relay BlockRelay
	}{{"full", RelayFull}, {"compact", RelayCompact}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			nodes := make([]*poolNode, 8)
			for i := range nodes {
				nodes[i] = newPoolNode(b, ctx, net, f, func(c *Config) { c.BlockRelay, c.StatusInterval, c.BlocksOnly = mode.relay, time.Hour, true })
				for _, tx := range f.spends {
					if _, err := nodes[i].pool.ProcessTransaction(tx, false); err != nil {
						b.Fatal(err)
					}
				}
			}
			for i := range nodes {
				connectPools(b, ctx, nodes[i], nodes[(i+1)%len(nodes)])
			}
			connectPools(b, ctx, nodes[0], nodes[4])
			connectPools(b, ctx, nodes[2], nodes[6])
			for i := range nodes {
				waitMeshed(b, nodes[i].node, nodes[(i+1)%len(nodes)].node)
			}
			sent := func() (total int64) {
				time.Sleep(2 * time.Second) // the counters' totals update each second
				for _, n := range nodes {
					total += n.node.bandwidth.GetBandwidthTotals().TotalOut
				}
				return total
			}
			sentBefore := sent()
			b.ResetTimer()
			var lat []time.Duration
			for r, block := range blocks {
				src := nodes[r%len(nodes)]
				if _, err := src.chain.ProcessBlock(block); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for _, n := range nodes {
					waitForFast(b, 30*time.Second, func() bool { return n.chain.BestSnapshot().Hash == block.BlockHash() })
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			var fetched int64
			for _, n := range nodes {
				fetched += n.node.compactStats.fetched.Load()
			}
			b.ReportMetric(float64(fetched), "txs-fetched")
			// Bytes all nodes sent per block, over the block's own size.
			var size int
			for _, block := range blocks {
				size += block.SerializeSize()
			}
			b.ReportMetric(float64(sent()-sentBefore)/float64(size), "bytes/blocksize")
		})
	}
}

// BenchmarkInitialSync10k measures how fast a fresh node downloads and
// connects 10,000 blocks from one peer, in blocks/s (b.N is ignored: run
// it with -benchtime 1x).
func BenchmarkInitialSync10k(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	const blocks = 10000
	for i := 0; i < blocks; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	seed := newTestNode(b, ctx, net, now)
	for i := 0; i < blocks; i++ {
		if _, err := seed.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	fresh := newTestNode(b, ctx, net, now)
	b.ResetTimer()
	start := time.Now()
	connect(b, ctx, fresh, seed)
	waitForFast(b, 10*time.Minute, tipIs(fresh, g.Tip().BlockHash()))
	b.StopTimer()
	b.ReportMetric(blocks/time.Since(start).Seconds(), "blocks/s")
}

// waitForFast polls cond every 100µs, for latency measurements.
func waitForFast(tb testing.TB, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("timed out")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
