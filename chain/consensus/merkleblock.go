package consensus

import (
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
