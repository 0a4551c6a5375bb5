package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnchain/cairn/rpcclient"
)

// newServer returns a server for cfg (over a fresh chain when cfg.Chain is
// nil) after Listen, closing its listener when the test ends.
func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Chain == nil {
		cfg.Chain = newTestNode(t, nodeConfig{}).chain
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.listener.Close()
	})
	return s
}

// TestNewConfig ensures New rejects incomplete configurations and fills in
// the documented defaults, which the HTTP server then enforces.
func TestNewConfig(t *testing.T) {
	t.Parallel()
	c := newTestNode(t, nodeConfig{}).chain
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "no chain", cfg: Config{User: "u", Password: "p"}, wantErr: "Chain is required"},
		{name: "user without password", cfg: Config{Chain: c, User: "u"}, wantErr: "both"},
		{name: "password without user", cfg: Config{Chain: c, Password: "p"}, wantErr: "both"},
		{name: "cookie mode without path", cfg: Config{Chain: c}, wantErr: "CookiePath"},
		{name: "user and password", cfg: Config{Chain: c, User: "u", Password: "p"}},
		{name: "cookie mode", cfg: Config{Chain: c, CookiePath: filepath.Join(t.TempDir(), ".cookie")}},
	}
	for _, test := range tests {
		_, err := New(test.cfg)
		switch {
		case test.wantErr == "" && err != nil:
			t.Errorf("%q: unexpected error %v", test.name, err)
		case test.wantErr != "" && (err == nil || !strings.Contains(err.Error(), test.wantErr)):
			t.Errorf("%q: got error %v, want one mentioning %q", test.name, err, test.wantErr)
		}
	}

	s, err := New(Config{Chain: c, User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.MaxBodyBytes != DefaultMaxBodyBytes || s.httpSrv.ReadTimeout != DefaultReadTimeout ||
		s.httpSrv.WriteTimeout != DefaultWriteTimeout {
		t.Errorf("defaults: body %d, read %v, write %v; want %d, %v, %v", s.cfg.MaxBodyBytes,
			s.httpSrv.ReadTimeout, s.httpSrv.WriteTimeout, DefaultMaxBodyBytes, DefaultReadTimeout, DefaultWriteTimeout)
	}
	if s.httpSrv.ReadHeaderTimeout <= 0 {
		t.Error("no ReadHeaderTimeout: slow-header clients could hold connections forever")
	}
	if s.cfg.StartTime.IsZero() {
		t.Error("StartTime not defaulted")
	}
	s, err = New(Config{Chain: c, User: "u", Password: "p", MaxBodyBytes: 77, ReadTimeout: 3 * time.Second, WriteTimeout: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.MaxBodyBytes != 77 || s.httpSrv.ReadTimeout != 3*time.Second || s.httpSrv.WriteTimeout != 4*time.Second {
		t.Errorf("custom limits: body %d, read %v, write %v; want 77, 3s, 4s",
			s.cfg.MaxBodyBytes, s.httpSrv.ReadTimeout, s.httpSrv.WriteTimeout)
	}
}

// TestAuthUserPassword ensures that with --rpc-user/--rpc-password only
// those credentials are accepted, and that everything else gets a clear
// 401 with a Basic challenge, as Bitcoin Core answers.
func TestAuthUserPassword(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	body := requestBody(t, "getblockcount", []any{})
	tests := []struct {
		name string
		auth func(*http.Request)
		want int
	}{
		{name: "right credentials", auth: withAuth, want: http.StatusOK},
		{name: "no credentials", auth: nil, want: http.StatusUnauthorized},
		{name: "wrong password", auth: func(r *http.Request) { r.SetBasicAuth(testUser, "wrong") }, want: http.StatusUnauthorized},
		{name: "wrong user", auth: func(r *http.Request) { r.SetBasicAuth("bob", testPass) }, want: http.StatusUnauthorized},
		{name: "password prefix", auth: func(r *http.Request) { r.SetBasicAuth(testUser, testPass[:5]) }, want: http.StatusUnauthorized},
		{name: "empty credentials", auth: func(r *http.Request) { r.SetBasicAuth("", "") }, want: http.StatusUnauthorized},
		{name: "cookie user", auth: func(r *http.Request) { r.SetBasicAuth(cookieUser, testPass) }, want: http.StatusUnauthorized},
		{name: "malformed basic", auth: func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }, want: http.StatusUnauthorized},
		{name: "bearer token", auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testPass) }, want: http.StatusUnauthorized},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			rec := send(t, s, http.MethodPost, "/", body, test.auth)
			if rec.Code != test.want {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, test.want, rec.Body.String())
			}
			if test.want != http.StatusUnauthorized {
				return
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != `Basic realm="jsonrpc"` {
				t.Errorf("WWW-Authenticate %q, want %q", got, `Basic realm="jsonrpc"`)
			}
			if !strings.Contains(rec.Body.String(), "credentials") {
				t.Errorf("401 body %q does not explain the credentials", rec.Body.String())
			}
		})
	}
}

