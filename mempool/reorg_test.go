package mempool

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/mempool/policy"
)

// TestReorgReturnsChainsParentFirst ensures a reorganization that
// disconnects a parent and its child in two blocks returns both to the
// pool, although the pool hears of the disconnections only after the chain
// has moved to the other branch: offered one block at a time, newest
// first, the child would find neither its parent's output nor its parent.
//
//	b101 -> m1 (p) -> m2 (c)
//	     \-> n1 -> n2 -> n3      (more work: the chain moves here)
func TestReorgReturnsChainsParentFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	fork := h.g.TipName()
	p := h.spend(one(h.coinbase(0)), 2, 1000)
	h.confirm(p)
	c := h.spend(one(h.out(p, 0)), 1, 1000)
	h.confirm(c)
	unrelated := h.spend(one(h.out(p, 1)), 1, 1000)
	h.accept(t, unrelated)

	var announced []*wire.MsgTx
	h.pool.cfg.OnAccepted = func(descs []*TxDesc) {
		for _, d := range descs {
			announced = append(announced, d.Tx)
		}
	}
	sub := h.outgrow(fork)
	defer sub.Close()
	for i := 0; i < 5; i++ { // m2 and m1 out, n1..n3 in
		select {
		case n := <-sub.C():
			if i < 2 && len(announced) > 0 {
				t.Fatal("transactions returned before the pool caught up with the chain")
			}
			h.pool.HandleNotification(n)
		case <-time.After(10 * time.Second):
			t.Fatalf("notification %d never came", i)
		}
	}
	for _, tx := range []*wire.MsgTx{p, c, unrelated} {
		if !h.pool.Have(tx.TxHash()) {
			t.Errorf("%v is not in the pool after the reorganization", tx.TxHash())
		}
	}
	if len(announced) != 2 || announced[0].TxHash() != p.TxHash() || announced[1].TxHash() != c.TxHash() {
		t.Errorf("OnAccepted heard of %d transactions, want p then c", len(announced))
	}
}

// midReorgChain is a chain whose BestSnapshot, while stale is set, reports
// the tip a reorganization passed through rather than the one it reached:
// what a reader sees when it reads the tip an instant before the chain
// disconnects the next block.
type midReorgChain struct {
	*chain.BlockChain
	stale atomic.Pointer[chain.BestState]
}

func (c *midReorgChain) BestSnapshot() *chain.BestState {
	if s := c.stale.Load(); s != nil {
		return s
	}
	return c.BlockChain.BestSnapshot()
}

// TestReorgReturnsAtRest ensures the pool takes back the transactions of
// disconnected blocks only when the chain rests at the tip the
// notifications reach: the pool hears of a reorganization while the chain
// goes on with it, and the child of a transaction in an older disconnected
// block, offered while the chain seemed to rest on that block, found its
// parent's output gone a moment later and was lost (a soak run lost a
// payment so).
//
//	b101 -> m1 (p) -> m2 (c)
//	     \-> n1 -> n2 -> n3      (more work: the chain moves here)
func TestReorgReturnsAtRest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	mid := &midReorgChain{BlockChain: h.chain}
	h.pool = New(Config{Chain: mid, Now: func() time.Time { return h.clock }})
	fork := h.g.TipName()
	p := h.spend(one(h.coinbase(0)), 1, 1000)
	h.confirm(p)
	atM1 := h.chain.BestSnapshot()
	c := h.spend(one(h.out(p, 0)), 1, 1000)
	h.confirm(c)
	sub := h.outgrow(fork)
	defer sub.Close()
	for i := 0; i < 5; i++ { // m2 and m1 out, n1..n3 in
		var n chain.Notification
		select {
		case n = <-sub.C():
		case <-time.After(10 * time.Second):
			t.Fatalf("notification %d never came", i)
		}
		// m2's disconnection is heard while the tip seems to be m1.
		if i == 0 {
			mid.stale.Store(atM1)
		} else {
			mid.stale.Store(nil)
		}
		h.pool.HandleNotification(n)
	}
	for _, tx := range []*wire.MsgTx{p, c} {
		if !h.pool.Have(tx.TxHash()) {
			t.Errorf("%v is not in the pool after the reorganization", tx.TxHash())
		}
	}
}

