package mempool

import (
	"errors"
	"sort"
)

// estimatorBlocks is how many recent blocks the estimator remembers.
const estimatorBlocks = 1008

// feeEstimator remembers the fee rates of pool transactions confirmed in
// recent blocks.
type feeEstimator struct {
	heights []int32
	rates   [][]float64 // per block, per 1,000 vbytes
}

func newFeeEstimator() *feeEstimator { return &feeEstimator{} }

func (f *feeEstimator) record(height int32, rates []float64) {
	f.heights = append(f.heights, height)
	f.rates = append(f.rates, rates)
	if len(f.heights) > estimatorBlocks {
		f.heights = f.heights[1:]
		f.rates = f.rates[1:]
	}
}

// ErrInsufficientData is returned by EstimateFee when too few confirmed
// transactions were seen.
var ErrInsufficientData = errors.New("Insufficient data or no feerate found")

// minEstimateSamples is how many confirmed transactions an estimate needs.
const minEstimateSamples = 10

// EstimateFee returns a fee rate (per 1,000 vbytes) at which a transaction
// is likely to confirm within target blocks, from the fee rates actually
// confirmed recently: the median over the last 2x target blocks (at least
// 6) for targets up to 2, then lower percentiles for longer targets, never
// below the relay minimum.
func (p *TxPool) EstimateFee(target int) (int64, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if target < 1 {
		target = 1
	}
	window := max(2*target, 6)
	var samples []float64
	f := p.feeStats
	for i := len(f.rates) - 1; i >= 0 && len(f.rates)-i <= window; i-- {
		samples = append(samples, f.rates[i]...)
	}
	if len(samples) < minEstimateSamples {
		return 0, ErrInsufficientData
	}
	sort.Float64s(samples)
	// Shorter targets ask for a higher percentile of what confirmed.
	pct := 0.5
	switch {
	case target >= 25:
		pct = 0.2
	case target >= 6:
		pct = 0.35
	}
	rate := int64(samples[int(pct*float64(len(samples)-1))])
	if rate < p.cfg.MinRelayFeeRate {
		rate = p.cfg.MinRelayFeeRate
	}
	return rate, nil
}
