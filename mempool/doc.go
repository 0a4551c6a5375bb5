// Package mempool holds valid unconfirmed transactions for relay and mining (issue 5).
//
// The package is not built yet; it only reserves its place in the layout.
package mempool