// TestAuthBeforeListen ensures a Server used as an http.Handler checks the
// configured credentials from New on: it neither rejects the right ones nor
// accepts empty ones before Listen has run.
func TestAuthBeforeListen(t *testing.T) {
	t.Parallel()
	c := newTestNode(t, nodeConfig{}).chain
	userMode, err := New(Config{Chain: c, User: testUser, Password: testPass})
	if err != nil {
		t.Fatal(err)
	}
	cookieMode, err := New(Config{Chain: c, CookiePath: filepath.Join(t.TempDir(), ".cookie")})
	if err != nil {
		t.Fatal(err)
	}
	empty := func(r *http.Request) { r.SetBasicAuth("", "") }
	tests := []struct {
		name string
		srv  *Server
		auth func(*http.Request)
		want int
	}{
		{name: "user mode, configured credentials", srv: userMode, auth: withAuth, want: http.StatusOK},
		{name: "user mode, empty credentials", srv: userMode, auth: empty, want: http.StatusUnauthorized},
		{name: "cookie mode, empty credentials", srv: cookieMode, auth: empty, want: http.StatusUnauthorized},
	}
	for _, test := range tests {
		rec := send(t, test.srv, http.MethodPost, "/", requestBody(t, "getblockcount", nil), test.auth)
		if rec.Code != test.want {
			t.Errorf("%q: status %d, want %d", test.name, rec.Code, test.want)
		}
	}
}

// TestCookieAuth ensures that without --rpc-user the server writes a fresh
// "__cookie__:<64 hex>" cookie with mode 0600 at Listen, accepts only it
// over real HTTP, and deletes it when Run's context ends.
func TestCookieAuth(t *testing.T) {
	t.Parallel()
	c := newTestNode(t, nodeConfig{}).chain
	path := filepath.Join(t.TempDir(), "regtest", ".cookie")
	s, err := New(Config{Addr: "127.0.0.1:0", CookiePath: path, Chain: c})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no cookie after Listen: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cookie mode %v, want 0600", fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^__cookie__:[0-9a-f]{64}$`).Match(raw) {
		t.Errorf("cookie %q, want __cookie__:<64 hex digits>", raw)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary cookie left behind: %v", err)
	}
	user, pass, err := rpcclient.ReadCookie(path)
	if err != nil || user != cookieUser || cookieUser+":"+pass != string(raw) {
		t.Errorf("rpcclient.ReadCookie: %q, %q, %v; want the file's credentials", user, pass, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	url := "http://" + s.Addr().String() + "/"
	client := &http.Client{Timeout: 10 * time.Second}
	tests := []struct {
		name       string
		user, pass string
		want       int
	}{
		{name: "cookie", user: cookieUser, pass: pass, want: http.StatusOK},
		{name: "wrong cookie", user: cookieUser, pass: strings.Repeat("0", 64), want: http.StatusUnauthorized},
		{name: "empty", user: "", pass: "", want: http.StatusUnauthorized},
	}
	for _, test := range tests {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(requestBody(t, "getblockcount", nil)))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(test.user, test.pass)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%q: %v", test.name, err)
		}
		var reply rpcReply
		decErr := json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		if resp.StatusCode != test.want {
			t.Errorf("%q: status %d, want %d", test.name, resp.StatusCode, test.want)
		}
		if test.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%q: 401 without WWW-Authenticate", test.name)
		}
		if test.want == http.StatusOK && (decErr != nil || string(reply.Result) != "0") {
			t.Errorf("%q: reply %s (%v), want result 0", test.name, reply.Result, decErr)
		}
	}

	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("cookie still present after Run returned: %v", err)
	}

	// A new server writes a new random cookie.
	s2, err := New(Config{Addr: "127.0.0.1:0", CookiePath: path, Chain: c})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Listen(); err != nil {
		t.Fatal(err)
	}
	defer s2.listener.Close()
	if _, pass2, err := rpcclient.ReadCookie(path); err != nil || pass2 == pass {
		t.Errorf("second cookie %q (%v): want a fresh one", pass2, err)
	}
}

