package explorer

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
)

// Bounds of the address paths, after Blockstream's electrs (Esplora's
// backend), which refuses an address with more unspent outputs than its
// utxos_limit rather than answer part of them.
const (
	// maxAddrUnspent is the most unspent outputs /utxo lists.
	maxAddrUnspent = 5000
	// maxAddrHistory is the most confirmed history entries read for an
	// address's statistics and pages.
	maxAddrHistory = 500_000
	// addrChainTxsPerPage and addrPoolTxs are Esplora's page sizes.
	addrChainTxsPerPage = 25
	addrPoolTxs         = 50
)

// statsJSON is Esplora's chain_stats and mempool_stats.
type statsJSON struct {
	FundedTxoCount uint64 `json:"funded_txo_count"`
	FundedTxoSum   int64  `json:"funded_txo_sum"`
	SpentTxoCount  uint64 `json:"spent_txo_count"`
	SpentTxoSum    int64  `json:"spent_txo_sum"`
	TxCount        int    `json:"tx_count"`
}

// addressJSON is Esplora's /api/address/:address (or scripthash).
type addressJSON struct {
	Address      string    `json:"address,omitempty"`
	ScriptHash   string    `json:"scripthash,omitempty"`
	ChainStats   statsJSON `json:"chain_stats"`
	MempoolStats statsJSON `json:"mempool_stats"`
}

// utxoJSON is one entry of /utxo.
type utxoJSON struct {
	TxID   string   `json:"txid"`
	Vout   uint32   `json:"vout"`
	Status txStatus `json:"status"`
	Value  int64    `json:"value"`
}

// addrQuery is a parsed address or script hash path.
type addrQuery struct {
	address string // or "" for a script hash path
	sh      chain.ScriptHash
}

// addrParam reads {address} or {scripthash}. Esplora's script hash is the
// SHA-256 of the output script in hex, in byte order (not reversed as the
// Electrum protocol shows it).
func (s *Server) addrParam(w http.ResponseWriter, r *http.Request) (*addrQuery, bool) {
	if v := r.PathValue("address"); v != "" {
		script, err := s.cfg.Chain.Network().AddressScript(v)
		if err != nil {
			fail(w, http.StatusBadRequest, "Invalid address: "+err.Error())
			return nil, false
		}
		return &addrQuery{address: v, sh: chain.HashScript(script)}, true
	}
	v := r.PathValue("scripthash")
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != 32 {
		fail(w, http.StatusBadRequest, "Invalid scripthash")
		return nil, false
	}
	return &addrQuery{sh: chain.ScriptHash(b)}, true
}

// addrView opens the address index, or answers why it cannot.
func (s *Server) addrView(w http.ResponseWriter) (*chain.AddrView, bool) {
	v, err := s.cfg.Chain.AddrIndexView()
	if errors.Is(err, chain.ErrAddrIndexOff) {
		fail(w, http.StatusNotImplemented, "Address queries need the address index: start the node with --addrindex")
		return nil, false
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return nil, false
	}
	return v, true
}

// history reads a script's confirmed history, answering an error itself.
func (s *Server) history(w http.ResponseWriter, v *chain.AddrView, sh chain.ScriptHash) ([]chain.AddrTx, bool) {
	hist, err := v.History(sh, maxAddrHistory)
	if errors.Is(err, chain.ErrAddrHistoryTooLarge) {
		fail(w, http.StatusBadRequest, fmt.Sprintf("Too many history entries (more than %d)", maxAddrHistory))
		return nil, false
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return nil, false
	}
	return hist, true
}

