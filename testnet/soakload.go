package testnet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/wallet"
)

// The soak's load generator: a key of its own, coins split from a miner's
// payment, and payments, chains and replacements built and signed here and
// offered over sendrawtransaction.

// soakTx is a transaction the load sent.
type soakTx struct {
	tx       *wire.MsgTx
	txid     chainhash.Hash
	fee      int64
	node     int
	sent     time.Time
	accepted bool
	// group numbers a BIP125 replacement and what it replaced (0: none);
	// exactly one of a group may confirm.
	group int
	// spent reports whether the load spent one of its outputs.
	spent bool
}

// soakCoin is an output the load may spend.
type soakCoin struct {
	op    wire.OutPoint
	value int64
	// origin is the load transaction that made it (nil: the funding);
	// parent is origin while it is unconfirmed as far as the load knows,
	// and depth counts its unconfirmed ancestors.
	origin *soakTx
	parent *soakTx
	depth  int
	fails  int
}

// loadGen sends transactions to the testnet's nodes.
type loadGen struct {
	s      *State
	key    *btcec.PrivateKey
	script []byte
	rng    *rand.Rand

	mu       sync.Mutex
	coins    []*soakCoin
	txs      []*soakTx
	groups   int
	latency  []time.Duration
	offered  int
	avoid    map[int]bool // nodes not to send to (down, or about to be)
	replaced int
	refused  map[string]int
	start    time.Time
}

// refusal counts a refused transaction by the first words of its reason.
// This function MUST be called with g.mu held.
func (g *loadGen) refusal(err error) {
	reason := err.Error()
	if i := strings.IndexAny(reason, "(:"); i > 0 {
		reason = strings.TrimSpace(reason[:i])
	}
	g.refused[reason]++
}

// soakCoinValue funds each starting coin.
const soakCoinValue = 2_000_000

// p2wpkh returns key's P2WPKH output script.
func p2wpkh(key *btcec.PrivateKey) []byte {
	s, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).
		AddData(btcutil.Hash160(key.PubKey().SerializeCompressed())).Script()
	return s
}

// fund pays the load's key from the first node's wallet and splits the
// payment into coins, waiting until the split is confirmed everywhere.
func (g *loadGen) fund(ctx context.Context, coins int) error {
	s := g.s
	miner := s.Nodes[0]
	need := int64(coins)*soakCoinValue + 1_000_000
	deadline := time.Now().Add(3 * time.Minute)
	for s.spendable(miner) < need {
		if time.Now().After(deadline) {
			return fmt.Errorf("testnet: %s's wallet has not %d spendable after 3 minutes (is it mining?)", miner.Name, need)
		}
		if err := sleepCtx(ctx, time.Second); err != nil {
			return err
		}
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(g.key.PubKey().SerializeCompressed()), s.net.AddressParams())
	if err != nil {
		return err
	}
	wlt, node, err := s.OpenWallet(miner)
	if err != nil {
		return err
	}
	tip, _, err := wlt.Scan(node)
	if err != nil {
		wlt.Close()
		return err
	}
	pay, fee, err := wlt.CreateTx(wallet.SendRequest{To: addr, Amount: need, FeeRate: 2}, tip)
	if err == nil {
		err = wlt.Broadcast(node, pay, fee, "")
	}
	wlt.Close()
	if err != nil {
		return fmt.Errorf("testnet: funding the load: %w", err)
	}
	var in *soakCoin
	for i, out := range pay.TxOut {
		if bytes.Equal(out.PkScript, g.script) {
			in = &soakCoin{op: wire.OutPoint{Hash: pay.TxHash(), Index: uint32(i)}, value: out.Value}
		}
	}
	split := wire.NewMsgTx(2)
	split.AddTxIn(wire.NewTxIn(&in.op, nil, nil))
	for range coins {
		split.AddTxOut(wire.NewTxOut(soakCoinValue, g.script))
	}
	if err := g.sign(split, []*soakCoin{in}); err != nil {
		return err
	}
	if _, err := g.send(0, split); err != nil {
		return fmt.Errorf("testnet: splitting the load's coins: %w", err)
	}
	for {
		confirmed := true
		for _, n := range s.Nodes {
			var out *struct {
				Confirmations int64 `json:"confirmations"`
			}
			if s.CallContext(ctx, n, &out, "gettxout", split.TxHash().String(), 0, false) != nil || out == nil || out.Confirmations < 1 {
				confirmed = false
			}
		}
		if confirmed {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("testnet: the load's coins did not confirm on every node within 3 minutes")
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	for i := range coins {
		g.coins = append(g.coins, &soakCoin{op: wire.OutPoint{Hash: split.TxHash(), Index: uint32(i)}, value: soakCoinValue})
	}
	return nil
}

// sign signs every input of tx, which spends coins (P2WPKH of g.key).
func (g *loadGen) sign(tx *wire.MsgTx, coins []*soakCoin) error {
	prev := txscript.NewMultiPrevOutFetcher(nil)
	for _, c := range coins {
		prev.AddPrevOut(c.op, wire.NewTxOut(c.value, g.script))
	}
	hashes := txscript.NewTxSigHashes(tx, prev)
	for i, c := range coins {
		wit, err := txscript.WitnessSignature(tx, hashes, i, c.value, g.script, txscript.SigHashAll, g.key, true)
		if err != nil {
			return err
		}
		tx.TxIn[i].Witness = wit
	}
	return nil
}

// send offers tx to node i, returning how long the call took.
func (g *loadGen) send(i int, tx *wire.MsgTx) (time.Duration, error) {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	start := time.Now()
	err := g.s.Call(g.s.Nodes[i], nil, "sendrawtransaction", hex.EncodeToString(buf.Bytes()))
	return time.Since(start), err
}

// run offers transactions at rate until ctx ends.
func (g *loadGen) run(ctx context.Context, rate float64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	refresh := time.NewTicker(3 * time.Second)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			g.refreshDepths()
		case <-tick.C:
			g.step()
		}
	}
}

