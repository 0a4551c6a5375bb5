package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/consensus"
)

// SoakOptions shape a soak run: load, partitions and a crash on a
// running testnet of at least two nodes.
type SoakOptions struct {
	// Duration is how long the load runs.
	Duration time.Duration
	// Rate is the offered load in transactions per second.
	Rate float64
	// PartitionEvery and PartitionFor: in every period of PartitionEvery,
	// the network is split in two for PartitionFor from its middle on,
	// then healed. Zero PartitionEvery means no partitions.
	PartitionEvery, PartitionFor time.Duration
	// Kill kills the last node early in the second period (or at a third
	// of the run without partitions) and restarts it KillFor later.
	Kill    bool
	KillFor time.Duration
	// Settle bounds the wait, after the load, for every transaction to
	// confirm and the nodes to agree.
	Settle time.Duration
	// Coins is how many outputs the load starts with.
	Coins int
}

// DefaultSoakOptions is the long run of make soak.
func DefaultSoakOptions() SoakOptions {
	return SoakOptions{Duration: 5 * time.Minute, Rate: 15, PartitionEvery: 40 * time.Second, PartitionFor: 15 * time.Second,
		Kill: true, KillFor: 10 * time.Second, Settle: 3 * time.Minute, Coins: 200}
}

// SoakReport is what a soak run measured.
type SoakReport struct {
	Offered      int     `json:"offered"`      // transactions sent
	Accepted     int     `json:"accepted"`     // accepted by the node they were sent to
	Replacements int     `json:"replacements"` // of which BIP125 replacements
	AcceptedRate float64 `json:"accepted_per_sec"`
	// Confirmed counts accepted transactions on the final chain, Pooled
	// those in every node's pool instead, Superseded those whose
	// replacement (or original) won, and Lost the rest: it must be 0.
	Confirmed  int `json:"confirmed"`
	Pooled     int `json:"pooled"`
	Superseded int `json:"superseded"`
	Lost       int `json:"lost"`
	// LostTxIDs names up to 20 lost transactions with the node they were
	// sent to and when; Refused counts the load's refusals by reason.
	LostTxIDs []string       `json:"lost_txids,omitempty"`
	Refused   map[string]int `json:"refused,omitempty"`
	// Heals are the times from each heal until every node had one tip,
	// and ReorgDepths the deepest reorganization each heal caused.
	Heals       []Seconds `json:"heal_convergence_s"`
	ReorgDepths []int     `json:"reorg_depths"`
	// CatchUp is how long the restarted node took to reach the others' tip.
	CatchUp Seconds `json:"catch_up_s"`
	// Bans lists bans between nodes seen while the network was whole.
	Bans []string `json:"bans"`
	// SendP50 and SendP99 are sendrawtransaction latencies.
	SendP50 Seconds `json:"sendrawtransaction_p50_s"`
	SendP99 Seconds `json:"sendrawtransaction_p99_s"`
	// The final state: one tip, one UTXO set, the money supply.
	Height       int32  `json:"height"`
	Tip          string `json:"tip"`
	UTXOHash     string `json:"utxo_hash"`
	Supply       int64  `json:"supply"`
	Subsidies    int64  `json:"subsidies"`
	OneTip       bool   `json:"one_tip"`
	OneUTXOSet   bool   `json:"one_utxo_set"`
	SupplyIsSane bool   `json:"supply_equals_subsidies"`
}

// Seconds is a duration printed as seconds in JSON.
type Seconds float64

// Failures lists what the run shows wrong, empty when it held.
func (r *SoakReport) Failures() []string {
	var out []string
	if r.Lost > 0 {
		out = append(out, fmt.Sprintf("%d accepted transactions lost", r.Lost))
	}
	if len(r.Bans) > 0 {
		out = append(out, fmt.Sprintf("honest nodes banned each other: %v", r.Bans))
	}
	if !r.OneTip {
		out = append(out, "the nodes ended on different tips")
	}
	if !r.OneUTXOSet {
		out = append(out, "the nodes ended with different UTXO sets")
	}
	if !r.SupplyIsSane {
		out = append(out, fmt.Sprintf("money supply %d, sum of subsidies %d", r.Supply, r.Subsidies))
	}
	if r.Accepted == 0 {
		out = append(out, "no transaction was accepted")
	}
	return out
}

