package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/internal/store"
	"github.com/cairnchain/cairn/chain/utxo"
)

// Database layout. One goleveldb database holds everything, so that a flush
// writes the UTXO set, undo data, indexes and the tip in one atomic batch.
//
//	'v'            schema version (1 byte)
//	'g'            genesis hash of the network the database belongs to
//	'i' hash       block index record: header, height, status
//	'b' hash       serialized block
//	'u' hash       undo data: the outputs the block spent
//	'c' outpoint   unspent output (package utxo)
//	's'            chain state: hash and height of the tip the UTXO set matches
//	't' txid       transaction index: block hash and position
//	'T'            transaction index tip
//	'f' hash       block filter index: BIP158 basic filter header (32
//	               bytes), then the serialized filter
//	'F'            block filter index tip
const (
	prefixIndex   = 'i'
	prefixBlock   = 'b'
	prefixUndo    = 'u'
	prefixTxIndex = 't'
	keyVersion    = 'v'
	keyGenesis    = 'g'
	keyState      = 's'
	keyTxIndexTip = 'T'
	prefixFilter  = 'f'
	keyFilterTip  = 'F'

	schemaVersion = 1
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

// indexRecordLen is the size of an index record: header, height, status.
const indexRecordLen = wire.MaxBlockHeaderPayload + 4 + 1

// encodeIndexRecord serializes n for the 'i' key.
func encodeIndexRecord(n *blockNode) []byte {
	var buf bytes.Buffer
	buf.Grow(indexRecordLen)
	h := n.Header()
	_ = h.Serialize(&buf)
	var tail [5]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(n.height))
	tail[4] = byte(n.status)
	buf.Write(tail[:])
	return buf.Bytes()
}

// indexRecord is a decoded 'i' record.
type indexRecord struct {
	header wire.BlockHeader
	height int32
	status blockStatus
}

// decodeIndexRecord parses an 'i' record.
func decodeIndexRecord(v []byte) (indexRecord, error) {
	var r indexRecord
	if len(v) != indexRecordLen {
		return r, fmt.Errorf("%w: index record of %d bytes", ErrCorruptDatabase, len(v))
	}
	if err := r.header.Deserialize(bytes.NewReader(v[:wire.MaxBlockHeaderPayload])); err != nil {
		return r, fmt.Errorf("%w: index header: %v", ErrCorruptDatabase, err)
	}
	r.height = int32(binary.LittleEndian.Uint32(v[80:84]))
	r.status = blockStatus(v[84])
	return r, nil
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

// encodeUndo serializes the outputs a block spent, in the order its
// transactions spent them.
func encodeUndo(spent []*utxo.Entry) []byte {
	b := binary.AppendUvarint(nil, uint64(len(spent)))
	for _, e := range spent {
		b = utxo.AppendEntry(b, e)
	}
	return b
}

// decodeUndo is the inverse of encodeUndo.
func decodeUndo(v []byte) ([]*utxo.Entry, error) {
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)) {
		return nil, fmt.Errorf("%w: undo count", ErrCorruptDatabase)
	}
	v = v[k:]
	spent := make([]*utxo.Entry, 0, n)
	for i := uint64(0); i < n; i++ {
		e, rest, err := utxo.DecodeEntry(v)
		if err != nil {
			return nil, fmt.Errorf("%w: undo entry %d: %v", ErrCorruptDatabase, i, err)
		}
		spent = append(spent, e)
		v = rest
	}
	if len(v) != 0 {
		return nil, fmt.Errorf("%w: %d trailing undo bytes", ErrCorruptDatabase, len(v))
	}
	return spent, nil
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

// readBlock loads a stored block.
func readBlock(db *store.DB, hash *chainhash.Hash) (*wire.MsgBlock, error) {
	v, err := db.Get(hashKey(prefixBlock, hash))
	if err != nil {
		return nil, fmt.Errorf("read block %v: %w", hash, err)
	}
	var b wire.MsgBlock
	if err := b.Deserialize(bytes.NewReader(v)); err != nil {
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
