package explorer

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/internal/coreshape"
	"github.com/cairnchain/cairn/mempool"
	"github.com/cairnchain/cairn/mempool/policy"
)

// txStatus is Esplora's transaction status.
type txStatus struct {
	Confirmed   bool    `json:"confirmed"`
	BlockHeight *int32  `json:"block_height,omitempty"`
	BlockHash   *string `json:"block_hash,omitempty"`
	BlockTime   *int64  `json:"block_time,omitempty"`
}

// outJSON is Esplora's output (and an input's prevout).
type outJSON struct {
	ScriptPubKey        string `json:"scriptpubkey"`
	ScriptPubKeyAsm     string `json:"scriptpubkey_asm"`
	ScriptPubKeyType    string `json:"scriptpubkey_type"`
	ScriptPubKeyAddress string `json:"scriptpubkey_address,omitempty"`
	Value               int64  `json:"value"`
}

// vinJSON is Esplora's input.
type vinJSON struct {
	TxID         string   `json:"txid"`
	Vout         uint32   `json:"vout"`
	Prevout      *outJSON `json:"prevout"`
	ScriptSig    string   `json:"scriptsig"`
	ScriptSigAsm string   `json:"scriptsig_asm"`
	Witness      []string `json:"witness,omitempty"`
	IsCoinbase   bool     `json:"is_coinbase"`
	Sequence     uint32   `json:"sequence"`
	// The scripts the input reveals, where it reveals them (innerScripts).
	InnerRedeemScriptAsm  *string `json:"inner_redeemscript_asm,omitempty"`
	InnerWitnessScriptAsm *string `json:"inner_witnessscript_asm,omitempty"`
}

// txJSON is Esplora's transaction.
type txJSON struct {
	TxID     string    `json:"txid"`
	Version  int32     `json:"version"`
	Locktime uint32    `json:"locktime"`
	Vin      []vinJSON `json:"vin"`
	Vout     []outJSON `json:"vout"`
	Size     int       `json:"size"`
	Weight   int       `json:"weight"`
	Fee      int64     `json:"fee"`
	Status   txStatus  `json:"status"`
}

// foundTx is a transaction with what the explorer shows beside it.
type foundTx struct {
	tx   *wire.MsgTx
	txid chainhash.Hash
	// prevouts are the outputs the inputs spend (nil for a coinbase, or
	// where unknown).
	prevouts []*wire.TxOut
	// confirmed transactions: their block and position.
	confirmed bool
	height    int32
	blockHash chainhash.Hash
	blockTime int64
	pos       uint32
}

// fee is what the inputs bring less what the outputs take: 0 for a
// coinbase, or when a previous output is unknown.
func (f *foundTx) fee() int64 {
	if consensus.IsCoinBaseTx(f.tx) {
		return 0
	}
	var in, out int64
	for _, p := range f.prevouts {
		if p == nil {
			return 0
		}
		in += p.Value
	}
	for _, o := range f.tx.TxOut {
		out += o.Value
	}
	return in - out
}

func (f *foundTx) status() txStatus {
	if !f.confirmed {
		return txStatus{}
	}
	h, hash, t := f.height, f.blockHash.String(), f.blockTime
	return txStatus{Confirmed: true, BlockHeight: &h, BlockHash: &hash, BlockTime: &t}
}

// esploraType maps Core's script type names to Esplora's.
var esploraType = map[string]string{
	"pubkey":                "p2pk",
	"pubkeyhash":            "p2pkh",
	"scripthash":            "p2sh",
	"witness_v0_keyhash":    "v0_p2wpkh",
	"witness_v0_scripthash": "v0_p2wsh",
	"witness_v1_taproot":    "v1_p2tr",
	"multisig":              "multisig",
	"nulldata":              "op_return",
	"anchor":                "anchor",
}

func (s *Server) outJSON(o *wire.TxOut) *outJSON {
	typ, addr := coreshape.ClassifyScript(o.PkScript, s.params)
	et, ok := esploraType[typ]
	switch {
	case len(o.PkScript) == 0:
		et = "empty"
	case !ok:
		et = "unknown"
	}
	return &outJSON{ScriptPubKey: hex.EncodeToString(o.PkScript), ScriptPubKeyAsm: esploraAsm(o.PkScript), ScriptPubKeyType: et,
		ScriptPubKeyAddress: addr, Value: o.Value}
}

