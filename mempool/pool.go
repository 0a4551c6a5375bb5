package mempool

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/mempool/policy"
)

// Chain is what the pool needs of the block chain. *chain.BlockChain
// implements it.
type Chain interface {
	Network() *chainparams.Network
	BestSnapshot() *chain.BestState
	FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error)
	MedianTimePastAt(height int32) (int64, error)
	SigCache() *txscript.SigCache
	ScriptCache() *chain.ScriptCache
	Subscribe() *chain.Subscription
	WithTip(fn func(tip *chain.BestState)) error
}

var _ Chain = (*chain.BlockChain)(nil)

// Defaults of Config.
const (
	DefaultMaxPoolBytes = 300_000_000
	DefaultExpiry       = 336 * time.Hour
	DefaultMaxOrphans   = 100
	DefaultOrphanExpiry = 20 * time.Minute
)

// Config configures a TxPool.
type Config struct {
	Chain Chain
	// MaxPoolBytes bounds the pool's estimated memory (--maxmempool).
	MaxPoolBytes int64
	// MinRelayFeeRate is the lowest fee rate accepted, per 1,000 vbytes.
	MinRelayFeeRate int64
	// Expiry removes transactions older than this.
	Expiry time.Duration
	// MaxOrphans and OrphanExpiry bound the orphan pool.
	MaxOrphans   int
	OrphanExpiry time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnAccepted, if set, hears of the transactions each successful
	// ProcessTransaction added to the pool, whatever brought them (RPC, a
	// peer, an orphan whose parent arrived, a reorganization returning
	// them), parents first, so that the network can announce them. It is
	// called without the pool's lock held.
	OnAccepted func(accepted []*TxDesc)
	// Logger receives the pool's log; nil discards it.
	Logger *slog.Logger
}

// TxDesc is a pool transaction as callers see it.
type TxDesc struct {
	Tx        *wire.MsgTx
	TxID      chainhash.Hash
	WTxID     chainhash.Hash
	Fee       int64
	Weight    int64
	VSize     int64
	SigOpCost int64
	Time      time.Time
	Height    int32 // chain height when it entered the pool
	// Parents and Children are the in-pool transactions it spends and
	// that spend it.
	Parents  []chainhash.Hash
	Children []chainhash.Hash
	// Ancestor and descendant aggregates include the transaction itself.
	AncestorCount, DescendantCount int
	AncestorSize, DescendantSize   int64 // vbytes
	AncestorFees, DescendantFees   int64
}

// entry is a pool transaction. Once in the pool it keeps only its
// serialization (decoded again on use, about a microsecond) and a few
// numbers: a decoded transaction takes twice its serialized size.
type entry struct {
	// tx is set while the transaction is checked, and nil once pooled.
	tx        *wire.MsgTx
	raw       []byte
	txid      chainhash.Hash
	wtxid     chainhash.Hash
	fee       int64
	weight    int64
	vsize     int64
	sigOpCost int64
	unixTime  int64
	height    int32
	// parents and children are nil until the transaction has any.
	parents  map[*entry]struct{}
	children map[*entry]struct{}
	// anc and desc total the entry with its in-pool ancestors and with
	// its in-pool descendants (see index.go).
	anc, desc aggregate
}

// msgTx returns the decoded transaction.
func (e *entry) msgTx() *wire.MsgTx {
	if e.tx != nil {
		return e.tx
	}
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(e.raw)); err != nil {
		// The bytes were serialized by this process from a valid
		// transaction; failing to read them back is a bug.
		panic(fmt.Sprintf("mempool: pooled transaction %v does not decode: %v", e.txid, err))
	}
	return &tx
}

// entryTime returns when the transaction entered the pool.
func (e *entry) entryTime() time.Time { return time.Unix(e.unixTime, 0) }

// link records that child spends parent.
func link(parent, child *entry) {
	if parent.children == nil {
		parent.children = make(map[*entry]struct{})
	}
	if child.parents == nil {
		child.parents = make(map[*entry]struct{})
	}
	parent.children[child] = struct{}{}
	child.parents[parent] = struct{}{}
}

