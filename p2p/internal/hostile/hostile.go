// Package hostile is a peer for tests that speaks Cairn's peer-to-peer
// protocol as docs/protocol.md describes it, written apart from package p2p
// so that it does what an attacker can rather than what the node's own code
// would: it claims any status, gossips any bytes, answers header requests
// with any headers, and asks for blocks as often as it likes, counting what
// the node sends back. Tests point it at a real node and check that the
// node's memory, disk and bytes served stay bounded and that the attacker
// pays where Bitcoin Core would make it pay.
package hostile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	gonet "net"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// The protocol as documented: GossipSub under Cairn's own ID, streams and
// topics under /cairn/<network>/<16 hex digits of the genesis hash>/.
const (
	gossipProtocol = protocol.ID("/cairn/meshsub/1.2.0")
	// maxGossipBytes is a whole block's limit and a little more, the
	// largest message anyone relays.
	maxGossipBytes = 4<<20 + 64<<10
	// maxHeaders is the most headers one answer may hold.
	maxHeaders = 2000
)

// Network names the network the peer claims to be on.
type Network struct {
	Name    string
	Genesis chainhash.Hash
}

// Status is what the peer tells the node in the handshake.
type Status struct {
	Best   chainhash.Hash
	Height int32
	Work   *big.Int
}

// Peer is a hostile peer: a libp2p host with gossip on the block topic and
// handlers for the streams the node opens to it.
type Peer struct {
	host   host.Host
	ps     *pubsub.PubSub
	blocks *pubsub.Topic
	sub    *pubsub.Subscription
	net    Network
	prefix string

	mu      sync.Mutex
	status  Status
	answer  StatusAnswer
	headers func(locator []chainhash.Hash) []wire.BlockHeader
	heard   map[chainhash.Hash]int // block hashes heard on the topic
}

// New starts a peer claiming net, with genesis as its best block until
// SetStatus says otherwise, listening on listen (multiaddrs; none means a
// port on 127.0.0.1). Its TCP dials leave from its listen address, so a
// peer listening on an address of its own connects from it.
func New(ctx context.Context, net Network, listen ...string) (*Peer, error) {
	if len(listen) == 0 {
		listen = []string{"/ip4/127.0.0.1/tcp/0"}
	}
	// Dial from the listen address, not the one the kernel would pick.
	from, err := ma.NewMultiaddr(listen[0])
	if err != nil {
		return nil, fmt.Errorf("hostile: listen address %q: %w", listen[0], err)
	}
	fromIP, err := manet.ToIP(from)
	if err != nil {
		return nil, fmt.Errorf("hostile: listen address %q: %w", listen[0], err)
	}
	dialer := func(ma.Multiaddr) (tcp.ContextDialer, error) {
		return &gonet.Dialer{LocalAddr: &gonet.TCPAddr{IP: fromIP}}, nil
	}
	h, err := libp2p.New(
		libp2p.ListenAddrStrings(listen...),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.Transport(tcp.NewTCPTransport, tcp.WithDialerForAddr(dialer)),
	)
	if err != nil {
		return nil, fmt.Errorf("hostile: start host: %w", err)
	}
	p := &Peer{
		host:   h,
		net:    net,
		prefix: fmt.Sprintf("/cairn/%s/%s", net.Name, hex.EncodeToString(net.Genesis[:8])),
		status: Status{Best: net.Genesis, Work: big.NewInt(0)},
		heard:  make(map[chainhash.Hash]int),
	}
	// Forget what it published after a heartbeat, so that its own
	// copies do not weigh on heap figures taken in the victim's process.
	params := pubsub.DefaultGossipSubParams()
	params.HistoryLength, params.HistoryGossip = 1, 1
	p.ps, err = pubsub.NewGossipSub(ctx, h,
		pubsub.WithGossipSubParams(params),
		// Every message its own ID, so that the router sends each.
		pubsub.WithMessageIdFn(func(m *pb.Message) string {
			sum := sha256.Sum256(m.GetData())
			return string(sum[:])
		}),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithGossipSubProtocols([]protocol.ID{gossipProtocol}, func(feat pubsub.GossipSubFeature, proto protocol.ID) bool {
			return proto == gossipProtocol && feat == pubsub.GossipSubFeatureMesh
		}),
		pubsub.WithMaxMessageSize(maxGossipBytes),
		pubsub.WithFloodPublish(true),
	)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("hostile: gossip: %w", err)
	}
	if p.blocks, err = p.ps.Join(p.prefix + "/blocks/1"); err != nil {
		h.Close()
		return nil, fmt.Errorf("hostile: join the block topic: %w", err)
	}
	if p.sub, err = p.blocks.Subscribe(); err != nil {
		h.Close()
		return nil, fmt.Errorf("hostile: subscribe to the block topic: %w", err)
	}
	go p.listen(ctx)
	h.SetStreamHandler(p.protocol("status"), p.handleStatus)
	h.SetStreamHandler(p.protocol("headers"), p.handleHeaders)
	return p, nil
}