// outgrow mines n1, n2 and n3 on fork, a branch with more work than the
// tests' own branch above it, and returns a subscription that heard the
// chain move there.
func (h *harness) outgrow(fork string) *chain.Subscription {
	h.t.Helper()
	sub := h.chain.Subscribe()
	h.g.SetTip(fork)
	for _, name := range []string{"n1", "n2", "n3"} {
		if _, err := h.chain.ProcessBlock(h.g.NextBlock(name, nil, nil)); err != nil {
			h.t.Fatal(err)
		}
	}
	return sub
}

// TestReturnedConfirmedByNewBranch ensures a transaction of a disconnected
// block that the new branch confirms is not offered to the pool again.
func TestReturnedConfirmedByNewBranch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	fork := h.g.TipName()
	x := h.spend(one(h.coinbase(0)), 1, 1000)
	h.confirm(x)
	var offered int
	h.pool.cfg.OnAccepted = func(descs []*TxDesc) { offered += len(descs) }
	sub := h.chain.Subscribe()
	defer sub.Close()
	h.g.SetTip(fork)
	h.g.NextBlock("n1", nil, []*wire.MsgTx{x})
	if _, err := h.chain.ProcessBlock(h.g.Tip()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.chain.ProcessBlock(h.g.NextBlock("n2", nil, nil)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		h.pool.HandleNotification(<-sub.C())
	}
	if h.pool.Have(x.TxHash()) || offered != 0 {
		t.Errorf("x confirmed again by n1 is in the pool (%v) or was offered (%d)", h.pool.Have(x.TxHash()), offered)
	}
}

// TestOrphanTakenWhenBlockConfirmsParent ensures an orphan whose parent
// is confirmed by a block, not accepted into the pool, leaves the orphan
// pool for the pool: after a reorganization a peer's transaction often
// arrives before the block that makes it valid.
func TestOrphanTakenWhenBlockConfirmsParent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	parent := h.spend(one(h.coinbase(0)), 1, 1000)
	child := h.spend(one(h.out(parent, 0)), 1, 1000)
	res, err := h.pool.ProcessTransaction(child, true)
	if err != nil || !res.Orphaned {
		t.Fatalf("child not orphaned: %+v, %v", res, err)
	}
	h.confirm(parent)
	if !h.pool.Have(child.TxHash()) || h.pool.OrphanCount() != 0 {
		t.Fatalf("child in the pool %v, orphans %d; want it taken", h.pool.Have(child.TxHash()), h.pool.OrphanCount())
	}
}

// TestRelayOrder ensures announcements name parents before children and,
// among transactions of equal depth, the better-paying first, and that
// pool transactions are found by wtxid.
func TestRelayOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	x := h.spend(one(h.coinbase(0)), 1, 1000)
	y := h.spend(one(h.out(x, 0)), 1, 1000)
	z := h.spend(one(h.out(y, 0)), 1, 1000)
	w := h.spend(one(h.coinbase(1)), 1, 50_000)
	h.accept(t, x, y, z, w)
	got := h.pool.RelayOrder(10)
	want := []*wire.MsgTx{w, x, y, z}
	if len(got) != len(want) {
		t.Fatalf("%d wtxids, want %d", len(got), len(want))
	}
	for i, tx := range want {
		if got[i] != tx.WitnessHash() {
			t.Errorf("position %d: %v, want %v", i, got[i], tx.WitnessHash())
		}
	}
	if short := h.pool.RelayOrder(2); len(short) != 2 || short[1] != x.WitnessHash() {
		t.Errorf("RelayOrder(2) = %v", short)
	}
	var buf bytes.Buffer
	_ = z.Serialize(&buf)
	if raw, ok := h.pool.RawTx(z.WitnessHash()); !ok || !bytes.Equal(raw, buf.Bytes()) {
		t.Error("RawTx does not return z's bytes by its wtxid")
	}
	if h.pool.HaveWTx(z.TxHash()) || !h.pool.HaveWTx(z.WitnessHash()) {
		t.Error("HaveWTx answers by txid rather than wtxid")
	}
	h.confirm(x, y, z)
	if h.pool.HaveWTx(z.WitnessHash()) {
		t.Error("a confirmed transaction is still found by wtxid")
	}
}

