// Package rpcclient calls a Cairn node's JSON-RPC interface over HTTP: the
// client that cairn rpc, the wallet and the local testnet share.
//
// A [Client] posts one JSON-RPC 1.0 request per call with HTTP basic
// authentication (fixed credentials, or the node's cookie file read with
// [ReadCookie]) and decodes the answer. Every call takes a context and is
// bounded by the client's timeout.
//
// A call fails with one of four kinds of error, each of which errors.As
// finds through any wrapping:
//
//   - [*Error]: the node answered with a JSON-RPC error (its code and
//     message, as Bitcoin Core's are);
//   - [*TransportError]: no answer arrived (no connection, a broken one,
//     the timeout, or the context ended);
//   - [*HTTPError]: the answer is not JSON-RPC; errors.Is(err,
//     [ErrUnauthorized]) tells the node refused the credentials (HTTP 401);
//   - [*ResultError]: the result does not decode into the value given.
//
// The package is a leaf: it knows nothing of the node's own packages, so
// that any command or tool can use it without building the node.
package rpcclient
