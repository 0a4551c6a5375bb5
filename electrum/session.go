package electrum

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain"
)

// JSON-RPC error codes: the standard ones, ElectrumX's BAD_REQUEST and
// DAEMON_ERROR, and aiorpcX's for resource use.
const (
	codeParseError        = -32700
	codeInvalidRequest    = -32600
	codeMethodNotFound    = -32601
	codeInvalidParams     = -32602
	codeInternalError     = -32603
	codeBadRequest        = 1
	codeDaemonError       = 2
	codeExcessiveResource = -101
	codeServerBusy        = -102
)

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return e.Message }

func badRequest(format string, a ...any) *rpcError {
	return &rpcError{Code: codeBadRequest, Message: fmt.Sprintf(format, a...)}
}

// request is one JSON-RPC request or notification from a client.
type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// response is one JSON-RPC response.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// resultNull marshals as JSON null where a result is null but present
// (omitempty would drop a nil Result).
type resultNull struct{}

func (resultNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// rawJSON is a result its method encoded itself, written as it is.
type rawJSON []byte

// notification is a server-to-client JSON-RPC notification.
type notification struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

func nullID(id json.RawMessage) json.RawMessage {
	if len(id) == 0 {
		return json.RawMessage("null")
	}
	return id
}

// errorLine is a whole response line carrying an error.
func errorLine(id json.RawMessage, code int, msg string) []byte {
	b, _ := json.Marshal(response{JSONRPC: "2.0", ID: nullID(id), Error: &rpcError{Code: code, Message: msg}})
	return append(b, '\n')
}

// sub is one script subscription of a session.
type sub struct {
	key    string // the script hash as the client wrote it, echoed back
	status *string
	// pending: subscribe is computing the first status; a change the hub
	// reports meanwhile marks it dirty instead of notifying a client that
	// has not had its answer yet.
	pending, dirty bool
}

// session is one client connection.
type session struct {
	srv    *Server
	conn   net.Conn
	id     uint64
	remote string
	out    chan []byte
	done   chan struct{}
	once   sync.Once

	mu         sync.Mutex
	subs       map[chain.ScriptHash]*sub
	headers    bool
	lastTip    string // the tip header last sent
	lastTipSeq uint64 // and the number of the read that gave it
	negotiated bool
	cost       float64
	costAt     time.Time
	// known remembers where the confirmed transactions of the histories
	// this client was given are, so that transaction.get finds them
	// without the transaction index (a wallet asks for the transactions
	// of the histories it reads). Bounded by maxKnownTxs; a history read
	// again overwrites its entries in place.
	known map[chainhash.Hash]txPlace
	// sc is the buffers the session's requests reuse (one at a time).
	sc scratch
	// queued counts the bytes waiting for the writer.
	queued atomic.Int64
	// endAfterReply: the request being answered ends the session once
	// its answer is sent (set and read by serve's goroutine only).
	endAfterReply bool
}

// maxQueued bounds what a session's answers and notifications may hold
// while its client does not read, past which the client is dropped: two
// of the largest answers, at least 4 MiB. With the session limit it bounds
// the whole server (1,000 sessions x 4 MiB at the defaults).
func (s *Server) maxQueued() int64 { return max(4<<20, 2*int64(s.cfg.MaxSendBytes)) }

// txPlace is where a confirmed transaction is.
type txPlace struct {
	height int32
	pos    uint32
}

// maxKnownTxs bounds a session's memory of transaction places.
const maxKnownTxs = 20_000

// remember records the places of a history's confirmed transactions.
func (ss *session) remember(hist []historyEntry) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, e := range hist {
		if e.Height <= 0 {
			continue
		}
		if _, ok := ss.known[e.TxHash]; !ok && len(ss.known) >= maxKnownTxs {
			clear(ss.known)
		}
		ss.known[e.TxHash] = txPlace{height: e.Height, pos: e.Pos}
	}
}

// place finds a confirmed transaction in the histories remembered.
func (ss *session) place(txid chainhash.Hash) (txPlace, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	p, ok := ss.known[txid]
	return p, ok
}

