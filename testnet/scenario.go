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
	"partition": scenarioPartition,
}

// Scenarios lists the scenario names.
func Scenarios() []string {
	var out []string
	for k := range scenarios {
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

// tips returns each node's best block hash and height.
func (s *State) tips() ([]string, []int32) {
	st := s.Status()
	hashes := make([]string, len(st))
	heights := make([]int32, len(st))
	for i, n := range st {
		hashes[i], heights[i] = n.BestBlockHash, n.Height
	}
	return hashes, heights
}

// WaitAgreement waits until every node has the same tip at least minHeight
// high, returning it.
func (s *State) WaitAgreement(ctx context.Context, minHeight int32, d time.Duration) (string, int32, error) {
	deadline := time.Now().Add(d)
	for {
		hashes, heights := s.tips()
		same := hashes[0] != ""
		for _, h := range hashes {
			same = same && h == hashes[0]
		}
		if same && heights[0] >= minHeight {
			return hashes[0], heights[0], nil
		}
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("testnet: no agreement at height %d or more within %v (tips %v, heights %v)", minHeight, d, hashes, heights)
		}
		select {
		case <-ctx.Done():
			return "", 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
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

	fmt.Fprintf(w, "1. Waiting for every node to agree, with mature coins (height %d) ...\n", maturity+2)
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
	deadline := time.Now().Add(blocks(40) + time.Minute)
	for !(s.confirmedOn(a, txA) && s.confirmedOn(b, txB)) {
		if time.Now().After(deadline) {
			return errors.New("testnet: the payments did not confirm on their sides")
		}
		time.Sleep(200 * time.Millisecond)
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
		time.Sleep(200 * time.Millisecond)
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
		time.Sleep(200 * time.Millisecond)
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
