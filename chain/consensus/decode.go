package consensus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/wire"
)

// ErrMalformed is wrapped by the errors of DecodeBlock, DecodeTx and
// DecodeHeader: the bytes are not one well-formed serialized object.
var ErrMalformed = errors.New("malformed data")

// MaxBlockBytes is the largest serialized block any valid block can have: a
// block's full size never exceeds its weight.
const MaxBlockBytes = MaxBlockWeight

// Minimum encoded sizes, used to bound declared counts by the bytes that
// are actually present.
const (
	minTxInBytes  = 32 + 4 + 1 + 4 // outpoint, empty script, sequence
	minTxOutBytes = 8 + 1          // value, empty script
	minTxBytes    = 4 + 1 + 1 + 4  // version, no inputs, no outputs, lock time
)

// DecodeBlockNoWitness decodes a block whose transactions use the
// serialization without witness data, under DecodeBlock's limits.
func DecodeBlockNoWitness(raw []byte) (*wire.MsgBlock, error) {
	if _, err := scanBlock(raw, false); err != nil {
		return nil, err
	}
	var b wire.MsgBlock
	if err := safeDecode(func() error { return b.DeserializeNoWitness(bytes.NewReader(raw)) }); err != nil {
		return nil, err
	}
	return &b, nil
}

// scanBlock checks that raw can be a serialized block (with or without
// witness data) and returns the DecodedSize of what it decodes to.
func scanBlock(raw []byte, witness bool) (int, error) {
	if len(raw) > MaxBlockBytes {
		return 0, fmt.Errorf("%w: block of %d bytes exceeds %d", ErrMalformed, len(raw), MaxBlockBytes)
	}
	s := scanner{b: raw, decoded: decodedPerBlock}
	s.skip(wire.MaxBlockHeaderPayload)
	n := s.count(minTxBytes, "transaction count")
	for i := uint64(0); i < n && s.err == nil; i++ {
		s.tx(witness)
	}
	if err := s.done(); err != nil {
		return 0, err
	}
	return s.decoded, nil
}

// Estimates of what a decoded block's Go structures take beyond their
// bytes (a struct, its pointer, slice headers), which dominate in blocks of
// many small items: a 4 MB block of empty witness items decodes to some
// 96 MB.
const (
	decodedPerBlock   = 80 + 64 // the header and the block's slice
	decodedPerTx      = 96      // MsgTx and its pointer
	decodedPerIn      = 96      // TxIn, its pointer, its witness slice header
	decodedPerOut     = 56      // TxOut and its pointer
	decodedPerWitItem = 24      // a slice header
)

// DecodedSize estimates the memory a decoded block holds.
func DecodedSize(block *wire.MsgBlock) int {
	size := decodedPerBlock
	for _, tx := range block.Transactions {
		size += decodedPerTx
		for _, in := range tx.TxIn {
			size += decodedPerIn + len(in.SignatureScript)
			for _, item := range in.Witness {
				size += decodedPerWitItem + len(item)
			}
		}
		for _, out := range tx.TxOut {
			size += decodedPerOut + len(out.PkScript)
		}
	}
	return size
}

// ScannedBlock is a serialized block (with witness data) whose structure
// ScanBlock checked, and what it takes decoded: it lets a node decide
// whether a block is worth decoding before decoding costs anything, and
// then decode it without scanning it again.
type ScannedBlock struct {
	raw []byte
	// DecodedSize is what DecodedSize will say of the decoded block.
	DecodedSize int
}

// ScanBlock walks raw without building anything (no allocation beyond the
// result) and returns it scanned, or ErrMalformed when it cannot be a block
// (Decode may still refuse what btcd's decoder refuses).
func ScanBlock(raw []byte) (*ScannedBlock, error) {
	size, err := scanBlock(raw, true)
	if err != nil {
		return nil, err
	}
	return &ScannedBlock{raw: raw, DecodedSize: size}, nil
}

// Decode decodes the scanned block, as DecodeBlock does, without the scan.
func (sb *ScannedBlock) Decode() (*wire.MsgBlock, error) {
	var b wire.MsgBlock
	if err := safeDecode(func() error { return b.Deserialize(bytes.NewReader(sb.raw)) }); err != nil {
		return nil, err
	}
	return &b, nil
}

// DecodeBlock decodes a serialized block from untrusted bytes. Unlike a bare
// wire.MsgBlock.Deserialize it refuses input above MaxBlockBytes, trailing
// bytes, and any count or length that the remaining bytes cannot hold, so
// that a few hostile bytes cannot make the decoder allocate megabytes or
// reach btcd's script-slab panic.
func DecodeBlock(raw []byte) (*wire.MsgBlock, error) {
	sb, err := ScanBlock(raw)
	if err != nil {
		return nil, err
	}
	return sb.Decode()
}

// DecodeTx decodes a serialized transaction from untrusted bytes, with
// witness data if it has any, under the same limits as DecodeBlock.
func DecodeTx(raw []byte) (*wire.MsgTx, error) {
	return decodeTx(raw, true)
}

// DecodeTxNoWitness decodes a transaction in the serialization without
// witness data (where zero inputs is not a witness marker).
func DecodeTxNoWitness(raw []byte) (*wire.MsgTx, error) {
	return decodeTx(raw, false)
}

