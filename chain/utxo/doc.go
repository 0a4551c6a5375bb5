// Package utxo holds the set of unspent transaction outputs: the [Entry]
// type and its encoding, the [Backend] that stores entries (goleveldb through
// chain/internal/store), a [Cache] bounded in bytes that sits in front of the
// backend, and the per-block [View] that collects one block's changes so
// that a failed block leaves the cache untouched.
//
// The cache writes its dirty entries into a batch supplied by the caller
// ([Cache.Flush]); the chain adds its own records (best state, undo data,
// indexes) to the same batch, so that the UTXO set on disk always matches the
// tip recorded beside it.
package utxo
