package electrum

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/internal/poolindex"
	"github.com/cairnchain/cairn/mempool"
)

// Chain is what the server needs of the block chain, with its address
// index on. *chain.BlockChain implements it.
type Chain interface {
	Network() *chainparams.Network
	BestSnapshot() *chain.BestState
	HeaderByHeight(height int32) (wire.BlockHeader, error)
	BlockHashByHeight(height int32) (chainhash.Hash, error)
	BlockByHeight(height int32) (*wire.MsgBlock, error)
	FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, chain.TxLocation, error)
	FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error)
	AddrIndexView() (*chain.AddrView, error)
	BlockInfo(hash chainhash.Hash) (*chain.BlockInfo, error)
	Subscribe() *chain.Subscription
}

var _ Chain = (*chain.BlockChain)(nil)

// Mempool is what the server needs of the transaction pool.
// *mempool.TxPool implements it.
type Mempool interface {
	Sequence() uint64
	TxIDsWithSequence() ([]chainhash.Hash, uint64)
	Entry(txid chainhash.Hash) (*mempool.TxDesc, error)
	FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, error)
	Output(op wire.OutPoint) (*wire.TxOut, bool)
	ProcessTransaction(tx *wire.MsgTx, allowOrphan bool) (*mempool.AcceptResult, error)
	EstimateFee(target int) (int64, error)
	Info() mempool.Info
}

var _ Mempool = (*mempool.TxPool)(nil)

// Defaults of Config's limits, after ElectrumX's.
const (
	DefaultMaxSessions        = 1000
	DefaultMaxLineBytes       = 1_000_000
	DefaultMaxSubs            = 50_000
	DefaultMaxTotalSubs       = 1_000_000
	DefaultCostSoftLimit      = 1000
	DefaultCostHardLimit      = 10_000
	DefaultIdleTimeout        = 10 * time.Minute
	DefaultMaxSendBytes       = 1_000_000
	defaultMaxBatch           = 100
	defaultOutQueue           = 1024
	defaultWriteTimeout       = 30 * time.Second
	defaultRequestSleep       = 2500 * time.Millisecond
	defaultBandwidthUnitBytes = 5000
	poolPollInterval          = 250 * time.Millisecond
)

// Config configures a Server.
type Config struct {
	// Listen holds plain TCP addresses (host:port) and TLSListen TLS ones;
	// TLS needs TLSConfig.
	Listen    []string
	TLSListen []string
	TLSConfig *tls.Config

	Chain Chain
	// Mempool is the transaction pool; nil serves empty unconfirmed
	// histories and refuses broadcasts.
	Mempool Mempool
	// OnTransaction, if set, hears of each transaction a client broadcast
	// into the pool (to relay it).
	OnTransaction func(tx *wire.MsgTx)

	// Banner and DonationAddress answer server.banner and
	// server.donation_address.
	Banner          string
	DonationAddress string

	// Limits; zero takes the default.
	MaxSessions   int
	MaxLineBytes  int
	MaxSubs       int // per session
	MaxTotalSubs  int
	CostSoftLimit float64
	CostHardLimit float64
	IdleTimeout   time.Duration
	// MaxSendBytes bounds one answer; a history that would not fit is
	// refused ("history too large"), as ElectrumX refuses it.
	MaxSendBytes int

	// Version is the server's software version (server.version).
	Version string
	Logger  *slog.Logger
}

// protocolMin and protocolMax are the protocol versions served.
var (
	protocolMin = [3]int{1, 4, 0}
	protocolMax = [3]int{1, 4, 2}
)

// Server is an Electrum protocol server.
type Server struct {
	cfg  Config
	log  *slog.Logger
	mem  *poolindex.Index
	lns  []net.Listener
	next atomic.Uint64

	mu         sync.Mutex
	sessions   map[*session]struct{}
	scriptSubs map[chain.ScriptHash]map[*session]struct{}
	totalSubs  int
	closed     bool
	wg         sync.WaitGroup

	// hubScratch is the notifying goroutine's (Run's) buffers.
	hubScratch scratch
	// poke asks Run to read the pool now rather than at its next poll.
	poke chan struct{}

	// tipMu orders the reads of the tip: tipSeq numbers them, so that a
	// session can tell a tip read before the one it was last sent.
	tipMu  sync.Mutex
	tipSeq uint64
}

