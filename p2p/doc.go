// Package p2p connects Cairn nodes over libp2p (SPEC section 7): a host with
// a persistent identity on TCP and QUIC with Noise and yamux, a status
// handshake that drops peers of another network or genesis, GossipSub
// topics for blocks and transactions whose validators run the node's full
// checks before anything is forwarded, and a request/response stream that
// lets a node behind fetch the blocks it lacks by block locator.
//
// Invalid data is rejected (and so penalized by GossipSub's peer scoring);
// blocks with unknown parents and duplicates are ignored, never rejected,
// and an unknown parent starts a sync with the sender.
package p2p
