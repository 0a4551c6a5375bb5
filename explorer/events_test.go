package explorer

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnchain/cairn/chain/consensus"
)

// fakePeers is a peer list the test changes.
type fakePeers struct {
	mu    sync.Mutex
	peers []Peer
}

func (f *fakePeers) set(p ...Peer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.peers = p
}

func (f *fakePeers) Peers() []Peer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Peer(nil), f.peers...)
}

// sseClient reads events from a Server-Sent Events stream.
type sseClient struct {
	t  *testing.T
	ch chan [2]string
}

func dialEvents(t *testing.T, url string) *sseClient {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	c := &sseClient{t: t, ch: make(chan [2]string, 64)}
	go func() {
		defer close(c.ch)
		r := bufio.NewReader(resp.Body)
		var name, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				name = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			case line == "" && name != "":
				c.ch <- [2]string{name, data}
				name, data = "", ""
			}
		}
	}()
	return c
}

// next returns the next event named name, skipping others.
func (c *sseClient) next(name string, out any) {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.ch:
			if !ok {
				c.t.Fatalf("stream closed waiting for %s", name)
			}
			if ev[0] == name {
				if err := json.Unmarshal([]byte(ev[1]), out); err != nil {
					c.t.Fatal(err)
				}
				return
			}
		case <-timeout:
			c.t.Fatalf("no %s event", name)
		}
	}
}

// TestEvents checks /api/events: the stream opens with the tip; a
// reorganization is one "reorg" event with its depth, the blocks it left
// behind (old tip first) and the fork, followed by the new tip; peers
// joining and leaving are events; and the stream limit answers 503 rather
// than holding more connections.
func TestEvents(t *testing.T) {
	c, g, _ := testChain(t)
	peers := &fakePeers{}
	srv, err := New(Config{Addr: "127.0.0.1:0", Chain: c, Peers: peers})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	base := "http://" + srv.Addr().String()
	ev := dialEvents(t, base+"/api/events")
	var tip tipEvent
	ev.next("tip", &tip)
	if tip.Height != 15 || tip.Hash != c.BestSnapshot().Hash.String() {
		t.Fatalf("first tip event %+v", tip)
	}
	// s14 <- s15 <- s16 outgrows b14 <- b15: b15 and b14 leave.
	g.SetTip("s14")
	for _, name := range []string{"s15", "s16"} {
		if _, err := c.ProcessBlock(g.NextBlock(name, nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	var re reorgEvent
	ev.next("reorg", &re)
	b14, b15 := g.Block("b14"), g.Block("b15")
	s16 := g.Block("s16")
	want := reorgEvent{Depth: 2, Stale: []string{consensus.BlockHash(&b15.Header).String(), consensus.BlockHash(&b14.Header).String()},
		ForkHeight: 13, OldTip: consensus.BlockHash(&b15.Header).String(), NewTip: consensus.BlockHash(&s16.Header).String(), NewHeight: 16}
	if strings.Join(re.Stale, ",") != strings.Join(want.Stale, ",") || re.Depth != want.Depth || re.ForkHeight != want.ForkHeight ||
		re.OldTip != want.OldTip || re.NewTip != want.NewTip || re.NewHeight != want.NewHeight {
		t.Fatalf("reorg event %+v, want %+v", re, want)
	}
	ev.next("tip", &tip)
	if tip.Height != 16 || tip.Hash != want.NewTip {
		t.Fatalf("tip after the reorganization %+v", tip)
	}

	// A peer joins, then leaves.
	peers.set(Peer{ID: "12D3KooWpeer", Addr: "/ip4/127.0.0.1/tcp/1"})
	var pe peerEvent
	ev.next("peer", &pe)
	if pe != (peerEvent{Event: "join", ID: "12D3KooWpeer", Addr: "/ip4/127.0.0.1/tcp/1", Count: 1}) {
		t.Fatalf("peer event %+v", pe)
	}
	peers.set()
	ev.next("peer", &pe)
	if pe.Event != "leave" || pe.ID != "12D3KooWpeer" || pe.Count != 0 {
		t.Fatalf("peer event %+v", pe)
	}

	// The stream limit.
	for i := 1; i < maxEventClients; i++ {
		dialEvents(t, base+"/api/events")
	}
	resp, err := http.Get(base + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("stream %d: %d, want 503", maxEventClients+1, resp.StatusCode)
	}
}