// protocol returns a stream protocol ID of the peer's network.
func (p *Peer) protocol(name string) protocol.ID {
	return protocol.ID(p.prefix + "/" + name + "/1")
}

// Close stops the peer.
func (p *Peer) Close() error { return p.host.Close() }

// ID returns the peer's ID.
func (p *Peer) ID() peer.ID { return p.host.ID() }

// SetStatus sets what the peer claims in handshakes from now on.
func (p *Peer) SetStatus(s Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = s
}

// StatusAnswer is how the peer answers the node's periodic status
// exchanges.
type StatusAnswer int

const (
	// AnswerStatus answers with the peer's status, as an honest peer.
	AnswerStatus StatusAnswer = iota
	// ResetStatus resets the stream unanswered, as a stream fails under
	// a busy peer.
	ResetStatus
	// GarbleStatus answers with bytes that are not a status.
	GarbleStatus
)

// SetStatusAnswer sets how the peer answers the node's status exchanges
// from now on.
func (p *Peer) SetStatusAnswer(a StatusAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer = a
}

// ServeHeaders answers the node's header requests with what fn returns
// for the request's locator (at most 2,000 headers are sent).
func (p *Peer) ServeHeaders(fn func(locator []chainhash.Hash) []wire.BlockHeader) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.headers = fn
}

