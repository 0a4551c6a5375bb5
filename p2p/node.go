package p2p

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool"
)

// Chain is what the network needs of the block chain. *chain.BlockChain
// implements it.
type Chain interface {
	Network() *chainparams.Network
	BestSnapshot() *chain.BestState
	ProcessBlock(block *wire.MsgBlock) (chain.ProcessResult, error)
	ProcessUnrequestedBlock(block *wire.MsgBlock) (chain.ProcessResult, error)
	WantsUnrequested(h *wire.BlockHeader) error
	HaveBlock(hash chainhash.Hash) bool
	HaveHeader(hash chainhash.Hash) bool
	ProcessHeaders(headers []wire.BlockHeader) (int, error)
	AntiDoSWorkThreshold() *big.Int
	BestHeader() (chainhash.Hash, int32, *big.Int)
	IsInitialBlockDownload() bool
	MissingBlocks(window int32, max int) []chain.BlockRef
	BlockLocator(hash *chainhash.Hash) ([]chainhash.Hash, error)
	LocateHeaders(locator []chainhash.Hash, stop chainhash.Hash, max int) []wire.BlockHeader
	BlockByHash(hash chainhash.Hash) (*wire.MsgBlock, error)
	RawBlock(hash chainhash.Hash) ([]byte, error)
	BlockInfo(hash chainhash.Hash) (*chain.BlockInfo, error)
	PruneState() chain.PruneState
	Subscribe() *chain.Subscription
}

var _ Chain = (*chain.BlockChain)(nil)

// Mempool is what the network needs of the transaction pool.
type Mempool interface {
	ProcessTransaction(tx *wire.MsgTx, allowOrphan bool) (*mempool.AcceptResult, error)
	TxsMatching(match func(wtxid chainhash.Hash) bool) map[chainhash.Hash]*wire.MsgTx
	HaveWTx(wtxid chainhash.Hash) bool
	RawTx(wtxid chainhash.Hash) ([]byte, bool)
	RelayOrder(max int) []chainhash.Hash
}

var _ Mempool = (*mempool.TxPool)(nil)

// maxGossipBytes is the gossip router's RPC size limit: the largest valid
// block (its serialization never exceeds the weight limit) plus framing.
// Because it exceeds GossipSub's default of 1 MiB, Cairn speaks its own
// versioned GossipSub protocol ID, as the library asks of networks that
// change the limit: a standard GossipSub peer never meets a Cairn mesh
// whose messages it would drop.
const maxGossipBytes = consensus.MaxBlockBytes + 64<<10

// gossipProtocol is Cairn's GossipSub v1.2 (mesh, peer exchange and
// IDONTWANT, which spares a peer a large block it already has) with large
// messages.
const gossipProtocol = protocol.ID("/cairn/meshsub/1.2.0")

// gossipFeatures tells the router what gossipProtocol supports.
func gossipFeatures(feat pubsub.GossipSubFeature, proto protocol.ID) bool {
	if proto != gossipProtocol {
		return false
	}
	switch feat {
	case pubsub.GossipSubFeatureMesh, pubsub.GossipSubFeaturePX, pubsub.GossipSubFeatureIdontwant:
		return true
	}
	return false
}

// Config configures a Node.
type Config struct {
	Chain   Chain
	Mempool Mempool
	// Dir holds the identity key.
	Dir string
	// Listen are the listen multiaddrs; none means an ephemeral TCP port
	// on loopback.
	Listen []string
	// Peers are dialled at start and redialled when lost.
	Peers []string
	// StatusInterval is how often statuses are exchanged again with every
	// peer; zero means DefaultStatusInterval.
	StatusInterval time.Duration
	// MaxPeers limits connections; zero means DefaultMaxPeers.
	MaxPeers int
	// MDNS finds and dials nodes on the local network.
	MDNS bool
	// DHT joins the network's Kademlia DHT to find peers; DHTInterval
	// (zero: every 30 s) is how often it dials from the routing table
	// while the node has few peers.
	DHT         bool
	DHTInterval time.Duration
	// BlockRelay is how the node announces its blocks; it understands
	// both ways whatever it is.
	BlockRelay BlockRelay
	// BlocksOnly turns transaction relay off: the node neither announces
	// transactions nor fetches those announced (Core's -blocksonly).
	BlocksOnly bool
	// Gate, when set, holds back the blocks the node mines until it says
	// (Announce) and hears of every block peers send: a research mining
	// strategy (cairn node --strategy selfish). Nil announces every block
	// as it connects.
	Gate   BlockGate
	Logger *slog.Logger

	// serveRate and serveBurst replace serveRate and serveBurst when set
	// (tests measure the bound with smaller ones), headersTimeout
	// syncRequestTimeout for headers requests.
	serveRate      rate.Limit
	serveBurst     int
	headersTimeout time.Duration
}

