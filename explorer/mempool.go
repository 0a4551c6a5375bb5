package explorer

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/internal/poolindex"
	"github.com/cairnchain/cairn/mempool"
)

// Mempool is what the explorer needs of the transaction pool.
// *mempool.TxPool implements it.
type Mempool interface {
	poolindex.Pool
	TxIDs() []chainhash.Hash
	Descs() []*mempool.TxDesc
	Briefs() []mempool.Brief
	EstimateFee(target int) (int64, error)
	Spender(op wire.OutPoint) (chainhash.Hash, bool)
	ProcessTransaction(tx *wire.MsgTx, allowOrphan bool) (*mempool.AcceptResult, error)
	Info() mempool.Info
	Ancestors(txid chainhash.Hash) ([]*mempool.TxDesc, error)
	Descendants(txid chainhash.Hash) ([]*mempool.TxDesc, error)
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
	mu     sync.Mutex
	seq    uint64
	ok     bool
	sum    mempoolJSON
	recent []recentJSON
}

// recentJSON is an entry of Esplora's /api/mempool/recent.
type recentJSON struct {
	TxID  string `json:"txid"`
	Fee   int64  `json:"fee"`
	VSize int64  `json:"vsize"`
	Value int64  `json:"value"`
}

// recentCount is how many transactions /api/mempool/recent lists, as
// Esplora.
const recentCount = 10

func (p *poolSummary) get(pool Mempool) mempoolJSON {
	sum, _ := p.both(pool)
	return sum
}

// both returns the summary and the most recent transactions.
func (p *poolSummary) both(pool Mempool) (mempoolJSON, []recentJSON) {
	seq := pool.Sequence()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ok && p.seq == seq {
		return p.sum, p.recent
	}
	// Briefs decode nothing: the summary is made every second while the
	// pool changes, and a pool of thousands made Descs, which decodes
	// every transaction, a quarter of a busy node's time.
	briefs := pool.Briefs()
	byTime := slices.Clone(briefs)
	slices.SortFunc(byTime, func(a, b mempool.Brief) int {
		return cmp.Or(b.Time.Compare(a.Time), compareTxIDs(&a.TxID, &b.TxID))
	})
	recent := make([]recentJSON, 0, recentCount)
	for _, d := range byTime[:min(len(byTime), recentCount)] {
		tx, err := pool.FetchTransaction(d.TxID)
		if err != nil {
			continue // gone since
		}
		var value int64
		for _, o := range tx.TxOut {
			value += o.Value
		}
		recent = append(recent, recentJSON{TxID: d.TxID.String(), Fee: d.Fee, VSize: d.VSize, Value: value})
	}
	sum := mempoolJSON{Count: len(briefs), FeeHistogram: [][2]float64{}}
	slices.SortFunc(briefs, func(a, b mempool.Brief) int {
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
	for _, d := range briefs {
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
	p.seq, p.ok, p.sum, p.recent = seq, true, sum, recent
	return sum, recent
}

// compareTxIDs orders txids as their hex strings do (the bytes reversed),
// without making the strings.
func compareTxIDs(a, b *chainhash.Hash) int {
	for i := chainhash.HashSize - 1; i >= 0; i-- {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func (s *Server) mempoolRecent(w http.ResponseWriter, _ *http.Request) {
	_, recent := s.summary.both(s.cfg.Mempool)
	jsonReply(w, recent)
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