// TxPool is the transaction pool. Its methods are safe for concurrent
// access.
type TxPool struct {
	cfg    Config
	chain  Chain
	log    *slog.Logger
	now    func() time.Time
	params *chainparams.Network

	// mu protects the fields below.
	mu   sync.RWMutex
	pool map[chainhash.Hash]*entry
	// byWTxID finds entries by wtxid, which peers announce and fetch
	// (BIP339), keyed by wtxidKey to save memory.
	byWTxID map[uint64]*entry
	spent   map[wire.OutPoint]*entry // outpoint -> pool tx spending it
	bytes   int64                    // estimated memory of the entries
	// vsizes and fees total the entries' virtual sizes and fees.
	vsizes, fees int64
	// index orders the entries for eviction and block assembly.
	index    poolIndex
	orphans  *orphanPool
	feeStats *feeEstimator
	// minFeeRate is the rolling minimum fee rate after evictions (per
	// 1,000 vbytes), decaying back to the relay minimum.
	minFeeRate   int64
	minFeeUpdate time.Time
	// sequence counts additions and removals (getrawmempool's
	// mempool_sequence).
	sequence uint64
	// wtxSeed keys byWTxID; it is this process's secret.
	wtxSeed maphash.Seed
	// returning holds the transactions of blocks disconnected since the
	// pool last caught up with the chain, newest block first. Only the
	// goroutine that handles notifications touches it.
	returning [][]*wire.MsgTx
	// held are transactions a reorganization took out of blocks or of
	// the pool that the new chain cannot include yet, and the weight they
	// add up to (at most maxHeldWeight). See hold. Only the goroutine that
	// handles notifications touches them.
	held       []heldTx
	heldIDs    map[chainhash.Hash]struct{}
	heldWeight int64

	// syncMu guards synced, the tip the chain's notifications leave the
	// pool at (the chain's tip once the pool has heard of every block),
	// and syncCh, closed and replaced whenever synced changes.
	syncMu sync.Mutex
	synced chainhash.Hash
	syncCh chan struct{}
}

