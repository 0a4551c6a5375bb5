// Package electrum serves the Electrum protocol (versions 1.4 to 1.4.2, as
// ElectrumX documents it) from the node itself, so that Electrum, Sparrow
// and other wallets that speak it work against a Cairn node without a
// second indexer beside it.
//
// Clients send newline-delimited JSON-RPC 2.0 over plain TCP or TLS. The
// confirmed part of every answer comes from the chain's address index
// (chain.AddrView, one consistent view per answer); the unconfirmed part
// from an index of the transaction pool that the server keeps by following
// the pool's sequence number, as ElectrumX follows bitcoind's pool.
//
// Sessions are budgeted as ElectrumX budgets them: each request has a cost,
// the cost decays with time, a session over the soft limit is slowed down
// and one over the hard limit is disconnected. Lines, batches, pending
// notifications, subscriptions per session and in all, and the number of
// sessions are bounded, so that no client can make the node hold more than
// a fixed amount for it, and a client that misbehaves loses its session,
// never the node its speed.
package electrum
