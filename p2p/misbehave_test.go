package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// mutated returns a copy of block whose body no longer matches its
// header: the coinbase's extra nonce differs, so the merkle root does not.
func mutated(block *wire.MsgBlock) *wire.MsgBlock {
	m := chaintest.CopyBlock(block)
	m.Transactions[0].TxIn[0].SignatureScript[len(m.Transactions[0].TxIn[0].SignatureScript)-1] ^= 1
	return m
}

// writeBlockFrame writes block as one length-prefixed frame, as getblocks
// answers: what a hostile server sends instead of the stored bytes.
func writeBlockFrame(w io.Writer, block *wire.MsgBlock) error {
	var buf bytes.Buffer
	buf.Grow(block.SerializeSize() + 4)
	buf.Write([]byte{0, 0, 0, 0})
	if err := block.Serialize(&buf); err != nil {
		return err
	}
	raw := buf.Bytes()
	binary.LittleEndian.PutUint32(raw, uint32(len(raw)-4))
	_, err := w.Write(raw)
	return err
}

// chainOf starts a test node holding blocks b0..b<n-1> of g.
func chainOf(t *testing.T, ctx context.Context, g *chaintest.Generator, n int, opts ...func(*Config)) *testNode {
	t.Helper()
	tn := newTestNode(t, ctx, chainparams.Regtest(), func() time.Time { return g.Now().Add(time.Hour) }, opts...)
	for i := 0; i < n; i++ {
		if _, err := tn.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

// TestMutatedDownloadBans ensures a peer that answers a block request with
// a body that does not match the header asked for is banned, instead of
// being asked again, and the download finishes from an honest peer.
func TestMutatedDownloadBans(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := chaintest.New(chainparams.Regtest())
	for i := 0; i < 20; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	evil := chainOf(t, ctx, g, 20)
	var served atomic.Int32
	evil.node.host.SetStreamHandler(evil.node.protocol("getblocks"), func(s network.Stream) {
		defer s.Close()
		hashes, err := decodeGetBlocks(s)
		if err != nil {
			return
		}
		w := bufio.NewWriter(s)
		for _, h := range hashes {
			block, err := evil.chain.BlockByHash(h)
			if err == nil {
				served.Add(1)
				_ = writeBlockFrame(w, mutated(block))
			}
		}
		_, _ = w.Write([]byte{0, 0, 0, 0})
		_ = w.Flush()
	})
	fresh := chainOf(t, ctx, g, 0)
	connect(t, ctx, fresh, evil)
	waitFor(t, 10*time.Second, "the mutating peer's ban", func() bool { return fresh.node.bans.banned(evil.node.ID()) })
	if n := served.Load(); n > 2*peerWindow {
		t.Fatalf("the mutating peer served %d blocks before its ban", n)
	}
	honest := chainOf(t, ctx, g, 20)
	connect(t, ctx, fresh, honest)
	waitFor(t, 10*time.Second, "the download to finish from the honest peer", tipIs(fresh, g.Block("b19").BlockHash()))
}

// TestMutatedGossipBlockRecovers ensures a peer that gossips the header of
// a new block with a body that does not match it is banned, and that the
// genuine block, which whole-block gossip then drops as a duplicate of
// that message, still arrives at once (not at the next status refresh):
// by its compact announcement, or by sync once the node asks its peers
// who has the block whose header it holds.
func TestMutatedGossipBlockRecovers(t *testing.T) {
	t.Parallel()
	for _, relay := range []BlockRelay{RelayCompact, RelayFull} {
		t.Run(map[BlockRelay]string{RelayCompact: "compact", RelayFull: "full"}[relay], func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g := chaintest.New(chainparams.Regtest())
			for i := 0; i < 6; i++ {
				g.NextBlock("b"+itoa(i), nil, nil)
			}
			slow := func(c *Config) { c.StatusInterval, c.BlockRelay = time.Hour, relay }
			victim, evil, honest := chainOf(t, ctx, g, 5, slow), chainOf(t, ctx, g, 5, slow), chainOf(t, ctx, g, 5, slow)
			connect(t, ctx, victim, evil)
			connect(t, ctx, victim, honest)
			waitMeshed(t, victim.node, evil.node)
			waitMeshed(t, victim.node, honest.node)

			block := g.Block("b5")
			var buf bytes.Buffer
			_ = mutated(block).Serialize(&buf)
			if err := evil.node.blocks.Publish(ctx, buf.Bytes()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the mutating peer's ban", func() bool { return victim.node.bans.banned(evil.node.ID()) })
			if _, err := honest.chain.ProcessBlock(block); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the genuine block", tipIs(victim, block.BlockHash()))
		})
	}
}

// TestHeaderReplayEnds ensures a peer that answers every headers request
// with the same full batch, whatever the locator, is penalized and no
// longer asked, instead of being asked forever.
func TestHeaderReplayEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := chaintest.New(chainparams.Regtest())
	const blocks = maxHeadersPerResponse + 100
	for i := 0; i < blocks; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	evil := chainOf(t, ctx, g, blocks)
	var asked atomic.Int32
	evil.node.host.SetStreamHandler(evil.node.protocol("headers"), func(s network.Stream) {
		defer s.Close()
		asked.Add(1)
		if _, err := decodeHeadersRequest(s); err != nil {
			return
		}
		w := bufio.NewWriter(s)
		_ = binary.Write(w, binary.LittleEndian, uint32(maxHeadersPerResponse))
		for i := 0; i < maxHeadersPerResponse; i++ {
			_ = g.Block("b" + itoa(i)).Header.Serialize(w)
		}
		_ = w.Flush()
	})
	fresh := chainOf(t, ctx, g, 0, func(c *Config) { c.StatusInterval = time.Hour })
	connect(t, ctx, fresh, evil)
	waitFor(t, time.Minute, "the replaying peer's penalty", func() bool { return fresh.node.bans.score(evil.node.ID()) > 0 })
	time.Sleep(500 * time.Millisecond)
	if n := asked.Load(); n > 3 {
		t.Fatalf("the replaying peer was asked %d times", n)
	}
	if _, h, _ := fresh.chain.BestHeader(); h != maxHeadersPerResponse {
		t.Fatalf("best header %d, want the %d replayed ones", h, maxHeadersPerResponse)
	}
}
