package p2p

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/mempool"
)

// TestCompactBlockRelay ensures a block announced compactly along a line
// of three nodes is rebuilt at each: from the pool alone where it holds
// every transaction, and with the missing ones fetched from the
// forwarding peer where it does not.
func TestCompactBlockRelay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 6)
	// Slow status refreshes: blocks must come by gossip, not by sync; no
	// transaction relay: the pools hold what the test puts there.
	slow := func(c *Config) { c.StatusInterval = time.Hour; c.BlocksOnly = true }
	a, b, c := newPoolNode(t, ctx, net, f, slow), newPoolNode(t, ctx, net, f, slow), newPoolNode(t, ctx, net, f, slow)
	for i, tx := range f.spends {
		if i < 4 {
			if _, err := b.pool.ProcessTransaction(tx, false); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.pool.ProcessTransaction(tx, false); err != nil {
			t.Fatal(err)
		}
	}
	connectPools(t, ctx, a, b)
	connectPools(t, ctx, b, c)
	waitMeshed(t, a.node, b.node)
	waitMeshed(t, b.node, c.node)

	block := f.g.NextBlock("x", nil, f.spends)
	if _, err := a.chain.ProcessBlock(block); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*poolNode{b, c} {
		waitFor(t, 10*time.Second, "the block at every node", func() bool { return n.chain.BestSnapshot().Hash == block.BlockHash() })
		n.node.mu.Lock()
		_, byGossip := n.node.gossiped[block.BlockHash()]
		n.node.mu.Unlock()
		if !byGossip {
			t.Fatal("the block came by sync, not by gossip")
		}
	}
	for _, tc := range []struct {
		name    string
		n       *poolNode
		fetched int64
	}{{"b (4 of 6 in its pool)", b, 2}, {"c (all in its pool)", c, 0}} {
		s := &tc.n.node.compactStats
		if s.rebuilt.Load() != 1 || s.failed.Load() != 0 || s.fetched.Load() != tc.fetched {
			t.Errorf("%s: rebuilt %d, failed %d, fetched %d transactions; want 1, 0, %d",
				tc.name, s.rebuilt.Load(), s.failed.Load(), s.fetched.Load(), tc.fetched)
		}
	}
}

// TestCompactBlockEncoding ensures a compact block decodes to what was
// encoded and rebuilds its block from the transactions it names.
func TestCompactBlockEncoding(t *testing.T) {
	f := newTxFixture(t, chainparams.Regtest(), 3)
	block := f.g.NextBlock("x", nil, f.spends)
	c := newCompactBlock(block)
	got, err := decodeCompactBlock(c.encode())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.encode(), c.encode()) || got.txCount() != len(block.Transactions) {
		t.Fatal("the compact block does not survive a round trip")
	}
	rebuilt, missing := got.reconstruct(fakePool(f.spends))
	if len(missing) != 0 {
		t.Fatalf("missing %v", missing)
	}
	var want, have bytes.Buffer
	_ = block.Serialize(&want)
	_ = rebuilt.Serialize(&have)
	if !bytes.Equal(want.Bytes(), have.Bytes()) {
		t.Fatal("the rebuilt block differs")
	}
	_, missing = got.reconstruct(fakePool(f.spends[1:]))
	if len(missing) != 1 || missing[0] != 1 {
		t.Fatalf("without the first spend, missing %v; want [1]", missing)
	}
}

// fakePool is a mempool of fixed transactions.
type fakePool []*wire.MsgTx

func (p fakePool) ProcessTransaction(*wire.MsgTx, bool) (*mempool.AcceptResult, error) {
	return nil, errors.New("fake pool")
}

func (p fakePool) TxsMatching(match func(chainhash.Hash) bool) map[chainhash.Hash]*wire.MsgTx {
	out := make(map[chainhash.Hash]*wire.MsgTx)
	for _, tx := range p {
		if w := tx.WitnessHash(); match(w) {
			out[w] = tx
		}
	}
	return out
}

func (p fakePool) HaveWTx(w chainhash.Hash) bool {
	return len(p.TxsMatching(func(h chainhash.Hash) bool { return h == w })) > 0
}

func (p fakePool) RawTx(w chainhash.Hash) ([]byte, bool) {
	for _, tx := range p.TxsMatching(func(h chainhash.Hash) bool { return h == w }) {
		var buf bytes.Buffer
		_ = tx.Serialize(&buf)
		return buf.Bytes(), true
	}
	return nil, false
}

func (p fakePool) RelayOrder(int) []chainhash.Hash { return nil }

func FuzzDecodeCompactBlock(f *testing.F) {
	fx := newTxFixture(f, chainparams.Regtest(), 2)
	f.Add(newCompactBlock(fx.g.NextBlock("x", nil, fx.spends)).encode())
	f.Add(newCompactBlock(chaintest.New(chainparams.Regtest()).NextBlock("y", nil, nil)).encode())
	f.Add(make([]byte, 88))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCompactBlock(data)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is not errMalformed", err)
			}
			return
		}
		if c.txCount() > maxCompactTxs || len(c.prefilled) == 0 || !bytes.Equal(c.encode(), data) {
			t.Fatal("accepted a compact block that breaks its checks or does not encode back")
		}
		c.reconstruct(nil)
	})
}

// TestCompactMismatchFetchesBlock ensures a compact block that rebuilds to
// a body not matching its header (what a short-ID collision gives) is
// fetched whole from the peer that sent it, and not held against it.
func TestCompactMismatchFetchesBlock(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 3)
	block := f.g.NextBlock("x", nil, f.spends)
	a := newPoolNode(t, ctx, net, f)
	if _, err := a.chain.ProcessBlock(block); err != nil {
		t.Fatal(err)
	}
	// b is not Run: no sync races the gossip path under test.
	c := f.newChain(t, net)
	b, err := New(ctx, Config{Chain: c, Mempool: fakePool(f.spends), Dir: t.TempDir(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Connect(ctx, a.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	cb := newCompactBlock(block)
	cb.shortIDs[0], cb.shortIDs[1] = cb.shortIDs[1], cb.shortIDs[0] // rebuilds in the wrong order
	msg := &pubsub.Message{Message: &pb.Message{Data: cb.encode()}}
	if res := b.validateCompact(ctx, a.node.ID(), msg); res != pubsub.ValidationAccept {
		t.Fatalf("validation %v, want accept", res)
	}
	if c.BestSnapshot().Hash != block.BlockHash() || b.compactStats.failed.Load() != 1 {
		t.Fatalf("tip %v, failed rebuilds %d", c.BestSnapshot().Hash, b.compactStats.failed.Load())
	}
	if b.bans.score(a.node.ID()) != 0 {
		t.Fatal("the sender was penalized for a collision")
	}
}
