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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
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
	user, pass, err := ReadCookie(path)
	if err != nil || user != cookieUser || cookieUser+":"+pass != string(raw) {
		t.Errorf("ReadCookie: %q, %q, %v; want the file's credentials", user, pass, err)
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
	if _, pass2, err := ReadCookie(path); err != nil || pass2 == pass {
		t.Errorf("second cookie %q (%v): want a fresh one", pass2, err)
	}
}

// TestCookieFailures ensures Listen and Run report a cookie that cannot be
// written, and release the port, and that ReadCookie rejects missing and
// malformed files.
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
		user, pass, err := ReadCookie(path)
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

// TestNamedParams ensures parameters can be passed by Core's names, with
// gaps for omitted optional ones, and that unknown names get -8.
func TestNamedParams(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	genesis := r.net.GenesisHash().String()
	txA := r.g.Block("b101").Transactions[1].TxHash().String()
	tests := []struct {
		name       string
		method     string
		params     map[string]any
		wantResult string // JSON; "" to skip
		wantCode   int
		wantMsg    string
	}{
		{name: "getblockhash height", method: "getblockhash", params: map[string]any{"height": 0},
			wantResult: `"` + genesis + `"`},
		{name: "getblock verbosity 0", method: "getblock", params: map[string]any{"verbosity": 0, "blockhash": r.hash("b1")},
			wantResult: `"` + blockHex(r.g.Block("b1")) + `"`},
		{name: "getrawtransaction skipping verbose", method: "getrawtransaction",
			params:     map[string]any{"txid": txA, "blockhash": r.hash("b101")},
			wantResult: `"` + txHexString(r.txA) + `"`},
		{name: "no parameters", method: "getblockcount", params: map[string]any{}, wantResult: "103"},
		{name: "unknown name", method: "getblockhash", params: map[string]any{"height": 0, "foo": 1},
			wantCode: -8, wantMsg: "Unknown named parameter foo"},
		{name: "misspelt name", method: "getblockhash", params: map[string]any{"heigth": 0},
			wantCode: -8, wantMsg: "Unknown named parameter heigth"},
		{name: "name of no-parameter method", method: "getblockcount", params: map[string]any{"verbose": true},
			wantCode: -8, wantMsg: "Unknown named parameter verbose"},
		{name: "missing required", method: "getrawtransaction", params: map[string]any{"blockhash": r.hash("b101")},
			wantCode: -1, wantMsg: `"txid"`},
	}
	for _, test := range tests {
		res, rerr := callNamed(t, r.srv, test.method, test.params)
		if test.wantCode != 0 {
			checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
			continue
		}
		if rerr != nil {
			t.Errorf("%q: unexpected error %v", test.name, rerr)
			continue
		}
		if test.wantResult != "" && string(res) != test.wantResult {
			t.Errorf("%q: result %.200s, want %.200s", test.name, res, test.wantResult)
		}
	}
}

// TestParamCount ensures too many parameters, a missing or null required
// one, and params that are neither an array nor an object are refused.
func TestParamCount(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	tests := []struct {
		name     string
		body     string
		wantCode int // 0: success
		wantMsg  string
	}{
		{name: "params absent", body: `{"id":1,"method":"getblockcount"}`},
		{name: "params null", body: `{"id":1,"method":"getblockcount","params":null}`},
		{name: "too many", body: `{"id":1,"method":"getblockcount","params":[1]}`, wantCode: -1, wantMsg: "too many parameters"},
		{name: "too many for getblockhash", body: `{"id":1,"method":"getblockhash","params":[0,1]}`, wantCode: -1, wantMsg: "too many parameters"},
		{name: "missing required", body: `{"id":1,"method":"getblockhash","params":[]}`, wantCode: -1, wantMsg: `missing required parameter "height"`},
		{name: "required null", body: `{"id":1,"method":"getblockhash","params":[null]}`, wantCode: -1, wantMsg: `"height"`},
		{name: "second required missing", body: `{"id":1,"method":"gettxout","params":["` + strings.Repeat("0", 64) + `"]}`, wantCode: -1, wantMsg: `"n"`},
		{name: "params a number", body: `{"id":1,"method":"getblockcount","params":5}`, wantCode: -32600},
		{name: "params a string", body: `{"id":1,"method":"getblockhash","params":"0"}`, wantCode: -32600},
	}
	for _, test := range tests {
		res, rerr := callRaw(t, s, test.body)
		if test.wantCode == 0 {
			if rerr != nil || string(res) != "0" {
				t.Errorf("%q: %s %v, want result 0", test.name, res, rerr)
			}
			continue
		}
		checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
	}
}

