package explorer

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/internal/coreshape"
)

// Peer is what the explorer shows of a connected peer.
type Peer struct {
	ID          string    `json:"id"`
	Addr        string    `json:"addr"`
	Inbound     bool      `json:"inbound"`
	ConnTime    time.Time `json:"conntime"`
	PingMillis  float64   `json:"ping_ms"`
	BytesSent   int64     `json:"bytes_sent"`
	BytesRecv   int64     `json:"bytes_recv"`
	GossipScore float64   `json:"score"`
	// SyncedBlocks is the height of the peer's best block the node has,
	// -1 if none.
	SyncedBlocks int32 `json:"synced_blocks"`
}

// Peers reports the node's connected peers; cmd/cairn adapts the p2p node
// to it, so that the explorer needs nothing of the networking code.
type Peers interface {
	Peers() []Peer
}

// Event is one Server-Sent Event of /api/events: Type is the event's name
// and Data its JSON.
type Event struct {
	Type string
	Data any
}

// tipEvent is the "tip" event: a new best block.
type tipEvent struct {
	Height int32  `json:"height"`
	Hash   string `json:"hash"`
	Time   int64  `json:"time"`
	Bits   uint32 `json:"bits"`
	// Difficulty, TxCount and Size describe the block.
	Difficulty float64 `json:"difficulty"`
	TxCount    int     `json:"tx_count"`
	Size       int     `json:"size"`
}

// reorgEvent is the "reorg" event: blocks left the main chain.
type reorgEvent struct {
	// Depth is how many blocks were disconnected; Stale lists them, the
	// old tip first.
	Depth int      `json:"depth"`
	Stale []string `json:"stale"`
	// ForkHeight is the height of the last block both branches share.
	ForkHeight int32  `json:"fork_height"`
	OldTip     string `json:"old_tip"`
	NewTip     string `json:"new_tip"`
	NewHeight  int32  `json:"new_height"`
}

// peerEvent is the "peer" event: a peer joined or left.
type peerEvent struct {
	Event string `json:"event"` // "join" or "leave"
	ID    string `json:"id"`
	Addr  string `json:"addr"`
	Count int    `json:"count"` // peers connected after the change
}

// Limits of the event stream.
const (
	// maxEventClients is how many /api/events streams may be open at once
	// (an SSE stream holds a connection for as long as the page is open).
	maxEventClients = 64
	// eventQueue is how many events may wait for one client; a client
	// that falls further behind is dropped (its browser reconnects).
	eventQueue = 256
	// mempoolEventEvery is the least time between two "mempool" events.
	mempoolEventEvery = time.Second
	// peerPollEvery is how often the peer list is compared for "peer"
	// events.
	peerPollEvery = 2 * time.Second
	// reorgWait is how long a batch ending with a disconnection waits for
	// the connections of the same reorganization.
	reorgWait  = 500 * time.Millisecond
	reorgQuiet = 50 * time.Millisecond
	// keepAliveEvery sends a comment on an idle stream, so that proxies
	// and the browser keep it open.
	keepAliveEvery = 15 * time.Second
)

// eventHub fans events out to the open streams.
type eventHub struct {
	mu      sync.Mutex
	clients map[chan Event]struct{}
	poke    chan struct{}
}

func newEventHub() *eventHub {
	return &eventHub{clients: map[chan Event]struct{}{}, poke: make(chan struct{}, 1)}
}

// join opens a client's queue, or returns nil when the hub is full.
func (h *eventHub) join() chan Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) >= maxEventClients {
		return nil
	}
	c := make(chan Event, eventQueue)
	h.clients[c] = struct{}{}
	return c
}

func (h *eventHub) leave(c chan Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c)
	}
}

// publish queues an event for every client, dropping those whose queue is
// full.
func (h *eventHub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c <- e:
		default:
			delete(h.clients, c)
			close(c)
		}
	}
}

// pokeEvents asks the hub to look at the pool now (a transaction was
// posted).
func (s *Server) pokeEvents() {
	select {
	case s.hub.poke <- struct{}{}:
	default:
	}
}

// runEvents turns chain notifications, pool changes and peer changes into
// events until ctx ends.
func (s *Server) runEvents(ctx context.Context) {
	sub := s.cfg.Chain.Subscribe()
	defer sub.Close()
	var peerTick, poolTick <-chan time.Time
	if s.cfg.Peers != nil {
		t := time.NewTicker(peerPollEvery)
		defer t.Stop()
		peerTick = t.C
	}
	if s.cfg.Mempool != nil {
		t := time.NewTicker(mempoolEventEvery)
		defer t.Stop()
		poolTick = t.C
	}
	known := map[string]Peer{}
	if s.cfg.Peers != nil {
		for _, p := range s.cfg.Peers.Peers() {
			known[p.ID] = p
		}
	}
	var poolSeq uint64
	poolSent := false
	for {
		select {
		case <-ctx.Done():
			return
		case n, ok := <-sub.C():
			if !ok {
				return
			}
			s.onChain(n, sub)
		case <-peerTick:
			known = s.peerEvents(known)
		case <-poolTick:
		case <-s.hub.poke:
		}
		if s.cfg.Mempool != nil {
			if seq := s.cfg.Mempool.Sequence(); !poolSent || seq != poolSeq {
				poolSeq, poolSent = seq, true
				s.hub.publish(Event{"mempool", s.summary.get(s.cfg.Mempool)})
			}
		}
	}
}

