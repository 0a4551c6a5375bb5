// Package testnet starts and controls a local network of cairn nodes (issue 8).
//
// The package is not built yet; it only reserves its place in the layout.
package testnet