// TestReorgReturnsChainsOverTheLimits ensures a chain of transactions that
// confirmed over two blocks comes back whole although it is longer than
// the ancestor limit: refusing its tail would lose transactions that were
// valid in a block (Bitcoin Core re-adds them with bypass_limits).
func TestReorgReturnsChainsOverTheLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	fork := h.g.TipName()
	chain := h.chainOf(h.coinbase(0), policy.DefaultAncestorLimit+5, 1000)
	h.confirm(chain[:20]...)
	h.confirm(chain[20:]...)
	sub := h.outgrow(fork)
	defer sub.Close()
	for range 5 {
		h.pool.HandleNotification(<-sub.C())
	}
	if got := h.pool.Count(); got != len(chain) {
		t.Fatalf("%d of the %d returned transactions are in the pool", got, len(chain))
	}
	// New transactions still meet the limits.
	child := h.spend(one(h.out(chain[len(chain)-1], 0)), 1, 1000)
	if _, err := h.pool.ProcessTransaction(child, false); Reason(err) != "too-long-mempool-chain" {
		t.Errorf("a new child of the returned chain: %v, want too-long-mempool-chain", err)
	}
}

// TestHeldUntilTheChainReachesTheirLocks ensures a reorganization to a
// branch with fewer blocks loses nothing whose lock time the branch has
// not reached yet: wallets set a payment's lock time to the tip's height
// (anti-fee-sniping), so a payment confirmed at the top of the old branch
// is not final at the new tip. Such transactions, from blocks or from the
// pool, are held with their children and return once the chain grows.
//
//	b101 -> m1 -> m2 (x) -> m3 (y, child of x)      pool: z, lock time T+2
//	     \-> n1 -> n2 -> n3                           after m1 is invalidated
func TestHeldUntilTheChainReachesTheirLocks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	fork := h.g.TipName()
	m1 := h.confirm()
	T := uint32(h.g.TipHeight())
	x := lockTimeTx(t, h, T) // final at T+1
	h.confirm(x)
	y := h.spend(one(h.out(x, 0)), 1, 1000)
	h.confirm(y)
	in := h.coinbase(1)
	z := buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-1000, h.pk)}, func(tx *wire.MsgTx) { tx.LockTime = T + 2 })
	h.accept(t, z)

	var announced []chainhash.Hash
	h.pool.cfg.OnAccepted = func(descs []*TxDesc) {
		for _, d := range descs {
			announced = append(announced, d.TxID)
		}
	}
	sub := h.chain.Subscribe()
	defer sub.Close()
	if err := h.chain.InvalidateBlock(m1.BlockHash()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // m3, m2, m1 out: the tip is at T-1
		select {
		case n := <-sub.C():
			h.pool.HandleNotification(n)
		case <-time.After(10 * time.Second):
			t.Fatalf("notification %d never came", i)
		}
	}
	for _, tx := range []*wire.MsgTx{x, y, z} {
		if h.pool.Have(tx.TxHash()) {
			t.Errorf("%v, not final at height %d, is in the pool", tx.TxHash(), T)
		}
	}
	if len(h.pool.held) != 3 {
		t.Fatalf("%d transactions held, want x, y and z", len(h.pool.held))
	}
	if len(announced) != 0 {
		t.Fatalf("OnAccepted heard of %d transactions the chain cannot include", len(announced))
	}

	h.g.SetTip(fork)
	h.mine("n1") // height T: x is final in the next block, y follows it
	if !h.pool.Have(x.TxHash()) || !h.pool.Have(y.TxHash()) || h.pool.Have(z.TxHash()) {
		t.Fatalf("after n1: x %v, y %v, z %v in the pool; want x and y only",
			h.pool.Have(x.TxHash()), h.pool.Have(y.TxHash()), h.pool.Have(z.TxHash()))
	}
	if len(announced) != 2 || announced[0] != x.TxHash() || announced[1] != y.TxHash() {
		t.Errorf("OnAccepted heard of %v, want x then y", announced)
	}
	h.mine("n2") // height T+1: z's lock time T+2 is not below T+2 yet
	if h.pool.Have(z.TxHash()) {
		t.Fatal("z entered the pool before its lock time")
	}
	h.mine("n3")
	if !h.pool.Have(z.TxHash()) || len(h.pool.held) != 0 || len(h.pool.heldIDs) != 0 || h.pool.heldWeight != 0 {
		t.Fatalf("after n3: z in the pool %v, %d held (%d ids, weight %d); want z back, none held",
			h.pool.Have(z.TxHash()), len(h.pool.held), len(h.pool.heldIDs), h.pool.heldWeight)
	}
}

