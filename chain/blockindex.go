package chain

import (
	"math/big"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/internal/blockfile"
)

// blockStatus is a bit set describing what is known of a block.
type blockStatus uint8

const (
	// statusDataStored: the block's full data is in the block files.
	statusDataStored blockStatus = 1 << iota
	// statusValidated: the block was connected successfully at least once.
	statusValidated
	// statusValidateFailed: the block itself broke a consensus rule.
	statusValidateFailed
	// statusInvalidAncestor: the block descends from a failed block.
	statusInvalidAncestor
	// statusUndoStored: the outputs the block spent are in the undo files.
	statusUndoStored
	// statusPruned: the block's data was stored and has been pruned; it
	// still counts for its descendants' data chain.
	statusPruned
)

// hadData reports whether the block's data was stored, even if pruned since.
func (s blockStatus) hadData() bool { return s&(statusDataStored|statusPruned) != 0 }

// knownInvalid reports whether the block or an ancestor failed validation.
func (s blockStatus) knownInvalid() bool {
	return s&(statusValidateFailed|statusInvalidAncestor) != 0
}

// blockNode is one header of the block index. Header fields, hash, height,
// parent and work never change after creation; status, seq and dataChain
// change under the chain lock.
type blockNode struct {
	parent  *blockNode
	skip    *blockNode
	hash    chainhash.Hash
	workSum *big.Int
	height  int32

	version    int32
	bits       uint32
	nonce      uint32
	timestamp  int64
	merkleRoot chainhash.Hash

	status blockStatus
	// seq orders blocks by when their data arrived: among chains of equal
	// work the one whose tip arrived first wins.
	seq uint64
	// dataChain: this block and all its ancestors have had data stored.
	dataChain bool
	// dataPos and undoPos locate the block and its undo data in the
	// block files, when the status says they are stored.
	dataPos, undoPos blockfile.Pos
}

// newBlockNode creates the index node of header, a child of parent (nil for
// the genesis block).
func newBlockNode(h *wire.BlockHeader, hash chainhash.Hash, parent *blockNode) *blockNode {
	n := &blockNode{
		parent:     parent,
		hash:       hash,
		version:    h.Version,
		bits:       h.Bits,
		nonce:      h.Nonce,
		timestamp:  h.Timestamp.Unix(),
		merkleRoot: h.MerkleRoot,
		workSum:    consensus.CalcWork(h.Bits),
	}
	if parent != nil {
		n.height = parent.height + 1
		n.workSum.Add(n.workSum, parent.workSum)
		n.skip = parent.Ancestor(skipHeight(n.height))
	}
	return n
}

// Header reconstructs the block header.
func (n *blockNode) Header() wire.BlockHeader {
	h := wire.BlockHeader{
		Version:    n.version,
		MerkleRoot: n.merkleRoot,
		Timestamp:  time.Unix(n.timestamp, 0),
		Bits:       n.bits,
		Nonce:      n.nonce,
	}
	if n.parent != nil {
		h.PrevBlock = n.parent.hash
	}
	return h
}

// invertLowestOne clears the lowest set bit of n.
func invertLowestOne(n int32) int32 { return n & (n - 1) }

// skipHeight returns the height the skip pointer of a node at height points
// to, chosen (as in Bitcoin Core) so that Ancestor takes O(log n) steps.
func skipHeight(height int32) int32 {
	if height < 2 {
		return 0
	}
	if height&1 == 1 {
		return invertLowestOne(invertLowestOne(height-1)) + 1
	}
	return invertLowestOne(height)
}

// Ancestor returns the ancestor of n at height, or nil if height is out of
// range.
func (n *blockNode) Ancestor(height int32) *blockNode {
	if height < 0 || height > n.height {
		return nil
	}
	walk := n
	for hw := n.height; hw > height; {
		hs := skipHeight(hw)
		hsPrev := skipHeight(hw - 1)
		if walk.skip != nil && (hs == height || (hs > height && !(hsPrev < hs-2 && hsPrev >= height))) {
			walk, hw = walk.skip, hs
		} else {
			walk, hw = walk.parent, hw-1
		}
	}
	return walk
}

// MedianTimePast returns the median timestamp of n and up to ten of its
// ancestors.
func (n *blockNode) MedianTimePast() int64 {
	var ts [consensus.MedianTimeBlocks]int64
	k := 0
	for it := n; it != nil && k < len(ts); it = it.parent {
		ts[k] = it.timestamp
		k++
	}
	s := ts[:k]
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[k/2]
}

// moreWork reports whether a is a better tip than b: more work, or equal
// work and data seen earlier.
func moreWork(a, b *blockNode) bool {
	if c := a.workSum.Cmp(b.workSum); c != 0 {
		return c > 0
	}
	return a.seq < b.seq
}

// findFork returns the last common ancestor of a and b.
func findFork(a, b *blockNode) *blockNode {
	if a.height > b.height {
		a = a.Ancestor(b.height)
	} else if b.height > a.height {
		b = b.Ancestor(a.height)
	}
	for a != b {
		a, b = a.parent, b.parent
	}
	return a
}

// chainView is a chain of nodes from the genesis block, indexed by height.
type chainView []*blockNode

// tip returns the last node.
func (c chainView) tip() *blockNode { return c[len(c)-1] }

// contains reports whether n is on the chain.
func (c chainView) contains(n *blockNode) bool {
	return n != nil && int(n.height) < len(c) && c[n.height] == n
}

// at returns the node at height, or nil.
func (c chainView) at(height int32) *blockNode {
	if height < 0 || int(height) >= len(c) {
		return nil
	}
	return c[height]
}

// fork returns the last node of the chain that is an ancestor of n (or n).
func (c chainView) fork(n *blockNode) *blockNode {
	if int(n.height) >= len(c) {
		n = n.Ancestor(int32(len(c) - 1))
	}
	for n != nil && !c.contains(n) {
		n = n.parent
	}
	return n
}

// bestTip returns the most-work candidate: the pure fork choice rule.
func bestTip(candidates map[*blockNode]struct{}) *blockNode {
	var best *blockNode
	for n := range candidates {
		if best == nil || moreWork(n, best) {
			best = n
		}
	}
	return best
}
