package chain

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/internal/store"
)

// addrModel is the address index recomputed from a chain's main-chain
// blocks alone, independently of the index's bookkeeping.
type addrModel struct {
	history map[ScriptHash][]AddrTx
	unspent map[ScriptHash][]AddrUnspent
}

// addrModelFromBlocks walks the main chain from height 1.
func addrModelFromBlocks(t testing.TB, c *BlockChain) *addrModel {
	t.Helper()
	type out struct {
		script []byte
		u      AddrUnspent
	}
	outs := make(map[wire.OutPoint]out)
	m := &addrModel{history: map[ScriptHash][]AddrTx{}, unspent: map[ScriptHash][]AddrUnspent{}}
	tip := c.BestSnapshot()
	for ht := int32(1); ht <= tip.Height; ht++ {
		b, err := c.BlockByHeight(ht)
		if err != nil {
			t.Fatalf("block at %d: %v", ht, err)
		}
		for pos, tx := range b.Transactions {
			txid := consensus.TxHash(tx)
			entries := map[ScriptHash]*AddrTx{}
			entry := func(script []byte) *AddrTx {
				sh := HashScript(script)
				if entries[sh] == nil {
					entries[sh] = &AddrTx{Height: ht, TxPos: uint32(pos), TxID: txid}
				}
				return entries[sh]
			}
			if pos > 0 {
				for _, in := range tx.TxIn {
					o, ok := outs[in.PreviousOutPoint]
					if !ok {
						t.Fatalf("height %d spends %v, which is not unspent", ht, in.PreviousOutPoint)
					}
					delete(outs, in.PreviousOutPoint)
					e := entry(o.script)
					e.SpentCount++
					e.SpentSum += o.u.Amount
				}
			}
			for i, o := range tx.TxOut {
				if len(o.PkScript) > 0 && o.PkScript[0] == txscript.OP_RETURN {
					continue
				}
				op := wire.OutPoint{Hash: txid, Index: uint32(i)}
				outs[op] = out{o.PkScript, AddrUnspent{OutPoint: op, Height: ht, TxPos: uint32(pos), Amount: o.Value}}
				e := entry(o.PkScript)
				e.FundedCount++
				e.FundedSum += o.Value
			}
			for sh, e := range entries {
				m.history[sh] = append(m.history[sh], *e)
			}
		}
	}
	for _, o := range outs {
		sh := HashScript(o.script)
		m.unspent[sh] = append(m.unspent[sh], o.u)
	}
	for _, us := range m.unspent {
		slices.SortFunc(us, func(a, b AddrUnspent) int {
			if a.Height != b.Height {
				return int(a.Height - b.Height)
			}
			if a.TxPos != b.TxPos {
				return int(a.TxPos) - int(b.TxPos)
			}
			return int(a.OutPoint.Index) - int(b.OutPoint.Index)
		})
	}
	return m
}

