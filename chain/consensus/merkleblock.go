package consensus

import (
	"errors"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// NewMerkleBlock returns the BIP37 merkle block that proves the
// transactions of block whose txids match are in it: the header, the
// number of transactions, and the partial merkle tree as Bitcoin Core's
// CPartialMerkleTree builds it (a depth-first walk that keeps a node's hash
// where no match lies below it, or at a leaf, and descends otherwise, with
// one flag bit per node visited). It is what Core's gettxoutproof and
// Esplora's merkleblock-proof answer.
func NewMerkleBlock(header *wire.BlockHeader, txids []chainhash.Hash, match func(i int) bool) *wire.MsgMerkleBlock {
	t := partialTree{txids: txids, match: make([]bool, len(txids))}
	for i := range txids {
		t.match[i] = match(i)
	}
	height := 0
	for t.width(height) > 1 {
		height++
	}
	if len(txids) > 0 {
		t.build(height, 0)
	}
	mb := &wire.MsgMerkleBlock{Header: *header, Transactions: uint32(len(txids)),
		Hashes: make([]*chainhash.Hash, len(t.hashes)), Flags: make([]byte, (len(t.bits)+7)/8)}
	for i := range t.hashes {
		mb.Hashes[i] = &t.hashes[i]
	}
	for i, b := range t.bits {
		if b {
			mb.Flags[i/8] |= 1 << (i % 8)
		}
	}
	return mb
}

// partialTree is the state of one NewMerkleBlock walk.
type partialTree struct {
	txids  []chainhash.Hash
	match  []bool
	bits   []bool
	hashes []chainhash.Hash
}

// width is the number of nodes at a height of the tree (0: the leaves).
func (t *partialTree) width(height int) int {
	return (len(t.txids) + (1 << height) - 1) >> height
}

// hash is the hash of a node: a txid at height 0, else the hash of its
// children (the left one twice where the right one is missing).
func (t *partialTree) hash(height, pos int) chainhash.Hash {
	if height == 0 {
		return t.txids[pos]
	}
	left := t.hash(height-1, 2*pos)
	right := left
	if 2*pos+1 < t.width(height-1) {
		right = t.hash(height-1, 2*pos+1)
	}
	return hashMerkleBranches(&left, &right)
}

func (t *partialTree) build(height, pos int) {
	parentOfMatch := false
	for i := pos << height; i < (pos+1)<<height && i < len(t.txids); i++ {
		if t.match[i] {
			parentOfMatch = true
			break
		}
	}
	t.bits = append(t.bits, parentOfMatch)
	if height == 0 || !parentOfMatch {
		t.hashes = append(t.hashes, t.hash(height, pos))
		return
	}
	t.build(height-1, 2*pos)
	if 2*pos+1 < t.width(height-1) {
		t.build(height-1, 2*pos+1)
	}
}

// MaxBlockTxs is the most transactions a block can hold: MAX_BLOCK_WEIGHT
// over the weight of the smallest transaction (60 bytes without witness).
// Core's ExtractMatches bounds a merkle block's count by it.
const MaxBlockTxs = MaxBlockWeight / (60 * WitnessScaleFactor)

// ErrBadMerkleBlock is ExtractMatches's error: the partial merkle tree is
// malformed.
var ErrBadMerkleBlock = errors.New("malformed partial merkle tree")

// ExtractMatches walks a BIP37 merkle block's partial tree as Core's
// CPartialMerkleTree::ExtractMatches does, and returns the merkle root it
// commits to and the txids it marks as matched, with their positions in
// the block. The tree is refused (ErrBadMerkleBlock) when it counts no
// transaction or more than a block can hold, holds more hashes than
// transactions or fewer flag bits than hashes, runs out of either, leaves
// some unused, or has a node whose two children are equal (CVE-2012-2459,
// which would let one proof pass for two trees). The caller compares the
// root with the header's, and the count with the block's.
func ExtractMatches(mb *wire.MsgMerkleBlock) (root chainhash.Hash, matches []chainhash.Hash, positions []uint32, err error) {
	n := int(mb.Transactions)
	bits := len(mb.Flags) * 8
	switch {
	case n == 0, n > MaxBlockTxs, len(mb.Hashes) > n, bits < len(mb.Hashes):
		return root, nil, nil, ErrBadMerkleBlock
	}
	width := func(h int) int { return (n + (1 << h) - 1) >> h }
	height := 0
	for width(height) > 1 {
		height++
	}
	bitsUsed, hashesUsed, bad := 0, 0, false
	var walk func(h, pos int) chainhash.Hash
	walk = func(h, pos int) chainhash.Hash {
		if bad || bitsUsed >= bits {
			bad = true
			return chainhash.Hash{}
		}
		parentOfMatch := mb.Flags[bitsUsed/8]>>(bitsUsed%8)&1 == 1
		bitsUsed++
		if h == 0 || !parentOfMatch {
			if hashesUsed >= len(mb.Hashes) {
				bad = true
				return chainhash.Hash{}
			}
			hash := *mb.Hashes[hashesUsed]
			hashesUsed++
			if h == 0 && parentOfMatch {
				matches = append(matches, hash)
				positions = append(positions, uint32(pos))
			}
			return hash
		}
		left := walk(h-1, 2*pos)
		right := left
		if 2*pos+1 < width(h-1) {
			if right = walk(h-1, 2*pos+1); right == left {
				bad = true
			}
		}
		return hashMerkleBranches(&left, &right)
	}
	root = walk(height, 0)
	if bad || (bitsUsed+7)/8 != len(mb.Flags) || hashesUsed != len(mb.Hashes) {
		return chainhash.Hash{}, nil, nil, ErrBadMerkleBlock
	}
	return root, matches, positions, nil
}
