package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool"
)

// defaultMaxFeeRate is sendrawtransaction's default maxfeerate: 0.10
// coins per 1,000 vbytes, in base units.
const defaultMaxFeeRate = 10_000_000

// maxTestAcceptTxs is how many transactions testmempoolaccept takes (Core's
// MAX_PACKAGE_COUNT); maxConfTarget is estimatesmartfee's longest target.
const (
	maxTestAcceptTxs = 25
	maxConfTarget    = 1008
)

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
// numeric string, as Core's ParseFeeRate) into base units. As Core's
// AmountFromValue, it reads the number's decimal text exactly, never
// through a float: 1e-05 is 1,000 units, and a rate finer than a base
// unit is an invalid amount rather than rounded.
func (a args) feeRateArg(i int, def int64) (int64, error) {
	if !a.has(i) {
		return def, nil
	}
	var text string
	if err := json.Unmarshal(a[i], &text); err != nil {
		var num json.Number
		if json.Unmarshal(a[i], &num) != nil {
			return 0, typeError(a[i], "number")
		}
		text = num.String()
	}
	units, err := consensus.ParseCoinsJSON(text)
	switch {
	case errors.Is(err, consensus.ErrCoinsNegative), errors.Is(err, consensus.ErrCoinsTooLarge):
		return 0, errorf(codeType, "Amount out of range")
	case err != nil:
		return 0, errorf(codeType, "Invalid amount")
	case units >= consensus.CoinValue:
		return 0, errorf(codeInvalidParameter, "Fee rates larger than or equal to 1BTC/kvB are not accepted")
	}
	return units, nil
}

var sendRawTransactionDoc = methodDoc{
	category: catRawTx,
	desc: "Submit a raw transaction (serialized, hex-encoded) to local node and network.\n\n" +
		"The transaction is added to the mempool and relayed to the network. Sending a transaction\n" +
		"that is already in the mempool relays it again (a manual rebroadcast), which may degrade\n" +
		"privacy by leaking the transaction's origin.\n\n" +
		"A specific exception, RPC_TRANSACTION_ALREADY_IN_CHAIN, may throw if the transaction's outputs are already in the UTXO set.\n\n" +
		"Related: cairn wallet psbt (create, sign and finalize transactions)",
	args: []argDoc{
		reqArg("hexstring", argHex, "The hex string of the raw transaction"),
		maxFeeRateArg,
	},
	results:  []resultDoc{rHex("", "The transaction hash in hex")},
	examples: exBoth(`"signedhex"`, `"signedhex"`),
}

// maxFeeRateArg is the maxfeerate argument of sendrawtransaction and
// testmempoolaccept.
var maxFeeRateArg = optArg("maxfeerate", argAmount, `"`+formatMoney(defaultMaxFeeRate)+`"`,
	"Reject transactions whose fee rate is higher than the specified value, expressed in "+coinUnit+"/kvB.\n"+
		"Fee rates larger than or equal to 1"+coinUnit+"/kvB are rejected.\nSet to 0 to accept any fee rate.")

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

var testMempoolAcceptDoc = methodDoc{
	category: catRawTx,
	desc: "Returns result of mempool acceptance tests indicating if raw transaction(s) (serialized, hex-encoded) would be accepted by mempool.\n\n" +
		"Each transaction is tested on its own against the chain and the mempool, not as a package: a transaction\n" +
		"that spends another one of the list is reported with the reject-reason \"missing-inputs\".\n\n" +
		fmt.Sprintf("The maximum number of transactions allowed is %d.\n\n", maxTestAcceptTxs) +
		"This checks if transactions violate the consensus or policy rules.\n\n" +
		"See sendrawtransaction call.",
	args: []argDoc{
		reqArg("rawtxs", argArr, "An array of hex strings of raw transactions.", optArg("rawtx", argHex, "", "")),
		maxFeeRateArg,
	},
	results: []resultDoc{rArr("", "The result of the mempool acceptance test for each raw transaction in the input array.\n"+
		"Returns results for each transaction in the same order they were passed in.",
		rObj("", "",
			rHex("txid", "The transaction hash in hex"),
			rHex("wtxid", "The transaction witness hash in hex"),
			rBool("allowed", "Whether this tx would be accepted to the mempool and pass client-specified maxfeerate."),
			rNum("vsize", "Virtual transaction size as defined in BIP 141 (only present when 'allowed' is true)").opt(),
			rObj("fees", "Transaction fees (only present if 'allowed' is true)",
				rAmount("base", "transaction fee in "+coinUnit),
			).opt(),
			rStr("reject-reason", "Rejection reason (only present when 'allowed' is false)").opt(),
		),
	)},
	examples: exBoth(`'["signedhex"]'`, `["signedhex"]`),
}

