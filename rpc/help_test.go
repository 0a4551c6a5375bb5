package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
)

// TestHelp ensures help lists every method's call line under its Core
// category, categories and methods in alphabetical order, explains one
// method, and answers unknown ones as Core does.
func TestHelp(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	list := str(t, mustCall(t, r.srv, "help"))
	if !strings.HasPrefix(list, "== Blockchain ==\ngetbestblockhash\n") {
		t.Errorf("help list starts %q, want the Blockchain category first", list[:min(len(list), 60)])
	}
	var categories []string
	listed := map[string]string{} // method: its category heading
	for _, group := range strings.Split(list, "\n\n") {
		lines := strings.Split(group, "\n")
		heading := lines[0]
		categories = append(categories, heading)
		if !sort.StringsAreSorted(lines[1:]) {
			t.Errorf("%s: methods not sorted: %q", heading, lines[1:])
		}
		for _, line := range lines[1:] {
			name, _, _ := strings.Cut(line, " ")
			h, ok := r.srv.handlers[name]
			if !ok {
				t.Errorf("%s lists %q, which is no method", heading, line)
				continue
			}
			if line != h.usage(name) {
				t.Errorf("%s lists %q, want %q", heading, line, h.usage(name))
			}
			if _, dup := listed[name]; dup {
				t.Errorf("%s listed twice", name)
			}
			listed[name] = heading
		}
	}
	wantCategories := []string{"== Blockchain ==", "== Control ==", "== Generating ==", "== Mining ==",
		"== Network ==", "== Rawtransactions ==", "== Util =="}
	if strings.Join(categories, "|") != strings.Join(wantCategories, "|") {
		t.Errorf("help categories %q, want %q", categories, wantCategories)
	}
	if len(listed) != len(r.srv.handlers) {
		t.Errorf("help lists %d methods, want every one (%d)", len(listed), len(r.srv.handlers))
	}
	for name, heading := range map[string]string{"getblock": "== Blockchain ==", "getrawmempool": "== Blockchain ==",
		"stop": "== Control ==", "generatetoaddress": "== Generating ==", "getblocktemplate": "== Mining ==",
		"getpeerinfo": "== Network ==", "sendrawtransaction": "== Rawtransactions ==",
		"getrawtransaction": "== Rawtransactions ==", "estimatesmartfee": "== Util ==", "validateaddress": "== Util =="} {
		if listed[name] != heading {
			t.Errorf("%s is under %q, want %q as in Core", name, listed[name], heading)
		}
	}
	tests := []struct {
		name     string
		command  any
		want     string // prefix
		contains string
	}{
		{name: "getblock", command: "getblock", want: "getblock \"blockhash\" ( verbosity )\n\nIf verbosity is 0",
			contains: "\nArguments:\n1. blockhash    (string, required) The block hash\n2. verbosity    (numeric or boolean, optional, default=1)"},
		{name: "no parameters", command: "uptime", want: "uptime\n\nReturns the total uptime of the server.\n\nArguments:\nnone\n\nResult:\nn    (numeric)"},
		{name: "generatetoaddress", command: "generatetoaddress", want: `generatetoaddress nblocks "address" ( maxtries )`},
		{name: "object argument", command: "getblocktemplate",
			want: `getblocktemplate ( {"mode":"str","capabilities":["str",...],"rules":["segwit","str",...]} )`},
		{name: "unknown", command: "nosuch", want: "help: unknown command: nosuch", contains: ""},
		{name: "wallet method", command: "getnewaddress",
			want: "help: unknown command: getnewaddress (getnewaddress is a wallet method: Cairn's wallet is the `cairn wallet` command"},
	}
	for _, test := range tests {
		got := str(t, mustCall(t, r.srv, "help", test.command))
		if !strings.HasPrefix(got, test.want) || !strings.Contains(got, test.contains) {
			t.Errorf("%q: %q, want it to start with %q and contain %q", test.name, got, test.want, test.contains)
		}
	}
	if got := str(t, mustCall(t, r.srv, "help", "nosuch")); got != "help: unknown command: nosuch" {
		t.Errorf("help nosuch: %q, want Core's answer", got)
	}
	for _, command := range []any{nil, ""} {
		if res := mustCall(t, r.srv, "help", command); str(t, res) != list {
			t.Errorf("help with command %q differs from the list", command)
		}
	}
}

