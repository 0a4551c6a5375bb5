package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// stuffedWitnessScript is a witness script that takes nine 520-byte stack
// items and drops them: each input spending it carries 4.7 KB of witness,
// which is how a test block grows past 1 MB within the weight limit.
var stuffedWitnessScript = func() []byte {
	b := txscript.NewScriptBuilder()
	for range 9 {
		b.AddOp(txscript.OP_DROP)
	}
	b.AddOp(txscript.OP_TRUE)
	s, _ := b.Script()
	return s
}()

// bigBlock extends g (at least 100 blocks past the coinbase of fund) by a
// block funding inputs P2WSH outputs and a block spending them with stuffed
// witnesses, and returns the second block's name.
func bigBlock(g *chaintest.Generator, fund string, inputs int, prefix string) string {
	out := g.CoinbaseOut(fund)
	values := make([]int64, inputs)
	for i := range values {
		values[i] = (out.Amount - 10_000) / int64(inputs)
	}
	funding := chaintest.CreateTx([]chaintest.SpendableOut{out}, values, chaintest.P2WSHScript(stuffedWitnessScript))
	g.NextBlock(prefix+"fund", nil, []*wire.MsgTx{funding})
	spend := chaintest.CreateTx(chaintest.TxOuts(funding), []int64{values[0]}, chaintest.OpTrueScript)
	item := bytes.Repeat([]byte{0xca}, 520)
	for _, in := range spend.TxIn {
		for range 9 {
			in.Witness = append(in.Witness, item)
		}
		in.Witness = append(in.Witness, stuffedWitnessScript)
	}
	g.NextBlock(prefix+"big", nil, []*wire.MsgTx{spend})
	return prefix + "big"
}

// TestLargeBlockGossips ensures a block over GossipSub's default 1 MiB
// limit travels by full-block gossip, which needs the raised size limit on
// both ends.
func TestLargeBlockGossips(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	g := chaintest.New(net)
	for i := 0; i < 101; i++ {
		g.NextBlock("b"+itoa(i), nil, nil)
	}
	name := bigBlock(g, "b0", 300, "x")
	big := g.Block(name)
	if size := big.SerializeSize(); size < 1<<20+100_000 {
		t.Fatalf("the big block has only %d bytes", size)
	}
	now := func() time.Time { return g.Now().Add(time.Hour) }
	// Slow status refreshes: the block must come by gossip, not by sync.
	slow := func(c *Config) { c.StatusInterval, c.BlockRelay = time.Hour, RelayFull }
	a, b := newTestNode(t, ctx, net, now, slow), newTestNode(t, ctx, net, now, slow)
	for _, n := range []*testNode{a, b} {
		for i := 0; i < 101; i++ {
			if _, err := n.chain.ProcessBlock(g.Block("b" + itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := n.chain.ProcessBlock(g.Block("xfund")); err != nil {
			t.Fatal(err)
		}
	}
	connect(t, ctx, a, b)
	waitFor(t, 10*time.Second, "a gossip mesh", func() bool {
		return len(a.node.blocks.ListPeers()) == 1 && len(b.node.blocks.ListPeers()) == 1
	})
	if _, err := a.chain.ProcessBlock(big); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the big block to reach the peer", tipIs(b, big.BlockHash()))
	b.node.mu.Lock()
	_, byGossip := b.node.gossiped[big.BlockHash()]
	b.node.mu.Unlock()
	if !byGossip {
		t.Fatalf("the %d-byte block arrived by sync, not by gossip", big.SerializeSize())
	}
}

// TestOversizedGossipBans ensures a peer whose gossip message is larger
// than anything valid is banned, both when the router drops the message
// unread (over its limit) and when a topic validator sees it (over the
// topic's own limit), and a peer that answers a request for a
// transaction with more bytes than a standard transaction may have.
func TestOversizedGossipBans(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()

	t.Run("over the router limit", func(t *testing.T) {
		victim, evil := newTestNode(t, ctx, net, nil), newTestNode(t, ctx, net, nil)
		connect(t, ctx, evil, victim)
		waitFor(t, 10*time.Second, "the handshake", func() bool { return victim.node.PeerCount() == 1 })
		s, err := evil.node.host.NewStream(ctx, victim.node.ID(), gossipProtocol)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = s.Write(binary.AppendUvarint(nil, maxGossipBytes+1))
		_, _ = s.Write(make([]byte, 1024))
		waitFor(t, 10*time.Second, "the sender's ban", func() bool { return victim.node.bans.banned(evil.node.ID()) })
	})

	t.Run("over the transaction limit", func(t *testing.T) {
		victim, evil := newPoolNode(t, ctx, net, newTxFixture(t, net, 0)), newTestNode(t, ctx, net, nil)
		if err := evil.node.Connect(ctx, victim.node.Addrs()[0]); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the handshake", func() bool { return victim.node.PeerCount() == 1 })
		announceRaw(ctx, evil.node, victim.node, []chainhash.Hash{{1}}, func(uint32) []byte {
			return make([]byte, maxTxRelayBytes+1)
		})
		waitFor(t, 10*time.Second, "the sender's ban", func() bool { return victim.node.bans.banned(evil.node.ID()) })
	})
}
