package rpcclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeNode answers JSON-RPC requests with handle's result or error, after
// checking the credentials alice:s3cret as a node does.
func fakeNode(t *testing.T, handle func(req map[string]json.RawMessage) (result any, rerr *Error)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "alice" || pass != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		var req map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		result, rerr := handle(req)
		status := http.StatusOK
		if rerr != nil {
			status = http.StatusInternalServerError // as Bitcoin Core does
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"result": result, "error": rerr, "id": req["id"]})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client of srv with the right credentials.
func newClient(t *testing.T, srv *httptest.Server, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(Config{URL: srv.URL + "/", User: "alice", Password: "s3cret", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCallDecodesResult ensures a call sends a JSON-RPC 1.0 request with
// its method and positional parameters and decodes the result.
func TestCallDecodesResult(t *testing.T) {
	var got map[string]json.RawMessage
	srv := fakeNode(t, func(req map[string]json.RawMessage) (any, *Error) {
		got = req
		return map[string]any{"blocks": 42, "chain": "regtest"}, nil
	})
	c := newClient(t, srv, 0)
	var info struct {
		Blocks int    `json:"blocks"`
		Chain  string `json:"chain"`
	}
	if err := c.Call(context.Background(), "getblockchaininfo", &info, 7, "x"); err != nil {
		t.Fatal(err)
	}
	if info.Blocks != 42 || info.Chain != "regtest" {
		t.Fatalf("decoded %+v", info)
	}
	if string(got["jsonrpc"]) != `"1.0"` || string(got["method"]) != `"getblockchaininfo"` || string(got["params"]) != `[7,"x"]` {
		t.Fatalf("request %s %s %s", got["jsonrpc"], got["method"], got["params"])
	}
	// No parameters are an empty array, not null.
	if err := c.Call(context.Background(), "getblockcount", nil); err != nil || string(got["params"]) != `[]` {
		t.Fatalf("no parameters: %v, sent %s", err, got["params"])
	}
	// Named parameters go as an object.
	raw, err := c.RawRequest(context.Background(), "getblockhash", map[string]any{"height": 1})
	if err != nil || string(got["params"]) != `{"height":1}` {
		t.Fatalf("named parameters: %v, sent %s", err, got["params"])
	}
	if string(raw) != `{"blocks":42,"chain":"regtest"}` {
		t.Fatalf("raw result %s", raw)
	}
}

// TestCallNullResult ensures a null result decodes to nil and comes raw as
// null.
func TestCallNullResult(t *testing.T) {
	srv := fakeNode(t, func(map[string]json.RawMessage) (any, *Error) { return nil, nil })
	c := newClient(t, srv, 0)
	out := &struct{ Size int }{Size: 1}
	if err := c.Call(context.Background(), "gettxout", &out); err != nil || out != nil {
		t.Fatalf("null into a pointer: %v, %+v", err, out)
	}
	if err := c.Call(context.Background(), "stop", nil); err != nil {
		t.Fatalf("null discarded: %v", err)
	}
	raw, err := c.RawRequest(context.Background(), "gettxout", []any{"00", 0})
	if err != nil || string(raw) != "null" {
		t.Fatalf("raw null: %s, %v", raw, err)
	}
}

// TestCallRPCError ensures the node's error comes back as an *Error with
// its code and message, found by errors.As through wrapping, in the
// node's own text.
func TestCallRPCError(t *testing.T) {
	srv := fakeNode(t, func(map[string]json.RawMessage) (any, *Error) {
		return nil, &Error{Code: -8, Message: "Block height out of range"}
	})
	c := newClient(t, srv, 0)
	var hash string
	err := c.Call(context.Background(), "getblockhash", &hash, 99)
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Code != -8 || rerr.Message != "Block height out of range" {
		t.Fatalf("error %#v", err)
	}
	if err.Error() != "Block height out of range (code -8)" {
		t.Fatalf("text %q", err.Error())
	}
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.As(wrapped, &rerr) {
		t.Fatal("errors.As does not find a wrapped *Error")
	}
	if _, err := c.RawRequest(context.Background(), "getblockhash", nil); !errors.As(err, &rerr) {
		t.Fatalf("raw request: %v", err)
	}
}

// TestCallUnauthorized ensures HTTP 401 is an error that says the node
// refused the credentials, and that errors.Is recognizes.
func TestCallUnauthorized(t *testing.T) {
	srv := fakeNode(t, func(map[string]json.RawMessage) (any, *Error) { return 1, nil })
	c, err := New(Config{URL: srv.URL, User: "alice", Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Call(context.Background(), "getblockcount", nil)
	var herr *HTTPError
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &herr) || herr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("error %#v", err)
	}
	if want := "the node at " + srv.URL + " refused the RPC credentials"; !strings.Contains(err.Error(), want) {
		t.Fatalf("text %q, want %q in it", err.Error(), want)
	}
	// No credentials at all: the same.
	anon, _ := New(Config{URL: srv.URL})
	if err := anon.Call(context.Background(), "getblockcount", nil); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("without credentials: %v", err)
	}
}

// TestCallUnreadableAnswer ensures an answer that is not JSON-RPC names
// the HTTP status and quotes the body, and is no 401.
func TestCallUnreadableAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"proxy page", "<html>Bad Gateway</html>", http.StatusBadGateway, "(HTTP 502): <html>Bad Gateway</html>"},
		{"empty", "", http.StatusOK, "(HTTP 200, empty body)"},
		{"not JSON-RPC", `{"hello":1}`, http.StatusOK, `(HTTP 200): {"hello":1}`},
		{"long", strings.Repeat("x", 2000), http.StatusInternalServerError, strings.Repeat("x", maxBodyInError) + "..."},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		}))
		c, _ := New(Config{URL: srv.URL})
		err := c.Call(context.Background(), "getblockcount", nil)
		srv.Close()
		var herr *HTTPError
		if !errors.As(err, &herr) || herr.StatusCode != tc.status || errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: error %#v", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), "unreadable answer from "+srv.URL+" to getblockcount") || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: text %q, want it to end in %q", tc.name, err.Error(), tc.want)
		}
	}
}

