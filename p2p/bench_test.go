package p2p

import (
	"context"
	"sort"
	"testing"
	"time"

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
