package wallet

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/btcutil/gcs"
	"github.com/btcsuite/btcd/btcutil/gcs/builder"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/rpcclient"
)

// Node is what the wallet needs of a Cairn node. RPCNode implements it
// over JSON-RPC.
type Node interface {
	BlockCount() (int32, error)
	BlockHash(height int32) (chainhash.Hash, error)
	// BlockFilter returns the block's BIP158 basic filter.
	BlockFilter(hash chainhash.Hash) ([]byte, error)
	Block(hash chainhash.Hash) (*wire.MsgBlock, error)
	SendRawTransaction(tx *wire.MsgTx) error
	// EstimateFee returns a fee rate in base units per vbyte for
	// confirmation within target blocks.
	EstimateFee(target int) (float64, error)
}

// ScanResult tells what a scan did.
type ScanResult struct {
	From, To int32
	// Fetched counts the blocks whose filter matched.
	Fetched int
	// Reorged is the height the chain forked below the last scan, -1 if
	// it did not.
	Reorged int32
}

// Scan brings the wallet up to the node's tip: it finds where the node's
// chain left the blocks scanned last (a reorganization), forgets the
// confirmations above that height, then tests each new block's BIP158
// filter against the wallet's scripts and fetches only the blocks that
// match. It returns the tip height.
func (w *Wallet) Scan(node Node) (int32, ScanResult, error) {
	res := ScanResult{Reorged: -1}
	tip, err := node.BlockCount()
	if err != nil {
		return 0, res, err
	}
	if err := w.findFork(node, tip, &res); err != nil {
		return 0, res, err
	}
	res.From, res.To = w.st.Scanned+1, tip
	for h := w.st.Scanned + 1; h <= tip; h++ {
		hash, err := node.BlockHash(h)
		if err != nil {
			return 0, res, err
		}
		fetched, err := w.scanBlock(node, h, hash)
		if err != nil {
			return 0, res, fmt.Errorf("wallet: scan block %d (%v): %w", h, hash, err)
		}
		if fetched {
			res.Fetched++
		}
		w.st.Scanned = h
		w.st.Recent = append(w.st.Recent, hash.String())
		if len(w.st.Recent) > recentHashes {
			w.st.Recent = w.st.Recent[len(w.st.Recent)-recentHashes:]
		}
	}
	w.markConflicts()
	return tip, res, nil
}

// findFork checks that the last scanned blocks are still the node's, and
// if not, rolls the wallet back to the highest one that is.
func (w *Wallet) findFork(node Node, tip int32, res *ScanResult) error {
	for len(w.st.Recent) > 0 {
		h := w.st.Scanned
		if h <= tip {
			hash, err := node.BlockHash(h)
			if err != nil {
				return err
			}
			if hash.String() == w.st.Recent[len(w.st.Recent)-1] {
				return nil
			}
		}
		w.rollback(h - 1)
		res.Reorged = h - 1
	}
	if w.st.Scanned >= w.st.Birthday {
		// Forked below every hash remembered: scan it all again.
		w.rollback(w.st.Birthday - 1)
		res.Reorged = w.st.Birthday - 1
	}
	return nil
}

// rollback forgets the confirmations of blocks above height. A coinbase
// of a disconnected block is gone for good; other transactions may
// confirm again.
func (w *Wallet) rollback(height int32) {
	kept := w.st.Txs[:0]
	for _, r := range w.st.Txs {
		if r.Height > height {
			if consensus.IsCoinBaseTx(r.tx) {
				continue
			}
			r.Height, r.BlockHash = 0, ""
		}
		kept = append(kept, r)
	}
	w.st.Txs = kept
	w.reindex()
	if n := w.st.Scanned - height; n > 0 {
		w.st.Recent = w.st.Recent[:max(0, len(w.st.Recent)-int(n))]
	}
	w.st.Scanned = height
}

