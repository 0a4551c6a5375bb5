package mempool

import (
	"context"
	"errors"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool/policy"
)

// rollingFeeHalfLife is how fast the pool's raised minimum fee decays back
// after evictions (Bitcoin Core's ROLLING_FEE_HALFLIFE).
const rollingFeeHalfLife = 12 * time.Hour

// Run follows the chain until ctx ends: transactions of connected blocks
// and their conflicts leave the pool; those of disconnected blocks come
// back when still valid; expired transactions and orphans are dropped.
func (p *TxPool) Run(ctx context.Context) error {
	sub := p.chain.Subscribe()
	defer sub.Close()
	// Notifications start here: the pool holds what is valid on this tip.
	p.markSynced(p.chain.BestSnapshot().Hash)
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-sub.C():
			if !ok {
				return nil
			}
			p.HandleNotification(n)
		case <-tick.C:
			p.Expire()
		}
	}
}

// HandleNotification applies one chain notification to the pool.
//
// Transactions of disconnected blocks are held until the pool has caught
// up with the chain's tip, then offered again oldest block first (Bitcoin
// Core's DisconnectedBlockTransactions and MaybeUpdateMempoolForReorg).
// Offered one block at a time, a transaction whose parent is in an older
// disconnected block would find neither its parent's output, which the
// chain no longer has, nor the parent, which the pool has not taken back
// yet, and would be lost. Those that a connected block confirms meanwhile
// are not offered at all.
//
// The pool acts on the chain's state only while the chain rests at the tip
// n leaves it at, with block processing waiting (Core runs
// MaybeUpdateMempoolForReorg under cs_main). The pool hears of a
// reorganization while the chain goes on with it: a tip read without the
// wait may be one the reorganization passes through, and the UTXO set may
// lose, under the transactions being offered, the outputs of blocks
// disconnected a moment later.
func (p *TxPool) HandleNotification(n chain.Notification) {
	switch n.Type {
	case chain.BlockConnected:
		p.blockConnected(n.Block, n.Height)
	case chain.BlockDisconnected:
		// The block is shared with other subscribers: hold our own list.
		p.returning = append(p.returning, append([]*wire.MsgTx(nil), n.Block.Transactions[1:]...))
	}
	left := n.Hash
	if n.Type == chain.BlockDisconnected {
		left = n.Block.Header.PrevBlock
	}
	defer p.markSynced(left)
	// An error is a closed chain: nothing more to do.
	_ = p.chain.WithTip(func(tip *chain.BestState) {
		if tip.Hash != left {
			return // more of the same reorganization is on its way
		}
		if len(p.returning) > 0 {
			p.returnDisconnected()
		}
		if n.Type == chain.BlockConnected {
			p.retryHeld()
			p.retryOrphans()
		}
	})
}

// markSynced records that the pool has heard of the chain up to tip.
func (p *TxPool) markSynced(tip chainhash.Hash) {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	if p.synced != tip {
		p.synced = tip
		close(p.syncCh)
		p.syncCh = make(chan struct{})
	}
}

// syncWait bounds WaitSynced: the pool hears of a block within
// milliseconds, and past this bound a caller that needs the pool valid on
// a new tip (a block template, an RPC call that moved the tip) takes it as
// it is rather than hang.
const syncWait = 5 * time.Second