// DefaultStatusInterval is how often a node compares chains with its peers.
const DefaultStatusInterval = 10 * time.Second

// Node is a running peer-to-peer endpoint.
type Node struct {
	cfg     Config
	log     *slog.Logger
	host    host.Host
	ps      *pubsub.PubSub
	blocks  *pubsub.Topic
	compact *pubsub.Topic
	// relay announces and fetches transactions.
	relay  *txRelay
	prefix string // "/cairn/<network>/<genesis prefix>"
	bans   *banList
	// orphans holds gossiped blocks until their parents connect.
	orphans *orphanBlocks
	// sync drives headers-first sync.
	sync *downloader
	// blocksServed counts blocks sent to syncing peers, blocksJudged
	// the peers' whole-block gossip messages validated.
	blocksServed atomic.Int64
	// blocksUnserved counts blocks peers asked for that the node lacks.
	blocksUnserved atomic.Int64
	blocksJudged   atomic.Int64
	// compactStats counts compact blocks rebuilt, those whose rebuild
	// failed (fetched whole), and transactions fetched to complete them.
	compactStats struct{ rebuilt, failed, fetched atomic.Int64 }
	// limiter bounds each peer's stream requests.
	limiter *requestLimiter
	// unwanted counts each peer's blocks on chains with less work than
	// the tip (screenHeader).
	unwanted *requestLimiter
	// served bounds the bytes of blocks served to each peer.
	served *requestLimiter
	// decodeBudget bounds the decoded bytes of gossiped blocks being
	// validated at once (maxDecodeBytes).
	decodeBudget *semaphore.Weighted
	// bandwidth counts bytes per peer (getpeerinfo).
	bandwidth *metrics.BandwidthCounter
	mdns      interface{ Close() error }
	dht       *dht.IpfsDHT    // nil unless Config.DHT
	ctx       context.Context // the node's lifetime, from New
	// redialLoops counts running keepConnected loops.
	redialLoops atomic.Int32
	closeOnce   sync.Once
	closeErr    error

	mu sync.Mutex
	// added maps the addresses of --peer and addnode to the cancellation
	// of their redial loops.
	added map[string]context.CancelFunc
	peers map[peer.ID]*peerState
	// gossiped remembers blocks that arrived by gossip, so the chain's
	// notification of them is not published again.
	gossiped map[chainhash.Hash]time.Time
	// gossipScores is the gossip router's latest view of peer scores.
	gossipScores map[peer.ID]*pubsub.PeerScoreSnapshot
	// blockRelay holds the block-relay-only peers (outbound.go),
	// lastTipChange when a block last connected, and staleExtra the peer
	// dialled since because the tip looked stale.
	blockRelay    map[peer.ID]bool
	lastTipChange time.Time
	staleExtra    peer.ID
}

// peerState is what the node knows of a peer.
type peerState struct {
	status *status
	// lastStatus is when the last status exchange with the peer
	// succeeded.
	lastStatus     time.Time
	startingHeight int32
	connected      time.Time
	inbound        bool
}

