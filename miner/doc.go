// Package miner builds block templates and searches nonces on every core (issue 4).
//
// The package is not built yet; it only reserves its place in the layout.
package miner
