package electrum

import (
	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/consensus"
)

// merkleBranch returns the merkle root of leaves and the branch that proves
// leaves[index] under it: the sibling at each level from the leaves up. A
// level of odd length pairs its last hash with itself, as Bitcoin's block
// merkle tree does; the parent of two hashes is the double SHA-256 of
// both. The Electrum protocol proves transactions in blocks
// (blockchain.transaction.get_merkle) and headers under a checkpoint
// (cp_height) this way.
func merkleBranch(leaves []chainhash.Hash, index int) (branch []chainhash.Hash, root chainhash.Hash) {
	if len(leaves) == 0 {
		return nil, chainhash.Hash{}
	}
	level := append([]chainhash.Hash(nil), leaves...)
	var buf [64]byte
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		branch = append(branch, level[index^1])
		next := level[:0:0]
		for i := 0; i < len(level); i += 2 {
			copy(buf[:32], level[i][:])
			copy(buf[32:], level[i+1][:])
			next = append(next, consensus.DoubleHashH(buf[:]))
		}
		level = next
		index >>= 1
	}
	return branch, level[0]
}