func (s *Server) txJSON(f *foundTx) *txJSON {
	tx := f.tx
	out := &txJSON{TxID: f.txid.String(), Version: tx.Version, Locktime: tx.LockTime,
		Vin: make([]vinJSON, len(tx.TxIn)), Vout: make([]outJSON, len(tx.TxOut)),
		Size: tx.SerializeSize(), Weight: consensus.TxWeight(tx), Fee: f.fee(), Status: f.status()}
	coinbase := consensus.IsCoinBaseTx(tx)
	for i, in := range tx.TxIn {
		v := vinJSON{TxID: in.PreviousOutPoint.Hash.String(), Vout: in.PreviousOutPoint.Index,
			ScriptSig: hex.EncodeToString(in.SignatureScript), ScriptSigAsm: esploraAsm(in.SignatureScript),
			IsCoinbase: coinbase, Sequence: in.Sequence}
		for _, w := range in.Witness {
			v.Witness = append(v.Witness, hex.EncodeToString(w))
		}
		if !coinbase && i < len(f.prevouts) && f.prevouts[i] != nil {
			v.Prevout = s.outJSON(f.prevouts[i])
			redeem, witness := innerScripts(in, f.prevouts[i].PkScript)
			if redeem != nil {
				a := esploraAsm(redeem)
				v.InnerRedeemScriptAsm = &a
			}
			if witness != nil {
				a := esploraAsm(witness)
				v.InnerWitnessScriptAsm = &a
			}
		}
		out.Vin[i] = v
	}
	for i, o := range tx.TxOut {
		out.Vout[i] = *s.outJSON(o)
	}
	return out
}

// errTxNotFound is a transaction neither in the pool nor, as far as the
// node's indexes reach, in the chain.
var errTxNotFound = errors.New("Transaction not found")

// blockData is a block with its previous outputs and where it stands.
type blockData struct {
	info  *chain.BlockInfo
	block *wire.MsgBlock
	txids []chainhash.Hash
	spent []*utxo.Entry
	// firstIn[i] is the index in spent of transaction i's first input.
	firstIn []int
}

// blockCache keeps the last few blocks read with their previous outputs:
// an address's page reads a few transactions of each block it touches.
type blockCache struct {
	mu   sync.Mutex
	list []*blockData
}

const blockCacheSize = 4

func (c *blockCache) get(hash chainhash.Hash) *blockData {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.list {
		if d.info.Hash == hash {
			return d
		}
	}
	return nil
}

func (c *blockCache) put(d *blockData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.list) == blockCacheSize {
		copy(c.list, c.list[1:])
		c.list = c.list[:blockCacheSize-1]
	}
	c.list = append(c.list, d)
}

// blockSummary is a block's transaction count and sizes, which lists of
// blocks show: cached by hash (blocks never change), so that a live page
// refreshed on each tip does not read its blocks again.
type blockSummary struct {
	TxCount, Size, Weight int
}

// maxSummaries bounds the summary cache; when full it starts again.
const maxSummaries = 4096

func (s *Server) summaryOf(hash chainhash.Hash) (blockSummary, error) {
	s.sumMu.Lock()
	sum, ok := s.sums[hash]
	s.sumMu.Unlock()
	if ok {
		return sum, nil
	}
	b, err := s.cfg.Chain.BlockByHash(hash)
	if err != nil {
		return blockSummary{}, err
	}
	sum = blockSummary{TxCount: len(b.Transactions), Size: b.SerializeSize(), Weight: consensus.BlockWeight(b)}
	s.sumMu.Lock()
	if s.sums == nil || len(s.sums) >= maxSummaries {
		s.sums = make(map[chainhash.Hash]blockSummary)
	}
	s.sums[hash] = sum
	s.sumMu.Unlock()
	return sum, nil
}

// blockData reads a block and the outputs it spends.
func (s *Server) blockData(hash chainhash.Hash) (*blockData, error) {
	info, err := s.cfg.Chain.BlockInfo(hash)
	if err != nil {
		return nil, err
	}
	if d := s.bcache.get(hash); d != nil && d.info.MainChain == info.MainChain {
		d2 := *d
		d2.info = info
		return &d2, nil
	}
	b, err := s.cfg.Chain.BlockByHash(hash)
	if err != nil {
		return nil, err
	}
	d := &blockData{info: info, block: b, txids: consensus.TxHashes(b), firstIn: make([]int, len(b.Transactions))}
	if info.Height > 0 {
		// A block never connected (a side branch's) has no undo data:
		// its inputs are then shown without their previous outputs.
		if d.spent, err = s.cfg.Chain.SpentOutputs(hash, b); err != nil && !errors.Is(err, chain.ErrNoBlockData) {
			return nil, err
		}
	}
	n := 0
	for i, tx := range b.Transactions {
		d.firstIn[i] = n
		if i > 0 {
			n += len(tx.TxIn)
		}
	}
	s.bcache.put(d)
	return d, nil
}

