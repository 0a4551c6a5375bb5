package p2p

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/p2p/internal/hostile"
)

// TestRelayRacesCostNothing ensures transactions an honest peer relays in
// good faith cost it nothing when this node, a block behind, refuses them:
// a coinbase spent at the first height it matures and a lock time this
// node's next block does not reach (Core's TX_PREMATURE_SPEND, never
// punished). A transaction invalid by consensus, which no honest node
// relays, still costs its sender, as in Core. The relayer is a hostile
// peer speaking the protocol, a block ahead of the victim.
func TestRelayRacesCostNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	f := newTxFixture(t, net, 0)
	// "fund" (height 1) pays the key; with m0..m97 the tip is at 99, so
	// the next block, 100, is one short of its maturity.
	f.setup = f.setup[:len(f.setup)-2]
	victim := newPoolNode(t, ctx, net, f)
	if h := victim.chain.BestSnapshot().Height; h != 99 {
		t.Fatalf("victim at height %d, want 99", h)
	}
	relayer, err := hostile.New(ctx, hostile.Network{Name: net.Name, Genesis: net.GenesisHash()})
	if err != nil {
		t.Fatal(err)
	}
	defer relayer.Close()
	if _, err := relayer.Connect(ctx, victim.node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}

	out := f.g.CoinbaseOut("fund")
	out.Key = f.key
	premature, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{out}, []int64{out.Amount - 10_000}, f.pk)
	if err != nil {
		t.Fatal(err)
	}
	nonFinal, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{out}, []int64{out.Amount - 20_000}, f.pk)
	if err != nil {
		t.Fatal(err)
	}
	nonFinal.LockTime, nonFinal.TxIn[0].Sequence = 101, wire.MaxTxInSequenceNum-1
	if nonFinal, err = resign(f, out, nonFinal); err != nil {
		t.Fatal(err)
	}
	announce := func(tx *wire.MsgTx) {
		t.Helper()
		actx, acancel := context.WithTimeout(ctx, 10*time.Second)
		defer acancel()
		if n, err := relayer.AnnounceTxs(actx, victim.node.ID(), []*wire.MsgTx{tx}); err != nil || n != 1 {
			t.Fatalf("announce %v: asked for %d, %v", tx.TxHash(), n, err)
		}
	}
	for _, tx := range []*wire.MsgTx{premature, nonFinal} {
		announce(tx)
	}
	time.Sleep(200 * time.Millisecond) // the pool's answers are synchronous; this is slack
	if s := victim.node.bans.score(relayer.ID()); s != 0 {
		t.Fatalf("a premature spend and a non-final transaction cost the relayer %d points", s)
	}
	if victim.pool.Count() != 0 {
		t.Fatalf("the victim pooled %d transactions its next block could not hold", victim.pool.Count())
	}

	// One input spent twice: invalid by consensus, no honest node relays it.
	bad := premature.Copy()
	bad.TxIn = append(bad.TxIn, bad.TxIn[0])
	announce(bad)
	waitFor(t, 5*time.Second, "the penalty for an invalid transaction", func() bool {
		return victim.node.bans.score(relayer.ID()) == banScoreLimit/10
	})
}

// resign signs tx's single input, spending out, again after a change.
func resign(f *txFixture, out chaintest.SpendableOut, tx *wire.MsgTx) (*wire.MsgTx, error) {
	prev := txscript.NewCannedPrevOutputFetcher(out.PkScript, out.Amount)
	w, err := txscript.WitnessSignature(tx, txscript.NewTxSigHashes(tx, prev), 0, out.Amount, out.PkScript,
		txscript.SigHashAll, f.key, true)
	if err != nil {
		return nil, err
	}
	tx.TxIn[0].Witness = w
	return tx, nil
}