// TestParamTypes ensures arguments of the wrong JSON type get Core's -3
// "JSON value of type X is not of expected type Y", and badly formed hashes
// get -8.
func TestParamTypes(t *testing.T) {
	t.Parallel()
	gen := &fakeGenerator{}
	n := newTestNode(t, nodeConfig{generator: gen, blocks: 1})
	h := n.hash("b1")
	tests := []struct {
		name     string
		method   string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "height as string", method: "getblockhash", params: []any{"1"}, wantCode: -3,
			wantMsg: "JSON value of type string is not of expected type number"},
		{name: "height as bool", method: "getblockhash", params: []any{true}, wantCode: -3, wantMsg: "type bool"},
		{name: "fractional height", method: "getblockhash", params: []any{1.5}, wantCode: -3},
		{name: "height beyond int32", method: "getblockhash", params: []any{int64(1) << 40}, wantCode: -3},
		{name: "height beyond int64", method: "getblockhash", params: []any{json.RawMessage("1e30")}, wantCode: -3},
		{name: "hash as number", method: "getblock", params: []any{12}, wantCode: -3, wantMsg: "not of expected type string"},
		{name: "short hash", method: "getblock", params: []any{"abcd"}, wantCode: -8, wantMsg: "blockhash must be of length 64"},
		{name: "non-hex hash", method: "getblock", params: []any{strings.Repeat("zz", 32)}, wantCode: -8, wantMsg: "hexadecimal"},
		{name: "verbose as string", method: "getblockheader", params: []any{h, "yes"}, wantCode: -3, wantMsg: "expected type bool"},
		{name: "n as string", method: "gettxout", params: []any{h, "0"}, wantCode: -3},
		{name: "include_mempool as number", method: "gettxout", params: []any{h, 0, 1}, wantCode: -3},
		{name: "iswitness as string", method: "decoderawtransaction", params: []any{"00", "x"}, wantCode: -3},
		{name: "address as number", method: "validateaddress", params: []any{5}, wantCode: -3},
		{name: "nblocks as string", method: "generatetoaddress", params: []any{"1", "x"}, wantCode: -3},
		{name: "hash_type as bool", method: "gettxoutsetinfo", params: []any{true}, wantCode: -3},
		{name: "index name as number", method: "getindexinfo", params: []any{1}, wantCode: -3},
		{name: "command as object", method: "help", params: []any{map[string]any{}}, wantCode: -3},
		// Core checks every argument's JSON type before the handler runs,
		// so hex arguments of the wrong type are -3 too, not decode errors.
		{name: "block hexdata as array", method: "submitblock", params: []any{[]any{}}, wantCode: -3},
		{name: "header hexdata as number", method: "submitheader", params: []any{80}, wantCode: -3},
		{name: "tx hexstring as number", method: "decoderawtransaction", params: []any{1}, wantCode: -3},
		{name: "script hexstring as bool", method: "decodescript", params: []any{false}, wantCode: -3},
	}
	for _, test := range tests {
		_, rerr := call(t, n.srv, test.method, test.params...)
		checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
	}
	if gen.callCount() != 0 {
		t.Error("the generator was called despite bad arguments")
	}
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

