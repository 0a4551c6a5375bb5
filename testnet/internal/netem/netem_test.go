package netem

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestLaneLatencyAndJitter(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	l := &lane{link: Link{Latency: 50 * time.Millisecond}}
	if at, ok := l.schedule(t0, 1500, rnd); !ok || at.Sub(t0) != 50*time.Millisecond {
		t.Fatalf("latency alone: released after %v (%v), want 50ms", at.Sub(t0), ok)
	}
	// Jitter spreads delays over latency ± jitter, never out of order.
	l = &lane{link: Link{Latency: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}}
	var prev time.Time
	lo, hi := time.Hour, time.Duration(0)
	var sum time.Duration
	now := t0
	for i := 0; i < 2000; i++ {
		// Packets 1 ms apart, then 100 ms apart, where order does not
		// bind.
		gap := time.Millisecond
		if i >= 1000 {
			gap = 100 * time.Millisecond
		}
		now = now.Add(gap)
		at, ok := l.schedule(now, 100, rnd)
		if !ok {
			t.Fatal("dropped without loss")
		}
		if at.Before(prev) {
			t.Fatalf("packet %d released at %v, before the one ahead of it (%v)", i, at, prev)
		}
		prev = at
		d := at.Sub(now)
		if d > 70*time.Millisecond+time.Millisecond {
			t.Fatalf("delay %v over latency + jitter", d)
		}
		if i >= 1000 {
			lo, hi = min(lo, d), max(hi, d)
			sum += d
		}
	}
	if lo > 32*time.Millisecond || hi < 68*time.Millisecond {
		t.Fatalf("delays %v to %v: want them spread over 30ms to 70ms", lo, hi)
	}
	if mean := sum / 1000; mean < 48*time.Millisecond || mean > 52*time.Millisecond {
		t.Fatalf("mean delay %v, want 50ms", mean)
	}
}

func TestLaneLoss(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	l := &lane{link: Link{Loss: 0.05}}
	const n = 20000
	lost := 0
	for i := 0; i < n; i++ {
		if _, ok := l.schedule(t0, 100, rnd); !ok {
			lost++
		}
	}
	// Binomial: 1000 expected, sd about 31.
	if math.Abs(float64(lost)-0.05*n) > 5*math.Sqrt(0.05*0.95*n) {
		t.Fatalf("%d of %d lost, want about %d", lost, n, int(0.05*n))
	}
}

func TestLaneRate(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	// 8 Mbit/s: 1000 bytes take 1 ms to send.
	l := &lane{link: Link{Rate: 8_000_000, Latency: 10 * time.Millisecond}}
	for i := 1; i <= 10; i++ {
		at, ok := l.schedule(t0, 1000, rnd)
		if !ok {
			t.Fatal("dropped")
		}
		if want := 10*time.Millisecond + time.Duration(i)*time.Millisecond; at.Sub(t0) != want {
			t.Fatalf("packet %d sent together released after %v, want %v (queued behind the others)", i, at.Sub(t0), want)
		}
	}
	// A second's backlog is the most a link queues: past it, drops.
	l = &lane{link: Link{Rate: 8_000_000}}
	sent := 0
	for i := 0; i < 3000; i++ {
		if _, ok := l.schedule(t0, 1000, rnd); ok {
			sent++
		}
	}
	if sent < 1000 || sent > 1002 {
		t.Fatalf("%d packets of 1 ms each queued at once; want a second's worth (about 1000)", sent)
	}
}

func TestRouterCutAndReplan(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	r := newRouter(1)
	r.setLinks(map[netip.Addr]Link{a: {Latency: time.Millisecond, Rate: 8000}})
	if _, ok := r.route(t0, b, 100); ok {
		t.Fatal("a packet to a host with no link passed")
	}
	if _, ok := r.route(t0, a, 1000); !ok {
		t.Fatal("a packet on a link was dropped")
	}
	busy := r.lanes[a].busyUntil
	// A new plan keeps the state of links it keeps.
	r.setLinks(map[netip.Addr]Link{a: {Latency: 2 * time.Millisecond, Rate: 8000}, b: {}})
	if r.lanes[a].busyUntil != busy || r.lanes[a].link.Latency != 2*time.Millisecond {
		t.Fatal("replanning lost the link's queue or kept its old settings")
	}
	if _, ok := r.route(t0, b, 100); !ok {
		t.Fatal("a new link drops")
	}
	r.setLinks(nil)
	if _, ok := r.route(t0, a, 100); ok {
		t.Fatal("a cut link passes")
	}
}

func TestPacketDst(t *testing.T) {
	p := make([]byte, 40)
	p[0] = 0x45
	copy(p[16:], []byte{10, 213, 7, 9})
	if dst, ok := packetDst(p); !ok || dst != netip.MustParseAddr("10.213.7.9") {
		t.Fatalf("dst %v %v", dst, ok)
	}
	p[0] = 0x60
	if _, ok := packetDst(p); ok {
		t.Fatal("IPv6 read as IPv4")
	}
	if _, ok := packetDst(p[:10]); ok {
		t.Fatal("a short packet read")
	}
}
