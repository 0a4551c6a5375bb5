package testnet

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDashboardScenarioLog ensures the timeline shows what a scenario
// narrates while the dashboard runs (not what an earlier one wrote), line
// by line, and that a new scenario's log, shorter than the last, is read
// from its start.
func TestDashboardScenarioLog(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, ScenarioLog)
	if err := os.WriteFile(log, []byte("old scenario line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := NewDashboard(dir, "cairn", nil)
	if err != nil {
		t.Fatal(err)
	}
	d.readScenarioLog()
	appendLine := func(s string) {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	appendLine("splitting the network\nhalf a li")
	d.readScenarioLog()
	appendLine("ne\n")
	d.readScenarioLog()
	var got []string
	for _, e := range d.events {
		if e.Kind != "scenario" {
			t.Fatalf("event %+v", e)
		}
		got = append(got, e.Text)
	}
	if strings.Join(got, "|") != "splitting the network|half a line" {
		t.Fatalf("timeline %q", got)
	}
	if err := os.WriteFile(log, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.readScenarioLog()
	if last := d.events[len(d.events)-1].Text; last != "new" {
		t.Fatalf("after a new scenario: %q", last)
	}
}

// TestDashboardGuards ensures the dashboard binds to loopback only and
// that its buttons refuse a request another site's page makes.
func TestDashboardGuards(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:7390": true, "[::1]:0": true, "localhost:1": true,
		"0.0.0.0:7390": false, "192.168.1.2:80": false, ":7390": false} {
		if err := CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v", addr, err)
		}
	}
	for _, c := range []struct {
		origin, site string
		ok           bool
	}{
		{"", "", true},
		{"http://127.0.0.1:7390", "same-origin", true},
		{"http://evil.example", "", false},
		{"", "cross-site", false},
		{"http://127.0.0.1:7390", "same-site", false},
	} {
		r := httptest.NewRequest("POST", "http://127.0.0.1:7390/action/heal", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		if sameOrigin(r) != c.ok {
			t.Errorf("origin %q site %q: sameOrigin %v", c.origin, c.site, !c.ok)
		}
	}
}