// bufPool recycles the buffers of large answers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

// putBuf returns a buffer no one uses any more; small ones are left to the
// garbage collector.
func putBuf(b []byte) {
	if cap(b) >= 64<<10 && cap(b) <= 16<<20 {
		bufPool.Put(&b)
	}
}

func newSession(s *Server, conn net.Conn) *session {
	return &session{srv: s, conn: conn, id: s.next.Add(1), remote: conn.RemoteAddr().String(),
		out: make(chan []byte, defaultOutQueue), done: make(chan struct{}),
		subs: map[chain.ScriptHash]*sub{}, costAt: time.Now(), cost: 5, known: map[chainhash.Hash]txPlace{}}
}

// close ends the session; it may be called more than once, from anywhere.
func (ss *session) close() {
	ss.once.Do(func() {
		close(ss.done)
		ss.conn.Close()
	})
}

// send queues a line for the client. A client that lets defaultOutQueue
// lines pile up is not reading: it is disconnected rather than buffered
// for.
func (ss *session) send(line []byte) {
	if ss.queued.Add(int64(len(line))) > ss.srv.maxQueued() {
		ss.srv.log.Info("electrum client not reading; disconnected", "session", ss.id, "remote", ss.remote)
		ss.close()
		return
	}
	select {
	case ss.out <- line:
	case <-ss.done:
	default:
		ss.srv.log.Info("electrum client not reading; disconnected", "session", ss.id, "remote", ss.remote)
		ss.close()
	}
}

// serve reads and answers requests, one at a time, until the client leaves
// or misbehaves.
func (ss *session) serve() {
	defer func() {
		ss.close()
		ss.mu.Lock()
		subs := make([]chain.ScriptHash, 0, len(ss.subs))
		for sh := range ss.subs {
			subs = append(subs, sh)
		}
		ss.mu.Unlock()
		ss.srv.removeSession(ss, subs)
	}()
	ss.srv.wg.Add(1)
	go func() {
		defer ss.srv.wg.Done()
		ss.writeLoop()
	}()
	ss.srv.log.Debug("electrum session", "session", ss.id, "remote", ss.remote)
	// A small reader: an idle connection holds 4 KiB, and only a long
	// line grows a buffer, up to MaxLineBytes.
	r := bufio.NewReaderSize(ss.conn, 4096)
	var long []byte
	for {
		_ = ss.conn.SetReadDeadline(time.Now().Add(ss.srv.cfg.IdleTimeout))
		line, err := r.ReadSlice('\n')
		full := errors.Is(err, bufio.ErrBufferFull)
		if err != nil && !full {
			return
		}
		if full || long != nil {
			long = append(long, line...)
			if len(long) > ss.srv.cfg.MaxLineBytes {
				ss.send(errorLine(nil, codeInvalidRequest,
					fmt.Sprintf("request too large (over %d bytes)", ss.srv.cfg.MaxLineBytes)))
				ss.flushAndClose()
				return
			}
			if full {
				continue
			}
			line, long = long, nil
		}
		ss.charge(float64(len(line)) / defaultBandwidthUnitBytes)
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !ss.throttle() {
			return
		}
		if reply := ss.handleLine(line); reply != nil {
			ss.charge(float64(len(reply)) / defaultBandwidthUnitBytes)
			ss.send(reply)
		}
		if ss.endAfterReply {
			ss.flushAndClose()
			return
		}
	}
}

