// Package wallet is an HD wallet that sends and receives through a Cairn
// node.
//
// Keys come from a BIP39 mnemonic (BIP32, hdkeychain): BIP84 P2WPKH and
// BIP86 P2TR accounts under the network's coin type, watched up to a gap
// limit of 20 past the last used address. The wallet file seals the
// mnemonic and the wallet's history with XChaCha20-Poly1305 under an
// Argon2id key of the password (file.go).
//
// The wallet finds its coins without revealing them to the node: it
// scans each block's BIP158 filter (the node's getblockfilter) from its
// birthday and fetches only the blocks that match, remembering the hashes
// it scanned to notice a reorganization and rescan from the fork
// (scan.go). It spends with branch-and-bound coin selection and a
// largest-first fallback, signals BIP125 replaceability, and can replace
// its own pending sends with a higher fee (send.go) or work through
// BIP174 PSBTs for signing on a machine without a node (psbt.go).
package wallet
