package consensus

import (
	"bytes"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/minio/sha256-simd"
)

// bufPool recycles serialization buffers for hashing transactions and blocks.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// DoubleHashH returns SHA-256(SHA-256(b)) as a chainhash.Hash, computed with
// sha256-simd.
//
// This function is safe for concurrent access.
func DoubleHashH(b []byte) chainhash.Hash {
	first := sha256.Sum256(b)
	return chainhash.Hash(sha256.Sum256(first[:]))
}

// BlockHash returns the hash of a block header, which is also its
// proof-of-work hash.
func BlockHash(h *wire.BlockHeader) chainhash.Hash {
	var buf [wire.MaxBlockHeaderPayload]byte
	w := bytes.NewBuffer(buf[:0])
	// Serializing to a bytes.Buffer cannot fail.
	_ = h.Serialize(w)
	return DoubleHashH(w.Bytes())
}

// TxHash returns the txid of tx: the double SHA-256 of its serialization
// without witness data.
func TxHash(tx *wire.MsgTx) chainhash.Hash {
	w := bufPool.Get().(*bytes.Buffer)
	w.Reset()
	_ = tx.SerializeNoWitness(w)
	h := DoubleHashH(w.Bytes())
	bufPool.Put(w)
	return h
}

// WitnessHash returns the wtxid of tx. For a transaction without witness
// data it equals the txid.
func WitnessHash(tx *wire.MsgTx) chainhash.Hash {
	if !tx.HasWitness() {
		return TxHash(tx)
	}
	w := bufPool.Get().(*bytes.Buffer)
	w.Reset()
	_ = tx.Serialize(w)
	h := DoubleHashH(w.Bytes())
	bufPool.Put(w)
	return h
}
