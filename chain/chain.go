package chain

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/google/btree"
	"github.com/syndtr/goleveldb/leveldb/storage"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/internal/blockfile"
	"github.com/cairnchain/cairn/chain/internal/store"
	"github.com/cairnchain/cairn/chain/utxo"
)

// Defaults of Config.
const (
	DefaultCacheBytes    = 450 << 20
	DefaultFlushInterval = 5 * time.Minute
	defaultSigCacheSize  = 100_000
	defaultScriptCache   = 100_000
)

// Config configures a BlockChain.
type Config struct {
	// Dir is the database directory; it is created if missing.
	Dir string
	// BlocksDir is the directory of the block and undo files; empty means
	// Dir's "blocks" subdirectory.
	BlocksDir string
	// Network gives the consensus rules and genesis block.
	Network *chainparams.Network
	// CacheBytes bounds the UTXO cache (the node's --dbcache). Zero means
	// DefaultCacheBytes.
	CacheBytes int64
	// FlushInterval bounds how long connected blocks may wait in the
	// cache before their state is written. Zero means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// TxIndex keeps an index from txid to block.
	TxIndex bool
	// BlockFilterIndex keeps the BIP158 basic filter and filter header
	// of every connected block (Bitcoin Core's -blockfilterindex).
	BlockFilterIndex bool
	// AddrIndex keeps the address index: each output script's confirmed
	// history and unspent outputs, by script hash (what the Electrum
	// protocol asks for).
	AddrIndex bool
	// Prune lets the node delete old block files (Core's -prune=1: by
	// PruneBlockchain); PruneTarget, in bytes, makes it do so by itself
	// to keep the block and undo files under it (Core's -prune=N MiB,
	// at least MinPruneTarget) and implies Prune. The transaction index
	// cannot be kept with pruning.
	Prune       bool
	PruneTarget int64
	// FastPrune keeps blocks in files of 64 KiB, so that tests of other
	// packages and end-to-end tests can prune a short chain (Bitcoin
	// Core's -fastprune).
	FastPrune bool
	// AssumeValid names a block whose ancestors' scripts are not checked
	// when connected deep enough below a best header chain that holds it
	// and has the minimum chain work (Bitcoin Core's -assumevalid); nil
	// means the network's default, the zero hash none.
	AssumeValid *chainhash.Hash
	// Now is the clock for the future-time rule; nil means time.Now.
	Now func() time.Time
	// MaxTipAge is how old the tip may be, by Now, before the node counts
	// as in initial block download (Bitcoin Core's -maxtipage); zero
	// means DefaultMaxTipAge.
	MaxTipAge time.Duration
	// SigCache and ScriptCache are shared with the mempool; nil creates
	// private ones.
	SigCache    *txscript.SigCache
	ScriptCache *ScriptCache
	// ScriptWorkers is the number of script verification goroutines;
	// zero means GOMAXPROCS.
	ScriptWorkers int
	// Logger receives the chain's log; nil discards it.
	Logger *slog.Logger

	// storage, when set, keeps the database instead of Dir, with a
	// memtable of storageWriteBuffer bytes (0: the default): the power-cut
	// test runs the chain on a storage that simulates power cuts.
	storage            storage.Storage
	storageWriteBuffer int
	// blockFS, when set, holds the block files instead of BlocksDir, and
	// maxBlockFile, when set, replaces their size limit.
	blockFS      blockfile.FS
	maxBlockFile int64
	// smallPruneTarget allows targets under MinPruneTarget: tests prune
	// small chains.
	smallPruneTarget bool
}

// BestState is an immutable snapshot of the tip, replaced on every change.
type BestState struct {
	Hash       chainhash.Hash
	Height     int32
	Bits       uint32
	Time       time.Time
	MedianTime time.Time
	ChainWork  *big.Int
	NumTxns    int
	Weight     int
}

