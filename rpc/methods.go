package rpc

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// methods returns the method table. Parameter names are Bitcoin Core's, so
// that named arguments work as they do there.
func (s *Server) methods() map[string]*handler {
	return map[string]*handler{
		"getblockchaininfo": {help: "Returns an object with the state of the block chain.", fn: s.getBlockchainInfo},
		"getblockcount":     {help: "Returns the height of the most-work fully-validated chain.", fn: s.getBlockCount},
		"getbestblockhash":  {help: "Returns the hash of the best (tip) block.", fn: s.getBestBlockHash},
		"getblockhash": {params: []string{"height"}, required: 1,
			help: "Returns the hash of the block at height in the best chain.", fn: s.getBlockHash},
		"getblock": {params: []string{"blockhash", "verbosity"}, required: 1,
			help: "Returns a block: hex (verbosity 0), an object (1), or an object with decoded transactions (2).", fn: s.getBlock},
		"getblockheader": {params: []string{"blockhash", "verbose"}, required: 1,
			help: "Returns a block header as an object (verbose true) or hex.", fn: s.getBlockHeader},
		"getblockfilter": {params: []string{"blockhash", "filtertype"}, required: 1,
			help: "Retrieves a BIP157 content filter (filtertype \"basic\", BIP158) and its filter header for a block.", fn: s.getBlockFilter},
		"getchaintips":  {help: "Returns every known tip of the block tree.", fn: s.getChainTips},
		"getdifficulty": {help: "Returns the proof-of-work difficulty as a multiple of the minimum difficulty.", fn: s.getDifficulty},
		"gettxout": {params: []string{"txid", "n", "include_mempool"}, required: 2,
			help: "Returns details about an unspent transaction output, or null.", fn: s.getTxOut},
		"gettxoutsetinfo": {params: []string{"hash_type"},
			help: "Returns statistics about the unspent transaction output set.", fn: s.getTxOutSetInfo},
		"getrawtransaction": {params: []string{"txid", "verbose", "blockhash"}, required: 1,
			help: "Returns a transaction, from the given block or the transaction index.", fn: s.getRawTransaction},
		"decoderawtransaction": {params: []string{"hexstring", "iswitness"}, required: 1,
			help: "Decodes a serialized transaction.", fn: s.decodeRawTransaction},
		"decodescript": {params: []string{"hexstring"}, required: 1,
			help: "Decodes a hex-encoded script.", fn: s.decodeScript},
		"validateaddress": {params: []string{"address"}, required: 1,
			help: "Returns information about an address of this network.", fn: s.validateAddress},
		"submitblock": {params: []string{"hexdata", "dummy"}, required: 1,
			help: "Submits a serialized block; returns null or a BIP22 reason.", fn: s.submitBlock},
		"submitheader": {params: []string{"hexdata"}, required: 1,
			help: "Submits a serialized block header.", fn: s.submitHeader},
		"generatetoaddress": {params: []string{"nblocks", "address", "maxtries"}, required: 2,
			help: "Mines blocks paying to address at once (regtest and custom networks).", fn: s.generateToAddress},
		"generateblock": {params: []string{"output", "transactions", "submit"}, required: 2,
			help: "Mines a block with the given transactions (regtest and custom networks).", fn: s.generateBlock},
		"getmininginfo": {help: "Returns mining state, with the local miner's hashespersec.", fn: s.getMiningInfo},
		"getnetworkhashps": {params: []string{"nblocks", "height"},
			help: "Estimates the network's hashes per second from the last nblocks blocks.", fn: s.getNetworkHashPS},
		"getblocktemplate": {params: []string{"template_request"},
			help: "Returns a block template for external mining (BIP22/BIP23 template mode).", fn: s.getBlockTemplate},
		"sendrawtransaction": {params: []string{"hexstring", "maxfeerate"}, required: 1,
			help: "Submits a raw transaction to the pool (and the network).", fn: s.sendRawTransaction},
		"testmempoolaccept": {params: []string{"rawtxs", "maxfeerate"}, required: 1,
			help: "Reports whether raw transactions would be accepted to the pool.", fn: s.testMempoolAccept},
		"getrawmempool": {params: []string{"verbose", "mempool_sequence"},
			help: "Returns the pool's txids, or its entries (verbose).", fn: s.getRawMempool},
		"getmempoolentry": {params: []string{"txid"}, required: 1,
			help: "Returns a pool transaction's entry.", fn: s.getMempoolEntry},
		"getmempoolinfo": {help: "Returns the pool's state.", fn: s.getMempoolInfo},
		"getmempoolancestors": {params: []string{"txid", "verbose"}, required: 1,
			help: "Returns a pool transaction's in-pool ancestors.", fn: s.getMempoolAncestors},
		"getmempooldescendants": {params: []string{"txid", "verbose"}, required: 1,
			help: "Returns a pool transaction's in-pool descendants.", fn: s.getMempoolDescendants},
		"estimatesmartfee": {params: []string{"conf_target", "estimate_mode"}, required: 1,
			help: "Estimates the fee rate to confirm within conf_target blocks.", fn: s.estimateSmartFee},
		"invalidateblock": {params: []string{"blockhash"}, required: 1,
			help: "Marks a block and its descendants invalid.", fn: s.invalidateBlock},
		"reconsiderblock": {params: []string{"blockhash"}, required: 1,
			help: "Removes invalidity marks from a block, its descendants and ancestors.", fn: s.reconsiderBlock},
		"getindexinfo": {params: []string{"index_name"},
			help: "Returns the state of the optional indexes.", fn: s.getIndexInfo},
		"getnetworkinfo":     {help: "Returns the node's version and network state.", fn: s.getNetworkInfo},
		"getconnectioncount": {help: "Returns the number of connected peers.", fn: s.getConnectionCount},
		"getpeerinfo":        {help: "Returns each connected peer.", fn: s.getPeerInfo},
		"setban": {params: []string{"subnet", "command", "bantime", "absolute"}, required: 2,
			help: "Bans (add) or unbans (remove) a peer by its libp2p peer ID.", fn: s.setBan},
		"listbanned": {help: "Lists banned peers.", fn: s.listBanned},
		"addnode": {params: []string{"node", "command"}, required: 2,
			help: "Keeps (add), stops keeping (remove) or dials once (onetry) a peer multiaddr with /p2p/<peer id>.", fn: s.addNode},
		"getaddednodeinfo": {params: []string{"node"},
			help: "Lists the peers kept by --peer and addnode.", fn: s.getAddedNodeInfo},
		"disconnectnode": {params: []string{"address", "nodeid"}, required: 1,
			help: "Disconnects a peer, by multiaddr or libp2p peer ID.", fn: s.disconnectNode},
		"setnetworkactive": {params: []string{"state"}, required: 1,
			help: "Disables (false) or enables (true) all peer-to-peer activity.", fn: s.setNetworkActive},
		"clearbanned": {help: "Lifts every ban.", fn: s.clearBanned},
		"uptime":      {help: "Returns the seconds since the node started.", fn: s.uptime},
		"stop":        {help: "Shuts the node down cleanly.", fn: s.stop},
		"help": {params: []string{"command"},
			help: "Lists the methods, or explains one.", fn: s.help},
	}
}

func (s *Server) uptime(context.Context, args) (any, error) {
	return int64(time.Since(s.cfg.StartTime).Seconds()), nil
}

func (s *Server) stop(context.Context, args) (any, error) {
	if s.cfg.Stop == nil {
		return nil, errorf(codeMisc, "this server cannot stop its node")
	}
	// Answer first; the node stops after the response is written.
	go func() {
		time.Sleep(100 * time.Millisecond)
		s.cfg.Stop()
	}()
	return "Cairn server stopping", nil
}

func (s *Server) help(_ context.Context, a args) (any, error) {
	if a.has(0) {
		name, err := a.str(0)
		if err != nil {
			return nil, err
		}
		h, ok := s.handlers[name]
		if !ok {
			return fmt.Sprintf("help: unknown command: %s", name), nil
		}
		return h.usage(name) + "\n\n" + h.help, nil
	}
	names := make([]string, 0, len(s.handlers))
	for name := range s.handlers {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString(s.handlers[name].usage(name))
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n"), nil
}
