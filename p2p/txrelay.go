package p2p

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dchest/siphash"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/cairnchain/cairn/mempool"
)

// Transaction relay follows Bitcoin Core's: a node announces the wtxids of
// the transactions its pool takes to each peer (BIP339), a batch at a time
// from a per-peer queue at random intervals (the trickle of
// net_processing's SendMessages), and the peer fetches the ones it lacks.
// A reorganization returning thousands of transactions therefore costs a
// few announcements per peer, never a message per transaction.
//
// One exchange is one stream of the "txinv" protocol:
//
//	announcer -> peer: count (uint32 LE), count wtxids (32 bytes each)
//	peer -> announcer: count (uint32 LE), count indices (uint32 LE) into
//	                   the announcement, strictly increasing
//	announcer -> peer: for each index, a length (uint32 LE) and the
//	                   transaction's bytes; length 0 if it is gone
//
// The announcer waits for the peer to close the stream before it starts the
// next exchange, so an honest node never holds more than one open with a
// peer. A peer over the limits below is refused without penalty and
// announces again later; only what no honest node sends (a malformed
// message, a transaction other than the one asked for, an invalid
// transaction) costs misbehaviour points.
const (
	// txRelayInterval is the mean time between announcements to a peer.
	// Core waits 2 s on average for outbound peers and 5 s for inbound
	// ones; Cairn's blocks come every few seconds on a local network, so
	// its transactions must move faster to be in the pools (and compact
	// blocks) of the next block.
	txRelayInterval = 250 * time.Millisecond
	// maxAnnounce is how many wtxids one announcement carries at most
	// (Core's INVENTORY_BROADCAST_MAX is 1,000 every 2 s).
	maxAnnounce = 5000
	// maxInvEntries is the protocol's limit on one announcement, Core's
	// MAX_INV_SZ: more is malformed.
	maxInvEntries = 50_000
	// maxKnownPerPeer is how many wtxids the node remembers a peer knows,
	// Core's m_tx_inventory_known_filter.
	maxKnownPerPeer = 50_000
	// maxQueuedPerPeer bounds a peer's queue of announcements to make;
	// beyond it new ones are dropped (this binds only a peer that never
	// lets the node announce: honest ones take 5,000 every 250 ms).
	maxQueuedPerPeer = 50_000
	// maxPoolAnnouncement is how much of its pool the node announces to a
	// new peer, the best-paying first. Core leaves a new peer to learn
	// of the pool from new transactions; Cairn announces it so that the
	// two sides of a healed partition end with the same pool.
	maxPoolAnnouncement = 50_000
	// poolOrderTTL is how long the pool's relay order is reused for new
	// peers.
	poolOrderTTL = 10 * time.Second
	// maxRecentRejects bounds the wtxids refused since the last block,
	// Core's m_recent_rejects.
	maxRecentRejects = 120_000
	// txRelayTimeout bounds one exchange: 5,000 transactions take an
	// honest peer about a second to check.
	txRelayTimeout = 30 * time.Second
	// txRelayRetry is how long an announcer waits after a refused or
	// failed exchange before announcing the same batch again; the wait
	// doubles with each failure in a row, up to txRelayMaxRetry. A peer
	// that takes each announcement and resets the stream would otherwise
	// have the node send it the same batch (up to maxAnnounce
	// wtxids, 160 KB) every second for as long as it stays connected.
	txRelayRetry    = time.Second
	txRelayMaxRetry = 32 * time.Second
	// maxTxRelayStreams is how many exchanges a peer may have open with
	// the node at once, and txRelayStreamRate how many it may start per
	// second on average (an honest one starts 1/txRelayInterval): above
	// either, the exchange is refused, and the peer announces again later.
	maxTxRelayStreams  = 2
	txRelayStreamRate  = rate.Limit(20)
	txRelayStreamBurst = 40
)

// txRelay holds the per-peer announcement state.
type txRelay struct {
	n   *Node
	key [2]uint64 // SipHash key of the known and queued sets
	// limiter admits peers' exchanges.
	limiter *requestLimiter
	// retry and maxRetry are the first and the longest wait after a failed
	// exchange (txRelayRetry and txRelayMaxRetry; tests shorten them).
	retry, maxRetry time.Duration
	// exchanges counts the announcements this node made.
	exchanges atomic.Int64

	// orderMu serializes the pool order's recomputation, so that two
	// peers starting at once cannot install an older order after a newer
	// one has cleared recent.
	orderMu sync.Mutex

	mu    sync.Mutex
	peers map[peer.ID]*relayPeer
	// rejects are wtxids the pool refused since the last block; they are
	// not fetched again until a block may have changed the verdict.
	rejects map[chainhash.Hash]struct{}
	// poolOrder caches the pool's relay order for new peers (computed at
	// poolOrderAt), so that peers connecting in a burst cost one sort of
	// the pool; recent holds what was announced since, which a new peer
	// must hear of too.
	poolOrder   []chainhash.Hash
	poolOrderAt time.Time
	recent      []chainhash.Hash
}

