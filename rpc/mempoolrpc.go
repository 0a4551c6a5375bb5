package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool"
)

// Mempool is what the handlers need of the transaction pool.
// *mempool.TxPool implements it.
type Mempool interface {
	ProcessTransaction(tx *wire.MsgTx, allowOrphan bool) (*mempool.AcceptResult, error)
	TestAccept(tx *wire.MsgTx) (*mempool.TxDesc, error)
	Entry(txid chainhash.Hash) (*mempool.TxDesc, error)
	Descs() []*mempool.TxDesc
	TxIDsWithSequence() ([]chainhash.Hash, uint64)
	Ancestors(txid chainhash.Hash) ([]*mempool.TxDesc, error)
	Descendants(txid chainhash.Hash) ([]*mempool.TxDesc, error)
	Info() mempool.Info
	Count() int
	FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, error)
	Output(op wire.OutPoint) (*wire.TxOut, bool)
	IsSpent(op wire.OutPoint) bool
	EstimateFee(target int) (int64, error)
}

var _ Mempool = (*mempool.TxPool)(nil)

// defaultMaxFeeRate is sendrawtransaction's default maxfeerate: 0.10
// coins per 1,000 vbytes, in base units.
const defaultMaxFeeRate = 10_000_000

// requireMempool refuses pool calls on a server without one.
func (s *Server) requireMempool() error {
	if s.cfg.Mempool == nil {
		return errorf(codeMisc, "this node has no mempool")
	}
	return nil
}

// rejectToRPC maps a pool rejection to Core's codes: -27 already in the
// chain, -25 missing inputs, -26 any other rejection with its reason.
func rejectToRPC(err error) error {
	var re *mempool.RejectError
	if !errors.As(err, &re) {
		return errorf(codeMisc, "%v", err)
	}
	switch re.Code {
	case mempool.RejectAlreadyKnown:
		return errorf(codeAlreadyInChain, "Transaction outputs already in utxo set")
	case mempool.RejectMissingInputs:
		return errorf(codeVerify, "%s", re.Reason)
	}
	return errorf(codeVerifyRejected, "%s", re.Error())
}

// feeRateArg reads a fee rate in coins per 1,000 vbytes (a number or a
// numeric string, as Core's ParseFeeRate) into base units.
func (a args) feeRateArg(i int, def int64) (int64, error) {
	if !a.has(i) {
		return def, nil
	}
	var f float64
	if err := json.Unmarshal(a[i], &f); err != nil {
		var str string
		if json.Unmarshal(a[i], &str) != nil {
			return 0, typeError(a[i], "number")
		}
		v, perr := strconv.ParseFloat(str, 64)
		if perr != nil {
			return 0, errorf(codeType, "Invalid amount")
		}
		f = v
	}
	if f < 0 || math.IsNaN(f) || f > consensus.MaxMoney/consensus.CoinValue {
		return 0, errorf(codeType, "Amount out of range")
	}
	units := int64(f*consensus.CoinValue + 0.5)
	if units >= consensus.CoinValue {
		return 0, errorf(codeInvalidParameter, "Fee rates larger than or equal to 1BTC/kvB are not accepted")
	}
	return units, nil
}

func (s *Server) sendRawTransaction(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	raw, err := a.hexBytes(0, errorf(codeDeserialization, "TX decode failed"))
	if err != nil {
		return nil, err
	}
	tx, err := decodeTx(raw, nil)
	if err != nil {
		return nil, errorf(codeDeserialization, "TX decode failed. Make sure the tx has at least one input.")
	}
	maxRate, err := a.feeRateArg(1, defaultMaxFeeRate)
	if err != nil {
		return nil, err
	}
	txid := consensus.TxHash(tx)
	if d, err := s.cfg.Mempool.Entry(txid); err == nil {
		// Already in the pool: announce it again (manual rebroadcast),
		// as Core does.
		if s.cfg.OnTransaction != nil {
			s.cfg.OnTransaction(d.Tx)
		}
		return txid.String(), nil
	}
	desc, err := s.cfg.Mempool.TestAccept(tx)
	if err != nil {
		return nil, rejectToRPC(err)
	}
	if maxRate > 0 && desc.Fee*1000 > maxRate*desc.VSize {
		return nil, errorf(codeVerify, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)")
	}
	if _, err := s.cfg.Mempool.ProcessTransaction(tx, false); err != nil {
		return nil, rejectToRPC(err)
	}
	if s.cfg.OnTransaction != nil {
		s.cfg.OnTransaction(tx)
	}
	return txid.String(), nil
}