// TestCookieFailures ensures Listen and Run report a cookie that cannot be
// written, and release the port, and that rpcclient.ReadCookie, which
// reads the cookie the server writes, rejects missing and malformed files.
func TestCookieFailures(t *testing.T) {
	t.Parallel()
	c := newTestNode(t, nodeConfig{}).chain
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, run := range []bool{false, true} {
		s, err := New(Config{Addr: "127.0.0.1:0", CookiePath: filepath.Join(notDir, ".cookie"), Chain: c})
		if err != nil {
			t.Fatal(err)
		}
		if run {
			err = s.Run(context.Background())
		} else {
			err = s.Listen()
		}
		if err == nil || !strings.Contains(err.Error(), "cookie") {
			t.Errorf("run %v: error %v, want a cookie error", run, err)
		}
		if s.Addr() != nil {
			t.Errorf("run %v: listening on %v after the cookie failed", run, s.Addr())
		}
	}

	tests := []struct {
		name     string
		content  *string // nil: no file
		wantUser string
		wantPass string
		wantErr  bool
	}{
		{name: "missing", wantErr: true},
		{name: "no colon", content: ptrTo("__cookie__abc"), wantErr: true},
		{name: "trailing newline", content: ptrTo("__cookie__:abc\n"), wantUser: "__cookie__", wantPass: "abc"},
		{name: "colon in password", content: ptrTo("u:p:q"), wantUser: "u", wantPass: "p:q"},
	}
	for i, test := range tests {
		path := filepath.Join(dir, fmt.Sprintf("cookie%d", i))
		if test.content != nil {
			if err := os.WriteFile(path, []byte(*test.content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		user, pass, err := rpcclient.ReadCookie(path)
		if (err != nil) != test.wantErr || user != test.wantUser || pass != test.wantPass {
			t.Errorf("%q: %q, %q, %v; want %q, %q, error %v", test.name, user, pass, err, test.wantUser, test.wantPass, test.wantErr)
		}
	}
}

// TestRunBusyAddress ensures Run, called without Listen, reports an
// address in use.
func TestRunBusyAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := New(Config{Addr: ln.Addr().String(), User: "u", Password: "p", Chain: newTestNode(t, nodeConfig{}).chain})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("Run on a busy address succeeded")
	}
}

// TestUserPasswordModeKeepsCookie ensures fixed credentials neither write
// nor delete a cookie file.
func TestUserPasswordModeKeepsCookie(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ".cookie")
	if err := os.WriteFile(path, []byte("someone else's"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{User: testUser, Password: testPass, CookiePath: path})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "someone else's" {
		t.Errorf("cookie file %q (%v) changed in user/password mode", b, err)
	}
}

// TestListenBusyAddress ensures Listen reports an address in use, before
// anything is served.
func TestListenBusyAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := New(Config{Addr: ln.Addr().String(), User: "u", Password: "p", Chain: newTestNode(t, nodeConfig{}).chain})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err == nil {
		s.listener.Close()
		t.Fatal("Listen on a busy address succeeded")
	}
}