// relayPeer is what the node keeps to announce transactions to one peer.
type relayPeer struct {
	id     peer.ID
	known  *hashSet // wtxids the peer has or was told of
	queue  []chainhash.Hash
	queued map[uint64]struct{}
	wake   chan struct{}
	cancel context.CancelFunc
}

func newTxRelay(n *Node) *txRelay {
	var seed [16]byte
	_, _ = rand.Read(seed[:])
	return &txRelay{n: n, key: [2]uint64{binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])},
		limiter: newRequestLimiter(txRelayStreamRate, txRelayStreamBurst), retry: txRelayRetry, maxRetry: txRelayMaxRetry,
		peers: make(map[peer.ID]*relayPeer), rejects: make(map[chainhash.Hash]struct{})}
}

// short maps a wtxid to the 64-bit key of the known and queued sets. The
// SipHash key is the node's own secret, so no one can make two wtxids
// collide on purpose.
func (r *txRelay) short(h chainhash.Hash) uint64 {
	return siphash.Hash(r.key[0], r.key[1], h[:])
}

// start begins announcing to p, which has just completed its handshake,
// starting with the pool.
func (r *txRelay) start(ctx context.Context, p peer.ID) {
	if r.n.cfg.Mempool == nil || r.n.cfg.BlocksOnly || r.n.isBlockRelay(p) {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	rp := &relayPeer{id: p, known: newHashSet(maxKnownPerPeer), queued: make(map[uint64]struct{}),
		wake: make(chan struct{}, 1), cancel: cancel}
	r.orderMu.Lock()
	defer r.orderMu.Unlock()
	r.mu.Lock()
	if time.Since(r.poolOrderAt) > poolOrderTTL {
		r.recent = nil // from here on, announce collects what the order may miss
		r.mu.Unlock()
		order := r.n.cfg.Mempool.RelayOrder(maxPoolAnnouncement)
		r.mu.Lock()
		r.poolOrder, r.poolOrderAt = order, time.Now()
	}
	if old, ok := r.peers[p]; ok {
		old.cancel()
	}
	r.peers[p] = rp
	r.enqueueLocked(rp, r.poolOrder)
	r.enqueueLocked(rp, r.recent)
	r.mu.Unlock()
	go r.run(ctx, rp)
}

// stop ends the announcements to p.
func (r *txRelay) stop(p peer.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rp, ok := r.peers[p]; ok {
		rp.cancel()
		delete(r.peers, p)
	}
	r.limiter.forget(p)
}

// forget drops rp if it is still p's announcer.
func (r *txRelay) forget(rp *relayPeer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rp.cancel()
	if r.peers[rp.id] == rp {
		delete(r.peers, rp.id)
	}
}

// announce queues wtxids for every peer that does not know them.
func (r *txRelay) announce(wtxids []chainhash.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.recent)+len(wtxids) > maxPoolAnnouncement {
		r.recent, r.poolOrderAt = nil, time.Time{} // the next new peer sorts the pool again
	} else {
		r.recent = append(r.recent, wtxids...)
	}
	for _, rp := range r.peers {
		r.enqueueLocked(rp, wtxids)
	}
}

// enqueueLocked queues what rp does not know and wakes its announcer.
// This function MUST be called with r.mu held.
func (r *txRelay) enqueueLocked(rp *relayPeer, wtxids []chainhash.Hash) {
	added := false
	for _, w := range wtxids {
		k := r.short(w)
		if rp.known.has(k) || len(rp.queue) >= maxQueuedPerPeer {
			continue
		}
		if _, ok := rp.queued[k]; ok {
			continue
		}
		rp.queued[k] = struct{}{}
		rp.queue = append(rp.queue, w)
		added = true
	}
	if added {
		select {
		case rp.wake <- struct{}{}:
		default:
		}
	}
}