// testAcceptResult is one entry of testmempoolaccept's answer.
type testAcceptResult struct {
	TxID         string         `json:"txid"`
	WTxID        string         `json:"wtxid"`
	Allowed      bool           `json:"allowed"`
	VSize        int64          `json:"vsize,omitempty"`
	Fees         map[string]any `json:"fees,omitempty"`
	RejectReason string         `json:"reject-reason,omitempty"`
}

func (s *Server) testMempoolAccept(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	var hexes []string
	if err := json.Unmarshal(a[0], &hexes); err != nil {
		return nil, typeError(a[0], "array")
	}
	if len(hexes) == 0 || len(hexes) > 25 {
		return nil, errorf(codeInvalidParameter, "Array must contain between 1 and 25 transactions.")
	}
	maxRate, err := a.feeRateArg(1, defaultMaxFeeRate)
	if err != nil {
		return nil, err
	}
	out := make([]testAcceptResult, 0, len(hexes))
	for _, h := range hexes {
		raw, err := args{mustJSON(h)}.hexBytes(0, errorf(codeDeserialization, "TX decode failed"))
		if err != nil {
			return nil, err
		}
		tx, err := decodeTx(raw, nil)
		if err != nil {
			return nil, errorf(codeDeserialization, "TX decode failed: %s", h)
		}
		r := testAcceptResult{TxID: consensus.TxHash(tx).String(), WTxID: consensus.WitnessHash(tx).String()}
		desc, err := s.cfg.Mempool.TestAccept(tx)
		switch {
		case err != nil:
			var re *mempool.RejectError
			switch {
			case errors.As(err, &re) && re.Code == mempool.RejectMissingInputs:
				r.RejectReason = "missing-inputs" // Core's word here
			case errors.As(err, &re):
				r.RejectReason = re.Reason
			default:
				r.RejectReason = err.Error()
			}
		case maxRate > 0 && desc.Fee*1000 > maxRate*desc.VSize:
			r.RejectReason = "max-fee-exceeded"
		default:
			r.Allowed, r.VSize = true, desc.VSize
			r.Fees = map[string]any{"base": coins(desc.Fee)}
		}
		out = append(out, r)
	}
	return out, nil
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// mempoolEntry is a pool transaction as Core's getmempoolentry shows it.
type mempoolEntry struct {
	VSize           int64              `json:"vsize"`
	Weight          int64              `json:"weight"`
	Time            int64              `json:"time"`
	Height          int32              `json:"height"`
	DescendantCount int                `json:"descendantcount"`
	DescendantSize  int64              `json:"descendantsize"`
	AncestorCount   int                `json:"ancestorcount"`
	AncestorSize    int64              `json:"ancestorsize"`
	WTxID           string             `json:"wtxid"`
	Fees            map[string]float64 `json:"fees"`
	Depends         []string           `json:"depends"`
	SpentBy         []string           `json:"spentby"`
	BIP125          bool               `json:"bip125-replaceable"`
	Unbroadcast     bool               `json:"unbroadcast"`
}

func entryJSON(d *mempool.TxDesc) mempoolEntry {
	e := mempoolEntry{
		VSize: d.VSize, Weight: d.Weight, Time: d.Time.Unix(), Height: d.Height,
		DescendantCount: d.DescendantCount, DescendantSize: d.DescendantSize,
		AncestorCount: d.AncestorCount, AncestorSize: d.AncestorSize, WTxID: d.WTxID.String(),
		Fees: map[string]float64{"base": coins(d.Fee), "modified": coins(d.Fee),
			"ancestor": coins(d.AncestorFees), "descendant": coins(d.DescendantFees)},
		Depends: []string{}, SpentBy: []string{},
		BIP125: true, // full replace-by-fee: every pool transaction is replaceable
	}
	for _, p := range d.Parents {
		e.Depends = append(e.Depends, p.String())
	}
	for _, c := range d.Children {
		e.SpentBy = append(e.SpentBy, c.String())
	}
	return e
}

func (s *Server) getRawMempool(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	verbose, err := a.boolAt(0, false)
	if err != nil {
		return nil, err
	}
	withSeq, err := a.boolAt(1, false)
	if err != nil {
		return nil, err
	}
	if verbose && withSeq {
		return nil, errorf(codeInvalidParameter, "Verbose results cannot contain mempool sequence values.")
	}
	if !verbose {
		ids, seq := s.cfg.Mempool.TxIDsWithSequence()
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = id.String()
		}
		if withSeq {
			return map[string]any{"txids": out, "mempool_sequence": seq}, nil
		}
		return out, nil
	}
	out := map[string]mempoolEntry{}
	for _, d := range s.cfg.Mempool.Descs() {
		out[d.TxID.String()] = entryJSON(d)
	}
	return out, nil
}