// TestHelpSections ensures every method has help with Core's sections: the
// call line (the usage that errors print), a description, Arguments (or
// "none"), at least one Result, and Examples calling the method with cairn
// rpc and with curl at the regtest node's default RPC port.
func TestHelpSections(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	port := chainparams.Regtest().RPCPort
	for name, h := range s.handlers {
		if h.doc == nil {
			t.Errorf("%s: no help", name)
			continue
		}
		text := str(t, mustCall(t, s, "help", name))
		arguments := strings.Index(text, "\n\nArguments:\n")
		result := strings.Index(text, "\n\nResult")
		examples := strings.Index(text, "\n\nExamples:\n")
		if arguments < 0 || result < arguments || examples < result {
			t.Errorf("%s: help lacks Arguments, Result and Examples in that order:\n%s", name, text)
			continue
		}
		callLine, desc, _ := strings.Cut(text[:arguments], "\n\n")
		if callLine != h.usage(name) || strings.TrimSpace(desc) == "" {
			t.Errorf("%s: help starts %q, want the call line %q and a description", name, text[:arguments], h.usage(name))
		}
		args := text[arguments+len("\n\nArguments:\n") : result]
		if len(h.params) == 0 && args != "none" {
			t.Errorf("%s: Arguments %q, want none", name, args)
		}
		for i, names := range h.params {
			p := names[0] // help shows a parameter by its first name
			line := regexp.MustCompile(fmt.Sprintf(`(?m)^%d\. %s +\([a-z ]+, (required|optional)[,)]`, i+1, regexp.QuoteMeta(p)))
			if !line.MatchString(args) {
				t.Errorf("%s: Arguments lack %d. %s with its type and whether it is required:\n%s", name, i+1, p, args)
			}
		}
		if h.required > 0 && !strings.Contains(args, fmt.Sprintf("%d. %s", h.required, h.params[h.required-1][0])) {
			t.Errorf("%s: the last required argument is not listed", name)
		}
		for _, r := range h.doc.results {
			if !strings.Contains(text[result:examples+1], "\n"+firstResultLine(&r)) {
				t.Errorf("%s: Result lacks %q", name, firstResultLine(&r))
			}
		}
		ex := text[examples+len("\n\nExamples:\n"):]
		cli := "> cairn rpc --network regtest " + name
		curl := fmt.Sprintf(`"method": "%s", "params": [`, name)
		if !strings.Contains(ex, cli) || !strings.Contains(ex, "> curl ") || !strings.Contains(ex, curl) ||
			!strings.Contains(ex, fmt.Sprintf("http://127.0.0.1:%d/", port)) {
			t.Errorf("%s: Examples lack %q and a curl call to port %d:\n%s", name, cli, port, ex)
		}
		for _, e := range h.doc.examples {
			if e.kind == exampleRPC && !json.Valid([]byte("["+e.text+"]")) {
				t.Errorf("%s: curl example's params [%s] are not JSON", name, e.text)
			}
		}
	}
}

// firstResultLine is the first line of a top-level result in help.
func firstResultLine(r *resultDoc) string {
	var s sections
	s.pushResult(r, outerNone, 0)
	return strings.SplitN(s.String(), "\n", 2)[0]
}