// TestCallResultDoesNotDecode ensures a result of the wrong type is a
// ResultError naming the method.
func TestCallResultDoesNotDecode(t *testing.T) {
	srv := fakeNode(t, func(map[string]json.RawMessage) (any, *Error) { return "not a number", nil })
	c := newClient(t, srv, 0)
	var n int
	err := c.Call(context.Background(), "getblockcount", &n)
	var derr *ResultError
	if !errors.As(err, &derr) || derr.Method != "getblockcount" || !strings.Contains(err.Error(), "the result of getblockcount") {
		t.Fatalf("error %#v", err)
	}
}

// TestCallTimeout ensures a node that does not answer within the timeout
// fails the call with a TransportError saying so, and that a cancelled
// context ends a call at once.
func TestCallTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })

	c := newClient(t, srv, 100*time.Millisecond)
	start := time.Now()
	err := c.Call(context.Background(), "getblocktemplate", nil)
	var terr *TransportError
	if !errors.As(err, &terr) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %#v", err)
	}
	if want := "cannot reach the node at " + srv.URL + "/: no answer to getblocktemplate within 100ms"; err.Error() != want {
		t.Fatalf("text %q, want %q", err.Error(), want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the call took %v", d)
	}

	// The caller's context: cancelled while the call waits.
	c = newClient(t, srv, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	err = c.Call(ctx, "getblocktemplate", nil)
	if !errors.As(err, &terr) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %#v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the cancelled call took %v", d)
	}
	// Already cancelled: no request.
	if err := c.Call(ctx, "getblockcount", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
}

// TestCallUnreachable ensures a closed port is a TransportError naming the
// address.
func TestCallUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Config{Host: addr, User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if c.URL() != "http://"+addr+"/" {
		t.Fatalf("URL %q", c.URL())
	}
	err = c.Call(context.Background(), "getblockcount", nil)
	var terr *TransportError
	if !errors.As(err, &terr) || terr.Method != "getblockcount" {
		t.Fatalf("error %#v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "cannot reach the node at http://"+addr+"/: ") || strings.Contains(msg, "Post ") {
		t.Fatalf("text %q", msg)
	}
}

// TestMaxResponseSize ensures an answer larger than the limit is refused
// rather than cut.
func TestMaxResponseSize(t *testing.T) {
	srv := fakeNode(t, func(map[string]json.RawMessage) (any, *Error) { return strings.Repeat("a", 1000), nil })
	c, err := New(Config{URL: srv.URL, User: "alice", Password: "s3cret", MaxResponseSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), "getblock", nil); err == nil || !strings.Contains(err.Error(), "exceeds 500 bytes") {
		t.Fatalf("error %v", err)
	}
}

// TestNew ensures New takes a URL or a host:port, one of them, and
// nothing that is not an HTTP address.
func TestNew(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{URL: "http://127.0.0.1:1/", Host: "127.0.0.1:1"},
		{URL: "127.0.0.1:8332"},
		{URL: "ftp://127.0.0.1/"},
		{URL: "http:///"},
		{Host: "127.0.0.1:1/x y"},
		{Host: "127.0.0.1"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	for _, cfg := range []Config{{URL: "http://127.0.0.1:8332/"}, {URL: "https://node.example:443/rpc"}, {Host: "[::1]:8332"}} {
		if _, err := New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}

// TestReadCookie ensures the cookie file's user:password reads back, and
// that a malformed file is an error naming it.
func TestReadCookie(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, ".cookie")
	if err := os.WriteFile(good, []byte("__cookie__:abc:def\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if user, pass, err := ReadCookie(good); err != nil || user != "__cookie__" || pass != "abc:def" {
		t.Fatalf("ReadCookie: %q %q %v", user, pass, err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("nocolon"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadCookie(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("malformed: %v", err)
	}
	if _, _, err := ReadCookie(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}