// New returns a server; Listen opens its ports and Run serves them.
func New(cfg Config) (*Server, error) {
	if cfg.Chain == nil {
		return nil, errors.New("electrum: no chain")
	}
	v, err := cfg.Chain.AddrIndexView()
	if err != nil {
		return nil, fmt.Errorf("electrum: %w", err)
	}
	v.Release()
	if len(cfg.TLSListen) > 0 && cfg.TLSConfig == nil {
		return nil, errors.New("electrum: TLS addresses without a certificate")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxSessions, DefaultMaxSessions)
	def(&cfg.MaxLineBytes, DefaultMaxLineBytes)
	def(&cfg.MaxSubs, DefaultMaxSubs)
	def(&cfg.MaxTotalSubs, DefaultMaxTotalSubs)
	def(&cfg.MaxSendBytes, DefaultMaxSendBytes)
	if cfg.CostSoftLimit <= 0 {
		cfg.CostSoftLimit = DefaultCostSoftLimit
	}
	if cfg.CostHardLimit <= cfg.CostSoftLimit {
		cfg.CostHardLimit = max(DefaultCostHardLimit, cfg.CostSoftLimit+1)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Version == "" {
		cfg.Version = "Cairn"
	}
	if cfg.Banner == "" {
		cfg.Banner = "You are connected to a " + cfg.Version + " node on " + cfg.Chain.Network().Name + "."
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var pool Mempool
	if cfg.Mempool != nil {
		pool = cfg.Mempool
	}
	return &Server{cfg: cfg, log: log, mem: poolindex.New(pool, cfg.Chain),
		sessions: map[*session]struct{}{}, scriptSubs: map[chain.ScriptHash]map[*session]struct{}{},
		poke: make(chan struct{}, 1)}, nil
}

// Listen opens the configured addresses.
func (s *Server) Listen() error {
	open := func(addr string, tlsCfg *tls.Config) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("electrum: listen on %s: %w", addr, err)
		}
		if tlsCfg != nil {
			ln = tls.NewListener(ln, tlsCfg)
		}
		s.lns = append(s.lns, ln)
		return nil
	}
	for _, a := range s.cfg.Listen {
		if err := open(a, nil); err != nil {
			s.closeListeners()
			return err
		}
	}
	for _, a := range s.cfg.TLSListen {
		if err := open(a, s.cfg.TLSConfig); err != nil {
			s.closeListeners()
			return err
		}
	}
	return nil
}

// Addrs returns the listening addresses, plain ones first.
func (s *Server) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.lns))
	for i, ln := range s.lns {
		out[i] = ln.Addr()
	}
	return out
}

func (s *Server) closeListeners() {
	for _, ln := range s.lns {
		ln.Close()
	}
}

// Run serves until ctx ends, then closes every session.
func (s *Server) Run(ctx context.Context) error {
	sub := s.cfg.Chain.Subscribe()
	defer sub.Close()
	s.mem.Refresh(true)
	for _, ln := range s.lns {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.accept(ln)
		}()
	}
	tick := time.NewTicker(poolPollInterval)
	defer tick.Stop()
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case n, ok := <-sub.C():
			if !ok {
				err = errors.New("electrum: chain closed")
				break loop
			}
			s.onBlocks(n, sub)
		case <-tick.C:
			if touched := s.mem.Refresh(false); len(touched) > 0 {
				s.notifyScripts(touched)
			}
		case <-s.poke:
			if touched := s.mem.Refresh(false); len(touched) > 0 {
				s.notifyScripts(touched)
			}
		}
	}
	s.mu.Lock()
	s.closed = true
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	s.closeListeners()
	for _, ss := range sessions {
		ss.close()
	}
	s.wg.Wait()
	return err
}

