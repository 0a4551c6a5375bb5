package rpc

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/internal/atomicfile"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 32 << 20
	DefaultReadTimeout  = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Minute // generate calls may mine for a while
	cookieUser          = "__cookie__"
	failedAuthDelay     = 250 * time.Millisecond
)

// Config configures a Server.
type Config struct {
	// Addr is the listen address, host:port.
	Addr string
	// User and Password enable Basic authentication with fixed
	// credentials; when both are empty the server writes a random cookie
	// to CookiePath and accepts only it.
	User, Password string
	CookiePath     string
	// MaxBodyBytes bounds a request body; ReadTimeout and WriteTimeout
	// bound a request's reading and its handling.
	MaxBodyBytes int64
	ReadTimeout  time.Duration
	WriteTimeout time.Duration

	// The node behind the handlers. Chain is required; Generator may be
	// nil (generate calls then fail).
	Chain     Chain
	Generator Generator
	// Mining, if set, is the local miner (getmininginfo's hashespersec).
	Mining MiningStats
	// Mempool is the transaction pool; nil disables the pool calls.
	Mempool Mempool
	// Network is the peer-to-peer node; nil reports no peers.
	Network Network
	// OnTransaction, if set, hears of each transaction sendrawtransaction
	// added to the pool (to relay it).
	OnTransaction func(tx *wire.MsgTx)
	// Stop asks the node to shut down (the stop call).
	Stop func()
	// StartTime is when the node started (the uptime call).
	StartTime time.Time
	// Observe, if set, is called after every call with the method, its
	// duration and whether it failed (for metrics).
	Observe func(method string, d time.Duration, failed bool)
	Logger  *slog.Logger
}

// Server is a JSON-RPC server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	handlers map[string]*handler
	httpSrv  *http.Server
	authUser []byte
	authPass []byte

	mu       sync.Mutex
	listener net.Listener
}

// New returns a server; Run starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Chain == nil {
		return nil, errors.New("rpc: Config.Chain is required")
	}
	if (cfg.User == "") != (cfg.Password == "") {
		return nil, errors.New("rpc: give both --rpc-user and --rpc-password, or neither to use the cookie file")
	}
	if cfg.User == "" && cfg.CookiePath == "" {
		return nil, errors.New("rpc: Config.CookiePath is required without --rpc-user/--rpc-password")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.StartTime.IsZero() {
		cfg.StartTime = time.Now()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	if cfg.User != "" {
		s.authUser, s.authPass = []byte(cfg.User), []byte(cfg.Password)
	}
	s.handlers = s.methods()
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
	return s, nil
}

// Listen opens the listening socket and, in cookie mode, writes the cookie
// file. It is separate from Run so that a caller learns of a busy port
// before it starts anything else.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("rpc: listen on %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.User == "" {
		pass, err := writeCookie(s.cfg.CookiePath)
		if err != nil {
			ln.Close()
			return err
		}
		s.authUser, s.authPass = []byte(cookieUser), []byte(pass)
	}
	s.mu.Lock()
	s.listener = ln
	s.mu.Unlock()
	return nil
}

// Addr returns the address the server listens on (after Listen).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Run serves requests until ctx is cancelled, then shuts the server down,
// letting calls in progress finish for a few seconds, and deletes the
// cookie file. It calls Listen first if the caller did not.
func (s *Server) Run(ctx context.Context) error {
	if s.Addr() == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	if s.cfg.User == "" {
		defer os.Remove(s.cfg.CookiePath)
	}
	// Calls in progress see the server's context end at shutdown, so a
	// long generatetoaddress stops with the node.
	s.httpSrv.BaseContext = func(net.Listener) context.Context { return ctx }
	errc := make(chan error, 1)
	go func() { errc <- s.httpSrv.Serve(s.listener) }()
	s.log.Info("RPC server listening", "addr", s.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("rpc: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.httpSrv.Shutdown(shutCtx); err != nil {
		s.httpSrv.Close()
	}
	return nil
}

// writeCookie writes "__cookie__:<random>" to path with mode 0600, via a
// temporary file and a rename so that no reader sees half a cookie.
func writeCookie(path string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("rpc: cookie: %w", err)
	}
	pass := hex.EncodeToString(raw[:])
	if err := atomicfile.Write(path, []byte(cookieUser+":"+pass), 0o600); err != nil {
		return "", fmt.Errorf("rpc: cookie: %w", err)
	}
	return pass, nil
}

