package p2p

import (
	"math/big"
	"runtime"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
)

// BenchmarkLowWorkHeaders feeds a presync 1,000,000 valid headers (a chain
// from genesis on regtest, where the pow limit costs about two hashes)
// whose work never reaches the threshold, in answers of 2,000, as a peer
// that serves a long cheap chain would, and reports the heap the presync
// keeps (heap-MB, after a collection) and the time per header. Nothing is
// stored: the chain never sees these headers.
func BenchmarkLowWorkHeaders(b *testing.B) {
	const count = 1_000_000
	net := chainparams.Regtest()
	genesis := net.Genesis.Header
	headers := lowWorkChain(net, count)
	start := &chain.BlockInfo{Hash: net.GenesisHash(), Header: genesis, ChainWork: consensus.CalcWork(genesis.Bits),
		MedianTime: genesis.Timestamp.Unix()}
	unreachable := new(big.Int).Lsh(big.NewInt(1), 200)
	now := genesis.Timestamp.Add(count * time.Second)
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := newHeadersPresync(&net.Consensus, start, []chainhash.Hash{start.Hash}, unreachable, now)
		t0 := time.Now()
		for j := 0; j < count; j += maxHeadersPerResponse {
			if _, _, err := s.feed(headers[j:min(j+maxHeadersPerResponse, count)]); err != nil {
				b.Fatal(err)
			}
		}
		elapsed := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MB")
		b.ReportMetric(float64(elapsed.Nanoseconds())/count, "ns/header")
		b.ReportMetric(float64(len(s.commits)*8), "commit-bytes")
		runtime.KeepAlive(s)
	}
}

// lowWorkChain returns count valid headers at net's pow limit, a chain
// from genesis a second apart: on regtest each costs about two hashes.
func lowWorkChain(net *chainparams.Network, count int) []wire.BlockHeader {
	genesis := net.Genesis.Header
	headers := make([]wire.BlockHeader, count)
	prev := net.GenesisHash()
	for i := range headers {
		h := wire.BlockHeader{Version: 4, PrevBlock: prev, Bits: net.Consensus.PowLimitBits,
			Timestamp: genesis.Timestamp.Add(time.Duration(i+1) * time.Second)}
		h.MerkleRoot[0], h.MerkleRoot[1], h.MerkleRoot[2] = byte(i), byte(i>>8), byte(i>>16)
		for consensus.CheckBlockHeaderSanity(&h, net.Consensus.PowLimit) != nil {
			h.Nonce++
		}
		headers[i] = h
		prev = consensus.BlockHash(&h)
	}
	return headers
}
