package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
)

// This file holds Bitcoin Core's "generating" methods, which mine blocks
// on demand on networks that allow it (regtest and custom networks).

// generatetoaddress's limits: at most maxGenerateBlocks blocks a call,
// and by default defaultMaxTries nonces for each.
const (
	maxGenerateBlocks = 100_000
	defaultMaxTries   = 1_000_000
)

// checkGenerate refuses block generation on networks that do not allow it.
func (s *Server) checkGenerate(method string) error {
	if !s.cfg.Chain.Network().AllowGenerate {
		return errorf(codeMisc, "%s is only available on regtest and custom networks", method)
	}
	if s.cfg.Generator == nil {
		return errorf(codeMisc, "this node has no block generator")
	}
	return nil
}

var generateToAddressDoc = methodDoc{
	category: catGenerating,
	desc:     "Mine to a specified address and return the block hashes.\nOnly on regtest and on custom networks that allow it.",
	args: []argDoc{
		reqArg("nblocks", argNum, fmt.Sprintf("How many blocks are generated (0 to %d).", maxGenerateBlocks)),
		reqArg("address", argStr, "The address to send the newly generated coins to."),
		optArg("maxtries", argNum, fmt.Sprint(defaultMaxTries), "How many nonces to try for each block."),
	},
	results: []resultDoc{rArr("", "hashes of blocks generated", rHex("", "blockhash"))},
	examples: []exampleLine{
		exNote("Generate 11 blocks to myaddress"),
		exCLI(`11 "` + exampleAddress + `"`),
		exRPC(`11, "` + exampleAddress + `"`),
		exNote("With Cairn's wallet, get an address to send the newly generated coins to with: cairn wallet address"),
	},
}

func (s *Server) generateToAddress(ctx context.Context, a args) (any, error) {
	if err := s.checkGenerate("generatetoaddress"); err != nil {
		return nil, err
	}
	n, err := a.int64At(0, 0)
	if err != nil {
		return nil, err
	}
	if n < 0 || n > maxGenerateBlocks {
		return nil, errorf(codeInvalidParameter, "nblocks must be between 0 and %d", maxGenerateBlocks)
	}
	addrStr, err := a.str(1)
	if err != nil {
		return nil, err
	}
	_, pk, msg := s.decodeAddress(addrStr)
	if pk == nil {
		return nil, errorf(codeInvalidAddress, "Error: Invalid address (%s)", msg)
	}
	maxTries, err := a.int64At(2, defaultMaxTries)
	if err != nil {
		return nil, err
	}
	if maxTries <= 0 {
		return nil, errorf(codeInvalidParameter, "maxtries must be positive")
	}
	hashes, err := s.cfg.Generator.GenerateToAddress(ctx, int(n), pk, uint64(maxTries))
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = h.String()
	}
	if err != nil {
		return nil, errorf(codeMisc, "generated %d of %d blocks: %v", len(hashes), n, err)
	}
	s.settlePool(ctx)
	return out, nil
}

// generateBlockResult is generateblock's answer.
type generateBlockResult struct {
	Hash string `json:"hash"`
	Hex  string `json:"hex,omitempty"`
}

var generateBlockDoc = methodDoc{
	category: catGenerating,
	desc: "Mine a set of ordered transactions to a specified address and return the block hash.\n" +
		"Only on regtest and on custom networks that allow it.",
	args: []argDoc{
		reqArg("output", argStr, "The address to send the newly generated coins to (Cairn takes no descriptors)."),
		reqArg("transactions", argArr, "An array of hex strings which are either txids or raw transactions.\n"+
			"Txids must reference transactions currently in the mempool.\n"+
			"All transactions must be valid and in valid order, otherwise the block will be rejected.",
			optArg("rawtx/txid", argHex, "", "")),
		optArg("submit", argBool, "true", "Whether to submit the block before the RPC call returns or to return it as hex."),
	},
	results: []resultDoc{rObj("", "",
		rHex("hash", "hash of generated block"),
		rHex("hex", "hex of generated block, only present when submit=false").opt(),
	)},
	examples: []exampleLine{
		exNote("Generate a block to myaddress, with txs rawtx and mempool_txid"),
		exCLI(`"` + exampleAddress + `" '["rawtx", "mempool_txid"]'`),
		exRPC(`"` + exampleAddress + `", ["rawtx", "mempool_txid"]`),
	},
}

func (s *Server) generateBlock(ctx context.Context, a args) (any, error) {
	if err := s.checkGenerate("generateblock"); err != nil {
		return nil, err
	}
	addrStr, err := a.str(0)
	if err != nil {
		return nil, err
	}
	_, pk, msg := s.decodeAddress(addrStr)
	if pk == nil {
		return nil, errorf(codeInvalidAddress, "Error: Invalid address or descriptor (%s)", msg)
	}
	var items []string
	if err := json.Unmarshal(a[1], &items); err != nil {
		return nil, typeError(a[1], "array of strings")
	}
	txs := make([]*wire.MsgTx, 0, len(items))
	for _, item := range items {
		if len(item) == 2*chainhash.HashSize {
			txid, err := chainhash.NewHashFromStr(item)
			if err != nil {
				return nil, errorf(codeInvalidParameter, "%s is not a txid", item)
			}
			tx := s.poolTx(*txid)
			if tx == nil {
				return nil, errorf(codeInvalidAddress, "Transaction %s not in mempool.", item)
			}
			txs = append(txs, tx)
			continue
		}
		raw, err := hex.DecodeString(item)
		if err != nil {
			return nil, errorf(codeDeserialization, "Transaction decode failed for %s", item)
		}
		tx, err := decodeTx(raw, nil)
		if err != nil {
			return nil, errorf(codeDeserialization, "Transaction decode failed for %s", item)
		}
		txs = append(txs, tx)
	}
	submit, err := a.boolAt(2, true)
	if err != nil {
		return nil, err
	}
	block, err := s.cfg.Generator.GenerateBlock(ctx, pk, txs, submit)
	if err != nil {
		if reason := chain.RejectReason(err); reason != "" {
			return nil, errorf(codeVerify, "TestBlockValidity failed: %s", reason)
		}
		return nil, errorf(codeMisc, "%v", err)
	}
	if submit {
		s.settlePool(ctx)
	}
	out := generateBlockResult{Hash: block.BlockHash().String()}
	if !submit {
		var buf bytes.Buffer
		_ = block.Serialize(&buf)
		out.Hex = hex.EncodeToString(buf.Bytes())
	}
	return out, nil
}
