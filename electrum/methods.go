package electrum

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/internal/coreshape"
	"github.com/cairnchain/cairn/mempool"
	"github.com/cairnchain/cairn/mempool/policy"
)

// method is one protocol method: its parameter names (for calls with named
// parameters), how many are required, its base cost (ElectrumX's) and its
// handler.
type method struct {
	params   []string
	required int
	cost     float64
	fn       func(ss *session, args []json.RawMessage) (any, *rpcError)
}

// maxHeaders is the most headers blockchain.block.headers returns.
const maxHeaders = 2016

var methods map[string]method

func init() {
	methods = map[string]method{
		"server.version":                     {[]string{"client_name", "protocol_version"}, 0, 0.5, serverVersion},
		"server.features":                    {nil, 0, 0.2, serverFeatures},
		"server.ping":                        {nil, 0, 0.1, func(*session, []json.RawMessage) (any, *rpcError) { return nil, nil }},
		"server.banner":                      {nil, 0, 0.5, func(ss *session, _ []json.RawMessage) (any, *rpcError) { return ss.srv.cfg.Banner, nil }},
		"server.donation_address":            {nil, 0, 0.1, func(ss *session, _ []json.RawMessage) (any, *rpcError) { return ss.srv.cfg.DonationAddress, nil }},
		"server.peers.subscribe":             {nil, 0, 1, func(*session, []json.RawMessage) (any, *rpcError) { return []any{}, nil }},
		"blockchain.headers.subscribe":       {nil, 0, 0.25, headersSubscribe},
		"blockchain.block.header":            {[]string{"height", "cp_height"}, 1, 0.25, blockHeader},
		"blockchain.block.headers":           {[]string{"start_height", "count", "cp_height"}, 2, 0.25, blockHeaders},
		"blockchain.estimatefee":             {[]string{"number", "mode"}, 1, 0.1, estimateFee},
		"blockchain.relayfee":                {nil, 0, 1, relayFee},
		"blockchain.scripthash.get_balance":  {[]string{"scripthash"}, 1, 1, getBalance},
		"blockchain.scripthash.get_history":  {[]string{"scripthash"}, 1, 0.5, getHistory},
		"blockchain.scripthash.get_mempool":  {[]string{"scripthash"}, 1, 0.25, getMempool},
		"blockchain.scripthash.listunspent":  {[]string{"scripthash"}, 1, 1, listUnspent},
		"blockchain.scripthash.subscribe":    {[]string{"scripthash"}, 1, 0.5, scriptSubscribe},
		"blockchain.scripthash.unsubscribe":  {[]string{"scripthash"}, 1, 0.1, scriptUnsubscribe},
		"blockchain.transaction.get":         {[]string{"tx_hash", "verbose"}, 1, 1, txGet},
		"blockchain.transaction.get_merkle":  {[]string{"tx_hash", "height"}, 2, 0.5, txGetMerkle},
		"blockchain.transaction.id_from_pos": {[]string{"height", "tx_pos", "merkle"}, 2, 0.5, txIDFromPos},
		"blockchain.transaction.broadcast":   {[]string{"raw_tx"}, 1, 0.25, txBroadcast},
		"mempool.get_fee_histogram":          {nil, 0, 1, feeHistogram},
	}
}

// parseParams turns positional or named parameters into one slot per
// parameter name (nil where absent), checking the count as aiorpcX does.
func parseParams(raw json.RawMessage, names []string, required int) ([]json.RawMessage, *rpcError) {
	raw = bytes.TrimSpace(raw)
	args := make([]json.RawMessage, len(names))
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, &rpcError{Code: codeInvalidParams, Message: "invalid params"}
		}
		if len(list) > len(names) {
			return nil, &rpcError{Code: codeInvalidParams,
				Message: fmt.Sprintf("%d arguments passed to method taking at most %d", len(list), len(names))}
		}
		copy(args, list)
		if len(list) < required {
			return nil, &rpcError{Code: codeInvalidParams,
				Message: fmt.Sprintf("%d arguments passed to method but it requires %d", len(list), required)}
		}
	case raw[0] == '{':
		var named map[string]json.RawMessage
		if err := json.Unmarshal(raw, &named); err != nil {
			return nil, &rpcError{Code: codeInvalidParams, Message: "invalid params"}
		}
		for k, v := range named {
			i := indexOf(names, k)
			if i < 0 {
				return nil, &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("unknown parameter %q", k)}
			}
			args[i] = v
		}
		for i := 0; i < required; i++ {
			if args[i] == nil {
				return nil, &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("missing parameter %q", names[i])}
			}
		}
	default:
		return nil, &rpcError{Code: codeInvalidParams, Message: "params must be a list or an object"}
	}
	return args, nil
}

