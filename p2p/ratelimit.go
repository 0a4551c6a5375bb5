package p2p

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// Request limits per peer. A syncing peer asks for at most 500 blocks per
// request and waits for the answer, so a burst of 50 and 5 per second
// never bind honest peers; every request over the limit is refused and
// scores floodPenalty, so a flooding peer is banned after 10 of them.
const (
	requestRate  = rate.Limit(5)
	requestBurst = 50
	floodPenalty = banScoreLimit / 10
)

// requestLimiter holds a token bucket per peer.
type requestLimiter struct {
	mu      sync.Mutex
	buckets map[peer.ID]*rate.Limiter
	rate    rate.Limit
	burst   int
}

func newRequestLimiter(r rate.Limit, burst int) *requestLimiter {
	return &requestLimiter{buckets: make(map[peer.ID]*rate.Limiter), rate: r, burst: burst}
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

// forget drops p's bucket once it disconnects.
func (l *requestLimiter) forget(p peer.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, p)
}

// admitRequest reports whether a request of p may be served, scoring p
// down when it floods.
func (n *Node) admitRequest(p peer.ID, what string) bool {
	if n.limiter.allow(p) {
		return true
	}
	n.Misbehaving(p, floodPenalty, "flooding "+what+" requests")
	return false
}
