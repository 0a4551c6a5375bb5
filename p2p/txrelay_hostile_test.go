package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/cairnchain/cairn/chain/chainparams"
)

// announceRaw plays an announcer that speaks the txinv protocol as from
// pleases: it announces inv to the node to, and answers each index asked
// for with reply(index), written as one frame. It returns the indices
// asked for, or nil when the exchange broke.
func announceRaw(ctx context.Context, from, to *Node, inv []chainhash.Hash, reply func(uint32) []byte) []uint32 {
	s, err := from.host.NewStream(network.WithNoDial(ctx, "test"), to.ID(), to.protocol("txinv"))
	if err != nil {
		return nil
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(20 * time.Second))
	w := bufio.NewWriter(s)
	buf := binary.LittleEndian.AppendUint32(nil, uint32(len(inv)))
	for _, h := range inv {
		buf = append(buf, h[:]...)
	}
	_, _ = w.Write(buf)
	if w.Flush() != nil {
		return nil
	}
	want, err := readWant(s, len(inv))
	if err != nil {
		return nil
	}
	for _, i := range want {
		_ = writeFrame(w, reply(i))
	}
	_ = w.Flush()
	_ = s.CloseWrite()
	var sink [1]byte
	_, _ = s.Read(sink[:])
	return want
}

// rawTx serializes tx.
func rawTx(tx *wire.MsgTx) []byte {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	return buf.Bytes()
}

// TestTxRelayBatches ensures a pool of 1,000 transactions reaches a new
// peer in a few announcements, not a message per transaction.
func TestTxRelayBatches(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 1000)
	a, b := newPoolNode(t, ctx, net, f), newPoolNode(t, ctx, net, f)
	for _, tx := range f.spends {
		if _, err := a.pool.ProcessTransaction(tx, false); err != nil {
			t.Fatal(err)
		}
	}
	connectPools(t, ctx, b, a)
	waitFor(t, 30*time.Second, "the 1,000 transactions at the new peer", func() bool { return b.pool.Count() == 1000 })
	if got := a.node.relay.exchanges.Load(); got > 3 {
		t.Errorf("the pool took %d announcements, want at most 3", got)
	}
	if a.node.bans.score(b.node.ID()) != 0 || b.node.bans.score(a.node.ID()) != 0 {
		t.Error("an honest relay cost misbehaviour points")
	}
}

