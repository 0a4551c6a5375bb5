package explorer

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

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

// scriptOp is one instruction of a script: an opcode and, for a push, its
// data.
type scriptOp struct {
	op   byte
	data []byte
	push bool // op pushes data (OP_0 and OP_PUSHBYTES_N included)
}

// scriptOps splits script into its instructions. It stops at a push that
// runs past the script's end, and says so in its error: rust-bitcoin
// prints "<unexpected end>" for a length cut short and "<push past end>"
// for data cut short.
func scriptOps(script []byte) ([]scriptOp, string) {
	var ops []scriptOp
	for i := 0; i < len(script); {
		op := script[i]
		i++
		var n uint64
		switch {
		case op < opPushData1:
			n = uint64(op)
		case op <= opPushData4:
			size := 1 << (op - opPushData1) // 1, 2 or 4 bytes of length
			if len(script)-i < size {
				return ops, "<unexpected end>"
			}
			var b [8]byte
			copy(b[:], script[i:i+size])
			n = binary.LittleEndian.Uint64(b[:])
			i += size
		default:
			ops = append(ops, scriptOp{op: op})
			continue
		}
		if n > uint64(len(script)-i) {
			ops = append(ops, scriptOp{op: op, push: true})
			return ops, "<push past end>"
		}
		ops = append(ops, scriptOp{op: op, data: script[i : i+int(n)], push: true})
		i += int(n)
	}
	return ops, ""
}

// esploraAsm is script's assembly as Esplora prints it.
func esploraAsm(script []byte) string {
	ops, bad := scriptOps(script)
	var b strings.Builder
	for i, o := range ops {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(opName(o.op))
		if len(o.data) > 0 {
			b.WriteByte(' ')
			b.WriteString(hex.EncodeToString(o.data))
		}
	}
	if bad == "<push past end>" {
		b.WriteByte(' ') // after the opcode, as rust-bitcoin writes it
	}
	b.WriteString(bad)
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
		if ops, bad := scriptOps(in.SignatureScript); bad == "" && len(ops) > 0 && ops[len(ops)-1].push {
			redeem = ops[len(ops)-1].data
			if redeem == nil {
				redeem = []byte{}
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