// txOf returns transaction pos of a block read by blockData.
func (d *blockData) txOf(pos int) *foundTx {
	tx := d.block.Transactions[pos]
	f := &foundTx{tx: tx, txid: d.txids[pos], confirmed: d.info.MainChain, height: d.info.Height,
		blockHash: d.info.Hash, blockTime: d.info.Header.Timestamp.Unix(), pos: uint32(pos)}
	if pos > 0 && d.spent != nil {
		f.prevouts = make([]*wire.TxOut, len(tx.TxIn))
		for i := range tx.TxIn {
			if e := d.spent[d.firstIn[pos]+i]; e != nil {
				f.prevouts[i] = &wire.TxOut{Value: e.Amount, PkScript: e.PkScript}
			}
		}
	}
	return f
}

// txAt returns the transaction at a main-chain height and position, as the
// address index places it.
func (s *Server) txAt(height int32, pos uint32) (*foundTx, error) {
	hash, err := s.cfg.Chain.BlockHashByHeight(height)
	if err != nil {
		return nil, err
	}
	d, err := s.blockData(hash)
	if err != nil {
		return nil, err
	}
	if int(pos) >= len(d.block.Transactions) {
		return nil, fmt.Errorf("%w: block %v has no transaction %d", chain.ErrCorruptDatabase, hash, pos)
	}
	return d.txOf(int(pos)), nil
}

// poolTx returns a pool transaction with its previous outputs, or nil.
func (s *Server) poolTx(txid chainhash.Hash) *foundTx {
	if s.cfg.Mempool == nil {
		return nil
	}
	tx, err := s.cfg.Mempool.FetchTransaction(txid)
	if err != nil {
		return nil
	}
	f := &foundTx{tx: tx, txid: txid, prevouts: make([]*wire.TxOut, len(tx.TxIn))}
	for i, in := range tx.TxIn {
		if o, ok := s.cfg.Mempool.Output(in.PreviousOutPoint); ok {
			f.prevouts[i] = o
		} else if e, err := s.cfg.Chain.FetchUtxoEntry(in.PreviousOutPoint); err == nil && e != nil {
			f.prevouts[i] = &wire.TxOut{Value: e.Amount, PkScript: e.PkScript}
		}
	}
	return f
}

// findTx looks for a transaction in the pool, then in the chain through the
// transaction index.
func (s *Server) findTx(txid chainhash.Hash) (*foundTx, error) {
	if f := s.poolTx(txid); f != nil {
		return f, nil
	}
	if !s.cfg.Chain.TxIndexEnabled() {
		return nil, fmt.Errorf("%w (this node keeps no transaction index: start it with --txindex)", errTxNotFound)
	}
	_, loc, err := s.cfg.Chain.FetchTransaction(txid)
	if errors.Is(err, chain.ErrTxNotFound) {
		return nil, errTxNotFound
	}
	if err != nil {
		return nil, err
	}
	d, err := s.blockData(loc.BlockHash)
	if err != nil {
		return nil, err
	}
	if int(loc.Index) >= len(d.block.Transactions) {
		return nil, fmt.Errorf("%w: transaction index points past block %v", chain.ErrCorruptDatabase, loc.BlockHash)
	}
	return d.txOf(int(loc.Index)), nil
}

// txParam reads the {txid} of a path and finds the transaction.
func (s *Server) txParam(w http.ResponseWriter, r *http.Request) (*foundTx, bool) {
	v := r.PathValue("txid")
	h, err := chainhash.NewHashFromStr(v)
	if err != nil || len(v) != 2*chainhash.HashSize {
		fail(w, http.StatusBadRequest, "Invalid hex string")
		return nil, false
	}
	f, err := s.findTx(*h)
	if errors.Is(err, errTxNotFound) {
		fail(w, http.StatusNotFound, err.Error())
		return nil, false
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return nil, false
	}
	return f, true
}

func (s *Server) tx(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.txParam(w, r); ok {
		jsonReply(w, s.txJSON(f))
	}
}

func (s *Server) txHex(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.txParam(w, r); ok {
		var buf bytes.Buffer
		_ = f.tx.Serialize(&buf)
		text(w, hex.EncodeToString(buf.Bytes()))
	}
}

func (s *Server) txRaw(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.txParam(w, r); ok {
		w.Header().Set("Content-Type", "application/octet-stream")
		_ = f.tx.Serialize(w)
	}
}

