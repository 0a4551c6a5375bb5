package utxo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// ErrBadEncoding is wrapped by errors decoding a stored entry or key.
var ErrBadEncoding = errors.New("utxo: bad encoding")

// Entry is one unspent output together with where it was created.
type Entry struct {
	Amount     int64
	PkScript   []byte
	Height     int32
	IsCoinBase bool
}

// TxOut returns the entry as a wire output.
func (e *Entry) TxOut() *wire.TxOut { return &wire.TxOut{Value: e.Amount, PkScript: e.PkScript} }

// memSize estimates the bytes an entry's own allocations cost: the struct
// and its script.
func (e *Entry) memSize() int64 { return int64(len(e.PkScript)) + 48 }

// IsUnspendable reports whether an output can never be spent and so never
// enters the UTXO set: it starts with OP_RETURN or exceeds the maximum script
// size (Bitcoin Core's CScript::IsUnspendable).
func IsUnspendable(pkScript []byte) bool {
	return (len(pkScript) > 0 && pkScript[0] == txscript.OP_RETURN) || len(pkScript) > txscript.MaxScriptSize
}

// AppendEntry appends the serialized entry to b: uvarint(height<<1 |
// coinbase), uvarint(amount), uvarint(len(script)), script.
func AppendEntry(b []byte, e *Entry) []byte {
	code := uint64(e.Height) << 1
	if e.IsCoinBase {
		code |= 1
	}
	b = binary.AppendUvarint(b, code)
	b = binary.AppendUvarint(b, uint64(e.Amount))
	b = binary.AppendUvarint(b, uint64(len(e.PkScript)))
	return append(b, e.PkScript...)
}

// DecodeEntry decodes one entry from the front of b and returns the bytes
// after it.
func DecodeEntry(b []byte) (*Entry, []byte, error) {
	code, n := binary.Uvarint(b)
	if n <= 0 || code>>1 > 1<<31-1 {
		return nil, nil, fmt.Errorf("%w: entry header", ErrBadEncoding)
	}
	b = b[n:]
	amount, n := binary.Uvarint(b)
	if n <= 0 || amount > 1<<63-1 {
		return nil, nil, fmt.Errorf("%w: entry amount", ErrBadEncoding)
	}
	b = b[n:]
	slen, n := binary.Uvarint(b)
	if n <= 0 || slen > uint64(len(b)-n) {
		return nil, nil, fmt.Errorf("%w: entry script length", ErrBadEncoding)
	}
	b = b[n:]
	e := &Entry{
		Amount:     int64(amount),
		PkScript:   append([]byte(nil), b[:slen]...),
		Height:     int32(code >> 1),
		IsCoinBase: code&1 == 1,
	}
	return e, b[slen:], nil
}

// keyPrefix starts every UTXO key in the database.
const keyPrefix = 'c'

// Prefix returns the key prefix of all UTXO records.
func Prefix() []byte { return []byte{keyPrefix} }

// Key returns the database key of an outpoint: 'c', txid, uvarint(index).
func Key(op wire.OutPoint) []byte {
	k := make([]byte, 1+chainhash.HashSize, 1+chainhash.HashSize+binary.MaxVarintLen32)
	k[0] = keyPrefix
	copy(k[1:], op.Hash[:])
	return binary.AppendUvarint(k, uint64(op.Index))
}

// DecodeKey is the inverse of [Key].
func DecodeKey(k []byte) (wire.OutPoint, error) {
	var op wire.OutPoint
	if len(k) < 2+chainhash.HashSize || k[0] != keyPrefix {
		return op, fmt.Errorf("%w: key", ErrBadEncoding)
	}
	copy(op.Hash[:], k[1:1+chainhash.HashSize])
	idx, n := binary.Uvarint(k[1+chainhash.HashSize:])
	if n <= 0 || idx > 1<<32-1 {
		return op, fmt.Errorf("%w: key index", ErrBadEncoding)
	}
	op.Index = uint32(idx)
	if 1+chainhash.HashSize+n != len(k) || !bytes.Equal(Key(op), k) {
		// Trailing bytes or a non-minimal index would let two keys
		// name one outpoint.
		return op, fmt.Errorf("%w: key is not the canonical encoding of %v", ErrBadEncoding, op)
	}
	return op, nil
}
