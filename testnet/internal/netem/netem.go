// Package netem delays, throttles and drops the packets that testnet hosts
// (network namespaces) send each other, in user space: this machine's
// kernel, like CI's, has no sch_netem. Each host's namespace sends its
// packets to the other hosts through an iptables NFQUEUE rule; the shaper
// reads them from the queue (the first bytes only) and gives each its
// verdict when the link it travels says: accept after the link's latency,
// its jitter and the time the link's bandwidth takes to send it, or drop
// (the link's loss, or no link at all: a cut, or two hosts the topology
// does not join). The packet never leaves the kernel, so hosts keep their
// own addresses and TCP and QUIC alike see the delay.
//
// A dropped packet is dropped silently, as on a real network: the verdict
// comes after the sender's send returned. The shaper fails closed: while
// it is not running, the queue drops every packet (no --queue-bypass), so
// a network whose shaper died is cut, never silently unshaped.
package netem

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Link is how packets travel one way, from one host to another.
type Link struct {
	// Latency is the one-way delay: a round trip over links of 50 ms
	// each way takes 100 ms.
	Latency time.Duration `json:"latency,omitempty"`
	// Jitter spreads each packet's delay uniformly over Latency ±
	// Jitter. Packets of one link keep their order, as on one path: a
	// packet is never released before the one sent ahead of it.
	Jitter time.Duration `json:"jitter,omitempty"`
	// Loss is the chance, 0 to 1, that a packet is dropped.
	Loss float64 `json:"loss,omitempty"`
	// Rate, in bits per second (0: no limit), is the link's own
	// bandwidth: a packet waits for those sent ahead of it on the link,
	// then takes its size over Rate to send. A host's uplink, which all
	// its links share, is a tbf qdisc on its interface instead.
	Rate uint64 `json:"rate,omitempty"`
}

// Host is one host of the plan and the links its packets leave on.
type Host struct {
	// Namespace is the host's network namespace (/run/netns/NAME).
	Namespace string `json:"namespace"`
	// Links are keyed by destination address. A packet to an address
	// with no link is dropped.
	Links map[netip.Addr]Link `json:"links"`
}

// Plan is the whole network, as the shaper applies it. Generation counts
// the plans written, so a writer can tell when the shaper has applied its
// own (Applied).
type Plan struct {
	Generation int    `json:"generation"`
	Hosts      []Host `json:"hosts"`
}

// ReadPlan reads a plan file.
func ReadPlan(path string) (*Plan, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("netem: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("netem: %s is damaged: %v", path, err)
	}
	return &p, nil
}

// maxBacklog is how far ahead of now a link's bandwidth may have booked
// its sending: past it, a packet is dropped, as a full router queue (or
// tbf's limit) drops it.
const maxBacklog = time.Second

// lane is one link's state: when its last packet is released, and until
// when its bandwidth is booked.
type lane struct {
	link        Link
	lastRelease time.Time
	busyUntil   time.Time
}

// schedule returns when a packet of size bytes, sent at now, leaves the
// link, or false when it is dropped (loss, or a full backlog). rnd draws
// the loss and the jitter.
func (l *lane) schedule(now time.Time, size int, rnd *rand.Rand) (time.Time, bool) {
	k := l.link
	if k.Loss > 0 && rnd.Float64() < k.Loss {
		return time.Time{}, false
	}
	sent := now
	if k.Rate > 0 {
		start := now
		if l.busyUntil.After(start) {
			start = l.busyUntil
		}
		if start.Sub(now) > maxBacklog {
			return time.Time{}, false
		}
		l.busyUntil = start.Add(time.Duration(float64(size*8) / float64(k.Rate) * float64(time.Second)))
		sent = l.busyUntil
	}
	delay := k.Latency
	if k.Jitter > 0 {
		delay += time.Duration((rnd.Float64()*2 - 1) * float64(k.Jitter))
	}
	at := sent.Add(max(delay, 0))
	if at.Before(l.lastRelease) {
		at = l.lastRelease
	}
	l.lastRelease = at
	return at, true
}

// router holds one host's lanes. Its plan may be replaced while packets
// flow: lanes of links that did not change keep their state.
type router struct {
	mu    sync.Mutex
	lanes map[netip.Addr]*lane
	rnd   *rand.Rand
}

func newRouter(seed uint64) *router {
	return &router{lanes: make(map[netip.Addr]*lane), rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// setLinks applies a host's new links.
func (r *router) setLinks(links map[netip.Addr]Link) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := make(map[netip.Addr]*lane, len(links))
	for dst, k := range links {
		if old := r.lanes[dst]; old != nil {
			old.link = k
			next[dst] = old
			continue
		}
		next[dst] = &lane{link: k}
	}
	r.lanes = next
}

// route returns when a packet of size bytes to dst, sent at now, is
// released, or false when it is dropped.
func (r *router) route(now time.Time, dst netip.Addr, size int) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lanes[dst]
	if l == nil {
		return time.Time{}, false
	}
	return l.schedule(now, size, r.rnd)
}

// packetDst returns an IPv4 packet's destination address; ok is false for
// anything else (the rules queue IPv4 alone).
func packetDst(p []byte) (netip.Addr, bool) {
	if len(p) < 20 || p[0]>>4 != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(p[16:20])), true
}