// flushAndClose gives the writer a moment to send what is queued, then
// closes.
func (ss *session) flushAndClose() {
	deadline := time.After(2 * time.Second)
	for len(ss.out) > 0 {
		select {
		case <-deadline:
			ss.close()
			return
		case <-ss.done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(50 * time.Millisecond)
	ss.close()
}

func (ss *session) writeLoop() {
	w := bufio.NewWriter(ss.conn)
	for {
		select {
		case <-ss.done:
			return
		case line := <-ss.out:
			_ = ss.conn.SetWriteDeadline(time.Now().Add(defaultWriteTimeout))
			if _, err := w.Write(line); err != nil {
				ss.close()
				return
			}
			ss.queued.Add(-int64(len(line)))
			putBuf(line)
			// Write what else is queued before flushing.
			for more := true; more; {
				select {
				case line := <-ss.out:
					if _, err := w.Write(line); err != nil {
						ss.close()
						return
					}
					ss.queued.Add(-int64(len(line)))
					putBuf(line)
				default:
					more = false
				}
			}
			if err := w.Flush(); err != nil {
				ss.close()
				return
			}
		}
	}
}

// charge adds cost to the session, after the decay since the last charge
// (the hard limit's ten-thousandth a second, ElectrumX's rate).
func (ss *session) charge(c float64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := time.Now()
	decay := now.Sub(ss.costAt).Seconds() * ss.srv.cfg.CostHardLimit / 10_000
	ss.cost = max(0, ss.cost-decay) + c
	ss.costAt = now
}

// underHardLimit reports whether the session is still within its budget.
func (ss *session) underHardLimit() bool {
	ss.charge(0)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.cost < ss.srv.cfg.CostHardLimit
}

// throttle delays a session over the soft cost limit, in proportion to how
// far it is towards the hard one, and disconnects it at the hard limit
// (aiorpcX's scheme). It returns false when the session must end.
func (ss *session) throttle() bool {
	ss.charge(0)
	ss.mu.Lock()
	cost := ss.cost
	ss.mu.Unlock()
	soft, hard := ss.srv.cfg.CostSoftLimit, ss.srv.cfg.CostHardLimit
	if cost >= hard {
		ss.srv.log.Info("electrum client over its resource budget; disconnected", "session", ss.id, "remote", ss.remote)
		ss.send(errorLine(nil, codeExcessiveResource, "excessive resource usage"))
		ss.flushAndClose()
		return false
	}
	if cost > soft {
		f := (cost - soft) / (hard - soft)
		select {
		case <-time.After(time.Duration(f * float64(defaultRequestSleep))):
		case <-ss.done:
			return false
		}
	}
	return true
}

// handleLine answers one line: a request, a notification (no answer) or
// a batch.
func (ss *session) handleLine(line []byte) []byte {
	if line[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(line, &items); err != nil {
			ss.charge(100)
			return errorLine(nil, codeParseError, "invalid JSON")
		}
		if len(items) == 0 {
			ss.charge(100)
			return errorLine(nil, codeInvalidRequest, "batch is empty")
		}
		if len(items) > defaultMaxBatch {
			ss.charge(100)
			return errorLine(nil, codeInvalidRequest, fmt.Sprintf("batch of %d requests; at most %d", len(items), defaultMaxBatch))
		}
		// The answers together are bounded like one answer, and the
		// budget is checked between items as between lines.
		b := []byte{'['}
		for _, it := range items {
			if !ss.underHardLimit() {
				ss.endAfterReply = true
				break
			}
			r := ss.handleOne(it)
			if r == nil {
				continue
			}
			if len(b)+len(r) > ss.srv.cfg.MaxSendBytes {
				putBuf(r)
				return errorLine(nil, codeInvalidRequest, fmt.Sprintf("batch response too large (over %d bytes)", ss.srv.cfg.MaxSendBytes))
			}
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(b, bytes.TrimSuffix(r, []byte{'\n'})...)
			putBuf(r)
		}
		if len(b) == 1 {
			return nil
		}
		return append(b, ']', '\n')
	}
	return ss.handleOne(line)
}

// handleOne answers one request object.
func (ss *session) handleOne(raw []byte) []byte {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		ss.charge(100)
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return errorLine(nil, codeParseError, "invalid JSON")
		}
		return errorLine(nil, codeInvalidRequest, "request object must be a dictionary")
	}
	if req.JSONRPC != "" && req.JSONRPC != "2.0" {
		ss.charge(100)
		return errorLine(req.ID, codeInvalidRequest, `"jsonrpc" is not "2.0"`)
	}
	if len(req.ID) > 0 && req.ID[0] != '"' && (req.ID[0] < '0' || req.ID[0] > '9') && req.ID[0] != '-' && string(req.ID) != "null" {
		ss.charge(100)
		return errorLine(nil, codeInvalidRequest, fmt.Sprintf(`invalid "id": %s`, req.ID))
	}
	result, rerr := ss.call(req.Method, req.Params)
	if len(req.ID) == 0 {
		return nil // a notification: no answer
	}
	if rerr != nil {
		ss.charge(100)
		return errorLine(req.ID, rerr.Code, rerr.Message)
	}
	if raw, ok := result.(rawJSON); ok {
		// Encoded by the method: framed here without a second pass.
		defer putBuf(raw)
		line := getBuf()
		line = append(line, `{"jsonrpc":"2.0","id":`...)
		line = append(line, req.ID...)
		line = append(line, `,"result":`...)
		line = append(line, raw...)
		line = append(line, '}')
		if len(line) > ss.srv.cfg.MaxSendBytes {
			putBuf(line)
			return errorLine(req.ID, codeInvalidRequest, fmt.Sprintf("response too large (over %d bytes)", ss.srv.cfg.MaxSendBytes))
		}
		line = append(line, '\n')
		if len(line) < cap(line)/4 {
			// A short answer does not hold a pooled buffer while queued.
			small := append([]byte(nil), line...)
			putBuf(line)
			return small
		}
		return line
	}
	if result == nil {
		result = resultNull{}
	}
	b, err := json.Marshal(response{JSONRPC: "2.0", ID: req.ID, Result: result})
	if err != nil {
		return errorLine(req.ID, codeInternalError, "internal server error")
	}
	if len(b) > ss.srv.cfg.MaxSendBytes {
		return errorLine(req.ID, codeInvalidRequest, fmt.Sprintf("response too large (over %d bytes)", ss.srv.cfg.MaxSendBytes))
	}
	return append(b, '\n')
}

