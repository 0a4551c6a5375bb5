package rpc

import (
	"context"
	"errors"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/utxo"
	"github.com/cairnchain/cairn/mempool"
)

// This file declares what the handlers need of the node, one interface for
// each part of it (Chain, Mempool, Generator and Network, with MiningStats),
// and the types those interfaces trade in. The node's packages implement
// them directly or through cmd/cairn's adapters, so that this package
// depends on none of the networking code.

// Chain is what the handlers need of the block chain. *chain.BlockChain
// implements it.
type Chain interface {
	Network() *chainparams.Network
	BestSnapshot() *chain.BestState
	HeaderCount() int32
	IsInitialBlockDownload() bool
	BlockHashByHeight(height int32) (chainhash.Hash, error)
	BlockByHash(hash chainhash.Hash) (*wire.MsgBlock, error)
	RawBlock(hash chainhash.Hash) ([]byte, error)
	SpentOutputs(hash chainhash.Hash, block *wire.MsgBlock) ([]*utxo.Entry, error)
	BlockInfo(hash chainhash.Hash) (*chain.BlockInfo, error)
	ChainTips() []chain.ChainTip
	FetchUtxoEntry(op wire.OutPoint) (*utxo.Entry, error)
	UtxoSetStats() (*chain.UtxoStats, error)
	FetchTransaction(txid chainhash.Hash) (*wire.MsgTx, chain.TxLocation, error)
	TxIndexEnabled() bool
	BlockFilter(hash chainhash.Hash) (filter []byte, header chainhash.Hash, err error)
	BlockFilterIndexEnabled() bool
	AddrIndexEnabled() bool
	ProcessBlock(block *wire.MsgBlock) (chain.ProcessResult, error)
	ProcessHeaders(headers []wire.BlockHeader) (int, error)
	DiskSize() int64
	PruneState() chain.PruneState
	PruneBlockchain(height int32) (int32, error)
	InvalidateBlock(hash chainhash.Hash) error
	ReconsiderBlock(hash chainhash.Hash) error
}

var _ Chain = (*chain.BlockChain)(nil)

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
	// WaitSynced waits, until ctx ends, for the pool to hear of every
	// block up to tip.
	WaitSynced(ctx context.Context, tip chainhash.Hash) bool
}

var _ Mempool = (*mempool.TxPool)(nil)

// TemplateTx is one transaction of a block template.
type TemplateTx struct {
	Tx        *wire.MsgTx
	Fee       int64
	SigOpCost int64
	Weight    int64
	// Depends are the positions (1-based, as BIP22 counts) of the
	// template's transactions this one spends.
	Depends []int
}

// BlockTemplate is the next block's work for getblocktemplate.
type BlockTemplate struct {
	PrevHash          chainhash.Hash
	Height            int32
	Version           int32
	Bits              uint32
	Target            *big.Int
	CurTime, MinTime  time.Time
	Txs               []TemplateTx
	CoinbaseValue     int64
	WitnessCommitment []byte
}

// MiningStats reports the local miner (getmininginfo). *miner.Miner
// implements it.
type MiningStats interface {
	HashesPerSec() float64
}

// Generator mines blocks on demand (generatetoaddress, generateblock) and
// assembles templates for external miners (getblocktemplate). cmd/cairn
// adapts the miner package to it.
type Generator interface {
	// BlockTemplate returns the next block's template.
	BlockTemplate() (*BlockTemplate, error)
	// GenerateToAddress mines n blocks paying to pkScript, trying at most
	// maxTries nonces each, and returns their hashes.
	GenerateToAddress(ctx context.Context, n int, pkScript []byte, maxTries uint64) ([]chainhash.Hash, error)
	// GenerateBlock mines one block paying to pkScript holding exactly
	// txs (after the coinbase), and returns it; with submit false it is
	// not processed.
	GenerateBlock(ctx context.Context, pkScript []byte, txs []*wire.MsgTx, submit bool) (*wire.MsgBlock, error)
}

// Network is what the handlers need of the peer-to-peer node. cmd/cairn
// adapts *p2p.Node to it.
type Network interface {
	// PeerCount is the number of connected peers past the handshake.
	PeerCount() int
	// Addrs are the node's full multiaddrs, with /p2p/<peer id>.
	Addrs() []string
	// Peers describes the connected peers.
	Peers() []PeerInfo
	// SetBan, Banned and ClearBanned manage the ban list. SetBan takes a
	// peer ID, an IP address or a subnet (CIDR), and fails with
	// ErrInvalidBanTarget, ErrAlreadyBanned or ErrNotBanned where Core
	// has error codes of their own.
	SetBan(target string, add bool, d time.Duration) error
	Banned() []Ban
	ClearBanned() error
	// AddNode ("add", "remove" or "onetry"), AddedNodes and DisconnectNode
	// manage connections by full multiaddr (or peer ID, to disconnect).
	// AddNode fails with ErrAlreadyAdded or ErrNotAdded, DisconnectNode
	// with ErrNotConnected, where Core has error codes of their own.
	AddNode(addr, command string) error
	AddedNodes() []string
	DisconnectNode(target string) error
	// SetNetworkActive turns all networking off or on again.
	SetNetworkActive(active bool)
	NetworkActive() bool
}

// Errors of Network's AddNode and DisconnectNode, which the handlers map to
// Bitcoin Core's codes.
var (
	// ErrAlreadyAdded is AddNode's error for adding an added node.
	ErrAlreadyAdded = errors.New("rpc: node already added")
	// ErrNotAdded is AddNode's error for removing a node not added.
	ErrNotAdded = errors.New("rpc: node has not been added")
	// ErrInvalidBanTarget is SetBan's error for a target that is neither
	// a peer ID, an IP address nor a subnet.
	ErrInvalidBanTarget = errors.New("rpc: invalid ban target")
	// ErrAlreadyBanned is SetBan's error for banning what is banned.
	ErrAlreadyBanned = errors.New("rpc: already banned")
	// ErrNotBanned is SetBan's error for unbanning what is not banned.
	ErrNotBanned = errors.New("rpc: not banned")
	// ErrNotConnected is DisconnectNode's error for a peer not connected.
	ErrNotConnected = errors.New("rpc: node not found in connected nodes")
)

// PeerInfo describes a connected peer (getpeerinfo).
type PeerInfo struct {
	// ID is the peer's libp2p peer ID and Addr its multiaddr.
	ID   string
	Addr string
	// Inbound is true if the peer dialled the node.
	Inbound bool
	// ConnTime is when the connection opened.
	ConnTime time.Time
	// PingTime is the latest round trip, zero if unknown.
	PingTime time.Duration
	// StartingHeight is the height the peer first reported.
	StartingHeight int32
	// SyncedHeaders and SyncedBlocks are the height of the peer's best
	// block if the node has that block's header (block), -1 if not.
	SyncedHeaders int32
	SyncedBlocks  int32
	// BytesSent and BytesRecv count the peer's traffic while connected.
	BytesSent int64
	BytesRecv int64
	// GossipScore is the GossipSub router's score of the peer.
	GossipScore float64
}

// Ban is an entry of the ban list (listbanned).
type Ban struct {
	// Address is the banned libp2p peer ID, or the banned subnet in CIDR
	// form (a single address is a /32 or /128).
	Address string
	// Created is when the ban was made, Until when it expires.
	Created, Until time.Time
}