// TestHTTPMethodAndPath ensures only POST to / is served: other methods get
// 405 and other paths 404.
func TestHTTPMethodAndPath(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	body := requestBody(t, "getblockcount", nil)
	tests := []struct {
		name, method, path string
		want               int
	}{
		{name: "POST /", method: http.MethodPost, path: "/", want: http.StatusOK},
		{name: "GET /", method: http.MethodGet, path: "/", want: http.StatusMethodNotAllowed},
		{name: "PUT /", method: http.MethodPut, path: "/", want: http.StatusMethodNotAllowed},
		{name: "DELETE /", method: http.MethodDelete, path: "/", want: http.StatusMethodNotAllowed},
		{name: "POST /rest", method: http.MethodPost, path: "/rest", want: http.StatusNotFound},
		{name: "POST /wallet/x", method: http.MethodPost, path: "/wallet/x", want: http.StatusNotFound},
	}
	for _, test := range tests {
		rec := send(t, s, test.method, test.path, body, withAuth)
		if rec.Code != test.want {
			t.Errorf("%q: status %d, want %d", test.name, rec.Code, test.want)
		}
		if test.want == http.StatusMethodNotAllowed && !strings.Contains(rec.Body.String(), "POST") {
			t.Errorf("%q: body %q does not say only POST is served", test.name, rec.Body.String())
		}
	}
}

// TestJSONRPC1Shapes ensures JSON-RPC 1.0 answers are {"result","error","id"}
// with Core's HTTP status: 200 on success, 404 for an unknown method, 400 for
// an invalid request and 500 for other errors.
func TestJSONRPC1Shapes(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantResult string
		wantCode   int // 0: success
		wantID     string
	}{
		{name: "success", body: `{"jsonrpc":"1.0","id":7,"method":"getblockcount","params":[]}`,
			wantStatus: 200, wantResult: "0", wantID: "7"},
		{name: "no jsonrpc field", body: `{"id":"abc","method":"getblockcount"}`,
			wantStatus: 200, wantResult: "0", wantID: `"abc"`},
		{name: "no id", body: `{"method":"getblockcount","params":[]}`,
			wantStatus: 200, wantResult: "0", wantID: "null"},
		{name: "object id", body: `{"id":{"a":[1]},"method":"getblockcount"}`,
			wantStatus: 200, wantResult: "0", wantID: `{"a":[1]}`},
		{name: "method not found", body: `{"id":1,"method":"getwork"}`,
			wantStatus: 404, wantCode: -32601, wantID: "1"},
		{name: "handler error", body: `{"id":2,"method":"getblockhash","params":[5]}`,
			wantStatus: 500, wantCode: -8, wantID: "2"},
		{name: "method not a string", body: `{"id":3,"method":5}`,
			wantStatus: 400, wantCode: -32600, wantID: "3"},
		{name: "method missing", body: `{"id":4}`,
			wantStatus: 400, wantCode: -32600, wantID: "4"},
		{name: "unsupported version", body: `{"jsonrpc":"3.0","id":5,"method":"getblockcount"}`,
			wantStatus: 400, wantCode: -32600, wantID: "5"},
		{name: "jsonrpc not a string", body: `{"jsonrpc":2,"id":6,"method":"getblockcount"}`,
			wantStatus: 400, wantCode: -32600, wantID: "null"},
	}
	for _, test := range tests {
		rec := post(t, s, test.body)
		if rec.Code != test.wantStatus {
			t.Errorf("%q: status %d, want %d", test.name, rec.Code, test.wantStatus)
		}
		m := object(t, rec.Body.Bytes())
		checkKeys(t, test.name, m, "result", "error", "id")
		if got := string(m["id"]); got != test.wantID {
			t.Errorf("%q: id %s, want %s", test.name, got, test.wantID)
		}
		if test.wantCode == 0 {
			if string(m["error"]) != "null" || string(m["result"]) != test.wantResult {
				t.Errorf("%q: result %s error %s, want result %s error null", test.name, m["result"], m["error"], test.wantResult)
			}
			continue
		}
		if string(m["result"]) != "null" {
			t.Errorf("%q: result %s, want null", test.name, m["result"])
		}
		var e Error
		decode(t, m["error"], &e)
		checkKeys(t, test.name+" error", object(t, m["error"]), "code", "message")
		if int(e.Code) != test.wantCode || e.Message == "" {
			t.Errorf("%q: error %+v, want code %d with a message", test.name, e, test.wantCode)
		}
	}
}

