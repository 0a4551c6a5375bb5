package poolindex

import (
	"errors"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/mempool"
)

// fakePool is a pool of one-input transactions spending confirmed
// outputs, each paying a script of its own.
type fakePool struct {
	mu  sync.Mutex
	seq uint64
	txs map[chainhash.Hash]*wire.MsgTx
}

func (p *fakePool) Sequence() uint64 { p.mu.Lock(); defer p.mu.Unlock(); return p.seq }
func (p *fakePool) TxIDsWithSequence() ([]chainhash.Hash, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []chainhash.Hash
	for id := range p.txs {
		ids = append(ids, id)
	}
	return ids, p.seq
}
func (p *fakePool) Entry(id chainhash.Hash) (*mempool.TxDesc, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tx, ok := p.txs[id]
	if !ok {
		return nil, mempool.ErrNotInPool
	}
	return &mempool.TxDesc{Tx: tx, TxID: id, Fee: 100, VSize: 100}, nil
}
func (p *fakePool) FetchTransaction(id chainhash.Hash) (*wire.MsgTx, error) {
	d, err := p.Entry(id)
	if err != nil {
		return nil, err
	}
	return d.Tx, nil
}
func (p *fakePool) Output(wire.OutPoint) (*wire.TxOut, bool) { return nil, false }

func (p *fakePool) set(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	p.txs = map[chainhash.Hash]*wire.MsgTx{}
	for i := range n {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: uint32(i)}})
		tx.AddTxOut(&wire.TxOut{Value: 1, PkScript: []byte{0x51, byte(i)}})
		p.txs[tx.TxHash()] = tx
	}
}

// utxos answers every outpoint with a confirmed output.
type utxos struct{}

func (utxos) FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error) {
	if op.Index > 1<<20 {
		return nil, errors.New("none")
	}
	return &utxo.Entry{Amount: 5, PkScript: []byte{0x52}}, nil
}

// TestConcurrentRefresh ensures refreshes from many goroutines while the
// pool changes (the explorer refreshes from its request handlers) neither
// race nor panic, and that a last refresh leaves the index equal to the
// pool.
func TestConcurrentRefresh(t *testing.T) {
	p := &fakePool{}
	p.set(0)
	ix := New(p, utxos{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if g == 0 {
					p.set((i * 7) % 50)
				}
				ix.Refresh(i%10 == 0)
			}
		})
	}
	wg.Wait()
	p.set(30)
	ix.Refresh(true)
	n := 0
	ix.Each(func(chainhash.Hash, *Tx) { n++ })
	if n != 30 {
		t.Fatalf("index holds %d transactions, the pool 30", n)
	}
	if !ix.Touches(chain.HashScript([]byte{0x52})) || !ix.Touches(chain.HashScript([]byte{0x51, 29})) ||
		ix.Touches(chain.HashScript([]byte{0x51, 30})) {
		t.Fatal("the scripts the index knows are not the pool's")
	}
}