func (s *Server) txStatus(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.txParam(w, r); ok {
		jsonReply(w, f.status())
	}
}

// merkleProofJSON is Esplora's merkle-proof: Electrum's get_merkle shape.
type merkleProofJSON struct {
	BlockHeight int32    `json:"block_height"`
	Merkle      []string `json:"merkle"`
	Pos         uint32   `json:"pos"`
}

// confirmedTx reads the {txid} of a path, which must be confirmed, and
// its block.
func (s *Server) confirmedTx(w http.ResponseWriter, r *http.Request) (*foundTx, *blockData, bool) {
	f, ok := s.txParam(w, r)
	if !ok {
		return nil, nil, false
	}
	if !f.confirmed {
		fail(w, http.StatusNotFound, "Transaction not confirmed")
		return nil, nil, false
	}
	d, err := s.blockData(f.blockHash)
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return nil, nil, false
	}
	return f, d, true
}

func (s *Server) txMerkleProof(w http.ResponseWriter, r *http.Request) {
	f, d, ok := s.confirmedTx(w, r)
	if !ok {
		return
	}
	branch, _ := consensus.MerkleProof(d.txids, int(f.pos))
	out := merkleProofJSON{BlockHeight: f.height, Merkle: make([]string, len(branch)), Pos: f.pos}
	for i, h := range branch {
		out.Merkle[i] = h.String()
	}
	jsonReply(w, out)
}

// outspendJSON is Esplora's outspend.
type outspendJSON struct {
	Spent  bool      `json:"spent"`
	TxID   string    `json:"txid,omitempty"`
	Vin    *uint32   `json:"vin,omitempty"`
	Status *txStatus `json:"status,omitempty"`
}

// maxSpenderSearch bounds the transactions one request reads to find who
// spent outputs: the scripts' history entries that spend something, from
// the outputs' block on. /outspends shares it among its outputs; past it,
// an output spent in the chain is answered spent, without its spender.
const maxSpenderSearch = 1000

// spendSearch is one request's search for spenders in the chain: the
// address index view, opened once; each script's history, read once; and
// the transactions left to read (maxSpenderSearch in all).
type spendSearch struct {
	view   *chain.AddrView
	opened bool
	hists  map[chain.ScriptHash][]chain.AddrTx
	budget int
}

func newSpendSearch() *spendSearch {
	return &spendSearch{hists: map[chain.ScriptHash][]chain.AddrTx{}, budget: maxSpenderSearch}
}

// history returns a script's confirmed history, or nil without the index
// or past maxAddrHistory entries.
func (q *spendSearch) history(s *Server, sh chain.ScriptHash) []chain.AddrTx {
	if !q.opened {
		q.opened = true
		q.view, _ = s.cfg.Chain.AddrIndexView()
	}
	if q.view == nil {
		return nil
	}
	h, ok := q.hists[sh]
	if !ok {
		h, _ = q.view.History(sh, maxAddrHistory)
		q.hists[sh] = h
	}
	return h
}

// release frees the view.
func (q *spendSearch) release() {
	if q.view != nil {
		q.view.Release()
	}
}

// outspend finds whether and by whom output vout of f is spent: by a pool
// transaction, or in the chain; the spender in the chain is found through
// the address index, when it is on, within the search's budget.
func (s *Server) outspend(f *foundTx, vout uint32, q *spendSearch) outspendJSON {
	out := f.tx.TxOut[vout]
	if utxo.IsUnspendable(out.PkScript) {
		return outspendJSON{}
	}
	op := wire.OutPoint{Hash: f.txid, Index: vout}
	if s.cfg.Mempool != nil {
		if id, ok := s.cfg.Mempool.Spender(op); ok {
			if sp := s.poolTx(id); sp != nil {
				return spentBy(sp, op)
			}
		}
	}
	if !f.confirmed {
		return outspendJSON{}
	}
	if e, err := s.cfg.Chain.FetchUtxoEntry(op); err != nil || e != nil {
		return outspendJSON{} // unspent (or unknown: shown unspent)
	}
	for _, e := range q.history(s, chain.HashScript(out.PkScript)) {
		if e.SpentCount == 0 || e.Height < f.height || (e.Height == f.height && e.TxPos <= f.pos) {
			continue
		}
		if q.budget <= 0 {
			break
		}
		q.budget--
		sp, err := s.txAt(e.Height, e.TxPos)
		if err != nil {
			break
		}
		if r := spentBy(sp, op); r.Spent {
			return r
		}
	}
	return outspendJSON{Spent: true}
}

