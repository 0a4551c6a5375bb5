package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"github.com/cairnchain/cairn/wallet"
)

// The double-spend scenario: an attacker pays a merchant, mines in secret
// a branch in which the same coins pay the attacker back, waits until the
// merchant has seen the payment confirmed k times, and publishes its
// branch if it gets ahead in work; the merchant's payment is then reversed.
// The attacker gives up when it falls giveUpBehind blocks behind or after
// raceBudget blocks of racing. Live trials are few, so the scenario also
// prints what the same race gives over many simulated trials at the hash
// share measured on the testnet, and Nakamoto's catch-up probability.

const (
	giveUpBehind = 3
	raceBudget   = 20 // blocks of both sides after the merchant accepts
)

// scenarioTrials is how many live trials each k gets
// (CAIRN_SCENARIO_TRIALS overrides it).
func scenarioTrials() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_SCENARIO_TRIALS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// chainWorkOf returns n's cumulative work.
func (s *State) chainWorkOf(n *Node) *big.Int {
	w, _ := new(big.Int).SetString(s.chainWork(n), 16)
	if w == nil {
		return new(big.Int)
	}
	return w
}

// height returns n's block count.
func (s *State) height(n *Node) int32 {
	var h int32
	_ = s.Call(n, &h, "getblockcount")
	return h
}

// confirmations returns the confirmations of txid's output 0 on n, 0 if
// it is not in n's UTXO set.
func (s *State) confirmations(n *Node, txid string) int64 {
	var out *struct {
		Confirmations int64 `json:"confirmations"`
	}
	if s.Call(n, &out, "gettxout", txid, 0, false) != nil || out == nil {
		return 0
	}
	return out.Confirmations
}

// restartWith restarts a node with extra arguments (nil: its own).
func (s *State) restartWith(ctx context.Context, n *Node, args []string) error {
	n.Args = args
	if err := s.Stop(n); err != nil {
		_ = s.save()
		return err
	}
	return s.Restart(ctx, n)
}

// withMining returns a miner's args giving it part of total: as many
// threads, or, on emulated hash rate, a share of part/total.
func withMining(args []string, part, total int) []string {
	if i := slices.Index(args, "--mine-emulated"); i >= 0 && i+1 < len(args) {
		out := slices.Clone(args)
		out[i+1] = strconv.FormatFloat(float64(part)/float64(total), 'g', 6, 64)
		return out
	}
	return withThreads(args, part)
}

// withThreads returns args with --miner-threads set to t.
func withThreads(args []string, t int) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if out[i] == "--miner-threads" && i+1 < len(out) {
			out[i+1] = strconv.Itoa(t)
			return out
		}
	}
	return append(out, "--miner-threads", strconv.Itoa(t))
}

