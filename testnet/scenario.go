package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/wallet"
)

// scenarios are the narrated scenarios by name.
var scenarios = map[string]func(ctx context.Context, s *State, w io.Writer) error{
	"partition":    scenarioPartition,
	"crash":        scenarioCrash,
	"clock-skew":   scenarioClockSkew,
	"double-spend": scenarioDoubleSpend,
}

// Scenarios lists the scenario names.
func Scenarios() []string {
	var out []string
	for k := range scenarios {
		out = append(out, k)
	}
	for k := range measures {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RunScenario runs the named scenario on a running testnet, narrating to
// w. It fails if what the scenario shows did not happen.
func RunScenario(ctx context.Context, s *State, name string, w io.Writer) error {
	f, ok := scenarios[name]
	if !ok {
		return fmt.Errorf("testnet: no scenario %q (have %v)", name, Scenarios())
	}
	return f(ctx, s, w)
}

// tips returns each node's best block hash and height ("" and 0 for a
// node that does not answer): one call a node, so that waiting on many
// nodes stays light.
func (s *State) tips() ([]string, []int32) {
	hashes := make([]string, len(s.Nodes))
	heights := make([]int32, len(s.Nodes))
	for i, n := range s.Nodes {
		var info struct {
			Blocks        int32  `json:"blocks"`
			BestBlockHash string `json:"bestblockhash"`
		}
		if s.Call(n, &info, "getblockchaininfo") == nil {
			hashes[i], heights[i] = info.BestBlockHash, info.Blocks
		}
	}
	return hashes, heights
}

// WaitAgreement waits until every node has the same tip at least minHeight
// high, returning it.
func (s *State) WaitAgreement(ctx context.Context, minHeight int32, d time.Duration) (string, int32, error) {
	return s.waitHeight(ctx, minHeight, d, -1, nil)
}

// waitHeight is WaitAgreement leaving node skip out (-1: none), and
// telling progress, when not nil, of the last node's height while it
// waits. A selfish miner is left out: its private chain is its own.
func (s *State) waitHeight(ctx context.Context, minHeight int32, d time.Duration, skip int, progress func(int32)) (string, int32, error) {
	deadline := time.Now().Add(d)
	last := len(s.Nodes) - 1
	if last == skip {
		last--
	}
	for {
		hashes, heights := s.tips()
		same := hashes[last] != ""
		for i, h := range hashes {
			same = same && (i == skip || h == hashes[last])
		}
		if same && heights[last] >= minHeight {
			return hashes[last], heights[last], nil
		}
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("testnet: no agreement at height %d or more within %v (tips %v, heights %v)", minHeight, d, hashes, heights)
		}
		poll := 200 * time.Millisecond
		if progress != nil {
			// A long run: its measurements should not compete with
			// the polling.
			progress(heights[last])
			poll = time.Second
		}
		select {
		case <-ctx.Done():
			return "", 0, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// pay sends amount from node from's wallet to node to's address and
// returns the txid.
func (s *State) pay(from, to *Node, amount int64) (string, error) {
	w, node, err := s.OpenWallet(from)
	if err != nil {
		return "", err
	}
	defer w.Close()
	tip, _, err := w.Scan(node)
	if err != nil {
		return "", err
	}
	addr, err := s.net.DecodeAddress(to.Address)
	if err != nil {
		return "", err
	}
	tx, fee, err := w.CreateTx(wallet.SendRequest{To: addr, Amount: amount, FeeRate: 2}, tip)
	if err != nil {
		return "", err
	}
	if err := w.Broadcast(node, tx, fee, ""); err != nil {
		return "", err
	}
	return tx.TxHash().String(), nil
}

// spendable returns what n's wallet can spend now (0 on any error).
func (s *State) spendable(n *Node) int64 {
	w, node, err := s.OpenWallet(n)
	if err != nil {
		return 0
	}
	defer w.Close()
	tip, _, err := w.Scan(node)
	if err != nil {
		return 0
	}
	_ = w.Save()
	var sum int64
	for _, c := range w.Spendable(tip) {
		sum += c.Value
	}
	return sum
}

// confirmedOn reports whether txid's output 0 is in n's UTXO set (it
// confirmed on n's chain and was not spent).
func (s *State) confirmedOn(n *Node, txid string) bool {
	var out *struct {
		Confirmations int64 `json:"confirmations"`
	}
	return s.Call(n, &out, "gettxout", txid, 0, false) == nil && out != nil && out.Confirmations > 0
}

// scenarioPartition: both sides of a partition keep mining; each confirms
// a payment the other does not see; after healing every node converges on
// the chain with the most work, and the payment confirmed only on the
// losing side returns to the pools and confirms again. None is lost.
func scenarioPartition(ctx context.Context, s *State, w io.Writer) (err error) {
	if s.Groups != nil {
		fmt.Fprintln(w, "0. Healing the partition left from before.")
		if err := s.Heal(); err != nil {
			return err
		}
	}
	defer func() {
		if err != nil && s.Groups != nil {
			_ = s.Heal() // leave the network whole
		}
	}()
	var miners []*Node
	for _, n := range s.Nodes {
		if n.Mining {
			miners = append(miners, n)
		}
	}
	if len(miners) < 2 {
		return errors.New("testnet: the partition scenario needs two miners (cairn testnet up --miners 2)")
	}
	a, b := miners[0], miners[1]
	groupA, groupB := []int{s.index(a)}, []int{}
	for i, n := range s.Nodes {
		if n != a {
			groupB = append(groupB, i)
		}
	}
	blocks := func(k int) time.Duration { return time.Duration(k) * s.Spacing }

	fmt.Fprintf(w, "1. Waiting for every node to agree, and both miners to hold mature coins ...\n")
	deadline := time.Now().Add(blocks(maturity*6) + time.Minute)
	for s.spendable(a) < 3*btcutil.SatoshiPerBitcoin || s.spendable(b) < 3*btcutil.SatoshiPerBitcoin {
		if time.Now().After(deadline) {
			return errors.New("testnet: the miners have no mature coins yet")
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	_, h, err := s.WaitAgreement(ctx, maturity+2, blocks(maturity*4)+time.Minute)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   all %d nodes at height %d.\n", len(s.Nodes), h)

	fmt.Fprintf(w, "2. Partition: %s alone | the %d others (miner %s among them).\n", a.Name, len(groupB), b.Name)
	if err := s.Partition([][]int{groupA, groupB}); err != nil {
		return err
	}
	txA, err := s.pay(a, b, btcutil.SatoshiPerBitcoin)
	if err != nil {
		return fmt.Errorf("testnet: payment on %s's side: %w", a.Name, err)
	}
	txB, err := s.pay(b, a, 2*btcutil.SatoshiPerBitcoin)
	if err != nil {
		return fmt.Errorf("testnet: payment on %s's side: %w", b.Name, err)
	}
	fmt.Fprintf(w, "   %s pays 1 coin (tx %.16s..) and %s pays 2 coins (tx %.16s..), each seen by its side only.\n", a.Name, txA, b.Name, txB)
	deadline = time.Now().Add(blocks(40) + time.Minute)
	for !(s.confirmedOn(a, txA) && s.confirmedOn(b, txB)) {
		if time.Now().After(deadline) {
			return errors.New("testnet: the payments did not confirm on their sides")
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	// Let both sides mine on apart for a few blocks.
	_, start := s.tips()
	for {
		_, hs := s.tips()
		if hs[s.index(a)] >= start[s.index(a)]+3 && hs[s.index(b)] >= start[s.index(b)]+3 {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("testnet: the sides stopped mining")
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	hashes, heights := s.tips()
	if hashes[s.index(a)] == hashes[s.index(b)] {
		return errors.New("testnet: the two sides share a tip while partitioned")
	}
	workA, workB := s.chainWork(a), s.chainWork(b)
	fmt.Fprintf(w, "   apart: %s at height %d (%.16s..), %s at height %d (%.16s..).\n",
		a.Name, heights[s.index(a)], hashes[s.index(a)], b.Name, heights[s.index(b)], hashes[s.index(b)])
	if s.confirmedOn(b, txA) || s.confirmedOn(a, txB) {
		return errors.New("testnet: a payment crossed the partition")
	}

	fmt.Fprintln(w, "3. Heal.")
	if err := s.Heal(); err != nil {
		return err
	}
	healStart := time.Now()
	tip, height, err := s.WaitAgreement(ctx, 0, blocks(20)+time.Minute)
	if err != nil {
		return err
	}
	winner, loser, lostTx := b, a, txA
	if s.onChain(a, hashes[s.index(a)]) && !s.onChain(a, hashes[s.index(b)]) {
		winner, loser, lostTx = a, b, txB
	}
	fmt.Fprintf(w, "   every node on %.16s.. at height %d within %v; the side of %s (work %s vs %s at the split) won.\n",
		tip, height, time.Since(healStart).Round(100*time.Millisecond), winner.Name, workA, workB)

	fmt.Fprintf(w, "4. The payment confirmed only on %s's side (%.16s..) returns to the pools and confirms again ...\n", loser.Name, lostTx)
	deadline = time.Now().Add(blocks(40) + time.Minute)
	for {
		all := true
		for _, n := range s.Nodes {
			all = all && s.confirmedOn(n, txA) && s.confirmedOn(n, txB)
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testnet: payment %s was lost after the heal", lostTx)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "   both payments are confirmed on every node: none lost.")
	return nil
}

// chainWork returns n's cumulative chain work (hex, as Core shows it).
func (s *State) chainWork(n *Node) string {
	var info struct {
		ChainWork string `json:"chainwork"`
	}
	_ = s.Call(n, &info, "getblockchaininfo")
	return info.ChainWork
}

// onChain reports whether block hash is on n's best chain.
func (s *State) onChain(n *Node, hash string) bool {
	if _, err := chainhash.NewHashFromStr(hash); err != nil {
		return false
	}
	var hdr struct {
		Confirmations int64 `json:"confirmations"`
	}
	return s.Call(n, &hdr, "getblockheader", hash) == nil && hdr.Confirmations > 0
}

// secondMiner returns the second mining node, or nil: the scenarios keep
// the first one as it is.
func (s *State) secondMiner() *Node {
	seen := 0
	for _, n := range s.Nodes {
		if n.Mining {
			if seen++; seen == 2 {
				return n
			}
		}
	}
	return nil
}

// utxoHash returns n's UTXO set hash and the tip it was taken at.
func (s *State) utxoHash(n *Node) (string, string, error) {
	var out struct {
		BestBlock string `json:"bestblock"`
		Hash      string `json:"hash_serialized_3"`
	}
	err := s.Call(n, &out, "gettxoutsetinfo")
	return out.Hash, out.BestBlock, err
}

// scenarioCrash: a miner is killed with SIGKILL in the middle of its
// work, the others mine on, and the restarted node recovers its database,
// catches up, and holds exactly the UTXO set of the others.
func scenarioCrash(ctx context.Context, s *State, w io.Writer) (err error) {
	victim := s.secondMiner()
	if victim == nil {
		return errors.New("testnet: the crash scenario needs a second miner (cairn testnet up --miners 2)")
	}
	if s.Groups != nil {
		if err := s.Heal(); err != nil {
			return err
		}
	}
	blocks := func(k int) time.Duration { return time.Duration(k) * s.Spacing }
	fmt.Fprintln(w, "1. Waiting for every node to agree ...")
	_, h, err := s.WaitAgreement(ctx, 3, blocks(20)+time.Minute)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   all at height %d.\n", h)
	fmt.Fprintf(w, "2. kill -9 %s while it mines.\n", victim.Name)
	if err := s.Kill(victim); err != nil {
		return err
	}
	defer func() {
		// Never leave the victim down, even after a failure or Ctrl-C.
		if !victim.running() {
			if rerr := s.Restart(context.Background(), victim); rerr != nil && err == nil {
				err = rerr
			}
		}
	}()
	other := s.Nodes[0]
	if other == victim {
		other = s.Nodes[1]
	}
	deadline := time.Now().Add(blocks(20) + time.Minute)
	for {
		_, hs := s.tips()
		if hs[s.index(other)] >= h+3 {
			fmt.Fprintf(w, "   the others mined on to height %d.\n", hs[s.index(other)])
			break
		}
		if time.Now().After(deadline) {
			return errors.New("testnet: the others did not mine on")
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "3. Restart %s.\n", victim.Name)
	start := time.Now()
	if err := s.Restart(ctx, victim); err != nil {
		return err
	}
	tip, height, err := s.WaitAgreement(ctx, h+3, blocks(20)+time.Minute)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   it recovered and caught up to %.16s.. at height %d in %v.\n", tip, height, time.Since(start).Round(100*time.Millisecond))
	// Compare the UTXO sets at one tip: stop mining races by retrying.
	for i := 0; i < 20; i++ {
		a, at, errA := s.utxoHash(other)
		b, bt, errB := s.utxoHash(victim)
		if errA == nil && errB == nil && at == bt {
			if a != b {
				return fmt.Errorf("testnet: at %s the UTXO sets differ: %s vs %s", at, a, b)
			}
			fmt.Fprintf(w, "   its UTXO set equals the others' at %.16s.. (%.16s..): nothing lost or doubled by the crash.\n", at, a)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("testnet: could not compare UTXO sets at one tip")
}

// scenarioClockSkew: a miner whose clock runs ahead of everyone's by more
// than the max future block time has its blocks refused (time-too-new);
// refused, not remembered as invalid: once real time catches up, the same
// block is accepted.
func scenarioClockSkew(ctx context.Context, s *State, w io.Writer) (err error) {
	skewed := s.secondMiner()
	if skewed == nil {
		return errors.New("testnet: the clock-skew scenario needs a second miner (cairn testnet up --miners 2)")
	}
	if s.Groups != nil {
		if err := s.Heal(); err != nil {
			return err
		}
	}
	honest := s.Nodes[0]
	limit := s.net.Consensus.MaxFutureBlockTime
	// Far enough past the limit that a loaded machine, slow between
	// finding the block and offering it, still sees it in the future.
	offset := limit + max(4*s.Spacing, 10*time.Second)
	blocks := func(k int) time.Duration { return time.Duration(k) * s.Spacing }
	args := skewed.Args
	defer func() {
		// Back to the true clock, even after a failure or Ctrl-C.
		if rerr := s.restartWith(context.Background(), skewed, args); rerr != nil && err == nil {
			err = rerr
		}
	}()
	fmt.Fprintf(w, "1. Restart %s with its clock %v ahead (the max future block time is %v).\n", skewed.Name, offset, limit)
	if err := s.restartWith(ctx, skewed, append(append([]string(nil), args...), "--clock-offset", offset.String())); err != nil {
		return err
	}
	// Wait for a block that only the skewed node has.
	deadline := time.Now().Add(blocks(40) + time.Minute)
	var future string
	var futureTime time.Time
	for future == "" {
		if time.Now().After(deadline) {
			return errors.New("testnet: the skewed miner found no block")
		}
		var hash string
		if err := s.CallContext(ctx, skewed, &hash, "getbestblockhash"); err == nil {
			var hdr struct {
				Time int64 `json:"time"`
			}
			if s.CallContext(ctx, skewed, &hdr, "getblockheader", hash) == nil && time.Until(time.Unix(hdr.Time, 0)) > limit {
				future, futureTime = hash, time.Unix(hdr.Time, 0)
			}
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	// The skewed miner may have stacked several future blocks: offer the
	// first of them, once the other node has its parent (over a slow
	// link, the parent may still be on its way).
	for {
		var hdr struct {
			Prev string `json:"previousblockhash"`
		}
		if err := s.CallContext(ctx, skewed, &hdr, "getblockheader", future); err != nil {
			return err
		}
		var parent struct {
			Time int64 `json:"time"`
		}
		if err := s.CallContext(ctx, skewed, &parent, "getblockheader", hdr.Prev); err != nil {
			return err
		}
		if time.Until(time.Unix(parent.Time, 0)) <= limit {
			break
		}
		future, futureTime = hdr.Prev, time.Unix(parent.Time, 0)
	}
	for {
		var hdr struct {
			Prev string `json:"previousblockhash"`
		}
		if err := s.CallContext(ctx, skewed, &hdr, "getblockheader", future); err != nil {
			return err
		}
		if s.CallContext(ctx, honest, nil, "getblockheader", hdr.Prev) == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testnet: %s never got the parent of the future block", honest.Name)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "2. %s mined %.16s.. stamped %v ahead of true time.\n", skewed.Name, future, time.Until(futureTime).Round(time.Second))
	var raw string
	if err := s.CallContext(ctx, skewed, &raw, "getblock", future, 0); err != nil {
		return err
	}
	var verdict *string
	if err := s.CallContext(ctx, honest, &verdict, "submitblock", raw); err != nil {
		return err
	}
	if verdict == nil || *verdict != "time-too-new" {
		got := "accepted"
		if verdict != nil {
			got = *verdict
		}
		return fmt.Errorf("testnet: %s did not refuse the future block as time-too-new: %s", honest.Name, got)
	}
	fmt.Fprintf(w, "   %s refuses it: %s.\n", honest.Name, *verdict)
	wait := time.Until(futureTime.Add(-limit)) + time.Second
	fmt.Fprintf(w, "3. Waiting %v for true time to catch up with the block ...\n", wait.Round(time.Second))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
	}
	if err := s.CallContext(ctx, honest, &verdict, "submitblock", raw); err != nil {
		return err
	}
	if verdict != nil && *verdict != "inconclusive" && *verdict != "duplicate" {
		return fmt.Errorf("testnet: %s still refuses the block: %s", honest.Name, *verdict)
	}
	fmt.Fprintf(w, "   %s now accepts the same block (it was refused, never marked invalid).\n", honest.Name)
	return nil
}

// sleepCtx waits d, or returns ctx's error when it ends first (Ctrl-C).
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
