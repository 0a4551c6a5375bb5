package testnet

import "testing"

// TestNakamoto reproduces the whitepaper's table (section 11) for q=0.1
// and q=0.3.
func TestNakamoto(t *testing.T) {
	for _, tc := range []struct {
		q    float64
		z    int
		want string
	}{
		{0.1, 0, "1.0000"}, {0.1, 1, "0.2046"}, {0.1, 5, "0.0009"},
		{0.3, 5, "0.1774"}, {0.3, 10, "0.0417"},
		{0.5, 3, "1 (majority: always, given time)"},
	} {
		if got := nakamoto(tc.q, tc.z); got != tc.want {
			t.Errorf("nakamoto(%v, %d) = %s, want %s", tc.q, tc.z, got, tc.want)
		}
	}
}

// TestSimulateRace ensures the simulated race falls with the
// confirmations waited and with the attacker's share.
func TestSimulateRace(t *testing.T) {
	prev := 1.0
	for k := 0; k <= 6; k++ {
		p := simulateRace(0.3, k, 20000)
		if p > prev+0.01 {
			t.Errorf("k=%d: %.3f after %.3f: the success rate rose", k, p, prev)
		}
		prev = p
	}
	if simulateRace(0.3, 4, 20000) >= simulateRace(0.6, 4, 20000) {
		t.Error("a larger share did not succeed more")
	}
	if p := simulateRace(0.01, 6, 5000); p > 0.01 {
		t.Errorf("a 1%% attacker succeeded %.3f of the time", p)
	}
}
