package explorer

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Esplora's script assembly is rust-bitcoin's, which electrs prints in
// every *_asm field: a push is named by its opcode and followed by its data
// in hex ("OP_0 OP_PUSHBYTES_20 89ab..."), small numbers are OP_PUSHNUM_N,
// and BIP 65's and BIP 112's opcodes are OP_CLTV and OP_CSV. Clients parse
// it (mempool.space splits it on spaces to read multisig keys and
// tapscript branches), so the explorer prints the same, not btcd's or
// Core's form.

// opNames are rust-bitcoin's names of the opcodes from OP_NOP (0x61) to
// OP_CHECKSIGADD (0xba), in order.
var opNames = strings.Fields(`NOP VER IF NOTIF VERIF VERNOTIF ELSE ENDIF VERIFY RETURN
	TOALTSTACK FROMALTSTACK 2DROP 2DUP 3DUP 2OVER 2ROT 2SWAP IFDUP DEPTH DROP DUP NIP OVER PICK
	ROLL ROT SWAP TUCK CAT SUBSTR LEFT RIGHT SIZE INVERT AND OR XOR EQUAL EQUALVERIFY RESERVED1
	RESERVED2 1ADD 1SUB 2MUL 2DIV NEGATE ABS NOT 0NOTEQUAL ADD SUB MUL DIV MOD LSHIFT RSHIFT
	BOOLAND BOOLOR NUMEQUAL NUMEQUALVERIFY NUMNOTEQUAL LESSTHAN GREATERTHAN LESSTHANOREQUAL
	GREATERTHANOREQUAL MIN MAX WITHIN RIPEMD160 SHA1 SHA256 HASH160 HASH256 CODESEPARATOR
	CHECKSIG CHECKSIGVERIFY CHECKMULTISIG CHECKMULTISIGVERIFY NOP1 CLTV CSV NOP4 NOP5 NOP6 NOP7
	NOP8 NOP9 NOP10 CHECKSIGADD`)

const (
	opPushData1 = 0x4c
	opPushData2 = 0x4d
	opPushData4 = 0x4e
	opNop       = 0x61
)

// opName is rust-bitcoin's name of op.
func opName(op byte) string {
	switch {
	case op == 0:
		return "OP_0"
	case op < opPushData1:
		return "OP_PUSHBYTES_" + strconv.Itoa(int(op))
	case op == opPushData1:
		return "OP_PUSHDATA1"
	case op == opPushData2:
		return "OP_PUSHDATA2"
	case op == opPushData4:
		return "OP_PUSHDATA4"
	case op == 0x4f:
		return "OP_PUSHNUM_NEG1"
	case op == 0x50:
		return "OP_RESERVED"
	case op < opNop:
		return "OP_PUSHNUM_" + strconv.Itoa(int(op-0x50))
	case int(op-opNop) < len(opNames):
		return "OP_" + opNames[op-opNop]
	case op == 0xff:
		return "OP_INVALIDOPCODE"
	default:
		return "OP_RETURN_" + strconv.Itoa(int(op))
	}
}

// esploraAsm is script's assembly as Esplora prints it.
func esploraAsm(script []byte) string {
	var b strings.Builder
	tok := txscript.MakeScriptTokenizer(0, script)
	for tok.Next() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(opName(tok.Opcode()))
		if d := tok.Data(); len(d) > 0 {
			b.WriteByte(' ')
			b.WriteString(hex.EncodeToString(d))
		}
	}
	if tok.Err() != nil {
		// The tokenizer stops at the push that runs past the end.
		// rust-bitcoin writes "<unexpected end>" where the push's length
		// is cut short, else the opcode and "<push past end>".
		at := int(tok.ByteIndex())
		op := script[at]
		if op >= opPushData1 && op <= opPushData4 && len(script)-at-1 < 1<<(op-opPushData1) {
			b.WriteString("<unexpected end>")
		} else {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(opName(op) + " <push past end>")
		}
	}
	return b.String()
}

// innerScripts returns the scripts an input reveals, as electrs's
// get_innerscripts finds them: the redeem script of a P2SH spend (its
// scriptSig's last push), and the witness script of a P2WSH or
// P2SH-P2WSH spend (the witness's last item) or the tapscript of a
// taproot script-path spend (BIP 341: the item before the control block,
// once an annex is set aside). Each is nil when the input reveals none.
func innerScripts(in *wire.TxIn, prevout []byte) (redeem, witness []byte) {
	if isP2SH(prevout) {
		// The scriptSig's last instruction, if it parses and is a push.
		tok := txscript.MakeScriptTokenizer(0, in.SignatureScript)
		var last []byte
		push := false
		for tok.Next() {
			last, push = tok.Data(), tok.Opcode() <= opPushData4
		}
		if tok.Err() == nil && push {
			redeem = last
			if redeem == nil {
				redeem = []byte{} // OP_0: an empty redeem script
			}
		}
	}
	w := in.Witness
	switch {
	case isP2WSH(prevout) || (redeem != nil && isP2WSH(redeem)):
		if len(w) > 0 {
			witness = w[len(w)-1]
		}
	case isP2TR(prevout):
		pos := 2 // the script, then the control block
		if len(w) >= 2 && len(w[len(w)-1]) > 0 && w[len(w)-1][0] == 0x50 {
			pos = 3 // and an annex
		}
		if len(w) >= pos {
			witness = w[len(w)-pos]
		}
	}
	return redeem, witness
}

func isP2SH(s []byte) bool {
	return len(s) == 23 && s[0] == 0xa9 && s[1] == 0x14 && s[22] == 0x87
}

func isP2WSH(s []byte) bool { return len(s) == 34 && s[0] == 0x00 && s[1] == 0x20 }

func isP2TR(s []byte) bool { return len(s) == 34 && s[0] == 0x51 && s[1] == 0x20 }
