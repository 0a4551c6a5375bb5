// Package explorer serves the node's chain over HTTP: Esplora's REST API
// (the paths and JSON shapes Blockstream's explorer and mempool.space
// serve, so that their clients work against a Cairn node). It is
// read-only: nothing served here can spend, ban or stop.
//
// It also streams live events (Server-Sent Events at /api/events: new tips,
// reorganizations, the pool's summary, peers joining and leaving).
package explorer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"golang.org/x/net/netutil"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/internal/coreshape"
	"github.com/cairnchain/cairn/internal/poolindex"
	"github.com/cairnchain/cairn/internal/webassets"
)

// Chain is what the explorer needs of the block chain. *chain.BlockChain
// implements it.
type Chain interface {
	Network() *chainparams.Network
	BestSnapshot() *chain.BestState
	BlockHashByHeight(height int32) (chainhash.Hash, error)
	BlockInfo(hash chainhash.Hash) (*chain.BlockInfo, error)
	BlockByHash(hash chainhash.Hash) (*wire.MsgBlock, error)
	RawBlock(hash chainhash.Hash) ([]byte, error)
	SpentOutputs(hash chainhash.Hash, block *wire.MsgBlock) ([]*utxo.Entry, error)
	TxIndexEnabled() bool
	FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, chain.TxLocation, error)
	FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error)
	AddrIndexView() (*chain.AddrView, error)
	ChainTips() []chain.ChainTip
	CalcNextRequiredBits() uint32
	Subscribe() *chain.Subscription
}

var _ Chain = (*chain.BlockChain)(nil)

// Config configures a Server.
type Config struct {
	// Addr is the listen address, host:port.
	Addr  string
	Chain Chain
	// Mempool is the transaction pool; nil leaves the pool's paths out.
	Mempool Mempool
	// Peers lists the connected peers (nil: none shown).
	Peers Peers
	// OnTransaction, if set, is called with each transaction POST /api/tx
	// accepted into the pool, to relay it.
	OnTransaction func(*wire.MsgTx)
	// MaxConns bounds the open connections (DefaultMaxConns if zero).
	MaxConns int
	Logger   *slog.Logger
}

// DefaultMaxConns is the default bound on open connections: a browser
// opens about six per page, and each open page holds one for its events.
const DefaultMaxConns = 256

// Server is the HTTP server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ln      net.Listener
	srv     *http.Server
	summary poolSummary
	params  *chaincfg.Params
	bcache  blockCache
	mem     *poolindex.Index // nil without a pool
	hub     *eventHub
	pages   templates
	sumMu   sync.Mutex
	sums    map[chainhash.Hash]blockSummary
}

// blocksPerPage is how many blocks /api/blocks lists, as Esplora.
const blocksPerPage = 10