// TestHeldDroppedWhenConflicted ensures a held transaction that the chain
// can never include (a block spends its input) is dropped, and that the
// held weight is bounded.
func TestHeldDroppedWhenConflicted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	T := uint32(h.g.TipHeight())
	x := lockTimeTx(t, h, T+5) // not final for a while
	h.pool.hold(x)
	if len(h.pool.held) != 1 {
		t.Fatal("x not held")
	}
	h.mine("c1")
	if len(h.pool.held) != 1 || h.pool.Have(x.TxHash()) {
		t.Fatal("x left the held list before its lock time")
	}
	in := h.coinbase(0)
	conflict := buildTx(t, one(in), []*wire.TxOut{payTo(in.Amount-2000, h.pk)}, nil)
	h.confirm(conflict)
	if len(h.pool.held) != 0 || len(h.pool.heldIDs) != 0 {
		t.Fatalf("x, whose input a block spent, is still held (%d)", len(h.pool.held))
	}

	h.pool.heldWeight = maxHeldWeight - 1
	h.pool.hold(x)
	if len(h.pool.held) != 0 {
		t.Fatal("a transaction was held beyond maxHeldWeight")
	}
}

// TestRevalidateBehindTheChain ensures a child survives the pool's check
// after a reorganization when the chain has already connected a block the
// pool has not heard of, confirming the child's parent: the parent's input
// then looks spent, and dropping the parent with its descendants, as
// Core's removeForReorg may under cs_main, would lose the valid child. The
// soak test lost transactions this way while the chain ran ahead.
func TestRevalidateBehindTheChain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	p := h.spend(one(h.coinbase(0)), 1, 1000)
	c := h.spend(one(h.out(p, 0)), 1, 1000)
	h.accept(t, p, c)

	// The chain connects b (confirming p); the pool has not heard of it
	// when it checks its transactions after a reorganization.
	b := h.g.NextBlock("b", nil, []*wire.MsgTx{p})
	if _, err := h.chain.ProcessBlock(b); err != nil {
		t.Fatal(err)
	}
	for _, tx := range h.pool.revalidate() {
		h.pool.hold(tx)
	}
	if h.pool.Have(p.TxHash()) {
		t.Fatal("p, whose input the chain spent, is still in the pool")
	}
	h.pool.HandleNotification(chain.Notification{Type: chain.BlockConnected, Block: b, Hash: b.BlockHash(), Height: h.g.TipHeight()})
	if !h.pool.Have(c.TxHash()) {
		t.Fatal("c, whose parent b confirmed, was lost")
	}
	if len(h.pool.held) != 0 {
		t.Fatalf("%d transactions still held", len(h.pool.held))
	}
}
