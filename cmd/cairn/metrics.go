package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/mempool"
	"github.com/cairnchain/cairn/p2p"
)

// nodeMetrics are the node's Prometheus metrics.
type nodeMetrics struct {
	reg          *prometheus.Registry
	blockConnect prometheus.Histogram
	rpcCalls     *prometheus.CounterVec
	rpcLatency   *prometheus.HistogramVec
}

// newNodeMetrics registers the chain's gauges (read on each scrape) and the
// histograms the node feeds.
func newNodeMetrics(c *chain.BlockChain) *nodeMetrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &nodeMetrics{
		reg: reg,
		blockConnect: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cairn_block_connect_seconds", Help: "Time to validate and connect one block.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		rpcCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_rpc_calls_total", Help: "RPC calls by method and result.",
		}, []string{"method", "result"}),
		rpcLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cairn_rpc_duration_seconds", Help: "RPC call latency by method.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"method"}),
	}
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	gauge("cairn_chain_height", "Height of the best chain.", func() float64 { return float64(c.BestSnapshot().Height) })
	gauge("cairn_chain_headers", "Height of the most-work header known.", func() float64 { return float64(c.HeaderCount()) })
	gauge("cairn_utxo_cache_bytes", "Estimated memory of the UTXO cache.", func() float64 { return float64(c.UtxoCacheStats().Bytes) })
	gauge("cairn_utxo_cache_entries", "Entries in the UTXO cache.", func() float64 { return float64(c.UtxoCacheStats().Entries) })
	gauge("cairn_chain_disk_bytes", "Bytes of the block and undo files and the chain database.", func() float64 { return float64(c.DiskSize()) })
	gauge("cairn_utxo_cache_hit_ratio", "UTXO cache hits over lookups since start.", func() float64 { return c.UtxoCacheStats().HitRate() })
	reg.MustRegister(m.blockConnect, m.rpcCalls, m.rpcLatency)
	return m
}

// registerPool adds the mempool's gauges.
func (m *nodeMetrics) registerPool(pool *mempool.TxPool) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cairn_mempool_transactions", Help: "Transactions in the pool."},
			func() float64 { return float64(pool.Count()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cairn_mempool_usage_bytes", Help: "Estimated memory of the pool."},
			func() float64 { return float64(pool.Info().Usage) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cairn_mempool_orphans", Help: "Transactions waiting for parents."},
			func() float64 { return float64(pool.OrphanCount()) }),
	)
}

// registerP2P adds the network's counters.
func (m *nodeMetrics) registerP2P(n *p2p.Node) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cairn_p2p_blocks_served_total", Help: "Blocks sent to syncing peers."},
			func() float64 { return float64(n.ServeStats().BlocksServed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cairn_p2p_blocks_unserved_total",
			Help: "Blocks peers asked for that the node did not have."},
			func() float64 { return float64(n.ServeStats().BlocksUnserved) }),
	)
}

// observeRPC records one RPC call.
func (m *nodeMetrics) observeRPC(method string, d time.Duration, failed bool) {
	result := "ok"
	if failed {
		result = "error"
	}
	m.rpcCalls.WithLabelValues(method, result).Inc()
	m.rpcLatency.WithLabelValues(method).Observe(d.Seconds())
}

// serveMetrics serves /metrics on addr until ctx ends.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics: %w", err)
		}
		return nil
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	}
}
