package chain

import (
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// NotificationType says what happened to a block.
type NotificationType int

const (
	// BlockConnected: the block became the new tip.
	BlockConnected NotificationType = iota
	// BlockDisconnected: the block was the tip and was removed in a
	// reorganization or by InvalidateBlock.
	BlockDisconnected
)

// String implements fmt.Stringer.
func (t NotificationType) String() string {
	if t == BlockConnected {
		return "connected"
	}
	return "disconnected"
}

// Notification reports one change of the main chain. The block must not be
// modified.
type Notification struct {
	Type   NotificationType
	Block  *wire.MsgBlock
	Hash   chainhash.Hash
	Height int32
	// ConnectTime is how long validating and connecting the block took
	// (connected blocks only).
	ConnectTime time.Duration
	// Scripts, when the address index is on, are the scripts whose
	// confirmed history the change altered: those the block's
	// transactions pay or spend. They must not be modified.
	Scripts []ScriptHash
}

// Subscription delivers the chain's notifications in the order they
// happened. Its queue is unbounded, so a slow subscriber never blocks the
// chain; it must keep reading or Close the subscription.
type Subscription struct {
	n   *notifier
	out chan Notification

	mu     sync.Mutex
	queue  []Notification
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

// C returns the channel notifications arrive on. It is closed after Close
// or when the chain closes.
func (s *Subscription) C() <-chan Notification { return s.out }

// Close stops the subscription.
func (s *Subscription) Close() {
	s.n.remove(s)
	s.stop()
}

func (s *Subscription) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

func (s *Subscription) push(n Notification) {
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, n)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run moves queued notifications to the out channel.
func (s *Subscription) run() {
	defer close(s.out)
	for {
		s.mu.Lock()
		q := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, n := range q {
			select {
			case s.out <- n:
			case <-s.done:
				return
			}
		}
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
	}
}

// notifier fans notifications out to subscriptions.
type notifier struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

func newNotifier() *notifier { return &notifier{subs: make(map[*Subscription]struct{})} }

func (n *notifier) send(note Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for s := range n.subs {
		s.push(note)
	}
}

func (n *notifier) remove(s *Subscription) {
	n.mu.Lock()
	delete(n.subs, s)
	n.mu.Unlock()
}

func (n *notifier) close() {
	n.mu.Lock()
	subs := n.subs
	n.subs = map[*Subscription]struct{}{}
	n.mu.Unlock()
	for s := range subs {
		s.stop()
	}
}

// Subscribe returns a subscription to every block connected to or
// disconnected from the main chain from now on.
//
// This function is safe for concurrent access.
func (b *BlockChain) Subscribe() *Subscription {
	s := &Subscription{
		n:    b.notifier,
		out:  make(chan Notification),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	b.notifier.mu.Lock()
	b.notifier.subs[s] = struct{}{}
	b.notifier.mu.Unlock()
	go s.run()
	return s
}
