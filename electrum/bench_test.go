package electrum

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chaintest"
)

// BenchmarkElectrumHistory answers blockchain.scripthash.get_history and
// listunspent over TCP for a script with 10,000 confirmed transactions
// (100 blocks of 100 payments), 300 times each after 100 to warm up, and
// reports p50 and p99
// latency as a client sees them (goal p99 <= 10 ms); then subscribes one
// session to 20,000 scripts and reports the server's heap per
// subscription.
func BenchmarkElectrumHistory(b *testing.B) {
	// One client asks for everything again and again: lift its budget,
	// which would rightly throttle it after a few large answers.
	// 10,000 unspent outputs take 1.1 MB of JSON: answers up to 8.1 MB
	// (ElectrumX's current default; Electrum 4.3 itself reads at most 1 MB).
	n := newTestNode(b, func(c *Config) {
		c.CostSoftLimit, c.CostHardLimit = 1e12, 2e12
		c.MaxSendBytes = 8_100_000
	})
	target := chaintest.P2WSHScript([]byte{txscript.OP_TRUE})
	err := n.g.PaymentBlocks("b", 100, 100, target, func(blk *wire.MsgBlock) error {
		_, err := n.chain.ProcessBlock(blk)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := n.chain.Flush(); err != nil {
		b.Fatal(err)
	}
	sh := scriptHashHex(target)
	c := dial(b, n.addr)
	measure := func(method string) (p50, p99 time.Duration) {
		// 100 calls warm the caches (and let goleveldb finish the
		// compactions the chain's writes started), 300 are measured.
		const warm, calls = 100, 300
		times := make([]time.Duration, 0, warm+calls)
		req := []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"%s","params":["%s"]}`+"\n", method, sh))
		for i := 0; i < warm+calls; i++ {
			// Until the whole answer is read; decoding it is the
			// client's work, not the server's.
			start := time.Now()
			if _, err := c.conn.Write(req); err != nil {
				b.Fatal(err)
			}
			line, err := c.r.ReadSlice('\n')
			times = append(times, time.Since(start))
			if err != nil || len(line) < 10_000*50 || !bytes.HasPrefix(line, []byte(`{"jsonrpc":"2.0","id":1,"result":[`)) {
				b.Fatalf("%s: %d bytes %.100s, %v", method, len(line), line, err)
			}
		}
		if os.Getenv("CAIRN_BENCH_DEBUG") != "" {
			for i, d := range times {
				if d > 8*time.Millisecond {
					fmt.Fprintf(os.Stderr, "%s call %d: %v\n", method, i, d)
				}
			}
		}
		times = times[warm:]
		slices.Sort(times)
		return times[calls/2], times[calls*99/100]
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h50, h99 := measure("blockchain.scripthash.get_history")
		u50, u99 := measure("blockchain.scripthash.listunspent")
		b.ReportMetric(float64(h50.Microseconds())/1000, "get_history-p50-ms")
		b.ReportMetric(float64(h99.Microseconds())/1000, "get_history-p99-ms")
		b.ReportMetric(float64(u50.Microseconds())/1000, "listunspent-p50-ms")
		b.ReportMetric(float64(u99.Microseconds())/1000, "listunspent-p99-ms")
	}
	b.StopTimer()

	// Memory per subscription: one session subscribes to 20,000 scripts
	// without history (what a wallet's unused addresses are).
	const subs = 20_000
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	s := dial(b, n.addr)
	for i := 0; i < subs; i++ {
		if _, rerr := s.call("blockchain.scripthash.subscribe", scriptHashHex([]byte(fmt.Sprint(i)))); rerr != nil {
			b.Fatal(rerr)
		}
	}
	if got := n.srv.SubscriptionCount(); got != subs {
		b.Fatalf("%d subscriptions", got)
	}
	b.ReportMetric(float64(heap()-before)/subs, "heap-B/subscription")
}
