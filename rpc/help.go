package rpc

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/btcutil"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
)

// This file holds what `help` prints. Each method's methodDoc sits next to
// its handler and is the one source of its help and of its parameter names;
// the rendering follows Bitcoin Core's (RPCHelpMan, RPCArg and RPCResult in
// Core's src/rpc/util.cpp): the call line, the description, then the
// Arguments, Result and Examples sections with Core's aligned columns.

// The categories of `help`, named as Core names them. The list shows them
// in alphabetical order, as Core does. A category's handlers live in the
// file of its name (rawtransactions in rawtx.go), except the methods that
// go through the transaction pool, which are in mempoolrpc.go whatever
// their category, and help, which is here.
const (
	catBlockchain = "blockchain"
	catControl    = "control"
	catGenerating = "generating"
	catMining     = "mining"
	catNetwork    = "network"
	catRawTx      = "rawtransactions"
	catUtil       = "util"
)

// coinUnit names the unit of amounts in help, where Core's says BTC: whole
// coins (called tCRN and rCRN on test and regtest).
const coinUnit = "CRN"

// unixTime is how help names the unit of times.
const unixTime = "UNIX epoch time"

// formatMoney prints base units as coins the way Core's FormatMoney does:
// at least two decimals, without further trailing zeros.
func formatMoney(units int64) string {
	whole, frac, _ := strings.Cut(consensus.FormatCoins(units), ".")
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return whole + "." + frac
}

// methodDoc is a method's help.
type methodDoc struct {
	category string
	desc     string
	args     []argDoc
	// results are the answer's possible shapes, each with its condition
	// when there are several.
	results  []resultDoc
	examples []exampleLine
}

// argType is an argument's JSON type, as Core's RPCArg::Type.
type argType int

const (
	argStr    argType = iota // a string, shown "name"
	argHex                   // a hex string, shown "name"
	argNum                   // a number, shown name
	argBool                  // a boolean, shown name
	argAmount                // a number or a numeric string (amounts, fee rates)
	argObj                   // an object of the inner arguments
	argArr                   // an array of the inner arguments
)

// argDoc is one argument, or a member of an object or array argument.
type argDoc struct {
	name string
	// aliases are other names a named argument may take (Core's
	// "verbosity|verbose"); help shows only name.
	aliases []string
	typ     argType
	// typeName replaces the type's name in the description, for an
	// argument that takes more than one JSON type ("numeric or boolean").
	typeName string
	required bool
	// def is the default as help prints it after "default=": a JSON value
	// or a hint; empty for an optional argument without one.
	def   string
	desc  string
	inner []argDoc
}

// reqArg and optArg make arguments: required, and optional with the
// default def ("" for none).
func reqArg(name string, typ argType, desc string, inner ...argDoc) argDoc {
	return argDoc{name: name, typ: typ, required: true, desc: desc, inner: inner}
}

func optArg(name string, typ argType, def, desc string, inner ...argDoc) argDoc {
	return argDoc{name: name, typ: typ, def: def, desc: desc, inner: inner}
}

// alias adds names the argument may also be given by.
func (a argDoc) alias(names ...string) argDoc {
	a.aliases = append(a.aliases, names...)
	return a
}

// oneOf sets the type name printed for an argument of several JSON types.
func (a argDoc) oneOf(typeName string) argDoc {
	a.typeName = typeName
	return a
}

// oneline is the argument in the call line, as Core's RPCArg::ToString.
func (a *argDoc) oneline() string {
	switch a.typ {
	case argStr, argHex:
		return `"` + a.name + `"`
	case argObj:
		parts := make([]string, len(a.inner))
		for i := range a.inner {
			parts[i] = a.inner[i].member(true)
		}
		return "{" + strings.Join(parts, ",") + "}"
	case argArr:
		var b strings.Builder
		for i := range a.inner {
			b.WriteString(a.inner[i].oneline() + ",")
		}
		return "[" + b.String() + "...]"
	}
	return a.name
}

// member is the argument as an object member, as Core's ToStringObj.
func (a *argDoc) member(oneline bool) string {
	s := `"` + a.name + `": `
	if oneline {
		s = `"` + a.name + `":`
	}
	switch a.typ {
	case argStr:
		return s + `"str"`
	case argHex:
		return s + `"hex"`
	case argNum:
		return s + "n"
	case argAmount:
		return s + "amount"
	case argBool:
		return s + "bool"
	case argArr:
		var b strings.Builder
		for i := range a.inner {
			b.WriteString(a.inner[i].oneline() + ",")
		}
		return s + "[" + b.String() + "...]"
	}
	return s + "{...}"
}

