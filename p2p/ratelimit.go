package p2p

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// Request limits per peer. Status requests are rate limited: a peer sends
// one every few seconds, so a burst of 50 and 5 per second never bind
// honest peers. Sync requests (headers, blocks, blocktxn) are limited in
// number at once instead (maxHeaderRequestsPerPeer,
// maxBlockRequestsPerPeer): an honest node asks again as soon as it has an
// answer, so a rate that never binds it during initial sync would bind
// nothing.
//
// A request over a limit is refused (its stream reset) and costs nothing
// else: a limit is there so that a flood costs the node little, and a
// burst is also what an honest node under load sends (a reorganization, a
// slow disk). Bitcoin Core likewise drops or delays what exceeds its
// limits and keeps misbehaviour for data no honest node sends.
const (
	requestRate  = rate.Limit(5)
	requestBurst = 50
)

// Bytes of blocks served to a peer (getblocks, blocktxn): 16 MiB a second
// with bursts of 64 MiB. A syncing peer downloads from several peers at
// once, so this slows only a peer that asks one node for far more than
// its share; a request over it waits, and is reset if it would wait
// longer than the request may last.
const (
	serveRate  = rate.Limit(16 << 20)
	serveBurst = 64 << 20
)

// requestLimiter holds a token bucket per peer.
type requestLimiter struct {
	mu      sync.Mutex
	buckets map[peer.ID]*rate.Limiter
	serving map[peer.ID]int // block requests being served
	rate    rate.Limit
	burst   int
}

func newRequestLimiter(r rate.Limit, burst int) *requestLimiter {
	return &requestLimiter{buckets: make(map[peer.ID]*rate.Limiter), serving: make(map[peer.ID]int), rate: r, burst: burst}
}

// allow takes a token of p's bucket, reporting whether there was one.
func (l *requestLimiter) allow(p peer.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[p]
	if !ok {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[p] = b
	}
	return b.AllowN(time.Now(), 1)
}

// wait takes n tokens of p's bucket, waiting for them while ctx lasts.
func (l *requestLimiter) wait(ctx context.Context, p peer.ID, n int) error {
	l.mu.Lock()
	b, ok := l.buckets[p]
	if !ok {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[p] = b
	}
	l.mu.Unlock()
	return b.WaitN(ctx, n)
}

// open admits one more of p's concurrent requests if fewer than max are
// being served; release ends it.
func (l *requestLimiter) open(p peer.ID, max int) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.serving[p] >= max {
		return nil, false
	}
	l.serving[p]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.serving[p]--; l.serving[p] <= 0 {
			delete(l.serving, p)
		}
	}, true
}

// forget drops p's bucket once it disconnects.
func (l *requestLimiter) forget(p peer.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, p)
}

// admitRequest reports whether a request of p may be served now.
func (n *Node) admitRequest(p peer.ID, what string) bool {
	if n.limiter.allow(p) {
		return true
	}
	n.log.Debug("request over the rate limit refused", "peer", p, "what", what)
	return false
}

// openRequest admits a request stream of p if fewer than max of its
// requests are being served, setting the stream's deadline; otherwise it
// resets the stream. The caller must call release once done.
func (n *Node) openRequest(s network.Stream, max int, what string, timeout time.Duration) (release func(), ok bool) {
	p := s.Conn().RemotePeer()
	release, ok = n.limiter.open(p, max)
	if !ok {
		n.log.Debug("request over the concurrency limit refused", "peer", p, "what", what)
		_ = s.Reset()
		return nil, false
	}
	_ = s.SetDeadline(time.Now().Add(timeout))
	return release, true
}
