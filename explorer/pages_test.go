package explorer

import (
	"strings"
	"testing"

	"github.com/cairnchain/cairn/chain/consensus"
)

// TestPagesWithoutJavaScript reads the pages as a client without
// JavaScript does (plain HTTP) and finds their data in the HTML: the tip
// on the home page, a block's hash, transactions and stale status, a
// transaction's inputs and outputs, the chain-tips tree with the stale
// block, the network page's interval table; and the search box's
// redirects, and clear pages for bad input.
func TestPagesWithoutJavaScript(t *testing.T) {
	c, g, hs := testChain(t)
	tip := c.BestSnapshot()
	has := func(path string, code int, want ...string) {
		t.Helper()
		got, body := get(t, hs, path)
		if got != code {
			t.Fatalf("GET %s: %d, want %d", path, got, code)
		}
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				t.Fatalf("GET %s lacks %q", path, w)
			}
		}
	}
	b5 := g.Block("b5")
	h5 := consensus.BlockHash(&b5.Header).String()
	pay := b5.Transactions[1].TxHash().String()
	s14 := g.Block("s14")
	hs14 := consensus.BlockHash(&s14.Header).String()
	b10 := g.Block("b10")
	has("/", 200, `id="tip-height">15<`, tip.Hash.String()[:8], `/block/`+consensus.BlockHash(&b10.Header).String())
	has("/block/"+h5, 200, h5, "best chain", "/tx/"+pay, "11 confirmations")
	has("/block/"+hs14, 200, "stale: not on the best chain")
	has("/tips", 200, `data-hash="`+hs14+`"`, "stale (valid fork)")
	has("/network", 200, `id="interval-table"`, "Observed", "Expected")
	has("/static/vendor/uplot-1.6.32/uPlot.iife.min.js", 200, "uPlot")
	has("/block/zz", 400, "A block hash is 64 hex digits")
	has("/block/"+strings.Repeat("0", 64), 404, "Block not found")
	has("/nothing", 404, "There is no page at /nothing")
	has("/search?q=nonsense", 404, "Search takes a block height")
	// Search redirects (the client follows them).
	has("/search?q=5", 200, h5)
	has("/search?q="+hs14, 200, hs14)
	// Without --txindex the node finds pool and address transactions
	// only, and the page says why.
	has("/tx/"+pay, 404, "--txindex")
}
