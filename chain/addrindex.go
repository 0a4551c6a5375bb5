package chain

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/google/btree"
	"github.com/minio/sha256-simd"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/internal/store"
	"github.com/cairnchain/cairn/chain/utxo"
)

// The address index (--addrindex) maps the SHA-256 of an output script (the
// Electrum protocol's script hash, before its hex is reversed) to the
// confirmed transactions that pay or spend that script and to its unspent
// outputs, for the main chain:
//
//	'a' sh height txpos    -> txid, then uvarints of the outputs the
//	                          transaction pays sh (count, sum) and of the
//	                          outputs of sh it spends (count, sum): sh's
//	                          history, in block order (height and position
//	                          4 bytes big-endian)
//	'o' sh txid vout       -> height, txpos (4 bytes big-endian each),
//	                          uvarint(amount): sh's unspent outputs
//	'A'                    -> the block the index matches, then the
//	                          record format's version (addrIndexVersion)
//
// It moves with the tip: a connected block's changes are computed from the
// block and the outputs it spent, a disconnected block's from the block and
// its undo data, and both wait with the UTXO changes for the next flush,
// which writes them and the index tip in the same atomic batch as the chain
// state. Outputs that can never be spent (OP_RETURN) are not indexed, nor is
// the genesis block, as they are not in the UTXO set.
//
// Readers take a view (AddrIndexView): a database snapshot and a
// copy-on-write clone of the pending changes, taken together under addrMu,
// so a long read never holds up the writer and always sees one tip.
const (
	prefixAddrHistory = 'a'
	prefixAddrUnspent = 'o'
	keyAddrTip        = 'A'

	// addrIndexVersion is the format of the records; an index of another
	// format is rebuilt. Version 2 added the sums to history records.
	addrIndexVersion = 2
)

// addrTipValue is the stored index tip: the block hash and the version.
func addrTipValue(hash *chainhash.Hash) []byte {
	return append(hash[:len(hash):len(hash)], addrIndexVersion)
}

// ScriptHash is the SHA-256 of an output script, the address index's key
// (the Electrum protocol shows it as hex of the reversed bytes).
type ScriptHash [32]byte

// HashScript returns the script hash of an output script.
func HashScript(pkScript []byte) ScriptHash { return sha256.Sum256(pkScript) }

// ErrAddrIndexOff is returned by address index queries when the index is
// not kept.
var ErrAddrIndexOff = errors.New("chain: the address index is off (--addrindex)")

// ErrAddrHistoryTooLarge is returned when a script's history has more
// entries than the caller's limit.
var ErrAddrHistoryTooLarge = errors.New("chain: address history too large")

// AddrTx is one entry of a script's confirmed history.
type AddrTx struct {
	Height int32
	TxPos  uint32 // position in its block
	TxID   chainhash.Hash
	// What the transaction does to the script: the outputs it pays the
	// script, and the script's outputs it spends (counts and sums), as
	// Esplora's address statistics count them.
	FundedCount, SpentCount uint32
	FundedSum, SpentSum     int64
}

// encodeAddrHistory is a history record's value.
func encodeAddrHistory(t *addrTouch, txid *chainhash.Hash) []byte {
	v := make([]byte, 0, chainhash.HashSize+2*binary.MaxVarintLen32+2*binary.MaxVarintLen64)
	v = append(v, txid[:]...)
	v = binary.AppendUvarint(v, uint64(t.fundedCount))
	v = binary.AppendUvarint(v, uint64(t.fundedSum))
	v = binary.AppendUvarint(v, uint64(t.spentCount))
	return binary.AppendUvarint(v, uint64(t.spentSum))
}