func scenarioDoubleSpend(ctx context.Context, s *State, w io.Writer) (err error) {
	var miners []*Node
	var merchant *Node
	for _, n := range s.Nodes {
		if n.Mining {
			miners = append(miners, n)
		} else if merchant == nil {
			merchant = n
		}
	}
	if len(miners) < 2 {
		return errors.New("testnet: the double-spend scenario needs two miners (cairn testnet up --miners 2)")
	}
	attacker, honest := miners[0], miners[1]
	if merchant == nil {
		merchant = honest
	}
	if s.Groups != nil {
		if err := s.Heal(); err != nil {
			return err
		}
	}
	// The attacker gets most of the machine's hashing.
	attackerArgs, honestArgs := attacker.Args, honest.Args
	defer func() {
		// Whole again and on the usual threads, even after a failure or
		// Ctrl-C.
		bg := context.Background()
		if s.Groups != nil {
			_ = s.Heal()
		}
		if rerr := s.restartWith(bg, attacker, attackerArgs); rerr != nil && err == nil {
			err = rerr
		}
		if rerr := s.restartWith(bg, honest, honestArgs); rerr != nil && err == nil {
			err = rerr
		}
	}()
	at, ht := max(2, runtime.NumCPU()-1), 1
	emulated := slices.Contains(attackerArgs, "--mine-emulated")
	if emulated {
		// Emulated hash rate (testnet up --emulated): the shares are
		// set, not measured.
		fmt.Fprintf(w, "1. %s (attacker) mines with a share of %.2f, %s (honest) with %.2f; %s is the merchant.\n", attacker.Name,
			float64(at)/float64(at+ht), honest.Name, float64(ht)/float64(at+ht), merchant.Name)
	} else {
		fmt.Fprintf(w, "1. %s (attacker) mines with %d threads, %s (honest) with %d; %s is the merchant.\n", attacker.Name, at, honest.Name, ht, merchant.Name)
	}
	if err := s.restartWith(ctx, attacker, withMining(attackerArgs, at, at+ht)); err != nil {
		return err
	}
	if err := s.restartWith(ctx, honest, withMining(honestArgs, ht, at+ht)); err != nil {
		return err
	}
	if err := sleepCtx(ctx, max(3*time.Second, 3*s.Spacing)); err != nil {
		return err
	}
	var ra, rh struct {
		HashesPerSec float64 `json:"hashespersec"`
	}
	_ = s.CallContext(ctx, attacker, &ra, "getmininginfo")
	_ = s.CallContext(ctx, honest, &rh, "getmininginfo")
	q := ra.HashesPerSec / (ra.HashesPerSec + rh.HashesPerSec)
	if math.IsNaN(q) || q <= 0 || emulated {
		q = float64(at) / float64(at+ht)
	}
	if !emulated {
		fmt.Fprintf(w, "   measured hash rates: attacker %.1f MH/s, honest %.1f MH/s: attacker share q = %.2f.\n", ra.HashesPerSec/1e6, rh.HashesPerSec/1e6, q)
	}

	ks := []int{1, 2, 4}
	trials := scenarioTrials()
	fmt.Fprintf(w, "2. Live attacks, %d per k (the attacker gives up %d blocks behind, or after %d blocks of racing):\n", trials, giveUpBehind, raceBudget)
	live := map[int]int{}
	for _, k := range ks {
		for i := 0; i < trials; i++ {
			won, err := s.doubleSpendTrial(ctx, attacker, merchant, k)
			if err != nil {
				return err
			}
			if won {
				live[k]++
			}
			fmt.Fprintf(w, "   k=%d trial %d: %s\n", k, i+1, map[bool]string{true: "payment reversed", false: "attacker gave up; payment stands"}[won])
		}
	}
	fmt.Fprintln(w, "3. Success rate by confirmations waited (simulated: 20,000 runs of the same race;")
	fmt.Fprintln(w, "   for comparison, a minority attacker with 30% of the hash rate, and Nakamoto's")
	fmt.Fprintln(w, "   probability that it ever catches up):")
	fmt.Fprintf(w, "   %-3s %-8s %-16s %-16s %s\n", "k", "live", fmt.Sprintf("sim q=%.2f", q), "sim q=0.30", "Nakamoto q=0.30")
	for k := 0; k <= 6; k++ {
		l := "-"
		for _, kk := range ks {
			if kk == k {
				l = fmt.Sprintf("%d/%d", live[k], trials)
			}
		}
		fmt.Fprintf(w, "   %-3d %-8s %-16.3f %-16.3f %s\n", k, l, simulateRace(q, k, 20000), simulateRace(0.3, k, 20000), nakamoto(0.3, k))
	}
	if q >= 0.5 {
		fmt.Fprintln(w, "   With most of the hash rate the attacker wins whenever it does not give up: waiting")
		fmt.Fprintln(w, "   longer only makes it start further behind. Against a minority, each confirmation")
		fmt.Fprintln(w, "   cuts its chance by a large factor.")
	}
	return nil
}

