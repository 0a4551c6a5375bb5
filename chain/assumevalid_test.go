package chain

import (
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
	"github.com/cairnchain/cairn/chain/consensus"
)

// assumeValidChains builds, on a regtest network with two-hour spacing
// (two weeks are 168 blocks), a chain of 300 blocks named b0..b299 whose
// block at height 120 spends a P2WPKH output with a broken signature, and
// a valid branch g119..g299 from its parent: the same spends, signed.
func assumeValidChains(t *testing.T) (*chainparams.Network, *chaintest.Generator) {
	t.Helper()
	net := chainparams.Regtest()
	net.Consensus.TargetSpacing = 2 * time.Hour
	g := chaintest.New(net)
	g.TimeStep = 2 * time.Hour
	key, _ := btcec.NewPrivateKey()
	var keyed chaintest.SpendableOut
	// Each block from height 102 on spends the coinbase of the block 100
	// below it, on its own branch.
	next := func(branch string, i int) {
		var spend *chaintest.SpendableOut
		if j := i - 100; j >= 1 {
			prefix := "b"
			if j >= 119 {
				prefix = branch
			}
			out := g.CoinbaseOut(prefix + itoa(j))
			spend = &out
		}
		g.NextBlock(branch+itoa(i), spend, nil)
	}
	for i := 0; i < 119; i++ {
		var extra []*wire.MsgTx
		if i == 100 {
			// Height 101: an output only a signature spends.
			tx := chaintest.CreateSpendTx(g.CoinbaseOut("b0"), 1000)
			tx.TxOut[0].PkScript = chaintest.P2WPKHScript(key)
			extra = append(extra, tx)
			keyed = chaintest.SpendableOut{OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: 0},
				Amount: tx.TxOut[0].Value, PkScript: tx.TxOut[0].PkScript, Key: key}
			g.NextBlock("b"+itoa(i), nil, extra)
			continue
		}
		next("b", i)
	}
	for _, branch := range []string{"b", "g"} {
		g.SetTip("b118")
		spend, err := chaintest.SpendP2WPKH([]chaintest.SpendableOut{keyed}, []int64{keyed.Amount - 1000}, chaintest.OpTrueScript)
		if err != nil {
			t.Fatal(err)
		}
		if branch == "b" {
			spend.TxIn[0].Witness[0][12] ^= 1 // a signature that fails
		}
		g.NextBlock(branch+"119", nil, []*wire.MsgTx{spend})
		for i := 120; i < 300; i++ {
			next(branch, i)
		}
	}
	return net, g
}

// feed gives a chain the named blocks in order, their headers first when
// headersFirst, and returns the first error.
func feed(c *BlockChain, g *chaintest.Generator, prefix string, headersFirst bool) error {
	if headersFirst {
		var hdrs []wire.BlockHeader
		for i := 0; i < 300; i++ {
			name := "b" + itoa(i)
			if i >= 119 {
				name = prefix + itoa(i)
			}
			hdrs = append(hdrs, g.Block(name).Header)
		}
		if _, err := c.ProcessHeaders(hdrs); err != nil {
			return err
		}
	}
	for i := 0; i < 300; i++ {
		name := "b" + itoa(i)
		if i >= 119 {
			name = prefix + itoa(i)
		}
		if _, err := c.ProcessBlock(g.Block(name)); err != nil {
			return err
		}
	}
	return nil
}

// TestAssumeValid ensures --assumevalid skips the scripts of a block only
// under Core's conditions, and runs every other check: a broken signature
// deep below the assumed-valid block and the best header is not looked at
// (that is what the option trusts), but found when the headers are not
// known ahead (the block is not two weeks below the best header), when the
// best header chain lacks the minimum chain work, or without the option;
// and the UTXO set of a valid chain is the same byte for byte either way.
func TestAssumeValid(t *testing.T) {
	t.Parallel()
	net, g := assumeValidChains(t)
	hash := func(name string) *chainhash.Hash {
		h := consensus.BlockHash(&g.Block(name).Header)
		return &h
	}
	open := func(configure func(*Config)) *BlockChain {
		cfg := Config{Dir: t.TempDir(), Network: net, Now: func() time.Time { return g.Now() }}
		configure(&cfg)
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	badSig := func(err error) bool {
		return err != nil && RejectReason(err) == "mandatory-script-verify-flag-failed"
	}

	// Trusted: the broken signature is skipped, the rest checked.
	c := open(func(c *Config) { c.AssumeValid = hash("b299") })
	if err := feed(c, g, "b", true); err != nil {
		t.Fatalf("assumed valid: %v", err)
	}
	st := c.ScriptStats()
	if c.BestSnapshot().Hash != *hash("b299") || st.InputsAssumedValid == 0 || st.InputsChecked == 0 {
		t.Fatalf("assumed valid: tip height %d, stats %+v", c.BestSnapshot().Height, st)
	}
	// Blocks within two weeks (168 blocks) of the best header at 300 were
	// checked: those at heights 132 and up, one input each.
	if st.InputsChecked != 300-131 {
		t.Errorf("%d inputs checked, want %d (the blocks within two weeks of the best header)", st.InputsChecked, 300-131)
	}

	for _, tc := range []struct {
		name         string
		configure    func(*Config)
		headersFirst bool
	}{
		{"without assumevalid", func(c *Config) { c.AssumeValid = &chainhash.Hash{} }, true},
		{"blocks not below a best header", func(c *Config) { c.AssumeValid = hash("b299") }, false},
		{"assumed-valid block unknown", func(c *Config) { c.AssumeValid = hash("g299") }, true},
		{"minimum chain work not reached", func(c *Config) {
			c.AssumeValid = hash("b299")
			n := *net
			n.Consensus.MinimumChainWork = new(big.Int).Lsh(big.NewInt(1), 40)
			c.Network = &n
		}, true},
	} {
		c := open(tc.configure)
		err := feed(c, g, "b", tc.headersFirst)
		if !badSig(err) {
			t.Errorf("%s: %v, want the broken signature found", tc.name, err)
		}
		if h := c.BestSnapshot().Height; h != 119 {
			t.Errorf("%s: tip at %d, want 119 (the last valid block)", tc.name, h)
		}
	}

	// A valid chain: the same UTXO set with and without the option.
	var sets []*UtxoStats
	for _, av := range []*chainhash.Hash{hash("g299"), {}} {
		c := open(func(c *Config) { c.AssumeValid = av })
		if err := feed(c, g, "g", true); err != nil {
			t.Fatal(err)
		}
		st, err := c.UtxoSetStats()
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, st)
	}
	if sets[0].Hash != sets[1].Hash || sets[0].TxOuts != sets[1].TxOuts || sets[0].BestHash != sets[1].BestHash {
		t.Fatalf("UTXO set with assumevalid %+v, without %+v", sets[0], sets[1])
	}
}
