package rpcclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is a JSON-RPC error the node answered with: Bitcoin Core's code
// (such as -8 for an invalid parameter or -26 for a transaction the
// mempool refused) and its message.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error implements error: the message followed by the code, as the node
// writes its errors.
func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// TransportError is a call that got no answer: the connection was refused
// or broke, the client's timeout passed, or the caller's context ended.
// Unwrap gives the cause, so errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, context.Canceled) work through it.
type TransportError struct {
	// URL is the endpoint called.
	URL string
	// Method is the JSON-RPC method called.
	Method string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *TransportError) Error() string {
	return fmt.Sprintf("cannot reach the node at %s: %v", e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// timeoutError is the cause of a TransportError when the client's own
// timeout passed.
type timeoutError struct {
	method string
	limit  time.Duration
}

// Error implements error.
func (e *timeoutError) Error() string {
	return fmt.Sprintf("no answer to %s within %v", e.method, e.limit)
}

// Timeout reports true, as net.Error's Timeout does.
func (e *timeoutError) Timeout() bool { return true }

// Is makes errors.Is(err, context.DeadlineExceeded) hold.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// ErrUnauthorized is what errors.Is finds in the error of a call the node
// refused for its credentials (HTTP 401).
var ErrUnauthorized = errors.New("the node refused the RPC credentials")

// maxBodyInError bounds how much of an unreadable answer an HTTPError
// quotes.
const maxBodyInError = 512

// HTTPError is an answer that is not a JSON-RPC response: the node refused
// the credentials (HTTP 401), or something other than a Cairn node
// answered.
type HTTPError struct {
	// URL is the endpoint called.
	URL string
	// Method is the JSON-RPC method called.
	Method string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Body is the start of the answer's body.
	Body []byte
	// Err is why the body does not decode as JSON-RPC; nil for HTTP 401,
	// whose body is not read.
	Err error
}

// Error implements error.
func (e *HTTPError) Error() string {
	if e.StatusCode == http.StatusUnauthorized {
		return fmt.Sprintf("the node at %s refused the RPC credentials (HTTP 401)", e.URL)
	}
	body := bytes.TrimSpace(e.Body)
	if len(body) == 0 {
		return fmt.Sprintf("unreadable answer from %s to %s (HTTP %d, empty body)", e.URL, e.Method, e.StatusCode)
	}
	quoted := strings.ToValidUTF8(string(body[:min(len(body), maxBodyInError)]), "\uFFFD")
	if len(body) > maxBodyInError {
		quoted += "..."
	}
	return fmt.Sprintf("unreadable answer from %s to %s (HTTP %d): %s", e.URL, e.Method, e.StatusCode, quoted)
}

// Unwrap returns why the body does not decode.
func (e *HTTPError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnauthorized) hold for HTTP 401.
func (e *HTTPError) Is(target error) bool {
	return target == ErrUnauthorized && e.StatusCode == http.StatusUnauthorized
}

// ResultError is a result that does not decode into the value the caller
// gave for it.
type ResultError struct {
	// URL is the endpoint called.
	URL string
	// Method is the JSON-RPC method called.
	Method string
	// Err is the decoding error.
	Err error
}

// Error implements error.
func (e *ResultError) Error() string {
	return fmt.Sprintf("the result of %s from %s does not decode: %v", e.Method, e.URL, e.Err)
}

// Unwrap returns the decoding error.
func (e *ResultError) Unwrap() error { return e.Err }
