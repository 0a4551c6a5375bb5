package rpc

import (
	"context"
	"encoding/hex"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// decodeTx decodes a serialized transaction from untrusted bytes, with
// witness data when the bytes hold it (as Core's decoderawtransaction tries
// both). iswitness forces one form when given.
func decodeTx(raw []byte, iswitness *bool) (*wire.MsgTx, error) {
	if iswitness == nil || *iswitness {
		if tx, err := consensus.DecodeTx(raw); err == nil {
			return tx, nil
		}
	}
	if iswitness == nil || !*iswitness {
		if tx, err := consensus.DecodeTxNoWitness(raw); err == nil {
			return tx, nil
		}
	}
	return nil, errorf(codeDeserialization, "TX decode failed")
}

var decodeRawTransactionDoc = methodDoc{
	category: catRawTx,
	desc:     "Return a JSON object representing the serialized, hex-encoded transaction.",
	args: []argDoc{
		reqArg("hexstring", argHex, "The transaction hex string"),
		optArg("iswitness", argBool, "depends on heuristic tests", "Whether the transaction hex is a serialized witness transaction.\n"+
			"If iswitness is not present, witness deserialization is tried first, then non-witness deserialization.\n"+
			"If true, only witness deserialization will be tried.\n"+
			"If false, only non-witness deserialization will be tried.\n"+
			"This boolean should reflect whether the transaction has inputs\n"+
			"(e.g. fully valid, or on-chain transactions), if known by the caller."),
	},
	results:  []resultDoc{rObj("", "", txDocFields()...)},
	examples: exBoth(`"hexstring"`, `"hexstring"`),
}

func (s *Server) decodeRawTransaction(_ context.Context, a args) (any, error) {
	raw, err := a.hexBytes(0, errorf(codeDeserialization, "TX decode failed"))
	if err != nil {
		return nil, err
	}
	var iswitness *bool
	if a.has(1) {
		b, err := a.boolAt(1, true)
		if err != nil {
			return nil, err
		}
		iswitness = &b
	}
	tx, err := decodeTx(raw, iswitness)
	if err != nil {
		return nil, err
	}
	return txJSON(tx, s.cfg.Chain.Network().AddressParams()), nil
}

// decodeScriptResult is decodescript's answer.
type decodeScriptResult struct {
	Asm     string         `json:"asm"`
	Type    string         `json:"type"`
	Address string         `json:"address,omitempty"`
	P2SH    string         `json:"p2sh,omitempty"`
	Segwit  *segwitWrapped `json:"segwit,omitempty"`
}

// segwitWrapped describes the script's segwit (P2WSH or P2WPKH) version.
type segwitWrapped struct {
	Asm        string `json:"asm"`
	Hex        string `json:"hex"`
	Type       string `json:"type"`
	Address    string `json:"address,omitempty"`
	P2SHSegwit string `json:"p2sh-segwit,omitempty"`
}

var decodeScriptDoc = methodDoc{
	category: catRawTx,
	desc:     "Decode a hex-encoded script.",
	args:     []argDoc{reqArg("hexstring", argHex, "the hex-encoded script")},
	results: []resultDoc{rObj("", "",
		rStr("asm", "Disassembly of the script"),
		rStr("type", "The output type (e.g. "+scriptTypeNames+")"),
		rStr("address", "The address (only if a well-defined address exists)").opt(),
		rStr("p2sh", "address of P2SH script wrapping this redeem script (not returned for types that should not be wrapped)").opt(),
		rObj("segwit", "Result of a witness output script wrapping this redeem script (not returned for types that should not be wrapped)",
			rStr("asm", "Disassembly of the output script"),
			rHex("hex", "The raw output script bytes, hex-encoded"),
			rStr("type", "The type of the output script (e.g. witness_v0_keyhash or witness_v0_scripthash)"),
			rStr("address", "The address (only if a well-defined address exists)").opt(),
			rStr("p2sh-segwit", "address of the P2SH script wrapping this witness redeem script").opt(),
		).opt(),
	)},
	examples: exBoth(`"hexstring"`, `"hexstring"`),
}

func (s *Server) decodeScript(_ context.Context, a args) (any, error) {
	script, err := a.hexBytes(0, errorf(codeInvalidParameter, "argument must be hexadecimal string"))
	if err != nil {
		return nil, err
	}
	params := s.cfg.Chain.Network().AddressParams()
	pk := scriptPubKeyJSON(script, params)
	out := decodeScriptResult{Asm: pk.Asm, Type: pk.Type, Address: pk.Address}
	if !canWrap(script, pk.Type) {
		return out, nil
	}
	if addr, err := btcutil.NewAddressScriptHash(script, params); err == nil {
		out.P2SH = addr.EncodeAddress()
	}
	if canWrapP2WSH(script, pk.Type) {
		out.Segwit = segwitOf(script, pk.Type, params)
	}
	return out, nil
}

// canWrap is Bitcoin Core's rule for offering a P2SH wrapping of a script:
// a type that may be wrapped, valid opcodes, within the size limit, and no
// tapscript-only opcodes.
func canWrap(script []byte, typ string) bool {
	switch typ {
	case "multisig", "nonstandard", "pubkey", "pubkeyhash", "witness_v0_keyhash", "witness_v0_scripthash":
	default:
		return false
	}
	if len(script) > txscript.MaxScriptSize {
		return false
	}
	tok := txscript.MakeScriptTokenizer(0, script)
	for tok.Next() {
		if op := tok.Opcode(); op == txscript.OP_CHECKSIGADD || isOpSuccess(op) {
			return false
		}
	}
	return tok.Err() == nil
}

// canWrapP2WSH is Core's rule for offering a segwit version: scripts that
// are not already witness programs, with compressed public keys only.
func canWrapP2WSH(script []byte, typ string) bool {
	switch typ {
	case "nonstandard", "pubkeyhash":
		return true
	case "multisig", "pubkey":
		pushes, err := txscript.PushedData(script)
		if err != nil {
			return false
		}
		for _, p := range pushes {
			if len(p) != 1 && len(p) != 33 {
				return false // an uncompressed key cannot be used with segwit
			}
		}
		return true
	}
	return false
}

// isOpSuccess reports BIP342's OP_SUCCESSx opcodes.
func isOpSuccess(op byte) bool {
	return op == 80 || op == 98 || (op >= 126 && op <= 129) || (op >= 131 && op <= 134) ||
		(op >= 137 && op <= 138) || (op >= 141 && op <= 142) || (op >= 149 && op <= 153) ||
		(op >= 187 && op <= 254)
}

// segwitOf returns the segwit version of a script: P2WPKH for P2PKH and
// P2PK, P2WSH for anything else.
func segwitOf(script []byte, typ string, params *chaincfg.Params) *segwitWrapped {
	var addr btcutil.Address
	var err error
	switch typ {
	case "pubkeyhash":
		addr, err = btcutil.NewAddressWitnessPubKeyHash(script[3:23], params)
	case "pubkey":
		pushes, _ := txscript.PushedData(script)
		addr, err = btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pushes[0]), params)
	default:
		h := hashSHA256(script)
		addr, err = btcutil.NewAddressWitnessScriptHash(h[:], params)
	}
	if err != nil {
		return nil
	}
	w, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil
	}
	pk := scriptPubKeyJSON(w, params)
	sw := &segwitWrapped{Asm: pk.Asm, Hex: pk.Hex, Type: pk.Type, Address: pk.Address}
	if p2sh, err := btcutil.NewAddressScriptHash(w, params); err == nil {
		sw.P2SHSegwit = p2sh.EncodeAddress()
	}
	return sw
}