// TestJSONRPC2Shapes ensures JSON-RPC 2.0 answers carry "jsonrpc":"2.0" and
// either "result" or "error", always with HTTP 200, and that notifications
// (no id) get 204 and no body.
func TestJSONRPC2Shapes(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantKeys   []string // nil: no body
		wantID     string
		wantCode   int
	}{
		{name: "success", body: `{"jsonrpc":"2.0","id":1,"method":"getblockcount"}`,
			wantStatus: 200, wantKeys: []string{"jsonrpc", "result", "id"}, wantID: "1"},
		{name: "null id is not a notification", body: `{"jsonrpc":"2.0","id":null,"method":"getblockcount"}`,
			wantStatus: 200, wantKeys: []string{"jsonrpc", "result", "id"}, wantID: "null"},
		{name: "method not found", body: `{"jsonrpc":"2.0","id":"x","method":"nosuch"}`,
			wantStatus: 200, wantKeys: []string{"jsonrpc", "error", "id"}, wantID: `"x"`, wantCode: -32601},
		{name: "handler error", body: `{"jsonrpc":"2.0","id":2,"method":"getblockhash","params":[9]}`,
			wantStatus: 200, wantKeys: []string{"jsonrpc", "error", "id"}, wantID: "2", wantCode: -8},
		{name: "missing parameter", body: `{"jsonrpc":"2.0","id":3,"method":"getblockhash"}`,
			wantStatus: 200, wantKeys: []string{"jsonrpc", "error", "id"}, wantID: "3", wantCode: -1},
		{name: "notification", body: `{"jsonrpc":"2.0","method":"getblockcount"}`, wantStatus: 204},
		{name: "failing notification", body: `{"jsonrpc":"2.0","method":"nosuch"}`, wantStatus: 204},
	}
	for _, test := range tests {
		rec := post(t, s, test.body)
		if rec.Code != test.wantStatus {
			t.Errorf("%q: status %d, want %d", test.name, rec.Code, test.wantStatus)
		}
		if test.wantKeys == nil {
			if rec.Body.Len() != 0 {
				t.Errorf("%q: body %q, want none", test.name, rec.Body.String())
			}
			continue
		}
		m := object(t, rec.Body.Bytes())
		checkKeys(t, test.name, m, test.wantKeys...)
		if string(m["jsonrpc"]) != `"2.0"` || string(m["id"]) != test.wantID {
			t.Errorf("%q: jsonrpc %s id %s, want \"2.0\" and %s", test.name, m["jsonrpc"], m["id"], test.wantID)
		}
		if test.wantCode != 0 {
			var e Error
			decode(t, m["error"], &e)
			if int(e.Code) != test.wantCode {
				t.Errorf("%q: code %d, want %d", test.name, e.Code, test.wantCode)
			}
		}
	}
}

// TestBatch ensures a batch mixing 1.0 and 2.0 calls, a notification and
// invalid entries gets one answer per non-notification, in order, each in
// its own version's shape, with HTTP 200.
func TestBatch(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	body := `[
		{"jsonrpc":"1.0","id":1,"method":"getblockcount"},
		{"jsonrpc":"2.0","id":"b","method":"getblockcount"},
		{"jsonrpc":"2.0","method":"getblockcount"},
		42,
		{"id":3,"method":"nosuch"},
		{"jsonrpc":"2.0","id":4,"method":"getblockhash","params":[999]},
		{"jsonrpc":"2.0","id":5,"method":"nosuch"},
		{"jsonrpc":"2.0","id":6}
	]`
	rec := post(t, s, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	var replies []map[string]json.RawMessage
	decode(t, rec.Body.Bytes(), &replies)
	want := []struct {
		name string
		keys []string
		id   string
		code int
	}{
		{name: "1.0 call", keys: []string{"result", "error", "id"}, id: "1"},
		{name: "2.0 call", keys: []string{"jsonrpc", "result", "id"}, id: `"b"`},
		{name: "not an object", keys: []string{"result", "error", "id"}, id: "null", code: -32600},
		{name: "1.0 unknown method", keys: []string{"result", "error", "id"}, id: "3", code: -32601},
		{name: "2.0 handler error", keys: []string{"jsonrpc", "error", "id"}, id: "4", code: -8},
		{name: "2.0 unknown method", keys: []string{"jsonrpc", "error", "id"}, id: "5", code: -32601},
		{name: "2.0 without method", keys: []string{"jsonrpc", "error", "id"}, id: "6", code: -32600},
	}
	if len(replies) != len(want) {
		t.Fatalf("%d replies, want %d: %s", len(replies), len(want), rec.Body.String())
	}
	for i, w := range want {
		m := replies[i]
		checkKeys(t, w.name, m, w.keys...)
		if string(m["id"]) != w.id {
			t.Errorf("%q: id %s, want %s", w.name, m["id"], w.id)
		}
		if w.code == 0 {
			if string(m["result"]) != "0" {
				t.Errorf("%q: result %s, want 0", w.name, m["result"])
			}
			continue
		}
		var e Error
		decode(t, m["error"], &e)
		if int(e.Code) != w.code {
			t.Errorf("%q: code %d, want %d", w.name, e.Code, w.code)
		}
	}

	rec = post(t, s, `[]`)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("empty batch: status %d body %q, want 200 []", rec.Code, rec.Body.String())
	}
}

