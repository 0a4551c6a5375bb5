package testnet

import (
	"math"
	"math/rand/v2"
	"slices"
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

// TestSelfishModel checks R(α, γ) against what the paper states and the
// spread the verdict uses against the state machine's own.
func TestSelfishModel(t *testing.T) {
	// At γ = 0 selfish mining pays from α = 1/3; at γ = 1/2 from 1/4.
	for _, c := range []struct{ a, g float64 }{{1.0 / 3, 0}, {0.25, 0.5}} {
		if th := selfishThreshold(c.g); math.Abs(th-c.a) > 1e-12 {
			t.Fatalf("threshold at γ %v: %v", c.g, th)
		}
		if r := selfishRevenue(c.a, c.g); math.Abs(r-c.a) > 1e-12 {
			t.Fatalf("R(%v, %v) = %v at the threshold", c.a, c.g, r)
		}
	}
	if r := selfishRevenue(0.4, 0.74); math.Abs(r-0.5456) > 1e-4 {
		t.Fatalf("R(0.4, 0.74) = %v", r)
	}
	// The state machine's long-run share is R itself.
	rng := rand.New(rand.NewPCG(1, 2))
	if x, _ := selfishTrial(rng, 0.4, 0.74, 200_000); math.Abs(x-0.5456) > 0.01 {
		t.Fatalf("share over 200,000 blocks %v, want R = 0.5456", x)
	}
	// Over 100 blocks the spread is about 0.096, near twice the binomial
	// 0.050: a tolerance from the binomial would call a fair run
	// DIFFERS one time in fifteen. It shrinks as 1/√blocks.
	s100, s400 := selfishSpread(0.4, 0.74, 100), selfishSpread(0.4, 0.74, 400)
	if s100 < 0.085 || s100 > 0.105 {
		t.Fatalf("spread over 100 blocks %v", s100)
	}
	if r := s100 / s400; r < 1.7 || r > 2.3 {
		t.Fatalf("spread 100 blocks / 400 blocks = %v, want about 2", r)
	}
	if s := selfishSpread(0.4, 0.74, 100); s != s100 {
		t.Fatalf("spread is not reproducible: %v then %v", s100, s)
	}
	if tol := selfishTolerance(0.4, 0.74, 100); tol != 3*s100+0.03 {
		t.Fatalf("tolerance %v", tol)
	}
	t.Logf("selfish revenue over 100 blocks at α 0.40, γ 0.74: standard deviation %.3f (binomial %.3f)",
		s100, math.Sqrt(0.5456*(1-0.5456)/100))

	// TestE2ESelfishMining's sure sign of the strategy: 15 or more stale
	// blocks in a 100-block run at α = 0.40 (honest miners there orphan
	// about one). The machine orphans one block per honest block found
	// during a lead; over 1,000 runs the fewest must clear 15.
	rng = rand.New(rand.NewPCG(3, 4))
	stales := make([]int, 1000)
	for i := range stales {
		_, stales[i] = selfishTrial(rng, 0.4, 0.5, 100)
	}
	slices.Sort(stales)
	t.Logf("stale blocks in 1,000 runs of 100 at α 0.40: fewest %d, 1st per mille %d, median %d", stales[0], stales[1], stales[500])
	if stales[0] < 15 {
		t.Fatalf("a run orphaned only %d blocks: the end-to-end test's bound of 15 would fail a fair run", stales[0])
	}
	// Without withholding there is nothing to orphan.
	if _, stale := selfishTrial(rng, 0, 0.5, 100); stale != 0 {
		t.Fatalf("α 0 orphaned %d blocks", stale)
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
