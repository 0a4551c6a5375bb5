package coreshape

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/txscript"
)

// maxScriptSize is consensus's MAX_SCRIPT_SIZE: a longer script is
// unspendable.
const maxScriptSize = 10_000

// sighashNames are Core's mapSigHashTypes: the hash types ScriptAsm names
// after a signature.
var sighashNames = map[byte]string{
	0x01: "ALL", 0x81: "ALL|ANYONECANPAY",
	0x02: "NONE", 0x82: "NONE|ANYONECANPAY",
	0x03: "SINGLE", 0x83: "SINGLE|ANYONECANPAY",
}

// ScriptAsm is Core's ScriptToAsmStr: a push of at most 4 bytes is shown as
// the number it encodes, a longer one in hex, OP_0 to OP_16 and OP_1NEGATE
// as numbers, other opcodes by Core's names (GetOpName, which btcd's table
// shares, OP_UNKNOWN for the undefined ones), and a script that cannot be
// parsed ends in "[error]". With sighashDecode (Core's
// fAttemptSighashDecode, set for scriptSigs), a push that is a strictly
// encoded signature with a defined hash type is shown as the signature
// without its last byte, then the type: "3044...[ALL]".
func ScriptAsm(script []byte, sighashDecode bool) string {
	unspendable := len(script) > maxScriptSize || (len(script) > 0 && script[0] == txscript.OP_RETURN)
	var b strings.Builder
	tok := txscript.MakeScriptTokenizer(0, script)
	for !tok.Done() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if !tok.Next() {
			b.WriteString("[error]")
			break
		}
		op, data := tok.Opcode(), tok.Data()
		switch {
		case op <= txscript.OP_PUSHDATA4 && len(data) <= 4:
			b.WriteString(strconv.FormatInt(scriptNum(data), 10))
		case op <= txscript.OP_PUSHDATA4:
			name, ok := "", false
			if sighashDecode && !unspendable && isStrictSignature(data) {
				name, ok = sighashNames[data[len(data)-1]]
			}
			if ok {
				b.WriteString(hex.EncodeToString(data[:len(data)-1]))
				b.WriteString("[" + name + "]")
			} else {
				b.WriteString(hex.EncodeToString(data))
			}
		default:
			b.WriteString(opName(op))
		}
	}
	return b.String()
}

// opName is Core's GetOpName for an opcode that pushes no data.
func opName(op byte) string {
	switch {
	case op == txscript.OP_1NEGATE:
		return "-1"
	case op >= txscript.OP_1 && op <= txscript.OP_16:
		return strconv.Itoa(int(op - txscript.OP_1 + 1))
	case op > txscript.OP_CHECKSIGADD && op < txscript.OP_INVALIDOPCODE:
		return "OP_UNKNOWN"
	case op == txscript.OP_CHECKLOCKTIMEVERIFY:
		return "OP_CHECKLOCKTIMEVERIFY"
	case op == txscript.OP_CHECKSEQUENCEVERIFY:
		return "OP_CHECKSEQUENCEVERIFY"
	}
	return opNames[op]
}

// opNames are btcd's names of the opcodes, which are Core's.
var opNames = func() map[byte]string {
	m := make(map[byte]string, len(txscript.OpcodeByName))
	for name, op := range txscript.OpcodeByName {
		m[op] = name
	}
	return m
}()

// scriptNum decodes a push of at most 4 bytes as CScriptNum does without
// the minimal-encoding rule: little-endian, the top bit of the last byte
// the sign.
func scriptNum(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	var v int64
	for i, c := range b {
		v |= int64(c) << (8 * i)
	}
	if b[len(b)-1]&0x80 != 0 {
		return -(v &^ (0x80 << (8 * (len(b) - 1))))
	}
	return v
}

// isStrictSignature is Core's CheckSignatureEncoding under
// SCRIPT_VERIFY_STRICTENC for a non-empty push: BIP 66's strict DER
// (IsValidSignatureEncoding, the hash type byte included) and a defined
// hash type (IsDefinedHashtypeSignature).
func isStrictSignature(sig []byte) bool {
	n := len(sig)
	if n < 9 || n > 73 || sig[0] != 0x30 || int(sig[1]) != n-3 {
		return false
	}
	lenR := int(sig[3])
	if 5+lenR >= n {
		return false
	}
	lenS := int(sig[5+lenR])
	if lenR+lenS+7 != n || sig[2] != 0x02 || lenR == 0 || sig[4]&0x80 != 0 ||
		(lenR > 1 && sig[4] == 0 && sig[5]&0x80 == 0) {
		return false
	}
	if sig[lenR+4] != 0x02 || lenS == 0 || sig[lenR+6]&0x80 != 0 ||
		(lenS > 1 && sig[lenR+6] == 0 && sig[lenR+7]&0x80 == 0) {
		return false
	}
	base := sig[n-1] &^ 0x80 // SIGHASH_ANYONECANPAY
	return base >= 0x01 && base <= 0x03
}