// decodeAddrHistory reads a history record.
func decodeAddrHistory(k, v []byte) (AddrTx, error) {
	var t AddrTx
	if len(k) != 1+32+8 || len(v) < chainhash.HashSize+4 {
		return t, fmt.Errorf("%w: address index history record", ErrCorruptDatabase)
	}
	t.Height = int32(binary.BigEndian.Uint32(k[33:]))
	t.TxPos = binary.BigEndian.Uint32(k[37:])
	t.TxID = chainhash.Hash(v[:chainhash.HashSize])
	v = v[chainhash.HashSize:]
	var x [4]uint64
	for i := range x {
		n := 0
		x[i], n = binary.Uvarint(v)
		if n <= 0 {
			return t, fmt.Errorf("%w: address index history record", ErrCorruptDatabase)
		}
		v = v[n:]
	}
	if len(v) != 0 || x[0] > math.MaxUint32 || x[2] > math.MaxUint32 || x[1] > consensus.MaxMoney || x[3] > consensus.MaxMoney {
		return t, fmt.Errorf("%w: address index history sums", ErrCorruptDatabase)
	}
	t.FundedCount, t.FundedSum = uint32(x[0]), int64(x[1])
	t.SpentCount, t.SpentSum = uint32(x[2]), int64(x[3])
	return t, nil
}

// AddrUnspent is one confirmed unspent output of a script.
type AddrUnspent struct {
	OutPoint wire.OutPoint
	Height   int32
	TxPos    uint32
	Amount   int64
}

// addrItem is one pending change of the address index: a put, or a delete
// when del is set.
type addrItem struct {
	key string
	val []byte
	del bool
}

func addrItemLess(a, b addrItem) bool { return a.key < b.key }

func newAddrPending() *btree.BTreeG[addrItem] { return btree.NewG(32, addrItemLess) }

func addrHistoryKey(sh *ScriptHash, height int32, txPos uint32) []byte {
	k := make([]byte, 0, 1+32+8)
	k = append(append(k, prefixAddrHistory), sh[:]...)
	k = binary.BigEndian.AppendUint32(k, uint32(height))
	return binary.BigEndian.AppendUint32(k, txPos)
}

func addrUnspentKey(sh *ScriptHash, op *wire.OutPoint) []byte {
	k := make([]byte, 0, 1+32+32+4)
	k = append(append(k, prefixAddrUnspent), sh[:]...)
	k = append(k, op.Hash[:]...)
	return binary.BigEndian.AppendUint32(k, op.Index)
}

func encodeAddrUnspent(height int32, txPos uint32, amount int64) []byte {
	v := make([]byte, 0, 8+binary.MaxVarintLen64)
	v = binary.BigEndian.AppendUint32(v, uint32(height))
	v = binary.BigEndian.AppendUint32(v, txPos)
	return binary.AppendUvarint(v, uint64(amount))
}

func decodeAddrUnspent(k, v []byte) (AddrUnspent, error) {
	var u AddrUnspent
	if len(k) != 1+32+32+4 || len(v) < 9 {
		return u, fmt.Errorf("%w: address index unspent record", ErrCorruptDatabase)
	}
	copy(u.OutPoint.Hash[:], k[33:65])
	u.OutPoint.Index = binary.BigEndian.Uint32(k[65:])
	u.Height = int32(binary.BigEndian.Uint32(v))
	u.TxPos = binary.BigEndian.Uint32(v[4:])
	amount, n := binary.Uvarint(v[8:])
	if n <= 0 || 8+n != len(v) || amount > consensus.MaxMoney {
		return u, fmt.Errorf("%w: address index unspent amount", ErrCorruptDatabase)
	}
	u.Amount = int64(amount)
	return u, nil
}

// addrTouch is what the transaction being indexed does to one script.
type addrTouch struct {
	sh                      ScriptHash
	fundedCount, spentCount uint32
	fundedSum, spentSum     int64
}

// addrOps collects the changes one block makes to the address index.
type addrOps struct {
	items   []addrItem
	touched []addrTouch // scripts of the transaction being indexed
	seen    map[ScriptHash]int
	// block holds every script whose history the block changes.
	block map[ScriptHash]struct{}
}

// scripts returns the scripts whose history the block changes.
func (o *addrOps) scripts() []ScriptHash {
	out := make([]ScriptHash, 0, len(o.block))
	for sh := range o.block {
		out = append(out, sh)
	}
	return out
}

func (o *addrOps) put(k, v []byte) { o.items = append(o.items, addrItem{key: string(k), val: v}) }
func (o *addrOps) del(k []byte)    { o.items = append(o.items, addrItem{key: string(k), del: true}) }

