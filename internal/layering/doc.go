// Package layering holds the module's import-rule tests and nothing else:
// they ask go list for the import graph of the module's packages and fail,
// naming the offending import and the chain of imports that pulls it in,
// when a package depends on what its layer must not (for instance the RPC
// server on the networking code, or the wallet on the node's packages).
package layering