// next takes rp's next batch of announcements: at most maxAnnounce of
// what the pool still holds and the peer does not know.
func (r *txRelay) next(rp *relayPeer) []chainhash.Hash {
	r.mu.Lock()
	defer r.mu.Unlock()
	var batch []chainhash.Hash
	taken := 0
	for _, w := range rp.queue {
		if len(batch) == maxAnnounce {
			break
		}
		taken++
		k := r.short(w)
		delete(rp.queued, k)
		if rp.known.has(k) || !r.n.cfg.Mempool.HaveWTx(w) {
			continue
		}
		batch = append(batch, w)
	}
	rp.queue = append(rp.queue[:0:0], rp.queue[taken:]...)
	return batch
}

// requeue puts a batch that could not be announced back at the head of
// rp's queue.
func (r *txRelay) requeue(rp *relayPeer, batch []chainhash.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var again []chainhash.Hash
	for _, w := range batch {
		k := r.short(w)
		if _, ok := rp.queued[k]; ok || rp.known.has(k) {
			continue
		}
		rp.queued[k] = struct{}{}
		again = append(again, w)
	}
	rp.queue = append(again, rp.queue...)
}

// learned records that p knows wtxids (it announced them, or was told).
func (r *txRelay) learned(p peer.ID, wtxids []chainhash.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rp, ok := r.peers[p]
	if !ok {
		return
	}
	for _, w := range wtxids {
		rp.known.add(r.short(w))
	}
}

// rejected remembers a wtxid the pool refused until the next block.
func (r *txRelay) rejected(w chainhash.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rejects) >= maxRecentRejects {
		clear(r.rejects)
	}
	r.rejects[w] = struct{}{}
}

// newTip forgets the refusals: a block may make them valid (Core resets
// m_recent_rejects whenever the tip changes).
func (r *txRelay) newTip() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.rejects)
}

// wanted reports whether the node should fetch w.
func (r *txRelay) wanted(w chainhash.Hash) bool {
	r.mu.Lock()
	_, refused := r.rejects[w]
	r.mu.Unlock()
	return !refused && !r.n.cfg.Mempool.HaveWTx(w)
}

// run announces to rp until ctx ends: after a random delay (exponential,
// mean txRelayInterval, as Core's Poisson trickle, so that the order in
// which peers hear of a transaction says little about where it came from),
// it sends what is queued, one exchange at a time.
func (r *txRelay) run(ctx context.Context, rp *relayPeer) {
	wait := r.retry // after the next failure; doubles while they last
	for {
		select {
		case <-ctx.Done():
			return
		case <-rp.wake:
		}
		delay := time.Duration(-math.Log(1-mrand.Float64()) * float64(txRelayInterval))
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		for {
			batch := r.next(rp)
			if len(batch) == 0 {
				break
			}
			if err := r.exchange(ctx, rp.id, batch); err != nil {
				r.n.log.Debug("announcing transactions", "peer", rp.id, "count", len(batch), "err", err)
				if r.n.host.Network().Connectedness(rp.id) != network.Connected {
					r.forget(rp) // gone, perhaps before its start
					return
				}
				r.requeue(rp, batch)
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				wait = min(2*wait, r.maxRetry)
				continue
			}
			wait = r.retry
			r.learned(rp.id, batch)
		}
	}
}

// exchange announces batch to p and sends the transactions it asks for.
func (r *txRelay) exchange(ctx context.Context, p peer.ID, batch []chainhash.Hash) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	s, err := r.n.host.NewStream(network.WithNoDial(sctx, "tx announcement"), p, r.n.protocol("txinv"))
	cancel()
	if err != nil {
		return err
	}
	defer s.Close()
	r.exchanges.Add(1)
	_ = s.SetDeadline(time.Now().Add(txRelayTimeout))
	w := bufio.NewWriter(s)
	if err := writeInv(w, batch); err != nil {
		_ = s.Reset()
		return err
	}
	if err := w.Flush(); err != nil {
		_ = s.Reset()
		return err
	}
	want, err := readWant(s, len(batch))
	if err != nil {
		_ = s.Reset()
		if errors.Is(err, errMalformed) {
			r.n.Misbehaving(p, banScoreLimit, "asked for "+err.Error())
		}
		return err
	}
	for _, i := range want {
		raw, _ := r.n.cfg.Mempool.RawTx(batch[i]) // nil: gone since, sent as length 0
		if err := writeFrame(w, raw); err != nil {
			_ = s.Reset()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		_ = s.Reset()
		return err
	}
	if err := s.CloseWrite(); err != nil {
		return err
	}
	// Wait for the peer to finish with the transactions and close.
	_, err = io.Copy(io.Discard, io.LimitReader(s, 1))
	return err
}