// touch records that the current transaction pays or spends sh and
// returns its record.
func (o *addrOps) touch(sh ScriptHash) *addrTouch {
	if len(o.touched) < 16 {
		for i := range o.touched {
			if o.touched[i].sh == sh {
				return &o.touched[i]
			}
		}
	} else {
		if o.seen == nil {
			o.seen = make(map[ScriptHash]int)
		}
		if len(o.seen) == 0 {
			for i, t := range o.touched {
				o.seen[t.sh] = i
			}
		}
		if i, ok := o.seen[sh]; ok {
			return &o.touched[i]
		}
		o.seen[sh] = len(o.touched)
	}
	o.touched = append(o.touched, addrTouch{sh: sh})
	return &o.touched[len(o.touched)-1]
}

// endTx clears the touched scripts for the next transaction.
func (o *addrOps) endTx() {
	if o.block == nil {
		o.block = make(map[ScriptHash]struct{})
	}
	for _, t := range o.touched {
		o.block[t.sh] = struct{}{}
	}
	o.touched = o.touched[:0]
	clear(o.seen)
}

// addrConnectOps returns the address index changes of connecting block at
// height; spent are the outputs it spends, in order.
func addrConnectOps(block *wire.MsgBlock, txids []chainhash.Hash, height int32, spent []*utxo.Entry) (*addrOps, error) {
	ops := &addrOps{}
	next := 0
	for i, tx := range block.Transactions {
		pos := uint32(i)
		if i > 0 {
			for _, in := range tx.TxIn {
				if next >= len(spent) {
					return nil, fmt.Errorf("chain: address index: %d spent outputs for more inputs", len(spent))
				}
				e := spent[next]
				sh := HashScript(e.PkScript)
				next++
				ops.del(addrUnspentKey(&sh, &in.PreviousOutPoint))
				t := ops.touch(sh)
				t.spentCount++
				t.spentSum += e.Amount
			}
		}
		for o, out := range tx.TxOut {
			if utxo.IsUnspendable(out.PkScript) {
				continue
			}
			sh := HashScript(out.PkScript)
			op := wire.OutPoint{Hash: txids[i], Index: uint32(o)}
			ops.put(addrUnspentKey(&sh, &op), encodeAddrUnspent(height, pos, out.Value))
			t := ops.touch(sh)
			t.fundedCount++
			t.fundedSum += out.Value
		}
		for j := range ops.touched {
			t := &ops.touched[j]
			ops.put(addrHistoryKey(&t.sh, height, pos), encodeAddrHistory(t, &txids[i]))
		}
		ops.endTx()
	}
	if next != len(spent) {
		return nil, fmt.Errorf("chain: address index: %d spent outputs for %d inputs", len(spent), next)
	}
	return ops, nil
}

// addrDisconnectOps returns the address index changes of disconnecting
// block at height, the tip; txids are its transactions' and spent is its
// undo data. A restored output's position in its block is found in its
// script's history.
// This function MUST be called with the process lock held.
func (b *BlockChain) addrDisconnectOps(block *wire.MsgBlock, txids []chainhash.Hash, height int32, spent []*utxo.Entry) (*addrOps, error) {
	ops := &addrOps{}
	next := len(spent)
	for i := len(block.Transactions) - 1; i >= 0; i-- {
		tx := block.Transactions[i]
		txid := txids[i]
		for o, out := range tx.TxOut {
			if utxo.IsUnspendable(out.PkScript) {
				continue
			}
			sh := HashScript(out.PkScript)
			ops.del(addrUnspentKey(&sh, &wire.OutPoint{Hash: txid, Index: uint32(o)}))
			ops.touch(sh)
		}
		if i > 0 {
			for j := len(tx.TxIn) - 1; j >= 0; j-- {
				next--
				if next < 0 {
					return nil, fmt.Errorf("%w: undo data of block %d is too short", ErrCorruptDatabase, height)
				}
				e, op := spent[next], &tx.TxIn[j].PreviousOutPoint
				sh := HashScript(e.PkScript)
				pos, err := b.addrTxPos(&sh, e.Height, &op.Hash)
				if err != nil {
					return nil, err
				}
				ops.put(addrUnspentKey(&sh, op), encodeAddrUnspent(e.Height, pos, e.Amount))
				ops.touch(sh)
			}
		}
		for j := range ops.touched {
			ops.del(addrHistoryKey(&ops.touched[j].sh, height, uint32(i)))
		}
		ops.endTx()
	}
	return ops, nil
}

