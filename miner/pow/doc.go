// Package pow searches proof of work: a midstate double SHA-256 kernel
// (SHA-NI where the CPU has it) that hashes a header for many nonces, a
// fast target comparison, [Solve] for one block on every core, and
// [Benchmark] for the machine's rate.
//
// It depends only on chain/consensus, so clients of the node (the
// testnet, which mines its genesis blocks) use it without the miner's
// templates and the chain behind them.
package pow