// TestHelpArguments spot-checks help against the handlers: what it says of
// the arguments of a few methods, and that each documented default is the
// handler's (a call without the argument answers as one with its default).
func TestHelpArguments(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	helpOf := func(method string) string { return str(t, mustCall(t, r.srv, "help", method)) }
	texts := []struct{ method, want string }{
		{"getblock", `getblock "blockhash" ( verbosity )`},
		{"getblock", "1. blockhash    (string, required) The block hash"},
		{"getblock", "2. verbosity    (numeric or boolean, optional, default=1) 0 for hex-encoded data, 1 for a JSON object"},
		{"getblock", "Result (for verbosity = 1):\n{"},
		{"getblockhash", "getblockhash height\n"},
		{"getblockhash", "1. height    (numeric, required) The height index"},
		{"getblockhash", "Result:\n\"hex\"    (string) The block hash"},
		{"gettxout", `3. include_mempool    (boolean, optional, default=true)`},
		{"getrawtransaction", `getrawtransaction "txid" ( verbosity "blockhash" )`},
		{"getrawtransaction", `2. verbosity    (numeric or boolean, optional, default=0)`},
		{"generatetoaddress", fmt.Sprintf("3. maxtries    (numeric, optional, default=%d)", defaultMaxTries)},
		{"sendrawtransaction", `2. maxfeerate    (numeric or string, optional, default="0.10")`},
		{"getnetworkhashps", "1. nblocks    (numeric, optional, default=120)"},
		{"setban", "1. subnet      (string, required) The IP/Subnet (see getpeerinfo for nodes IP) with an optional netmask"},
		{"getpeerinfo", `"gossip_score" : n,`},
	}
	for _, test := range texts {
		if got := helpOf(test.method); !strings.Contains(got, test.want) {
			t.Errorf("help %s lacks %q:\n%s", test.method, test.want, got)
		}
	}

	// Every literal default of these read-only calls, given explicitly,
	// gives the answer of the call without it.
	calls := []struct {
		method string
		lead   []any // the arguments before the optional ones
	}{
		{"getblock", []any{r.hash("b102")}},
		{"getblockheader", []any{r.hash("b102")}},
		{"getblockfilter", []any{r.hash("b102")}},
		{"getrawtransaction", []any{consensus.TxHash(r.txB).String()}},
		{"gettxout", []any{consensus.TxHash(r.txC).String(), 0}},
		{"gettxoutsetinfo", nil},
		{"getnetworkhashps", nil},
		{"decoderawtransaction", []any{txHexString(r.txB)}},
	}
	checked := 0
	for _, c := range calls {
		doc := r.srv.handlers[c.method].doc
		for i := len(c.lead); i < len(doc.args); i++ {
			a := doc.args[i]
			var def any
			if a.def == "" || json.Unmarshal([]byte(a.def), &def) != nil {
				continue // no default, or a hint such as "depends on heuristic tests"
			}
			params := append(append([]any{}, c.lead...), make([]any, i-len(c.lead))...)
			without := mustCall(t, r.srv, c.method, c.lead...)
			with := mustCall(t, r.srv, c.method, append(params, def)...)
			if !bytes.Equal(without, with) {
				t.Errorf("%s: help's default %s=%s answers %s, but the call without it %s", c.method, a.name, a.def, with, without)
			}
			checked++
		}
	}
	if checked < 8 {
		t.Errorf("checked %d defaults, want at least 8", checked)
	}
}

// TestHelpExampleValues ensures the examples' peer ID and address are real.
func TestHelpExampleValues(t *testing.T) {
	t.Parallel()
	if _, err := peer.Decode(examplePeerID); err != nil {
		t.Errorf("example peer ID: %v", err)
	}
	if _, err := chainparams.Regtest().DecodeAddress(exampleAddress); err != nil {
		t.Errorf("example address: %v", err)
	}
	if exampleHash != chainparams.Regtest().GenesisHash().String() {
		t.Errorf("example hash %s is not the regtest genesis block's", exampleHash)
	}
	for units, want := range map[int64]string{10_000_000: "0.10", 100_000_000: "1.00", 123_456_789: "1.23456789", 1000: "0.00001"} {
		if got := formatMoney(units); got != want {
			t.Errorf("formatMoney(%d) = %s, want %s", units, got, want)
		}
	}
}