// BlockChain is the chain state machine: block index, fork choice, UTXO set
// and storage. Its methods are safe for concurrent access; block and header
// processing is serialized.
type BlockChain struct {
	cfg         Config
	params      *consensus.Params
	network     *chainparams.Network
	db          *store.DB
	blockFS     blockfile.FS
	files       *blockfile.Store
	utxos       *utxo.Cache
	sigCache    *txscript.SigCache
	scriptCache *ScriptCache
	now         func() time.Time
	log         *slog.Logger
	notifier    *notifier

	// processLock serializes everything that changes the chain: block
	// and header processing, invalidation and reconsideration, flushes
	// and Close.
	processLock sync.Mutex
	closed      bool

	// Fields guarded by processLock only (touched by the writer alone).
	pendingTx    map[chainhash.Hash][]byte // nil value: delete
	pendingBytes int64
	dirtyNodes   map[*blockNode]struct{}
	lastFlush    time.Time
	nextSeq      uint64
	unlinked     map[*blockNode][]*blockNode
	candidates   map[*blockNode]struct{}
	connectErrs  map[*blockNode]error // failures of the last activation
	recent       recentBlocks

	// doneIBD latches once IsInitialBlockDownload has answered false.
	doneIBD atomic.Bool

	// unsyncedLost counts the blocks the start found cut by a power loss.
	unsyncedLost int
	// prunePending: files were marked pruned and the next flush records
	// that, then deletes them (guarded by processLock).
	prunePending bool
	// pruneHeight is the lowest main-chain height stored, when pruned.
	pruneHeight atomic.Int32

	// pendingFilters holds the block filter records of the blocks
	// connected since the last flush, by block hash (also guarded by
	// processLock).
	pendingFilters map[chainhash.Hash][]byte

	// addrMu guards addrPend and addrTip: the writer changes them under
	// processLock and addrMu, readers take a view under addrMu alone.
	// addrPend holds the address index changes since the last flush
	// (copy-on-write: readers clone it), addrTip the block they bring
	// the index to.
	addrMu   sync.Mutex
	addrPend *btree.BTreeG[addrItem]
	addrTip  *blockNode

	// chainLock protects the fields below; readers take it shared.
	chainLock sync.RWMutex
	index     map[chainhash.Hash]*blockNode
	best      chainView
	// bestHeader is the valid header with the most work, or nil when an
	// invalidation may have changed it (HeaderCount then looks again).
	bestHeader *blockNode

	bestState atomic.Pointer[BestState]

	// assumeValid is the block of Config.AssumeValid, resolved.
	assumeValid chainhash.Hash

	scriptStats struct {
		inputsChecked atomic.Uint64
		txsCached     atomic.Uint64
		inputsAssumed atomic.Uint64
	}
}

// ScriptStats counts the script work of connected blocks.
type ScriptStats struct {
	// InputsChecked is the number of inputs whose scripts were run.
	InputsChecked uint64
	// TxsCached is the number of transactions skipped because the script
	// cache (filled by the mempool) already held them.
	TxsCached uint64
	// InputsAssumedValid is the number of inputs whose scripts were not
	// run because their block is an ancestor of the assumed-valid block.
	InputsAssumedValid uint64
}

// ScriptStats returns the script validation counters.
//
// This function is safe for concurrent access.
func (b *BlockChain) ScriptStats() ScriptStats {
	return ScriptStats{
		InputsChecked:      b.scriptStats.inputsChecked.Load(),
		TxsCached:          b.scriptStats.txsCached.Load(),
		InputsAssumedValid: b.scriptStats.inputsAssumed.Load(),
	}
}

