package consensus

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// extractMatches walks a merkle block as a BIP37 client does (Core's
// CPartialMerkleTree::ExtractMatches): it returns the root the tree
// commits to and the matched txids, and fails on a tree that does not use
// every hash and flag byte it carries.
func extractMatches(t *testing.T, mb *wire.MsgMerkleBlock) (chainhash.Hash, []chainhash.Hash) {
	t.Helper()
	n := int(mb.Transactions)
	width := func(h int) int { return (n + (1 << h) - 1) >> h }
	height := 0
	for width(height) > 1 {
		height++
	}
	bitsUsed, hashUsed := 0, 0
	var matches []chainhash.Hash
	var walk func(h, pos int) chainhash.Hash
	walk = func(h, pos int) chainhash.Hash {
		if bitsUsed >= len(mb.Flags)*8 {
			t.Fatal("flags run out")
		}
		bit := mb.Flags[bitsUsed/8]>>(bitsUsed%8)&1 == 1
		bitsUsed++
		if h == 0 || !bit {
			if hashUsed >= len(mb.Hashes) {
				t.Fatal("hashes run out")
			}
			hash := *mb.Hashes[hashUsed]
			hashUsed++
			if h == 0 && bit {
				matches = append(matches, hash)
			}
			return hash
		}
		left := walk(h-1, 2*pos)
		right := left
		if 2*pos+1 < width(h-1) {
			right = walk(h-1, 2*pos+1)
			if right == left {
				t.Fatal("equal children: CVE-2012-2459")
			}
		}
		return HashMerkleBranches(&left, &right)
	}
	root := walk(height, 0)
	if hashUsed != len(mb.Hashes) || (bitsUsed+7)/8 != len(mb.Flags) {
		t.Fatalf("used %d of %d hashes and %d bits of %d bytes", hashUsed, len(mb.Hashes), bitsUsed, len(mb.Flags))
	}
	return root, matches
}

// TestNewMerkleBlock builds merkle blocks for trees of 1 to 70 leaves and
// random matches, and checks that a client's walk finds the block's merkle
// root and exactly the matched txids, in order.
func TestNewMerkleBlock(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 70; n++ {
		txids := make([]chainhash.Hash, n)
		for i := range txids {
			for j := range txids[i] {
				txids[i][j] = byte(r.Uint32())
			}
		}
		root, _ := CalcMerkleRoot(txids)
		header := wire.BlockHeader{MerkleRoot: root}
		for _, p := range []float64{0, 0.1, 0.5, 1} {
			match := make([]bool, n)
			var want []chainhash.Hash
			for i := range match {
				if r.Float64() < p || (p > 0 && i == n-1) {
					match[i] = true
					want = append(want, txids[i])
				}
			}
			mb := NewMerkleBlock(&header, txids, func(i int) bool { return match[i] })
			if mb.Transactions != uint32(n) || mb.Header.MerkleRoot != root {
				t.Fatalf("n=%d: header or count wrong", n)
			}
			got, matches := extractMatches(t, mb)
			if got != root || !slices.Equal(matches, want) {
				t.Fatalf("n=%d p=%v: root %v (want %v), matches %v (want %v)", n, p, got, root, matches, want)
			}
			if p == 0 && (len(mb.Hashes) != 1 || mb.Flags[0] != 0) {
				t.Fatalf("n=%d: a tree with no match is the root alone: %d hashes", n, len(mb.Hashes))
			}
		}
	}
}
