// Package testnet starts and controls a network of real cairn node
// processes on this machine (cairn testnet): a fresh chain spec whose
// starting difficulty is measured here, nodes on loopback with their own
// folders, ports and wallets, partitions made of bans, kills and restarts,
// and narrated scenarios that show what Nakamoto consensus does.
package testnet