// New opens (or creates) the chain database in cfg.Dir, loads the block
// index, and connects any stored blocks the last run had not yet written the
// state of.
func New(cfg Config) (*BlockChain, error) {
	if cfg.Network == nil {
		return nil, errors.New("chain: Config.Network is required")
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.MaxTipAge <= 0 {
		cfg.MaxTipAge = DefaultMaxTipAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SigCache == nil {
		cfg.SigCache = txscript.NewSigCache(defaultSigCacheSize)
	}
	if cfg.ScriptCache == nil {
		cfg.ScriptCache = NewScriptCache(defaultScriptCache)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BlocksDir == "" {
		cfg.BlocksDir = filepath.Join(cfg.Dir, "blocks")
	}
	if cfg.blockFS == nil {
		cfg.blockFS = blockfile.DirFS(cfg.BlocksDir)
	}
	if err := cfg.checkPrune(); err != nil {
		return nil, err
	}
	var db *store.DB
	var err error
	if cfg.storage != nil {
		db, err = store.OpenStorage(cfg.storage, int(cfg.CacheBytes>>20)/8, cfg.storageWriteBuffer)
	} else {
		db, err = store.Open(cfg.Dir, int(cfg.CacheBytes>>20)/8)
	}
	if err != nil {
		return nil, fmt.Errorf("chain: open database: %w", err)
	}
	b := &BlockChain{
		cfg:         cfg,
		params:      &cfg.Network.Consensus,
		network:     cfg.Network,
		db:          db,
		blockFS:     cfg.blockFS,
		utxos:       utxo.NewCache(utxo.NewLevelBackend(db), cfg.CacheBytes),
		sigCache:    cfg.SigCache,
		scriptCache: cfg.ScriptCache,
		now:         cfg.Now,
		log:         cfg.Logger,
		notifier:    newNotifier(),
		pendingTx:   make(map[chainhash.Hash][]byte),
		dirtyNodes:  make(map[*blockNode]struct{}),
		unlinked:    make(map[*blockNode][]*blockNode),
		candidates:  make(map[*blockNode]struct{}),
		connectErrs: make(map[*blockNode]error),
		index:       make(map[chainhash.Hash]*blockNode),
		lastFlush:   time.Now(),
		assumeValid: cfg.Network.AssumeValid,
	}
	if cfg.AssumeValid != nil {
		b.assumeValid = *cfg.AssumeValid
	}
	b.pendingFilters = make(map[chainhash.Hash][]byte)
	b.addrPend = newAddrPending()
	fail := func(err error) (*BlockChain, error) {
		db.Close()
		if b.files != nil {
			b.files.Close()
		}
		return nil, err
	}
	if err := b.load(); err != nil {
		return fail(err)
	}
	if err := b.loadPruneState(); err != nil {
		return fail(err)
	}
	if cfg.TxIndex {
		if err := b.syncTxIndex(); err != nil {
			return fail(err)
		}
	}
	if cfg.BlockFilterIndex {
		if err := b.syncFilterIndex(); err != nil {
			return fail(err)
		}
	}
	if cfg.AddrIndex {
		if err := b.syncAddrIndex(); err != nil {
			return fail(err)
		}
	}
	b.processLock.Lock()
	err = b.activateBestChain()
	b.processLock.Unlock()
	if errors.Is(err, ErrPrunedReorg) {
		b.log.Error("staying on the current chain", "err", err)
		err = nil
	}
	if err != nil {
		return fail(err)
	}
	return b, nil
}

// load reads the block index and chain state, creating the genesis state in
// an empty database.
func (b *BlockChain) load() error {
	genesisHash := b.network.GenesisHash()
	v, err := b.db.Get([]byte{keyGenesis})
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := b.clearBlockFiles(); err != nil {
			return err
		}
		if err := b.openFileStore(nil); err != nil {
			return err
		}
		return b.initGenesis()
	case err != nil:
		return fmt.Errorf("chain: %w", err)
	case len(v) != chainhash.HashSize || chainhash.Hash(v) != genesisHash:
		return fmt.Errorf("%w: the database in %s has genesis %x, network %s has %v",
			ErrWrongNetwork, b.cfg.Dir, v, b.network.Name, genesisHash)
	}
	ver, err := b.db.Get([]byte{keyVersion})
	switch {
	case err != nil || len(ver) != 1 || ver[0] > schemaVersion || ver[0] == 0:
		return fmt.Errorf("%w: unknown schema version %x (%v)", ErrCorruptDatabase, ver, err)
	case ver[0] == 1:
		err = b.migrateV1()
	default:
		err = b.openBlockFiles()
	}
	if err != nil {
		return err
	}

	var recs []indexRecord
	var hashes []chainhash.Hash
	err = b.db.ForEach([]byte{prefixIndex}, func(k, v []byte) error {
		r, err := decodeIndexRecord(v, false)
		if err != nil {
			return err
		}
		h := consensus.BlockHash(&r.header)
		if len(k) != 1+chainhash.HashSize || chainhash.Hash(k[1:]) != h {
			return fmt.Errorf("%w: index key %x does not match its header %v", ErrCorruptDatabase, k, h)
		}
		recs = append(recs, r)
		hashes = append(hashes, h)
		return nil
	})
	if err != nil {
		return fmt.Errorf("chain: load block index: %w", err)
	}
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return recs[order[i]].height < recs[order[j]].height })
	for _, i := range order {
		r := &recs[i]
		var parent *blockNode
		if r.height > 0 {
			parent = b.index[r.header.PrevBlock]
			if parent == nil || parent.height != r.height-1 {
				return fmt.Errorf("%w: block %v at height %d has no parent in the index",
					ErrCorruptDatabase, hashes[i], r.height)
			}
		} else if hashes[i] != genesisHash {
			return fmt.Errorf("%w: second block at height 0: %v", ErrCorruptDatabase, hashes[i])
		}
		n := newBlockNode(&r.header, hashes[i], parent)
		n.status = r.status
		n.dataPos, n.undoPos = r.dataPos, r.undoPos
		if parent != nil && parent.status.knownInvalid() && !n.status.knownInvalid() {
			n.status |= statusInvalidAncestor
		}
		b.index[n.hash] = n
	}

	if err := b.verifyUnsynced(); err != nil {
		return err
	}

	sv, err := b.db.Get([]byte{keyState})
	if err != nil {
		return fmt.Errorf("chain: read chain state: %w", err)
	}
	tipHash, tipHeight, err := decodeState(sv)
	if err != nil {
		return err
	}
	tip := b.index[tipHash]
	if tip == nil || tip.height != tipHeight {
		return fmt.Errorf("%w: chain state names tip %v at height %d, which the index lacks",
			ErrCorruptDatabase, tipHash, tipHeight)
	}
	b.setBestChain(tip)

	// Data chains, arrival order (the tip first, so that it wins ties) and
	// candidates.
	tip.seq = 0
	b.nextSeq = 1
	for _, i := range order {
		n := b.index[hashes[i]]
		if n != tip {
			n.seq = b.nextSeq
			b.nextSeq++
		}
		if n.status.hadData() {
			b.linkData(n)
		}
	}
	b.log.Info("chain loaded", "network", b.network.Name, "blocks_indexed", len(b.index),
		"tip", tip.hash, "height", tip.height)
	return nil
}

