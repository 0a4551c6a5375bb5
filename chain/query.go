package chain

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minio/sha256-simd"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
)

// BlockInfo describes a block of the index.
type BlockInfo struct {
	Hash       chainhash.Hash
	Header     wire.BlockHeader
	Height     int32
	ChainWork  *big.Int
	MedianTime int64
	// MainChain: the block is on the best chain; then Confirmations
	// counts it and the blocks above it, and NextHash names its child.
	MainChain     bool
	Confirmations int32
	NextHash      *chainhash.Hash
	HaveData      bool
	Invalid       bool
}

// BlockInfo returns what the index knows of a block.
//
// This function is safe for concurrent access.
func (b *BlockChain) BlockInfo(hash chainhash.Hash) (*BlockInfo, error) {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	n := b.index[hash]
	if n == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	info := &BlockInfo{
		Hash:       n.hash,
		Header:     n.Header(),
		Height:     n.height,
		ChainWork:  new(big.Int).Set(n.workSum),
		MedianTime: n.MedianTimePast(),
		MainChain:  b.best.contains(n),
		HaveData:   n.status&statusDataStored != 0,
		Invalid:    n.status.knownInvalid(),
	}
	if info.MainChain {
		info.Confirmations = b.best.tip().height - n.height + 1
		if next := b.best.at(n.height + 1); next != nil {
			h := next.hash
			info.NextHash = &h
		}
	} else {
		info.Confirmations = -1
	}
	return info, nil
}

// HaveBlock reports whether the block's data is stored.
//
// This function is safe for concurrent access.
func (b *BlockChain) HaveBlock(hash chainhash.Hash) bool {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	n := b.index[hash]
	return n != nil && n.status&statusDataStored != 0
}

// HaveHeader reports whether the index holds the header.
//
// This function is safe for concurrent access.
func (b *BlockChain) HaveHeader(hash chainhash.Hash) bool { return b.lookupNode(hash) != nil }

// HeaderByHash returns a header of the index.
//
// This function is safe for concurrent access.
func (b *BlockChain) HeaderByHash(hash chainhash.Hash) (wire.BlockHeader, error) {
	n := b.lookupNode(hash)
	if n == nil {
		return wire.BlockHeader{}, fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	return n.Header(), nil
}

// BlockHashByHeight returns the hash of the main-chain block at height.
//
// This function is safe for concurrent access.
func (b *BlockChain) BlockHashByHeight(height int32) (chainhash.Hash, error) {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	n := b.best.at(height)
	if n == nil {
		return chainhash.Hash{}, fmt.Errorf("%w: no main-chain block at height %d", ErrUnknownBlock, height)
	}
	return n.hash, nil
}

// HeaderByHeight returns the header of the main-chain block at height.
//
// This function is safe for concurrent access.
func (b *BlockChain) HeaderByHeight(height int32) (wire.BlockHeader, error) {
	h, err := b.BlockHashByHeight(height)
	if err != nil {
		return wire.BlockHeader{}, err
	}
	return b.HeaderByHash(h)
}

// BlockByHash returns a stored block.
//
// This function is safe for concurrent access.
func (b *BlockChain) BlockByHash(hash chainhash.Hash) (*wire.MsgBlock, error) {
	n := b.lookupNode(hash)
	if n == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	return b.readBlock(n)
}

// antiDoSBlocks is how many blocks of the tip's work below the tip's chain
// work a peer's headers may lead to and still be stored (Core's
// GetAntiDoSWorkThreshold uses 144: a day of blocks).
const antiDoSBlocks = 144

// AntiDoSWorkThreshold returns the chain work a peer's headers must lead to
// before they are stored: the larger of the network's minimum chain work
// and the tip's chain work less 144 blocks at the tip's difficulty (Bitcoin
// Core's GetAntiDoSWorkThreshold). Headers of a chain below it cost their
// sender little at the pow limit and would stay in the index for good.
//
// This function is safe for concurrent access.
func (b *BlockChain) AntiDoSWorkThreshold() *big.Int {
	tip := b.bestState.Load()
	t := consensus.CalcWork(tip.Bits)
	t.Mul(t, big.NewInt(antiDoSBlocks))
	t.Sub(tip.ChainWork, t)
	if min := b.params.MinimumChainWork; min != nil && min.Cmp(t) > 0 {
		t.Set(min)
	}
	if t.Sign() < 0 {
		t.SetInt64(0)
	}
	return t
}

// DefaultMaxTipAge is how old the tip may be before the node counts as in
// initial block download (Bitcoin Core's DEFAULT_MAX_TIP_AGE).
const DefaultMaxTipAge = 24 * time.Hour

// IsInitialBlockDownload reports whether the node is still catching up
// with the network, by Bitcoin Core's rule
// (ChainstateManager::IsInitialBlockDownload): its tip has less than the
// network's minimum chain work, or is older than Config.MaxTipAge. Once
// it answers false it does so until the chain is opened again, so that a
// lull in blocks does not put a caught-up node back into download. The
// best header plays no part: headers of a chain nobody serves cost their
// sender only work, and must not change what an honest node does.
//
// This function is safe for concurrent access.
func (b *BlockChain) IsInitialBlockDownload() bool {
	if b.doneIBD.Load() {
		return false
	}
	tip := b.bestState.Load()
	if min := b.params.MinimumChainWork; min != nil && tip.ChainWork.Cmp(min) < 0 {
		return true
	}
	if b.now().Sub(tip.Time) > b.cfg.MaxTipAge {
		return true
	}
	b.doneIBD.Store(true)
	return false
}

// RawBlock returns a stored block's serialization, as the block files hold
// it: what peers are served, with no decoding and encoding again.
//
// This function is safe for concurrent access.
func (b *BlockChain) RawBlock(hash chainhash.Hash) ([]byte, error) {
	n := b.lookupNode(hash)
	if n == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	return b.rawBlock(n)
}

// BlockByHeight returns the main-chain block at height.
//
// This function is safe for concurrent access.
func (b *BlockChain) BlockByHeight(height int32) (*wire.MsgBlock, error) {
	h, err := b.BlockHashByHeight(height)
	if err != nil {
		return nil, err
	}
	return b.BlockByHash(h)
}

// FetchUtxoEntry returns the unspent output at op in the tip's UTXO set, or
// nil when there is none.
//
// This function is safe for concurrent access.
func (b *BlockChain) FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error) {
	return b.utxos.Fetch(op)
}

