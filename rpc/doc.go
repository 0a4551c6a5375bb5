// Package rpc serves Cairn's JSON-RPC interface with Bitcoin Core's
// conventions: HTTP POST to "/", JSON-RPC 1.0 and 2.0 bodies and batches,
// HTTP Basic authentication with configured credentials or a cookie file,
// and Bitcoin Core's method names, parameters, result fields and error codes.
//
// Handlers are thin: they parse parameters, call the node through the
// interfaces this package declares ([Chain], [Generator]), and shape the
// answer. No consensus logic lives here.
package rpc
