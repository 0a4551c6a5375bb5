package chaintest

import (
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
)

// Resume returns a generator for net whose tip is block, a block built
// elsewhere at height (typically the tip of a chain read back from its
// database after a restart), named name. Blocks built next extend it.
//
// A generator only knows the blocks it built or was given: register the
// other blocks a test builds on with [Generator.AddBlock]. Generators that
// build on the same stored chain in turn must start from different extra
// nonces ([Generator.SetExtraNonce]) so that their blocks differ.
func Resume(net *chainparams.Network, name string, block *wire.MsgBlock, height int32) *Generator {
	g := New(net)
	g.AddBlock(name, block, height)
	g.SetTip(name)
	return g
}

// AddBlock registers block, built elsewhere, under name at height, so that
// blocks can be built on it (after [Generator.SetTip]) and spend its
// outputs with fees computed from their values. It does not move the tip.
// Registering the same block under the same name again does nothing; any
// other reuse of a name or of a block panics, a test bug.
func (g *Generator) AddBlock(name string, block *wire.MsgBlock, height int32) {
	hash := consensus.BlockHash(&block.Header)
	if old, ok := g.blocks[name]; ok {
		if consensus.BlockHash(&old.Header) == hash && g.heights[name] == height {
			return
		}
		panic(fmt.Sprintf("chaintest: block %q exists", name))
	}
	if other, ok := g.byHash[hash]; ok {
		panic(fmt.Sprintf("chaintest: block %v is already registered as %q", hash, other))
	}
	if height < 0 {
		panic(fmt.Sprintf("chaintest: block %q at negative height %d", name, height))
	}
	tip, tipBlock := g.tip, g.tipBlock
	g.add(name, block, height)
	g.tip, g.tipBlock = tip, tipBlock
}

// Lookup returns the name of the block with hash and whether the generator
// knows it.
func (g *Generator) Lookup(hash chainhash.Hash) (string, bool) {
	name, ok := g.byHash[hash]
	return name, ok
}

// SetExtraNonce sets the counter that [Generator.CreateCoinbase] increments
// and writes into every coinbase's scriptSig to make it unique.
func (g *Generator) SetExtraNonce(n uint64) { g.extra = n }