// TestTxRelayFloodRefusedNotPunished ensures a peer that opens many
// announcement exchanges at once, or one after another faster than any
// honest node does, is refused past the limits but neither scored nor
// disconnected, and that relay from others goes on meanwhile.
func TestTxRelayFloodRefusedNotPunished(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 1)
	victim, honest := newPoolNode(t, ctx, net, f), newPoolNode(t, ctx, net, f)
	flooder := newTestNode(t, ctx, net, nil)
	if err := flooder.node.Connect(ctx, victim.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	connectPools(t, ctx, honest, victim)
	waitFor(t, 10*time.Second, "the handshakes", func() bool { return victim.node.PeerCount() == 2 })

	// Exchanges held open: each announces a transaction, is asked for it,
	// and never sends it. Only maxTxRelayStreams are served at once; the
	// rest are refused, however fast or slow the machine.
	var held []network.Stream
	answered := 0
	for i := range 50 {
		s, err := flooder.node.host.NewStream(ctx, victim.node.ID(), victim.node.protocol("txinv"))
		if err != nil {
			t.Fatal(err)
		}
		_ = s.SetDeadline(time.Now().Add(20 * time.Second))
		_ = writeInv(s, []chainhash.Hash{{byte(i), 7}})
		if want, err := readWant(s, 1); err == nil && len(want) == 1 {
			answered++
			held = append(held, s)
		} else {
			s.Close()
		}
	}
	if answered == 0 || answered > maxTxRelayStreams {
		t.Errorf("%d of 50 exchanges held open at once were served, want 1 to %d", answered, maxTxRelayStreams)
	}
	for _, s := range held {
		_ = writeFrame(s, nil)
		s.Close()
	}
	// A burst of exchanges one after another: past the rate, refused.
	for i := range 3 * txRelayStreamBurst {
		announceRaw(ctx, flooder.node, victim.node, []chainhash.Hash{{byte(i), 8}}, func(uint32) []byte { return nil })
	}
	if s := victim.node.bans.score(flooder.node.ID()); s != 0 || victim.node.bans.banned(flooder.node.ID()) {
		t.Errorf("the flooder scored %d (banned %v); a burst costs nothing", s, victim.node.bans.banned(flooder.node.ID()))
	}
	if victim.node.host.Network().Connectedness(flooder.node.ID()) != network.Connected {
		t.Error("the flooder was disconnected")
	}
	if _, err := honest.pool.ProcessTransaction(f.spends[0], false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the honest peer's transaction", func() bool { return victim.pool.Have(f.spends[0].TxHash()) })
}

// TestTxRelayMisbehaviour ensures what no honest announcer sends costs
// its sender: a malformed announcement or answer bans it, an invalid
// transaction scores it.
func TestTxRelayMisbehaviour(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 2)
	good, other := f.spends[0], f.spends[1]
	bad := good.Copy()
	bad.TxIn[0].Witness[0][10] ^= 1 // break the signature

	cases := []struct {
		name   string
		inv    []chainhash.Hash
		reply  func(uint32) []byte
		banned bool
		score  int
	}{
		{name: "empty announcement", inv: []chainhash.Hash{}, banned: true},
		{name: "announcement over the limit", inv: make([]chainhash.Hash, maxInvEntries+1), banned: true},
		{name: "another transaction than announced", inv: []chainhash.Hash{good.WitnessHash()},
			reply: func(uint32) []byte { return rawTx(other) }, banned: true},
		{name: "undecodable transaction", inv: []chainhash.Hash{good.WitnessHash()},
			reply: func(uint32) []byte { return []byte{1, 2, 3} }, banned: true},
		{name: "invalid transaction", inv: []chainhash.Hash{bad.WitnessHash()},
			reply: func(uint32) []byte { return rawTx(bad) }, score: banScoreLimit / 10},
		{name: "gone since announced", inv: []chainhash.Hash{good.WitnessHash()},
			reply: func(uint32) []byte { return nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			victim, evil := newPoolNode(t, ctx, net, f), newTestNode(t, ctx, net, nil)
			if err := evil.node.Connect(ctx, victim.node.Addrs()[0]); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "the handshake", func() bool { return victim.node.PeerCount() == 1 })
			reply := c.reply
			if reply == nil {
				reply = func(uint32) []byte { return nil }
			}
			announceRaw(ctx, evil.node, victim.node, c.inv, reply)
			if c.banned {
				waitFor(t, 10*time.Second, "the ban", func() bool { return victim.node.bans.banned(evil.node.ID()) })
				return
			}
			waitFor(t, 10*time.Second, "the score", func() bool { return victim.node.bans.score(evil.node.ID()) == c.score })
			if victim.node.bans.banned(evil.node.ID()) || victim.pool.Count() != 0 {
				t.Errorf("banned %v, pool %d", victim.node.bans.banned(evil.node.ID()), victim.pool.Count())
			}
		})
	}
}

// TestTxRelayBacksOff ensures a peer that takes each announcement and
// resets the stream does not have the node send it the same batch at the
// retry interval for as long as it stays connected: the wait doubles with
// each failure in a row.
func TestTxRelayBacksOff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 1)
	victim := newPoolNode(t, ctx, net, f)
	// Waits of 20, 40, 80, 160, then 320 ms: about 14 exchanges in the
	// 3 s below (1 + 4 + 2.7 s / 320 ms), where a fixed 20 ms would allow
	// over a hundred.
	victim.node.relay.retry, victim.node.relay.maxRetry = 20*time.Millisecond, 320*time.Millisecond
	refuser := newTestNode(t, ctx, net, nil)
	var exchanges atomic.Int64
	refuser.node.host.SetStreamHandler(refuser.node.protocol("txinv"), func(s network.Stream) {
		exchanges.Add(1)
		_ = s.Reset()
	})
	if err := refuser.node.Connect(ctx, victim.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the handshake", func() bool { return victim.node.PeerCount() == 1 })
	if _, err := victim.pool.ProcessTransaction(f.spends[0], false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first announcement", func() bool { return exchanges.Load() > 0 })
	time.Sleep(3 * time.Second)
	if n := exchanges.Load(); n < 3 || n > 16 {
		t.Errorf("%d announcements in 3 s to a peer that resets every one, want 3 to 16 (a doubling wait)", n)
	}
	if victim.node.host.Network().Connectedness(refuser.node.ID()) != network.Connected {
		t.Error("the refusing peer was disconnected; a reset costs nothing")
	}
}