// ForEachUtxo calls fn for every unspent output of the tip's UTXO set and
// returns the tip it walked. Block processing waits until it returns, so fn
// must be quick and must not call back into the chain.
//
// This function is safe for concurrent access.
func (b *BlockChain) ForEachUtxo(fn func(op wire.OutPoint, e *utxo.Entry) error) (*BestState, error) {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	return b.BestSnapshot(), b.utxos.ForEach(fn)
}

// CalcNextRequiredBits returns the bits the next block on the tip must
// carry.
//
// This function is safe for concurrent access.
func (b *BlockChain) CalcNextRequiredBits() uint32 {
	s := b.BestSnapshot()
	return consensus.CalcNextRequiredBits(b.params, s.Height, s.Time.Unix())
}

// BlockLocator returns a block locator for the block with hash (the tip
// when hash is nil): the block, nine more parents, then exponentially
// sparser ancestors, and the genesis block.
//
// This function is safe for concurrent access.
func (b *BlockChain) BlockLocator(hash *chainhash.Hash) ([]chainhash.Hash, error) {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	n := b.best.tip()
	if hash != nil {
		n = b.index[*hash]
		if n == nil {
			return nil, fmt.Errorf("%w: %v", ErrUnknownBlock, *hash)
		}
	}
	var loc []chainhash.Hash
	step := int32(1)
	for n != nil {
		loc = append(loc, n.hash)
		if n.height == 0 {
			break
		}
		h := n.height - step
		if h < 0 {
			h = 0
		}
		if b.best.contains(n) {
			n = b.best.at(h)
		} else {
			n = n.Ancestor(h)
		}
		if len(loc) > 10 {
			step *= 2
		}
	}
	return loc, nil
}

// LocateHeaders returns up to max main-chain headers after the first
// locator hash found on the main chain (after genesis if none is), stopping
// after stop if it is reached.
//
// This function is safe for concurrent access.
func (b *BlockChain) LocateHeaders(locator []chainhash.Hash, stop chainhash.Hash, max int) []wire.BlockHeader {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	start := int32(0)
	for _, h := range locator {
		if n := b.index[h]; n != nil {
			if f := b.best.fork(n); f != nil {
				start = f.height
				break
			}
		}
	}
	var out []wire.BlockHeader
	for h := start + 1; int(h) < len(b.best) && len(out) < max; h++ {
		n := b.best[h]
		out = append(out, n.Header())
		if n.hash == stop {
			break
		}
	}
	return out
}

