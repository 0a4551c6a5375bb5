package mempool

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/internal/atomicfile"
)

// persistMagic starts a saved pool file (version 1).
var persistMagic = []byte("CAIRNMP1")

// Save writes the pool to path, parents before children, through a
// temporary file and a rename, so that a crash never leaves half a file.
func (p *TxPool) Save(path string) error {
	p.mu.RLock()
	entries := make([]*entry, 0, len(p.pool))
	depth := make(map[*entry]int, len(p.pool))
	for _, e := range p.pool {
		entries = append(entries, e)
		depth[e] = len(p.ancestorsLocked(e))
	}
	sort.Slice(entries, func(i, j int) bool {
		if depth[entries[i]] != depth[entries[j]] {
			return depth[entries[i]] < depth[entries[j]]
		}
		return entries[i].txid.String() < entries[j].txid.String()
	})
	var buf bytes.Buffer
	buf.Write(persistMagic)
	_ = binary.Write(&buf, binary.LittleEndian, uint64(len(entries)))
	for _, e := range entries {
		_ = binary.Write(&buf, binary.LittleEndian, e.unixTime)
		_ = binary.Write(&buf, binary.LittleEndian, uint32(len(e.raw)))
		buf.Write(e.raw)
	}
	p.mu.RUnlock()

	if err := atomicfile.Write(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("mempool: save: %w", err)
	}
	return nil
}

// Load reads a file written by Save and offers each transaction to the
// pool again (each is checked anew against the current chain), keeping its
// original entry time. It returns how many were accepted. A missing file
// loads nothing; a damaged one is an error, after loading what came before
// the damage.
func (p *TxPool) Load(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mempool: load: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic := make([]byte, len(persistMagic))
	if _, err := io.ReadFull(r, magic); err != nil || !bytes.Equal(magic, persistMagic) {
		return 0, fmt.Errorf("mempool: load %s: not a saved pool", path)
	}
	var count uint64
	if err := binary.Read(r, binary.LittleEndian, &count); err != nil {
		return 0, fmt.Errorf("mempool: load %s: %w", path, err)
	}
	accepted := 0
	for i := uint64(0); i < count; i++ {
		var t int64
		var size uint32
		if err := binary.Read(r, binary.LittleEndian, &t); err != nil {
			return accepted, fmt.Errorf("mempool: load %s: entry %d: %w", path, i, err)
		}
		if err := binary.Read(r, binary.LittleEndian, &size); err != nil || size > consensus.MaxBlockBytes {
			return accepted, fmt.Errorf("mempool: load %s: entry %d: bad size", path, i)
		}
		raw := make([]byte, size)
		if _, err := io.ReadFull(r, raw); err != nil {
			return accepted, fmt.Errorf("mempool: load %s: entry %d: %w", path, i, err)
		}
		tx, err := consensus.DecodeTx(raw)
		if err != nil {
			return accepted, fmt.Errorf("mempool: load %s: entry %d: %w", path, i, err)
		}
		if _, err := p.ProcessTransaction(tx, false); err != nil {
			p.log.Debug("saved transaction not restored", "txid", consensus.TxHash(tx), "err", err)
			continue
		}
		p.setTime(consensus.TxHash(tx), time.Unix(t, 0))
		accepted++
	}
	return accepted, nil
}

// setTime restores a loaded entry's original time.
func (p *TxPool) setTime(txid [32]byte, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.pool[txid]; ok {
		e.unixTime = t.Unix()
	}
}

// Output looks up an output created by a pool transaction.
func (p *TxPool) Output(op wire.OutPoint) (*wire.TxOut, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.pool[op.Hash]
	if !ok {
		return nil, false
	}
	tx := e.msgTx()
	if int(op.Index) >= len(tx.TxOut) {
		return nil, false
	}
	return tx.TxOut[op.Index], true
}

// IsSpent reports whether a pool transaction spends op.
func (p *TxPool) IsSpent(op wire.OutPoint) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.spent[op]
	return ok
}

// Spender returns the pool transaction that spends op, if one does.
func (p *TxPool) Spender(op wire.OutPoint) (chainhash.Hash, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.spent[op]
	if !ok {
		return chainhash.Hash{}, false
	}
	return e.txid, true
}
