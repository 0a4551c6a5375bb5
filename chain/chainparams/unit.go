package chainparams

import "strings"

// Unit returns the symbol of the network's coin, for amounts in messages:
// "CRN" on main, "tCRN" on test, and "rCRN" on regtest and on custom
// networks that keep regtest's bech32 prefix (a local testnet's). Another
// custom network's unit comes from its bech32 prefix: what precedes a
// final "crn" followed by "CRN" ("lcrn" gives "lCRN"), or else the prefix
// upper-cased ("xyz" gives "XYZ").
func (n *Network) Unit() string {
	switch n.Name {
	case "main":
		return "CRN"
	case "test":
		return "tCRN"
	case "regtest":
		return "rCRN"
	}
	hrp := strings.ToLower(n.Bech32HRP)
	switch {
	case hrp == "":
		return "CRN"
	case strings.HasSuffix(hrp, "crn"):
		return strings.TrimSuffix(hrp, "crn") + "CRN"
	}
	return strings.ToUpper(hrp)
}