// ChainTip is one tip of the block tree, as Bitcoin Core's getchaintips
// reports it.
type ChainTip struct {
	Hash      chainhash.Hash
	Height    int32
	BranchLen int32
	// Status is "active", "valid-fork", "valid-headers", "headers-only"
	// or "invalid".
	Status string
}

// ChainTips returns every block without children plus the main tip, the
// main tip first and then by height, highest first.
//
// This function is safe for concurrent access.
func (b *BlockChain) ChainTips() []ChainTip {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	hasChild := make(map[*blockNode]bool, len(b.index))
	for _, n := range b.index {
		if n.parent != nil {
			hasChild[n.parent] = true
		}
	}
	tip := b.best.tip()
	var tips []ChainTip
	for _, n := range b.index {
		if hasChild[n] && n != tip {
			continue
		}
		fork := b.best.fork(n)
		t := ChainTip{Hash: n.hash, Height: n.height, BranchLen: n.height - fork.height}
		switch {
		case n == tip:
			t.Status = "active"
		case n.status.knownInvalid():
			t.Status = "invalid"
		case !n.dataChain:
			t.Status = "headers-only"
		case n.status&statusValidated != 0:
			t.Status = "valid-fork"
		default:
			t.Status = "valid-headers"
		}
		tips = append(tips, t)
	}
	sort.Slice(tips, func(i, j int) bool {
		if (tips[i].Status == "active") != (tips[j].Status == "active") {
			return tips[i].Status == "active"
		}
		if tips[i].Height != tips[j].Height {
			return tips[i].Height > tips[j].Height
		}
		return tips[i].Hash.String() < tips[j].Hash.String()
	})
	return tips
}

// HeaderCount returns the height of the most-work header known (Bitcoin
// Core's "headers" figure).
//
// This function is safe for concurrent access.
func (b *BlockChain) HeaderCount() int32 { return b.bestHeaderNode().height }

// BestHeader returns the valid header with the most work: its hash, height
// and cumulative work. Headers-first sync asks peers for what follows it.
//
// This function is safe for concurrent access.
func (b *BlockChain) BestHeader() (chainhash.Hash, int32, *big.Int) {
	n := b.bestHeaderNode()
	return n.hash, n.height, new(big.Int).Set(n.workSum)
}

// bestHeaderNode returns the valid header with the most work, looking for
// it again after an invalidation cleared it.
func (b *BlockChain) bestHeaderNode() *blockNode {
	b.chainLock.RLock()
	if n := b.bestHeader; n != nil && !n.status.knownInvalid() {
		b.chainLock.RUnlock()
		return n
	}
	b.chainLock.RUnlock()
	b.chainLock.Lock()
	defer b.chainLock.Unlock()
	b.bestHeader = nil
	for _, n := range b.index {
		if !n.status.knownInvalid() && (b.bestHeader == nil || n.workSum.Cmp(b.bestHeader.workSum) > 0) {
			b.bestHeader = n
		}
	}
	return b.bestHeader
}

// BlockRef names a block of the index.
type BlockRef struct {
	Hash   chainhash.Hash
	Height int32
}