// initGenesis writes the state of a fresh database: the genesis block as the
// tip. Its outputs never enter the UTXO set.
func (b *BlockChain) initGenesis() error {
	g := b.network.Genesis
	n := newBlockNode(&g.Header, b.network.GenesisHash(), nil)
	n.status = statusValidated
	if err := b.storeBlockData(n, serializeBlock(g)); err != nil {
		return err
	}
	batch := new(store.Batch)
	if err := b.syncBlockFiles(batch); err != nil {
		return err
	}
	batch.Put([]byte{keyVersion}, []byte{schemaVersion})
	batch.Put(hashKey(prefixIndex, &n.hash), encodeIndexRecord(n))
	batch.Put([]byte{keyState}, encodeState(n.hash, 0))
	if b.cfg.TxIndex {
		batch.Put([]byte{keyTxIndexTip}, n.hash[:])
	}
	if b.cfg.BlockFilterIndex {
		rec, _, err := calcBasicFilter(g, nil, chainhash.Hash{})
		if err != nil {
			return err
		}
		batch.Put(hashKey(prefixFilter, &n.hash), rec)
		batch.Put([]byte{keyFilterTip}, n.hash[:])
	}
	// The genesis key goes last in the same batch: its presence means the
	// database is initialized.
	batch.Put([]byte{keyGenesis}, n.hash[:])
	if err := b.db.Write(batch, true); err != nil {
		return fmt.Errorf("chain: write genesis: %w", err)
	}
	b.index[n.hash] = n
	b.setBestChain(n)
	b.linkData(n)
	return nil
}

