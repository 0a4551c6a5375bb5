package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/internal/blockfile"
)

// Database layout. One goleveldb database holds the index and the state, so
// that a flush writes the UTXO set, the block index, the other indexes and
// the tip in one atomic batch; block bodies and undo data live in flat files
// (package blockfile), synced before the batch that points into them.
//
//	'v'            schema version (1 byte)
//	'g'            genesis hash of the network the database belongs to
//	'i' hash       block index record: header, height, status, and where
//	               the block and its undo data are in the block files
//	'l' file       block file record (blockfile.FileInfo), by file number
//	               (4 bytes, big-endian)
//	'c' outpoint   unspent output (package utxo)
//	's'            chain state: hash and height of the tip the UTXO set matches
//	't' txid       transaction index: block hash and position
//	'T'            transaction index tip
//	'f' hash       block filter index: BIP158 basic filter header (32
//	               bytes), then the serialized filter
//	'F'            block filter index tip
//
// Schema version 1 kept blocks under 'b' hash and undo data under 'u' hash;
// the first start of this version moves them to the block files.
const (
	prefixIndex   = 'i'
	prefixFile    = 'l'
	prefixBlockV1 = 'b'
	prefixUndoV1  = 'u'
	prefixTxIndex = 't'
	keyVersion    = 'v'
	keyGenesis    = 'g'
	keyState      = 's'
	keyTxIndexTip = 'T'
	prefixFilter  = 'f'
	keyFilterTip  = 'F'

	schemaVersion = 2
)

// ErrCorruptDatabase is wrapped by errors about stored records that do not
// decode or contradict each other. The node must stop; nothing is written.
var ErrCorruptDatabase = errors.New("chain: corrupt database")

func hashKey(prefix byte, h *chainhash.Hash) []byte {
	k := make([]byte, 1+chainhash.HashSize)
	k[0] = prefix
	copy(k[1:], h[:])
	return k
}

// indexRecordLen is the size of an index record without positions: header,
// height, status. The block's position follows when its data is stored,
// then its undo data's when that is.
const (
	indexRecordLen = wire.MaxBlockHeaderPayload + 4 + 1
	posLen         = 12
)

// encodeIndexRecord serializes n for the 'i' key.
// This function MUST be called with the chain lock or the process lock
// held (it reads the status and positions).
func encodeIndexRecord(n *blockNode) []byte {
	return encodeRecord(&indexRecord{header: n.Header(), height: n.height, status: n.status,
		dataPos: n.dataPos, undoPos: n.undoPos})
}

// encodeRecord serializes an index record.
func encodeRecord(r *indexRecord) []byte {
	var buf bytes.Buffer
	buf.Grow(indexRecordLen + 2*posLen)
	_ = r.header.Serialize(&buf)
	var tail [5]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(r.height))
	tail[4] = byte(r.status)
	buf.Write(tail[:])
	b := buf.Bytes()
	if r.status&statusDataStored != 0 {
		b = appendPos(b, r.dataPos)
	}
	if r.status&statusUndoStored != 0 {
		b = appendPos(b, r.undoPos)
	}
	return b
}

func appendPos(b []byte, p blockfile.Pos) []byte {
	b = binary.LittleEndian.AppendUint32(b, p.File)
	b = binary.LittleEndian.AppendUint32(b, p.Offset)
	return binary.LittleEndian.AppendUint32(b, p.Len)
}

func decodePos(b []byte) blockfile.Pos {
	return blockfile.Pos{
		File:   binary.LittleEndian.Uint32(b[0:]),
		Offset: binary.LittleEndian.Uint32(b[4:]),
		Len:    binary.LittleEndian.Uint32(b[8:]),
	}
}

// indexRecord is a decoded 'i' record.
type indexRecord struct {
	header           wire.BlockHeader
	height           int32
	status           blockStatus
	dataPos, undoPos blockfile.Pos
}

// decodeIndexRecord parses an 'i' record of schema version 2, or of
// version 1 (no positions) when v1 is set.
func decodeIndexRecord(v []byte, v1 bool) (indexRecord, error) {
	var r indexRecord
	if len(v) < indexRecordLen {
		return r, fmt.Errorf("%w: index record of %d bytes", ErrCorruptDatabase, len(v))
	}
	if err := r.header.Deserialize(bytes.NewReader(v[:wire.MaxBlockHeaderPayload])); err != nil {
		return r, fmt.Errorf("%w: index header: %v", ErrCorruptDatabase, err)
	}
	r.height = int32(binary.LittleEndian.Uint32(v[80:84]))
	r.status = blockStatus(v[84])
	want := indexRecordLen
	if !v1 {
		if r.status&statusDataStored != 0 {
			want += posLen
		}
		if r.status&statusUndoStored != 0 {
			want += posLen
		}
	}
	if len(v) != want {
		return r, fmt.Errorf("%w: index record of %d bytes with status %#x", ErrCorruptDatabase, len(v), r.status)
	}
	rest := v[indexRecordLen:]
	if !v1 && r.status&statusDataStored != 0 {
		r.dataPos, rest = decodePos(rest), rest[posLen:]
	}
	if !v1 && r.status&statusUndoStored != 0 {
		r.undoPos = decodePos(rest)
	}
	return r, nil
}

// fileKey is the key of block file n's record.
func fileKey(n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixFile}, n)
}

// encodeState serializes the chain state record: tip hash and height.
func encodeState(hash chainhash.Hash, height int32) []byte {
	b := make([]byte, chainhash.HashSize+4)
	copy(b, hash[:])
	binary.LittleEndian.PutUint32(b[32:], uint32(height))
	return b
}

// decodeState parses the chain state record.
func decodeState(v []byte) (chainhash.Hash, int32, error) {
	var h chainhash.Hash
	if len(v) != chainhash.HashSize+4 {
		return h, 0, fmt.Errorf("%w: chain state of %d bytes", ErrCorruptDatabase, len(v))
	}
	copy(h[:], v[:32])
	return h, int32(binary.LittleEndian.Uint32(v[32:])), nil
}

// TxLocation says where the transaction index found a transaction.
type TxLocation struct {
	BlockHash chainhash.Hash
	Index     uint32
}

func encodeTxLocation(l TxLocation) []byte {
	b := make([]byte, chainhash.HashSize, chainhash.HashSize+binary.MaxVarintLen32)
	copy(b, l.BlockHash[:])
	return binary.AppendUvarint(b, uint64(l.Index))
}

func decodeTxLocation(v []byte) (TxLocation, error) {
	var l TxLocation
	if len(v) < chainhash.HashSize+1 {
		return l, fmt.Errorf("%w: tx index record", ErrCorruptDatabase)
	}
	copy(l.BlockHash[:], v[:32])
	idx, k := binary.Uvarint(v[32:])
	if k <= 0 || idx > 1<<32-1 {
		return l, fmt.Errorf("%w: tx index position", ErrCorruptDatabase)
	}
	l.Index = uint32(idx)
	return l, nil
}

// decodeStoredBlock decodes a block read from the block files.
func decodeStoredBlock(raw []byte, hash *chainhash.Hash) (*wire.MsgBlock, error) {
	var b wire.MsgBlock
	if err := b.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("%w: block %v: %v", ErrCorruptDatabase, hash, err)
	}
	return &b, nil
}

// serializeBlock returns the wire encoding of b.
func serializeBlock(b *wire.MsgBlock) []byte {
	var buf bytes.Buffer
	buf.Grow(b.SerializeSize())
	_ = b.Serialize(&buf)
	return buf.Bytes()
}
