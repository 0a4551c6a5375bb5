// Package rpc serves Bitcoin Core-compatible JSON-RPC (issue 3).
//
// The package is not built yet; it only reserves its place in the layout.
package rpc