// checkAddrView compares a view with the model: every script's history and
// unspent outputs, and no records beyond them.
func checkAddrView(t testing.TB, v *AddrView, m *addrModel) {
	t.Helper()
	for sh, want := range m.history {
		got, err := v.History(sh, 0)
		if err != nil {
			t.Fatalf("history of %x: %v", sh, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("history of %x:\n got %v\nwant %v", sh, got, want)
		}
	}
	for sh, want := range m.unspent {
		got, err := v.Unspent(sh, 0)
		if err != nil {
			t.Fatalf("unspent of %x: %v", sh, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("unspent of %x:\n got %v\nwant %v", sh, got, want)
		}
	}
	var nHist, nUnspent int
	for _, h := range m.history {
		nHist += len(h)
	}
	for _, u := range m.unspent {
		nUnspent += len(u)
	}
	count := func(prefix byte) int {
		n := 0
		if err := mergeAddrRange(v.snap.ForEach, v.pend, []byte{prefix}, func(_, _ []byte) bool { n++; return true }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(prefixAddrHistory); got != nHist {
		t.Fatalf("%d history records, want %d", got, nHist)
	}
	if got := count(prefixAddrUnspent); got != nUnspent {
		t.Fatalf("%d unspent records, want %d", got, nUnspent)
	}
}

// checkAddrIndex compares the chain's address index with one recomputed
// from its blocks.
func checkAddrIndex(t testing.TB, c *BlockChain) {
	t.Helper()
	v, err := c.AddrIndexView()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Release()
	if hash, height := v.Tip(); hash != c.BestSnapshot().Hash || height != c.BestSnapshot().Height {
		t.Fatalf("address index at %v (%d), chain at %v", hash, height, c.BestSnapshot().Hash)
	}
	checkAddrView(t, v, addrModelFromBlocks(t, c))
}

// addrScripts are the output scripts the test pays: bare OP_TRUE and
// P2WSH of "<k> OP_DROP OP_TRUE", all spendable without keys.
type addrScripts struct {
	scripts   [][]byte
	witnesses map[string][]byte // P2WSH script -> witness script
}

func newAddrScripts(n int) *addrScripts {
	s := &addrScripts{scripts: [][]byte{chaintest.OpTrueScript}, witnesses: map[string][]byte{}}
	for k := 0; k < n; k++ {
		ws := []byte{txscript.OP_DATA_1, byte(k), txscript.OP_DROP, txscript.OP_TRUE}
		p := chaintest.P2WSHScript(ws)
		s.scripts = append(s.scripts, p)
		s.witnesses[string(p)] = ws
	}
	return s
}

// addrGen builds blocks with random payments among addrScripts on any
// branch, keeping the unspent outputs after each block.
type addrGen struct {
	h       *harness
	rng     *rand.Rand
	s       *addrScripts
	utxos   map[string]map[wire.OutPoint]chaintest.SpendableOut // after each named block
	counter int
}

// next builds a block on the generator's tip with up to four payments, one
// of them sometimes spending an output of the same block, and returns its
// name. It does not process it.
func (a *addrGen) next() string {
	g := a.h.g
	set := maps.Clone(a.utxos[g.TipName()])
	var txs []*wire.MsgTx
	for range a.rng.IntN(5) {
		var ins []chaintest.SpendableOut
		var total int64
		for op, o := range set {
			if len(ins) == 1+a.rng.IntN(3) {
				break
			}
			ins = append(ins, o)
			total += o.Amount
			delete(set, op)
		}
		if len(ins) == 0 || total < 10 {
			break
		}
		tx := wire.NewMsgTx(2)
		for _, in := range ins {
			txIn := &wire.TxIn{PreviousOutPoint: in.OutPoint, Sequence: wire.MaxTxInSequenceNum}
			if ws, ok := a.s.witnesses[string(in.PkScript)]; ok {
				txIn.Witness = wire.TxWitness{ws}
			}
			tx.AddTxIn(txIn)
		}
		n := 1 + a.rng.IntN(3)
		for i := 0; i < n; i++ {
			v := total / int64(n)
			if i == 0 {
				v += total % int64(n)
			}
			tx.AddTxOut(&wire.TxOut{Value: v, PkScript: a.s.scripts[a.rng.IntN(len(a.s.scripts))]})
		}
		if a.rng.IntN(4) == 0 {
			tx.AddTxOut(&wire.TxOut{Value: 0, PkScript: []byte{txscript.OP_RETURN, txscript.OP_DATA_1, 7}})
		}
		txs = append(txs, tx)
		for _, o := range chaintest.TxOuts(tx) {
			if o.PkScript[0] != txscript.OP_RETURN {
				set[o.OutPoint] = o
			}
		}
	}
	a.counter++
	name := fmt.Sprintf("a%d", a.counter)
	b := g.NextBlock(name, nil, txs)
	cb := chaintest.TxOuts(b.Transactions[0])
	for _, o := range cb {
		if len(o.PkScript) > 0 && o.PkScript[0] != txscript.OP_RETURN {
			set[o.OutPoint] = o
		}
	}
	a.utxos[name] = set
	return name
}

func newAddrGen(t *testing.T, h *harness, seed uint64) *addrGen {
	a := &addrGen{h: h, rng: rand.New(rand.NewPCG(seed, 1)), s: newAddrScripts(5),
		utxos: map[string]map[wire.OutPoint]chaintest.SpendableOut{}}
	a.utxos[h.g.TipName()] = map[wire.OutPoint]chaintest.SpendableOut{}
	return a
}

// addrNet is regtest with coinbases spendable at once.
func addrNet() *chainparams.Network {
	n := chainparams.Regtest()
	n.Consensus.CoinbaseMaturity = 1
	return n
}

// TestAddrIndex ensures the address index matches the blocks after every
// connected block, after reorganizations that disconnect blocks spending
// and creating outputs of the indexed scripts, across flushes and
// restarts; and that a view keeps showing its tip while the chain moves.
func TestAddrIndex(t *testing.T) {
	h := newHarnessConfig(t, addrNet(), func(c *Config) { c.AddrIndex = true })
	a := newAddrGen(t, h, 1)
	sub := h.chain.Subscribe()
	defer sub.Close()
	for i := 0; i < 30; i++ {
		a.next()
		h.acceptTip()
		checkAddrIndex(t, h.chain)
		// The notification names exactly the scripts with history at
		// the new height.
		n := <-sub.C()
		var want []ScriptHash
		for sh, hist := range addrModelFromBlocks(t, h.chain).history {
			if hist[len(hist)-1].Height == n.Height {
				want = append(want, sh)
			}
		}
		got := slices.Clone(n.Scripts)
		cmpSH := func(a, b ScriptHash) int { return bytes.Compare(a[:], b[:]) }
		slices.SortFunc(got, cmpSH)
		slices.SortFunc(want, cmpSH)
		if !slices.Equal(got, want) {
			t.Fatalf("block %d notified %d scripts, want %d", n.Height, len(got), len(want))
		}
	}
	// A view taken now keeps this tip while blocks connect and flush.
	before := addrModelFromBlocks(t, h.chain)
	view, err := h.chain.AddrIndexView()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		a.next()
		h.acceptTip()
	}
	if err := h.chain.Flush(); err != nil {
		t.Fatal(err)
	}
	checkAddrView(t, view, before)
	view.Release()
	if n := h.chain.addrPend.Len(); n != 0 {
		t.Fatalf("%d pending address index changes after a flush", n)
	}
	checkAddrIndex(t, h.chain)

	// Reorganizations: a branch from a few blocks back overtakes.
	for r := 0; r < 6; r++ {
		tipName := h.g.TipName()
		depth := 1 + r%4
		fork := h.g.NameOf(h.chain.BestSnapshot().Hash)
		for i := 0; i < depth; i++ {
			fork = h.g.NameOf(h.g.Block(fork).Header.PrevBlock)
		}
		h.g.SetTip(fork)
		var last string
		for i := 0; i <= depth; i++ {
			last = a.next()
			h.accept(last)
		}
		h.expectTip(last)
		checkAddrIndex(t, h.chain)
		if r%2 == 1 {
			h.restart()
			checkAddrIndex(t, h.chain)
		}
		// And back to the old branch, made longer.
		h.g.SetTip(tipName)
		for i := 0; i < 2; i++ {
			last = a.next()
			h.accept(last)
		}
		h.expectTip(last)
		checkAddrIndex(t, h.chain)
	}
	h.restart()
	checkAddrIndex(t, h.chain)
}

// TestAddrIndexBuild ensures an index turned on later is built from the
// stored blocks, caught up when its tip is on the main chain, and built
// anew when the chain reorganized while it was off; and that queries with
// the index off say so.
func TestAddrIndexBuild(t *testing.T) {
	h := newHarnessConfig(t, addrNet(), nil)
	a := newAddrGen(t, h, 2)
	for i := 0; i < 20; i++ {
		a.next()
		h.acceptTip()
	}
	if _, err := h.chain.AddrIndexView(); !errors.Is(err, ErrAddrIndexOff) {
		t.Fatalf("AddrIndexView with the index off: %v", err)
	}
	h.cfg.AddrIndex = true
	h.restart()
	checkAddrIndex(t, h.chain)

	// Off while the chain grows: caught up from its tip.
	h.cfg.AddrIndex = false
	h.restart()
	for i := 0; i < 5; i++ {
		a.next()
		h.acceptTip()
	}
	h.cfg.AddrIndex = true
	h.restart()
	checkAddrIndex(t, h.chain)

	// Off while the chain reorganizes: its tip is stale, so it is built
	// anew rather than left with the old branch's records.
	h.cfg.AddrIndex = false
	h.restart()
	fork := h.g.NameOf(h.g.Block(h.g.NameOf(h.chain.BestSnapshot().Hash)).Header.PrevBlock)
	fork = h.g.NameOf(h.g.Block(fork).Header.PrevBlock)
	h.g.SetTip(fork)
	var last string
	for i := 0; i < 3; i++ {
		last = a.next()
		h.accept(last)
	}
	h.expectTip(last)
	h.cfg.AddrIndex = true
	h.restart()
	checkAddrIndex(t, h.chain)

	// An index of version 1 (history records of the txid alone, a tip of
	// the hash alone) matching the tip is rebuilt, not read as corrupt.
	h.cfg.AddrIndex = false
	h.restart()
	old := new(store.Batch)
	err := h.chain.db.ForEach([]byte{prefixAddrHistory}, func(k, v []byte) error {
		old.Put(bytes.Clone(k), bytes.Clone(v[:chainhash.HashSize]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tip := h.chain.BestSnapshot().Hash
	old.Put([]byte{keyAddrTip}, tip[:])
	if err := h.chain.db.Write(old, true); err != nil {
		t.Fatal(err)
	}
	h.cfg.AddrIndex = true
	h.restart()
	checkAddrIndex(t, h.chain)
}

// TestAddrIndexLimit ensures a query over the caller's limit fails with
// ErrAddrHistoryTooLarge rather than returning part of the history.
func TestAddrIndexLimit(t *testing.T) {
	h := newHarnessConfig(t, addrNet(), func(c *Config) { c.AddrIndex = true })
	h.mine("m", 5)
	v, err := h.chain.AddrIndexView()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Release()
	sh := HashScript(chaintest.OpTrueScript)
	if got, err := v.History(sh, 5); err != nil || len(got) != 5 {
		t.Fatalf("history with limit 5: %d entries, %v", len(got), err)
	}
	if _, err := v.History(sh, 4); !errors.Is(err, ErrAddrHistoryTooLarge) {
		t.Fatalf("history with limit 4: %v", err)
	}
	if _, err := v.Unspent(sh, 4); !errors.Is(err, ErrAddrHistoryTooLarge) {
		t.Fatalf("unspent with limit 4: %v", err)
	}
	if got, err := v.History(HashScript([]byte{1}), 1); err != nil || len(got) != 0 {
		t.Fatalf("history of an unknown script: %v, %v", got, err)
	}
}

// TestMergeAddrRange ensures pending changes override, add to and delete
// from the stored records in key order, and that the walk stops when asked.
func TestMergeAddrRange(t *testing.T) {
	stored := [][2]string{{"p1", "s1"}, {"p3", "s3"}, {"p5", "s5"}, {"q1", "x"}}
	forEach := func(prefix []byte, fn func(k, v []byte) error) error {
		for _, kv := range stored {
			if bytes.HasPrefix([]byte(kv[0]), prefix) {
				if err := fn([]byte(kv[0]), []byte(kv[1])); err != nil {
					return err
				}
			}
		}
		return nil
	}
	pend := newAddrPending()
	pend.ReplaceOrInsert(addrItem{key: "p0", val: []byte("n0")})
	pend.ReplaceOrInsert(addrItem{key: "p3", del: true})
	pend.ReplaceOrInsert(addrItem{key: "p5", val: []byte("n5")})
	pend.ReplaceOrInsert(addrItem{key: "p6", val: []byte("n6")})
	pend.ReplaceOrInsert(addrItem{key: "p7", del: true})
	pend.ReplaceOrInsert(addrItem{key: "q0", val: []byte("y")})
	var got []string
	if err := mergeAddrRange(forEach, pend, []byte("p"), func(k, v []byte) bool {
		got = append(got, string(k)+"="+string(v))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"p0=n0", "p1=s1", "p5=n5", "p6=n6"}; !slices.Equal(got, want) {
		t.Fatalf("merged %q, want %q", got, want)
	}
	got = nil
	_ = mergeAddrRange(forEach, pend, []byte("p"), func(k, v []byte) bool {
		got = append(got, string(k))
		return len(got) < 2
	})
	if want := []string{"p0", "p1"}; !slices.Equal(got, want) {
		t.Fatalf("stopped walk gave %q, want %q", got, want)
	}
}

// TestSortUnspent checks the in-place permutation against a plain sort,
// for random orders, ties of height and position, and sizes 0 to 200.
func TestSortUnspent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for n := 0; n <= 200; n++ {
		us := make([]AddrUnspent, n)
		for i := range us {
			us[i] = AddrUnspent{Height: int32(rng.IntN(5)), TxPos: uint32(rng.IntN(3)), Amount: int64(i),
				OutPoint: wire.OutPoint{Index: uint32(rng.IntN(1000))}}
		}
		want := slices.Clone(us)
		slices.SortStableFunc(want, func(a, b AddrUnspent) int {
			if a.Height != b.Height {
				return int(a.Height - b.Height)
			}
			if a.TxPos != b.TxPos {
				return int(a.TxPos) - int(b.TxPos)
			}
			return int(a.OutPoint.Index) - int(b.OutPoint.Index)
		})
		sortUnspent(us)
		for i := range us {
			if us[i].Height != want[i].Height || us[i].TxPos != want[i].TxPos || us[i].OutPoint.Index != want[i].OutPoint.Index {
				t.Fatalf("n=%d: position %d is %+v, want %+v", n, i, us[i], want[i])
			}
		}
		// Nothing lost or doubled.
		seen := map[int64]bool{}
		for _, u := range us {
			if seen[u.Amount] {
				t.Fatalf("n=%d: output %d twice", n, u.Amount)
			}
			seen[u.Amount] = true
		}
	}
}