// TestWalletMethods ensures Core's wallet methods answer "Method not
// found" (-32601) with a pointer to `cairn wallet`, while other unknown
// methods get Core's plain message.
func TestWalletMethods(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{User: testUser, Password: testPass})
	for _, method := range []string{"getnewaddress", "getbalance", "getbalances", "sendtoaddress", "sendmany",
		"listunspent", "listtransactions", "getwalletinfo", "createwallet", "loadwallet", "listwallets",
		"walletpassphrase", "signrawtransactionwithwallet", "dumpprivkey", "importprivkey", "importdescriptors",
		"getaddressinfo", "getrawchangeaddress", "settxfee", "bumpfee", "walletprocesspsbt", "fundrawtransaction",
		"gettransaction", "listdescriptors", "walletcreatefundedpsbt", "unloadwallet", "backupwallet"} {
		if !walletMethods[method] {
			t.Errorf("%s is not among the wallet methods", method)
		}
		_, rerr := call(t, s, method)
		want := "Method not found (" + method + " is a wallet method: Cairn's wallet is the `cairn wallet` command, see `cairn wallet --help`)"
		if rerr == nil || rerr.Code != codeMethodNotFound || rerr.Message != want {
			t.Errorf("%s: error %v, want -32601 %q", method, rerr, want)
		}
	}
	for method := range walletMethods {
		if _, ok := s.handlers[method]; ok {
			t.Errorf("wallet method %s is served", method)
		}
	}
	for _, method := range []string{"nosuch", "getblockcount2", "generate", "signrawtransactionwithkey"} {
		_, rerr := call(t, s, method)
		if rerr == nil || rerr.Code != codeMethodNotFound || rerr.Message != "Method not found" {
			t.Errorf("%s: error %v, want Core's -32601 \"Method not found\"", method, rerr)
		}
	}
	// JSON-RPC 2.0 gets the same error.
	rec := post(t, s, `{"jsonrpc":"2.0","id":1,"method":"getbalance"}`)
	var reply struct{ Error *Error }
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || reply.Error == nil ||
		reply.Error.Code != codeMethodNotFound || !strings.Contains(reply.Error.Message, "`cairn wallet`") {
		t.Errorf("2.0 getbalance: %s", rec.Body.String())
	}
}

// writeDocsEnv, set to 1, makes TestRPCDocs write docs/rpc.md instead of
// checking it.
const writeDocsEnv = "CAIRN_WRITE_DOCS"

// rpcDocsIntro is docs/rpc.md's opening, before the generated help.
const rpcDocsIntro = "# JSON-RPC reference\n\n" +
	"Bitcoin Core's method names, parameter order, result fields and error codes ([protocol](protocol.md)). " +
	"This list is the node's own `help` (`cairn rpc help`; `cairn rpc help METHOD` for one method). " +
	"Methods marked in the README as Cairn's (`gossip_score`, `p2paddresses`) add fields; `setban` and `listbanned` " +
	"take libp2p peer IDs as well as Core's IP subnets.\n\n" +
	"Bitcoin Core's wallet methods (`getnewaddress`, `sendtoaddress`, ...) answer -32601 \"Method not found\" with a " +
	"pointer to Cairn's wallet, the `cairn wallet` command ([CLI](cli.md#cairn-wallet)).\n\n" +
	"Generated from the node's help by `" + writeDocsEnv + "=1 go test ./rpc -run TestRPCDocs`.\n"

// TestRPCDocs ensures docs/rpc.md is the node's help: the list, then each
// method's full help by category, so the reference cannot drift from the
// code. Run with CAIRN_WRITE_DOCS=1 to write it again after changing help.
func TestRPCDocs(t *testing.T) {
	s := newServer(t, Config{User: testUser, Password: testPass})
	var doc bytes.Buffer
	doc.WriteString(rpcDocsIntro)
	list := str(t, mustCall(t, s, "help"))
	doc.WriteString("\n```\n" + list + "\n```\n")
	names := make([]string, 0, len(s.handlers))
	for name := range s.handlers {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		ci, cj := s.handlers[names[i]].doc.category, s.handlers[names[j]].doc.category
		return ci < cj || ci == cj && names[i] < names[j]
	})
	category := ""
	for _, name := range names {
		if c := s.handlers[name].doc.category; c != category {
			category = c
			doc.WriteString("\n## " + strings.ToUpper(c[:1]) + c[1:] + "\n")
		}
		doc.WriteString("\n### " + name + "\n\n```\n" + str(t, mustCall(t, s, "help", name)) + "\n```\n")
	}
	const file = "../docs/rpc.md"
	if os.Getenv(writeDocsEnv) == "1" {
		if err := os.WriteFile(file, doc.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, doc.Bytes()) {
		t.Errorf("docs/rpc.md is not the node's help: run %s=1 go test ./rpc -run TestRPCDocs", writeDocsEnv)
	}
}

