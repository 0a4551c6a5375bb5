package chain

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
)

// connectResult is what connecting a block produced, to be applied once all
// of it passed.
type connectResult struct {
	view  *utxo.View
	spent []*utxo.Entry
	txids []chainhash.Hash
	// assumedValid: the block's scripts are not run (assumevalid).
	assumedValid bool
}

// checkConnectBlock runs the checks of a block that need the UTXO set
// (Bitcoin Core's ConnectBlock) on a fresh view over the cache, with the
// scripts verified on all cores while the rest proceeds. Nothing is
// committed: the caller commits the returned view when it accepts the block.
//
// This function MUST be called with the process lock held.
func (b *BlockChain) checkConnectBlock(node *blockNode, block *wire.MsgBlock, txids []chainhash.Hash) (*connectResult, error) {
	p := b.params
	height := node.height
	view := b.utxos.NewView()
	if txids == nil {
		txids = consensus.TxHashes(block)
	}
	res := &connectResult{view: view, txids: txids, assumedValid: b.scriptsAssumedValid(node)}

	flags := ScriptFlags(p, height)
	segwit := height >= p.SegwitHeight
	csv := height >= p.CSVHeight
	bip30 := p.BIP34Height > 0 // chains with pre-BIP34 blocks may repeat txids
	prevMTP := node.parent.MedianTimePast()

	sv := NewScriptValidator(flags, b.sigCache, b.cfg.ScriptWorkers)
	finish := func(err error) (*connectResult, error) {
		if werr := sv.Wait(); err == nil {
			err = werr
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}

	var fees int64
	sigOpCost := 0
	for i, tx := range block.Transactions {
		txid := txids[i]
		if bip30 {
			for o := range tx.TxOut {
				e, err := view.Fetch(wire.OutPoint{Hash: txid, Index: uint32(o)})
				if err != nil {
					return finish(err)
				}
				if e != nil {
					return finish(ruleErr(ErrOverwriteTx, "transaction %v overwrites unspent output %d", txid, o))
				}
			}
		}
		if i == 0 {
			sigOpCost += consensus.CalcTxSigOpCost(tx, nil, true, segwit)
		} else {
			fee, err := b.connectTx(tx, txid, height, prevMTP, node, view, res, csv, segwit, &sigOpCost, sv)
			if err != nil {
				return finish(err)
			}
			fees += fee
			if fees > consensus.MaxMoney {
				return finish(ruleErr(ErrAccumulatedFeeOutOfRange, "block fees exceed max money"))
			}
		}
		if sigOpCost > consensus.MaxBlockSigOpsCost {
			return finish(ruleErr(ErrTooManySigOps, "block sigop cost %d exceeds %d", sigOpCost, consensus.MaxBlockSigOpsCost))
		}
		for o, out := range tx.TxOut {
			if utxo.IsUnspendable(out.PkScript) {
				continue
			}
			view.Add(wire.OutPoint{Hash: txid, Index: uint32(o)}, &utxo.Entry{
				Amount: out.Value, PkScript: out.PkScript, Height: height, IsCoinBase: i == 0,
			})
		}
	}

	var paid int64
	for _, out := range block.Transactions[0].TxOut {
		paid += out.Value
	}
	if limit := consensus.CalcBlockSubsidy(height, p) + fees; paid > limit {
		return finish(ruleErr(ErrBadCoinbaseValue, "coinbase pays %d, subsidy plus fees is %d", paid, limit))
	}
	return finish(nil)
}

// connectTx checks one non-coinbase transaction against the view, spends its
// inputs (recording them for undo), queues its scripts, and returns its fee.
func (b *BlockChain) connectTx(tx *wire.MsgTx, txid chainhash.Hash, height int32, prevMTP int64,
	node *blockNode, view *utxo.View, res *connectResult, csv, segwit bool,
	sigOpCost *int, sv *ScriptValidator) (int64, error) {

	p := b.params
	prevOuts := make([]*wire.TxOut, len(tx.TxIn))
	prevScripts := make([][]byte, len(tx.TxIn))
	var inputHeights []int32
	if csv && uint32(tx.Version) >= 2 { // unsigned, as Bitcoin Core compares it
		inputHeights = make([]int32, len(tx.TxIn))
	}
	var in int64
	for j, txIn := range tx.TxIn {
		e, err := view.Spend(txIn.PreviousOutPoint)
		if err != nil {
			return 0, err
		}
		if e == nil {
			return 0, ruleErr(ErrMissingOrSpentInput, "transaction %v input %d spends missing or spent output %v",
				txid, j, txIn.PreviousOutPoint)
		}
		if e.IsCoinBase && height-e.Height < p.CoinbaseMaturity {
			return 0, ruleErr(ErrImmatureSpend, "transaction %v spends coinbase output %v of height %d at height %d",
				txid, txIn.PreviousOutPoint, e.Height, height)
		}
		if e.Amount < 0 || e.Amount > consensus.MaxMoney {
			return 0, ruleErr(ErrInputValuesOutOfRange, "transaction %v input %d value %d out of range", txid, j, e.Amount)
		}
		in += e.Amount
		if in > consensus.MaxMoney {
			return 0, ruleErr(ErrInputValuesOutOfRange, "transaction %v inputs exceed max money", txid)
		}
		res.spent = append(res.spent, e)
		prevOuts[j] = e.TxOut()
		prevScripts[j] = e.PkScript
		if inputHeights != nil {
			inputHeights[j] = e.Height
		}
	}
	var out int64
	for _, o := range tx.TxOut {
		out += o.Value
	}
	if in < out {
		return 0, ruleErr(ErrSpendTooHigh, "transaction %v spends %d but its inputs hold %d", txid, out, in)
	}
	if inputHeights != nil {
		lock := consensus.CalcSequenceLock(tx, inputHeights, func(h int32) int64 {
			return node.parent.Ancestor(h).MedianTimePast()
		})
		if !consensus.SequenceLockActive(lock, height, prevMTP) {
			return 0, ruleErr(ErrSequenceLockNotMet, "transaction %v sequence lock (height %d, time %d) not met",
				txid, lock.MinHeight, lock.MinTime)
		}
	}
	*sigOpCost += consensus.CalcTxSigOpCost(tx, prevScripts, true, segwit)

	if res.assumedValid {
		b.scriptStats.inputsAssumed.Add(uint64(len(tx.TxIn)))
		return in - out, nil
	}
	wtxid := consensus.WitnessHash(tx)
	if b.scriptCache.Contains(&wtxid, sv.flags) {
		b.scriptStats.txsCached.Add(1)
	} else {
		b.scriptStats.inputsChecked.Add(uint64(len(tx.TxIn)))
		sv.Add(&TxScriptJob{Tx: tx, PrevOuts: prevOuts})
	}
	return in - out, nil
}

// connectTip connects block, a child of the tip, and makes it the tip.
// A rule violation leaves the state untouched and is returned as is.
// This function MUST be called with the process lock held.
func (b *BlockChain) connectTip(node *blockNode, block *wire.MsgBlock, txids []chainhash.Hash) error {
	start := time.Now()
	res, err := b.checkConnectBlock(node, block, txids)
	if err != nil {
		return err
	}
	// The filter is built before anything is committed, so that a
	// failure (a storage error) leaves the state untouched.
	if b.cfg.BlockFilterIndex {
		if err := b.indexBlockFilter(node, block, res.spent); err != nil {
			return err
		}
	}
	var addr *addrOps
	if b.cfg.AddrIndex {
		if addr, err = addrConnectOps(block, res.txids, node.height, res.spent); err != nil {
			return err
		}
	}
	if err := b.storeUndo(node, block, res.spent); err != nil {
		return err
	}
	res.view.Commit()
	b.dirtyNodes[node] = struct{}{}
	if b.cfg.TxIndex {
		for i, txid := range res.txids {
			b.pendingTx[txid] = encodeTxLocation(TxLocation{BlockHash: node.hash, Index: uint32(i)})
			b.pendingBytes += 80
		}
	}
	b.chainLock.Lock()
	if node.status&statusValidated == 0 {
		node.status |= statusValidated
		b.dirtyNodes[node] = struct{}{}
	}
	b.best = append(b.best, node)
	b.chainLock.Unlock()
	if addr != nil {
		b.applyAddrOps(addr, node)
	}
	b.publishBestState(node, block)
	note := Notification{Type: BlockConnected, Block: block, Hash: node.hash, Height: node.height,
		ConnectTime: time.Since(start)}
	if addr != nil {
		note.Scripts = addr.scripts()
	}
	b.notifier.send(note)
	return b.maybeFlush()
}

// disconnectTip undoes the tip block with its undo data and makes its parent
// the tip.
// This function MUST be called with the process lock held.
func (b *BlockChain) disconnectTip() error {
	node := b.best.tip()
	if node.parent == nil {
		return errors.New("chain: cannot disconnect the genesis block")
	}
	block, _, err := b.fetchBlock(&node.hash)
	if err != nil {
		return err
	}
	spent, err := b.readUndo(node, block)
	if err != nil {
		return err
	}
	view := b.utxos.NewView()
	txids := consensus.TxHashes(block)
	next := len(spent)
	for i := len(block.Transactions) - 1; i >= 0; i-- {
		tx := block.Transactions[i]
		txid := txids[i]
		for o, out := range tx.TxOut {
			if utxo.IsUnspendable(out.PkScript) {
				continue
			}
			op := wire.OutPoint{Hash: txid, Index: uint32(o)}
			e, err := view.Spend(op)
			if err != nil {
				return err
			}
			if e == nil {
				return fmt.Errorf("%w: disconnect %v: output %v is not in the UTXO set",
					ErrCorruptDatabase, node.hash, op)
			}
		}
		if b.cfg.TxIndex {
			b.pendingTx[txid] = nil
		}
		if i == 0 {
			continue
		}
		for j := len(tx.TxIn) - 1; j >= 0; j-- {
			next--
			if next < 0 {
				return fmt.Errorf("%w: undo data of %v is too short", ErrCorruptDatabase, node.hash)
			}
			view.Add(tx.TxIn[j].PreviousOutPoint, spent[next])
		}
	}
	if next != 0 {
		return fmt.Errorf("%w: undo data of %v has %d extra entries", ErrCorruptDatabase, node.hash, next)
	}
	var addr *addrOps
	if b.cfg.AddrIndex {
		if addr, err = b.addrDisconnectOps(block, txids, node.height, spent); err != nil {
			return err
		}
	}
	view.Commit()
	b.chainLock.Lock()
	b.best = b.best[:len(b.best)-1]
	b.chainLock.Unlock()
	if addr != nil {
		b.applyAddrOps(addr, node.parent)
	}
	b.publishBestState(node.parent, nil)
	note := Notification{Type: BlockDisconnected, Block: block, Hash: node.hash, Height: node.height}
	if addr != nil {
		note.Scripts = addr.scripts()
	}
	b.notifier.send(note)
	return b.maybeFlush()
}

// activateBestChain moves the tip to the best candidate, disconnecting and
// connecting blocks as needed. A block that fails on connection is marked
// invalid with its descendants, and the choice is made again, so the node
// always ends on the best valid chain it has data for.
// This function MUST be called with the process lock held.
func (b *BlockChain) activateBestChain() error {
	var pruneErr error
	for {
		tip := b.best.tip()
		best := bestTip(b.candidates)
		if best == nil || best == tip {
			b.pruneCandidates()
			return pruneErr
		}
		fork := findFork(tip, best)
		if err := b.checkReorgData(tip, fork, best); err != nil {
			// Deeper than pruning kept: the node stays where it is
			// rather than disconnect blocks it cannot connect again.
			b.log.Error("cannot move to a better chain", "err", err)
			delete(b.candidates, best)
			pruneErr = err
			continue
		}
		for b.best.tip() != fork {
			if err := b.disconnectTip(); err != nil {
				return err
			}
		}
		path := make([]*blockNode, 0, best.height-fork.height)
		for n := best; n != fork; n = n.parent {
			path = append(path, n)
		}
		for i := len(path) - 1; i >= 0; i-- {
			n := path[i]
			block, txids, err := b.fetchBlock(&n.hash)
			if err != nil {
				return err
			}
			if err := b.connectTip(n, block, txids); err != nil {
				if !isRuleError(err) {
					return err
				}
				b.log.Warn("block failed to connect", "hash", n.hash, "height", n.height, "err", err)
				b.connectErrs[n] = err
				if err := b.markInvalid(n); err != nil {
					return err
				}
				break
			}
		}
		if b.best.tip() != tip {
			b.log.Info("new tip", "hash", b.best.tip().hash, "height", b.best.tip().height,
				"reorg_depth", tip.height-fork.height)
		}
	}
}

// pruneCandidates drops candidates with less work than the tip.
// This function MUST be called with the process lock held.
func (b *BlockChain) pruneCandidates() {
	tip := b.best.tip()
	for n := range b.candidates {
		if n != tip && n.workSum.Cmp(tip.workSum) < 0 {
			delete(b.candidates, n)
		}
	}
}

// markInvalid marks node as failed and every descendant as having an invalid
// ancestor, drops them from the candidates, and writes their records at once.
// This function MUST be called with the process lock held.
func (b *BlockChain) markInvalid(node *blockNode) error {
	b.chainLock.Lock()
	node.status |= statusValidateFailed
	delete(b.candidates, node)
	changed := []*blockNode{node}
	for _, n := range b.index {
		if n.height > node.height && !n.status.knownInvalid() && n.Ancestor(node.height) == node {
			n.status |= statusInvalidAncestor
			delete(b.candidates, n)
			changed = append(changed, n)
		}
	}
	b.chainLock.Unlock()
	return b.writeIndexNow(changed...)
}

// linkData records that node's data is stored: if its parent's chain has
// data, node and any waiting descendants become candidates.
// This function MUST be called with the process lock held.
func (b *BlockChain) linkData(node *blockNode) {
	if node.parent != nil && !node.parent.dataChain {
		b.unlinked[node.parent] = append(b.unlinked[node.parent], node)
		return
	}
	b.chainLock.Lock()
	defer b.chainLock.Unlock()
	queue := []*blockNode{node}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		n.dataChain = true
		if !n.status.knownInvalid() {
			b.candidates[n] = struct{}{}
		}
		queue = append(queue, b.unlinked[n]...)
		delete(b.unlinked, n)
	}
}

