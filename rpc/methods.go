package rpc

// methods returns the method table. Each method's doc, next to its
// handler, is its help and gives its parameters, whose names are Bitcoin
// Core's, so that named arguments work as they do there.
func (s *Server) methods() map[string]*handler {
	table := map[string]*handler{
		"getblockchaininfo":     {doc: &getBlockchainInfoDoc, fn: s.getBlockchainInfo},
		"getblockcount":         {doc: &getBlockCountDoc, fn: s.getBlockCount},
		"getbestblockhash":      {doc: &getBestBlockHashDoc, fn: s.getBestBlockHash},
		"getblockhash":          {doc: &getBlockHashDoc, fn: s.getBlockHash},
		"getblock":              {doc: &getBlockDoc, fn: s.getBlock},
		"getblockheader":        {doc: &getBlockHeaderDoc, fn: s.getBlockHeader},
		"getblockstats":         {doc: &getBlockStatsDoc, fn: s.getBlockStats},
		"getblockfilter":        {doc: &getBlockFilterDoc, fn: s.getBlockFilter},
		"getchaintips":          {doc: &getChainTipsDoc, fn: s.getChainTips},
		"getdifficulty":         {doc: &getDifficultyDoc, fn: s.getDifficulty},
		"gettxout":              {doc: &getTxOutDoc, fn: s.getTxOut},
		"gettxoutsetinfo":       {doc: &getTxOutSetInfoDoc, fn: s.getTxOutSetInfo},
		"gettxoutproof":         {doc: &getTxOutProofDoc, fn: s.getTxOutProof},
		"verifytxoutproof":      {doc: &verifyTxOutProofDoc, fn: s.verifyTxOutProof},
		"getrawtransaction":     {doc: &getRawTransactionDoc, fn: s.getRawTransaction},
		"decoderawtransaction":  {doc: &decodeRawTransactionDoc, fn: s.decodeRawTransaction},
		"decodescript":          {doc: &decodeScriptDoc, fn: s.decodeScript},
		"validateaddress":       {doc: &validateAddressDoc, fn: s.validateAddress},
		"submitblock":           {doc: &submitBlockDoc, fn: s.submitBlock},
		"submitheader":          {doc: &submitHeaderDoc, fn: s.submitHeader},
		"generatetoaddress":     {doc: &generateToAddressDoc, fn: s.generateToAddress},
		"generateblock":         {doc: &generateBlockDoc, fn: s.generateBlock},
		"getmininginfo":         {doc: &getMiningInfoDoc, fn: s.getMiningInfo},
		"getnetworkhashps":      {doc: &getNetworkHashPSDoc, fn: s.getNetworkHashPS},
		"getblocktemplate":      {doc: &getBlockTemplateDoc, fn: s.getBlockTemplate},
		"sendrawtransaction":    {doc: &sendRawTransactionDoc, fn: s.sendRawTransaction},
		"testmempoolaccept":     {doc: &testMempoolAcceptDoc, fn: s.testMempoolAccept},
		"getrawmempool":         {doc: &getRawMempoolDoc, fn: s.getRawMempool},
		"getmempoolentry":       {doc: &getMempoolEntryDoc, fn: s.getMempoolEntry},
		"getmempoolinfo":        {doc: &getMempoolInfoDoc, fn: s.getMempoolInfo},
		"getmempoolancestors":   {doc: &getMempoolAncestorsDoc, fn: s.getMempoolAncestors},
		"getmempooldescendants": {doc: &getMempoolDescendantsDoc, fn: s.getMempoolDescendants},
		"estimatesmartfee":      {doc: &estimateSmartFeeDoc, fn: s.estimateSmartFee},
		"invalidateblock":       {doc: &invalidateBlockDoc, fn: s.invalidateBlock},
		"pruneblockchain":       {doc: &pruneBlockchainDoc, fn: s.pruneBlockchain},
		"reconsiderblock":       {doc: &reconsiderBlockDoc, fn: s.reconsiderBlock},
		"getindexinfo":          {doc: &getIndexInfoDoc, fn: s.getIndexInfo},
		"getnetworkinfo":        {doc: &getNetworkInfoDoc, fn: s.getNetworkInfo},
		"getconnectioncount":    {doc: &getConnectionCountDoc, fn: s.getConnectionCount},
		"getpeerinfo":           {doc: &getPeerInfoDoc, fn: s.getPeerInfo},
		"setban":                {doc: &setBanDoc, fn: s.setBan},
		"listbanned":            {doc: &listBannedDoc, fn: s.listBanned},
		"addnode":               {doc: &addNodeDoc, fn: s.addNode},
		"getaddednodeinfo":      {doc: &getAddedNodeInfoDoc, fn: s.getAddedNodeInfo},
		"disconnectnode":        {doc: &disconnectNodeDoc, fn: s.disconnectNode},
		"setnetworkactive":      {doc: &setNetworkActiveDoc, fn: s.setNetworkActive},
		"clearbanned":           {doc: &clearBannedDoc, fn: s.clearBanned},
		"uptime":                {doc: &uptimeDoc, fn: s.uptime},
		"stop":                  {doc: &stopDoc, fn: s.stop},
		"help":                  {doc: &helpDoc, fn: s.help},
	}
	for _, h := range table {
		h.params, h.required = h.doc.params()
	}
	return table
}