func indexOf(names []string, k string) int {
	for i, n := range names {
		if n == k {
			return i
		}
	}
	return -1
}

// argInt reads a non-negative integer, given as a number or a string of
// digits (ElectrumX applies int() to it); def when absent.
func argInt(raw json.RawMessage, def int64) (int64, *rpcError) {
	if raw == nil || string(raw) == "null" {
		return def, nil
	}
	s := string(raw)
	if len(s) > 1 && s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, badRequest("%s should be a non-negative integer", raw)
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("%s should be a non-negative integer", raw)
	}
	return n, nil
}

func argBool(raw json.RawMessage, name string) (bool, *rpcError) {
	if raw == nil || string(raw) == "null" {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, badRequest("%q must be a boolean", name)
	}
	return b, nil
}

func argString(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// argScriptHash reads a script hash: 64 hex digits of the SHA-256 of the
// script, reversed.
func argScriptHash(raw json.RawMessage) (chain.ScriptHash, string, *rpcError) {
	var sh chain.ScriptHash
	s, ok := argString(raw)
	b, err := hex.DecodeString(s)
	if !ok || err != nil || len(b) != len(sh) {
		return sh, "", badRequest("%s is not a valid script hash", raw)
	}
	for i := range b {
		sh[i] = b[len(b)-1-i]
	}
	return sh, s, nil
}

func argTxHash(raw json.RawMessage) (chainhash.Hash, *rpcError) {
	s, ok := argString(raw)
	h, err := chainhash.NewHashFromStr(s)
	if !ok || err != nil || len(s) != 64 {
		return chainhash.Hash{}, badRequest("%s should be a transaction hash", raw)
	}
	return *h, nil
}

// parseVersion reads "1.4" or "1.4.2" into three numbers; ok is false for
// anything else.
func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	parts := strings.Split(s, ".")
	if len(parts) < 1 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func versionLess(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// versionString shows a version as the protocol does: "1.4", "1.4.2".
func versionString(v [3]int) string {
	if v[2] == 0 {
		return fmt.Sprintf("%d.%d", v[0], v[1])
	}
	return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
}

func serverVersion(ss *session, args []json.RawMessage) (any, *rpcError) {
	ss.mu.Lock()
	done := ss.negotiated
	ss.negotiated = true
	ss.mu.Unlock()
	if done {
		return nil, badRequest("server.version already sent")
	}
	cmin, cmax := protocolMin, protocolMin
	if raw := args[1]; raw != nil && string(raw) != "null" {
		var one string
		var pair []string
		ok := false
		if json.Unmarshal(raw, &one) == nil {
			cmin, ok = parseVersion(one)
			cmax = cmin
		} else if json.Unmarshal(raw, &pair) == nil && len(pair) == 2 {
			var ok2 bool
			cmin, ok = parseVersion(pair[0])
			cmax, ok2 = parseVersion(pair[1])
			ok = ok && ok2
		}
		if !ok {
			ss.endAfterReply = true
			return nil, badRequest("unsupported protocol version: %s", raw)
		}
	}
	v := cmax
	if versionLess(protocolMax, v) {
		v = protocolMax
	}
	floor := cmin
	if versionLess(floor, protocolMin) {
		floor = protocolMin
	}
	if versionLess(v, floor) {
		ss.endAfterReply = true
		return nil, badRequest("unsupported protocol version: %s", args[1])
	}
	return []string{ss.srv.cfg.Version, versionString(v)}, nil
}

func serverFeatures(ss *session, _ []json.RawMessage) (any, *rpcError) {
	genesis := ss.srv.cfg.Chain.Network().GenesisHash()
	return map[string]any{
		"hosts":          map[string]any{},
		"pruning":        nil,
		"server_version": ss.srv.cfg.Version,
		"protocol_min":   versionString(protocolMin),
		"protocol_max":   versionString(protocolMax),
		"genesis_hash":   genesis.String(),
		"hash_function":  "sha256",
		"services":       []string{},
	}, nil
}

func headersSubscribe(ss *session, _ []json.RawMessage) (any, *rpcError) {
	tip, err := ss.srv.tipHeader()
	if err != nil {
		return nil, daemonError(err)
	}
	ss.mu.Lock()
	ss.headers = true
	ss.lastTip, ss.lastTipSeq = tip.Hex, tip.seq
	ss.mu.Unlock()
	return tip, nil
}

func daemonError(err error) *rpcError {
	return &rpcError{Code: codeDaemonError, Message: "daemon error: " + err.Error()}
}

// headerProof returns the branch and root proving the header at height
// under the checkpoint cp: the merkle tree of the block hashes from genesis
// to cp.
func (ss *session) headerProof(height, cp int32) (map[string]any, *rpcError) {
	// (cp+1) hashes read and hashed: about 180 for a proof at height
	// 900,000, so that a client cannot ask for many cheaply.
	ss.charge(float64(cp) / 5000)
	leaves := make([]chainhash.Hash, cp+1)
	for h := int32(0); h <= cp; h++ {
		hash, err := ss.srv.cfg.Chain.BlockHashByHeight(h)
		if err != nil {
			return nil, daemonError(err)
		}
		leaves[h] = hash
	}
	branch, root := consensus.MerkleProof(leaves, int(height))
	return map[string]any{"branch": hashStrings(branch), "root": root.String()}, nil
}

func hashStrings(hs []chainhash.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

// checkCheckpoint enforces height <= cp <= tip.
func checkCheckpoint(height, cp, tip int64) *rpcError {
	if height > cp || cp > tip {
		return badRequest("require header height %s <= cp_height %s <= chain height %s",
			commas(height), commas(cp), commas(tip))
	}
	return nil
}

// commas formats n with thousands separators, as ElectrumX's messages do.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func blockHeader(ss *session, args []json.RawMessage) (any, *rpcError) {
	height, rerr := argInt(args[0], 0)
	if rerr != nil {
		return nil, rerr
	}
	cp, rerr := argInt(args[1], 0)
	if rerr != nil {
		return nil, rerr
	}
	tip := int64(ss.srv.cfg.Chain.BestSnapshot().Height)
	if height > tip {
		return nil, badRequest("height %s out of range", commas(height))
	}
	h, err := ss.srv.cfg.Chain.HeaderByHeight(int32(height))
	if err != nil {
		return nil, daemonError(err)
	}
	if cp == 0 {
		return headerHex(&h), nil
	}
	if rerr := checkCheckpoint(height, cp, tip); rerr != nil {
		return nil, rerr
	}
	proof, rerr := ss.headerProof(int32(height), int32(cp))
	if rerr != nil {
		return nil, rerr
	}
	proof["header"] = headerHex(&h)
	return proof, nil
}

func blockHeaders(ss *session, args []json.RawMessage) (any, *rpcError) {
	start, rerr := argInt(args[0], 0)
	if rerr != nil {
		return nil, rerr
	}
	count, rerr := argInt(args[1], 0)
	if rerr != nil {
		return nil, rerr
	}
	cp, rerr := argInt(args[2], 0)
	if rerr != nil {
		return nil, rerr
	}
	count = min(count, maxHeaders)
	tip := int64(ss.srv.cfg.Chain.BestSnapshot().Height)
	if start > tip {
		count = 0
	} else {
		count = min(count, tip-start+1)
	}
	ss.charge(float64(count) / 50)
	var hexs strings.Builder
	for h := start; h < start+count; h++ {
		hdr, err := ss.srv.cfg.Chain.HeaderByHeight(int32(h))
		if err != nil {
			return nil, daemonError(err)
		}
		hexs.WriteString(headerHex(&hdr))
	}
	out := map[string]any{"hex": hexs.String(), "count": count, "max": maxHeaders}
	if count > 0 && cp > 0 {
		last := start + count - 1
		if rerr := checkCheckpoint(last, cp, tip); rerr != nil {
			return nil, rerr
		}
		proof, rerr := ss.headerProof(int32(last), int32(cp))
		if rerr != nil {
			return nil, rerr
		}
		out["branch"], out["root"] = proof["branch"], proof["root"]
	}
	return out, nil
}

// coins converts base units to coins, as the protocol's fee rates are given.
func coins(units int64) float64 { return coreshape.Coins(units) }

func estimateFee(ss *session, args []json.RawMessage) (any, *rpcError) {
	target, rerr := argInt(args[0], 0)
	if rerr != nil {
		return nil, rerr
	}
	if mode, ok := argString(args[1]); args[1] != nil && string(args[1]) != "null" &&
		(!ok || (mode != "CONSERVATIVE" && mode != "ECONOMICAL")) {
		return nil, badRequest("unknown estimatefee mode: %s", args[1])
	}
	if ss.srv.cfg.Mempool == nil {
		return -1, nil
	}
	rate, err := ss.srv.cfg.Mempool.EstimateFee(int(max(1, min(target, 1008))))
	if err != nil || rate <= 0 {
		return -1, nil
	}
	return coins(rate), nil
}

func relayFee(ss *session, _ []json.RawMessage) (any, *rpcError) {
	if ss.srv.cfg.Mempool == nil {
		return coins(policy.DefaultMinRelayFeeRate), nil
	}
	return coins(ss.srv.cfg.Mempool.Info().MinRelayFeeRate), nil
}

// view takes an address index view, or answers the daemon error.
func (ss *session) view() (*chain.AddrView, *rpcError) {
	v, err := ss.srv.cfg.Chain.AddrIndexView()
	if err != nil {
		return nil, daemonError(err)
	}
	return v, nil
}

// historyError maps a history failure to what the client hears.
func historyError(err error) *rpcError {
	if errors.Is(err, errHistoryTooLarge) {
		return badRequest("history too large")
	}
	return daemonError(err)
}

func getBalance(ss *session, args []json.RawMessage) (any, *rpcError) {
	sh, _, rerr := argScriptHash(args[0])
	if rerr != nil {
		return nil, rerr
	}
	v, rerr := ss.view()
	if rerr != nil {
		return nil, rerr
	}
	defer v.Release()
	utxos, err := v.AppendUnspent(ss.sc.unspent[:0], sh, ss.srv.historyLimit())
	ss.sc.unspent = utxos
	if err != nil {
		return nil, historyError(mapTooLarge(err))
	}
	ss.charge(float64(len(utxos)) / 50)
	var confirmed, delta int64
	for _, u := range utxos {
		confirmed += u.Amount
	}
	if ss.srv.mem.Touches(sh) {
		_, _, delta = poolPart(ss.srv.mem, sh, unspentSet(utxos))
	}
	return map[string]int64{"confirmed": confirmed, "unconfirmed": delta}, nil
}

// unspentSet indexes confirmed unspent outputs by outpoint.
func unspentSet(utxos []chain.AddrUnspent) map[wire.OutPoint]int64 {
	set := make(map[wire.OutPoint]int64, len(utxos))
	for _, u := range utxos {
		set[u.OutPoint] = u.Amount
	}
	return set
}

func mapTooLarge(err error) error {
	if errors.Is(err, chain.ErrAddrHistoryTooLarge) {
		return errHistoryTooLarge
	}
	return err
}

// appendHistory encodes a history as get_history answers it: tx_hash and
// height, and fee for pool entries. Written by hand: a long history is the
// server's largest answer, and reflection would take most of its time.
func appendHistory(b []byte, hist []historyEntry) []byte {
	b = append(b, '[')
	for i, e := range hist {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"tx_hash":"`...)
		b = appendHash(b, &e.TxHash)
		b = append(b, `","height":`...)
		b = strconv.AppendInt(b, int64(e.Height), 10)
		if e.Height <= 0 {
			b = append(b, `,"fee":`...)
			b = strconv.AppendInt(b, e.Fee, 10)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendHash appends a hash as hashes are shown: hex of the reversed bytes.
func appendHash(b []byte, h *chainhash.Hash) []byte {
	const digits = "0123456789abcdef"
	for i := len(h) - 1; i >= 0; i-- {
		b = append(b, digits[h[i]>>4], digits[h[i]&0x0f])
	}
	return b
}

func getHistory(ss *session, args []json.RawMessage) (any, *rpcError) {
	sh, _, rerr := argScriptHash(args[0])
	if rerr != nil {
		return nil, rerr
	}
	v, rerr := ss.view()
	if rerr != nil {
		return nil, rerr
	}
	defer v.Release()
	hist, err := ss.srv.history(v, sh, &ss.sc)
	if err != nil {
		return nil, historyError(err)
	}
	ss.charge(float64(len(hist)) / 1000)
	ss.remember(hist)
	return rawJSON(appendHistory(getBuf(), hist)), nil
}

func getMempool(ss *session, args []json.RawMessage) (any, *rpcError) {
	sh, _, rerr := argScriptHash(args[0])
	if rerr != nil {
		return nil, rerr
	}
	hist := poolHistory(ss.srv.mem, sh)
	ss.charge(float64(len(hist)) / 50)
	return rawJSON(appendHistory(nil, hist)), nil
}

// unspentOut is one listunspent entry.
type unspentOut struct {
	hash   chainhash.Hash
	pos    uint32
	height int32
	value  int64
}

// appendUnspent encodes listunspent's answer: tx_hash, tx_pos, height
// (0 in the pool) and value.
func appendUnspent(b []byte, outs []unspentOut) []byte {
	b = append(b, '[')
	for i, o := range outs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"tx_hash":"`...)
		b = appendHash(b, &o.hash)
		b = append(b, `","tx_pos":`...)
		b = strconv.AppendUint(b, uint64(o.pos), 10)
		b = append(b, `,"height":`...)
		b = strconv.AppendInt(b, int64(o.height), 10)
		b = append(b, `,"value":`...)
		b = strconv.AppendInt(b, o.value, 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

func listUnspent(ss *session, args []json.RawMessage) (any, *rpcError) {
	sh, _, rerr := argScriptHash(args[0])
	if rerr != nil {
		return nil, rerr
	}
	v, rerr := ss.view()
	if rerr != nil {
		return nil, rerr
	}
	defer v.Release()
	utxos, err := v.AppendUnspent(ss.sc.unspent[:0], sh, ss.srv.historyLimit())
	ss.sc.unspent = utxos
	if err != nil {
		return nil, historyError(mapTooLarge(err))
	}
	var pooled []unspentOut
	var spent map[wire.OutPoint]struct{}
	if ss.srv.mem.Touches(sh) {
		pooled, spent, _ = poolPart(ss.srv.mem, sh, unspentSet(utxos))
	}
	ss.charge(float64(len(utxos)+len(pooled)) / 50)
	out := ss.sc.outs[:0]
	defer func() { ss.sc.outs = out }()
	for _, u := range utxos {
		if _, ok := spent[u.OutPoint]; ok {
			continue
		}
		out = append(out, unspentOut{hash: u.OutPoint.Hash, pos: u.OutPoint.Index, height: u.Height, value: u.Amount})
	}
	out = append(out, pooled...)
	return rawJSON(appendUnspent(getBuf(), out)), nil
}

func scriptSubscribe(ss *session, args []json.RawMessage) (any, *rpcError) {
	sh, key, rerr := argScriptHash(args[0])
	if rerr != nil {
		return nil, rerr
	}
	ss.mu.Lock()
	s, have := ss.subs[sh]
	full := !have && len(ss.subs) >= ss.srv.cfg.MaxSubs
	ss.mu.Unlock()
	if full {
		return nil, badRequest("your address subscription limit %s reached", commas(int64(ss.srv.cfg.MaxSubs)))
	}
	// Registered first, then computed: a change between the view and the
	// registration would otherwise be neither in the answer nor notified.
	if !have {
		if !ss.srv.subscribe(ss, sh) {
			return nil, badRequest("server subscription limit %s reached", commas(int64(ss.srv.cfg.MaxTotalSubs)))
		}
		s = &sub{key: key}
		ss.mu.Lock()
		ss.subs[sh] = s
		ss.mu.Unlock()
	}
	ss.mu.Lock()
	s.pending, s.dirty = true, false
	ss.mu.Unlock()
	for try := 0; ; try++ {
		status, rerr := ss.status(sh)
		if rerr != nil {
			if !have {
				ss.dropSub(sh)
			}
			return nil, rerr
		}
		ss.mu.Lock()
		if s.dirty && try < 3 {
			// It changed while computed: again, with a newer view.
			s.dirty = false
			ss.mu.Unlock()
			continue
		}
		s.status, s.pending, s.dirty = status, false, false
		ss.mu.Unlock()
		if status == nil {
			return nil, nil
		}
		return *status, nil
	}
}

// status computes a script's status from a fresh view.
func (ss *session) status(sh chain.ScriptHash) (*string, *rpcError) {
	v, rerr := ss.view()
	if rerr != nil {
		return nil, rerr
	}
	defer v.Release()
	hist, err := ss.srv.history(v, sh, &ss.sc)
	if err != nil {
		return nil, historyError(err)
	}
	ss.charge(float64(len(hist)) / 1000)
	return statusOf(hist), nil
}

func scriptUnsubscribe(ss *session, args []json.RawMessage) (any, *rpcError) {
	sh, _, rerr := argScriptHash(args[0])
	if rerr != nil {
		return nil, rerr
	}
	return ss.dropSub(sh), nil
}

// findTx looks for a transaction in the pool, then in the chain (the
// transaction index).
func (ss *session) findTx(txid chainhash.Hash) (*wire.MsgTx, *chain.TxLocation, *rpcError) {
	if tx, err := ss.srv.mem.FetchTx(txid); err == nil {
		return tx, nil, nil
	}
	tx, loc, err := ss.srv.cfg.Chain.FetchTransaction(txid)
	if err == nil {
		return tx, &loc, nil
	}
	if place, ok := ss.place(txid); ok {
		if b, berr := ss.srv.cfg.Chain.BlockByHeight(place.height); berr == nil && int(place.pos) < len(b.Transactions) &&
			b.Transactions[place.pos].TxHash() == txid {
			return b.Transactions[place.pos], &chain.TxLocation{BlockHash: b.BlockHash(), Index: place.pos}, nil
		}
	}
	return nil, nil, &rpcError{Code: codeDaemonError,
		Message: fmt.Sprintf("daemon error: No such mempool or blockchain transaction %v", txid)}
}

func txGet(ss *session, args []json.RawMessage) (any, *rpcError) {
	txid, rerr := argTxHash(args[0])
	if rerr != nil {
		return nil, rerr
	}
	verbose, rerr := argBool(args[1], "verbose")
	if rerr != nil {
		return nil, rerr
	}
	tx, loc, rerr := ss.findTx(txid)
	if rerr != nil {
		return nil, rerr
	}
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	raw := hex.EncodeToString(buf.Bytes())
	if !verbose {
		return raw, nil
	}
	return ss.srv.verboseTx(tx, raw, loc), nil
}

// blockTxIDs returns the txids of the main-chain block at height.
func (ss *session) blockTxIDs(height int64) ([]chainhash.Hash, *rpcError) {
	tip := int64(ss.srv.cfg.Chain.BestSnapshot().Height)
	if height > tip {
		return nil, badRequest("db error: block %d not on disk (>%d)", height, tip)
	}
	b, err := ss.srv.cfg.Chain.BlockByHeight(int32(height))
	if err != nil {
		return nil, daemonError(err)
	}
	ss.charge(float64(len(b.Transactions)) / 2500)
	return consensus.TxHashes(b), nil
}

func txGetMerkle(ss *session, args []json.RawMessage) (any, *rpcError) {
	txid, rerr := argTxHash(args[0])
	if rerr != nil {
		return nil, rerr
	}
	height, rerr := argInt(args[1], 0)
	if rerr != nil {
		return nil, rerr
	}
	ids, rerr := ss.blockTxIDs(height)
	if rerr != nil {
		return nil, rerr
	}
	pos := -1
	for i, id := range ids {
		if id == txid {
			pos = i
			break
		}
	}
	if pos < 0 {
		return nil, badRequest("tx %v not in block at height %s", txid, commas(height))
	}
	branch, _ := consensus.MerkleProof(ids, pos)
	return map[string]any{"block_height": height, "merkle": hashStrings(branch), "pos": pos}, nil
}

func txIDFromPos(ss *session, args []json.RawMessage) (any, *rpcError) {
	height, rerr := argInt(args[0], 0)
	if rerr != nil {
		return nil, rerr
	}
	pos, rerr := argInt(args[1], 0)
	if rerr != nil {
		return nil, rerr
	}
	withMerkle, rerr := argBool(args[2], "merkle")
	if rerr != nil {
		return nil, rerr
	}
	ids, rerr := ss.blockTxIDs(height)
	if rerr != nil {
		return nil, rerr
	}
	if pos >= int64(len(ids)) {
		return nil, badRequest("no tx at position %s in block at height %s", commas(pos), commas(height))
	}
	if !withMerkle {
		return ids[pos].String(), nil
	}
	branch, _ := consensus.MerkleProof(ids, int(pos))
	return map[string]any{"tx_hash": ids[pos].String(), "merkle": hashStrings(branch)}, nil
}

func txBroadcast(ss *session, args []json.RawMessage) (any, *rpcError) {
	s, ok := argString(args[0])
	raw, err := hex.DecodeString(s)
	if !ok || err != nil {
		return nil, badRequest("the transaction was rejected by network rules.\n\nTX decode failed\n[%s]", truncate(s))
	}
	ss.charge(float64(len(s)) / 5000)
	tx, err := consensus.DecodeTx(raw)
	if err != nil {
		return nil, badRequest("the transaction was rejected by network rules.\n\nTX decode failed: %v\n[%s]", err, truncate(s))
	}
	if ss.srv.cfg.Mempool == nil {
		return nil, daemonError(errors.New("no transaction pool"))
	}
	if _, err := ss.srv.cfg.Mempool.ProcessTransaction(tx, false); err != nil {
		reason := err.Error()
		var rej *mempool.RejectError
		if errors.As(err, &rej) {
			reason = rej.Reason
			if rej.Detail != "" {
				reason += " (" + rej.Detail + ")"
			}
		}
		return nil, badRequest("the transaction was rejected by network rules.\n\n%s\n[%s]", reason, truncate(s))
	}
	if ss.srv.cfg.OnTransaction != nil {
		ss.srv.cfg.OnTransaction(tx)
	}
	// The pool index hears of it now rather than at the next poll, so
	// that subscribers hear of it at once.
	select {
	case ss.srv.poke <- struct{}{}:
	default:
	}
	return tx.TxHash().String(), nil
}

// truncate shortens a raw transaction echoed in an error.
func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

func feeHistogram(ss *session, _ []json.RawMessage) (any, *rpcError) {
	return poolFeeHistogram(ss.srv.mem), nil
}

// verboseTx is blockchain.transaction.get's verbose answer: what Bitcoin
// Core's getrawtransaction shows (ElectrumX passes bitcoind's answer on).
type verboseTx struct {
	coreshape.TxResult
	Hex           string `json:"hex"`
	BlockHash     string `json:"blockhash,omitempty"`
	Confirmations *int32 `json:"confirmations,omitempty"`
	Time          int64  `json:"time,omitempty"`
	Blocktime     int64  `json:"blocktime,omitempty"`
}

func (s *Server) verboseTx(tx *wire.MsgTx, raw string, loc *chain.TxLocation) verboseTx {
	out := verboseTx{TxResult: coreshape.TxJSON(tx, s.cfg.Chain.Network().AddressParams()), Hex: raw}
	if loc == nil {
		return out
	}
	if info, err := s.cfg.Chain.BlockInfo(loc.BlockHash); err == nil && info.MainChain {
		out.BlockHash = loc.BlockHash.String()
		c := info.Confirmations
		out.Confirmations = &c
		out.Time = info.Header.Timestamp.Unix()
		out.Blocktime = out.Time
	}
	return out
}