// New returns an empty pool.
func New(cfg Config) *TxPool {
	if cfg.MaxPoolBytes <= 0 {
		cfg.MaxPoolBytes = DefaultMaxPoolBytes
	}
	if cfg.MinRelayFeeRate <= 0 {
		cfg.MinRelayFeeRate = policy.DefaultMinRelayFeeRate
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = DefaultExpiry
	}
	if cfg.MaxOrphans <= 0 {
		cfg.MaxOrphans = DefaultMaxOrphans
	}
	if cfg.OrphanExpiry <= 0 {
		cfg.OrphanExpiry = DefaultOrphanExpiry
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &TxPool{
		cfg:      cfg,
		chain:    cfg.Chain,
		log:      cfg.Logger,
		now:      cfg.Now,
		params:   cfg.Chain.Network(),
		pool:     make(map[chainhash.Hash]*entry),
		byWTxID:  make(map[uint64]*entry),
		wtxSeed:  maphash.MakeSeed(),
		spent:    make(map[wire.OutPoint]*entry),
		index:    newPoolIndex(),
		orphans:  newOrphanPool(cfg.MaxOrphans, cfg.OrphanExpiry),
		feeStats: newFeeEstimator(),
		synced:   cfg.Chain.BestSnapshot().Hash,
		syncCh:   make(chan struct{}),
	}
}

// Memory estimates of an entry beyond its serialized bytes: the entry
// struct with its slots in the pool's txid and wtxid maps, and one slot in
// the spent-outputs map per input.
const (
	entryOverhead = 275
	inputOverhead = 80
)

// memSize estimates an entry's memory.
func (e *entry) memSize(inputs int) int64 {
	return int64(len(e.raw)) + entryOverhead + int64(inputs)*inputOverhead
}

// addLocked inserts e, linking it to its in-pool parents and children. The
// caller drops e.tx once it no longer needs the decoded form.
// This function MUST be called with the pool lock held (for writes).
func (p *TxPool) addLocked(e *entry) {
	tx := e.msgTx()
	if e.raw == nil {
		var buf bytes.Buffer
		buf.Grow(tx.SerializeSize())
		_ = tx.Serialize(&buf)
		e.raw = buf.Bytes()
	}
	for _, in := range tx.TxIn {
		if parent, ok := p.pool[in.PreviousOutPoint.Hash]; ok {
			link(parent, e)
		}
		p.spent[in.PreviousOutPoint] = e
	}
	// A transaction returning from a disconnected block may already have
	// children in the pool (Core's UpdateTransactionsFromBlock).
	for i := range tx.TxOut {
		if child, ok := p.spent[wire.OutPoint{Hash: e.txid, Index: uint32(i)}]; ok {
			link(e, child)
		}
	}
	p.pool[e.txid] = e
	p.byWTxID[p.wtxidKey(e.wtxid)] = e
	p.bytes += e.memSize(len(tx.TxIn))
	p.vsizes += e.vsize
	p.fees += e.fee
	p.sequence++
	p.indexAddedLocked(e)
}

// removeLocked takes e out of the pool; with descendants, every transaction
// spending it (recursively) too. Without, e was confirmed and its
// descendants stay. It returns what it removed, e first.
// This function MUST be called with the pool lock held (for writes).
func (p *TxPool) removeLocked(e *entry, descendants bool) []*entry {
	if _, ok := p.pool[e.txid]; !ok {
		return nil
	}
	if !descendants {
		recount := p.unindexConfirmedLocked(e)
		p.unlinkLocked(e)
		for _, x := range recount {
			p.recount(x)
		}
		return []*entry{e}
	}
	removed := append([]*entry{e}, p.descendantsLocked(e)...)
	set := make(map[*entry]struct{}, len(removed))
	for _, x := range removed {
		set[x] = struct{}{}
	}
	p.unindexStagedLocked(set)
	for _, x := range removed {
		p.unlinkLocked(x)
	}
	return removed
}

// unlinkLocked takes e, already out of the indexes, out of the pool's maps
// and its relatives' links.
// This function MUST be called with the pool lock held (for writes).
func (p *TxPool) unlinkLocked(e *entry) {
	tx := e.msgTx()
	for _, in := range tx.TxIn {
		if p.spent[in.PreviousOutPoint] == e {
			delete(p.spent, in.PreviousOutPoint)
		}
	}
	for parent := range e.parents {
		delete(parent.children, e)
	}
	for child := range e.children {
		delete(child.parents, e)
	}
	delete(p.pool, e.txid)
	if k := p.wtxidKey(e.wtxid); p.byWTxID[k] == e {
		delete(p.byWTxID, k)
	}
	p.bytes -= e.memSize(len(tx.TxIn))
	p.vsizes -= e.vsize
	p.fees -= e.fee
	p.sequence++
}

// ancestorsLocked returns e's in-pool ancestors (not e).
// This function MUST be called with the pool lock held.
func (p *TxPool) ancestorsLocked(e *entry) []*entry {
	return relatives(e, func(x *entry) map[*entry]struct{} { return x.parents })
}

// descendantsLocked returns e's in-pool descendants (not e).
// This function MUST be called with the pool lock held.
func (p *TxPool) descendantsLocked(e *entry) []*entry {
	return relatives(e, func(x *entry) map[*entry]struct{} { return x.children })
}

// relatives walks the pool graph from e along edges (parents or children)
// and returns every entry reached, e excluded.
func relatives(e *entry, edges func(*entry) map[*entry]struct{}) []*entry {
	seen := map[*entry]bool{e: true}
	var out []*entry
	stack := []*entry{e}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for next := range edges(cur) {
			if !seen[next] {
				seen[next] = true
				out = append(out, next)
				stack = append(stack, next)
			}
		}
	}
	return out
}

// descLocked builds the caller's view of e.
// This function MUST be called with the pool lock held.
func (p *TxPool) descLocked(e *entry) *TxDesc {
	d := &TxDesc{Tx: e.msgTx(), TxID: e.txid, WTxID: e.wtxid, Fee: e.fee, Weight: e.weight, VSize: e.vsize,
		SigOpCost: e.sigOpCost, Time: e.entryTime(), Height: e.height,
		AncestorCount: e.anc.count, DescendantCount: e.desc.count, AncestorSize: e.anc.vsize,
		DescendantSize: e.desc.vsize, AncestorFees: e.anc.fee, DescendantFees: e.desc.fee}
	for parent := range e.parents {
		d.Parents = append(d.Parents, parent.txid)
	}
	for child := range e.children {
		d.Children = append(d.Children, child.txid)
	}
	sortHashes(d.Parents)
	sortHashes(d.Children)
	return d
}

// sortHashes sorts txids as their hex strings sort.
func sortHashes(h []chainhash.Hash) {
	sort.Slice(h, func(i, j int) bool { return txidLess(&h[i], &h[j]) })
}

// Count returns the number of pool transactions.
func (p *TxPool) Count() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.pool)
}

// Have reports whether the pool holds the transaction.
func (p *TxPool) Have(txid chainhash.Hash) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.pool[txid]
	return ok
}

// FetchTransaction returns a pool transaction.
func (p *TxPool) FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.pool[txid]
	if !ok {
		return nil, ErrNotInPool
	}
	return e.msgTx(), nil
}

