// Package miner builds block templates on the best tip and searches their
// proof of work.
//
// This first part serves RPC block generation (generatetoaddress,
// generateblock): [NewTemplate] assembles a valid block (BIP34 coinbase,
// witness commitment, subsidy plus fees) and [Generator] solves and submits
// it. The multi-core nonce search of `cairn node --mine` builds on the same
// template code. The nonce search itself (the midstate kernel, Solve,
// Benchmark) is package miner/pow, which clients of the node use too.
package miner
