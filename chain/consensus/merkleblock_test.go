package consensus

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

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
			got, matches, positions, err := ExtractMatches(mb)
			if err != nil {
				t.Fatalf("n=%d p=%v: %v", n, p, err)
			}
			for k, pos := range positions {
				if txids[pos] != matches[k] {
					t.Fatalf("n=%d: match %d at position %d is not that txid", n, k, pos)
				}
			}
			if got != root || !slices.Equal(matches, want) {
				t.Fatalf("n=%d p=%v: root %v (want %v), matches %v (want %v)", n, p, got, root, matches, want)
			}
			if p == 0 && (len(mb.Hashes) != 1 || mb.Flags[0] != 0) {
				t.Fatalf("n=%d: a tree with no match is the root alone: %d hashes", n, len(mb.Hashes))
			}
		}
	}
}

// TestExtractMatchesRefuses checks that malformed partial trees are
// refused, as Core's ExtractMatches refuses them.
func TestExtractMatchesRefuses(t *testing.T) {
	txids := make([]chainhash.Hash, 7)
	for i := range txids {
		txids[i][0] = byte(i + 1)
	}
	root, _ := CalcMerkleRoot(txids)
	valid := func() *wire.MsgMerkleBlock {
		return NewMerkleBlock(&wire.BlockHeader{MerkleRoot: root}, txids, func(i int) bool { return i == 2 || i == 6 })
	}
	if got, matches, positions, err := ExtractMatches(valid()); err != nil || got != root ||
		!slices.Equal(matches, []chainhash.Hash{txids[2], txids[6]}) || !slices.Equal(positions, []uint32{2, 6}) {
		t.Fatalf("valid tree: root %v matches %v positions %v err %v", got, matches, positions, err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(mb *wire.MsgMerkleBlock)
	}{
		{"no transactions", func(mb *wire.MsgMerkleBlock) { mb.Transactions = 0 }},
		{"more transactions than a block holds", func(mb *wire.MsgMerkleBlock) { mb.Transactions = MaxBlockTxs + 1 }},
		{"more hashes than transactions", func(mb *wire.MsgMerkleBlock) {
			for len(mb.Hashes) <= int(mb.Transactions) {
				mb.Hashes = append(mb.Hashes, &chainhash.Hash{9})
			}
		}},
		{"an unused hash", func(mb *wire.MsgMerkleBlock) { mb.Hashes = append(mb.Hashes, &chainhash.Hash{9}) }},
		{"a missing hash", func(mb *wire.MsgMerkleBlock) { mb.Hashes = mb.Hashes[:len(mb.Hashes)-1] }},
		{"an unused flag byte", func(mb *wire.MsgMerkleBlock) { mb.Flags = append(mb.Flags, 0) }},
		{"no flags", func(mb *wire.MsgMerkleBlock) { mb.Flags = nil }},
	} {
		mb := valid()
		tc.mutate(mb)
		if _, _, _, err := ExtractMatches(mb); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// CVE-2012-2459: a block of six whose last two transactions are the
	// same has the root of the block of the first five; a tree that shows
	// both as siblings is refused.
	dup := append(slices.Clone(txids[:5]), txids[4])
	mb := NewMerkleBlock(&wire.BlockHeader{}, dup, func(i int) bool { return i >= 4 })
	if _, _, _, err := ExtractMatches(mb); err == nil {
		t.Error("a tree with two equal children was accepted")
	}
}