// scanBlock tests a block's filter and, if it matches, records the block's
// transactions that pay or spend the wallet. A payment to the last watched
// addresses widens the watched set, and the block is tested again with it.
func (w *Wallet) scanBlock(node Node, height int32, hash chainhash.Hash) (bool, error) {
	raw, err := node.BlockFilter(hash)
	if err != nil {
		return false, err
	}
	filter, err := gcs.FromNBytes(builder.DefaultP, builder.DefaultM, raw)
	if err != nil {
		return false, fmt.Errorf("bad filter: %w", err)
	}
	key := builder.DeriveKey(&hash)
	var block *wire.MsgBlock
	tested := 0
	for tested < len(w.scripts) {
		batch := make([][]byte, 0, len(w.scripts))
		for s := range w.scripts {
			batch = append(batch, []byte(s))
		}
		tested = len(w.scripts)
		match, err := filter.MatchAny(key, batch)
		if err != nil {
			return false, err
		}
		if !match {
			return block != nil, nil
		}
		if block == nil {
			if block, err = node.Block(hash); err != nil {
				return false, err
			}
			if consensus.BlockHash(&block.Header) != hash {
				return false, fmt.Errorf("the node sent block %v for %v", consensus.BlockHash(&block.Header), hash)
			}
		}
		if err := w.processBlock(block, height, hash); err != nil {
			return false, err
		}
		// processBlock may have widened the watched set: test again.
	}
	return block != nil, nil
}

// processBlock records the block's transactions that pay a watched script
// or spend a coin of the wallet.
func (w *Wallet) processBlock(block *wire.MsgBlock, height int32, hash chainhash.Hash) error {
	// w.owned holds every output paying the wallet, spent or not (record
	// adds the new ones as the block's transactions are recorded).
	ours := w.owned
	for _, tx := range block.Transactions {
		relevant := false
		for _, out := range tx.TxOut {
			if p, ok := w.scripts[string(out.PkScript)]; ok {
				relevant = true
				if _, err := w.markUsed(p); err != nil {
					return err
				}
			}
		}
		if !consensus.IsCoinBaseTx(tx) {
			for _, in := range tx.TxIn {
				relevant = relevant || ours[in.PreviousOutPoint]
			}
		}
		if relevant {
			w.record(tx, height, hash.String())
		}
	}
	return nil
}

// markConflicts marks pending transactions whose inputs a confirmed
// transaction spent as replaced by it, and pending transactions spending
// the outputs of a replaced one as replaced too (their inputs no longer
// exist). Confirmed transactions always stand.
func (w *Wallet) markConflicts() {
	spender := make(map[wire.OutPoint]*TxRecord)
	for _, r := range w.st.Txs {
		if r.Height > 0 && !consensus.IsCoinBaseTx(r.tx) {
			for _, in := range r.tx.TxIn {
				spender[in.PreviousOutPoint] = r
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, r := range w.st.Txs {
			if r.Height != 0 || r.ReplacedBy != "" || r.Abandoned {
				continue
			}
			for _, in := range r.tx.TxIn {
				if s, ok := spender[in.PreviousOutPoint]; ok && s.TxID != r.TxID {
					r.ReplacedBy, changed = s.TxID, true
					break
				}
				parent := w.find(in.PreviousOutPoint.Hash.String())
				if parent == nil || parent.Height != 0 {
					continue
				}
				if parent.ReplacedBy != "" {
					r.ReplacedBy, changed = parent.ReplacedBy, true
					break
				}
				if parent.Abandoned && !r.Abandoned {
					r.Abandoned, changed = true, true
					break
				}
			}
		}
	}
}

// Rebroadcast offers the wallet's own pending transactions to the node
// again, oldest first, so that one the node dropped (expired, evicted, a
// restart without its pool) is not left hiding its coins. One the node
// refuses because an input is spent or missing is abandoned: its coins
// count again. It reports how many were abandoned.
func (w *Wallet) Rebroadcast(node Node) int {
	var pending []*TxRecord
	for _, r := range w.st.Txs {
		if r.Mine && r.Height == 0 && r.ReplacedBy == "" && !r.Abandoned {
			pending = append(pending, r)
		}
	}
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].Seen < pending[j].Seen })
	abandoned := 0
	for _, r := range pending {
		err := node.SendRawTransaction(r.tx)
		var rerr *rpcclient.Error
		if errors.As(err, &rerr) && rerr.Code == -25 && strings.Contains(rerr.Message, "missingorspent") {
			r.Abandoned = true
			abandoned++
		}
	}
	if abandoned > 0 {
		w.markConflicts()
	}
	return abandoned
}