// targets returns the nodes the load may send to now.
func (g *loadGen) targets() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []int
	for i := range g.s.Nodes {
		if !g.avoid[i] {
			out = append(out, i)
		}
	}
	return out
}

// step offers one transaction: mostly a payment from a coin (to the node
// that has its unconfirmed parent), sometimes a replacement of a recent
// transaction nobody spends yet, sent to any node.
func (g *loadGen) step() {
	targets := g.targets()
	if len(targets) == 0 {
		return
	}
	g.mu.Lock()
	if g.rng.Float64() < 0.1 {
		if t := g.replaceableLocked(); t != nil {
			g.replaceLocked(t, targets)
			return
		}
	}
	var c *soakCoin
	var ci int
	for range 20 {
		ci = g.rng.IntN(max(len(g.coins), 1))
		if ci >= len(g.coins) {
			break
		}
		cand := g.coins[ci]
		if cand.depth >= 20 || (cand.parent != nil && g.avoid[cand.parent.node]) {
			continue
		}
		c = cand
		break
	}
	if c == nil {
		g.mu.Unlock()
		return
	}
	g.coins = slices.Delete(g.coins, ci, ci+1)
	// Its origin is spent from now on, before the payment is sent: a
	// replacement of the origin chosen meanwhile would conflict with a
	// child and take it with it (replaceLocked keeps conflicts childless).
	if c.origin != nil {
		c.origin.spent = true
	}
	node := targets[g.rng.IntN(len(targets))]
	if c.parent != nil {
		node = c.parent.node
	}
	fee := int64(141 * (1 + g.rng.IntN(5)))
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
	half := (c.value - fee) / 2
	tx.AddTxOut(wire.NewTxOut(half, g.script))
	tx.AddTxOut(wire.NewTxOut(c.value-fee-half, g.script))
	g.mu.Unlock()
	if half < 1000 || g.sign(tx, []*soakCoin{c}) != nil {
		return // too small to spend on
	}
	d, err := g.send(node, tx)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.offered++
	if err != nil {
		g.refusal(err)
		if c.fails++; c.fails < 3 {
			g.coins = append(g.coins, c)
		}
		return
	}
	g.latency = append(g.latency, d)
	t := &soakTx{tx: tx, txid: tx.TxHash(), fee: fee, node: node, sent: time.Now(), accepted: true}
	g.txs = append(g.txs, t)
	for i, out := range tx.TxOut {
		g.coins = append(g.coins, &soakCoin{op: wire.OutPoint{Hash: t.txid, Index: uint32(i)}, value: out.Value,
			origin: t, parent: t, depth: c.depth + 1})
	}
}

// replaceableLocked returns a recent transaction of one input that no one
// spends, not yet part of a replacement.
func (g *loadGen) replaceableLocked() *soakTx {
	for i := len(g.txs) - 1; i >= 0 && i >= len(g.txs)-50; i-- {
		t := g.txs[i]
		if t.accepted && !t.spent && t.group == 0 && len(t.tx.TxIn) == 1 && !g.avoid[t.node] {
			return t
		}
	}
	return nil
}

// replaceLocked sends a BIP125 replacement of t to a random node: t's input
// paid back to the load with twice the fee. t's outputs are no longer
// spent by the load, nor are the replacement's, so that a conflict never
// has descendants and exactly one of the two must survive.
// This function MUST be called with g.mu held; it releases it.
func (g *loadGen) replaceLocked(t *soakTx, targets []int) {
	var outputs []*soakCoin
	kept := g.coins[:0]
	for _, c := range g.coins {
		if c.origin == t {
			outputs = append(outputs, c)
		} else {
			kept = append(kept, c)
		}
	}
	g.coins = kept
	t.spent = true
	var in int64
	for _, o := range t.tx.TxOut {
		in += o.Value
	}
	in += t.fee
	fee := 2*t.fee + 200
	r := wire.NewMsgTx(2)
	r.AddTxIn(wire.NewTxIn(&t.tx.TxIn[0].PreviousOutPoint, nil, nil))
	r.AddTxOut(wire.NewTxOut(in-fee, g.script))
	node := targets[g.rng.IntN(len(targets))]
	g.mu.Unlock()
	err := g.sign(r, []*soakCoin{{op: t.tx.TxIn[0].PreviousOutPoint, value: in}})
	var d time.Duration
	if err == nil {
		d, err = g.send(node, r)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.offered++
	if err != nil {
		g.refusal(err)
		t.spent = false
		g.coins = append(g.coins, outputs...)
		return
	}
	g.latency = append(g.latency, d)
	g.groups++
	t.group = g.groups
	g.replaced++
	g.txs = append(g.txs, &soakTx{tx: r, txid: r.TxHash(), fee: fee, node: node, sent: time.Now(), accepted: true, group: g.groups, spent: true})
}

// refreshDepths resets the depth of coins whose parent left the pool of
// the node it was sent to (confirmed, usually): they may go anywhere.
func (g *loadGen) refreshDepths() {
	pools := make(map[int]map[string]bool)
	for _, i := range g.targets() {
		var ids []string
		if err := g.s.Call(g.s.Nodes[i], &ids, "getrawmempool"); err != nil {
			continue
		}
		pools[i] = make(map[string]bool, len(ids))
		for _, id := range ids {
			pools[i][id] = true
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.coins {
		if c.parent == nil {
			continue
		}
		if pool, ok := pools[c.parent.node]; ok && !pool[c.parent.txid.String()] {
			c.parent, c.depth = nil, 0
		}
	}
}
