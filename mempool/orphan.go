package mempool

import (
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool/policy"
)

// maxOrphanWeight bounds one orphan, so the pool's memory stays bounded.
const maxOrphanWeight = policy.MaxStandardTxWeight

// orphanPool holds transactions whose parents are unknown, bounded in count
// and age, indexed by the txids they spend so that a parent's arrival finds
// them. It is guarded by the TxPool's lock.
type orphanPool struct {
	max    int
	expiry time.Duration
	txs    map[chainhash.Hash]*orphan
	byPrev map[chainhash.Hash]map[chainhash.Hash]*wire.MsgTx
}

type orphan struct {
	tx      *wire.MsgTx
	expires time.Time
}

func newOrphanPool(max int, expiry time.Duration) *orphanPool {
	return &orphanPool{max: max, expiry: expiry, txs: map[chainhash.Hash]*orphan{},
		byPrev: map[chainhash.Hash]map[chainhash.Hash]*wire.MsgTx{}}
}

// add stores tx, evicting a random orphan when full. It refuses large
// transactions and reports whether tx was stored.
func (o *orphanPool) add(tx *wire.MsgTx, now time.Time) bool {
	txid := consensus.TxHash(tx)
	if _, ok := o.txs[txid]; ok || consensus.TxWeight(tx) > maxOrphanWeight {
		return false
	}
	o.expire(now)
	for len(o.txs) >= o.max {
		for victim := range o.txs {
			o.remove(victim)
			break
		}
	}
	o.txs[txid] = &orphan{tx: tx, expires: now.Add(o.expiry)}
	for _, in := range tx.TxIn {
		m := o.byPrev[in.PreviousOutPoint.Hash]
		if m == nil {
			m = map[chainhash.Hash]*wire.MsgTx{}
			o.byPrev[in.PreviousOutPoint.Hash] = m
		}
		m[txid] = tx
	}
	return true
}

// remove drops an orphan.
func (o *orphanPool) remove(txid chainhash.Hash) {
	orph, ok := o.txs[txid]
	if !ok {
		return
	}
	for _, in := range orph.tx.TxIn {
		if m := o.byPrev[in.PreviousOutPoint.Hash]; m != nil {
			delete(m, txid)
			if len(m) == 0 {
				delete(o.byPrev, in.PreviousOutPoint.Hash)
			}
		}
	}
	delete(o.txs, txid)
}

// spending returns the orphans that spend outputs of txid.
func (o *orphanPool) spending(txid chainhash.Hash) []*wire.MsgTx {
	var out []*wire.MsgTx
	for _, tx := range o.byPrev[txid] {
		out = append(out, tx)
	}
	return out
}

// expire drops orphans past their time.
func (o *orphanPool) expire(now time.Time) {
	for id, orph := range o.txs {
		if now.After(orph.expires) {
			o.remove(id)
		}
	}
}

// count returns the number of orphans.
func (o *orphanPool) count() int { return len(o.txs) }

// OrphanCount returns the number of transactions waiting for parents.
func (p *TxPool) OrphanCount() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.orphans.count()
}
