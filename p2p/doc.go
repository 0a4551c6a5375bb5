// Package p2p connects Cairn nodes over libp2p: gossip, sync and peer scoring (issue 6).
//
// The package is not built yet; it only reserves its place in the layout.
package p2p