// addrTxPos finds the position of transaction txid in its block at height
// from the history of a script it pays.
// This function MUST be called with the process lock held.
func (b *BlockChain) addrTxPos(sh *ScriptHash, height int32, txid *chainhash.Hash) (uint32, error) {
	prefix := addrHistoryKey(sh, height, 0)[:1+32+4]
	var pos uint32
	found := false
	b.addrMu.Lock()
	err := mergeAddrRange(b.db.ForEach, b.addrPend, prefix, func(k, v []byte) bool {
		if len(v) >= chainhash.HashSize && bytes.Equal(v[:chainhash.HashSize], txid[:]) {
			pos, found = binary.BigEndian.Uint32(k[1+32+4:]), true
			return false
		}
		return true
	})
	b.addrMu.Unlock()
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("%w: address index has no transaction %v at height %d for a script it pays",
			ErrCorruptDatabase, txid, height)
	}
	return pos, nil
}

// applyAddrOps queues a block's address index changes for the next flush
// and moves the index's tip to tip.
// This function MUST be called with the process lock held.
func (b *BlockChain) applyAddrOps(ops *addrOps, tip *blockNode) {
	b.addrMu.Lock()
	for _, it := range ops.items {
		b.addrPend.ReplaceOrInsert(it)
		b.pendingBytes += int64(len(it.key)+len(it.val)) + 48
	}
	b.addrTip = tip
	b.addrMu.Unlock()
}

// writeAddrPending puts the pending address index changes in batch.
// This function MUST be called with the process lock held.
func (b *BlockChain) writeAddrPending(batch *store.Batch) {
	b.addrPend.Ascend(func(it addrItem) bool {
		if it.del {
			batch.Delete([]byte(it.key))
		} else {
			batch.Put([]byte(it.key), it.val)
		}
		return true
	})
}

// addrFlushed empties the pending changes once the batch holding them is
// written. Readers that took their view before see the same records in
// the old snapshot and the old changes.
// This function MUST be called with the process lock held.
func (b *BlockChain) addrFlushed() {
	b.addrMu.Lock()
	b.addrPend = newAddrPending()
	b.addrMu.Unlock()
}