// spentBy returns the outspend of op if sp spends it.
func spentBy(sp *foundTx, op wire.OutPoint) outspendJSON {
	for i, in := range sp.tx.TxIn {
		if in.PreviousOutPoint == op {
			vin, st := uint32(i), sp.status()
			return outspendJSON{Spent: true, TxID: sp.txid.String(), Vin: &vin, Status: &st}
		}
	}
	return outspendJSON{}
}

func (s *Server) txOutspend(w http.ResponseWriter, r *http.Request) {
	f, ok := s.txParam(w, r)
	if !ok {
		return
	}
	vout, err := strconv.ParseUint(r.PathValue("vout"), 10, 32)
	if err != nil {
		fail(w, http.StatusBadRequest, "Invalid output index")
		return
	}
	if vout >= uint64(len(f.tx.TxOut)) {
		fail(w, http.StatusNotFound, "Output not found")
		return
	}
	q := newSpendSearch()
	defer q.release()
	jsonReply(w, s.outspend(f, uint32(vout), q))
}

// maxOutspends bounds /outspends: each output costs a UTXO and a pool
// lookup (the spender search has its own budget).
const maxOutspends = 1000

func (s *Server) txOutspends(w http.ResponseWriter, r *http.Request) {
	f, ok := s.txParam(w, r)
	if !ok {
		return
	}
	if len(f.tx.TxOut) > maxOutspends {
		fail(w, http.StatusBadRequest, fmt.Sprintf("Too many outputs (%d, at most %d): ask /outspend/:vout", len(f.tx.TxOut), maxOutspends))
		return
	}
	out := make([]outspendJSON, len(f.tx.TxOut))
	q := newSpendSearch()
	defer q.release()
	for i := range f.tx.TxOut {
		out[i] = s.outspend(f, uint32(i), q)
	}
	jsonReply(w, out)
}

// maxPostTx bounds a posted body: the hex of the largest standard
// transaction (400,000 weight units, at most 400,000 bytes; two hex
// digits a byte), and a line end. The pool refuses anything larger, so
// nothing larger is read or decoded.
const maxPostTx = 2*policy.MaxStandardTxWeight + 2

// postTx accepts a transaction (hex in the body) into the pool and relays
// it, answering its txid as Esplora's POST /api/tx.
func (s *Server) postTx(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPostTx+1))
	if err != nil {
		fail(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if len(body) > maxPostTx {
		fail(w, http.StatusRequestEntityTooLarge, "Transaction too large")
		return
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(body)))
	if err != nil {
		fail(w, http.StatusBadRequest, "sendrawtransaction RPC error: TX decode failed: the body must be the transaction in hex")
		return
	}
	tx, err := consensus.DecodeTx(raw)
	if err != nil {
		fail(w, http.StatusBadRequest, "sendrawtransaction RPC error: TX decode failed: "+err.Error())
		return
	}
	if _, err := s.cfg.Mempool.ProcessTransaction(tx, false); err != nil {
		reason := err.Error()
		var rej *mempool.RejectError
		if errors.As(err, &rej) {
			reason = rej.Reason
			if rej.Detail != "" {
				reason += " (" + rej.Detail + ")"
			}
		}
		fail(w, http.StatusBadRequest, "sendrawtransaction RPC error: "+reason)
		return
	}
	if s.cfg.OnTransaction != nil {
		s.cfg.OnTransaction(tx)
	}
	s.pokeEvents()
	text(w, consensus.TxHash(tx).String())
}

// blockTxsPerPage is how many transactions /api/block/:hash/txs lists, as
// Esplora.
const blockTxsPerPage = 25

func (s *Server) blockTxs(w http.ResponseWriter, r *http.Request) {
	info, ok := s.blockHash(w, r)
	if !ok {
		return
	}
	start := 0
	if v := r.PathValue("start"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(w, http.StatusBadRequest, "Invalid start index")
			return
		}
		if n%blockTxsPerPage != 0 {
			fail(w, http.StatusBadRequest, fmt.Sprintf("start index must be a multiple of %d", blockTxsPerPage))
			return
		}
		start = n
	}
	d, err := s.blockData(info.Hash)
	if err != nil {
		fail(w, http.StatusNotFound, "Block data not available: "+err.Error())
		return
	}
	if start >= len(d.block.Transactions) {
		fail(w, http.StatusNotFound, "start index out of range")
		return
	}
	out := []*txJSON{}
	for i := start; i < len(d.block.Transactions) && i < start+blockTxsPerPage; i++ {
		out = append(out, s.txJSON(d.txOf(i)))
	}
	jsonReply(w, out)
}
