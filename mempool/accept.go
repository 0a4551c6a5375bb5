package mempool

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool/policy"
)

// prechecked is everything acceptance learned before verifying scripts.
type prechecked struct {
	e         *entry
	prevOuts  []*wire.TxOut
	conflicts map[*entry]struct{} // direct conflicts
	evict     []*entry            // conflicts and their descendants
	flags     txscript.ScriptFlags
	consFlags txscript.ScriptFlags
}

// AcceptResult tells what became of a transaction handed to the pool.
type AcceptResult struct {
	// Accepted lists the transactions that entered the pool: the one
	// handed in, then orphans it made valid.
	Accepted []*TxDesc
	// Replaced lists the txids it evicted by replacement.
	Replaced []chainhash.Hash
	// Orphaned is set when the transaction waits in the orphan pool for
	// its parents.
	Orphaned bool
}

// ProcessTransaction validates tx against the chain and the pool and adds
// it, replacing conflicting transactions when it pays enough. With
// allowOrphan, a transaction whose inputs are unknown waits in the orphan
// pool (and the call returns no error); without it, it is refused with
// RejectMissingInputs. Transactions are verified outside the pool lock, so
// concurrent calls use every core.
func (p *TxPool) ProcessTransaction(tx *wire.MsgTx, allowOrphan bool) (*AcceptResult, error) {
	return p.process(tx, allowOrphan, false)
}

// process is ProcessTransaction; with returning, tx comes back from a
// disconnected block and is exempt from the fee minimums and the chain
// limits (Bitcoin Core's bypass_limits for MaybeUpdateMempoolForReorg): it
// was valid in a block, a chain of transactions confirmed over several
// blocks may come back longer than the limits, and refusing one would
// also drop its descendants already in the pool.
func (p *TxPool) process(tx *wire.MsgTx, allowOrphan, returning bool) (*AcceptResult, error) {
	res := &AcceptResult{}
	for {
		desc, replaced, seq, err := p.accept(tx, false, returning)
		var re *RejectError
		if err != nil && allowOrphan && errors.As(err, &re) && re.Code == RejectMissingInputs {
			p.mu.Lock()
			if p.sequence != seq {
				// The pool changed since the check (perhaps the missing
				// parent arrived and already looked for its orphans):
				// check again rather than wait for a parent that came.
				p.mu.Unlock()
				continue
			}
			res.Orphaned = p.orphans.add(tx, p.now())
			p.mu.Unlock()
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		res.Accepted = append(res.Accepted, desc)
		res.Replaced = replaced
		res.Accepted = append(res.Accepted, p.processOrphans(desc.TxID)...)
		if p.cfg.OnAccepted != nil {
			p.cfg.OnAccepted(res.Accepted)
		}
		return res, nil
	}
}

// TestAccept runs every check ProcessTransaction runs, scripts included,
// without changing the pool (testmempoolaccept).
func (p *TxPool) TestAccept(tx *wire.MsgTx) (*TxDesc, error) {
	desc, _, _, err := p.accept(tx, true, false)
	return desc, err
}

// processOrphans accepts the orphans that spend txid, and theirs in turn.
func (p *TxPool) processOrphans(txid chainhash.Hash) []*TxDesc {
	var accepted []*TxDesc
	queue := []chainhash.Hash{txid}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		p.mu.Lock()
		children := p.orphans.spending(parent)
		p.mu.Unlock()
		for _, o := range children {
			desc, _, _, err := p.accept(o, false, false)
			var re *RejectError
			if err != nil && errors.As(err, &re) && re.Code == RejectMissingInputs {
				continue // still missing another parent
			}
			p.mu.Lock()
			p.orphans.remove(o.TxHash())
			p.mu.Unlock()
			if err == nil {
				accepted = append(accepted, desc)
				queue = append(queue, desc.TxID)
			}
		}
	}
	return accepted
}