// TestMethodTable ensures the server offers exactly Bitcoin Core's method
// names for its calls, with Core's parameter names in Core's order.
func TestMethodTable(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	want := map[string][]string{
		"getblockchaininfo":     nil,
		"getblockcount":         nil,
		"getbestblockhash":      nil,
		"getblockhash":          {"height"},
		"getblock":              {"blockhash", "verbosity"},
		"getblockheader":        {"blockhash", "verbose"},
		"getblockfilter":        {"blockhash", "filtertype"},
		"getchaintips":          nil,
		"getdifficulty":         nil,
		"gettxout":              {"txid", "n", "include_mempool"},
		"gettxoutsetinfo":       {"hash_type"},
		"getrawtransaction":     {"txid", "verbose", "blockhash"},
		"decoderawtransaction":  {"hexstring", "iswitness"},
		"decodescript":          {"hexstring"},
		"validateaddress":       {"address"},
		"submitblock":           {"hexdata", "dummy"},
		"submitheader":          {"hexdata"},
		"generatetoaddress":     {"nblocks", "address", "maxtries"},
		"generateblock":         {"output", "transactions", "submit"},
		"invalidateblock":       {"blockhash"},
		"reconsiderblock":       {"blockhash"},
		"getindexinfo":          {"index_name"},
		"getnetworkinfo":        nil,
		"getconnectioncount":    nil,
		"getpeerinfo":           nil,
		"setban":                {"subnet", "command", "bantime", "absolute"},
		"listbanned":            nil,
		"addnode":               {"node", "command"},
		"getaddednodeinfo":      {"node"},
		"disconnectnode":        {"address", "nodeid"},
		"setnetworkactive":      {"state"},
		"clearbanned":           nil,
		"getmininginfo":         nil,
		"getnetworkhashps":      {"nblocks", "height"},
		"getblocktemplate":      {"template_request"},
		"sendrawtransaction":    {"hexstring", "maxfeerate"},
		"testmempoolaccept":     {"rawtxs", "maxfeerate"},
		"getrawmempool":         {"verbose", "mempool_sequence"},
		"getmempoolentry":       {"txid"},
		"getmempoolinfo":        nil,
		"getmempoolancestors":   {"txid", "verbose"},
		"getmempooldescendants": {"txid", "verbose"},
		"estimatesmartfee":      {"conf_target", "estimate_mode"},
		"uptime":                nil,
		"stop":                  nil,
		"help":                  {"command"},
	}
	// wantRequired counts each method's required parameters (Core's, and
	// Cairn's for disconnectnode's address).
	wantRequired := map[string]int{
		"getblockhash": 1, "getblock": 1, "getblockheader": 1, "getblockfilter": 1, "gettxout": 2,
		"getrawtransaction": 1, "decoderawtransaction": 1, "decodescript": 1, "validateaddress": 1,
		"submitblock": 1, "submitheader": 1, "generatetoaddress": 2, "generateblock": 2,
		"sendrawtransaction": 1, "testmempoolaccept": 1, "getmempoolentry": 1, "getmempoolancestors": 1,
		"getmempooldescendants": 1, "estimatesmartfee": 1, "invalidateblock": 1, "reconsiderblock": 1,
		"setban": 2, "addnode": 2, "disconnectnode": 1, "setnetworkactive": 1,
	}
	for name, params := range want {
		h, ok := s.handlers[name]
		if !ok {
			t.Errorf("method %s missing", name)
			continue
		}
		if strings.Join(h.params, ",") != strings.Join(params, ",") {
			t.Errorf("%s: params %v, want %v", name, h.params, params)
		}
		if h.doc == nil {
			t.Errorf("%s: no help", name)
		}
		if h.required != wantRequired[name] {
			t.Errorf("%s: %d required parameters, want %d", name, h.required, wantRequired[name])
		}
	}
	for name := range s.handlers {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected method %s (add it to this test)", name)
		}
	}
}

// TestUptime ensures uptime counts whole seconds since Config.StartTime.
func TestUptime(t *testing.T) {
	t.Parallel()
	n := newTestNode(t, nodeConfig{startTime: time.Now().Add(-90 * time.Second)})
	var up int64
	decode(t, mustCall(t, n.srv, "uptime"), &up)
	if up < 90 || up > 150 {
		t.Errorf("uptime %d, want about 90", up)
	}
	fresh := newTestNode(t, nodeConfig{})
	decode(t, mustCall(t, fresh.srv, "uptime"), &up)
	if up < 0 || up > 60 {
		t.Errorf("uptime of a fresh server %d, want about 0", up)
	}
}

// TestStop ensures stop answers and then calls Config.Stop, and fails on a
// server that cannot stop its node.
func TestStop(t *testing.T) {
	t.Parallel()
	stopped := make(chan struct{})
	var once bool
	n := newTestNode(t, nodeConfig{stop: func() {
		if !once {
			once = true
			close(stopped)
		}
	}})
	res := mustCall(t, n.srv, "stop")
	if !strings.Contains(str(t, res), "stopping") {
		t.Errorf("stop answered %s, want a stopping message", res)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Config.Stop was not called")
	}
	none := newTestNode(t, nodeConfig{})
	_, rerr := call(t, none.srv, "stop")
	checkErr(t, "no Stop", rerr, -1, "cannot stop")
}