// handleTxInv answers a peer's announcement: it asks for the transactions
// the node lacks and offers each to the pool as it arrives.
func (n *Node) handleTxInv(s network.Stream) {
	p := s.Conn().RemotePeer()
	r := n.relay
	if !r.limiter.allow(p) {
		_ = s.Reset() // a burst: refused, not punished; it comes again
		return
	}
	release, ok := r.limiter.open(p, maxTxRelayStreams)
	if !ok {
		_ = s.Reset()
		return
	}
	defer release()
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(txRelayTimeout))
	br := bufio.NewReader(s)
	inv, err := readInv(br)
	if err != nil {
		if errors.Is(err, errMalformed) {
			n.Misbehaving(p, banScoreLimit, "announced "+err.Error())
		}
		_ = s.Reset()
		return
	}
	r.learned(p, inv)
	if n.cfg.Mempool == nil || n.cfg.BlocksOnly || n.isBlockRelay(p) {
		inv = nil
	}
	var want []uint32
	for i, w := range inv {
		if r.wanted(w) {
			want = append(want, uint32(i))
		}
	}
	bw := bufio.NewWriter(s)
	if err := writeWant(bw, want); err != nil || bw.Flush() != nil {
		_ = s.Reset()
		return
	}
	for _, i := range want {
		tx, err := readTxReply(br)
		if err != nil {
			if errors.Is(err, errMalformed) {
				n.Misbehaving(p, banScoreLimit, "sent "+err.Error())
			}
			_ = s.Reset()
			return
		}
		if tx == nil {
			continue // gone from its pool since it announced it
		}
		if got := tx.WitnessHash(); got != inv[i] {
			n.Misbehaving(p, banScoreLimit, fmt.Sprintf("sent transaction %v for %v", got, inv[i]))
			_ = s.Reset()
			return
		}
		n.offerTx(p, tx)
	}
}

// offerTx offers a transaction p sent to the pool. Refusals that an honest
// relay can cause (a race with a block, a fee below this node's minimum, a
// missing parent) cost p nothing; a transaction invalid by consensus does.
func (n *Node) offerTx(p peer.ID, tx *wire.MsgTx) {
	res, err := n.cfg.Mempool.ProcessTransaction(tx, true)
	if err == nil {
		if res.Orphaned {
			n.log.Debug("peer's transaction waits for its parents", "peer", p, "txid", tx.TxHash())
		}
		return // OnAccepted announces it (and its adopted orphans) onwards
	}
	var re *mempool.RejectError
	if !errors.As(err, &re) {
		n.log.Warn("offering a peer's transaction to the pool", "peer", p, "err", err)
		return
	}
	n.log.Debug("peer's transaction refused", "peer", p, "txid", tx.TxHash(), "err", err)
	if re.Code != mempool.RejectMissingInputs {
		n.relay.rejected(tx.WitnessHash())
	}
	if re.Code == mempool.RejectInvalid {
		n.Misbehaving(p, banScoreLimit/10, "invalid transaction: "+re.Reason)
	}
}

// AnnounceTxs queues wtxids of pool transactions for announcement to
// every peer that does not know them (the pool's OnAccepted, and
// sendrawtransaction of a transaction already pooled).
func (n *Node) AnnounceTxs(wtxids ...chainhash.Hash) {
	n.relay.announce(wtxids)
}

// hashSet is a set of 64-bit keys that forgets the oldest beyond its size,
// as Core's rolling bloom filters do.
type hashSet struct {
	set  map[uint64]struct{}
	ring []uint64 // grows to max, then is overwritten oldest first
	max  int
	next int
}

func newHashSet(max int) *hashSet {
	return &hashSet{set: make(map[uint64]struct{}), max: max}
}

func (h *hashSet) has(k uint64) bool {
	_, ok := h.set[k]
	return ok
}

func (h *hashSet) add(k uint64) {
	if h.has(k) {
		return
	}
	if len(h.ring) < h.max {
		h.ring = append(h.ring, k)
	} else {
		delete(h.set, h.ring[h.next])
		h.ring[h.next] = k
		h.next = (h.next + 1) % len(h.ring)
	}
	h.set[k] = struct{}{}
}