// TestBatchOfNotifications ensures a batch of only notifications gets no
// answer (HTTP 204), as JSON-RPC 2.0 and Bitcoin Core have it.
func TestBatchOfNotifications(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	rec := post(t, s, `[{"jsonrpc":"2.0","method":"getblockcount"},{"jsonrpc":"2.0","method":"nosuch"}]`)
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("status %d body %q, want 204 and no body", rec.Code, rec.Body.String())
	}
}

// TestParseError ensures a body that is not one JSON object or array gets
// the parse error -32700 (HTTP 500, as Core sends it).
func TestParseError(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	tests := []struct {
		name string
		body string
	}{
		{name: "empty", body: ``},
		{name: "not JSON", body: `hello`},
		{name: "string", body: `"getblockcount"`},
		{name: "number", body: `123`},
		{name: "truncated batch", body: `[{"method":"getblockcount"},`},
		{name: "truncated object", body: `{"method":"getblockcount","id":`},
		{name: "object with trailing garbage", body: `{"method":"getblockcount","id":1} }{`},
	}
	for _, test := range tests {
		rec := post(t, s, test.body)
		var reply rpcReply
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
			t.Errorf("%q: undecodable reply %q", test.name, rec.Body.String())
			continue
		}
		if reply.Error == nil || reply.Error.Code != codeParse {
			t.Errorf("%q: reply %s / %v, want error -32700", test.name, reply.Result, reply.Error)
		}
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%q: status %d, want 500", test.name, rec.Code)
		}
	}
}

// TestBodyLimit ensures a body over MaxBodyBytes is refused with -32600
// (HTTP 400) and one within it is served.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	const limit = 512
	s := newServer(t, Config{User: testUser, Password: testPass, MaxBodyBytes: limit})
	withPad := func(n int) string {
		return `{"id":1,"method":"getblockcount","pad":"` + strings.Repeat("x", n) + `"}`
	}
	small := withPad(limit - len(withPad(0)))
	if len(small) != limit {
		t.Fatalf("test bug: body of %d bytes", len(small))
	}
	if res, rerr := callRaw(t, s, small); rerr != nil || string(res) != "0" {
		t.Errorf("body at the limit: %s %v, want result 0", res, rerr)
	}
	rec := post(t, s, withPad(limit))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("oversized body: status %d, want 400", rec.Code)
	}
	var reply rpcReply
	decode(t, rec.Body.Bytes(), &reply)
	checkErr(t, "oversized body", reply.Error, -32600, "exceeds 512 bytes")
}

// TestObserve ensures Config.Observe hears of every call, with its method
// and whether it failed.
func TestObserve(t *testing.T) {
	t.Parallel()
	type observation struct {
		method string
		failed bool
	}
	var mu sync.Mutex
	var got []observation
	s := newServer(t, Config{User: testUser, Password: testPass, Observe: func(m string, d time.Duration, failed bool) {
		mu.Lock()
		defer mu.Unlock()
		if d < 0 {
			t.Errorf("negative duration for %s", m)
		}
		got = append(got, observation{m, failed})
	}})
	call(t, s, "getblockcount")
	call(t, s, "getblockhash", 99)
	call(t, s, "nosuch")
	post(t, s, `{"jsonrpc":"2.0","method":"getbestblockhash"}`)
	want := []observation{{"getblockcount", false}, {"getblockhash", true}, {"nosuch", true}, {"getbestblockhash", false}}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("observation %d: %v, want %v", i, got[i], want[i])
		}
	}
}
