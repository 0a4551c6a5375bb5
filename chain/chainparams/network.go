package chainparams

import (
	"fmt"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// Network is one Cairn network: its consensus rules, genesis block and the
// parameters of its interfaces.
type Network struct {
	// Name identifies the network in data directories, protocol IDs and
	// RPC answers ("main", "test", "regtest" or a chain spec's name).
	Name string

	Consensus consensus.Params
	Genesis   *wire.MsgBlock

	// Address and key encodings.
	Bech32HRP        string
	PubKeyHashAddrID byte
	ScriptHashAddrID byte
	PrivateKeyID     byte
	HDPrivateKeyID   [4]byte
	HDPublicKeyID    [4]byte
	HDCoinType       uint32

	// Default ports and discovery.
	P2PPort uint16
	RPCPort uint16
	// ElectrumPort and ElectrumTLSPort are the Electrum protocol server's
	// default ports (plain TCP and TLS).
	ElectrumPort    uint16
	ElectrumTLSPort uint16
	// HTTPPort is the block explorer's and REST API's default port.
	HTTPPort uint16
	MDNS     bool
	DHT      bool

	// AllowGenerate enables generatetoaddress and generateblock.
	AllowGenerate bool

	// AssumeValid is the default of --assumevalid (Bitcoin Core's
	// defaultAssumeValid): a block the release knows to be on the
	// network's chain, whose ancestors' scripts need not be checked on
	// initial sync; zero for none. docs/protocol.md lists the values.
	AssumeValid chainhash.Hash

	// PruneAfterHeight is the height below which a pruning node deletes
	// nothing (Bitcoin Core's nPruneAfterHeight: 100,000 on main, 1,000 on
	// its test networks), so that a young chain keeps all its blocks.
	PruneAfterHeight int32
}

// GenesisHash returns the hash of the network's genesis block.
func (n *Network) GenesisHash() chainhash.Hash { return n.Consensus.GenesisHash }

// AddressParams returns btcd chaincfg parameters carrying this network's
// address and key encodings, for btcutil's address and HD key functions. Only
// the encoding fields are meaningful.
func (n *Network) AddressParams() *chaincfg.Params {
	p := &chaincfg.Params{
		Name:             n.Name,
		Bech32HRPSegwit:  n.Bech32HRP,
		PubKeyHashAddrID: n.PubKeyHashAddrID,
		ScriptHashAddrID: n.ScriptHashAddrID,
		PrivateKeyID:     n.PrivateKeyID,
		HDPrivateKeyID:   n.HDPrivateKeyID,
		HDPublicKeyID:    n.HDPublicKeyID,
		HDCoinType:       n.HDCoinType,
		GenesisHash:      &n.Consensus.GenesisHash,
	}
	return p
}

// Address encodings shared by the test-like networks (Bitcoin testnet's
// base58 prefixes and tprv/tpub).
var (
	testHDPriv = [4]byte{0x04, 0x35, 0x83, 0x94}
	testHDPub  = [4]byte{0x04, 0x35, 0x87, 0xcf}
	mainHDPriv = [4]byte{0x04, 0x88, 0xad, 0xe4}
	mainHDPub  = [4]byte{0x04, 0x88, 0xb2, 0x1e}
)

// MainCoinType is the BIP44 coin type of the main network: "CRN" in ASCII.
const MainCoinType = 0x43524e

// Genesis parameters of the built-in networks. Each genesis block was mined
// once at its network's proof-of-work limit (see internal/gengenesis) and its
// nonce is fixed here; tests check that it still meets its target.
const (
	genesisTime    = 1795305600 // 2026-11-22 00:00:00 UTC
	mainPowBits    = 0x1d080000 // 2^227: about 2^29 hashes a block
	testPowBits    = 0x1d100000 // 2^228: about 2^28 hashes a block
	regtestPowBits = 0x207fffff
	mainGenesisMsg = "Cairn main 2026-11-22: a pile of stones marks the way"
	testGenesisMsg = "Cairn test 2026-11-22: a pile of stones marks the way"
	regGenesisMsg  = "Cairn regtest 2026-11-22"

	mainGenesisNonce    = 366177056
	testGenesisNonce    = 1374449167
	regtestGenesisNonce = 9
)

// Minimum chain work of the public networks (Bitcoin Core's
// nMinimumChainWork), raised with each release to the work of a block
// known to be on the network's chain; docs/protocol.md lists the values.
// Until these networks have a history, it is their genesis block's work:
// one block at the pow limit.
func mainMinimumChainWork() *big.Int { return consensus.CalcWork(mainPowBits) }
func testMinimumChainWork() *big.Int { return consensus.CalcWork(testPowBits) }

// baseSubsidy is the first era's block reward on every built-in network.
const baseSubsidy = 50 * consensus.CoinValue

// Main returns the main network.
func Main() *Network {
	return mustNetwork(&Network{
		Name:             "main",
		Bech32HRP:        "crn",
		PubKeyHashAddrID: 0x1c,
		ScriptHashAddrID: 0x57,
		PrivateKeyID:     0x9c,
		HDPrivateKeyID:   mainHDPriv,
		HDPublicKeyID:    mainHDPub,
		HDCoinType:       MainCoinType,
		P2PPort:          7333,
		ElectrumPort:     7334,
		ElectrumTLSPort:  7335,
		HTTPPort:         7336,
		RPCPort:          7332,
		DHT:              true,
		PruneAfterHeight: 100_000,
		Consensus: consensus.Params{
			TargetSpacing:          60 * time.Second,
			AsertHalfLife:          17_280 * time.Second,
			MaxFutureBlockTime:     900 * time.Second,
			BaseSubsidy:            baseSubsidy,
			SubsidyHalvingInterval: 210_000,
			CoinbaseMaturity:       100,
			MinimumChainWork:       mainMinimumChainWork(),
		},
	}, mainPowBits, NewGenesisBlock(genesisTime, mainPowBits, mainGenesisNonce, mainGenesisMsg, baseSubsidy))
}

// Test returns the public test network.
func Test() *Network {
	return mustNetwork(&Network{
		Name:             "test",
		Bech32HRP:        "tcrn",
		PubKeyHashAddrID: 0x6f,
		ScriptHashAddrID: 0xc4,
		PrivateKeyID:     0xef,
		HDPrivateKeyID:   testHDPriv,
		HDPublicKeyID:    testHDPub,
		HDCoinType:       1,
		P2PPort:          17333,
		ElectrumPort:     17334,
		ElectrumTLSPort:  17335,
		HTTPPort:         17336,
		RPCPort:          17332,
		MDNS:             true,
		DHT:              true,
		PruneAfterHeight: 1_000,
		Consensus: consensus.Params{
			TargetSpacing:          30 * time.Second,
			AsertHalfLife:          8_640 * time.Second,
			MaxFutureBlockTime:     450 * time.Second,
			BaseSubsidy:            baseSubsidy,
			SubsidyHalvingInterval: 210_000,
			CoinbaseMaturity:       100,
			MinimumChainWork:       testMinimumChainWork(),
		},
	}, testPowBits, NewGenesisBlock(genesisTime, testPowBits, testGenesisNonce, testGenesisMsg, baseSubsidy))
}

// Regtest returns the regression-test network: fixed minimum difficulty, a
// fast halving schedule and block generation over RPC.
func Regtest() *Network {
	return mustNetwork(&Network{
		Name:             "regtest",
		Bech32HRP:        "rcrn",
		PubKeyHashAddrID: 0x6f,
		ScriptHashAddrID: 0xc4,
		PrivateKeyID:     0xef,
		HDPrivateKeyID:   testHDPriv,
		HDPublicKeyID:    testHDPub,
		HDCoinType:       1,
		P2PPort:          27333,
		ElectrumPort:     27334,
		ElectrumTLSPort:  27335,
		HTTPPort:         27336,
		RPCPort:          27332,
		MDNS:             true,
		AllowGenerate:    true,
		PruneAfterHeight: 1_000,
		Consensus: consensus.Params{
			TargetSpacing:          60 * time.Second,
			NoRetargeting:          true,
			MaxFutureBlockTime:     7_200 * time.Second,
			BaseSubsidy:            baseSubsidy,
			SubsidyHalvingInterval: 150,
			CoinbaseMaturity:       100,
		},
	}, regtestPowBits, NewGenesisBlock(genesisTime, regtestPowBits, regtestGenesisNonce, regGenesisMsg, baseSubsidy))
}

// ByName returns the built-in network called name.
func ByName(name string) (*Network, error) {
	switch name {
	case "main", "mainnet":
		return Main(), nil
	case "test", "testnet":
		return Test(), nil
	case "regtest":
		return Regtest(), nil
	}
	return nil, fmt.Errorf("unknown network %q (want main, test or regtest, or a --chain-spec file)", name)
}

// mustNetwork completes a built-in network with its pow limit and genesis.
// The built-in values are constants, so a failure is a programming error.
func mustNetwork(n *Network, powLimitBits uint32, genesis *wire.MsgBlock) *Network {
	if err := n.setGenesis(powLimitBits, genesis); err != nil {
		panic(fmt.Sprintf("chainparams: built-in network %s: %v", n.Name, err))
	}
	return n
}

// setGenesis fills the pow limit and the genesis-derived consensus fields.
func (n *Network) setGenesis(powLimitBits uint32, genesis *wire.MsgBlock) error {
	limit, neg, overflow := consensus.CompactToBig(powLimitBits)
	if neg || overflow || limit.Sign() <= 0 {
		return fmt.Errorf("pow limit bits %#08x are not a valid target", powLimitBits)
	}
	n.Consensus.PowLimit = limit
	n.Consensus.PowLimitBits = powLimitBits
	n.Genesis = genesis
	n.Consensus.GenesisHash = consensus.BlockHash(&genesis.Header)
	n.Consensus.GenesisTime = genesis.Header.Timestamp.Unix()
	n.Consensus.GenesisBits = genesis.Header.Bits
	return nil
}

// NewGenesisBlock builds a genesis block: one coinbase whose scriptSig is the
// BIP34 push of height 0 followed by message, paying subsidy to an
// unspendable OP_RETURN output. The block carries the given time, bits and
// nonce; [MineGenesis] finds a nonce that meets the target.
func NewGenesisBlock(unixTime int64, bits, nonce uint32, message string, subsidy int64) *wire.MsgBlock {
	sigScript, err := txscript.NewScriptBuilder().AddInt64(0).AddData([]byte(message)).Script()
	if err != nil {
		panic(fmt.Sprintf("chainparams: genesis message of %d bytes: %v", len(message), err))
	}
	coinbase := wire.NewMsgTx(1)
	coinbase.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript:  sigScript,
		Sequence:         wire.MaxTxInSequenceNum,
	})
	coinbase.AddTxOut(&wire.TxOut{Value: subsidy, PkScript: []byte{txscript.OP_RETURN}})
	root, _ := consensus.CalcMerkleRoot([]chainhash.Hash{consensus.TxHash(coinbase)})
	return &wire.MsgBlock{
		Header: wire.BlockHeader{
			Version:    1,
			MerkleRoot: root,
			Timestamp:  time.Unix(unixTime, 0),
			Bits:       bits,
			Nonce:      nonce,
		},
		Transactions: []*wire.MsgTx{coinbase},
	}
}

// MineGenesis searches nonces from the block's current one until its hash
// meets the target of its bits, and reports whether it found one before the
// nonce space ran out.
func MineGenesis(block *wire.MsgBlock) bool {
	target, neg, overflow := consensus.CompactToBig(block.Header.Bits)
	if neg || overflow || target.Sign() <= 0 {
		return false
	}
	h := &block.Header
	for {
		hash := consensus.BlockHash(h)
		if consensus.HashToBig(&hash).Cmp(target) <= 0 {
			return true
		}
		if h.Nonce == ^uint32(0) {
			return false
		}
		h.Nonce++
	}
}
