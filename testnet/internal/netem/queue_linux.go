//go:build linux

package netem

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	nfqueue "github.com/florianl/go-nfqueue/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// QueueNum is the NFQUEUE number the hosts' rules send packets to; each
// namespace has queues of its own.
const QueueNum = 0

const (
	// queueLen bounds the packets the kernel holds for verdicts in one
	// namespace: a second of a busy link's packets, at 100 ms.
	queueLen = 1 << 15
	// copyLen is how much of each packet is read: its IPv4 header. The
	// kernel tells the whole length (NFQA_CAP_LEN) beside it.
	copyLen = 40
	// readBuffer is each queue socket's receive buffer.
	readBuffer = 8 << 20
)

// Run applies the plan in planPath to every host's queue until ctx ends,
// and applies the file again each time reload receives. After each
// application it writes the plan's generation to planPath+".applied"
// (Applied reads it).
func Run(ctx context.Context, planPath string, reload <-chan os.Signal, logw io.Writer) error {
	plan, err := ReadPlan(planPath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queues := make(map[string]*hostQueue)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, h := range plan.Hosts {
		hq, err := openQueue(ctx, h.Namespace, logw)
		if err != nil {
			return err
		}
		queues[h.Namespace] = hq
		wg.Add(1)
		go func() { defer wg.Done(); hq.release(ctx) }()
	}
	defer func() {
		for _, hq := range queues {
			hq.q.Close()
		}
	}()
	apply := func(p *Plan) error {
		for _, h := range p.Hosts {
			hq := queues[h.Namespace]
			if hq == nil {
				return fmt.Errorf("netem: the plan names %s, which the shaper did not start with", h.Namespace)
			}
			hq.r.setLinks(h.Links)
		}
		return os.WriteFile(planPath+".applied", []byte(strconv.Itoa(p.Generation)), 0o600)
	}
	if err := apply(plan); err != nil {
		return err
	}
	fmt.Fprintf(logw, "netem: shaping %d hosts (plan %d)\n", len(queues), plan.Generation)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-reload:
			p, err := ReadPlan(planPath)
			if err == nil {
				err = apply(p)
			}
			if err != nil {
				// The plan in force stays: a bad file cuts nothing.
				fmt.Fprintf(logw, "netem: plan not applied: %v\n", err)
				continue
			}
			fmt.Fprintf(logw, "netem: plan %d applied\n", p.Generation)
		}
	}
}

// Applied returns the generation of the plan the shaper last applied from
// planPath, or -1 when it has applied none.
func Applied(planPath string) int {
	raw, err := os.ReadFile(planPath + ".applied")
	if err != nil {
		return -1
	}
	g, err := strconv.Atoi(string(raw))
	if err != nil {
		return -1
	}
	return g
}

// hostQueue is one namespace's queue: the packets it holds, in release
// order.
type hostQueue struct {
	ns   string
	q    *nfqueue.Nfqueue
	r    *router
	logw io.Writer

	mu      sync.Mutex
	pending verdicts
	wake    chan struct{}
}

// openQueue binds the queue in namespace ns.
func openQueue(ctx context.Context, ns string, logw io.Writer) (*hostQueue, error) {
	f, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return nil, fmt.Errorf("netem: namespace %s: %w", ns, err)
	}
	defer f.Close()
	q, err := nfqueue.Open(&nfqueue.Config{
		NetNS:        int(f.Fd()),
		NfQueue:      QueueNum,
		MaxQueueLen:  queueLen,
		MaxPacketLen: copyLen,
		Copymode:     nfqueue.NfQnlCopyPacket,
		AfFamily:     unix.AF_INET,
		// GSO packets come whole, not cut into segments for us: one
		// verdict, and the link's bandwidth charged for all of it.
		Flags:        nfqueue.NfQaCfgFlagGSO,
		WriteTimeout: time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("netem: queue in %s: %w", ns, err)
	}
	_ = q.Con.SetReadBuffer(readBuffer)
	_ = q.SetOption(netlink.NoENOBUFS, true)
	h := fnv.New64a()
	h.Write([]byte(ns))
	hq := &hostQueue{ns: ns, q: q, r: newRouter(h.Sum64() ^ uint64(time.Now().UnixNano())), logw: logw, wake: make(chan struct{}, 1)}
	err = q.RegisterWithErrorFunc(ctx, hq.packet, func(err error) int {
		if ctx.Err() != nil {
			return 1
		}
		var op *netlink.OpError
		if errors.As(err, &op) && errors.Is(op.Err, unix.ENOBUFS) {
			return 0
		}
		fmt.Fprintf(logw, "netem: %s: %v\n", ns, err)
		return 0
	})
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("netem: queue in %s: %w", ns, err)
	}
	return hq, nil
}

// packet decides one packet's fate; it runs on the queue's reading
// goroutine, so it never waits.
func (hq *hostQueue) packet(a nfqueue.Attribute) int {
	if a.PacketID == nil {
		return 0
	}
	id := *a.PacketID
	var p []byte
	if a.Payload != nil {
		p = *a.Payload
	}
	size := len(p)
	if a.CapLen != nil {
		size = int(*a.CapLen)
	}
	dst, ok := packetDst(p)
	if !ok {
		hq.verdict(id, nfqueue.NfAccept)
		return 0
	}
	now := time.Now()
	at, ok := hq.r.route(now, dst, size)
	switch {
	case !ok:
		hq.verdict(id, nfqueue.NfDrop)
	case !at.After(now):
		hq.verdict(id, nfqueue.NfAccept)
	default:
		hq.mu.Lock()
		heap.Push(&hq.pending, verdictAt{at: at, id: id})
		first := hq.pending[0].id == id
		hq.mu.Unlock()
		if first {
			select {
			case hq.wake <- struct{}{}:
			default:
			}
		}
	}
	return 0
}

func (hq *hostQueue) verdict(id uint32, v int) {
	if err := hq.q.SetVerdict(id, v); err != nil {
		fmt.Fprintf(hq.logw, "netem: %s: verdict: %v\n", hq.ns, err)
	}
}

// release accepts held packets as their time comes, until ctx ends.
func (hq *hostQueue) release(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []uint32
	for {
		now := time.Now()
		next := time.Hour
		due = due[:0]
		hq.mu.Lock()
		for len(hq.pending) > 0 {
			if d := hq.pending[0].at.Sub(now); d > 0 {
				next = d
				break
			}
			due = append(due, heap.Pop(&hq.pending).(verdictAt).id)
		}
		hq.mu.Unlock()
		for _, id := range due {
			hq.verdict(id, nfqueue.NfAccept)
		}
		// Since Go 1.23, Reset leaves no stale tick to drain.
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-hq.wake:
		case <-timer.C:
		}
	}
}

// verdictAt is a held packet and when it is released.
type verdictAt struct {
	at time.Time
	id uint32
}

// verdicts is a min-heap by release time.
type verdicts []verdictAt

func (v verdicts) Len() int           { return len(v) }
func (v verdicts) Less(i, j int) bool { return v[i].at.Before(v[j].at) }
func (v verdicts) Swap(i, j int)      { v[i], v[j] = v[j], v[i] }
func (v *verdicts) Push(x any)        { *v = append(*v, x.(verdictAt)) }
func (v *verdicts) Pop() any {
	old := *v
	x := old[len(old)-1]
	*v = old[:len(old)-1]
	return x
}