// WaitSynced waits until the pool has heard of every block the chain
// connected and disconnected up to tip, so that what it holds is what is
// valid on tip, and reports whether it has. It gives up when ctx ends,
// after syncWait, or as soon as tip is no longer the chain's tip.
//
// The pool follows the chain a moment behind it: a block template taken
// from the pool right after a block is connected would otherwise carry
// transactions that block confirmed (Bitcoin Core's pool is updated within
// ConnectTip, under cs_main, and never lags).
func (p *TxPool) WaitSynced(ctx context.Context, tip chainhash.Hash) bool {
	var timeout <-chan time.Time // started only if the pool lags
	for {
		p.syncMu.Lock()
		synced, ch := p.synced, p.syncCh
		p.syncMu.Unlock()
		if synced == tip {
			return true
		}
		if p.chain.BestSnapshot().Hash != tip {
			return false
		}
		if timeout == nil {
			t := time.NewTimer(syncWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-timeout:
			return false
		}
	}
}

// blockConnected removes the block's transactions and everything that
// conflicts with them, and records their fee rates for estimates.
func (p *TxPool) blockConnected(block *wire.MsgBlock, height int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rates []float64
	confirmed := make(map[chainhash.Hash]bool, len(block.Transactions))
	for _, tx := range block.Transactions[1:] {
		txid := consensus.TxHash(tx)
		confirmed[txid] = true
		if e, ok := p.pool[txid]; ok {
			rates = append(rates, float64(e.fee)*1000/float64(e.vsize))
			p.removeLocked(e, false)
		}
		for _, in := range tx.TxIn {
			if c, ok := p.spent[in.PreviousOutPoint]; ok {
				for _, r := range p.removeLocked(c, true) {
					p.log.Debug("transaction removed: conflicts with a block", "txid", r.txid, "block_tx", txid)
				}
			}
		}
		p.orphans.remove(txid)
	}
	p.feeStats.record(height, rates)
	p.dropHeldConflictsLocked(block, confirmed)
	// A transaction waiting to return that this block confirms is home.
	for i, txs := range p.returning {
		kept := txs[:0]
		for _, tx := range txs {
			if !confirmed[consensus.TxHash(tx)] {
				kept = append(kept, tx)
			}
		}
		p.returning[i] = kept
	}
}

// dropHeldConflictsLocked drops the held transactions that block confirms
// or conflicts with: the chain can never include them again. Their held
// children fail at the next retry.
func (p *TxPool) dropHeldConflictsLocked(block *wire.MsgBlock, confirmed map[chainhash.Hash]bool) {
	if len(p.held) == 0 {
		return
	}
	spent := make(map[wire.OutPoint]struct{})
	for _, tx := range block.Transactions[1:] {
		for _, in := range tx.TxIn {
			spent[in.PreviousOutPoint] = struct{}{}
		}
	}
	kept := p.held[:0]
	for _, h := range p.held {
		gone := confirmed[h.txid]
		for _, in := range h.tx.TxIn {
			if _, ok := spent[in.PreviousOutPoint]; ok {
				gone = true
			}
		}
		if gone {
			delete(p.heldIDs, h.txid)
			p.heldWeight -= h.weight
			continue
		}
		kept = append(kept, h)
	}
	clear(p.held[len(kept):])
	p.held = kept
}

// returnDisconnected offers the held transactions of disconnected blocks
// to the pool again, oldest block first and in block order, so parents
// come before their children, and then drops pool transactions the
// reorganization made invalid (spending outputs that vanished or coinbases
// no longer mature). OnAccepted hears of those taken back.
//
// Those the new chain cannot include yet are held (see hold) rather than
// dropped.
func (p *TxPool) returnDisconnected() {
	blocks := p.returning
	p.returning = nil
	for i := len(blocks) - 1; i >= 0; i-- {
		for _, tx := range blocks[i] {
			if _, err := p.process(tx, false, true); err != nil {
				if p.waitsForChain(tx, err) {
					p.hold(tx)
					continue
				}
				p.log.Debug("disconnected transaction not returned to the pool", "txid", consensus.TxHash(tx), "err", err)
			}
		}
	}
	for _, tx := range p.revalidate() {
		p.hold(tx)
	}
}

// heldTx is a held transaction with its txid and weight, computed once.
type heldTx struct {
	tx     *wire.MsgTx
	txid   chainhash.Hash
	weight int64
}

// maxHeldWeight bounds the weight of held transactions: four full blocks.
// Only a reorganization (which costs its proof of work) can fill it.
const maxHeldWeight = 4 * consensus.MaxBlockWeight

// waitsForChain reports whether tx, refused with err, was refused only
// because the chain is not far enough yet: its lock time or BIP68 relative
// lock is not reached, a coinbase it spends is not mature yet, or it
// spends a transaction that is held itself.
//
// After a reorganization to a branch with more work but fewer blocks (as
// ASERT allows), a transaction that was final in its block may not be
// final at the new tip: wallets set the lock time to the tip's height
// (anti-fee-sniping), so a payment confirmed two blocks above the fork is
// not final on a branch one block shorter. Bitcoin Core drops such
// transactions and counts on the sender's wallet to broadcast them again;
// the pool keeps them until the chain reaches their locks.
func (p *TxPool) waitsForChain(tx *wire.MsgTx, err error) bool {
	var re *RejectError
	if !errors.As(err, &re) {
		return false
	}
	switch {
	case re.Code == RejectPremature, re.Reason == "non-final", re.Reason == "non-BIP68-final":
		return true
	case re.Code == RejectMissingInputs:
		for _, in := range tx.TxIn {
			if _, ok := p.heldIDs[in.PreviousOutPoint.Hash]; ok {
				return true
			}
		}
	}
	return false
}

// hold keeps tx, which the chain cannot include yet, to offer it again
// after each connected block (retryHeld). Beyond maxHeldWeight it is
// dropped, as Core drops every such transaction.
func (p *TxPool) hold(tx *wire.MsgTx) {
	txid := consensus.TxHash(tx)
	if _, ok := p.heldIDs[txid]; ok {
		return
	}
	w := int64(consensus.TxWeight(tx))
	if p.heldWeight+w > maxHeldWeight {
		p.log.Debug("transaction the chain cannot include yet dropped: too many held", "txid", txid)
		return
	}
	if p.heldIDs == nil {
		p.heldIDs = make(map[chainhash.Hash]struct{})
	}
	p.held = append(p.held, heldTx{tx: tx, txid: txid, weight: w})
	p.heldIDs[txid] = struct{}{}
	p.heldWeight += w
}

// retryHeld offers the held transactions to the pool again, once the chain
// has grown: those taken leave the list, those that still wait stay, the
// rest (confirmed meanwhile, conflicting with the chain) are dropped.
// Passes repeat while some are taken, so a child held beside its parent
// follows it in.
func (p *TxPool) retryHeld() {
	for progress := len(p.held) > 0; progress; {
		progress = false
		waiting := p.held
		p.held, p.heldWeight = nil, 0
		for _, h := range waiting {
			_, err := p.process(h.tx, false, true)
			if err != nil && p.waitsForChain(h.tx, err) {
				p.held = append(p.held, h)
				p.heldWeight += h.weight
				continue
			}
			delete(p.heldIDs, h.txid)
			if err != nil {
				p.log.Debug("held transaction dropped", "txid", h.txid, "err", err)
				continue
			}
			progress = true
		}
	}
}

// retryOrphans offers every orphan again after a block connected: a block
// may confirm the parent an orphan waited for (after a reorganization, a
// peer's transaction often arrives before the block that makes it valid),
// and the pool would otherwise only look for orphans when a parent enters
// the pool itself. The orphan pool is small, so this is cheap.
func (p *TxPool) retryOrphans() {
	p.mu.Lock()
	waiting := make([]*wire.MsgTx, 0, p.orphans.count())
	for _, o := range p.orphans.txs {
		waiting = append(waiting, o.tx)
	}
	p.mu.Unlock()
	for _, tx := range waiting {
		_, err := p.ProcessTransaction(tx, false)
		var re *RejectError
		if err == nil || (errors.As(err, &re) && re.Code == RejectMissingInputs) {
			continue // taken (and out of the orphan pool), or still waiting
		}
		p.mu.Lock()
		p.orphans.remove(consensus.TxHash(tx))
		p.mu.Unlock()
	}
}

// nextBlockTimes returns the height of the next block, the tip's median
// time past (which BIP68 time locks compare against) and the lock-time
// cutoff a transaction must be final at: the median time past once CSV is
// active (BIP113), the clock before.
func (p *TxPool) nextBlockTimes() (height int32, mtp, cutoff int64) {
	best := p.chain.BestSnapshot()
	height = best.Height + 1
	mtp = best.MedianTime.Unix()
	cutoff = p.now().Unix()
	if height >= p.params.Consensus.CSVHeight {
		cutoff = mtp
	}
	return height, mtp, cutoff
}

// revalidate removes pool transactions that a reorganization made invalid
// at the next block (Bitcoin Core's removeForReorg): inputs gone, coinbase
// inputs no longer mature, lock times or BIP68 relative locks not reached.
// It returns every transaction it removed, descendants included, for the
// caller to hold and offer again after the next block.
//
// Core runs removeForReorg under cs_main, with the chain standing still.
// Here the chain goes on connecting blocks while the pool catches up with
// its notifications, so an input may look spent because a block the pool
// has not heard of yet confirms the very transaction that spends it. Its
// descendants are then valid, and dropping them with it would lose them;
// held, they return once the pool has seen that block, while the truly
// invalid fail again and are dropped then.
func (p *TxPool) revalidate() (removed []*wire.MsgTx) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cp := &p.params.Consensus
	height, mtp, cutoff := p.nextBlockTimes()
	for _, e := range p.pool {
		if _, ok := p.pool[e.txid]; !ok {
			continue // removed as a descendant already
		}
		tx := e.msgTx()
		valid, checked := consensus.IsFinalTx(tx, height, cutoff), true
		heights := make([]int32, len(tx.TxIn))
		for i, in := range tx.TxIn {
			if !valid {
				break
			}
			op := in.PreviousOutPoint
			if _, ok := p.pool[op.Hash]; ok {
				heights[i] = height
				continue
			}
			ue, err := p.chain.FetchUtxoEntry(op)
			if err != nil {
				checked = false // storage trouble: keep the transaction
				break
			}
			if ue == nil || (ue.IsCoinBase && height-ue.Height < cp.CoinbaseMaturity) {
				valid = false
				break
			}
			heights[i] = ue.Height
		}
		if valid && checked && height >= cp.CSVHeight && uint32(tx.Version) >= 2 {
			lock := consensus.CalcSequenceLock(tx, heights, func(h int32) int64 {
				t, err := p.chain.MedianTimePastAt(h)
				if err != nil {
					return mtp
				}
				return t
			})
			valid = consensus.SequenceLockActive(lock, height, mtp)
		}
		if valid {
			continue
		}
		for _, r := range p.removeLocked(e, true) {
			p.log.Debug("transaction removed until the next block: invalid after the reorganization", "txid", r.txid)
			removed = append(removed, r.msgTx())
		}
	}
	return removed
}