// New creates the host and joins the gossip topics; Run serves them.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Chain == nil {
		return nil, errors.New("p2p: Config.Chain is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = DefaultStatusInterval
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultMaxPeers
	}
	cm, err := newConnManager(cfg.MaxPeers)
	if err != nil {
		return nil, fmt.Errorf("p2p: connection manager: %w", err)
	}
	rm, err := newResourceManager(cfg.MaxPeers)
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	key, err := loadIdentity(cfg.Dir)
	if err != nil {
		return nil, err
	}
	bans, err := loadBans(cfg.Dir)
	if err != nil {
		return nil, err
	}
	listen := cfg.Listen
	if len(listen) == 0 {
		listen = []string{"/ip4/127.0.0.1/tcp/0"}
	}
	bandwidth := metrics.NewBandwidthCounter()
	h, err := libp2p.New(
		libp2p.BandwidthReporter(bandwidth),
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(listen...),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.ConnectionGater(bans),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
	)
	if err != nil {
		rm.Close()
		cm.Close()
		return nil, fmt.Errorf("p2p: start host on %v: %w", listen, err)
	}
	net := cfg.Chain.Network()
	genesis := net.GenesisHash()
	n := &Node{
		cfg:           cfg,
		log:           cfg.Logger,
		host:          h,
		bans:          bans,
		limiter:       newRequestLimiter(requestRate, requestBurst),
		unwanted:      newRequestLimiter(unwantedRate, unwantedBurst),
		served:        newRequestLimiter(cmp.Or(cfg.serveRate, serveRate), cmp.Or(cfg.serveBurst, serveBurst)),
		orphans:       newOrphanBlocks(),
		decodeBudget:  semaphore.NewWeighted(maxDecodeBytes),
		bandwidth:     bandwidth,
		ctx:           ctx,
		added:         make(map[string]context.CancelFunc),
		prefix:        fmt.Sprintf("/cairn/%s/%s", net.Name, hex.EncodeToString(genesis[:8])),
		peers:         make(map[peer.ID]*peerState),
		gossiped:      make(map[chainhash.Hash]time.Time),
		blockRelay:    make(map[peer.ID]bool),
		lastTipChange: time.Now(),
	}
	n.sync = newDownloader(n)
	n.relay = newTxRelay(n)
	blockTopic, compactTopic := n.topicNames()
	n.ps, err = pubsub.NewGossipSub(ctx, h,
		pubsub.WithPeerScore(n.scoreParams(blockTopic, compactTopic), scoreThresholds),
		pubsub.WithPeerScoreInspect(n.recordScores, time.Second),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithGossipSubProtocols([]protocol.ID{gossipProtocol}, gossipFeatures),
		pubsub.WithMaxMessageSize(maxGossipBytes),
		// A node's own blocks and transactions go to every peer of the
		// topic, as Bitcoin relays them, not only to the mesh: that also
		// reaches a peer that joined before a heartbeat put it in the mesh.
		pubsub.WithFloodPublish(true),
		pubsub.WithRPCLogger(slog.New(rpcWatch{n})),
	)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("p2p: gossip: %w", err)
	}
	if err := n.joinTopics(); err != nil {
		h.Close()
		return nil, err
	}
	if cfg.DHT {
		if err := n.startDHT(); err != nil {
			h.Close()
			return nil, err
		}
	}
	if cfg.MDNS {
		// Started here, not in Run, so that Close always sees it.
		if err := n.startMDNS(); err != nil {
			n.log.Warn("mdns discovery is off", "err", err)
		}
	}
	h.SetStreamHandler(n.protocol("status"), n.handleStatus)
	h.SetStreamHandler(n.protocol("headers"), n.handleHeadersRequest)
	h.SetStreamHandler(n.protocol("getblocks"), n.handleGetBlocks)
	h.SetStreamHandler(n.protocol("blocktxn"), n.handleBlockTxn)
	h.SetStreamHandler(n.protocol("txinv"), n.handleTxInv)
	h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		go n.onConnected(ctx, c)
	}, DisconnectedF: func(_ network.Network, c network.Conn) {
		n.mu.Lock()
		gone := len(n.host.Network().ConnsToPeer(c.RemotePeer())) == 0
		if gone {
			delete(n.peers, c.RemotePeer())
			delete(n.blockRelay, c.RemotePeer())
			n.limiter.forget(c.RemotePeer())
			n.unwanted.forget(c.RemotePeer())
			n.served.forget(c.RemotePeer())
		}
		n.mu.Unlock()
		if gone {
			n.sync.forgetPeer(c.RemotePeer(), true)
			n.relay.stop(c.RemotePeer())
		}
	}})
	bans.start(cfg.Logger)
	return n, nil
}

// messageID is the content address of a gossip message: its double
// SHA-256, which for a transaction is its wtxid and for a whole block is
// taken over the header only, the block hash. A compact block's ID covers
// the whole announcement: announcements of one block from two origins
// differ (their nonces), and one that cannot be completed must not make
// gossip drop the other as its duplicate.
func messageID(m *pb.Message) string {
	data := m.GetData()
	if len(data) >= wire.MaxBlockHeaderPayload && strings.HasSuffix(m.GetTopic(), "/blocks/1") {
		h := consensus.DoubleHashH(data[:wire.MaxBlockHeaderPayload])
		return string(h[:])
	}
	h := consensus.DoubleHashH(data)
	return string(h[:])
}

