// Package rpc serves Cairn's JSON-RPC interface with Bitcoin Core's
// conventions: HTTP POST to "/", JSON-RPC 1.0 and 2.0 bodies and batches,
// HTTP Basic authentication with configured credentials or a cookie file,
// and Bitcoin Core's method names, parameters, result fields and error codes.
//
// Handlers are thin: they parse parameters, call the node through the
// interfaces this package declares, and shape the answer. No consensus
// logic lives here. The interfaces, given in [Config], and what implements
// them in the node:
//
//   - [Chain], the block chain: *chain.BlockChain.
//   - [Mempool], the transaction pool: *mempool.TxPool.
//   - [Network], the peer-to-peer node: cmd/cairn's adapter of *p2p.Node.
//   - [Generator], block generation and templates: cmd/cairn's adapter of
//     the miner package.
//   - [MiningStats], the local miner: *miner.Miner.
//
// The package imports none of the networking code: the adapters convert
// the p2p package's peers, bans and errors to this package's [PeerInfo],
// [Ban] and errors.
//
// Handlers are grouped in files by the categories of Bitcoin Core's help:
// blockchain.go, control.go, generating.go, mining.go, network.go,
// rawtx.go (rawtransactions) and util.go, with the pool's methods of any
// category in mempoolrpc.go.
package rpc
