package rpc

import (
	"strings"
	"testing"
	"time"
)

// TestUptime ensures uptime counts whole seconds since Config.StartTime.
func TestUptime(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{startTime: time.Now().Add(-90 * time.Second)})
	var up int64
	decode(t, mustCall(t, n.srv, "uptime"), &up)
	if up < 90 || up > 150 {
		t.Errorf("uptime %d, want about 90", up)
	}
	fresh := newTestNode(t, nodeConfig{})
	decode(t, mustCall(t, fresh.srv, "uptime"), &up)
	if up < 0 || up > 60 {
		t.Errorf("uptime of a fresh server %d, want about 0", up)
	}
}

// TestStop ensures stop answers and then calls Config.Stop, and fails on a
// server that cannot stop its node.
func TestStop(t *testing.T) {
	t.Parallel()
	stopped := make(chan struct{})
	var once bool
	n := newTestNode(t, nodeConfig{stop: func() {
		if !once {
			once = true
			close(stopped)
		}
	}})
	res := mustCall(t, n.srv, "stop")
	if !strings.Contains(str(t, res), "stopping") {
		t.Errorf("stop answered %s, want a stopping message", res)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Config.Stop was not called")
	}
	none := newTestNode(t, nodeConfig{})
	_, rerr := call(t, none.srv, "stop")
	checkErr(t, "no Stop", rerr, -1, "cannot stop")
}