// onBlocks handles a chain notification and any that queued behind it: the
// scripts they touched, and the pool's, are checked once, and header
// subscribers hear of the new tip.
func (s *Server) onBlocks(first chain.Notification, sub *chain.Subscription) {
	touched := map[chain.ScriptHash]struct{}{}
	add := func(n chain.Notification) {
		for _, sh := range n.Scripts {
			touched[sh] = struct{}{}
		}
	}
	add(first)
drain:
	for {
		select {
		case n, ok := <-sub.C():
			if !ok {
				break drain
			}
			add(n)
		default:
			break drain
		}
	}
	for sh := range s.mem.Refresh(true) {
		touched[sh] = struct{}{}
	}
	s.notifyHeaders()
	s.notifyScripts(touched)
}

// notifyHeaders sends the tip to every session subscribed to headers.
func (s *Server) notifyHeaders() {
	tip, err := s.tipHeader()
	if err != nil {
		s.log.Warn("tip header", "err", err)
		return
	}
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	for _, ss := range sessions {
		ss.notifyHeader(tip)
	}
}

// notifyScripts recomputes the status of each touched script somebody
// subscribed to, once, and hands it to the subscribed sessions, which
// notify their client if it changed. Only Run calls it (it uses
// hubScratch).
func (s *Server) notifyScripts(touched map[chain.ScriptHash]struct{}) {
	type target struct {
		sh       chain.ScriptHash
		sessions []*session
	}
	var targets []target
	s.mu.Lock()
	for sh := range touched {
		if set := s.scriptSubs[sh]; len(set) > 0 {
			t := target{sh: sh}
			for ss := range set {
				t.sessions = append(t.sessions, ss)
			}
			targets = append(targets, t)
		}
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	view, err := s.cfg.Chain.AddrIndexView()
	if err != nil {
		s.log.Warn("address index", "err", err)
		return
	}
	defer view.Release()
	for _, t := range targets {
		hist, err := s.history(view, t.sh, &s.hubScratch)
		if err != nil && !errors.Is(err, errHistoryTooLarge) {
			s.log.Warn("electrum: script status", "err", err)
			continue
		}
		status := statusOf(hist)
		for _, ss := range t.sessions {
			if err != nil {
				// ElectrumX drops a subscription whose history grew
				// past what it can send.
				ss.dropSub(t.sh)
				continue
			}
			ss.notifyStatus(t.sh, status)
		}
	}
}

// tipResult is blockchain.headers.subscribe's answer and notification.
type tipResult struct {
	Hex    string `json:"hex"`
	Height int32  `json:"height"`
	// seq numbers the read: a higher one saw the chain later.
	seq uint64
}

// tipHeader reads the chain's tip. Reads are numbered in the order they
// saw the chain, so that a notification read before a client subscribed
// (and sent after) is known to be stale: without the order a client told
// of height 3 could hear of height 2 next.
func (s *Server) tipHeader() (tipResult, error) {
	s.tipMu.Lock()
	defer s.tipMu.Unlock()
	best := s.cfg.Chain.BestSnapshot()
	h, err := s.cfg.Chain.HeaderByHeight(best.Height)
	if err != nil {
		return tipResult{}, err
	}
	s.tipSeq++
	return tipResult{Hex: headerHex(&h), Height: best.Height, seq: s.tipSeq}, nil
}

func headerHex(h *wire.BlockHeader) string {
	var buf [80]byte
	w := sliceWriter{b: buf[:0]}
	_ = h.Serialize(&w)
	return hex.EncodeToString(w.b)
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

var _ io.Writer = (*sliceWriter)(nil)

// historyLimit is the most entries a history may have: an answer of
// MaxSendBytes at about 99 bytes an entry (ElectrumX's bound).
func (s *Server) historyLimit() int { return s.cfg.MaxSendBytes / 99 }

// errHistoryTooLarge is what a client hears of a history over the limit,
// in ElectrumX's words (Electrum matches them).
var errHistoryTooLarge = errors.New("history too large")

// scratch holds buffers one goroutine reuses from query to query, so that
// long histories do not make garbage on every answer.
type scratch struct {
	confirmed []chain.AddrTx
	history   []historyEntry
	unspent   []chain.AddrUnspent
	outs      []unspentOut
}

// history returns the script's full history, confirmed entries from the
// view then the pool's, as get_history answers and the status hashes it.
// The result lives in sc (nil for fresh buffers) until its next use.
func (s *Server) history(view *chain.AddrView, sh chain.ScriptHash, sc *scratch) ([]historyEntry, error) {
	if sc == nil {
		sc = &scratch{}
	}
	limit := s.historyLimit()
	confirmed, err := view.AppendHistory(sc.confirmed[:0], sh, limit)
	sc.confirmed = confirmed
	if errors.Is(err, chain.ErrAddrHistoryTooLarge) {
		return nil, errHistoryTooLarge
	}
	if err != nil {
		return nil, err
	}
	pooled := poolHistory(s.mem, sh)
	out := sc.history[:0]
	// A transaction the view has confirmed may still be in the pool
	// index until its next refresh: it is listed once, confirmed.
	var inPool map[chainhash.Hash]bool
	if len(pooled) > 0 {
		inPool = make(map[chainhash.Hash]bool, len(pooled))
		for _, e := range pooled {
			inPool[e.TxHash] = true
		}
	}
	for _, e := range confirmed {
		out = append(out, historyEntry{TxHash: e.TxID, Height: e.Height, Pos: e.TxPos})
		if inPool[e.TxID] {
			inPool[e.TxID] = false
		}
	}
	for _, e := range pooled {
		if inPool[e.TxHash] {
			out = append(out, e)
		}
	}
	sc.history = out
	if len(out) > limit {
		return nil, errHistoryTooLarge
	}
	return out, nil
}

// addSession registers a new session, or returns false when the server is
// full or closing.
func (s *Server) addSession(ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.sessions) >= s.cfg.MaxSessions {
		return false
	}
	s.sessions[ss] = struct{}{}
	return true
}

// removeSession forgets a closed session and its subscriptions.
func (s *Server) removeSession(ss *session, subs []chain.ScriptHash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss)
	for _, sh := range subs {
		s.unsubLocked(ss, sh)
	}
}