// setBestChain makes the main chain end at tip and publishes its snapshot.
// This function MUST be called with the process lock held.
func (b *BlockChain) setBestChain(tip *blockNode) {
	chain := make(chainView, tip.height+1)
	for n := tip; n != nil; n = n.parent {
		chain[n.height] = n
	}
	b.chainLock.Lock()
	b.best = chain
	b.chainLock.Unlock()
	b.publishBestState(tip, nil)
}

// publishBestState swaps in the snapshot of a new tip. block may be nil when
// only the header is at hand.
func (b *BlockChain) publishBestState(tip *blockNode, block *wire.MsgBlock) {
	s := &BestState{
		Hash:       tip.hash,
		Height:     tip.height,
		Bits:       tip.bits,
		Time:       time.Unix(tip.timestamp, 0),
		MedianTime: time.Unix(tip.MedianTimePast(), 0),
		ChainWork:  new(big.Int).Set(tip.workSum),
	}
	if block == nil {
		block, _, _ = b.fetchBlock(&tip.hash)
	}
	if block != nil {
		s.NumTxns = len(block.Transactions)
		s.Weight = consensus.BlockWeight(block)
	}
	b.bestState.Store(s)
}

// BestSnapshot returns the current tip's snapshot. The value must not be
// modified.
//
// This function is safe for concurrent access.
func (b *BlockChain) BestSnapshot() *BestState { return b.bestState.Load() }

// Network returns the chain's network.
func (b *BlockChain) Network() *chainparams.Network { return b.network }

// SigCache returns the signature cache, to share with the mempool.
func (b *BlockChain) SigCache() *txscript.SigCache { return b.sigCache }

// ScriptCache returns the script execution cache, to share with the mempool.
func (b *BlockChain) ScriptCache() *ScriptCache { return b.scriptCache }

// Flush writes the cached UTXO changes and everything that goes with them.
//
// This function is safe for concurrent access.
func (b *BlockChain) Flush() error {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return ErrClosed
	}
	return b.flush(false)
}

// Close flushes the state, stops notifications and closes the database.
func (b *BlockChain) Close() error {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.flush(true)
	b.notifier.close()
	err = errors.Join(err, b.db.Close())
	return errors.Join(err, b.files.Close())
}

// maybeFlush flushes when the cache is over budget or the interval passed,
// or to prune when the block files reach the prune target.
// This function MUST be called with the process lock held.
func (b *BlockChain) maybeFlush() error {
	if b.maybePrune() {
		return b.flush(false)
	}
	stats := b.utxos.Stats()
	if stats.Bytes+b.pendingBytes > b.cfg.CacheBytes {
		return b.flush(true)
	}
	if time.Since(b.lastFlush) > b.cfg.FlushInterval {
		return b.flush(false)
	}
	return nil
}