// doubleSpendTrial runs one attack with k confirmations and reports
// whether the payment was reversed.
func (s *State) doubleSpendTrial(ctx context.Context, attacker, merchant *Node, k int) (bool, error) {
	blocks := func(n int) time.Duration { return time.Duration(n) * s.Spacing }
	if _, _, err := s.WaitAgreement(ctx, 0, blocks(30)+time.Minute); err != nil {
		return false, err
	}
	deadline := time.Now().Add(blocks(60) + time.Minute)
	for s.spendable(attacker) < 2*btcutil.SatoshiPerBitcoin {
		if time.Now().After(deadline) {
			return false, errors.New("testnet: the attacker has no mature coins")
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return false, err
		}
	}
	if err := s.Partition([][]int{{s.index(attacker)}, s.others(attacker)}); err != nil {
		return false, err
	}
	pay, cancel, err := s.payAndCancel(attacker, merchant)
	if err != nil {
		return false, err
	}
	for s.confirmations(merchant, pay) < int64(k) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false, errors.New("testnet: the payment did not reach its confirmations")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The merchant delivers. The race: publish once strictly ahead in work.
	start := s.height(merchant)
	won := false
	for {
		if s.chainWorkOf(attacker).Cmp(s.chainWorkOf(merchant)) > 0 && s.confirmations(attacker, cancel) > 0 {
			won = true
			break
		}
		hm, ha := s.height(merchant), s.height(attacker)
		if hm-ha >= giveUpBehind || int(hm-start) >= raceBudget || time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return false, err
		}
	}
	if err := s.Heal(); err != nil {
		return false, err
	}
	if _, _, err := s.WaitAgreement(ctx, 0, blocks(30)+time.Minute); err != nil {
		return false, err
	}
	// Whatever the attacker believed, the chain decides.
	for i := 0; i < 50; i++ {
		if s.confirmations(merchant, cancel) > 0 {
			return true, nil
		}
		if s.confirmations(merchant, pay) > 0 {
			return false, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return won, nil
}

// others returns the indexes of every node but n.
func (s *State) others(n *Node) []int {
	var out []int
	for i, m := range s.Nodes {
		if m != n {
			out = append(out, i)
		}
	}
	return out
}

// payAndCancel has the attacker pay the merchant 1 coin through the
// merchant's node and give its own node a cancel of that payment (the
// same coins paid back to itself). It returns both txids.
func (s *State) payAndCancel(attacker, merchant *Node) (string, string, error) {
	wl, own, err := s.OpenWallet(attacker)
	if err != nil {
		return "", "", err
	}
	defer wl.Close()
	theirs := &wallet.RPCNode{URL: "http://" + merchant.RPCAddr + "/", User: rpcUser, Password: rpcPass}
	// The merchant's chain decides the payment's lock time and coins.
	tip, _, err := wl.Scan(theirs)
	if err != nil {
		return "", "", err
	}
	// Both transactions must be final on both sides: the lock time is the
	// lower tip.
	tip = min(tip, s.height(attacker))
	to, err := s.net.DecodeAddress(merchant.Address)
	if err != nil {
		return "", "", err
	}
	pay, fee, err := wl.CreateTx(wallet.SendRequest{To: to, Amount: btcutil.SatoshiPerBitcoin, FeeRate: 2}, tip)
	if err != nil {
		return "", "", err
	}
	if err := wl.Broadcast(theirs, pay, fee, ""); err != nil {
		return "", "", fmt.Errorf("testnet: the payment: %w", err)
	}
	cancel, cfee, err := wl.CancelTx(pay.TxHash().String(), 4)
	if err != nil {
		return "", "", err
	}
	if err := wl.Broadcast(own, cancel, cfee, pay.TxHash().String()); err != nil {
		return "", "", fmt.Errorf("testnet: the double spend: %w", err)
	}
	return pay.TxHash().String(), cancel.TxHash().String(), nil
}

// simulateRace estimates the attack's success over trials with attacker
// share q: the honest side needs k blocks (the first holding the
// payment) while the attacker mines in secret; then the attacker wins on
// getting strictly ahead, and gives up giveUpBehind behind or after
// raceBudget more blocks.
func simulateRace(q float64, k, trials int) float64 {
	// k = 0 (delivery on sight of the unconfirmed payment): the attacker
	// only needs to get ahead from an even start.
	r := rand.New(rand.NewPCG(1, uint64(k)))
	wins := 0
	for t := 0; t < trials; t++ {
		a, h := 0, 0
		for h < max(k, 0) {
			if r.Float64() < q {
				a++
			} else {
				h++
			}
		}
		for n := 0; ; n++ {
			if a > h {
				wins++
				break
			}
			if h-a >= giveUpBehind || n >= raceBudget {
				break
			}
			if r.Float64() < q {
				a++
			} else {
				h++
			}
		}
	}
	return float64(wins) / float64(trials)
}

// nakamoto is the whitepaper's probability that an attacker with share q
// ever catches up from k blocks behind (Poisson approximation), or "1"
// when q >= 0.5.
func nakamoto(q float64, k int) string {
	p := 1 - q
	if q >= p {
		return "1 (majority: always, given time)"
	}
	lambda := float64(k) * (q / p)
	sum := 1.0
	for i := 0; i <= k; i++ {
		poisson := math.Exp(-lambda)
		for j := 1; j <= i; j++ {
			poisson *= lambda / float64(j)
		}
		sum -= poisson * (1 - math.Pow(q/p, float64(k-i)))
	}
	return fmt.Sprintf("%.4f", sum)
}
