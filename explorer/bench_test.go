package explorer

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// BenchmarkExplorerAddress serves a busy address over HTTP: a script with
// 10,000 confirmed transactions (100 blocks of 100 payments), asked for
// its statistics (/api/scripthash/:hash, from the index's per-transaction
// sums), its newest 25 transactions (/txs, with their previous outputs),
// its page (/address/:address, rendered) and the home page, 200 times each
// after 50 to warm up; it reports p50 and p99 as the client sees them.
func BenchmarkExplorerAddress(b *testing.B) {
	net := chainparams.Regtest()
	net.Consensus.CoinbaseMaturity = 1
	g := chaintest.New(net)
	c, err := chain.New(chain.Config{Dir: b.TempDir(), Network: net, Now: g.Now, AddrIndex: true, TxIndex: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	target := chaintest.P2WSHScript([]byte{txscript.OP_TRUE})
	err = g.PaymentBlocks("b", 100, 100, target, func(blk *wire.MsgBlock) error {
		_, err := c.ProcessBlock(blk)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		b.Fatal(err)
	}
	srv, err := New(Config{Chain: c})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	sh := chain.HashScript(target)
	_, addr := scriptAddress(target, net)
	measure := func(path string) (p50, p99 time.Duration) {
		const warm, calls = 50, 200
		times := make([]time.Duration, 0, calls)
		for i := 0; i < warm+calls; i++ {
			start := time.Now()
			resp, err := http.Get(hs.URL + path)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || n == 0 {
				b.Fatalf("GET %s: %d, %d bytes", path, resp.StatusCode, n)
			}
			if i >= warm {
				times = append(times, time.Since(start))
			}
		}
		slices.Sort(times)
		return times[len(times)/2], times[len(times)*99/100]
	}
	b.ResetTimer()
	for range b.N {
		for _, m := range []struct{ name, path string }{
			{"stats", "/api/scripthash/" + hex.EncodeToString(sh[:])},
			{"txs", "/api/scripthash/" + hex.EncodeToString(sh[:]) + "/txs"},
			{"page", "/address/" + addr},
			{"home", "/"},
		} {
			p50, p99 := measure(m.path)
			b.ReportMetric(float64(p50.Microseconds())/1000, m.name+"-p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, m.name+"-p99-ms")
		}
	}
}

// scriptAddress returns a script's type and address on a network.
func scriptAddress(script []byte, net *chainparams.Network) (string, string) {
	srv := &Server{params: net.AddressParams()}
	o := srv.outJSON(&wire.TxOut{PkScript: script})
	return o.ScriptPubKeyType, o.ScriptPubKeyAddress
}