// protocol returns a stream protocol ID namespaced by network and genesis.
func (n *Node) protocol(name string) protocol.ID {
	return protocol.ID(n.prefix + "/" + name + "/1")
}

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Addrs returns the node's full multiaddrs, each ending in /p2p/<peer id>.
func (n *Node) Addrs() []string {
	var out []string
	for _, a := range n.host.Addrs() {
		out = append(out, a.String()+"/p2p/"+n.host.ID().String())
	}
	return out
}

// Close saves the known peers' addresses and shuts the host down. It may
// be called more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if err := n.savePeers(); err != nil {
			n.log.Warn("known peers not saved", "err", err)
		}
		if err := n.saveAnchors(); err != nil {
			n.log.Warn("anchors not saved", "err", err)
		}
		if n.mdns != nil {
			n.mdns.Close()
		}
		if n.dht != nil {
			n.dht.Close()
		}
		n.closeErr = n.host.Close()
		n.bans.close()
	})
	return n.closeErr
}

// Connect dials a peer by full multiaddr (with /p2p/<id>).
func (n *Node) Connect(ctx context.Context, addr string) error {
	info, err := parsePeerAddr(addr)
	if err != nil {
		return err
	}
	if err := n.host.Connect(ctx, *info); err != nil {
		return fmt.Errorf("p2p: connect %s: %w", addr, err)
	}
	return nil
}

// PeerCount returns the number of peers that passed the handshake.
func (n *Node) PeerCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	count := 0
	for _, p := range n.peers {
		if p.status != nil {
			count++
		}
	}
	return count
}

// PeerInfo describes a connected peer (getpeerinfo).
type PeerInfo struct {
	ID       string
	Addr     string
	Inbound  bool
	ConnTime time.Time
	PingTime time.Duration // latest round trip, zero if unknown
	Height   int32         // the height its last status reported
	Best     string
	// StartingHeight is the height of its first status.
	StartingHeight int32
	// SyncedHeaders and SyncedBlocks are its best block's height if the
	// node has that block's header (block), -1 if not.
	SyncedHeaders int32
	SyncedBlocks  int32
	// BytesSent and BytesRecv count the peer's traffic while connected.
	BytesSent int64
	BytesRecv int64
	// GossipScore is the GossipSub router's score of the peer.
	GossipScore float64
}

// ServeStats counts the blocks the node sent to syncing peers and those
// they asked for that it did not have (a pruned node's peers never ask for
// blocks it said it pruned).
type ServeStats struct {
	BlocksServed, BlocksUnserved int64
}

// ServeStats returns the node's block serving counters.
func (n *Node) ServeStats() ServeStats {
	return ServeStats{BlocksServed: n.blocksServed.Load(), BlocksUnserved: n.blocksUnserved.Load()}
}

// Peers describes the connected peers that passed the handshake.
func (n *Node) Peers() []PeerInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []PeerInfo
	for id, ps := range n.peers {
		if ps.status == nil {
			continue
		}
		info := PeerInfo{ID: id.String(), Inbound: ps.inbound, ConnTime: ps.connected,
			PingTime: n.host.Peerstore().LatencyEWMA(id), Height: ps.status.Height, Best: ps.status.Best,
			StartingHeight: ps.startingHeight, SyncedHeaders: -1, SyncedBlocks: -1}
		if best, err := chainhash.NewHashFromStr(ps.status.Best); err == nil {
			if n.cfg.Chain.HaveHeader(*best) {
				info.SyncedHeaders = ps.status.Height
			}
			if n.cfg.Chain.HaveBlock(*best) {
				info.SyncedBlocks = ps.status.Height
			}
		}
		bw := n.bandwidth.GetBandwidthForPeer(id)
		info.BytesSent, info.BytesRecv = bw.TotalOut, bw.TotalIn
		if s, ok := n.gossipScores[id]; ok {
			info.GossipScore = s.Score
		}
		if conns := n.host.Network().ConnsToPeer(id); len(conns) > 0 {
			info.Addr = conns[0].RemoteMultiaddr().String()
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ConnTime.Before(out[j].ConnTime) })
	return out
}