// describe is the argument's right-hand column: its type, whether it is
// required or its default, and its meaning. Elements of an array without a
// default print neither "required" nor "optional", as in Core.
func (a *argDoc) describe(named bool) string {
	typ := a.typeName
	if typ == "" {
		typ = [...]string{"string", "string", "numeric", "boolean", "numeric or string", "json object", "json array"}[a.typ]
	}
	switch {
	case a.def != "":
		typ += ", optional, default=" + a.def
	case a.required:
		typ += ", required"
	case named:
		typ += ", optional"
	}
	if a.desc == "" {
		return "(" + typ + ")"
	}
	return "(" + typ + ") " + a.desc
}

// resultType is a result's JSON type, as Core's RPCResult::Type.
type resultType int

const (
	resNone    resultType = iota // null
	resStr                       // a string, shown "str"
	resHex                       // a hex string, shown "hex"
	resNum                       // a number, shown n
	resAmount                    // an amount in coins, shown n
	resTime                      // a UNIX time, shown xxx
	resBool                      // a boolean, shown true|false
	resArr                       // an array whose elements are like the inner results
	resObj                       // an object of the inner results
	resObjDyn                    // an object whose keys come with the data, each value like inner[0]
	resElision                   // "...": more of what the description says
)

// resultDoc is a result, or a field or element of one.
type resultDoc struct {
	cond     string // a top-level result's condition, "for verbosity = 0"
	typ      resultType
	key      string
	optional bool
	desc     string
	inner    []resultDoc
}

// Result makers: the field key ("" for a top-level result or an array
// element) and its meaning.
func rNull(desc string) resultDoc        { return resultDoc{typ: resNone, desc: desc} }
func rStr(key, desc string) resultDoc    { return resultDoc{typ: resStr, key: key, desc: desc} }
func rHex(key, desc string) resultDoc    { return resultDoc{typ: resHex, key: key, desc: desc} }
func rNum(key, desc string) resultDoc    { return resultDoc{typ: resNum, key: key, desc: desc} }
func rAmount(key, desc string) resultDoc { return resultDoc{typ: resAmount, key: key, desc: desc} }
func rTime(key, desc string) resultDoc   { return resultDoc{typ: resTime, key: key, desc: desc} }
func rBool(key, desc string) resultDoc   { return resultDoc{typ: resBool, key: key, desc: desc} }
func rElision(desc string) resultDoc     { return resultDoc{typ: resElision, desc: desc} }

func rArr(key, desc string, inner ...resultDoc) resultDoc {
	return resultDoc{typ: resArr, key: key, desc: desc, inner: inner}
}

func rObj(key, desc string, inner ...resultDoc) resultDoc {
	return resultDoc{typ: resObj, key: key, desc: desc, inner: inner}
}

func rObjDyn(key, desc string, inner ...resultDoc) resultDoc {
	return resultDoc{typ: resObjDyn, key: key, desc: desc, inner: inner}
}

// opt marks a field that may be absent.
func (r resultDoc) opt() resultDoc {
	r.optional = true
	return r
}

// when sets a top-level result's condition.
func (r resultDoc) when(cond string) resultDoc {
	r.cond = cond
	return r
}

// exampleLine is a line of Examples: a note, or a call from the command
// line or with curl.
type exampleLine struct {
	kind int // exampleNote, exampleCLI or exampleRPC
	text string
}

const (
	exampleNote = iota
	exampleCLI
	exampleRPC
)

// exCLI is `cairn rpc` with args as typed in a shell; exRPC is the same
// call with curl, args being the JSON params without their brackets;
// exNote is a line of text.
func exCLI(args string) exampleLine  { return exampleLine{exampleCLI, args} }
func exRPC(args string) exampleLine  { return exampleLine{exampleRPC, args} }
func exNote(text string) exampleLine { return exampleLine{exampleNote, text} }

// exBoth is the usual pair: the call with cairn rpc, then with curl.
func exBoth(cli, rpc string) []exampleLine { return []exampleLine{exCLI(cli), exRPC(rpc)} }

// The examples call a regtest node at its default RPC port.
var (
	regtestNet = chainparams.Regtest()
	// exampleHash is a real block hash: the regtest genesis block's.
	exampleHash = regtestNet.GenesisHash().String()
	// exampleAddress is a regtest P2WPKH address.
	exampleAddress = func() string {
		a, err := btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), regtestNet.AddressParams())
		if err != nil {
			panic(err)
		}
		return a.EncodeAddress()
	}()
)