// New returns a server; Listen opens its port and Run serves it.
func New(cfg Config) (*Server, error) {
	if cfg.Chain == nil {
		return nil, errors.New("explorer: no chain")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	s := &Server{cfg: cfg, log: log, params: cfg.Chain.Network().AddressParams(), hub: newEventHub()}
	if cfg.Mempool != nil {
		s.mem = poolindex.New(cfg.Mempool, cfg.Chain)
	}
	var err error
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
	return s, nil
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/blocks/tip/height", s.tipHeight)
	mux.HandleFunc("GET /api/blocks/tip/hash", s.tipHash)
	mux.HandleFunc("GET /api/blocks", s.blocks)
	mux.HandleFunc("GET /api/blocks/{start}", s.blocks)
	mux.HandleFunc("GET /api/block-height/{height}", s.blockAtHeight)
	mux.HandleFunc("GET /api/block/{hash}", s.block)
	mux.HandleFunc("GET /api/block/{hash}/header", s.blockHeader)
	mux.HandleFunc("GET /api/block/{hash}/status", s.blockStatus)
	mux.HandleFunc("GET /api/block/{hash}/txids", s.blockTxids)
	mux.HandleFunc("GET /api/block/{hash}/txid/{index}", s.blockTxid)
	mux.HandleFunc("GET /api/block/{hash}/raw", s.blockRaw)
	mux.HandleFunc("GET /api/block/{hash}/txs", s.blockTxs)
	mux.HandleFunc("GET /api/block/{hash}/txs/{start}", s.blockTxs)
	mux.HandleFunc("GET /api/tx/{txid}", s.tx)
	mux.HandleFunc("GET /api/tx/{txid}/hex", s.txHex)
	mux.HandleFunc("GET /api/tx/{txid}/raw", s.txRaw)
	mux.HandleFunc("GET /api/tx/{txid}/status", s.txStatus)
	mux.HandleFunc("GET /api/tx/{txid}/merkle-proof", s.txMerkleProof)
	mux.HandleFunc("GET /api/tx/{txid}/outspend/{vout}", s.txOutspend)
	mux.HandleFunc("GET /api/tx/{txid}/outspends", s.txOutspends)
	for _, kind := range []string{"address", "scripthash"} {
		base := "GET /api/" + kind + "/{" + kind + "}"
		mux.HandleFunc(base, s.address)
		mux.HandleFunc(base+"/txs", s.addrTxs(""))
		mux.HandleFunc(base+"/txs/chain", s.addrTxs("chain"))
		mux.HandleFunc(base+"/txs/chain/{last}", s.addrTxs("chain"))
		mux.HandleFunc(base+"/txs/mempool", s.addrTxs("mempool"))
		mux.HandleFunc(base+"/utxo", s.addrUtxo)
	}
	mux.HandleFunc("GET /api/tx/{txid}/merkleblock-proof", s.txMerkleBlockProof)
	mux.HandleFunc("GET /api/v1/block/{hash}", s.blockV1Handler)
	mux.HandleFunc("GET /api/v1/blocks", s.blocksV1)
	mux.HandleFunc("GET /api/v1/blocks/{start}", s.blocksV1)
	mux.HandleFunc("GET /api/v1/difficulty-adjustment", s.difficultyAdjustment)
	mux.HandleFunc("GET /api/v1/mining/hashrate", s.hashrate)
	mux.HandleFunc("GET /api/v1/mining/hashrate/{interval}", s.hashrate)
	mux.HandleFunc("GET /api/events", s.events)
	// The pages.
	mux.Handle("GET "+staticPrefix, webassets.Handler())
	mux.HandleFunc("GET /favicon.ico", webassets.Favicon)
	mux.HandleFunc("GET /{$}", s.homePage)
	mux.HandleFunc("GET /", s.homePage) // anything else: a page saying so
	mux.HandleFunc("GET /block/{hash}", s.blockPage)
	mux.HandleFunc("GET /block-height/{height}", s.blockHeightPage)
	mux.HandleFunc("GET /tx/{txid}", s.txPage)
	mux.HandleFunc("GET /address/{address}", s.addressPage)
	mux.HandleFunc("GET /search", s.search)
	mux.HandleFunc("GET /tips", s.tipsPage)
	mux.HandleFunc("GET /network", s.networkPage)
	mux.HandleFunc("GET /part/{name}", s.part)
	if s.cfg.Mempool != nil {
		mux.HandleFunc("POST /api/tx", s.postTx)
		mux.HandleFunc("GET /api/mempool", s.mempoolSummary)
		mux.HandleFunc("GET /api/mempool/txids", s.mempoolTxids)
		mux.HandleFunc("GET /api/mempool/recent", s.mempoolRecent)
		mux.HandleFunc("GET /api/fee-estimates", s.feeEstimates)
		mux.HandleFunc("GET /api/v1/fees/recommended", s.feesRecommended)
		mux.HandleFunc("GET /api/v1/fees/mempool-blocks", s.feesMempoolBlocks)
		mux.HandleFunc("GET /api/v1/cpfp/{txid}", s.cpfp)
	}
	return mux
}

// Listen opens the configured address.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("explorer: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = netutil.LimitListener(ln, s.cfg.MaxConns)
	return nil
}