// PoolNode is a node whose transaction pool the wallet can read.
type PoolNode interface {
	// MempoolTxIDs lists the pool's transactions.
	MempoolTxIDs() ([]chainhash.Hash, error)
	// MempoolTx returns one of them, or an error if it left the pool.
	MempoolTx(txid chainhash.Hash) (*wire.MsgTx, error)
}

// MaxPoolScan bounds how many pool transactions one command reads: a
// pool larger than that is not searched for incoming payments (the caller
// says so).
const MaxPoolScan = 20_000

// PoolScan tells what ScanMempool did.
type PoolScan struct {
	// Found counts the pool's transactions paying or spending the wallet
	// that are not its own, Forgotten those that left the pool unconfirmed.
	Found, Forgotten int
	// TooLarge is the pool's size when it was too large to read.
	TooLarge int
}

// ScanMempool records the node's pool transactions that pay the wallet or
// spend its coins as unconfirmed, so that an incoming payment shows before
// it confirms (and counts as unconfirmed in the balance, not as
// spendable), and forgets the unconfirmed transactions of others that left
// the pool without confirming. The wallet reads the pool whole and matches
// it itself: the node learns nothing of its addresses.
func (w *Wallet) ScanMempool(node PoolNode) (PoolScan, error) {
	var res PoolScan
	ids, err := node.MempoolTxIDs()
	if err != nil {
		return res, err
	}
	if len(ids) > MaxPoolScan {
		res.TooLarge = len(ids)
		return res, nil
	}
	inPool := make(map[string]bool, len(ids))
	for _, id := range ids {
		inPool[id.String()] = true
	}
	// Forget others' unconfirmed transactions the pool no longer holds.
	kept := w.st.Txs[:0]
	for _, r := range w.st.Txs {
		if !r.Mine && r.Height == 0 && !inPool[r.TxID] {
			res.Forgotten++
			continue
		}
		kept = append(kept, r)
	}
	if res.Forgotten > 0 {
		w.st.Txs = kept
		w.reindex()
	}
	// Parents before children is not guaranteed: repeat until no new
	// transaction becomes relevant through the outputs of another.
	pending := make([]*wire.MsgTx, 0)
	for _, id := range ids {
		if w.byID[id.String()] != nil {
			continue
		}
		tx, err := node.MempoolTx(id)
		if err != nil {
			continue // it left the pool meanwhile
		}
		pending = append(pending, tx)
	}
	for progress := true; progress; {
		progress = false
		rest := pending[:0]
		for _, tx := range pending {
			if w.relevant(tx) {
				w.record(tx, 0, "")
				res.Found++
				progress = true
			} else {
				rest = append(rest, tx)
			}
		}
		pending = rest
	}
	if res.Found > 0 || res.Forgotten > 0 {
		w.markConflicts()
	}
	return res, nil
}

// relevant reports whether tx pays a watched script or spends an output
// paying one.
func (w *Wallet) relevant(tx *wire.MsgTx) bool {
	for _, out := range tx.TxOut {
		if _, ok := w.scripts[string(out.PkScript)]; ok {
			return true
		}
	}
	if consensus.IsCoinBaseTx(tx) {
		return false
	}
	for _, in := range tx.TxIn {
		if w.owned[in.PreviousOutPoint] {
			return true
		}
	}
	return false
}
