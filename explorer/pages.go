package explorer

import (
	"bytes"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/internal/coreshape"
	"github.com/cairnchain/cairn/internal/webassets"
)

// The pages are rendered on the server from html/template files embedded
// in the binary; they show their data without JavaScript. The shared
// script (webassets' live.js) refreshes the parts marked data-live from
// /part/ fragments, rendered by the same templates, when /api/events says
// something changed.

//go:embed templates
var templateFiles embed.FS

// pageNames are the page templates; each is parsed with the layout and
// the partials.
var pageNames = []string{"home", "block", "tx", "address", "tips", "network", "message"}

// templates holds one template set per page.
type templates map[string]*template.Template

func (s *Server) parseTemplates() (templates, error) {
	funcs := template.FuncMap{
		"coins":    func(v int64) string { return consensus.FormatCoins(v) + " " + s.cfg.Chain.Network().Unit() },
		"short":    shortHash,
		"ago":      ago,
		"utc":      func(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02 15:04:05 UTC") },
		"dur":      duration,
		"bytes":    byteSize,
		"num":      groupDigits,
		"float":    func(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) },
		"diff":     func(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) },
		"hashrate": hashrateString,
		"pct":      func(part, whole int64) float64 { return 100 * float64(part) / math.Max(1, float64(whole)) },
		"add":      func(a, b int) int { return a + b },
		"sub":      func(a, b int32) int32 { return a - b },
		"pathEsc":  url.PathEscape,
		"queryEsc": url.QueryEscape,
		"jsonAttr": jsonString,
		"isNil":    func(p *outJSON) bool { return p == nil },
		"feeRate":  func(fee int64, weight int) float64 { return float64(fee) / math.Max(1, float64(weight)/4) },
		"plus":     func(a, b int) int { return a + b },
		"int64":    func(i int) int64 { return int64(i) },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"deref32": func(p *int32) int32 {
			if p == nil {
				return 0
			}
			return *p
		},
	}
	out := templates{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("explorer: templates: %w", err)
		}
		out[name] = t
	}
	return out, nil
}

// render writes a page, or a fragment (a template of parts.html) when
// name is "part:NAME".
func (s *Server) render(w http.ResponseWriter, code int, page, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Warn("render page", "page", page, "template", name, "err", err)
		fail(w, http.StatusInternalServerError, "render: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// page wraps a page's data with what the layout shows.
type page struct {
	Title   string
	Network string
	Unit    string
	Query   string
	Data    any
}

func (s *Server) wrap(title string, data any) *page {
	n := s.cfg.Chain.Network()
	return &page{Title: title, Network: n.Name, Unit: n.Unit(), Data: data}
}

// message renders a page that only says something (not found, bad input).
func (s *Server) message(w http.ResponseWriter, code int, title, text, query string) {
	p := s.wrap(title, map[string]string{"Text": text})
	p.Query = query
	s.render(w, code, "message", "layout", p)
}

// --- home ---

type homeBlock struct {
	Height   int32
	Hash     string
	Time     int64
	Interval int64 // seconds since the previous block
	// HasInterval is false for the oldest block listed.
	HasInterval bool
	TxCount     int
	Size        int
	Weight      int
}

type homeData struct {
	Height     int32
	Hash       string
	Time       int64
	Difficulty float64
	Hashrate   float64
	Spacing    int64 // seconds
	Mempool    *mempoolJSON
	Histogram  []histogramRow
	Blocks     []homeBlock
}

// histogramRow is one bin of the pool's fee histogram, for display.
type histogramRow struct {
	Rate  float64
	VSize int64
	Width float64 // percent of the largest bin
}

func (s *Server) homeData() *homeData {
	best := s.cfg.Chain.BestSnapshot()
	d := &homeData{Height: best.Height, Hash: best.Hash.String(), Difficulty: coreshape.Difficulty(best.Bits),
		Spacing: int64(s.cfg.Chain.Network().Consensus.TargetSpacing / time.Second)}
	d.Hashrate, _ = s.hashrateSeriesTail(best.Height)
	var prevTime int64
	for h := best.Height; h >= 0 && h >= best.Height-10; h-- {
		info, err := s.headerAt(h)
		if err != nil {
			break
		}
		b := homeBlock{Height: h, Hash: info.Hash.String(), Time: info.Header.Timestamp.Unix()}
		if sum, err := s.summaryOf(info.Hash); err == nil {
			b.TxCount, b.Size, b.Weight = sum.TxCount, sum.Size, sum.Weight
		}
		if h == best.Height {
			d.Time = b.Time
		}
		if len(d.Blocks) > 0 {
			d.Blocks[len(d.Blocks)-1].Interval = prevTime - b.Time
			d.Blocks[len(d.Blocks)-1].HasInterval = true
		}
		prevTime = b.Time
		d.Blocks = append(d.Blocks, b)
	}
	if len(d.Blocks) > 10 {
		d.Blocks = d.Blocks[:10] // the eleventh only gave the tenth its interval
	}
	if s.cfg.Mempool != nil {
		sum := s.summary.get(s.cfg.Mempool)
		d.Mempool = &sum
		var most float64
		for _, b := range sum.FeeHistogram {
			most = math.Max(most, b[1])
		}
		for _, b := range sum.FeeHistogram {
			d.Histogram = append(d.Histogram, histogramRow{Rate: b[0], VSize: int64(b[1]), Width: 100 * b[1] / math.Max(most, 1)})
		}
	}
	return d
}

func (s *Server) homePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		s.message(w, http.StatusNotFound, "Not found", "There is no page at "+r.URL.Path+".", "")
		return
	}
	s.render(w, 200, "home", "layout", s.wrap("Cairn explorer", s.homeData()))
}