// onChain handles a chain notification and any queued behind it: a
// "reorg" event if blocks were disconnected, then a "tip" event.
func (s *Server) onChain(first chain.Notification, sub *chain.Subscription) {
	batch := []chain.Notification{first}
drain:
	for {
		select {
		case n, ok := <-sub.C():
			if !ok {
				break drain
			}
			batch = append(batch, n)
		default:
			break drain
		}
	}
	// A reorganization notifies its disconnections before its
	// connections, one by one: after a disconnection, what follows within
	// a short quiet time belongs with it (reorgWait at most).
	if slices.ContainsFunc(batch, func(n chain.Notification) bool { return n.Type == chain.BlockDisconnected }) {
		limit := time.NewTimer(reorgWait)
		defer limit.Stop()
		quiet := time.NewTimer(reorgQuiet)
		defer quiet.Stop()
	settle:
		for {
			select {
			case n, ok := <-sub.C():
				if !ok {
					break settle
				}
				batch = append(batch, n)
				quiet.Reset(reorgQuiet)
			case <-quiet.C:
				break settle
			case <-limit.C:
				break settle
			}
		}
	}
	// Each run of disconnections is one reorganization (or one
	// invalidateblock); the tip event follows the last change.
	for i := 0; i < len(batch); {
		if batch[i].Type != chain.BlockDisconnected {
			i++
			continue
		}
		ev := reorgEvent{OldTip: batch[i].Hash.String()}
		for ; i < len(batch) && batch[i].Type == chain.BlockDisconnected; i++ {
			ev.Stale = append(ev.Stale, batch[i].Hash.String())
			ev.ForkHeight = batch[i].Height - 1
		}
		ev.Depth = len(ev.Stale)
		// The new tip is the last block connected after the run (or
		// the fork point when none was, yet).
		j := i
		for j < len(batch) && batch[j].Type == chain.BlockConnected {
			j++
		}
		if j > i {
			ev.NewTip, ev.NewHeight = batch[j-1].Hash.String(), batch[j-1].Height
		} else if h, err := s.cfg.Chain.BlockHashByHeight(ev.ForkHeight); err == nil {
			ev.NewTip, ev.NewHeight = h.String(), ev.ForkHeight
		}
		s.hub.publish(Event{"reorg", ev})
	}
	s.hub.publish(Event{"tip", s.tipEvent()})
}

func (s *Server) tipEvent() tipEvent {
	best := s.cfg.Chain.BestSnapshot()
	ev := tipEvent{Height: best.Height, Hash: best.Hash.String(), Bits: best.Bits}
	if info, err := s.cfg.Chain.BlockInfo(best.Hash); err == nil {
		ev.Time = info.Header.Timestamp.Unix()
		ev.Difficulty = coreshape.Difficulty(best.Bits)
	}
	if sum, err := s.summaryOf(best.Hash); err == nil {
		ev.TxCount, ev.Size = sum.TxCount, sum.Size
	}
	return ev
}

// peerEvents compares the peer list with the last one and publishes who
// joined and who left.
func (s *Server) peerEvents(known map[string]Peer) map[string]Peer {
	now := map[string]Peer{}
	for _, p := range s.cfg.Peers.Peers() {
		now[p.ID] = p
	}
	var evs []peerEvent
	for id, p := range now {
		if _, ok := known[id]; !ok {
			evs = append(evs, peerEvent{Event: "join", ID: id, Addr: p.Addr, Count: len(now)})
		}
	}
	for id, p := range known {
		if _, ok := now[id]; !ok {
			evs = append(evs, peerEvent{Event: "leave", ID: id, Addr: p.Addr, Count: len(now)})
		}
	}
	slices.SortFunc(evs, func(a, b peerEvent) int {
		return cmp.Or(strings.Compare(a.Event, b.Event), strings.Compare(a.ID, b.ID))
	})
	for _, e := range evs {
		s.hub.publish(Event{"peer", e})
	}
	return now
}

// events serves /api/events: a Server-Sent Events stream that opens with a
// "tip" event (and a "mempool" one when the pool is served), then carries
// every event as it happens.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	c := s.hub.join()
	if c == nil {
		fail(w, http.StatusServiceUnavailable, "Too many event streams open")
		return
	}
	defer s.hub.leave(c)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(e Event) bool {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return false
		}
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write([]byte("event: " + e.Type + "\ndata: " + string(data) + "\n\n")); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(Event{"tip", s.tipEvent()}) {
		return
	}
	if s.cfg.Mempool != nil && !send(Event{"mempool", s.summary.get(s.cfg.Mempool)}) {
		return
	}
	alive := time.NewTicker(keepAliveEvery)
	defer alive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-c:
			if !ok || !send(e) {
				return
			}
		case <-alive.C:
			_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// closeAll ends every open stream (the server is shutting down).
func (h *eventHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		delete(h.clients, c)
		close(c)
	}
}