// accept runs the checks, the scripts outside the lock, and (unless
// dryRun) commits the transaction. It also returns the pool's sequence
// number at the first check, so that a caller can tell whether the pool
// changed since.
func (p *TxPool) accept(tx *wire.MsgTx, dryRun, returning bool) (*TxDesc, []chainhash.Hash, uint64, error) {
	p.mu.RLock()
	seq := p.sequence
	tip := p.chain.BestSnapshot().Hash
	pre, err := p.precheckLocked(tx, returning)
	p.mu.RUnlock()
	if err != nil {
		return nil, nil, seq, err
	}
	if err := p.checkScripts(pre); err != nil {
		return nil, nil, seq, err
	}
	if dryRun {
		p.mu.RLock()
		defer p.mu.RUnlock()
		return p.descOfNewLocked(pre.e), nil, seq, nil
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	commit := pre
	if p.sequence != seq || p.chain.BestSnapshot().Hash != tip {
		// The pool or the chain moved while scripts ran: check again
		// (cheap next to the scripts, which depend only on the outputs
		// spent).
		again, err := p.precheckLocked(tx, returning)
		if err != nil {
			return nil, nil, seq, err
		}
		if again.flags != pre.flags || again.consFlags != pre.consFlags {
			if err := p.checkScripts(again); err != nil {
				return nil, nil, seq, err
			}
		}
		commit = again
	}
	var replaced []chainhash.Hash
	for _, old := range commit.evict {
		for _, r := range p.removeLocked(old, true) {
			p.log.Debug("transaction replaced", "txid", r.txid, "by", commit.e.txid)
			replaced = append(replaced, r.txid)
		}
	}
	p.addLocked(commit.e)
	// Blocks will not verify what passed here (consensus flags are a
	// subset of the policy flags it passed).
	p.chain.ScriptCache().Add(&commit.e.wtxid, commit.consFlags)
	p.trimLocked()
	if _, ok := p.pool[commit.e.txid]; !ok {
		return nil, replaced, seq, reject(RejectInsufficientFee, "mempool full", "the pool is full of better-paying transactions")
	}
	p.orphans.remove(commit.e.txid)
	p.log.Debug("accepted transaction", "txid", commit.e.txid, "fee", commit.e.fee, "vsize", commit.e.vsize)
	desc := p.descLocked(commit.e)
	commit.e.tx = nil // pooled entries keep only their bytes
	return desc, replaced, seq, nil
}

// descOfNewLocked describes an entry that is not (yet) in the pool.
// This function MUST be called with the pool lock held.
func (p *TxPool) descOfNewLocked(e *entry) *TxDesc {
	return &TxDesc{Tx: e.msgTx(), TxID: e.txid, WTxID: e.wtxid, Fee: e.fee, Weight: e.weight, VSize: e.vsize,
		SigOpCost: e.sigOpCost, Time: e.entryTime(), Height: e.height, AncestorCount: 1, DescendantCount: 1,
		AncestorSize: e.vsize, DescendantSize: e.vsize, AncestorFees: e.fee, DescendantFees: e.fee}
}

// consensusReject wraps a consensus rule error as a rejection.
func consensusReject(err error) *RejectError {
	return &RejectError{Code: RejectInvalid, Reason: consensus.RejectReason(err), Detail: err.Error(), Err: err}
}

// precheckLocked runs every check but the scripts, in Bitcoin Core's order.
// This function MUST be called with the pool lock held.
func (p *TxPool) precheckLocked(tx *wire.MsgTx, returning bool) (*prechecked, error) {
	cp := &p.params.Consensus
	txid := consensus.TxHash(tx)
	if have, ok := p.pool[txid]; ok {
		if have.wtxid != consensus.WitnessHash(tx) {
			return nil, reject(RejectDuplicate, "txn-same-nonwitness-data-in-mempool", "%v with another witness", txid)
		}
		return nil, reject(RejectDuplicate, "txn-already-in-mempool", "%v", txid)
	}
	if err := consensus.CheckTransactionSanity(tx); err != nil {
		return nil, consensusReject(err)
	}
	if consensus.IsCoinBaseTx(tx) {
		return nil, reject(RejectInvalid, "coinbase", "a coinbase is only valid in a block")
	}
	weight := int64(consensus.TxWeight(tx))
	if err := policy.CheckTransactionStandard(tx, weight); err != nil {
		return nil, nonstandard(err)
	}
	height, mtp, cutoff := p.nextBlockTimes()
	if !consensus.IsFinalTx(tx, height, cutoff) {
		return nil, reject(RejectNonstandard, "non-final", "lock time %d not reached at height %d", tx.LockTime, height)
	}

	e := &entry{tx: tx, txid: txid, wtxid: consensus.WitnessHash(tx), weight: weight, vsize: policy.VirtualSize(weight),
		unixTime: p.now().Unix(), height: height - 1}
	pre := &prechecked{e: e, conflicts: map[*entry]struct{}{},
		flags: policy.StandardScriptFlags, consFlags: chain.ScriptFlags(cp, height)}

	for _, in := range tx.TxIn {
		if c, ok := p.spent[in.PreviousOutPoint]; ok {
			pre.conflicts[c] = struct{}{}
		}
	}
	if len(pre.conflicts) > 0 {
		seen := map[*entry]bool{}
		for c := range pre.conflicts {
			for _, d := range append([]*entry{c}, p.descendantsLocked(c)...) {
				if !seen[d] {
					seen[d] = true
					pre.evict = append(pre.evict, d)
				}
			}
		}
		if len(pre.evict) > policy.MaxReplacements {
			return nil, reject(RejectNonstandard, "too many potential replacements",
				"%d transactions would be evicted, at most %d", len(pre.evict), policy.MaxReplacements)
		}
	}
	evicting := make(map[chainhash.Hash]bool, len(pre.evict))
	for _, ev := range pre.evict {
		evicting[ev.txid] = true
	}

	pre.prevOuts = make([]*wire.TxOut, len(tx.TxIn))
	prevScripts := make([][]byte, len(tx.TxIn))
	inputHeights := make([]int32, len(tx.TxIn))
	var in int64
	parents := map[*entry]struct{}{}
	for i, txIn := range tx.TxIn {
		op := txIn.PreviousOutPoint
		if parent, ok := p.pool[op.Hash]; ok {
			if evicting[parent.txid] {
				return nil, reject(RejectInvalid, "bad-txns-spends-conflicting-tx",
					"spends %v, which it would replace", parent.txid)
			}
			ptx := parent.msgTx()
			if int(op.Index) >= len(ptx.TxOut) {
				return nil, reject(RejectMissingInputs, "bad-txns-inputs-missingorspent", "input %d: %v has no output %d", i, op.Hash, op.Index)
			}
			out := ptx.TxOut[op.Index]
			pre.prevOuts[i] = out
			inputHeights[i] = height
			parents[parent] = struct{}{}
		} else {
			ue, err := p.chain.FetchUtxoEntry(op)
			if err != nil {
				return nil, fmt.Errorf("mempool: fetch input: %w", err)
			}
			if ue == nil {
				if p.confirmedLocked(txid, len(tx.TxOut)) {
					return nil, reject(RejectAlreadyKnown, "txn-already-known", "%v is already confirmed", txid)
				}
				return nil, reject(RejectMissingInputs, "bad-txns-inputs-missingorspent", "input %d spends unknown or spent %v", i, op)
			}
			if ue.IsCoinBase && height-ue.Height < cp.CoinbaseMaturity {
				return nil, reject(RejectPremature, "bad-txns-premature-spend-of-coinbase",
					"input %d spends a coinbase of height %d at height %d", i, ue.Height, height)
			}
			pre.prevOuts[i] = ue.TxOut()
			inputHeights[i] = ue.Height
		}
		prevScripts[i] = pre.prevOuts[i].PkScript
		v := pre.prevOuts[i].Value
		if v < 0 || v > consensus.MaxMoney || in+v > consensus.MaxMoney {
			return nil, reject(RejectInvalid, "bad-txns-inputvalues-outofrange", "input %d", i)
		}
		in += v
	}
	var out int64
	for _, o := range tx.TxOut {
		out += o.Value
	}
	if in < out {
		return nil, reject(RejectInvalid, "bad-txns-in-belowout", "outputs %d exceed inputs %d", out, in)
	}
	e.fee = in - out

	if height >= cp.CSVHeight && uint32(tx.Version) >= 2 {
		lock := consensus.CalcSequenceLock(tx, inputHeights, func(h int32) int64 {
			t, err := p.chain.MedianTimePastAt(h)
			if err != nil {
				return mtp
			}
			return t
		})
		if !consensus.SequenceLockActive(lock, height, mtp) {
			return nil, reject(RejectNonstandard, "non-BIP68-final", "relative lock time not reached")
		}
	}
	if err := policy.CheckInputsStandard(tx, prevScripts); err != nil {
		return nil, nonstandard(err)
	}
	if err := policy.CheckWitnessStandard(tx, prevScripts); err != nil {
		return nil, nonstandard(err)
	}
	e.sigOpCost = int64(consensus.CalcTxSigOpCost(tx, prevScripts, true, height >= cp.SegwitHeight))
	if e.sigOpCost > policy.MaxStandardTxSigOpsCost {
		return nil, reject(RejectNonstandard, "bad-txns-too-many-sigops", "sigop cost %d over %d", e.sigOpCost, policy.MaxStandardTxSigOpsCost)
	}
	// The pool's raised minimum first, then the relay minimum, as Core's
	// CheckFeeRate orders them; replacements included.
	if rate := p.currentMinFeeLocked(); rate > p.cfg.MinRelayFeeRate && !returning {
		if min := policy.Fee(rate, e.vsize); e.fee < min {
			return nil, reject(RejectInsufficientFee, "mempool min fee not met", "%d < %d", e.fee, min)
		}
	}
	if min := policy.Fee(p.cfg.MinRelayFeeRate, e.vsize); e.fee < min && !returning {
		return nil, reject(RejectInsufficientFee, "min relay fee not met", "%d < %d", e.fee, min)
	}
	if !returning {
		if rerr := p.checkChainLimitsLocked(e, parents, evicting); rerr != nil {
			return nil, rerr
		}
	}
	if len(pre.conflicts) > 0 {
		if rerr := p.checkReplacementLocked(e, parents, pre); rerr != nil {
			return nil, rerr
		}
	}
	return pre, nil
}

// confirmedLocked reports whether any output of txid is in the UTXO set,
// which means the transaction is already in the chain.
func (p *TxPool) confirmedLocked(txid chainhash.Hash, outputs int) bool {
	for i := 0; i < outputs; i++ {
		if ue, err := p.chain.FetchUtxoEntry(wire.OutPoint{Hash: txid, Index: uint32(i)}); err == nil && ue != nil {
			return true
		}
	}
	return false
}

// checkChainLimitsLocked applies the ancestor and descendant limits.
// This function MUST be called with the pool lock held.
func (p *TxPool) checkChainLimitsLocked(e *entry, parents map[*entry]struct{}, evicting map[chainhash.Hash]bool) *RejectError {
	ancestors := map[*entry]bool{}
	for parent := range parents {
		ancestors[parent] = true
		for _, a := range p.ancestorsLocked(parent) {
			ancestors[a] = true
		}
	}
	count, size := 1, e.vsize
	for a := range ancestors {
		count++
		size += a.vsize
	}
	if count > policy.DefaultAncestorLimit {
		return reject(RejectNonstandard, "too-long-mempool-chain", "%d ancestors, at most %d", count, policy.DefaultAncestorLimit)
	}
	if size > policy.DefaultChainSizeLimit {
		return reject(RejectNonstandard, "too-long-mempool-chain", "ancestor size %d vB over %d", size, policy.DefaultChainSizeLimit)
	}
	for a := range ancestors {
		n, s := 2, a.vsize+e.vsize
		for _, d := range p.descendantsLocked(a) {
			if !evicting[d.txid] {
				n++
				s += d.vsize
			}
		}
		if n > policy.DefaultDescendantLimit {
			return reject(RejectNonstandard, "too-long-mempool-chain", "%v would have %d descendants, at most %d", a.txid, n, policy.DefaultDescendantLimit)
		}
		if s > policy.DefaultChainSizeLimit {
			return reject(RejectNonstandard, "too-long-mempool-chain", "descendant size of %v would be %d vB", a.txid, s)
		}
	}
	return nil
}

// checkReplacementLocked applies the BIP125 fee rules under full RBF: no
// new unconfirmed inputs, a higher fee rate than every direct conflict, at
// least the fees of everything evicted, plus the incremental relay fee for
// its own size.
// This function MUST be called with the pool lock held.
func (p *TxPool) checkReplacementLocked(e *entry, parents map[*entry]struct{}, pre *prechecked) *RejectError {
	conflictParents := map[*entry]bool{}
	for c := range pre.conflicts {
		for cp := range c.parents {
			conflictParents[cp] = true
		}
	}
	for parent := range parents {
		if !conflictParents[parent] {
			return reject(RejectNonstandard, "replacement-adds-unconfirmed", "spends unconfirmed %v, which the replaced do not", parent.txid)
		}
	}
	for c := range pre.conflicts {
		// e.fee/e.vsize > c.fee/c.vsize
		if e.fee*c.vsize <= c.fee*e.vsize {
			return reject(RejectInsufficientFee, "insufficient fee",
				"rejecting replacement %v; new feerate %d/%d vB <= old feerate %d/%d vB of %v", e.txid, e.fee, e.vsize, c.fee, c.vsize, c.txid)
		}
	}
	var evictedFees int64
	for _, ev := range pre.evict {
		evictedFees += ev.fee
	}
	if e.fee < evictedFees {
		return reject(RejectInsufficientFee, "insufficient fee",
			"rejecting replacement %v, less fees than conflicting txs; %d < %d", e.txid, e.fee, evictedFees)
	}
	if extra, need := e.fee-evictedFees, policy.Fee(policy.IncrementalRelayFeeRate, e.vsize); extra < need {
		return reject(RejectInsufficientFee, "insufficient fee",
			"rejecting replacement %v, not enough additional fees to relay; %d < %d", e.txid, extra, need)
	}
	return nil
}

// checkScripts verifies every input under the policy flags; a failure that
// the consensus flags alone accept is a policy rejection.
func (p *TxPool) checkScripts(pre *prechecked) error {
	job := &chain.TxScriptJob{Tx: pre.e.tx, PrevOuts: pre.prevOuts}
	err := chain.ValidateTransactionScripts([]*chain.TxScriptJob{job}, pre.flags, p.chain.SigCache(), nil)
	if err == nil {
		return nil
	}
	if cerr := chain.ValidateTransactionScripts([]*chain.TxScriptJob{job}, pre.consFlags, p.chain.SigCache(), nil); cerr != nil {
		return consensusReject(cerr)
	}
	return &RejectError{Code: RejectNonstandard, Reason: "non-mandatory-script-verify-flag", Detail: err.Error(), Err: err}
}