// part serves the fragments live pages refresh.
func (s *Server) part(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("name") {
	case "home-tip":
		s.render(w, 200, "home", "home-tip", s.homeData())
	case "home-blocks":
		s.render(w, 200, "home", "home-blocks", s.homeData())
	case "home-mempool":
		s.render(w, 200, "home", "home-mempool", s.homeData())
	case "tx-status":
		f, ok := s.txForPage(w, r, r.URL.Query().Get("txid"))
		if ok {
			s.render(w, 200, "tx", "tx-status", s.txPageData(f, false))
		}
	case "tips":
		s.render(w, 200, "tips", "tips-tree", s.tipsData())
	case "peers":
		s.render(w, 200, "network", "peers", s.networkData(false))
	default:
		fail(w, http.StatusNotFound, "no such part")
	}
}

// --- block ---

type blockTxRow struct {
	TxID     string
	Coinbase bool
	Inputs   int
	Outputs  int
	Value    int64
	Fee      int64
	FeeRate  float64
	Weight   int
}

type blockPageData struct {
	Block         *blockV1JSON
	Header        string
	MainChain     bool
	Confirmations int32
	Next          string
	Txs           []blockTxRow
	Start, Total  int
	PrevPage      int
	NextPage      int
}

func (s *Server) blockPage(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("hash")
	h, err := chainhash.NewHashFromStr(v)
	if err != nil || len(v) != 64 {
		s.message(w, http.StatusBadRequest, "Bad block hash", "A block hash is 64 hex digits.", v)
		return
	}
	d, err := s.blockData(*h)
	if errors.Is(err, chain.ErrUnknownBlock) {
		s.message(w, http.StatusNotFound, "Block not found", "This node knows no block "+v+".", v)
		return
	}
	if err != nil {
		s.message(w, http.StatusNotFound, "Block data not available", err.Error(), v)
		return
	}
	bj, err := s.blockV1(d)
	if err != nil {
		s.message(w, http.StatusInternalServerError, "Block", err.Error(), v)
		return
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("start"))
	start = max(0, min(start-start%blockTxsPerPage, len(d.block.Transactions)-1))
	pd := &blockPageData{Block: bj, Header: bj.Extras.Header, MainChain: d.info.MainChain, Start: start,
		Total: len(d.block.Transactions), PrevPage: -1, NextPage: -1}
	if d.info.MainChain {
		pd.Confirmations = s.cfg.Chain.BestSnapshot().Height - d.info.Height + 1
	}
	if d.info.NextHash != nil {
		pd.Next = d.info.NextHash.String()
	}
	for i := start; i < len(d.block.Transactions) && i < start+blockTxsPerPage; i++ {
		f := d.txOf(i)
		row := blockTxRow{TxID: f.txid.String(), Coinbase: i == 0, Inputs: len(f.tx.TxIn), Outputs: len(f.tx.TxOut),
			Fee: f.fee(), Weight: consensus.TxWeight(f.tx)}
		for _, o := range f.tx.TxOut {
			row.Value += o.Value
		}
		row.FeeRate = float64(row.Fee) / math.Max(1, float64(row.Weight)/4)
		pd.Txs = append(pd.Txs, row)
	}
	if start > 0 {
		pd.PrevPage = start - blockTxsPerPage
	}
	if start+blockTxsPerPage < len(d.block.Transactions) {
		pd.NextPage = start + blockTxsPerPage
	}
	s.render(w, 200, "block", "layout", s.wrap(fmt.Sprintf("Block %d", d.info.Height), pd))
}

