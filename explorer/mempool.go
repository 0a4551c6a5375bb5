package explorer

import (
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/mempool"
)

// Mempool is what the explorer needs of the transaction pool.
// *mempool.TxPool implements it.
type Mempool interface {
	Sequence() uint64
	TxIDs() []chainhash.Hash
	Descs() []*mempool.TxDesc
	EstimateFee(target int) (int64, error)
}

var _ Mempool = (*mempool.TxPool)(nil)

// mempoolJSON is Esplora's /api/mempool.
type mempoolJSON struct {
	Count        int          `json:"count"`
	VSize        int64        `json:"vsize"`
	TotalFee     int64        `json:"total_fee"`
	FeeHistogram [][2]float64 `json:"fee_histogram"`
}

// histogramBin is the virtual size of one fee histogram bin, as electrs
// (Esplora's backend) makes them.
const histogramBin = 50_000

// poolSummary caches the pool's summary by the pool's sequence number:
// computing it reads every pool transaction.
type poolSummary struct {
	mu  sync.Mutex
	seq uint64
	ok  bool
	sum mempoolJSON
}

func (p *poolSummary) get(pool Mempool) mempoolJSON {
	seq := pool.Sequence()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ok && p.seq == seq {
		return p.sum
	}
	descs := pool.Descs()
	sum := mempoolJSON{Count: len(descs), FeeHistogram: [][2]float64{}}
	slices.SortFunc(descs, func(a, b *mempool.TxDesc) int {
		// Fee rate, highest first: a.Fee/a.VSize against b's, without
		// division.
		x, y := a.Fee*b.VSize, b.Fee*a.VSize
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	var binSize int64
	var lastRate float64
	for _, d := range descs {
		sum.VSize += d.VSize
		sum.TotalFee += d.Fee
		if d.VSize <= 0 {
			continue
		}
		// A bin closes once past its width, at a change of rate.
		rate := float64(d.Fee) / float64(d.VSize)
		if binSize > histogramBin && rate != lastRate {
			sum.FeeHistogram = append(sum.FeeHistogram, [2]float64{lastRate, float64(binSize)})
			binSize = 0
		}
		binSize += d.VSize
		lastRate = rate
	}
	if binSize > 0 {
		sum.FeeHistogram = append(sum.FeeHistogram, [2]float64{lastRate, float64(binSize)})
	}
	p.seq, p.ok, p.sum = seq, true, sum
	return sum
}

func (s *Server) mempoolSummary(w http.ResponseWriter, _ *http.Request) {
	jsonReply(w, s.summary.get(s.cfg.Mempool))
}

func (s *Server) mempoolTxids(w http.ResponseWriter, _ *http.Request) {
	ids := s.cfg.Mempool.TxIDs()
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	jsonReply(w, out)
}

// feeTargets are the confirmation targets /api/fee-estimates answers for,
// as Esplora's.
var feeTargets = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 144, 504, 1008}

// feeEstimates answers target -> sat/vB for the targets the pool can
// estimate; a young node that cannot yet answers an empty object, as
// Esplora does without data.
func (s *Server) feeEstimates(w http.ResponseWriter, _ *http.Request) {
	out := map[string]float64{}
	for _, t := range feeTargets {
		rate, err := s.cfg.Mempool.EstimateFee(t)
		if err != nil || rate <= 0 {
			continue
		}
		out[strconv.Itoa(t)] = float64(rate) / 1000 // per 1,000 vbytes to per vbyte
	}
	jsonReply(w, out)
}
