package rpc

import (
	"strings"
	"testing"
)

// TestMethodTable ensures the server offers exactly Bitcoin Core's method
// names for its calls, with Core's parameter names in Core's order.
func TestMethodTable(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	want := map[string][]string{
		"getblockchaininfo":     nil,
		"getblockcount":         nil,
		"getbestblockhash":      nil,
		"getblockhash":          {"height"},
		"getblock":              {"blockhash", "verbosity|verbose"},
		"getblockheader":        {"blockhash", "verbose"},
		"getblockfilter":        {"blockhash", "filtertype"},
		"getchaintips":          nil,
		"getdifficulty":         nil,
		"gettxout":              {"txid", "n", "include_mempool"},
		"gettxoutsetinfo":       {"hash_type"},
		"gettxoutproof":         {"txids", "blockhash"},
		"getblockstats":         {"hash_or_height", "stats"},
		"verifytxoutproof":      {"proof"},
		"getrawtransaction":     {"txid", "verbosity|verbose", "blockhash"},
		"decoderawtransaction":  {"hexstring", "iswitness"},
		"decodescript":          {"hexstring"},
		"validateaddress":       {"address"},
		"submitblock":           {"hexdata", "dummy"},
		"submitheader":          {"hexdata"},
		"generatetoaddress":     {"nblocks", "address", "maxtries"},
		"generateblock":         {"output", "transactions", "submit"},
		"invalidateblock":       {"blockhash"},
		"reconsiderblock":       {"blockhash"},
		"pruneblockchain":       {"height"},
		"getindexinfo":          {"index_name"},
		"getnetworkinfo":        nil,
		"getconnectioncount":    nil,
		"getpeerinfo":           nil,
		"setban":                {"subnet", "command", "bantime", "absolute"},
		"listbanned":            nil,
		"addnode":               {"node", "command"},
		"getaddednodeinfo":      {"node"},
		"disconnectnode":        {"address", "nodeid"},
		"setnetworkactive":      {"state"},
		"clearbanned":           nil,
		"getmininginfo":         nil,
		"getnetworkhashps":      {"nblocks", "height"},
		"getblocktemplate":      {"template_request"},
		"sendrawtransaction":    {"hexstring", "maxfeerate"},
		"testmempoolaccept":     {"rawtxs", "maxfeerate"},
		"getrawmempool":         {"verbose", "mempool_sequence"},
		"getmempoolentry":       {"txid"},
		"getmempoolinfo":        nil,
		"getmempoolancestors":   {"txid", "verbose"},
		"getmempooldescendants": {"txid", "verbose"},
		"estimatesmartfee":      {"conf_target", "estimate_mode"},
		"uptime":                nil,
		"stop":                  nil,
		"help":                  {"command"},
	}
	// wantRequired counts each method's required parameters (Core's, and
	// Cairn's for disconnectnode's address).
	wantRequired := map[string]int{
		"getblockhash": 1, "getblock": 1, "getblockheader": 1, "getblockfilter": 1, "gettxout": 2, "gettxoutproof": 1, "verifytxoutproof": 1, "getblockstats": 1,
		"getrawtransaction": 1, "decoderawtransaction": 1, "decodescript": 1, "validateaddress": 1,
		"submitblock": 1, "submitheader": 1, "generatetoaddress": 2, "generateblock": 2,
		"sendrawtransaction": 1, "testmempoolaccept": 1, "getmempoolentry": 1, "getmempoolancestors": 1,
		"getmempooldescendants": 1, "estimatesmartfee": 1, "invalidateblock": 1, "reconsiderblock": 1, "pruneblockchain": 1,
		"setban": 2, "addnode": 2, "disconnectnode": 1, "setnetworkactive": 1,
	}
	for name, params := range want {
		h, ok := s.handlers[name]
		if !ok {
			t.Errorf("method %s missing", name)
			continue
		}
		// A parameter with aliases is written as Core writes it,
		// "verbosity|verbose".
		var got []string
		for _, names := range h.params {
			got = append(got, strings.Join(names, "|"))
		}
		if strings.Join(got, ",") != strings.Join(params, ",") {
			t.Errorf("%s: params %v, want %v", name, got, params)
		}
		if h.doc == nil {
			t.Errorf("%s: no help", name)
		}
		if h.required != wantRequired[name] {
			t.Errorf("%s: %d required parameters, want %d", name, h.required, wantRequired[name])
		}
	}
	for name := range s.handlers {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected method %s (add it to this test)", name)
		}
	}
}