func (s *Server) blockHeightPage(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("height")
	h, err := strconv.ParseInt(v, 10, 32)
	if err != nil || h < 0 {
		s.message(w, http.StatusBadRequest, "Bad height", "A height is a whole number.", v)
		return
	}
	hash, err := s.cfg.Chain.BlockHashByHeight(int32(h))
	if err != nil {
		s.message(w, http.StatusNotFound, "No block at that height", fmt.Sprintf("The main chain has no block at height %d yet.", h), v)
		return
	}
	http.Redirect(w, r, "/block/"+hash.String(), http.StatusFound)
}

// --- transaction ---

type txPageData struct {
	Tx            *txJSON
	VSize         int
	FeeRate       float64
	Confirmations int32
	Coinbase      bool
	InValue       int64
	OutValue      int64
	Raw           string
	Spends        []outspendJSON // per output, when looked up
	TxID          string
}

// maxPageOutspends bounds the outputs whose spender a transaction page
// looks up.
const maxPageOutspends = 100

func (s *Server) txForPage(w http.ResponseWriter, _ *http.Request, v string) (*foundTx, bool) {
	h, err := chainhash.NewHashFromStr(v)
	if err != nil || len(v) != 64 {
		s.message(w, http.StatusBadRequest, "Bad transaction id", "A txid is 64 hex digits.", v)
		return nil, false
	}
	f, err := s.findTx(*h)
	if errors.Is(err, errTxNotFound) {
		s.message(w, http.StatusNotFound, "Transaction not found", err.Error(), v)
		return nil, false
	}
	if err != nil {
		s.message(w, http.StatusInternalServerError, "Transaction", err.Error(), v)
		return nil, false
	}
	return f, true
}

func (s *Server) txPageData(f *foundTx, spends bool) *txPageData {
	tj := s.txJSON(f)
	pd := &txPageData{Tx: tj, VSize: (tj.Weight + 3) / 4, Coinbase: consensus.IsCoinBaseTx(f.tx), TxID: tj.TxID}
	pd.FeeRate = float64(tj.Fee) / math.Max(1, float64(tj.Weight)/4)
	if f.confirmed {
		pd.Confirmations = s.cfg.Chain.BestSnapshot().Height - f.height + 1
	}
	for _, in := range tj.Vin {
		if in.Prevout != nil {
			pd.InValue += in.Prevout.Value
		}
	}
	for _, o := range tj.Vout {
		pd.OutValue += o.Value
	}
	var raw bytes.Buffer
	_ = f.tx.Serialize(&raw)
	pd.Raw = hex.EncodeToString(raw.Bytes())
	if spends {
		q := newSpendSearch()
		defer q.release()
		for i := range f.tx.TxOut {
			if i == maxPageOutspends {
				break
			}
			pd.Spends = append(pd.Spends, s.outspend(f, uint32(i), q))
		}
	}
	return pd
}

func (s *Server) txPage(w http.ResponseWriter, r *http.Request) {
	f, ok := s.txForPage(w, r, r.PathValue("txid"))
	if !ok {
		return
	}
	s.render(w, 200, "tx", "layout", s.wrap("Transaction "+shortHash(f.txid.String()), s.txPageData(f, true)))
}

// --- address ---

type addrPageData struct {
	Address   string
	Script    string
	Type      string
	Stats     addressJSON
	Balance   int64
	Txs       []addrTxRow
	Utxos     []utxoJSON
	MoreUtxos bool
	Error     string
}

type addrTxRow struct {
	TxID      string
	Confirmed bool
	Height    int32
	Time      int64
	Delta     int64 // what the transaction does to the address's balance
}

// addrPageUtxos is how many unspent outputs an address page lists.
const addrPageUtxos = 100