// TestHelp ensures help lists every method's call line under its Core
// category, categories and methods in alphabetical order, explains one
// method, and answers unknown ones as Core does.
func TestHelp(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	list := str(t, mustCall(t, r.srv, "help"))
	if !strings.HasPrefix(list, "== Blockchain ==\ngetbestblockhash\n") {
		t.Errorf("help list starts %q, want the Blockchain category first", list[:min(len(list), 60)])
	}
	var categories []string
	listed := map[string]string{} // method: its category heading
	for _, group := range strings.Split(list, "\n\n") {
		lines := strings.Split(group, "\n")
		heading := lines[0]
		categories = append(categories, heading)
		if !sort.StringsAreSorted(lines[1:]) {
			t.Errorf("%s: methods not sorted: %q", heading, lines[1:])
		}
		for _, line := range lines[1:] {
			name, _, _ := strings.Cut(line, " ")
			h, ok := r.srv.handlers[name]
			if !ok {
				t.Errorf("%s lists %q, which is no method", heading, line)
				continue
			}
			if line != h.usage(name) {
				t.Errorf("%s lists %q, want %q", heading, line, h.usage(name))
			}
			if _, dup := listed[name]; dup {
				t.Errorf("%s listed twice", name)
			}
			listed[name] = heading
		}
	}
	wantCategories := []string{"== Blockchain ==", "== Control ==", "== Generating ==", "== Mining ==",
		"== Network ==", "== Rawtransactions ==", "== Util =="}
	if strings.Join(categories, "|") != strings.Join(wantCategories, "|") {
		t.Errorf("help categories %q, want %q", categories, wantCategories)
	}
	if len(listed) != len(r.srv.handlers) {
		t.Errorf("help lists %d methods, want every one (%d)", len(listed), len(r.srv.handlers))
	}
	for name, heading := range map[string]string{"getblock": "== Blockchain ==", "getrawmempool": "== Blockchain ==",
		"stop": "== Control ==", "generatetoaddress": "== Generating ==", "getblocktemplate": "== Mining ==",
		"getpeerinfo": "== Network ==", "sendrawtransaction": "== Rawtransactions ==",
		"getrawtransaction": "== Rawtransactions ==", "estimatesmartfee": "== Util ==", "validateaddress": "== Util =="} {
		if listed[name] != heading {
			t.Errorf("%s is under %q, want %q as in Core", name, listed[name], heading)
		}
	}
	tests := []struct {
		name     string
		command  any
		want     string // prefix
		contains string
	}{
		{name: "getblock", command: "getblock", want: "getblock \"blockhash\" ( verbosity )\n\nIf verbosity is 0",
			contains: "\nArguments:\n1. blockhash    (string, required) The block hash\n2. verbosity    (numeric or boolean, optional, default=1)"},
		{name: "no parameters", command: "uptime", want: "uptime\n\nReturns the total uptime of the server.\n\nArguments:\nnone\n\nResult:\nn    (numeric)"},
		{name: "generatetoaddress", command: "generatetoaddress", want: `generatetoaddress nblocks "address" ( maxtries )`},
		{name: "object argument", command: "getblocktemplate",
			want: `getblocktemplate ( {"mode":"str","capabilities":["str",...],"rules":["segwit","str",...]} )`},
		{name: "unknown", command: "nosuch", want: "help: unknown command: nosuch", contains: ""},
		{name: "wallet method", command: "getnewaddress",
			want: "help: unknown command: getnewaddress (getnewaddress is a wallet method: Cairn's wallet is the `cairn wallet` command"},
	}
	for _, test := range tests {
		got := str(t, mustCall(t, r.srv, "help", test.command))
		if !strings.HasPrefix(got, test.want) || !strings.Contains(got, test.contains) {
			t.Errorf("%q: %q, want it to start with %q and contain %q", test.name, got, test.want, test.contains)
		}
	}
	if got := str(t, mustCall(t, r.srv, "help", "nosuch")); got != "help: unknown command: nosuch" {
		t.Errorf("help nosuch: %q, want Core's answer", got)
	}
	for _, command := range []any{nil, ""} {
		if res := mustCall(t, r.srv, "help", command); str(t, res) != list {
			t.Errorf("help with command %q differs from the list", command)
		}
	}
}
