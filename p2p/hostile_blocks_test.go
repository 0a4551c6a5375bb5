package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// publishRaw gossips block as its serialized bytes from n, whatever n's
// own chain says of it: what a hostile peer speaking our protocol does.
func publishRaw(t *testing.T, ctx context.Context, n *testNode, block *wire.MsgBlock) {
	t.Helper()
	var buf bytes.Buffer
	if err := block.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	if err := n.node.blocks.Publish(ctx, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// TestLowWorkBlocksNotStoredNorForwarded ensures valid blocks on chains
// with less work than the tip, gossiped by a peer, are neither stored
// (header or body) nor forwarded, as Bitcoin Core's AcceptBlock drops
// unrequested blocks without more work; that their descendants wait in
// the bounded orphan pool at most; that a peer sending a stream of them is
// penalized; and that honest blocks keep arriving meanwhile.
//
//	evil -- mid -- far      mid and far: b0..b19
//	evil gossips s0..s14 (siblings of b0) and f0..f14 (a fork from genesis)
func TestLowWorkBlocksNotStoredNorForwarded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := chaintest.New(chainparams.Regtest())
	for i := 0; i < 21; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	var attack []*wire.MsgBlock
	for i := 0; i < 15; i++ {
		g.SetTip("genesis")
		attack = append(attack, g.NextBlock("s"+itoa(i), nil, nil))
	}
	g.SetTip("genesis")
	for i := 0; i < 15; i++ {
		attack = append(attack, g.NextBlock("f"+itoa(i), nil, nil))
	}

	slow := func(c *Config) { c.StatusInterval = time.Hour }
	mid, far, evil := chainOf(t, ctx, g, 20, slow), chainOf(t, ctx, g, 20, slow), chainOf(t, ctx, g, 0, slow)
	connect(t, ctx, mid, far)
	connect(t, ctx, evil, mid)
	waitMeshed(t, mid.node, far.node)
	waitMeshed(t, evil.node, mid.node)

	for _, b := range attack {
		publishRaw(t, ctx, evil, b)
	}
	waitFor(t, 10*time.Second, "the flooder's penalty", func() bool { return mid.node.bans.score(evil.node.ID()) > 0 })

	// An honest block still arrives, and crosses mid to far.
	if _, err := mid.chain.ProcessBlock(g.Block("b20")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the honest block at far", tipIs(far, g.Block("b20").BlockHash()))

	for _, b := range attack {
		h := b.BlockHash()
		if mid.chain.HaveBlock(h) || mid.chain.HaveHeader(h) {
			t.Errorf("mid stored %s of the less-work fork", g.NameOf(h))
		}
		if far.chain.HaveHeader(h) {
			t.Errorf("mid forwarded %s of the less-work fork to far", g.NameOf(h))
		}
	}
	if n := len(mid.chain.ChainTips()); n != 1 {
		t.Errorf("mid has %d chain tips, want 1", n)
	}
	if total, _ := mid.node.orphans.size(""); total > maxOrphanBytes {
		t.Errorf("mid's orphan pool holds %d bytes", total)
	}
	if mid.node.bans.banned(evil.node.ID()) {
		t.Error("a flood of valid less-work blocks banned the sender: a penalty is enough")
	}
}

// TestBlockRequestsBounded ensures a blocks request naming a hash twice is
// refused as malformed (and costs the asker), that blocks are served as
// their stored bytes, and that blocktxn is answered only for blocks within
// maxBlockTxnDepth of the tip, as Core's MAX_BLOCKTXN_DEPTH.
func TestBlockRequestsBounded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := chaintest.New(chainparams.Regtest())
	for i := 0; i < 30; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	slow := func(c *Config) { c.StatusInterval = time.Hour }
	server, asker := chainOf(t, ctx, g, 30, slow), chainOf(t, ctx, g, 30, slow)
	connect(t, ctx, asker, server)

	// Served whole, byte for byte as stored.
	tip := g.Block("b29").BlockHash()
	got, err := asker.node.fetchBlock(ctx, server.node.ID(), tip)
	if err != nil {
		t.Fatal(err)
	}
	var want, have bytes.Buffer
	_ = g.Block("b29").Serialize(&want)
	_ = got.Serialize(&have)
	if !bytes.Equal(want.Bytes(), have.Bytes()) {
		t.Fatal("served block differs from the stored one")
	}

	// One hash twice: malformed.
	s, err := asker.node.host.NewStream(ctx, server.node.ID(), server.node.protocol("getblocks"))
	if err != nil {
		t.Fatal(err)
	}
	if err := encodeRequest(s, getBlocksRequest{Hashes: []string{tip.String(), tip.String()}}); err != nil {
		t.Fatal(err)
	}
	if block, err := readBlockFrame(bufio.NewReader(s)); err == nil && block != nil {
		t.Fatal("a request naming a block twice was answered")
	}
	s.Close()
	waitFor(t, 5*time.Second, "the asker's penalty", func() bool {
		return server.node.bans.score(asker.node.ID()) == banScoreLimit/2
	})

	// blocktxn: near the tip yes, deep no.
	if txs, err := asker.node.fetchBlockTxn(ctx, server.node.ID(), g.Block("b25").BlockHash(), []int{0}); err != nil || len(txs) != 1 {
		t.Fatalf("blocktxn of a block 4 deep: %d transactions, %v", len(txs), err)
	}
	if txs, err := asker.node.fetchBlockTxn(ctx, server.node.ID(), g.Block("b5").BlockHash(), []int{0}); err == nil {
		t.Fatalf("blocktxn of a block 24 deep answered (%d transactions)", len(txs))
	}
}

// TestSiblingHeadersRefused ensures headers that do not form one chain
// (here 2,000 siblings of genesis, each with valid proof of work, which
// the node stored one by one before) are refused whole and cost the peer,
// as Core's "non-continuous headers sequence" does: the index keeps none.
func TestSiblingHeadersRefused(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := chaintest.New(chainparams.Regtest())
	var siblings []wire.BlockHeader
	for i := 0; i < maxHeadersPerResponse; i++ {
		g.SetTip("genesis")
		siblings = append(siblings, g.NextBlock("s"+itoa(i), nil, nil).Header)
	}
	evil := chainOf(t, ctx, g, 0)
	evil.node.host.SetStreamHandler(evil.node.protocol("headers"), func(s network.Stream) {
		defer s.Close()
		if _, err := decodeHeadersRequest(s); err != nil {
			return
		}
		w := bufio.NewWriter(s)
		_ = binary.Write(w, binary.LittleEndian, uint32(len(siblings)))
		for i := range siblings {
			_ = siblings[i].Serialize(w)
		}
		_ = w.Flush()
	})
	// The evil node claims more work than the victim has, so it is asked.
	if _, err := evil.chain.ProcessBlock(g.Block("s0")); err != nil {
		t.Fatal(err)
	}
	victim := chainOf(t, ctx, g, 0)
	connect(t, ctx, victim, evil)
	waitFor(t, 10*time.Second, "the sender's penalty", func() bool {
		return victim.node.bans.score(evil.node.ID()) >= banScoreLimit/2
	})
	if n := len(victim.chain.ChainTips()); n != 1 {
		t.Fatalf("%d chain tips after 2,000 sibling headers", n)
	}
}
