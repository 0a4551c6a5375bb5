package testnet

import (
	"math"
	"testing"
	"time"
)

func TestStaleModel(t *testing.T) {
	// Bitcoin in Gervais et al.: 8.7 s over 10 min, τ/T = 0.0145.
	if r := Gervais[0].Ratio(); math.Abs(r-0.0145) > 1e-9 {
		t.Fatalf("Bitcoin τ/T %v", r)
	}
	if m := staleModel(0.0145); math.Abs(m-0.014395) > 1e-5 {
		t.Fatalf("model at 0.0145: %v", m)
	}
	// 15% over 100 blocks: σ 3.57%, three of them plus 3.75%.
	if tol := staleTolerance(0.15, 100); math.Abs(tol-(3*math.Sqrt(0.15*0.85/100)+0.0375)) > 1e-12 {
		t.Fatalf("tolerance %v", tol)
	}
}

func TestTipWatchDelays(t *testing.T) {
	tw := &tipWatch{seen: make(map[string]map[int]time.Time), height: make(map[string]int32)}
	t0 := time.Now()
	tw.record(3, "b", 7, t0)
	tw.record(0, "b", 7, t0.Add(40*time.Millisecond))
	tw.record(1, "b", 7, t0.Add(10*time.Millisecond))
	// A node's first sight counts; a later event for the same tip does not.
	tw.record(1, "b", 7, t0.Add(900*time.Millisecond))
	d := tw.delays("b")
	if len(d) != 2 || d[0] != 10*time.Millisecond || d[1] != 40*time.Millisecond {
		t.Fatalf("delays %v", d)
	}
	if tw.delays("unknown") != nil {
		t.Fatal("delays of an unseen block")
	}
	if p := percentile([]time.Duration{1, 2, 3, 4, 5}, 0.5); p != 3 {
		t.Fatalf("median %v", p)
	}
}
