package p2p

import (
	"encoding/binary"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// wtxidN returns a distinct hash for i.
func wtxidN(i int) chainhash.Hash {
	var h chainhash.Hash
	binary.LittleEndian.PutUint64(h[:], uint64(i)+1)
	return h
}

// TestTxRelayQueueBound checks what a peer can make the node remember for
// it: the announcement queue stops at maxQueuedPerPeer whatever the pool
// announces, holds each wtxid once, and the known set forgets its oldest
// keys beyond maxKnownPerPeer (Core's m_tx_inventory_known_filter rolls
// the same way).
func TestTxRelayQueueBound(t *testing.T) {
	r := newTxRelay(&Node{})
	rp := &relayPeer{known: newHashSet(maxKnownPerPeer), queued: make(map[uint64]struct{}), wake: make(chan struct{}, 1)}

	batch := make([]chainhash.Hash, 0, maxQueuedPerPeer+10_000)
	for i := range cap(batch) {
		batch = append(batch, wtxidN(i))
	}
	r.mu.Lock()
	r.enqueueLocked(rp, batch)
	r.enqueueLocked(rp, batch[:100]) // already queued: not again
	r.mu.Unlock()
	if len(rp.queue) != maxQueuedPerPeer || len(rp.queued) != maxQueuedPerPeer {
		t.Fatalf("queue %d, queued set %d; want both %d", len(rp.queue), len(rp.queued), maxQueuedPerPeer)
	}
	if rp.queue[0] != batch[0] || rp.queue[maxQueuedPerPeer-1] != batch[maxQueuedPerPeer-1] {
		t.Fatal("the queue does not keep the first wtxids in order")
	}
	select {
	case <-rp.wake:
	default:
		t.Fatal("enqueue did not wake the announcer")
	}

	// Known wtxids are never queued.
	rp2 := &relayPeer{known: newHashSet(maxKnownPerPeer), queued: make(map[uint64]struct{}), wake: make(chan struct{}, 1)}
	rp2.known.add(r.short(batch[0]))
	r.mu.Lock()
	r.enqueueLocked(rp2, batch[:2])
	r.mu.Unlock()
	if len(rp2.queue) != 1 || rp2.queue[0] != batch[1] {
		t.Fatalf("queued %v for a peer that knows %v", rp2.queue, batch[0])
	}

	// The known set holds at most maxKnownPerPeer keys, forgetting the oldest.
	known := newHashSet(maxKnownPerPeer)
	for i := range maxKnownPerPeer + 5 {
		known.add(uint64(i))
	}
	if len(known.set) != maxKnownPerPeer || len(known.ring) != maxKnownPerPeer {
		t.Fatalf("known set holds %d keys (ring %d), want %d", len(known.set), len(known.ring), maxKnownPerPeer)
	}
	if known.has(0) || known.has(4) || !known.has(5) || !known.has(maxKnownPerPeer+4) {
		t.Fatal("the known set did not forget its oldest keys first")
	}
}