func (s *Server) testMempoolAccept(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	var hexes []string
	if err := json.Unmarshal(a[0], &hexes); err != nil {
		return nil, typeError(a[0], "array")
	}
	if len(hexes) == 0 || len(hexes) > maxTestAcceptTxs {
		return nil, errorf(codeInvalidParameter, "Array must contain between 1 and %d transactions.", maxTestAcceptTxs)
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

// mempoolEntryDoc documents entryJSON's answer.
func mempoolEntryDoc() []resultDoc {
	return []resultDoc{
		rNum("vsize", "virtual transaction size as defined in BIP 141. This is different from actual serialized size for witness transactions as witness data is discounted."),
		rNum("weight", "transaction weight as defined in BIP 141."),
		rTime("time", "local time transaction entered pool in seconds since 1 Jan 1970 GMT"),
		rNum("height", "block height when transaction entered pool"),
		rNum("descendantcount", "number of in-mempool descendant transactions (including this one)"),
		rNum("descendantsize", "virtual transaction size of in-mempool descendants (including this one)"),
		rNum("ancestorcount", "number of in-mempool ancestor transactions (including this one)"),
		rNum("ancestorsize", "virtual transaction size of in-mempool ancestors (including this one)"),
		rHex("wtxid", "hash of serialized transaction, including witness data"),
		rObj("fees", "",
			rAmount("base", "transaction fee, denominated in "+coinUnit),
			rAmount("modified", "transaction fee with fee deltas used for mining priority, denominated in "+coinUnit+" (the same as base: Cairn has no fee deltas)"),
			rAmount("ancestor", "transaction fees of in-mempool ancestors (including this one), denominated in "+coinUnit),
			rAmount("descendant", "transaction fees of in-mempool descendants (including this one), denominated in "+coinUnit),
		),
		rArr("depends", "unconfirmed transactions used as inputs for this transaction", rHex("", "parent transaction id")),
		rArr("spentby", "unconfirmed transactions spending outputs from this transaction", rHex("", "child transaction id")),
		rBool("bip125-replaceable", "Whether this transaction could be replaced due to BIP125 (replace-by-fee): always true, the mempool replaces any transaction (full RBF)"),
		rBool("unbroadcast", "Whether this transaction is currently unbroadcast (always false: Cairn does not track initial broadcast)"),
	}
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

var getRawMempoolDoc = methodDoc{
	category: catBlockchain,
	desc: "Returns all transaction ids in memory pool as a json array of string transaction ids.\n\n" +
		"Hint: use getmempoolentry to fetch a specific transaction from the mempool.",
	args: []argDoc{
		optArg("verbose", argBool, "false", "True for a json object, false for array of transaction ids"),
		optArg("mempool_sequence", argBool, "false", "If verbose=false, returns a json object with transaction list and mempool sequence number attached."),
	},
	results: []resultDoc{
		rArr("", "", rHex("", "The transaction id")).when("for verbose = false"),
		rObjDyn("", "", rObj("transactionid", "", mempoolEntryDoc()...)).when("for verbose = true"),
		rObj("", "",
			rArr("txids", "", rHex("", "The transaction id")),
			rNum("mempool_sequence", "The mempool sequence value."),
		).when("for verbose = false and mempool_sequence = true"),
	},
	examples: exBoth("true", "true"),
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

var getMempoolEntryDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns mempool data for given transaction",
	args:     []argDoc{reqArg("txid", argStr, "The transaction id (must be in mempool)")},
	results:  []resultDoc{rObj("", "", mempoolEntryDoc()...)},
	examples: exBoth(`"mytxid"`, `"mytxid"`),
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

var getMempoolAncestorsDoc = methodDoc{
	category: catBlockchain,
	desc:     "If txid is in the mempool, returns all in-mempool ancestors.",
	args: []argDoc{
		reqArg("txid", argStr, "The transaction id (must be in mempool)"),
		optArg("verbose", argBool, "false", "True for a json object, false for array of transaction ids"),
	},
	results: []resultDoc{
		rArr("", "", rHex("", "The transaction id of an in-mempool ancestor transaction")).when("for verbose = false"),
		rObjDyn("", "", rObj("transactionid", "", mempoolEntryDoc()...)).when("for verbose = true"),
	},
	examples: exBoth(`"mytxid"`, `"mytxid"`),
}

func (s *Server) getMempoolAncestors(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	return s.mempoolRelatives(a, s.cfg.Mempool.Ancestors)
}

var getMempoolDescendantsDoc = methodDoc{
	category: catBlockchain,
	desc:     "If txid is in the mempool, returns all in-mempool descendants.",
	args: []argDoc{
		reqArg("txid", argStr, "The transaction id (must be in mempool)"),
		optArg("verbose", argBool, "false", "True for a json object, false for array of transaction ids"),
	},
	results: []resultDoc{
		rArr("", "", rHex("", "The transaction id of an in-mempool descendant transaction")).when("for verbose = false"),
		rObjDyn("", "", rObj("transactionid", "", mempoolEntryDoc()...)).when("for verbose = true"),
	},
	examples: exBoth(`"mytxid"`, `"mytxid"`),
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

var getMempoolInfoDoc = methodDoc{
	category: catBlockchain,
	desc:     "Returns details on the active state of the TX memory pool.",
	results: []resultDoc{rObj("", "",
		rBool("loaded", "True if the initial load attempt of the persisted mempool finished"),
		rNum("size", "Current tx count"),
		rNum("bytes", "Sum of all virtual transaction sizes as defined in BIP 141. Differs from actual serialized size because witness data is discounted"),
		rNum("usage", "Total memory usage for the mempool"),
		rAmount("total_fee", "Total fees for the mempool in "+coinUnit),
		rNum("maxmempool", "Maximum memory usage for the mempool"),
		rAmount("mempoolminfee", "Minimum fee rate in "+coinUnit+"/kvB for tx to be accepted. Is the maximum of minrelaytxfee and minimum mempool fee"),
		rAmount("minrelaytxfee", "Current minimum relay fee for transactions"),
		rAmount("incrementalrelayfee", "minimum fee rate increment for mempool limiting or replacement in "+coinUnit+"/kvB"),
		rNum("unbroadcastcount", "Current number of transactions that haven't passed initial broadcast yet (always 0: Cairn does not track initial broadcast)"),
		rBool("fullrbf", "True if the mempool accepts RBF without replaceability signaling inspection (always true)"),
	)},
	examples: exBoth("", ""),
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

var estimateSmartFeeDoc = methodDoc{
	category: catUtil,
	desc: "Estimates the approximate fee per kilobyte needed for a transaction to begin\n" +
		"confirmation within conf_target blocks if possible and return the number of blocks\n" +
		"for which the estimate is valid. Uses virtual transaction size as defined\n" +
		"in BIP 141 (witness data is discounted). The estimate comes from the fee rates\n" +
		"of the transactions confirmed in recent blocks.",
	args: []argDoc{
		reqArg("conf_target", argNum, fmt.Sprintf("Confirmation target in blocks (1 - %d)", maxConfTarget)),
		optArg("estimate_mode", argStr, `"unset"`, "The fee estimate mode. Must be one of (case insensitive):\n"+
			"\"unset\"\n\"economical\"\n\"conservative\"\n"+
			"Cairn checks it and gives the same estimate for all three."),
	},
	results: []resultDoc{rObj("", "",
		rAmount("feerate", "estimate fee rate in "+coinUnit+"/kvB (only present if no errors were encountered)").opt(),
		rArr("errors", "Errors encountered during processing (if there are any)", rStr("", "error")).opt(),
		rNum("blocks", "block number where estimate was found: conf_target as given"),
	)},
	examples: exBoth("6", "6"),
}

func (s *Server) estimateSmartFee(_ context.Context, a args) (any, error) {
	if err := s.requireMempool(); err != nil {
		return nil, err
	}
	target, err := a.int64At(0, 0)
	if err != nil {
		return nil, err
	}
	if target < 1 || target > maxConfTarget {
		return nil, errorf(codeInvalidParameter, "Invalid conf_target, must be between 1 and %d", maxConfTarget)
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