// twoWeeks is how far in proof-equivalent time below the best header a
// block must be for assumevalid to skip its scripts (Core's ConnectBlock).
const twoWeeks = 14 * 24 * time.Hour

// scriptsAssumedValid applies Bitcoin Core's assumevalid conditions
// (ConnectBlock) to a block about to be connected: it is an ancestor of
// the assumed-valid block, which is in the index, and of the best header;
// the best header's chain has at least the minimum chain work; and the
// best header is more than two weeks of the chain's work (at the best
// header's difficulty, Core's GetBlockProofEquivalentTime) above it, so
// that a fake chain built to exploit the skipped checks would have to
// outwork the real one for that long. Only the scripts are skipped: every
// other check runs.
// This function MUST be called with the process lock held.
func (b *BlockChain) scriptsAssumedValid(n *blockNode) bool {
	if b.assumeValid == (chainhash.Hash{}) {
		return false
	}
	b.chainLock.RLock()
	av := b.index[b.assumeValid]
	b.chainLock.RUnlock()
	if av == nil || av.Ancestor(n.height) != n {
		return false
	}
	best := b.bestHeaderNode()
	if best.Ancestor(n.height) != n {
		return false
	}
	if min := b.params.MinimumChainWork; min != nil && best.workSum.Cmp(min) < 0 {
		return false
	}
	return proofEquivalentTime(best, n, best, b.params.TargetSpacing) > twoWeeks
}

// proofEquivalentTime returns how long, at the target spacing, the chain
// work between from and to takes to make at tip's difficulty (Core's
// GetBlockProofEquivalentTime).
func proofEquivalentTime(to, from, tip *blockNode, spacing time.Duration) time.Duration {
	r := new(big.Int).Sub(to.workSum, from.workSum)
	sign := int64(1)
	if r.Sign() < 0 {
		r.Neg(r)
		sign = -1
	}
	r.Mul(r, big.NewInt(int64(spacing/time.Second)))
	r.Div(r, consensus.CalcWork(tip.bits))
	if r.BitLen() > 62 {
		return time.Duration(sign) * time.Duration(math.MaxInt64)
	}
	secs := r.Int64()
	if secs > math.MaxInt64/int64(time.Second) {
		return time.Duration(sign) * time.Duration(math.MaxInt64)
	}
	return time.Duration(sign*secs) * time.Second
}