// examplePeerID is a valid libp2p peer ID (of an ed25519 key made for
// these examples).
const examplePeerID = "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7"

func (e exampleLine) render(method string) string {
	switch e.kind {
	case exampleCLI:
		return strings.TrimRight("> cairn rpc --network regtest "+method+" "+e.text, " ")
	case exampleRPC:
		return fmt.Sprintf(`> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", "method": "%s", "params": [%s]}' -H 'content-type: application/json' http://127.0.0.1:%d/`,
			method, e.text, regtestNet.RPCPort)
	}
	return e.text
}

// section is a line of a help section: its left part (a name or a piece
// of JSON) and its description, which lines up with the others'.
type section struct{ left, right string }

// sections are the lines of one section, as Core's Sections.
type sections struct {
	list []section
	pad  int
}

func (s *sections) push(left, right string) {
	s.pad = max(s.pad, len(left))
	s.list = append(s.list, section{left, right})
}

// outerType is what a nested argument or result is in.
type outerType int

const (
	outerNone outerType = iota
	outerArr
	outerObj
)

// pushArg adds an argument's members, as Core's Sections::Push: a
// top-level argument's own line is added by the caller.
func (s *sections) pushArg(a *argDoc, indent int, outer outerType) {
	ind := strings.Repeat(" ", indent)
	named, top := outer == outerObj, outer == outerNone
	key := ""
	if named {
		key = `"` + a.name + `": `
	}
	right, comma := "", ""
	if !top {
		right, comma = a.describe(named), ","
	}
	switch a.typ {
	case argObj:
		s.push(ind+key+"{", right)
		for i := range a.inner {
			s.pushArg(&a.inner[i], indent+2, outerObj)
		}
		s.push(ind+"}"+comma, "")
	case argArr:
		s.push(ind+key+"[", right)
		for i := range a.inner {
			s.pushArg(&a.inner[i], indent+2, outerArr)
		}
		s.push(ind+"  ...", "")
		s.push(ind+"]"+comma, "")
	default:
		if top {
			return
		}
		if named {
			s.push(ind+a.member(false)+",", right)
		} else {
			s.push(ind+a.oneline()+",", right)
		}
	}
}

// pushResult adds a result, as Core's RPCResult::ToSections.
func (s *sections) pushResult(r *resultDoc, outer outerType, indent int) {
	ind := strings.Repeat(" ", indent)
	sep, key := "", ""
	if outer != outerNone {
		sep = ","
	}
	if outer == outerObj {
		key = `"` + r.key + `" : `
	}
	describe := func(typ string) string {
		if r.optional {
			typ += ", optional"
		}
		if r.desc == "" {
			return "(" + typ + ")"
		}
		return "(" + typ + ") " + r.desc
	}
	switch r.typ {
	case resElision:
		s.push(ind+"..."+sep, r.desc)
	case resNone:
		s.push(ind+"null"+sep, describe("json null"))
	case resStr:
		s.push(ind+key+`"str"`+sep, describe("string"))
	case resHex:
		s.push(ind+key+`"hex"`+sep, describe("string"))
	case resNum, resAmount:
		s.push(ind+key+"n"+sep, describe("numeric"))
	case resTime:
		s.push(ind+key+"xxx"+sep, describe("numeric"))
	case resBool:
		s.push(ind+key+"true|false"+sep, describe("boolean"))
	case resArr:
		s.push(ind+key+"[", describe("json array"))
		for i := range r.inner {
			s.pushResult(&r.inner[i], outerArr, indent+2)
		}
		if r.inner[len(r.inner)-1].typ != resElision {
			s.push(ind+"  ...", "")
		} else {
			s.dropComma()
		}
		s.push(ind+"]"+sep, "")
	case resObj, resObjDyn:
		if len(r.inner) == 0 {
			s.push(ind+key+"{}", describe("empty JSON object"))
			return
		}
		s.push(ind+key+"{", describe("json object"))
		for i := range r.inner {
			s.pushResult(&r.inner[i], outerObj, indent+2)
		}
		if r.typ == resObjDyn && r.inner[len(r.inner)-1].typ != resElision {
			s.push(ind+"  ...", "")
		} else {
			s.dropComma()
		}
		s.push(ind+"}"+sep, "")
	}
}