// MissingBlocks returns, lowest first, up to max blocks of the best
// header's chain whose data is not stored, no higher than window blocks
// above the last block that chain shares with the best block chain. These
// are what headers-first sync downloads; the window bounds how far ahead
// of the tip blocks may arrive, so that one slow block cannot make the
// node hold an unbounded number of unconnected blocks behind it.
//
// This function is safe for concurrent access.
func (b *BlockChain) MissingBlocks(window int32, max int) []BlockRef {
	hdr := b.bestHeaderNode()
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	fork := hdr.Ancestor(min(hdr.height, b.best.tip().height))
	for fork != nil && !b.best.contains(fork) {
		fork = fork.parent
	}
	if fork == nil || fork == hdr {
		return nil
	}
	var out []BlockRef
	for n := hdr.Ancestor(min(hdr.height, fork.height+window)); n != fork; n = n.parent {
		if n.status&statusDataStored == 0 {
			out = append(out, BlockRef{Hash: n.hash, Height: n.height})
		}
	}
	slices.Reverse(out)
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// UtxoStats summarizes the UTXO set at a tip (Bitcoin Core's
// gettxoutsetinfo).
type UtxoStats struct {
	Height       int32
	BestHash     chainhash.Hash
	Transactions int64 // transactions with unspent outputs
	TxOuts       int64
	TotalAmount  int64
	// BogoSize is Core's database-independent size measure: 50 bytes per
	// output plus its script.
	BogoSize int64
	// Hash is the SHA-256 of the set serialized in outpoint order, each
	// output as txid (32 bytes), index (4 bytes LE), height<<1|coinbase
	// (4 bytes LE), value (8 bytes LE), script length (compact size) and
	// script.
	Hash chainhash.Hash
}

// WithTip calls fn with the tip while block processing waits, so that the
// tip and the UTXO set stay as fn finds them until it returns: a caller
// that acts on the chain's state is never caught in the middle of a
// reorganization, whose every step moves the tip. fn must not change the
// chain (ProcessBlock, InvalidateBlock, Flush...), which would deadlock.
//
// This function is safe for concurrent access.
func (b *BlockChain) WithTip(fn func(tip *BestState)) error {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return ErrClosed
	}
	fn(b.BestSnapshot())
	return nil
}

// UtxoSetStats flushes the cache and walks the stored UTXO set in key order
// (txid, then index) to total and hash it. Block processing waits meanwhile.
//
// This function is safe for concurrent access.
func (b *BlockChain) UtxoSetStats() (*UtxoStats, error) {
	b.processLock.Lock()
	defer b.processLock.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if err := b.flush(false); err != nil {
		return nil, err
	}
	tip := b.best.tip()
	st := &UtxoStats{Height: tip.height, BestHash: tip.hash}
	h := sha256.New()
	var lastTx chainhash.Hash
	var rec []byte
	err := utxo.NewLevelBackend(b.db).ForEach(func(op wire.OutPoint, e *utxo.Entry) error {
		if st.TxOuts == 0 || op.Hash != lastTx {
			st.Transactions++
			lastTx = op.Hash
		}
		st.TxOuts++
		st.TotalAmount += e.Amount
		st.BogoSize += 50 + int64(len(e.PkScript))
		rec = append(rec[:0], op.Hash[:]...)
		rec = binary.LittleEndian.AppendUint32(rec, op.Index)
		code := uint32(e.Height) << 1
		if e.IsCoinBase {
			code |= 1
		}
		rec = binary.LittleEndian.AppendUint32(rec, code)
		rec = binary.LittleEndian.AppendUint64(rec, uint64(e.Amount))
		rec = appendCompactSize(rec, uint64(len(e.PkScript)))
		rec = append(rec, e.PkScript...)
		h.Write(rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chain: walk utxo set: %w", err)
	}
	copy(st.Hash[:], h.Sum(nil))
	return st, nil
}

// appendCompactSize appends Bitcoin's variable-length integer.
func appendCompactSize(b []byte, n uint64) []byte {
	switch {
	case n < 0xfd:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(b, 0xfd), uint16(n))
	case n <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(b, 0xfe), uint32(n))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xff), n)
}

// DiskSize returns the bytes the chain takes on disk: the block and undo
// files and the database (Core's size_on_disk counts the block files).
//
// This function is safe for concurrent access.
func (b *BlockChain) DiskSize() int64 { return b.db.DiskSize() + b.files.Usage() }

// MedianTimePastAt returns the median time past of the main-chain block at
// height (BIP68 measures relative time locks from it).
//
// This function is safe for concurrent access.
func (b *BlockChain) MedianTimePastAt(height int32) (int64, error) {
	b.chainLock.RLock()
	defer b.chainLock.RUnlock()
	n := b.best.at(height)
	if n == nil {
		return 0, fmt.Errorf("%w: no main-chain block at height %d", ErrUnknownBlock, height)
	}
	return n.MedianTimePast(), nil
}

// SpentOutputs returns the outputs a block's transactions spend, in the
// order of their inputs (the coinbase's left out), from its undo data:
// what block explorers show as each input's previous output. The block
// must have been connected once, and not be pruned.
//
// This function is safe for concurrent access.
func (b *BlockChain) SpentOutputs(hash chainhash.Hash, block *wire.MsgBlock) ([]*utxo.Entry, error) {
	n := b.lookupNode(hash)
	if n == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownBlock, hash)
	}
	return b.readUndo(n, block)
}