// mergeAddrRange calls fn, in key order, for every record with prefix in
// the database (through forEach) as changed by the pending changes, until
// fn returns false.
func mergeAddrRange(forEach func([]byte, func(k, v []byte) error) error, pend *btree.BTreeG[addrItem],
	prefix []byte, fn func(k, v []byte) bool) error {
	var pending []addrItem
	end := string(prefixEnd(prefix))
	pend.AscendRange(addrItem{key: string(prefix)}, addrItem{key: end}, func(it addrItem) bool {
		pending = append(pending, it)
		return true
	})
	errStop := errors.New("stop")
	emit := func(it addrItem) bool { return it.del || fn([]byte(it.key), it.val) }
	err := forEach(prefix, func(k, v []byte) error {
		for len(pending) > 0 && pending[0].key < string(k) {
			if !emit(pending[0]) {
				return errStop
			}
			pending = pending[1:]
		}
		if len(pending) > 0 && pending[0].key == string(k) {
			it := pending[0]
			pending = pending[1:]
			if !emit(it) {
				return errStop
			}
			return nil
		}
		if !fn(k, v) {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("chain: read address index: %w", err)
	}
	for _, it := range pending {
		if !emit(it) {
			break
		}
	}
	return nil
}

// prefixEnd returns the least key greater than every key with prefix (nil
// for none: all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// AddrIndexEnabled reports whether the address index is kept.
func (b *BlockChain) AddrIndexEnabled() bool { return b.cfg.AddrIndex }

// AddrView is a consistent read-only view of the address index at one tip.
// It must be released.
type AddrView struct {
	snap   *store.Snapshot
	pend   *btree.BTreeG[addrItem]
	hash   chainhash.Hash
	height int32
}

// AddrIndexView returns a view of the address index as it is now.
// This function is safe for concurrent access.
func (b *BlockChain) AddrIndexView() (*AddrView, error) {
	if !b.cfg.AddrIndex {
		return nil, ErrAddrIndexOff
	}
	b.addrMu.Lock()
	defer b.addrMu.Unlock()
	snap, err := b.db.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("chain: address index: %w", err)
	}
	return &AddrView{snap: snap, pend: b.addrPend.Clone(), hash: b.addrTip.hash, height: b.addrTip.height}, nil
}

// Release frees the view.
func (v *AddrView) Release() { v.snap.Release() }

// Tip returns the hash and height of the block the view matches.
func (v *AddrView) Tip() (chainhash.Hash, int32) { return v.hash, v.height }

// History returns the confirmed transactions that pay or spend the script,
// in block order. With limit > 0, more than limit entries is an error
// wrapping ErrAddrHistoryTooLarge.
func (v *AddrView) History(sh ScriptHash, limit int) ([]AddrTx, error) {
	return v.AppendHistory(nil, sh, limit)
}

// AppendHistory is History appending to dst, so that a caller answering
// many queries can reuse one buffer.
func (v *AddrView) AppendHistory(dst []AddrTx, sh ScriptHash, limit int) ([]AddrTx, error) {
	out, base := dst, len(dst)
	prefix := append([]byte{prefixAddrHistory}, sh[:]...)
	var bad error
	err := mergeAddrRange(v.snap.ForEach, v.pend, prefix, func(k, val []byte) bool {
		if limit > 0 && len(out)-base == limit {
			bad = fmt.Errorf("%w: more than %d entries", ErrAddrHistoryTooLarge, limit)
			return false
		}
		t, err := decodeAddrHistory(k, val)
		if err != nil {
			bad = err
			return false
		}
		out = append(out, t)
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Unspent returns the script's confirmed unspent outputs in block order
// (height, position in the block, output index). With limit > 0, more than
// limit outputs is an error wrapping ErrAddrHistoryTooLarge.
func (v *AddrView) Unspent(sh ScriptHash, limit int) ([]AddrUnspent, error) {
	return v.AppendUnspent(nil, sh, limit)
}

// AppendUnspent is Unspent appending to dst (only the appended part is
// sorted), so that a caller answering many queries can reuse one buffer.
func (v *AddrView) AppendUnspent(dst []AddrUnspent, sh ScriptHash, limit int) ([]AddrUnspent, error) {
	out, base := dst, len(dst)
	prefix := append([]byte{prefixAddrUnspent}, sh[:]...)
	var bad error
	err := mergeAddrRange(v.snap.ForEach, v.pend, prefix, func(k, val []byte) bool {
		if limit > 0 && len(out)-base == limit {
			bad = fmt.Errorf("%w: more than %d unspent outputs", ErrAddrHistoryTooLarge, limit)
			return false
		}
		u, err := decodeAddrUnspent(k, val)
		if err != nil {
			bad = err
			return false
		}
		out = append(out, u)
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, err
	}
	sortUnspent(out[base:])
	return out, nil
}

// unspentOrder is the sort key of one unspent output and its position.
type unspentOrder struct {
	key  uint64 // height, position in the block
	vout uint32
	at   uint32
}

var orderPool = sync.Pool{New: func() any { return new([]unspentOrder) }}

// sortUnspent puts outputs in block order (height, position in the block,
// output index). It sorts 16-byte keys and then moves each output once, in
// place: sorting the 56-byte outputs themselves took most of a long
// listunspent's time.
func sortUnspent(us []AddrUnspent) {
	if len(us) < 2 {
		return
	}
	p := orderPool.Get().(*[]unspentOrder)
	ords := (*p)[:0]
	for i := range us {
		ords = append(ords, unspentOrder{key: uint64(us[i].Height)<<32 | uint64(us[i].TxPos), vout: us[i].OutPoint.Index, at: uint32(i)})
	}
	slices.SortFunc(ords, func(a, b unspentOrder) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		return cmp.Compare(a.vout, b.vout)
	})
	// Position j takes the output at ords[j].at; follow each cycle of
	// the permutation once, marking placed positions.
	const placed = ^uint32(0)
	for j := range ords {
		if ords[j].at == placed || ords[j].at == uint32(j) {
			continue
		}
		tmp := us[j]
		k := j
		for {
			src := ords[k].at
			ords[k].at = placed
			if int(src) == j {
				us[k] = tmp
				break
			}
			us[k] = us[src]
			k = int(src)
		}
	}
	*p = ords
	orderPool.Put(p)
}

// syncAddrIndex makes the address index match the stored tip: nothing to
// do when its tip is the chain's; the blocks above it when its tip is on
// the main chain; otherwise (never on, or off while the chain reorganized)
// it is cleared and built from every stored block and its undo data. The
// blocks must not be pruned.
//
// This function MUST be called before the chain is shared, with no pending
// changes.
func (b *BlockChain) syncAddrIndex() error {
	tip := b.best.tip()
	b.addrTip = tip
	v, err := b.db.Get([]byte{keyAddrTip})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("chain: read address index tip: %w", err)
	}
	start := int32(1)
	batch := new(store.Batch)
	var n *blockNode
	if err == nil && len(v) == chainhash.HashSize+1 && v[chainhash.HashSize] == addrIndexVersion {
		n = b.index[chainhash.Hash(v[:chainhash.HashSize])]
	}
	if n != nil && b.best.contains(n) {
		if n == tip {
			return nil
		}
		start = n.height + 1
	} else {
		// The old records go first, in bounded batches, after the tip
		// that vouched for them (so a crash half way rebuilds again).
		del := new(store.Batch)
		del.Delete([]byte{keyAddrTip})
		flushDel := func() error {
			if err := b.db.Write(del, false); err != nil {
				return fmt.Errorf("chain: clear address index: %w", err)
			}
			del.Reset()
			return nil
		}
		if err := flushDel(); err != nil {
			return err
		}
		for _, p := range []byte{prefixAddrHistory, prefixAddrUnspent} {
			err := b.db.ForEach([]byte{p}, func(k, _ []byte) error {
				del.Delete(bytes.Clone(k))
				if del.Size() > 16<<20 {
					return flushDel()
				}
				return nil
			})
			if err == nil {
				err = flushDel()
			}
			if err != nil {
				return fmt.Errorf("chain: clear address index: %w", err)
			}
		}
	}
	b.log.Info("building address index", "from", start, "to", tip.height)
	for h := start; h <= tip.height; h++ {
		n := b.best[h]
		block, err := b.readBlock(n)
		if err == nil && h > 0 {
			var spent []*utxo.Entry
			if spent, err = b.readUndo(n, block); err == nil {
				var ops *addrOps
				if ops, err = addrConnectOps(block, consensus.TxHashes(block), h, spent); err == nil {
					for _, it := range ops.items {
						if it.del {
							batch.Delete([]byte(it.key))
						} else {
							batch.Put([]byte(it.key), it.val)
						}
					}
				}
			}
		}
		if errors.Is(err, ErrBlockPruned) {
			return fmt.Errorf("chain: build address index: it needs every block from height %d, and block %d is pruned: %w",
				start, h, err)
		}
		if err != nil {
			return fmt.Errorf("chain: build address index: %w", err)
		}
		// Progress is kept batch by batch once the old records are gone.
		if batch.Size() > 16<<20 {
			batch.Put([]byte{keyAddrTip}, addrTipValue(&n.hash))
			if err := b.db.Write(batch, false); err != nil {
				return fmt.Errorf("chain: build address index: %w", err)
			}
			batch.Reset()
		}
	}
	batch.Put([]byte{keyAddrTip}, addrTipValue(&tip.hash))
	if err := b.db.Write(batch, true); err != nil {
		return fmt.Errorf("chain: build address index: %w", err)
	}
	return nil
}