// Expire drops transactions older than the expiry, with their descendants,
// and expired orphans.
func (p *TxPool) Expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	cutoff := p.now().Add(-p.cfg.Expiry).Unix()
	for _, e := range p.pool {
		if e.unixTime < cutoff {
			p.removeLocked(e, true)
		}
	}
	p.orphans.expire(p.now())
}

// trimLocked evicts the packages with the lowest descendant score until
// the pool fits its memory bound, and raises the pool's minimum fee rate
// above the descendant fee rate of what it evicted (Core's TrimToSize).
// Each eviction takes the lowest entry of the descendant-score index.
// This function MUST be called with the pool lock held (for writes).
func (p *TxPool) trimLocked() {
	for p.bytes > p.cfg.MaxPoolBytes && len(p.pool) > 0 {
		worst, _ := p.index.byDesc.Min()
		rate := worst.desc.fee*1000/worst.desc.vsize + policy.IncrementalRelayFeeRate
		if rate > p.minFeeRate {
			p.minFeeRate = rate
			p.minFeeUpdate = p.now()
		}
		p.removeLocked(worst, true)
	}
}

// currentMinFeeLocked returns the pool's minimum fee rate: the relay
// minimum, or the raised rate after evictions, halving every 12 hours.
// This function MUST be called with the pool lock held.
func (p *TxPool) currentMinFeeLocked() int64 {
	if p.minFeeRate == 0 {
		return p.cfg.MinRelayFeeRate
	}
	halvings := int(p.now().Sub(p.minFeeUpdate) / rollingFeeHalfLife)
	rate := p.minFeeRate
	if halvings >= 62 {
		rate = 0
	} else {
		rate >>= halvings
	}
	if rate < p.cfg.MinRelayFeeRate {
		return p.cfg.MinRelayFeeRate
	}
	return rate
}
