package rpcclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds a call when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// DefaultMaxResponseSize bounds an answer's body when
// Config.MaxResponseSize is zero.
const DefaultMaxResponseSize = 64 << 20

// Config says which node a Client calls and how.
type Config struct {
	// URL is the node's JSON-RPC endpoint, such as
	// http://127.0.0.1:8332/. Give it or Host.
	URL string
	// Host is the node's RPC address, host:port, called over plain HTTP
	// at path /. Give it or URL.
	Host string
	// User and Password are sent with HTTP basic authentication when
	// either is set: fixed credentials, or those of the node's cookie
	// file (see ReadCookie).
	User, Password string
	// Timeout bounds each call, from sending the request to reading the
	// whole answer, within the caller's context. Zero means
	// DefaultTimeout; a negative value leaves the context as the only
	// bound.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a client of Go's default
	// transport (which keeps connections for reuse).
	HTTPClient *http.Client
	// MaxResponseSize bounds an answer's body in bytes; zero means
	// DefaultMaxResponseSize.
	MaxResponseSize int64
}

// Request is a JSON-RPC 1.0 request as the client sends it.
type Request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	// Params are the positional parameters (an array) or the named ones
	// (an object).
	Params any `json:"params"`
}

// Response is a JSON-RPC response: a result, or an error.
type Response struct {
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// Client calls one node's JSON-RPC methods. It is safe for concurrent use.
type Client struct {
	url            string
	user, password string
	timeout        time.Duration
	maxResponse    int64
	http           *http.Client
	lastID         atomic.Uint64
}

// New returns a client for the node cfg names. It fails only on a
// malformed address; whether the node answers shows at the first call.
func New(cfg Config) (*Client, error) {
	endpoint := cfg.URL
	switch {
	case cfg.URL != "" && cfg.Host != "":
		return nil, fmt.Errorf("rpcclient: both a URL (%s) and a host (%s) given; give one", cfg.URL, cfg.Host)
	case cfg.URL == "" && cfg.Host == "":
		return nil, errors.New("rpcclient: no node address (give a URL or a host:port)")
	case cfg.Host != "":
		if _, _, err := net.SplitHostPort(cfg.Host); err != nil || strings.ContainsAny(cfg.Host, "/?#@ ") {
			return nil, fmt.Errorf("rpcclient: %q is not a host:port address", cfg.Host)
		}
		endpoint = "http://" + cfg.Host + "/"
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rpcclient: %q is not a node address (want host:port or http://host:port/)", endpoint)
	}
	c := &Client{url: endpoint, user: cfg.User, password: cfg.Password, timeout: cfg.Timeout,
		maxResponse: cfg.MaxResponseSize, http: cfg.HTTPClient}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxResponse <= 0 {
		c.maxResponse = DefaultMaxResponseSize
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	return c, nil
}

// URL returns the endpoint the client calls.
func (c *Client) URL() string { return c.url }

// Call runs method with positional params and decodes its result into
// result, which must be a pointer, or nil to discard the result. A null
// result leaves a non-pointer value as it was and sets a pointer, map,
// slice or interface to nil, as encoding/json does.
func (c *Client) Call(ctx context.Context, method string, result any, params ...any) error {
	if params == nil {
		params = []any{}
	}
	raw, err := c.do(ctx, method, params)
	if err != nil || result == nil {
		return err
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return &ResultError{URL: c.url, Method: method, Err: err}
	}
	return nil
}

// RawRequest runs method and returns its result as the node wrote it
// ("null" for no result). params are sent as they marshal: a slice for
// positional parameters, a map or struct for named ones, or nil for none.
func (c *Client) RawRequest(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	return c.do(ctx, method, params)
}

// do posts one request and returns the result of its answer.
func (c *Client) do(ctx context.Context, method string, params any) (json.RawMessage, error) {
	body, err := json.Marshal(Request{JSONRPC: "1.0", ID: c.lastID.Add(1), Method: method, Params: params})
	if err != nil {
		return nil, fmt.Errorf("rpcclient: the parameters of %s do not encode as JSON: %w", method, err)
	}
	callCtx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("rpcclient: %w", err)
	}
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, callCtx, method, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, &HTTPError{URL: c.url, Method: method, StatusCode: resp.StatusCode}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResponse+1))
	if err != nil {
		return nil, c.transportError(ctx, callCtx, method, err)
	}
	if int64(len(raw)) > c.maxResponse {
		return nil, fmt.Errorf("rpcclient: the answer of %s from %s exceeds %d bytes", method, c.url, c.maxResponse)
	}
	var out Response
	err = json.Unmarshal(raw, &out)
	if err == nil && out.Error == nil && len(out.Result) == 0 {
		err = errors.New("neither a result nor an error")
	}
	if err != nil {
		return nil, &HTTPError{URL: c.url, Method: method, StatusCode: resp.StatusCode,
			Body: raw[:min(len(raw), maxBodyInError+1)], Err: err}
	}
	if out.Error != nil {
		return nil, out.Error
	}
	return out.Result, nil
}

// transportError describes a call that got no answer: the caller's
// context ended, the client's timeout passed, or the connection failed.
func (c *Client) transportError(ctx, callCtx context.Context, method string, err error) error {
	// url.Error repeats the method and the URL the TransportError names.
	if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
		err = uerr.Err
	}
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.Is(callCtx.Err(), context.DeadlineExceeded):
		err = &timeoutError{method: method, limit: c.timeout}
	}
	return &TransportError{URL: c.url, Method: method, Err: err}
}