// poolTxsOf returns the pool transactions touching a script, newest first
// (by time in the pool, then txid), less any the history already holds
// confirmed (the pool index not yet refreshed after a block).
func (s *Server) poolTxsOf(sh chain.ScriptHash, confirmed []chain.AddrTx) []chainhash.Hash {
	if s.mem == nil {
		return nil
	}
	s.mem.Refresh(false)
	set := s.mem.Script(sh)
	if len(set) == 0 {
		return nil
	}
	mined := make(map[chainhash.Hash]bool)
	for i := len(confirmed) - 1; i >= 0 && i >= len(confirmed)-len(set)-addrChainTxsPerPage; i-- {
		mined[confirmed[i].TxID] = true
	}
	type timed struct {
		id chainhash.Hash
		t  int64
	}
	var ids []timed
	for id := range set {
		if mined[id] {
			continue
		}
		var t int64
		if d, err := s.cfg.Mempool.Entry(id); err == nil {
			t = d.Time.UnixNano()
		}
		ids = append(ids, timed{id, t})
	}
	slices.SortFunc(ids, func(a, b timed) int {
		if a.t != b.t {
			return -cmp.Compare(a.t, b.t)
		}
		return cmp.Compare(a.id.String(), b.id.String())
	})
	out := make([]chainhash.Hash, len(ids))
	for i, t := range ids {
		out[i] = t.id
	}
	return out
}

// addrHistory reads an address path's script and its confirmed history,
// or answers why it cannot.
func (s *Server) addrHistory(w http.ResponseWriter, r *http.Request) (*addrQuery, []chain.AddrTx, bool) {
	q, ok := s.addrParam(w, r)
	if !ok {
		return nil, nil, false
	}
	v, ok := s.addrView(w)
	if !ok {
		return nil, nil, false
	}
	defer v.Release()
	hist, ok := s.history(w, v, q.sh)
	return q, hist, ok
}

// chainStats sums a confirmed history's records.
func chainStats(hist []chain.AddrTx) statsJSON {
	st := statsJSON{TxCount: len(hist)}
	for _, e := range hist {
		st.FundedTxoCount += uint64(e.FundedCount)
		st.FundedTxoSum += e.FundedSum
		st.SpentTxoCount += uint64(e.SpentCount)
		st.SpentTxoSum += e.SpentSum
	}
	return st
}

// poolDelta is what one pool transaction does to an address's balance.
type poolDelta struct {
	txid  chainhash.Hash
	delta int64
}

// poolStats sums what the pool transactions ids pay and spend of script
// sh, and returns each one's balance change; those the pool index no
// longer holds (they left meanwhile) are left out.
func (s *Server) poolStats(sh chain.ScriptHash, ids []chainhash.Hash) (statsJSON, []poolDelta) {
	var st statsJSON
	var deltas []poolDelta
	for _, id := range ids {
		t := s.mem.Get(id)
		if t == nil {
			continue
		}
		d := poolDelta{txid: id}
		for _, o := range t.Outs {
			if o.Script == sh {
				d.delta += o.Value
				st.FundedTxoCount++
				st.FundedTxoSum += o.Value
			}
		}
		for _, sp := range t.Spends {
			if sp.Script == sh {
				d.delta -= sp.Value
				st.SpentTxoCount++
				st.SpentTxoSum += sp.Value
			}
		}
		st.TxCount++
		deltas = append(deltas, d)
	}
	return st, deltas
}

func (s *Server) address(w http.ResponseWriter, r *http.Request) {
	q, hist, ok := s.addrHistory(w, r)
	if !ok {
		return
	}
	out := addressJSON{Address: q.address}
	if q.address == "" {
		out.ScriptHash = hex.EncodeToString(q.sh[:])
	}
	out.ChainStats = chainStats(hist)
	if s.mem != nil {
		out.MempoolStats, _ = s.poolStats(q.sh, s.poolTxsOf(q.sh, hist))
	}
	jsonReply(w, out)
}

