package miner

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
)

// heights is a chain of known block heights by hash.
type heights struct {
	mu sync.Mutex
	h  map[chainhash.Hash]int32
}

func (c *heights) BlockInfo(hash chainhash.Hash) (*chain.BlockInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.h[hash]
	if !ok {
		return nil, fmt.Errorf("unknown %v", hash)
	}
	return &chain.BlockInfo{Hash: hash, Height: h}, nil
}

func (c *heights) add(hash chainhash.Hash, h int32) {
	c.mu.Lock()
	c.h[hash] = h
	c.mu.Unlock()
}

// TestSelfishStrategy walks Eyal and Sirer's Algorithm 1 through each of
// its cases: withhold, race on a tie, win a tie by mining on the own
// branch, override with a lead of two, release one block at a time with a
// longer lead, and adopt the others' longer chain.
func TestSelfishStrategy(t *testing.T) {
	c := &heights{h: map[chainhash.Hash]int32{}}
	base := chainhash.Hash{0xba}
	c.add(base, 4)
	s := &Selfish{Chain: c}
	released := make(chan chainhash.Hash, 100)
	s.SetAnnounce(func(h chainhash.Hash) { released <- h })
	n := byte(0)
	// ours mines a block of the node's at height on parent.
	ours := func(parent chainhash.Hash, height int32) chainhash.Hash {
		n++
		b := &wire.MsgBlock{Header: wire.BlockHeader{PrevBlock: parent, Nonce: uint32(n)}}
		hash := b.Header.BlockHash()
		s.Mined(b, hash, height)
		c.add(hash, height) // the chain stores it after Mined
		return hash
	}
	// theirs relays a peer's block on parent.
	theirs := func(parent chainhash.Hash) chainhash.Hash {
		n++
		h := &wire.BlockHeader{PrevBlock: parent, Nonce: 1000 + uint32(n)}
		s.PeerBlock(h)
		info, _ := c.BlockInfo(parent)
		c.add(h.BlockHash(), info.Height+1)
		return h.BlockHash()
	}
	expect := func(what string, want ...chainhash.Hash) {
		t.Helper()
		for _, w := range want {
			select {
			case got := <-released:
				if got != w {
					t.Fatalf("%s: released %v, want %v", what, got, w)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("%s: %v not released", what, w)
			}
		}
		select {
		case got := <-released:
			t.Fatalf("%s: released %v too", what, got)
		case <-time.After(20 * time.Millisecond):
		}
	}

	// Withhold: the block is held, and peers are shown its parent.
	a5 := ours(base, 5)
	if !s.Hold(a5) {
		t.Fatal("own block announced")
	}
	if shown, ok := s.Shown(); !ok || shown != base {
		t.Fatalf("shown %v %v, want the parent", shown, ok)
	}
	expect("withheld")
	// Theirs at 5: a tie; the own block is released to race.
	h5 := theirs(base)
	expect("race", a5)
	if s.Hold(a5) {
		t.Fatal("a released block is still held")
	}
	if _, ok := s.Shown(); ok {
		t.Fatal("nothing withheld, but a tip other than the node's shown")
	}
	// Own block on the own branch wins the tie: released as it connects.
	a6 := ours(a5, 6)
	expect("won tie")
	if s.Hold(a6) {
		t.Fatal("the tie-winning block is held")
	}
	_ = h5

	// A lead of two, then theirs: override with everything.
	a7 := ours(a6, 7)
	a8 := ours(a7, 8)
	if !s.Hold(a7) || !s.Hold(a8) {
		t.Fatal("lead blocks not held")
	}
	theirs(a6)
	expect("override", a7, a8)

	// A lead of three: each of theirs takes one block out, until the
	// lead is two, then all.
	a9 := ours(a8, 9)
	a10 := ours(a9, 10)
	a11 := ours(a10, 11)
	h9 := theirs(a8)
	expect("lead 3", a9)
	theirs(h9)
	expect("lead 2", a10, a11)

	// Nothing private: theirs is simply adopted, nothing released.
	theirs(a11)
	expect("adopt")
	if s.Hold(a11) {
		t.Fatal("held after release")
	}
	// A second block of theirs at the same height is no news. Then a
	// race lost: theirs on theirs, the own block abandoned.
	x := theirs(a11)
	c13 := ours(x, 13)
	h13 := theirs(x)
	expect("race 13", c13)
	theirs(h13)
	expect("lost race")
	if _, ok := s.Shown(); ok {
		t.Fatal("something still withheld after adopting")
	}
}