// Connect dials the node at addr (a multiaddr ending in /p2p/<id>), runs
// the status handshake and returns the node's ID.
func (p *Peer) Connect(ctx context.Context, addr string) (peer.ID, error) {
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return "", fmt.Errorf("hostile: %q: %w", addr, err)
	}
	info, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return "", fmt.Errorf("hostile: %q: %w", addr, err)
	}
	if err := p.host.Connect(ctx, *info); err != nil {
		return "", fmt.Errorf("hostile: connect: %w", err)
	}
	// On the connection just made: a closed one is a refusal, not a
	// reason to dial again.
	s, err := p.host.NewStream(network.WithNoDial(ctx, "status"), info.ID, p.protocol("status"))
	if err != nil {
		return "", fmt.Errorf("hostile: status stream: %w", err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	if err := json.NewEncoder(s).Encode(p.wireStatus()); err != nil {
		return "", fmt.Errorf("hostile: send status: %w", err)
	}
	var theirs map[string]any
	if err := json.NewDecoder(io.LimitReader(s, 4096)).Decode(&theirs); err != nil {
		return "", fmt.Errorf("hostile: read status: %w", err)
	}
	return info.ID, nil
}

// Connected reports whether the peer has a connection to node.
func (p *Peer) Connected(node peer.ID) bool {
	return p.host.Network().Connectedness(node) == network.Connected
}

// WaitMeshed waits until node is a peer of the block topic, so that what
// the peer publishes reaches it.
func (p *Peer) WaitMeshed(ctx context.Context, node peer.ID) error {
	for {
		for _, id := range p.blocks.ListPeers() {
			if id == node {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hostile: %v never joined the block topic: %w", node, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// wireStatus is the status message of the peer's claims.
func (p *Peer) wireStatus() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return map[string]any{
		"network": p.net.Name,
		"genesis": p.net.Genesis.String(),
		"best":    p.status.Best.String(),
		"height":  p.status.Height,
		"work":    p.status.Work.Text(16),
	}
}

// handleStatus answers the node's periodic status exchange.
func (p *Peer) handleStatus(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	var theirs map[string]any
	if err := json.NewDecoder(io.LimitReader(s, 4096)).Decode(&theirs); err != nil {
		return
	}
	p.mu.Lock()
	answer := p.answer
	p.mu.Unlock()
	switch answer {
	case ResetStatus:
		_ = s.Reset()
	case GarbleStatus:
		_, _ = s.Write([]byte("{\"network\": [not a status}\n"))
	default:
		_ = json.NewEncoder(s).Encode(p.wireStatus())
	}
}

// handleHeaders answers a headers request with what ServeHeaders gave.
func (p *Peer) handleHeaders(s network.Stream) {
	defer s.Close()
	var req struct {
		Locator []string `json:"locator"`
	}
	if err := json.NewDecoder(io.LimitReader(s, 16<<10)).Decode(&req); err != nil {
		return
	}
	var locator []chainhash.Hash
	for _, h := range req.Locator {
		if hash, err := chainhash.NewHashFromStr(h); err == nil {
			locator = append(locator, *hash)
		}
	}
	p.mu.Lock()
	fn := p.headers
	p.mu.Unlock()
	var headers []wire.BlockHeader
	if fn != nil {
		headers = fn(locator)
	}
	headers = headers[:min(len(headers), maxHeaders)]
	w := bufio.NewWriterSize(s, 64<<10)
	_ = binary.Write(w, binary.LittleEndian, uint32(len(headers)))
	for i := range headers {
		_ = headers[i].Serialize(w)
	}
	_ = w.Flush()
}

// Publish gossips raw on the block topic, whatever it holds.
func (p *Peer) Publish(ctx context.Context, raw []byte) error {
	return p.blocks.Publish(ctx, raw)
}

// listen records the blocks the node forwards on the topic.
func (p *Peer) listen(ctx context.Context) {
	for {
		m, err := p.sub.Next(ctx)
		if err != nil {
			return
		}
		data := m.GetData()
		if len(data) < wire.MaxBlockHeaderPayload {
			continue
		}
		first := sha256.Sum256(data[:wire.MaxBlockHeaderPayload])
		hash := chainhash.Hash(sha256.Sum256(first[:]))
		p.mu.Lock()
		p.heard[hash]++
		p.mu.Unlock()
	}
}

// Heard reports whether a block with this hash arrived on the topic.
func (p *Peer) Heard(hash chainhash.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heard[hash] > 0
}

// Served is what one blocks request brought back.
type Served struct {
	Blocks int   // block frames read
	Bytes  int64 // bytes read, frames and their lengths
}

// GetBlocks asks node for blocks by hash (the list may name one twice,
// or more than a request may) and reads the answer's frames without
// decoding them, until the empty frame, an error or the stream's end.
func (p *Peer) GetBlocks(ctx context.Context, node peer.ID, hashes []chainhash.Hash) (Served, error) {
	req := struct {
		Hashes []string `json:"hashes"`
	}{}
	for _, h := range hashes {
		req.Hashes = append(req.Hashes, h.String())
	}
	return p.request(ctx, node, "getblocks", req)
}

// GetBlockTxn asks node for transactions of a block by index.
func (p *Peer) GetBlockTxn(ctx context.Context, node peer.ID, hash chainhash.Hash, indexes []int) (Served, error) {
	req := struct {
		Hash    string `json:"hash"`
		Indexes []int  `json:"indexes"`
	}{hash.String(), indexes}
	return p.request(ctx, node, "blocktxn", req)
}

// request sends one JSON request on a new stream and counts the
// length-prefixed frames of the answer.
func (p *Peer) request(ctx context.Context, node peer.ID, name string, req any) (Served, error) {
	var got Served
	s, err := p.host.NewStream(ctx, node, p.protocol(name))
	if err != nil {
		return got, err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if err := json.NewEncoder(s).Encode(req); err != nil {
		return got, err
	}
	if err := s.CloseWrite(); err != nil {
		return got, err
	}
	r := bufio.NewReaderSize(s, 64<<10)
	var lenBuf [4]byte
	for {
		if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return got, err
		}
		got.Bytes += 4
		size := int64(binary.LittleEndian.Uint32(lenBuf[:]))
		if size == 0 {
			return got, nil
		}
		n, err := io.CopyN(io.Discard, r, size)
		got.Bytes += n
		if err != nil {
			return got, err
		}
		got.Blocks++
	}
}

// AnnounceTxs announces txs to node on a transaction stream (a count and
// the wtxids), reads which it wants and sends those, each as a
// length-prefixed frame; it returns how many were asked for.
func (p *Peer) AnnounceTxs(ctx context.Context, node peer.ID, txs []*wire.MsgTx) (int, error) {
	s, err := p.host.NewStream(ctx, node, p.protocol("txinv"))
	if err != nil {
		return 0, err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	w := bufio.NewWriter(s)
	_ = binary.Write(w, binary.LittleEndian, uint32(len(txs)))
	for _, tx := range txs {
		h := tx.WitnessHash()
		_, _ = w.Write(h[:])
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	r := bufio.NewReader(s)
	var count uint32
	if err := binary.Read(r, binary.LittleEndian, &count); err != nil {
		return 0, err
	}
	if int(count) > len(txs) {
		return 0, fmt.Errorf("hostile: asked for %d of %d transactions", count, len(txs))
	}
	for i := uint32(0); i < count; i++ {
		var idx uint32
		if err := binary.Read(r, binary.LittleEndian, &idx); err != nil {
			return 0, err
		}
		if int(idx) >= len(txs) {
			return 0, fmt.Errorf("hostile: asked for transaction %d of %d", idx, len(txs))
		}
		var buf bytes.Buffer
		if err := txs[idx].Serialize(&buf); err != nil {
			return 0, err
		}
		_ = binary.Write(w, binary.LittleEndian, uint32(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if err := s.CloseWrite(); err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, r) // until the node closes the stream
	return int(count), nil
}

// Addrs returns the peer's listen addresses.
func (p *Peer) Addrs() []ma.Multiaddr { return p.host.Addrs() }