func decodeTx(raw []byte, witness bool) (*wire.MsgTx, error) {
	if len(raw) > MaxBlockBytes {
		return nil, fmt.Errorf("%w: transaction of %d bytes exceeds %d", ErrMalformed, len(raw), MaxBlockBytes)
	}
	s := scanner{b: raw}
	s.tx(witness)
	if err := s.done(); err != nil {
		return nil, err
	}
	var tx wire.MsgTx
	err := safeDecode(func() error {
		if witness {
			return tx.Deserialize(bytes.NewReader(raw))
		}
		return tx.DeserializeNoWitness(bytes.NewReader(raw))
	})
	if err != nil {
		return nil, err
	}
	return &tx, nil
}

// DecodeHeader decodes an 80-byte block header.
func DecodeHeader(raw []byte) (*wire.BlockHeader, error) {
	if len(raw) != wire.MaxBlockHeaderPayload {
		return nil, fmt.Errorf("%w: header of %d bytes, want %d", ErrMalformed, len(raw), wire.MaxBlockHeaderPayload)
	}
	var h wire.BlockHeader
	if err := h.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return &h, nil
}

// safeDecode runs a btcd decode, turning an error or a panic into
// ErrMalformed. The scan before it should make a panic impossible; this
// guards against decoder bugs the scan does not anticipate.
func safeDecode(decode func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: decoder failure: %v", ErrMalformed, r)
		}
	}()
	if err := decode(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// scanner walks Bitcoin's serialization without building objects, checking
// that every declared count and length fits in the bytes left.
type scanner struct {
	b   []byte
	pos int
	err error
	// decoded sums the DecodedSize estimate of what was scanned.
	decoded int
}

func (s *scanner) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (s *scanner) left() int { return len(s.b) - s.pos }

func (s *scanner) skip(n uint64) {
	if s.err != nil {
		return
	}
	if n > uint64(s.left()) {
		s.fail("needs %d bytes at offset %d, %d left", n, s.pos, s.left())
		return
	}
	s.pos += int(n)
}

func (s *scanner) byte1() byte {
	if s.err != nil || s.left() < 1 {
		s.fail("truncated at offset %d", s.pos)
		return 0
	}
	v := s.b[s.pos]
	s.pos++
	return v
}

// varint reads a compact-size integer, which must be minimally encoded.
func (s *scanner) varint() uint64 {
	d := s.byte1()
	if s.err != nil {
		return 0
	}
	var v, min uint64
	switch d {
	case 0xfd:
		if s.left() < 2 {
			s.fail("truncated varint at offset %d", s.pos)
			return 0
		}
		v, min = uint64(binary.LittleEndian.Uint16(s.b[s.pos:])), 0xfd
		s.pos += 2
	case 0xfe:
		if s.left() < 4 {
			s.fail("truncated varint at offset %d", s.pos)
			return 0
		}
		v, min = uint64(binary.LittleEndian.Uint32(s.b[s.pos:])), 0x10000
		s.pos += 4
	case 0xff:
		if s.left() < 8 {
			s.fail("truncated varint at offset %d", s.pos)
			return 0
		}
		v, min = binary.LittleEndian.Uint64(s.b[s.pos:]), 0x100000000
		s.pos += 8
	default:
		return uint64(d)
	}
	if v < min {
		s.fail("non-canonical varint at offset %d", s.pos)
	}
	return v
}

// count reads a count of items of at least minSize bytes each.
func (s *scanner) count(minSize int, what string) uint64 {
	n := s.varint()
	if s.err == nil && n > uint64(s.left()/minSize) {
		s.fail("%s %d cannot fit in the %d bytes left", what, n, s.left())
	}
	return n
}

// bytesField skips a length-prefixed byte string and returns its length.
func (s *scanner) bytesField() int {
	n := s.varint()
	s.skip(n)
	if s.err != nil {
		return 0
	}
	return int(n)
}

// tx scans one transaction; with witness, a zero input count followed by
// flag 0x01 introduces witness data.
func (s *scanner) tx(witness bool) {
	s.skip(4)
	nIn := s.count(minTxInBytes, "input count")
	hasWitness := false
	if witness && nIn == 0 && s.err == nil {
		if s.left() > 0 && s.b[s.pos] == 0x01 {
			s.pos++
			hasWitness = true
			nIn = s.count(minTxInBytes, "input count")
		}
	}
	s.decoded += decodedPerTx
	for i := uint64(0); i < nIn && s.err == nil; i++ {
		s.skip(36)
		s.decoded += decodedPerIn + s.bytesField()
		s.skip(4)
	}
	nOut := s.count(minTxOutBytes, "output count")
	for i := uint64(0); i < nOut && s.err == nil; i++ {
		s.skip(8)
		s.decoded += decodedPerOut + s.bytesField()
	}
	if hasWitness {
		for i := uint64(0); i < nIn && s.err == nil; i++ {
			items := s.count(1, "witness item count")
			for j := uint64(0); j < items && s.err == nil; j++ {
				s.decoded += decodedPerWitItem + s.bytesField()
			}
		}
	}
	s.skip(4)
}

// done reports the scan's error, or trailing bytes.
func (s *scanner) done() error {
	if s.err != nil {
		return s.err
	}
	if s.left() != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, s.left())
	}
	return nil
}
