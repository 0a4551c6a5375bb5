// Package chain validates blocks and transactions, maintains the UTXO set and
// selects the best chain by cumulative work. It does no network IO; callers
// hand it blocks and headers ([BlockChain.ProcessBlock],
// [BlockChain.ProcessHeaders]) and learn about connected and disconnected
// blocks through [BlockChain.Subscribe].
//
// # Validation tiers
//
// A block passes, in order: the context-free checks of package consensus
// (CheckBlockSanity), the header checks that need its ancestors (difficulty,
// median time past, future time, version), the block checks that need its
// height and parent (finality, BIP34, witness commitment, weight), and
// finally the checks that need the UTXO set (inputs, maturity, amounts,
// sequence locks, sigops, scripts) when it is connected.
//
// # Storage and crash safety
//
// One goleveldb database holds the block index, block data, undo data, the
// UTXO set, the optional transaction and BIP158 block filter indexes and the
// tip. Accepted blocks are written at once; the UTXO changes of connected
// blocks collect in a cache bounded in bytes and reach the disk in one atomic
// batch together with their undo data, index entries and the tip they belong
// to. After a crash the database therefore holds a consistent state at some
// earlier tip, and the stored blocks above it are connected again on
// start-up.
//
// # Fork choice
//
// The valid chain with the most cumulative work wins; among equal work, the
// one whose tip arrived first. Side chains are stored, a heavier one of any
// depth triggers a reorganization, and a block that fails on connection is
// marked invalid with its descendants before the node returns to the best
// valid chain.
//
// # Errors
//
// Rule violations are consensus.RuleError values; test them with
// errors.Is(err, ErrBadMerkleRoot) and turn them into Bitcoin Core's reject
// reasons with [RejectReason].
package chain
