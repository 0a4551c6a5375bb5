package p2p

import (
	"testing"
	"time"
)

// BenchmarkHostilePeers runs the attacks of the hostile-peer tests at the
// sizes README's "Security model" records, against a real node on
// loopback, and reports what each cost the victim:
//
//   - LowWorkHeaders1M: 1,000,000 headers at regtest's pow limit below the
//     minimum chain work, presynced: the victim's heap and disk growth
//     (goal ≤ 16 MB, ≤ 1 MB), the time per header, the chain tips after.
//   - SideBlocks100x1MB: 100 valid blocks of 1 MB with less work than the
//     tip, gossiped unasked by an attacker that takes a new identity
//     whenever it is banned: how many were stored and forwarded (goal 0),
//     the heap and disk growth, and the identities banned.
//   - OrphanFlood4MB: 16 blocks of 4 MB with unknown parents, nearly all
//     empty witness items (each decodes to some 96 MB): the heap kept
//     (goal ≤ 64 MB) and the largest heap sampled during the flood.
//   - BlockRequests: one peer asking for 16 stored blocks of 1 MB, four
//     requests at once, for 5 s at the default serving limit: bytes out
//     per byte of request, CPU per byte out, and the rate served.
//
// The heap is the process's (victim and attacker together), measured
// after a collection with the attack's own data allocated before the
// first measurement; the attacker is closed before the last.
func BenchmarkHostilePeers(b *testing.B) {
	b.Run("LowWorkHeaders1M", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := attackLowWorkHeaders(b, 1_000_000)
			if !r.presyncDone {
				b.Fatalf("the victim asked for %d headers", r.served)
			}
			b.ReportMetric(float64(r.heap)/1e6, "heap-MB")
			b.ReportMetric(float64(r.disk)/1e6, "disk-MB")
			b.ReportMetric(float64(r.elapsed.Nanoseconds())/float64(r.served), "ns/header")
			b.ReportMetric(float64(r.tips), "tips")
		}
	})
	b.Run("SideBlocks100x1MB", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := attackSideBlocks(b, 100, 990_000)
			b.ReportMetric(float64(r.stored), "stored")
			b.ReportMetric(float64(r.forwarded), "forwarded")
			b.ReportMetric(float64(r.heap)/1e6, "heap-MB")
			b.ReportMetric(float64(r.disk)/1e6, "disk-MB")
			b.ReportMetric(float64(r.bans), "bans")
		}
	})
	b.Run("OrphanFlood4MB", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := attackOrphanFlood(b, 16, 3_990_000)
			b.ReportMetric(float64(r.heap)/1e6, "heap-MB")
			b.ReportMetric(float64(r.peak)/1e6, "peak-heap-MB")
			b.ReportMetric(float64(r.pool)/1e6, "pool-MB")
			b.ReportMetric(float64(r.sent)/1e6, "sent-MB")
		}
	})
	b.Run("BlockRequests", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r, _ := attackBlockRequests(b, 990_000, 5*time.Second)
			b.ReportMetric(float64(r.served)/float64(r.requestBytes), "bytes-out/request-byte")
			b.ReportMetric(float64(r.cpu.Nanoseconds())/float64(r.served), "cpu-ns/byte-out")
			b.ReportMetric(float64(r.served)/r.elapsed.Seconds()/1e6, "MB/s")
		}
	})
}