// validateAddressResult is validateaddress's answer.
type validateAddressResult struct {
	IsValid        bool   `json:"isvalid"`
	Address        string `json:"address,omitempty"`
	ScriptPubKey   string `json:"scriptPubKey,omitempty"`
	IsScript       *bool  `json:"isscript,omitempty"`
	IsWitness      *bool  `json:"iswitness,omitempty"`
	WitnessVersion *int   `json:"witness_version,omitempty"`
	WitnessProgram string `json:"witness_program,omitempty"`
	Error          string `json:"error,omitempty"`
}

var validateAddressDoc = methodDoc{
	category: catUtil,
	desc:     "Return information about the given address.",
	args:     []argDoc{reqArg("address", argStr, "The address of this network to validate")},
	results: []resultDoc{rObj("", "",
		rBool("isvalid", "If the address is valid or not"),
		rStr("address", "The address validated").opt(),
		rHex("scriptPubKey", "The hex-encoded output script generated by the address").opt(),
		rBool("isscript", "If the key is a script").opt(),
		rBool("iswitness", "If the address is a witness address").opt(),
		rNum("witness_version", "The version number of the witness program").opt(),
		rHex("witness_program", "The hex value of the witness program").opt(),
		rStr("error", "Error message, if any").opt(),
	)},
	examples: exBoth(`"`+exampleAddress+`"`, `"`+exampleAddress+`"`),
}

func (s *Server) validateAddress(_ context.Context, a args) (any, error) {
	str, err := a.str(0)
	if err != nil {
		return nil, err
	}
	addr, pkScript, msg := s.decodeAddress(str)
	if addr == nil {
		return validateAddressResult{Error: msg}, nil
	}
	r := validateAddressResult{IsValid: true, Address: addr.EncodeAddress(), ScriptPubKey: hex.EncodeToString(pkScript)}
	isScript, isWitness := false, false
	switch v := addr.(type) {
	case *btcutil.AddressScriptHash:
		isScript = true
	case *btcutil.AddressWitnessScriptHash:
		isScript, isWitness = true, true
		r.WitnessVersion, r.WitnessProgram = ptrTo(int(v.WitnessVersion())), hex.EncodeToString(v.WitnessProgram())
	case *btcutil.AddressWitnessPubKeyHash:
		isWitness = true
		r.WitnessVersion, r.WitnessProgram = ptrTo(int(v.WitnessVersion())), hex.EncodeToString(v.WitnessProgram())
	case *btcutil.AddressTaproot:
		isScript, isWitness = true, true // as Core describes witness v1
		r.WitnessVersion, r.WitnessProgram = ptrTo(int(v.WitnessVersion())), hex.EncodeToString(v.WitnessProgram())
	}
	r.IsScript, r.IsWitness = &isScript, &isWitness
	return r, nil
}

func ptrTo[T any](v T) *T { return &v }

// decodeAddress decodes an address of this network and its output script,
// or returns why it is not one.
func (s *Server) decodeAddress(str string) (btcutil.Address, []byte, string) {
	net := s.cfg.Chain.Network()
	addr, err := net.DecodeAddress(str)
	if err != nil {
		return nil, nil, "Invalid address: " + err.Error()
	}
	pk, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, nil, "Invalid address: " + err.Error()
	}
	return addr, pk, ""
}
