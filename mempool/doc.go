// Package mempool holds valid unconfirmed transactions: it accepts them
// against the UTXO set plus the pool itself (chains of unconfirmed
// transactions), applies Bitcoin Core's standardness policy and replacement
// rules, keeps transactions whose parents are unknown in a bounded orphan
// pool, follows the chain's connected and disconnected blocks, evicts by
// descendant fee rate when full, and saves itself across restarts. The
// standardness rules and limits themselves, which need no chain or pool
// state, are in package [policy].
//
// It reads chain state through the [Chain] interface and shares the chain's
// signature and script caches, so that a transaction verified here is not
// verified again when its block connects.
//
// # Errors
//
// Rejections are [RejectError] values carrying Bitcoin Core's reject reason
// ("min relay fee not met", "dust", "insufficient fee", a consensus reason
// such as "bad-txns-in-belowout", ...) and a [RejectCode] that says whether
// the transaction was invalid, non-standard, underpaying, a duplicate, or is
// missing inputs.
package mempool
