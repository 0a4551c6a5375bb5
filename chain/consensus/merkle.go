package consensus

import (
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minio/sha256-simd"
)

// hashMerkleBranches returns the double SHA-256 of left || right.
func hashMerkleBranches(left, right *chainhash.Hash) chainhash.Hash {
	var buf [chainhash.HashSize * 2]byte
	copy(buf[:chainhash.HashSize], left[:])
	copy(buf[chainhash.HashSize:], right[:])
	first := sha256.Sum256(buf[:])
	return chainhash.Hash(sha256.Sum256(first[:]))
}

// HashMerkleBranches returns the merkle parent of two nodes: the double
// SHA-256 of left || right.
func HashMerkleBranches(left, right *chainhash.Hash) chainhash.Hash {
	return hashMerkleBranches(left, right)
}

// MerkleBranch returns the siblings along the path from the first leaf to
// the root, so that the root can be recomputed from a changed first leaf
// (the coinbase) with [MerkleRootFromBranch].
func MerkleBranch(hashes []chainhash.Hash) []chainhash.Hash {
	branch, _ := MerkleProof(hashes, 0)
	return branch
}

// MerkleProof returns the merkle root of hashes and the branch that proves
// hashes[index] under it: the sibling at each level from the leaves up (an
// odd level repeats its last hash). It is the proof of a transaction in its
// block that SPV clients check (Electrum's get_merkle, Esplora's
// merkle-proof). The input slice is not modified; an index out of range
// gives no branch.
func MerkleProof(hashes []chainhash.Hash, index int) (branch []chainhash.Hash, root chainhash.Hash) {
	if len(hashes) == 0 || index < 0 || index >= len(hashes) {
		return nil, chainhash.Hash{}
	}
	level := append([]chainhash.Hash(nil), hashes...)
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		branch = append(branch, level[index^1])
		next := level[:len(level)/2]
		for i := range next {
			next[i] = hashMerkleBranches(&level[2*i], &level[2*i+1])
		}
		level = next
		index >>= 1
	}
	return branch, level[0]
}

// MerkleRootFromBranch returns the merkle root of a list whose first leaf is
// leaf and whose [MerkleBranch] is branch.
func MerkleRootFromBranch(leaf chainhash.Hash, branch []chainhash.Hash) chainhash.Hash {
	h := leaf
	for i := range branch {
		h = hashMerkleBranches(&h, &branch[i])
	}
	return h
}

// CalcMerkleRoot returns the merkle root of hashes as Bitcoin computes it (an
// odd level repeats its last hash). mutated reports a CVE-2012-2459 list: two
// equal hashes paired at some level, so that another, shorter list has the
// same root. The input slice is not modified.
//
// The root of an empty list is the zero hash.
func CalcMerkleRoot(hashes []chainhash.Hash) (root chainhash.Hash, mutated bool) {
	if len(hashes) == 0 {
		return chainhash.Hash{}, false
	}
	level := make([]chainhash.Hash, len(hashes))
	copy(level, hashes)
	for len(level) > 1 {
		for i := 0; i+1 < len(level); i += 2 {
			if level[i] == level[i+1] {
				mutated = true
			}
		}
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		next := level[:len(level)/2]
		for i := range next {
			next[i] = hashMerkleBranches(&level[2*i], &level[2*i+1])
		}
		level = next
	}
	return level[0], mutated
}

// TxHashes returns the txids of the block's transactions, in order.
func TxHashes(block *wire.MsgBlock) []chainhash.Hash {
	hashes := make([]chainhash.Hash, len(block.Transactions))
	for i, tx := range block.Transactions {
		hashes[i] = TxHash(tx)
	}
	return hashes
}

// CalcWitnessMerkleRoot returns the BIP141 witness merkle root of the
// block's transactions: the merkle root of their wtxids, with the
// coinbase's wtxid taken as zero.
func CalcWitnessMerkleRoot(txs []*wire.MsgTx) chainhash.Hash {
	hashes := make([]chainhash.Hash, len(txs))
	for i := 1; i < len(txs); i++ {
		hashes[i] = WitnessHash(txs[i])
	}
	root, _ := CalcMerkleRoot(hashes)
	return root
}