// call runs a method.
func (ss *session) call(method string, params json.RawMessage) (any, *rpcError) {
	m, ok := methods[method]
	if !ok {
		return nil, &rpcError{Code: codeMethodNotFound, Message: fmt.Sprintf("unknown method %q", method)}
	}
	args, rerr := parseParams(params, m.params, m.required)
	if rerr != nil {
		return nil, rerr
	}
	ss.charge(m.cost)
	return m.fn(ss, args)
}

// notifyHeader sends the tip to a client subscribed to headers, once per
// new tip, and never one read before the tip the client was last sent.
func (ss *session) notifyHeader(tip tipResult) {
	ss.mu.Lock()
	if !ss.headers || tip.seq <= ss.lastTipSeq || ss.lastTip == tip.Hex {
		ss.lastTipSeq = max(ss.lastTipSeq, tip.seq)
		ss.mu.Unlock()
		return
	}
	ss.lastTip, ss.lastTipSeq = tip.Hex, tip.seq
	ss.mu.Unlock()
	ss.sendNotification("blockchain.headers.subscribe", tip)
}

// notifyStatus sends a script's new status if it differs from the last one
// the client heard.
func (ss *session) notifyStatus(sh chain.ScriptHash, status *string) {
	ss.mu.Lock()
	s, ok := ss.subs[sh]
	if ok && s.pending {
		s.dirty = true
	}
	if !ok || s.pending || sameStatus(s.status, status) {
		ss.mu.Unlock()
		return
	}
	s.status = status
	key := s.key
	ss.mu.Unlock()
	var st any = resultNull{}
	if status != nil {
		st = *status
	}
	ss.sendNotification("blockchain.scripthash.subscribe", key, st)
}

func sameStatus(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// dropSub forgets a subscription (unsubscribed, or its status can no
// longer be computed) and reports whether there was one.
func (ss *session) dropSub(sh chain.ScriptHash) bool {
	ss.mu.Lock()
	_, ok := ss.subs[sh]
	delete(ss.subs, sh)
	ss.mu.Unlock()
	if ok {
		ss.srv.unsubscribe(ss, sh)
	}
	return ok
}

func (ss *session) sendNotification(method string, params ...any) {
	b, err := json.Marshal(notification{JSONRPC: "2.0", Method: method, Params: params})
	if err != nil {
		return
	}
	ss.send(append(b, '\n'))
}