// Print writes the report as a person reads it.
func (r *SoakReport) Print(w io.Writer) {
	fmt.Fprintf(w, "transactions: %d offered, %d accepted (%d replacements), %.1f accepted/s\n",
		r.Offered, r.Accepted, r.Replacements, r.AcceptedRate)
	fmt.Fprintf(w, "outcome: %d confirmed, %d in every pool, %d superseded by a conflicting one, %d lost\n",
		r.Confirmed, r.Pooled, r.Superseded, r.Lost)
	if len(r.LostTxIDs) > 0 {
		fmt.Fprintf(w, "lost: %s\n", strings.Join(r.LostTxIDs, "; "))
	}
	if len(r.Refused) > 0 {
		fmt.Fprintf(w, "refused by the node they were sent to: %v\n", r.Refused)
	}
	fmt.Fprintf(w, "heals: convergence %v s, reorganization depths %v\n", r.Heals, r.ReorgDepths)
	fmt.Fprintf(w, "restarted node caught up in %.1f s\n", float64(r.CatchUp))
	fmt.Fprintf(w, "sendrawtransaction: p50 %.1f ms, p99 %.1f ms\n", float64(r.SendP50)*1000, float64(r.SendP99)*1000)
	fmt.Fprintf(w, "end: height %d, one tip %v, one UTXO set %v, supply %d = subsidies %d: %v; bans between honest nodes: %d\n",
		r.Height, r.OneTip, r.OneUTXOSet, r.Supply, r.Subsidies, r.SupplyIsSane, len(r.Bans))
}

// Soak runs load against the testnet while partitioning, healing, killing
// and restarting nodes, then checks that no accepted transaction was lost
// and that the nodes agree, narrating to w.
func Soak(ctx context.Context, s *State, o SoakOptions, w io.Writer) (*SoakReport, error) {
	if len(s.Nodes) < 2 {
		return nil, errors.New("testnet: a soak needs at least two nodes")
	}
	if s.Groups != nil {
		return nil, errors.New("testnet: the network is partitioned: heal it first")
	}
	for _, n := range s.Nodes {
		if !n.running() {
			return nil, fmt.Errorf("testnet: %s is not running", n.Name)
		}
	}
	if o.Rate <= 0 || o.Duration <= 0 || o.Coins <= 0 {
		return nil, errors.New("testnet: a soak needs a positive rate, duration and number of coins")
	}
	key, _ := btcec.NewPrivateKey()
	g := &loadGen{s: s, key: key, script: p2wpkh(key), rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), avoid: map[int]bool{}, refused: map[string]int{}, start: time.Now()}

	fmt.Fprintf(w, "1. Funding %d coins for the load from %s's wallet.\n", o.Coins, s.Nodes[0].Name)
	if err := g.fund(ctx, o.Coins); err != nil {
		return nil, err
	}
	_, start, err := s.WaitAgreement(ctx, 0, 2*time.Minute)
	if err != nil {
		return nil, err
	}
	rep := &SoakReport{}

	fmt.Fprintf(w, "2. Load: %.0f tx/s for %v; partitions of %v every %v; kill: %v.\n", o.Rate, o.Duration, o.PartitionFor, o.PartitionEvery, o.Kill)
	g.start = time.Now()
	end := g.start.Add(o.Duration)
	loadCtx, stopLoad := context.WithDeadline(ctx, end)
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		g.run(loadCtx, o.Rate)
	}()
	faultErr := g.faults(ctx, o, end, rep, w)
	if faultErr != nil && !errors.Is(faultErr, errLoadOver) {
		stopLoad()
		<-loadDone
		if s.Groups != nil {
			_ = s.Heal()
		}
		return rep, faultErr
	}
	<-loadDone
	if s.Groups != nil { // the load ended inside a partition
		if err := s.Heal(); err != nil {
			return rep, err
		}
	}

	fmt.Fprintf(w, "3. Load stopped; mining on until every transaction is settled (at most %v).\n", o.Settle)
	g.mu.Lock()
	rep.Offered, rep.Replacements, rep.Refused = g.offered, g.replaced, g.refused
	for _, t := range g.txs {
		if t.accepted {
			rep.Accepted++
		}
	}
	lat := slices.Clone(g.latency)
	g.mu.Unlock()
	rep.AcceptedRate = float64(rep.Accepted) / o.Duration.Seconds()
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		rep.SendP50 = Seconds(lat[len(lat)/2].Seconds())
		rep.SendP99 = Seconds(lat[len(lat)*99/100].Seconds())
	}
	deadline := time.Now().Add(o.Settle)
	for {
		if err := g.account(ctx, start, rep); err != nil {
			return rep, err
		}
		if rep.Lost == 0 && rep.Pooled == 0 {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return rep, err
		}
	}
	g.bansWhole(rep)
	if err := g.finalState(ctx, rep); err != nil {
		return rep, err
	}
	rep.Print(w)
	return rep, nil
}