func (s *Server) addressPage(w http.ResponseWriter, r *http.Request) {
	addr := r.PathValue("address")
	script, err := s.cfg.Chain.Network().AddressScript(addr)
	if err != nil {
		s.message(w, http.StatusBadRequest, "Bad address", err.Error(), addr)
		return
	}
	sh := chain.HashScript(script)
	pd := &addrPageData{Address: addr, Script: hex.EncodeToString(script)}
	pd.Type, _ = coreshape.ClassifyScript(script, s.params)
	if t, ok := esploraType[pd.Type]; ok {
		pd.Type = t
	}
	v, err := s.cfg.Chain.AddrIndexView()
	if err != nil {
		pd.Error = "Address queries need the address index: start the node with --addrindex."
		s.render(w, 200, "address", "layout", s.wrap("Address "+addr, pd))
		return
	}
	defer v.Release()
	hist, err := v.History(sh, maxAddrHistory)
	if err != nil {
		s.message(w, http.StatusBadRequest, "Address", err.Error(), addr)
		return
	}
	st := &pd.Stats
	st.Address = addr
	st.ChainStats = chainStats(hist)
	if s.mem != nil {
		var deltas []poolDelta
		st.MempoolStats, deltas = s.poolStats(sh, s.poolTxsOf(sh, hist))
		for _, d := range deltas {
			pd.Txs = append(pd.Txs, addrTxRow{TxID: d.txid.String(), Delta: d.delta})
		}
	}
	pd.Balance = st.ChainStats.FundedTxoSum - st.ChainStats.SpentTxoSum + st.MempoolStats.FundedTxoSum - st.MempoolStats.SpentTxoSum
	times := map[int32]int64{}
	for i := len(hist) - 1; i >= 0 && i >= len(hist)-addrChainTxsPerPage; i-- {
		e := hist[i]
		if _, ok := times[e.Height]; !ok {
			if info, err := s.headerAt(e.Height); err == nil {
				times[e.Height] = info.Header.Timestamp.Unix()
			}
		}
		pd.Txs = append(pd.Txs, addrTxRow{TxID: e.TxID.String(), Confirmed: true, Height: e.Height, Time: times[e.Height],
			Delta: e.FundedSum - e.SpentSum})
	}
	us, err := v.Unspent(sh, 0)
	if err == nil {
		if len(us) > addrPageUtxos {
			pd.MoreUtxos = true
			us = us[len(us)-addrPageUtxos:]
		}
		for i := len(us) - 1; i >= 0; i-- {
			u := us[i]
			pd.Utxos = append(pd.Utxos, utxoJSON{TxID: u.OutPoint.Hash.String(), Vout: u.OutPoint.Index, Value: u.Amount,
				Status: txStatus{Confirmed: true, BlockHeight: &u.Height}})
		}
	}
	s.render(w, 200, "address", "layout", s.wrap("Address "+addr, pd))
}

// --- search ---

// search finds what the box was given: a height, a block hash, a txid or
// an address.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	if h, err := strconv.ParseUint(q, 10, 31); err == nil && len(q) < 11 {
		if hash, err := s.cfg.Chain.BlockHashByHeight(int32(h)); err == nil {
			http.Redirect(w, r, "/block/"+hash.String(), http.StatusFound)
			return
		}
		s.message(w, http.StatusNotFound, "Nothing found", fmt.Sprintf("The main chain has no block at height %d.", h), q)
		return
	}
	if len(q) == 64 {
		if h, err := chainhash.NewHashFromStr(q); err == nil {
			if _, err := s.cfg.Chain.BlockInfo(*h); err == nil {
				http.Redirect(w, r, "/block/"+h.String(), http.StatusFound)
				return
			}
			if _, err := s.findTx(*h); err == nil {
				http.Redirect(w, r, "/tx/"+h.String(), http.StatusFound)
				return
			}
			s.message(w, http.StatusNotFound, "Nothing found", "No block or transaction of this node has the hash "+q+".", q)
			return
		}
	}
	if _, err := s.cfg.Chain.Network().AddressScript(q); err == nil {
		http.Redirect(w, r, "/address/"+url.PathEscape(q), http.StatusFound)
		return
	}
	s.message(w, http.StatusNotFound, "Nothing found",
		"Search takes a block height, a block hash, a transaction id or an address of "+s.cfg.Chain.Network().Name+".", q)
}

// --- formatting ---

func shortHash(h string) string {
	if len(h) <= 16 {
		return h
	}
	return h[:8] + "…" + h[len(h)-8:]
}

func ago(t int64) string {
	d := time.Since(time.Unix(t, 0))
	if d < 0 {
		return "in " + duration(int64(-d/time.Second))
	}
	return duration(int64(d/time.Second)) + " ago"
}

func duration(secs int64) string {
	switch {
	case secs < 0:
		return "-" + duration(-secs)
	case secs < 120:
		return fmt.Sprintf("%d s", secs)
	case secs < 7200:
		return fmt.Sprintf("%d min", secs/60)
	case secs < 172800:
		return fmt.Sprintf("%.1f h", float64(secs)/3600)
	}
	return fmt.Sprintf("%.1f days", float64(secs)/86400)
}

func byteSize(n int64) string {
	switch {
	case n < 10_000:
		return fmt.Sprintf("%d B", n)
	case n < 10_000_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.2f MB", float64(n)/1e6)
}

func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func hashrateString(h float64) string {
	units := []string{"H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"}
	i := 0
	for h >= 1000 && i < len(units)-1 {
		h /= 1000
		i++
	}
	return strconv.FormatFloat(h, 'f', 2, 64) + " " + units[i]
}

// jsonString encodes v as JSON for a data attribute or script element.
func jsonString(v any) (template.JS, error) {
	var buf bytes.Buffer
	enc := jsonEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return template.JS(strings.TrimSpace(buf.String())), nil
}

// staticPrefix is where the shared files are served.
const staticPrefix = webassets.Prefix