func (s *Server) getMempoolEntry(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	txid, err := a.hash(0, "txid")
	if err != nil {
		return nil, err
	}
	d, err := s.cfg.Mempool.Entry(txid)
	if err != nil {
		return nil, errorf(codeInvalidAddress, "Transaction not in mempool")
	}
	return entryJSON(d), nil
}

// mempoolRelatives answers getmempoolancestors/descendants; the caller
// checked that the pool exists.
func (s *Server) mempoolRelatives(a args, walk func(chainhash.Hash) ([]*mempool.TxDesc, error)) (any, error) {
	txid, err := a.hash(0, "txid")
	if err != nil {
		return nil, err
	}
	verbose, err := a.boolAt(1, false)
	if err != nil {
		return nil, err
	}
	rel, err := walk(txid)
	if err != nil {
		return nil, errorf(codeInvalidAddress, "Transaction not in mempool")
	}
	if !verbose {
		out := make([]string, len(rel))
		for i, d := range rel {
			out[i] = d.TxID.String()
		}
		return out, nil
	}
	out := map[string]mempoolEntry{}
	for _, d := range rel {
		out[d.TxID.String()] = entryJSON(d)
	}
	return out, nil
}

func (s *Server) getMempoolAncestors(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	return s.mempoolRelatives(a, s.cfg.Mempool.Ancestors)
}

func (s *Server) getMempoolDescendants(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	return s.mempoolRelatives(a, s.cfg.Mempool.Descendants)
}

// mempoolInfo is getmempoolinfo's answer.
type mempoolInfo struct {
	Loaded              bool    `json:"loaded"`
	Size                int     `json:"size"`
	Bytes               int64   `json:"bytes"`
	Usage               int64   `json:"usage"`
	TotalFee            float64 `json:"total_fee"`
	MaxMempool          int64   `json:"maxmempool"`
	MempoolMinFee       float64 `json:"mempoolminfee"`
	MinRelayTxFee       float64 `json:"minrelaytxfee"`
	IncrementalRelayFee float64 `json:"incrementalrelayfee"`
	UnbroadcastCount    int     `json:"unbroadcastcount"`
	FullRBF             bool    `json:"fullrbf"`
}

func (s *Server) getMempoolInfo(context.Context, args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	in := s.cfg.Mempool.Info()
	return mempoolInfo{
		Loaded: true, Size: in.Size, Bytes: in.Bytes, Usage: in.Usage, TotalFee: coins(in.TotalFee),
		MaxMempool: in.MaxBytes, MempoolMinFee: coins(in.MinFeeRate), MinRelayTxFee: coins(in.MinRelayFeeRate),
		IncrementalRelayFee: coins(1000), FullRBF: true,
	}, nil
}

// estimateResult is estimatesmartfee's answer.
type estimateResult struct {
	FeeRate *float64 `json:"feerate,omitempty"`
	Errors  []string `json:"errors,omitempty"`
	Blocks  int64    `json:"blocks"`
}

func (s *Server) estimateSmartFee(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	target, err := a.int64At(0, 0)
	if err != nil {
		return nil, err
	}
	if target < 1 || target > 1008 {
		return nil, errorf(codeInvalidParameter, "Invalid conf_target, must be between 1 and 1008")
	}
	if a.has(1) {
		mode, err := a.str(1)
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(mode) {
		case "unset", "economical", "conservative":
		default:
			return nil, errorf(codeInvalidParameter, "Invalid estimate_mode parameter, must be one of: \"unset\", \"economical\", \"conservative\"")
		}
	}
	rate, err := s.cfg.Mempool.EstimateFee(int(target))
	if err != nil {
		return estimateResult{Errors: []string{err.Error()}, Blocks: target}, nil
	}
	f := coins(rate)
	return estimateResult{FeeRate: &f, Blocks: target}, nil
}