// Addr returns the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.runEvents(ctx) })
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case <-ctx.Done():
		// Event streams never end by themselves: close them first.
		s.hub.closeAll()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.srv.Shutdown(shut)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// text answers a plain-text body, as Esplora answers heights and hashes.
func text(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(s))
}

func jsonReply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers an error as Esplora does: a status and a plain message.
func fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}

func (s *Server) tipHeight(w http.ResponseWriter, _ *http.Request) {
	text(w, strconv.Itoa(int(s.cfg.Chain.BestSnapshot().Height)))
}

func (s *Server) tipHash(w http.ResponseWriter, _ *http.Request) {
	text(w, s.cfg.Chain.BestSnapshot().Hash.String())
}

// blockHash reads the {hash} of a path: 64 hex digits of a known block.
func (s *Server) blockHash(w http.ResponseWriter, r *http.Request) (*chain.BlockInfo, bool) {
	v := r.PathValue("hash")
	h, err := chainhash.NewHashFromStr(v)
	if err != nil || len(v) != 2*chainhash.HashSize {
		fail(w, http.StatusBadRequest, "Invalid hex string")
		return nil, false
	}
	info, err := s.cfg.Chain.BlockInfo(*h)
	if err != nil {
		fail(w, http.StatusNotFound, "Block not found")
		return nil, false
	}
	return info, true
}

// blockJSON is Esplora's block.
type blockJSON struct {
	ID                string  `json:"id"`
	Height            int32   `json:"height"`
	Version           int32   `json:"version"`
	Timestamp         int64   `json:"timestamp"`
	TxCount           int     `json:"tx_count"`
	Size              int     `json:"size"`
	Weight            int     `json:"weight"`
	MerkleRoot        string  `json:"merkle_root"`
	PreviousBlockHash *string `json:"previousblockhash"`
	MedianTime        int64   `json:"mediantime"`
	Nonce             uint32  `json:"nonce"`
	Bits              uint32  `json:"bits"`
	Difficulty        float64 `json:"difficulty"`
}

// blockOf shapes a stored block; a block whose data is gone (pruned) is an
// error.
func (s *Server) blockOf(info *chain.BlockInfo) (*blockJSON, error) {
	sum, err := s.summaryOf(info.Hash)
	if err != nil {
		return nil, err
	}
	h := &info.Header
	out := &blockJSON{ID: info.Hash.String(), Height: info.Height, Version: h.Version, Timestamp: h.Timestamp.Unix(),
		TxCount: sum.TxCount, Size: sum.Size, Weight: sum.Weight,
		MerkleRoot: h.MerkleRoot.String(), MedianTime: info.MedianTime, Nonce: h.Nonce, Bits: h.Bits,
		Difficulty: coreshape.Difficulty(h.Bits)}
	if info.Height > 0 {
		prev := h.PrevBlock.String()
		out.PreviousBlockHash = &prev
	}
	return out, nil
}

func (s *Server) block(w http.ResponseWriter, r *http.Request) {
	info, ok := s.blockHash(w, r)
	if !ok {
		return
	}
	out, err := s.blockOf(info)
	if err != nil {
		fail(w, http.StatusNotFound, "Block data not available: "+err.Error())
		return
	}
	jsonReply(w, out)
}

func (s *Server) blockHeader(w http.ResponseWriter, r *http.Request) {
	info, ok := s.blockHash(w, r)
	if !ok {
		return
	}
	var buf [80]byte
	bw := byteWriter{b: buf[:0]}
	_ = info.Header.Serialize(&bw)
	text(w, hex.EncodeToString(bw.b))
}

type byteWriter struct{ b []byte }