// checkResultDoc fails the test when a call's result does not have a shape
// its help documents, as Core's -rpcdoccheck does in Core's tests. callRaw
// runs it on every successful call, so every test checks the help.
func checkResultDoc(t testing.TB, s *Server, body string, result json.RawMessage) {
	t.Helper()
	var req struct {
		Method string `json:"method"`
	}
	if json.Unmarshal([]byte(body), &req) != nil {
		return // a batch, or not a request
	}
	h, ok := s.handlers[req.Method]
	if !ok {
		return
	}
	var v any
	if err := json.Unmarshal(result, &v); err != nil {
		t.Errorf("%s: result %s: %v", req.Method, result, err)
		return
	}
	var mismatches []string
	for i := range h.doc.results {
		err := matchResult(&h.doc.results[i], v, "result")
		if err == nil {
			return
		}
		mismatches = append(mismatches, err.Error())
	}
	t.Errorf("%s: the result has no shape its help documents (%s)\nresult: %s", req.Method, strings.Join(mismatches, "; "), result)
}

// matchResult checks a decoded JSON value against a documented result, as
// Core's RPCResult::MatchesType.
func matchResult(r *resultDoc, v any, path string) error {
	ok := true
	switch r.typ {
	case resElision:
	case resNone:
		ok = v == nil
	case resStr, resHex:
		_, ok = v.(string)
	case resNum, resAmount, resTime:
		_, ok = v.(float64)
	case resBool:
		_, ok = v.(bool)
	case resArr:
		list, isList := v.([]any)
		if !isList {
			ok = false
			break
		}
		for i, e := range list {
			if err := matchResult(&r.inner[min(i, len(r.inner)-1)], e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case resObjDyn:
		obj, isObj := v.(map[string]any)
		if !isObj {
			ok = false
			break
		}
		for k, e := range obj {
			if err := matchResult(&r.inner[0], e, path+"."+k); err != nil {
				return err
			}
		}
	case resObj:
		obj, isObj := v.(map[string]any)
		if !isObj {
			ok = false
			break
		}
		documented, elided := map[string]bool{}, false
		for i := range r.inner {
			f := &r.inner[i]
			if f.typ == resElision {
				elided = true
				continue
			}
			documented[f.key] = true
			e, present := obj[f.key]
			if !present {
				if !f.optional {
					return fmt.Errorf("%s.%s missing, though not optional in help", path, f.key)
				}
				continue
			}
			if err := matchResult(f, e, path+"."+f.key); err != nil {
				return err
			}
		}
		if !elided {
			for k := range obj {
				if !documented[k] {
					return fmt.Errorf("%s.%s is not in help", path, k)
				}
			}
		}
	}
	if !ok {
		return fmt.Errorf("%s is %s, help says %s", path, jsonKind(v), [...]string{"null", "string", "string", "number",
			"number", "number", "boolean", "array", "object", "object", "anything"}[r.typ])
	}
	return nil
}

func jsonKind(v any) string {
	if v == nil {
		return "null"
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.String:
		return "string"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array"
	}
	return "object"
}

// TestNetworkMethodsHelp calls the network methods, with a network and
// without one, so that callRaw checks their answers against their help.
func TestNetworkMethodsHelp(t *testing.T) {
	t.Parallel()
	for _, network := range []Network{&fakeNetwork{active: true}, nil} {
		s := newServer(t, Config{User: testUser, Password: testPass, Network: network})
		for _, c := range []struct {
			method string
			params []any
		}{
			{"getconnectioncount", nil},
			{"getpeerinfo", nil},
			{"getnetworkinfo", nil},
			{"listbanned", nil},
			{"getaddednodeinfo", nil},
			{"getaddednodeinfo", []any{"anything"}},
			{"clearbanned", nil},
		} {
			mustCall(t, s, c.method, c.params...)
		}
		if network == nil {
			continue
		}
		for _, c := range []struct {
			method string
			params []any
		}{
			{"setban", []any{examplePeerID, "add"}},
			{"setban", []any{examplePeerID, "add", 3600, false}},
			{"setban", []any{examplePeerID, "remove"}},
			{"setban", []any{"192.168.0.0/24", "add", 86400}},
			{"addnode", []any{"/ip4/192.168.0.6/tcp/27333/p2p/" + examplePeerID, "onetry"}},
			{"disconnectnode", []any{examplePeerID}},
			{"disconnectnode", []any{examplePeerID, 7}},
			{"setnetworkactive", []any{false}},
		} {
			mustCall(t, s, c.method, c.params...)
		}
	}
}