// dropComma removes the last line's separator, which would be invalid JSON.
func (s *sections) dropComma() {
	last := &s.list[len(s.list)-1]
	last.left = strings.TrimSuffix(last.left, ",")
}

// String lines the descriptions up four columns after the widest left
// part; a description's further lines start at the same column.
func (s *sections) String() string {
	var b strings.Builder
	pad := s.pad + 4
	for _, sec := range s.list {
		if sec.right == "" {
			b.WriteString(sec.left + "\n")
			continue
		}
		b.WriteString(sec.left + strings.Repeat(" ", pad-len(sec.left)))
		for i, line := range strings.Split(sec.right, "\n") {
			if i > 0 {
				b.WriteString("\n" + strings.Repeat(" ", pad))
				line = strings.TrimLeft(line, " ")
			}
			b.WriteString(line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// params returns the parameter names in order, each with its aliases
// after it, and how many of the first are required.
func (d *methodDoc) params() (names [][]string, required int) {
	for _, a := range d.args {
		names = append(names, append([]string{a.name}, a.aliases...))
		if a.required {
			required = len(names)
		}
	}
	return names, required
}

// callLine is the help's first line: the method and its arguments, the
// optional ones in parentheses, as Core prints it.
func (d *methodDoc) callLine(method string) string {
	var b strings.Builder
	b.WriteString(method)
	inOptional := false
	for i := range d.args {
		a := &d.args[i]
		b.WriteByte(' ')
		switch {
		case !a.required && !inOptional:
			b.WriteString("( ")
		case a.required && inOptional:
			b.WriteString(") ")
		}
		inOptional = !a.required
		b.WriteString(a.oneline())
	}
	if inOptional {
		b.WriteString(" )")
	}
	return b.String()
}

// text is the method's full help.
func (d *methodDoc) text(method string) string {
	var b strings.Builder
	b.WriteString(d.callLine(method) + "\n\n" + strings.TrimSpace(d.desc) + "\n")
	b.WriteString("\nArguments:\n")
	if len(d.args) == 0 {
		b.WriteString("none\n")
	} else {
		var s sections
		for i := range d.args {
			a := &d.args[i]
			s.push(fmt.Sprintf("%d. %s", i+1, a.name), a.describe(true))
			s.pushArg(a, 5, outerNone)
		}
		b.WriteString(s.String())
	}
	for i := range d.results {
		r := &d.results[i]
		if r.cond == "" {
			b.WriteString("\nResult:\n")
		} else {
			b.WriteString("\nResult (" + r.cond + "):\n")
		}
		var s sections
		s.pushResult(r, outerNone, 0)
		b.WriteString(s.String())
	}
	b.WriteString("\nExamples:\n")
	for _, e := range d.examples {
		b.WriteString(e.render(method) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// helpDoc is help's own help.
var helpDoc = methodDoc{
	category: catControl,
	desc:     "List all commands, or get help for a specified command.",
	args: []argDoc{
		optArg("command", argStr, "all commands", "The command to get help on"),
	},
	results:  []resultDoc{rStr("", "The help text")},
	examples: []exampleLine{exCLI(""), exCLI("getblock"), exRPC(`"getblock"`)},
}

func (s *Server) help(_ context.Context, a args) (any, error) {
	name := ""
	if a.has(0) {
		var err error
		if name, err = a.str(0); err != nil {
			return nil, err
		}
	}
	if name == "" {
		return s.helpList(), nil
	}
	h, ok := s.handlers[name]
	if !ok {
		if walletMethods[name] {
			return fmt.Sprintf("help: unknown command: %s (%s)", name, walletHint(name)), nil
		}
		return fmt.Sprintf("help: unknown command: %s", name), nil
	}
	return h.doc.text(name), nil
}

// helpList lists every method's call line under its category's heading,
// categories and methods in alphabetical order, as Core's help does.
func (s *Server) helpList() string {
	names := make([]string, 0, len(s.handlers))
	for name := range s.handlers {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		ci, cj := s.handlers[names[i]].doc.category, s.handlers[names[j]].doc.category
		if ci != cj {
			return ci < cj
		}
		return names[i] < names[j]
	})
	var b strings.Builder
	category := ""
	for _, name := range names {
		h := s.handlers[name]
		if h.doc.category != category {
			if category != "" {
				b.WriteByte('\n')
			}
			category = h.doc.category
			b.WriteString("== " + strings.ToUpper(category[:1]) + category[1:] + " ==\n")
		}
		b.WriteString(h.doc.callLine(name) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