// walletMethods are Bitcoin Core's wallet methods. Cairn's wallet is a
// command of its own, not part of the node, so these answer "Method not
// found" with a pointer to it.
var walletMethods = map[string]bool{
	"abandontransaction": true, "abortrescan": true, "addmultisigaddress": true, "backupwallet": true,
	"bumpfee": true, "createwallet": true, "createwalletdescriptor": true, "dumpprivkey": true,
	"dumpwallet": true, "encryptwallet": true, "fundrawtransaction": true, "getaddressesbylabel": true,
	"getaddressinfo": true, "getbalance": true, "getbalances": true, "gethdkeys": true,
	"getnewaddress": true, "getrawchangeaddress": true, "getreceivedbyaddress": true, "getreceivedbylabel": true,
	"gettransaction": true, "getunconfirmedbalance": true, "getwalletinfo": true, "importaddress": true,
	"importdescriptors": true, "importmulti": true, "importprivkey": true, "importprunedfunds": true,
	"importpubkey": true, "importwallet": true, "keypoolrefill": true, "listaddressgroupings": true,
	"listdescriptors": true, "listlabels": true, "listlockunspent": true, "listreceivedbyaddress": true,
	"listreceivedbylabel": true, "listsinceblock": true, "listtransactions": true, "listunspent": true,
	"listwalletdir": true, "listwallets": true, "loadwallet": true, "lockunspent": true,
	"migratewallet": true, "newkeypool": true, "psbtbumpfee": true, "removeprunedfunds": true,
	"rescanblockchain": true, "restorewallet": true, "send": true, "sendall": true,
	"sendmany": true, "sendtoaddress": true, "sethdseed": true, "setlabel": true,
	"settxfee": true, "setwalletflag": true, "signmessage": true, "signrawtransactionwithwallet": true,
	"simulaterawtransaction": true, "unloadwallet": true, "upgradewallet": true, "walletcreatefundedpsbt": true,
	"walletdisplayaddress": true, "walletlock": true, "walletpassphrase": true, "walletpassphrasechange": true,
	"walletprocesspsbt": true,
}

// walletHint tells where a wallet method's work is done in Cairn.
func walletHint(method string) string {
	return method + " is a wallet method: Cairn's wallet is the `cairn wallet` command, see `cairn wallet --help`"
}

// methodNotFound is Core's error for an unknown method, with the hint for
// a wallet method.
func methodNotFound(method string) *Error {
	if walletMethods[method] {
		return errorf(codeMethodNotFound, "Method not found (%s)", walletHint(method))
	}
	return errorf(codeMethodNotFound, "Method not found")
}