// TxsMatching returns the pool transactions whose wtxid match accepts,
// keyed by wtxid. match sees every pooled wtxid, under the pool's read
// lock: it must be quick and must not call the pool. Compact block
// relay finds a block's transactions this way from their short IDs.
func (p *TxPool) TxsMatching(match func(wtxid chainhash.Hash) bool) map[chainhash.Hash]*wire.MsgTx {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make(map[chainhash.Hash]*wire.MsgTx)
	for _, e := range p.pool {
		if match(e.wtxid) {
			out[e.wtxid] = e.msgTx()
		}
	}
	return out
}

// Entry returns the description of a pool transaction.
func (p *TxPool) Entry(txid chainhash.Hash) (*TxDesc, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.pool[txid]
	if !ok {
		return nil, ErrNotInPool
	}
	return p.descLocked(e), nil
}

// Descs returns every pool transaction, ordered by txid.
func (p *TxPool) Descs() []*TxDesc {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*TxDesc, 0, len(p.pool))
	for _, e := range p.pool {
		out = append(out, p.descLocked(e))
	}
	sort.Slice(out, func(i, j int) bool { return txidLess(&out[i].TxID, &out[j].TxID) })
	return out
}

// Brief is what a summary of the pool reads of one transaction.
type Brief struct {
	TxID  chainhash.Hash
	Fee   int64
	VSize int64
	Time  time.Time
}

// Briefs returns every pool transaction's txid, fee, virtual size and
// entry time, in no order. Unlike Descs it decodes nothing: servers that
// summarize the pool every second (fee histograms, counts) call it.
func (p *TxPool) Briefs() []Brief {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Brief, 0, len(p.pool))
	for _, e := range p.pool {
		out = append(out, Brief{TxID: e.txid, Fee: e.fee, VSize: e.vsize, Time: e.entryTime()})
	}
	return out
}

// TxIDs returns the txids of the pool, sorted.
func (p *TxPool) TxIDs() []chainhash.Hash {
	ids, _ := p.TxIDsWithSequence()
	return ids
}

// Sequence returns the pool's sequence number, which moves on every
// addition and removal (getrawmempool's mempool_sequence).
// This function is safe for concurrent access.
func (p *TxPool) Sequence() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.sequence
}

// TxIDsWithSequence returns the pool's txids, sorted, with the pool's
// sequence number at that moment: how many additions and removals it has
// seen (getrawmempool's mempool_sequence).
func (p *TxPool) TxIDsWithSequence() ([]chainhash.Hash, uint64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]chainhash.Hash, 0, len(p.pool))
	for id := range p.pool {
		out = append(out, id)
	}
	sortHashes(out)
	return out, p.sequence
}

// Ancestors returns the in-pool ancestors of a pool transaction.
func (p *TxPool) Ancestors(txid chainhash.Hash) ([]*TxDesc, error) {
	return p.relatives(txid, (*TxPool).ancestorsLocked)
}

// Descendants returns the in-pool descendants of a pool transaction.
func (p *TxPool) Descendants(txid chainhash.Hash) ([]*TxDesc, error) {
	return p.relatives(txid, (*TxPool).descendantsLocked)
}

func (p *TxPool) relatives(txid chainhash.Hash, walk func(*TxPool, *entry) []*entry) ([]*TxDesc, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.pool[txid]
	if !ok {
		return nil, ErrNotInPool
	}
	rel := walk(p, e)
	out := make([]*TxDesc, len(rel))
	for i, r := range rel {
		out[i] = p.descLocked(r)
	}
	sort.Slice(out, func(i, j int) bool { return txidLess(&out[i].TxID, &out[j].TxID) })
	return out, nil
}

// Info summarizes the pool (getmempoolinfo).
type Info struct {
	Size            int
	Bytes           int64 // sum of virtual sizes
	Usage           int64 // estimated memory
	TotalFee        int64
	MaxBytes        int64
	MinFeeRate      int64 // the pool's current minimum, per 1,000 vbytes
	MinRelayFeeRate int64
}

// Info returns the pool's summary.
func (p *TxPool) Info() Info {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return Info{Size: len(p.pool), Bytes: p.vsizes, TotalFee: p.fees, Usage: p.bytes, MaxBytes: p.cfg.MaxPoolBytes,
		MinFeeRate: p.currentMinFeeLocked(), MinRelayFeeRate: p.cfg.MinRelayFeeRate}
}