func (w *byteWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// blockStatus is Esplora's block status.
type blockStatus struct {
	InBestChain bool    `json:"in_best_chain"`
	Height      *int32  `json:"height,omitempty"`
	NextBest    *string `json:"next_best"`
}

func (s *Server) blockStatus(w http.ResponseWriter, r *http.Request) {
	info, ok := s.blockHash(w, r)
	if !ok {
		return
	}
	out := blockStatus{InBestChain: info.MainChain}
	if info.MainChain {
		h := info.Height
		out.Height = &h
		if info.NextHash != nil {
			next := info.NextHash.String()
			out.NextBest = &next
		}
	}
	jsonReply(w, out)
}

func (s *Server) blockTxids(w http.ResponseWriter, r *http.Request) {
	info, ok := s.blockHash(w, r)
	if !ok {
		return
	}
	b, err := s.cfg.Chain.BlockByHash(info.Hash)
	if err != nil {
		fail(w, http.StatusNotFound, "Block data not available: "+err.Error())
		return
	}
	ids := make([]string, len(b.Transactions))
	for i, id := range consensus.TxHashes(b) {
		ids[i] = id.String()
	}
	jsonReply(w, ids)
}

func (s *Server) blockTxid(w http.ResponseWriter, r *http.Request) {
	info, ok := s.blockHash(w, r)
	if !ok {
		return
	}
	i, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || i < 0 {
		fail(w, http.StatusBadRequest, "Invalid transaction index")
		return
	}
	b, err := s.cfg.Chain.BlockByHash(info.Hash)
	if err != nil {
		fail(w, http.StatusNotFound, "Block data not available: "+err.Error())
		return
	}
	if i >= len(b.Transactions) {
		fail(w, http.StatusNotFound, "Transaction index out of range")
		return
	}
	text(w, consensus.TxHash(b.Transactions[i]).String())
}

func (s *Server) blockRaw(w http.ResponseWriter, r *http.Request) {
	info, ok := s.blockHash(w, r)
	if !ok {
		return
	}
	raw, err := s.cfg.Chain.RawBlock(info.Hash)
	if err != nil {
		fail(w, http.StatusNotFound, "Block data not available: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(raw)
}

func (s *Server) blockAtHeight(w http.ResponseWriter, r *http.Request) {
	h, err := strconv.ParseInt(r.PathValue("height"), 10, 32)
	if err != nil || h < 0 {
		fail(w, http.StatusBadRequest, "Invalid height")
		return
	}
	hash, err := s.cfg.Chain.BlockHashByHeight(int32(h))
	if err != nil {
		fail(w, http.StatusNotFound, "Block not found")
		return
	}
	text(w, hash.String())
}

// startHeight reads the {start} height of a block list: the tip when
// absent, and at most the tip.
func (s *Server) startHeight(w http.ResponseWriter, r *http.Request) (int32, bool) {
	tip := s.cfg.Chain.BestSnapshot().Height
	v := r.PathValue("start")
	if v == "" {
		return tip, true
	}
	h, err := strconv.ParseInt(v, 10, 32)
	if err != nil || h < 0 {
		fail(w, http.StatusBadRequest, "Invalid height")
		return 0, false
	}
	return min(int32(h), tip), true
}

// blocks lists the ten main-chain blocks from start (default the tip)
// down, as Esplora's /api/blocks[/:start_height].
func (s *Server) blocks(w http.ResponseWriter, r *http.Request) {
	start, ok := s.startHeight(w, r)
	if !ok {
		return
	}
	out := []*blockJSON{}
	for h := start; h >= 0 && len(out) < blocksPerPage; h-- {
		hash, err := s.cfg.Chain.BlockHashByHeight(h)
		if err != nil {
			break
		}
		info, err := s.cfg.Chain.BlockInfo(hash)
		if err != nil {
			break
		}
		b, err := s.blockOf(info)
		if err != nil {
			break // pruned below: the list ends there
		}
		out = append(out, b)
	}
	jsonReply(w, out)
}