// Run dials the configured peers (again with backoff when they are lost),
// publishes the chain's new blocks, and serves until ctx ends.
func (n *Node) Run(ctx context.Context) error {
	for _, addr := range n.cfg.Peers {
		if err := n.AddNode(addr, "add"); err != nil {
			n.log.Error("bad --peer", "addr", addr, "err", err)
		}
	}
	n.dialKnownPeers(ctx)

	go n.sync.run(ctx)
	if n.dht != nil {
		interval := n.cfg.DHTInterval
		if interval <= 0 {
			interval = dhtDialInterval
		}
		go n.runDHT(ctx, interval)
	}
	go n.readTopic(ctx, n.blocks)
	go n.readTopic(ctx, n.compact)
	sub := n.cfg.Chain.Subscribe()
	defer sub.Close()
	tick := time.NewTicker(n.cfg.StatusInterval)
	defer tick.Stop()
	saveTick := time.NewTicker(savePeersInterval)
	defer saveTick.Stop()
	outTick := time.NewTicker(outboundInterval)
	defer outTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return n.Close()
		case <-tick.C:
			n.refreshStatuses(ctx)
			n.orphans.expire(time.Now())
		case <-outTick.C:
			n.tendOutbound(ctx)
		case <-saveTick.C:
			if err := n.savePeers(); err != nil {
				n.log.Warn("known peers not saved", "err", err)
			}
		case note, ok := <-sub.C():
			if !ok {
				return n.Close()
			}
			n.relay.newTip()
			if note.Type == chain.BlockConnected {
				n.mu.Lock()
				n.lastTipChange, n.staleExtra = time.Now(), ""
				n.mu.Unlock()
				if n.announces(note.Hash, note.Height) {
					n.announceBlock(ctx, note.Hash, note.Block)
				}
				go n.adoptOrphans(note.Hash)
			}
		}
	}
}

// maxBlocksToAnnounce bounds how far under the tip a block connected may
// be and still be announced (Core's MAX_BLOCKS_TO_ANNOUNCE): deeper, it
// is old news, and a peer that lacks it syncs.
const maxBlocksToAnnounce = 8

// announces reports whether a block just connected goes out by gossip.
// Blocks connected in initial block download are old news to the peers
// they came from: Core's UpdatedBlockTip relays nothing then ("Don't relay
// inventory during initial block download"), and neither blocks that a
// catch-up or a long reorganization has already buried. Being behind the
// best header is no reason to be silent: a peer that sends headers of
// blocks it withholds would stop the node from relaying the blocks that
// compete with them, its own too. A gated node holds back what its gate
// says.
func (n *Node) announces(hash chainhash.Hash, height int32) bool {
	if n.cfg.Chain.IsInitialBlockDownload() || height <= n.cfg.Chain.BestSnapshot().Height-maxBlocksToAnnounce {
		return false
	}
	return n.cfg.Gate == nil || !n.cfg.Gate.Hold(hash)
}

// keepConnected dials info and redials with backoff while it is lost,
// until ctx ends. The connection manager never trims it.
func (n *Node) keepConnected(ctx context.Context, info *peer.AddrInfo) {
	n.redialLoops.Add(1)
	defer n.redialLoops.Add(-1)
	backoff := time.Second
	n.host.ConnManager().Protect(info.ID, protectTag)
	for ctx.Err() == nil {
		if n.NetworkActive() && n.host.Network().Connectedness(info.ID) != network.Connected {
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := n.host.Connect(dctx, *info)
			cancel()
			if err != nil {
				n.log.Debug("dial failed", "peer", info.ID, "err", err, "retry_in", backoff)
				backoff = min(2*backoff, time.Minute)
			} else {
				backoff = time.Second
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
}

// readTopic drains a subscription: delivery already happened in the
// validator, which is where messages are processed.
func (n *Node) readTopic(ctx context.Context, t *pubsub.Topic) {
	sub, err := t.Subscribe()
	if err != nil {
		n.log.Error("subscribe", "topic", t.String(), "err", err)
		return
	}
	defer sub.Cancel()
	for {
		if _, err := sub.Next(ctx); err != nil {
			return
		}
	}
}
