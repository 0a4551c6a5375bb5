// Package wallet is an HD wallet that sends and receives through a Cairn node (issue 7).
//
// The package is not built yet; it only reserves its place in the layout.
package wallet