// flush syncs the block files, then writes in one atomic batch: the dirty
// UTXO entries, the transaction index changes and block filters of the
// blocks connected since the last flush, dirty index and block file
// records, and the tip they all belong to.
// This function MUST be called with the process lock held.
func (b *BlockChain) flush(evict bool) error {
	// A dirty UTXO record takes about 80 bytes in the batch.
	batch := store.NewBatch(b.utxos.Stats().Dirty*80 + int(b.pendingBytes) + 4096)
	b.maybePrune()
	// The files first: the records in the batch point into them.
	if err := b.syncBlockFiles(batch); err != nil {
		return err
	}
	b.writePruned(batch)
	b.utxos.Flush(batch)
	for txid, loc := range b.pendingTx {
		if loc == nil {
			batch.Delete(hashKey(prefixTxIndex, &txid))
		} else {
			batch.Put(hashKey(prefixTxIndex, &txid), loc)
		}
	}
	for h, rec := range b.pendingFilters {
		batch.Put(hashKey(prefixFilter, &h), rec)
	}
	b.writeAddrPending(batch)
	for n := range b.dirtyNodes {
		batch.Put(hashKey(prefixIndex, &n.hash), encodeIndexRecord(n))
	}
	tip := b.best.tip()
	batch.Put([]byte{keyState}, encodeState(tip.hash, tip.height))
	if b.cfg.TxIndex {
		batch.Put([]byte{keyTxIndexTip}, tip.hash[:])
	}
	if b.cfg.BlockFilterIndex {
		batch.Put([]byte{keyFilterTip}, tip.hash[:])
	}
	if b.cfg.AddrIndex {
		batch.Put([]byte{keyAddrTip}, addrTipValue(&tip.hash))
	}
	if err := b.db.Write(batch, true); err != nil {
		return fmt.Errorf("chain: flush: %w", err)
	}
	b.utxos.MarkFlushed(evict)
	clear(b.pendingTx)
	clear(b.pendingFilters)
	b.addrFlushed()
	clear(b.dirtyNodes)
	b.pendingBytes = 0
	b.lastFlush = time.Now()
	if err := b.removePruned(); err != nil {
		return err
	}
	b.log.Debug("flushed chain state", "tip", tip.hash, "height", tip.height, "bytes", batch.Size())
	return nil
}

// writeIndexNow writes the records of nodes at once (used for invalidity
// flags, which must survive a crash even without a flush).
// This function MUST be called with the process lock held.
func (b *BlockChain) writeIndexNow(nodes ...*blockNode) error {
	batch := new(store.Batch)
	for _, n := range nodes {
		batch.Put(hashKey(prefixIndex, &n.hash), encodeIndexRecord(n))
	}
	if err := b.db.Write(batch, false); err != nil {
		return fmt.Errorf("chain: write block index: %w", err)
	}
	return nil
}

// recentBlocks keeps the last few blocks that passed the pre-storage checks,
// with their txids, so that connecting a block just received reads and
// hashes nothing again.
type recentBlocks struct {
	order  []chainhash.Hash
	blocks map[chainhash.Hash]recentBlock
}

type recentBlock struct {
	block *wire.MsgBlock
	txids []chainhash.Hash
}

const recentBlocksMax = 16

func (r *recentBlocks) add(hash chainhash.Hash, block *wire.MsgBlock, txids []chainhash.Hash) {
	if r.blocks == nil {
		r.blocks = make(map[chainhash.Hash]recentBlock)
	}
	if len(r.order) >= recentBlocksMax {
		delete(r.blocks, r.order[0])
		r.order = r.order[1:]
	}
	r.order = append(r.order, hash)
	r.blocks[hash] = recentBlock{block: block, txids: txids}
}

// fetchBlock returns a stored block and its txids (nil when not at hand).
// This function MUST be called with the process lock held.
func (b *BlockChain) fetchBlock(hash *chainhash.Hash) (*wire.MsgBlock, []chainhash.Hash, error) {
	if rb, ok := b.recent.blocks[*hash]; ok {
		return rb.block, rb.txids, nil
	}
	n := b.index[*hash]
	if n == nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	block, err := b.readBlock(n)
	return block, nil, err
}

// UtxoCacheStats returns the UTXO cache's counters.
//
// This function is safe for concurrent access.
func (b *BlockChain) UtxoCacheStats() utxo.CacheStats { return b.utxos.Stats() }
