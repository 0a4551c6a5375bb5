// Package consensus holds Cairn's pure consensus functions: proof-of-work and
// target math, ASERT difficulty, merkle roots, subsidy, transaction finality,
// sigop counting and the context-free sanity checks of blocks and
// transactions; and amounts as text ([ParseCoins], [FormatCoins]), exact to
// the base unit.
//
// Nothing here does IO, reads a clock or keeps state: every function gets all
// it needs as arguments, so the rules can be tested in isolation and shared by
// the chain, the mempool, the miner and the peer-to-peer validators.
//
// # Errors
//
// Rule violations are [RuleError] values that wrap an [ErrorKind]; test them
// with errors.Is(err, ErrBadMerkleRoot). Each kind maps to exactly one of
// Bitcoin Core's reject reasons (see [ErrorKind.RejectReason]).
package consensus