// errLoadOver ends the fault schedule.
var errLoadOver = errors.New("testnet: the load is over")

// faults partitions, heals, kills and restarts nodes on o's schedule until
// the load ends at end. A node killed is always restarted, and a
// partition always healed, before it returns.
func (g *loadGen) faults(ctx context.Context, o SoakOptions, end time.Time, rep *SoakReport, w io.Writer) error {
	s := g.s
	start := g.start
	// at waits until d into the run, unless that is past the load's end.
	at := func(d time.Duration) error {
		if start.Add(d).After(end) {
			return errLoadOver
		}
		return sleepCtx(ctx, time.Until(start.Add(d)))
	}
	say := func(format string, args ...any) {
		fmt.Fprintf(w, "   t=%3.0fs: %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	period := o.PartitionEvery
	if period <= 0 {
		period = o.Duration
	}
	victim := len(s.Nodes) - 1
	killAt := period + 2*time.Second // after the first heal, before the next partition
	if o.PartitionEvery <= 0 {
		killAt = o.Duration / 3
	}
	var groups [][]int // alternate nodes, so that each side has a miner
	for i := range s.Nodes {
		if len(groups) < 2 {
			groups = append(groups, nil)
		}
		groups[i%2] = append(groups[i%2], i)
	}
	for p := time.Duration(0); ; p += period {
		if o.Kill && killAt >= p && killAt < p+period && !start.Add(killAt+o.KillFor).After(end) {
			if err := at(killAt - 3*time.Second); err != nil {
				return err
			}
			if err := g.crash(ctx, victim, o.KillFor, rep, say); err != nil {
				return err
			}
		}
		if o.PartitionEvery <= 0 {
			return at(o.Duration)
		}
		if start.Add(p + period/2 + o.PartitionFor).After(end) {
			return errLoadOver // no time left for a whole partition
		}
		if err := at(p + period/2); err != nil {
			return err
		}
		g.bansWhole(rep)
		say("partition %v", groups)
		if err := s.Partition(groups); err != nil {
			return err
		}
		if err := at(p + period/2 + o.PartitionFor); err != nil && !errors.Is(err, errLoadOver) {
			_ = s.Heal()
			return err
		}
		before := g.tipsNow()
		healed := time.Now() // the heal itself reconnects, so it counts
		if err := s.Heal(); err != nil {
			return err
		}
		if _, err := g.waitOneTip(ctx, time.Minute); err != nil {
			return err
		}
		conv := time.Since(healed)
		depth := g.reorgDepth(before)
		rep.Heals = append(rep.Heals, Seconds(math.Round(conv.Seconds()*100)/100))
		rep.ReorgDepths = append(rep.ReorgDepths, depth)
		say("healed; one tip after %.2f s, reorganization depth %d", conv.Seconds(), depth)
		if time.Now().After(end) {
			return errLoadOver
		}
	}
}

// crash kills node victim, restarts it after d, and waits until it has
// caught up. The load stops sending to it 3 s before the kill: what a node
// accepted but had no time to announce dies with it, as in Bitcoin, where
// the sender's wallet would broadcast it again.
func (g *loadGen) crash(ctx context.Context, victim int, d time.Duration, rep *SoakReport, say func(string, ...any)) error {
	s := g.s
	n := s.Nodes[victim]
	g.mu.Lock()
	g.avoid[victim] = true
	g.mu.Unlock()
	if err := sleepCtx(ctx, 3*time.Second); err != nil {
		return err
	}
	say("kill -9 %s", n.Name)
	if err := s.Kill(n); err != nil {
		return err
	}
	if err := sleepCtx(ctx, d); err != nil {
		return err
	}
	restarted := time.Now() // catch-up counts the start-up too
	if err := s.Restart(ctx, n); err != nil {
		return err
	}
	say("%s restarted", n.Name)
	if err := g.waitCaughtUp(ctx, victim); err != nil {
		return err
	}
	rep.CatchUp = Seconds(math.Round(time.Since(restarted).Seconds()*100) / 100)
	say("%s caught up in %.2f s", n.Name, float64(rep.CatchUp))
	g.mu.Lock()
	delete(g.avoid, victim)
	g.mu.Unlock()
	return nil
}

// bansWhole records any ban between nodes while the network is whole: an
// honest node banned another.
func (g *loadGen) bansWhole(rep *SoakReport) {
	for _, n := range g.s.Nodes {
		if !n.running() {
			continue
		}
		var bans []struct {
			Address string `json:"address"`
		}
		if g.s.Call(n, &bans, "listbanned") != nil {
			continue
		}
		for _, b := range bans {
			entry := n.Name + " banned " + b.Address
			if !slices.Contains(rep.Bans, entry) {
				rep.Bans = append(rep.Bans, entry)
			}
		}
	}
}

// tipsNow returns each node's best block hash and height.
func (g *loadGen) tipsNow() map[int]string {
	out := map[int]string{}
	for i, n := range g.s.Nodes {
		var hash string
		if n.running() && g.s.Call(n, &hash, "getbestblockhash") == nil {
			out[i] = hash
		}
	}
	return out
}

// waitOneTip waits until every running node has the same tip.
func (g *loadGen) waitOneTip(ctx context.Context, d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	for {
		tips := g.tipsNow()
		var first string
		same := len(tips) > 0
		for _, t := range tips {
			if first == "" {
				first = t
			}
			same = same && t == first
		}
		if same {
			return first, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("testnet: the nodes did not agree on a tip within %v: %v", d, tips)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// reorgDepth returns how many blocks the node that reorganized deepest
// disconnected: from its tip before the heal back to the first block on
// the chain it has now.
func (g *loadGen) reorgDepth(before map[int]string) int {
	deepest := 0
	for i, h := range before {
		n := g.s.Nodes[i] // the node that had the block, now on the other chain
		depth := 0
		for h != "" && depth < 1000 {
			var hdr struct {
				Confirmations int64  `json:"confirmations"`
				Prev          string `json:"previousblockhash"`
			}
			if g.s.Call(n, &hdr, "getblockheader", h) != nil || hdr.Confirmations >= 0 {
				break
			}
			depth++
			h = hdr.Prev
		}
		deepest = max(deepest, depth)
	}
	return deepest
}

// waitCaughtUp waits until node i has the tip the others have.
func (g *loadGen) waitCaughtUp(ctx context.Context, i int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var mine, theirs string
		_ = g.s.CallContext(ctx, g.s.Nodes[i], &mine, "getbestblockhash")
		_ = g.s.CallContext(ctx, g.s.Nodes[(i+1)%len(g.s.Nodes)], &theirs, "getbestblockhash")
		if mine != "" && mine == theirs {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testnet: %s did not catch up within 2 minutes", g.s.Nodes[i].Name)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// account sorts every accepted transaction into confirmed on node 0's
// chain above height from, in every pool, superseded, or lost.
func (g *loadGen) account(ctx context.Context, from int32, rep *SoakReport) error {
	s := g.s
	confirmed := map[chainhash.Hash]int{}
	var height int32
	if err := s.CallContext(ctx, s.Nodes[0], &height, "getblockcount"); err != nil {
		return err
	}
	for h := from; h <= height; h++ {
		var hash string
		var block struct {
			Tx []string `json:"tx"`
		}
		if err := s.CallContext(ctx, s.Nodes[0], &hash, "getblockhash", h); err != nil {
			return err
		}
		if err := s.CallContext(ctx, s.Nodes[0], &block, "getblock", hash, 1); err != nil {
			return err
		}
		for _, id := range block.Tx {
			if txid, err := chainhash.NewHashFromStr(id); err == nil {
				confirmed[*txid]++
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	var pools []map[string]bool
	for _, n := range s.Nodes {
		var ids []string
		if err := s.CallContext(ctx, n, &ids, "getrawmempool"); err != nil {
			return err
		}
		pool := make(map[string]bool, len(ids))
		for _, id := range ids {
			pool[id] = true
		}
		pools = append(pools, pool)
	}
	everywhere := func(id chainhash.Hash) bool {
		for _, p := range pools {
			if !p[id.String()] {
				return false
			}
		}
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	rep.Confirmed, rep.Pooled, rep.Superseded, rep.Lost, rep.LostTxIDs = 0, 0, 0, 0, nil
	groups := map[int][]*soakTx{}
	lost := func(t *soakTx) {
		rep.Lost++
		if len(rep.LostTxIDs) < 20 {
			rep.LostTxIDs = append(rep.LostTxIDs, fmt.Sprintf("%v (sent to %s at t=%.1fs, group %d)",
				t.txid, g.s.Nodes[t.node].Name, t.sent.Sub(g.start).Seconds(), t.group))
		}
	}
	for _, t := range g.txs {
		if !t.accepted {
			continue
		}
		if t.group != 0 {
			groups[t.group] = append(groups[t.group], t)
			continue
		}
		switch {
		case confirmed[t.txid] == 1:
			rep.Confirmed++
		case everywhere(t.txid):
			rep.Pooled++
		default:
			lost(t)
		}
	}
	for _, members := range groups {
		won := 0
		for _, t := range members {
			if confirmed[t.txid] > 0 {
				won++
			}
		}
		switch {
		case won == 1:
			rep.Confirmed++
			rep.Superseded += len(members) - 1
		case won == 0 && slices.ContainsFunc(members, func(t *soakTx) bool { return everywhere(t.txid) }):
			rep.Pooled++
			rep.Superseded += len(members) - 1
		default: // none anywhere, or (impossible) two confirmed
			for _, t := range members {
				lost(t)
			}
		}
	}
	return nil
}

// finalState checks one tip, one UTXO set and the money supply, retrying
// while blocks arrive between the calls.
func (g *loadGen) finalState(ctx context.Context, rep *SoakReport) error {
	s := g.s
	for try := 0; try < 50; try++ {
		var sets []struct {
			Height    int32   `json:"height"`
			BestBlock string  `json:"bestblock"`
			Hash      string  `json:"hash_serialized_3"`
			Total     float64 `json:"total_amount"`
		}
		for _, n := range s.Nodes {
			var set struct {
				Height    int32   `json:"height"`
				BestBlock string  `json:"bestblock"`
				Hash      string  `json:"hash_serialized_3"`
				Total     float64 `json:"total_amount"`
			}
			if err := s.CallContext(ctx, n, &set, "gettxoutsetinfo"); err != nil {
				return err
			}
			sets = append(sets, set)
		}
		same := true
		for _, set := range sets[1:] {
			same = same && set.BestBlock == sets[0].BestBlock
		}
		rep.OneTip = same
		if !same {
			if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
				return err
			}
			continue
		}
		rep.OneUTXOSet = true
		for _, set := range sets[1:] {
			rep.OneUTXOSet = rep.OneUTXOSet && set.Hash == sets[0].Hash
		}
		rep.Height, rep.Tip, rep.UTXOHash = sets[0].Height, sets[0].BestBlock, sets[0].Hash
		rep.Supply = int64(math.Round(sets[0].Total * 1e8))
		rep.Subsidies = 0
		for h := int32(1); h <= sets[0].Height; h++ {
			rep.Subsidies += consensus.CalcBlockSubsidy(h, &s.net.Consensus)
		}
		rep.SupplyIsSane = rep.Supply == rep.Subsidies
		return nil
	}
	return nil
}