// request is one JSON-RPC call.
type request struct {
	Jsonrpc string          `json:"jsonrpc"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
}

// response is one JSON-RPC answer; marshalled by version.
type response struct {
	v2     bool
	result any
	err    *Error
	id     json.RawMessage
}

func (r *response) MarshalJSON() ([]byte, error) {
	id := r.id
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	if r.v2 {
		if r.err != nil {
			return json.Marshal(struct {
				Jsonrpc string          `json:"jsonrpc"`
				Error   *Error          `json:"error"`
				ID      json.RawMessage `json:"id"`
			}{"2.0", r.err, id})
		}
		return json.Marshal(struct {
			Jsonrpc string          `json:"jsonrpc"`
			Result  any             `json:"result"`
			ID      json.RawMessage `json:"id"`
		}{"2.0", r.result, id})
	}
	return json.Marshal(struct {
		Result any             `json:"result"`
		Error  *Error          `json:"error"`
		ID     json.RawMessage `json:"id"`
	}{r.result, r.err, id})
}

// ServeHTTP implements http.Handler: authentication, size limit, decoding
// of single calls and batches, dispatch and encoding.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		time.Sleep(failedAuthDelay)
		w.Header().Set("WWW-Authenticate", `Basic realm="jsonrpc"`)
		http.Error(w, "401 Unauthorized: wrong or missing RPC credentials (see --rpc-user/--rpc-password or the .cookie file)", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "JSONRPC server handles only POST requests", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path != "/" && r.URL.Path != "" {
		http.Error(w, "JSON-RPC is served at /", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeSingle(w, &response{err: errorf(codeInvalidRequest, "request body exceeds %d bytes", s.cfg.MaxBodyBytes)})
			return
		}
		http.Error(w, "reading request: "+err.Error(), http.StatusBadRequest)
		return
	}
	body = bytes.TrimSpace(body)
	w.Header().Set("Content-Type", "application/json")
	if !json.Valid(body) {
		s.writeSingle(w, &response{err: errorf(codeParse, "Parse error")})
		return
	}
	switch {
	case len(body) > 0 && body[0] == '[':
		var reqs []json.RawMessage
		if err := json.Unmarshal(body, &reqs); err != nil {
			s.writeSingle(w, &response{err: errorf(codeParse, "Parse error: %v", err)})
			return
		}
		out := make([]*response, 0, len(reqs))
		for _, raw := range reqs {
			if resp := s.handleRaw(r.Context(), raw); resp != nil {
				out = append(out, resp)
			}
		}
		if len(out) == 0 && len(reqs) > 0 {
			w.WriteHeader(http.StatusNoContent) // a batch of notifications only
			return
		}
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(out)
	case len(body) > 0 && body[0] == '{':
		resp := s.handleRaw(r.Context(), body)
		if resp == nil { // JSON-RPC 2.0 notification
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.writeSingle(w, resp)
	default:
		s.writeSingle(w, &response{err: errorf(codeParse, "Parse error: top-level value must be an object or an array")})
	}
}

// writeSingle writes one response with Bitcoin Core's HTTP status: 200 for
// success and for every JSON-RPC 2.0 answer; for 1.0 errors, 400 for an
// invalid request, 404 for an unknown method, 500 otherwise.
func (s *Server) writeSingle(w http.ResponseWriter, resp *response) {
	status := http.StatusOK
	if resp.err != nil && !resp.v2 {
		switch resp.err.Code {
		case codeInvalidRequest:
			status = http.StatusBadRequest
		case codeMethodNotFound:
			status = http.StatusNotFound
		default:
			status = http.StatusInternalServerError
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// authorized checks HTTP Basic credentials in constant time. Nothing is
// authorized before credentials exist (in cookie mode, before Listen).
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || len(s.authPass) == 0 {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), s.authUser)
	p := subtle.ConstantTimeCompare([]byte(pass), s.authPass)
	return u&p == 1
}

// handleRaw decodes and runs one call. It returns nil for a JSON-RPC 2.0
// notification (a call without id).
func (s *Server) handleRaw(ctx context.Context, raw json.RawMessage) *response {
	var req request
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return &response{err: errorf(codeInvalidRequest, "Invalid Request object: %v", err)}
	}
	resp := &response{id: req.ID}
	switch req.Jsonrpc {
	case "", "1.0":
	case "2.0":
		resp.v2 = true
	default:
		resp.err = errorf(codeInvalidRequest, "jsonrpc field must be \"1.0\" or \"2.0\", or absent")
		return resp
	}
	var method string
	if err := json.Unmarshal(req.Method, &method); err != nil || method == "" {
		resp.err = errorf(codeInvalidRequest, "Method must be a string")
		return resp
	}
	start := time.Now()
	result, err := s.call(ctx, method, req.Params)
	if s.cfg.Observe != nil {
		s.cfg.Observe(method, time.Since(start), err != nil)
	}
	if err != nil {
		var rerr *Error
		if !errors.As(err, &rerr) {
			rerr = errorf(codeMisc, "%v", err)
		}
		resp.err = rerr
		s.log.Debug("RPC call failed", "method", method, "code", rerr.Code, "err", rerr.Message)
	} else {
		resp.result = result
	}
	if resp.v2 && len(req.ID) == 0 {
		return nil // a JSON-RPC 2.0 notification gets no answer
	}
	return resp
}

// call dispatches one method with its parameters.
func (s *Server) call(ctx context.Context, method string, params json.RawMessage) (any, error) {
	h, ok := s.handlers[method]
	if !ok {
		return nil, methodNotFound(method)
	}
	list, err := h.positional(params)
	if err != nil {
		return nil, err
	}
	if len(list) > len(h.params) {
		return nil, errorf(codeMisc, "too many parameters for %s: %d given, at most %d\n%s",
			method, len(list), len(h.params), h.usage(method))
	}
	for i := 0; i < h.required; i++ {
		if i >= len(list) || isNull(list[i]) {
			return nil, errorf(codeMisc, "%s: missing required parameter %q\n%s", method, h.params[i][0], h.usage(method))
		}
	}
	return h.fn(ctx, args(list))
}