// addrTxs answers /txs (the newest pool transactions, then the newest
// confirmed page), /txs/chain[/:last_seen_txid] (confirmed, newest first,
// a page after last_seen) and /txs/mempool.
func (s *Server) addrTxs(part string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, hist, ok := s.addrHistory(w, r)
		if !ok {
			return
		}
		last := r.PathValue("last")
		withPool := part != "chain"
		if after := r.URL.Query().Get("after_txid"); after != "" && part == "" {
			// Esplora's newer paging: /txs?after_txid= is the chain page
			// after that transaction.
			last, withPool = after, false
		}
		out := []*txJSON{}
		if withPool {
			pooled := s.poolTxsOf(q.sh, hist)
			for _, id := range pooled[:min(len(pooled), addrPoolTxs)] {
				if f := s.poolTx(id); f != nil {
					out = append(out, s.txJSON(f))
				}
			}
		}
		if part == "mempool" {
			jsonReply(w, out)
			return
		}
		end := len(hist) // confirmed entries hist[:end], newest last
		if last != "" {
			h, err := chainhash.NewHashFromStr(last)
			if err != nil || len(last) != 2*chainhash.HashSize {
				fail(w, http.StatusBadRequest, "Invalid hex string")
				return
			}
			end = slices.IndexFunc(hist, func(e chain.AddrTx) bool { return e.TxID == *h })
			if end < 0 {
				fail(w, http.StatusNotFound, "last_seen_txid is not in the address's confirmed history")
				return
			}
		}
		for i := end - 1; i >= 0 && i >= end-addrChainTxsPerPage; i-- {
			f, err := s.txAt(hist[i].Height, hist[i].TxPos)
			if err != nil {
				fail(w, http.StatusInternalServerError, err.Error())
				return
			}
			out = append(out, s.txJSON(f))
		}
		jsonReply(w, out)
	}
}

func (s *Server) addrUtxo(w http.ResponseWriter, r *http.Request) {
	q, ok := s.addrParam(w, r)
	if !ok {
		return
	}
	v, ok := s.addrView(w)
	if !ok {
		return
	}
	defer v.Release()
	us, err := v.Unspent(q.sh, maxAddrUnspent)
	if errors.Is(err, chain.ErrAddrHistoryTooLarge) {
		fail(w, http.StatusBadRequest, fmt.Sprintf("Too many unspent transaction outputs (more than %d)", maxAddrUnspent))
		return
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []utxoJSON{}
	statuses := map[int32]txStatus{}
	poolSpent := func(op wire.OutPoint) bool {
		if s.cfg.Mempool == nil {
			return false
		}
		_, ok := s.cfg.Mempool.Spender(op)
		return ok
	}
	for _, u := range us {
		if poolSpent(u.OutPoint) {
			continue
		}
		st, ok := statuses[u.Height]
		if !ok {
			st = s.statusAt(u.Height)
			statuses[u.Height] = st
		}
		out = append(out, utxoJSON{TxID: u.OutPoint.Hash.String(), Vout: u.OutPoint.Index, Status: st, Value: u.Amount})
	}
	if s.mem != nil {
		for _, id := range s.poolTxsOf(q.sh, nil) {
			t := s.mem.Get(id)
			if t == nil {
				continue
			}
			for _, o := range t.Outs {
				op := wire.OutPoint{Hash: id, Index: o.Index}
				if o.Script == q.sh && !poolSpent(op) && len(out) < maxAddrUnspent {
					out = append(out, utxoJSON{TxID: id.String(), Vout: o.Index, Value: o.Value})
				}
			}
		}
	}
	jsonReply(w, out)
}

// statusAt is the status of a transaction confirmed at a main-chain
// height.
func (s *Server) statusAt(height int32) txStatus {
	hash, err := s.cfg.Chain.BlockHashByHeight(height)
	if err != nil {
		return txStatus{}
	}
	info, err := s.cfg.Chain.BlockInfo(hash)
	if err != nil {
		return txStatus{}
	}
	h, hs, t := height, hash.String(), info.Header.Timestamp.Unix()
	return txStatus{Confirmed: true, BlockHeight: &h, BlockHash: &hs, BlockTime: &t}
}
