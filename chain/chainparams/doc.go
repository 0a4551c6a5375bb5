// Package chainparams defines Cairn's networks: the built-in main, test and
// regtest networks with their hard-coded genesis blocks, and custom networks
// read from a chain-spec JSON file (SPEC section 2).
//
// A [Network] wraps the consensus rules ([consensus.Params]) with what is not
// consensus: its name, address encodings, HD coin type, default ports and
// discovery defaults.
package chainparams