// subscribe records that ss follows sh, or fails when the server holds
// MaxTotalSubs subscriptions.
func (s *Server) subscribe(ss *session, sh chain.ScriptHash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.scriptSubs[sh]
	if _, ok := set[ss]; ok {
		return true
	}
	if s.totalSubs >= s.cfg.MaxTotalSubs {
		return false
	}
	if set == nil {
		set = map[*session]struct{}{}
		s.scriptSubs[sh] = set
	}
	set[ss] = struct{}{}
	s.totalSubs++
	return true
}

func (s *Server) unsubscribe(ss *session, sh chain.ScriptHash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unsubLocked(ss, sh)
}

func (s *Server) unsubLocked(ss *session, sh chain.ScriptHash) {
	set := s.scriptSubs[sh]
	if _, ok := set[ss]; !ok {
		return
	}
	delete(set, ss)
	s.totalSubs--
	if len(set) == 0 {
		delete(s.scriptSubs, sh)
	}
}

// SessionCount returns the number of open sessions.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// SubscriptionCount returns the number of script subscriptions held.
func (s *Server) SubscriptionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totalSubs
}

// accept serves one listener's connections.
func (s *Server) accept(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("accept", "err", err)
			}
			return
		}
		ss := newSession(s, conn)
		if !s.addSession(ss) {
			// Tell the client why, then hang up.
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write(errorLine(nil, codeServerBusy, "server busy: too many sessions"))
			conn.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ss.serve()
		}()
	}
}
