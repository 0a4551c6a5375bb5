package p2p

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/dchest/siphash"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/minio/sha256-simd"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

// Compact block relay, after BIP152 (high-bandwidth mode, version 2): a
// block is announced as its header, a nonce, the coinbase, and a 6-byte
// short ID of each other transaction's wtxid. A receiver rebuilds the
// block from its mempool and asks the peer that forwarded the announcement
// for the transactions it lacks. Every node joins both the full-block and
// the compact topic, so nodes of either relay mode understand each other;
// Config.BlockRelay picks the topic a node announces its own blocks on.

// BlockRelay selects how a node announces the blocks it connects.
type BlockRelay int

const (
	// RelayCompact announces compact blocks (the default: see the
	// measurement in the README).
	RelayCompact BlockRelay = iota
	// RelayFull announces whole blocks.
	RelayFull
)

// Limits of compact blocks.
const (
	// maxCompactTxs bounds a compact block's transactions: none is
	// smaller than 60 bytes.
	maxCompactTxs = consensus.MaxBlockBytes / 60
	// blockTxnTimeout bounds fetching the missing transactions.
	blockTxnTimeout = 10 * time.Second
	shortIDBytes    = 6
	// relayFailPenalty scores a peer that relayed a compact block and
	// did not complete it: a slow link may do that once in a while, five
	// times is a peer holding blocks back.
	relayFailPenalty = banScoreLimit / 5
)

// compactBlock is a block announced by short transaction IDs.
type compactBlock struct {
	header    wire.BlockHeader
	nonce     uint64
	shortIDs  []uint64
	prefilled []prefilledTx
}

// prefilledTx is a transaction sent whole, at its index in the block.
type prefilledTx struct {
	index int
	tx    *wire.MsgTx
	raw   []byte
}

// txCount is the number of transactions of the block.
func (c *compactBlock) txCount() int { return len(c.shortIDs) + len(c.prefilled) }

// newCompactBlock describes block with the coinbase sent whole.
func newCompactBlock(block *wire.MsgBlock) *compactBlock {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	c := &compactBlock{header: block.Header, nonce: binary.LittleEndian.Uint64(nonce[:])}
	k0, k1 := c.keys()
	var buf bytes.Buffer
	_ = block.Transactions[0].Serialize(&buf)
	c.prefilled = []prefilledTx{{index: 0, tx: block.Transactions[0], raw: buf.Bytes()}}
	for _, tx := range block.Transactions[1:] {
		c.shortIDs = append(c.shortIDs, shortID(k0, k1, consensus.WitnessHash(tx)))
	}
	return c
}

// keys are the SipHash keys of the block's short IDs: the first 16 bytes
// of SHA-256 over the header and nonce.
func (c *compactBlock) keys() (k0, k1 uint64) {
	var buf bytes.Buffer
	_ = c.header.Serialize(&buf)
	_ = binary.Write(&buf, binary.LittleEndian, c.nonce)
	sum := sha256.Sum256(buf.Bytes())
	return binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])
}

// shortID is the 6-byte short ID of a wtxid.
func shortID(k0, k1 uint64, wtxid chainhash.Hash) uint64 {
	return siphash.Hash(k0, k1, wtxid[:]) & (1<<(8*shortIDBytes) - 1)
}

// encode serializes c: header, nonce, short ID count and IDs, prefilled
// count and each (index, length, transaction).
func (c *compactBlock) encode() []byte {
	var buf bytes.Buffer
	_ = c.header.Serialize(&buf)
	_ = binary.Write(&buf, binary.LittleEndian, c.nonce)
	_ = wire.WriteVarInt(&buf, 0, uint64(len(c.shortIDs)))
	var id [8]byte
	for _, s := range c.shortIDs {
		binary.LittleEndian.PutUint64(id[:], s)
		buf.Write(id[:shortIDBytes])
	}
	_ = wire.WriteVarInt(&buf, 0, uint64(len(c.prefilled)))
	for _, p := range c.prefilled {
		_ = wire.WriteVarInt(&buf, 0, uint64(p.index))
		_ = wire.WriteVarInt(&buf, 0, uint64(len(p.raw)))
		buf.Write(p.raw)
	}
	return buf.Bytes()
}

// decodeCompactBlock parses a compact block, checking every count against
// the bytes present and the indexes for order and range.
func decodeCompactBlock(data []byte) (*compactBlock, error) {
	r := bytes.NewReader(data)
	bad := func(what string, args ...any) error {
		return fmt.Errorf("%w: compact block: %s", errMalformed, fmt.Sprintf(what, args...))
	}
	var c compactBlock
	if err := c.header.Deserialize(r); err != nil {
		return nil, bad("header: %v", err)
	}
	if err := binary.Read(r, binary.LittleEndian, &c.nonce); err != nil {
		return nil, bad("nonce: %v", err)
	}
	n, err := wire.ReadVarInt(r, 0)
	if err != nil || n > maxCompactTxs || n*shortIDBytes > uint64(r.Len()) {
		return nil, bad("short ID count %d", n)
	}
	c.shortIDs = make([]uint64, n)
	var id [8]byte
	for i := range c.shortIDs {
		_, _ = io.ReadFull(r, id[:shortIDBytes])
		c.shortIDs[i] = binary.LittleEndian.Uint64(id[:])
	}
	n, err = wire.ReadVarInt(r, 0)
	if err != nil || n > maxCompactTxs-uint64(len(c.shortIDs)) || n > uint64(r.Len()) {
		return nil, bad("prefilled count %d", n)
	}
	if n == 0 {
		return nil, bad("no coinbase")
	}
	total := uint64(len(c.shortIDs)) + n
	last := -1
	for range n {
		idx, err := wire.ReadVarInt(r, 0)
		if err != nil || idx >= total || int(idx) <= last {
			return nil, bad("prefilled index %d", idx)
		}
		size, err := wire.ReadVarInt(r, 0)
		if err != nil || size > uint64(r.Len()) {
			return nil, bad("prefilled length %d", size)
		}
		raw := make([]byte, size)
		_, _ = io.ReadFull(r, raw)
		tx, err := consensus.DecodeTx(raw)
		if err != nil {
			return nil, bad("prefilled transaction: %v", err)
		}
		last = int(idx)
		c.prefilled = append(c.prefilled, prefilledTx{index: int(idx), tx: tx, raw: raw})
	}
	if r.Len() != 0 {
		return nil, bad("%d trailing bytes", r.Len())
	}
	return &c, nil
}

// reconstruct fills the block's transactions from the prefilled ones and
// the mempool, returning the indexes it could not fill. Two pool
// transactions with one short ID, or one ID twice, leave the slot empty:
// the peer sends it.
func (c *compactBlock) reconstruct(pool interface {
	TxsMatching(match func(wtxid chainhash.Hash) bool) map[chainhash.Hash]*wire.MsgTx
}) (*wire.MsgBlock, []int) {
	txs := make([]*wire.MsgTx, c.txCount())
	for _, p := range c.prefilled {
		txs[p.index] = p.tx
	}
	slots := make(map[uint64]int, len(c.shortIDs))
	dup := make(map[uint64]bool)
	j := 0
	for i := range txs {
		if txs[i] != nil {
			continue
		}
		id := c.shortIDs[j]
		j++
		if _, ok := slots[id]; ok {
			dup[id] = true
		}
		slots[id] = i
	}
	if pool != nil && len(slots) > 0 {
		k0, k1 := c.keys()
		hits := make(map[uint64]int)
		found := pool.TxsMatching(func(w chainhash.Hash) bool {
			id := shortID(k0, k1, w)
			if _, ok := slots[id]; !ok {
				return false
			}
			hits[id]++
			return true
		})
		for w, tx := range found {
			id := shortID(k0, k1, w)
			if hits[id] == 1 && !dup[id] {
				txs[slots[id]] = tx
			}
		}
	}
	var missing []int
	for i, tx := range txs {
		if tx == nil {
			missing = append(missing, i)
		}
	}
	return &wire.MsgBlock{Header: c.header, Transactions: txs}, missing
}

// blockTxnRequest asks for transactions of a block by index.
type blockTxnRequest struct {
	Hash    string `json:"hash"`
	Indexes []int  `json:"indexes"`
}

// decodeBlockTxnRequest reads a blocktxn request.
func decodeBlockTxnRequest(r io.Reader) (chainhash.Hash, []int, error) {
	var req blockTxnRequest
	if err := json.NewDecoder(io.LimitReader(r, 8*maxCompactTxs)).Decode(&req); err != nil {
		return chainhash.Hash{}, nil, fmt.Errorf("%w: blocktxn request: %v", errMalformed, err)
	}
	hashes, err := decodeHashes([]string{req.Hash}, "block")
	if err != nil {
		return chainhash.Hash{}, nil, err
	}
	if len(req.Indexes) == 0 || len(req.Indexes) > maxCompactTxs {
		return chainhash.Hash{}, nil, fmt.Errorf("%w: blocktxn request of %d indexes", errMalformed, len(req.Indexes))
	}
	for i, idx := range req.Indexes {
		if idx < 0 || idx >= maxCompactTxs || (i > 0 && idx <= req.Indexes[i-1]) {
			return chainhash.Hash{}, nil, fmt.Errorf("%w: blocktxn index %d", errMalformed, idx)
		}
	}
	return hashes[0], req.Indexes, nil
}

// maxBlockTxnDepth is how deep below the tip a block's transactions are
// served by blocktxn (Core's MAX_BLOCKTXN_DEPTH).
const maxBlockTxnDepth = 10

// handleBlockTxn sends the requested transactions of a block, each as a
// length-prefixed frame; a block it lacks, or an index past its end, ends
// the answer early.
func (n *Node) handleBlockTxn(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	release, ok := n.openRequest(s, maxBlockRequestsPerPeer, "blocktxn", blockTxnTimeout)
	if !ok {
		return
	}
	defer release()
	hash, indexes, err := decodeBlockTxnRequest(s)
	if err != nil {
		n.Misbehaving(p, banScoreLimit/2, err.Error())
		_ = s.Reset()
		return
	}
	// Only a block near the tip, as Core answers getblocktxn only within
	// MAX_BLOCKTXN_DEPTH (10) of its tip: a compact block is announced
	// when it is new, so a deeper request is not an honest one, and each
	// answer decodes the whole block. The asker fetches such a block whole.
	info, err := n.cfg.Chain.BlockInfo(hash)
	if err != nil || !info.HaveData || info.Height < n.cfg.Chain.BestSnapshot().Height-maxBlockTxnDepth {
		return
	}
	block, err := n.cfg.Chain.BlockByHash(hash)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, blockTxnTimeout)
	defer cancel()
	if err := n.served.wait(ctx, p, block.SerializeSize()); err != nil {
		_ = s.Reset()
		return
	}
	w := bufio.NewWriter(s)
	var buf bytes.Buffer
	for _, idx := range indexes {
		if idx >= len(block.Transactions) {
			break
		}
		buf.Reset()
		_ = block.Transactions[idx].Serialize(&buf)
		_ = binary.Write(w, binary.LittleEndian, uint32(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	}
	_ = w.Flush()
}

// fetchBlockTxn asks p for the transactions of block hash at indexes.
func (n *Node) fetchBlockTxn(ctx context.Context, p peer.ID, hash chainhash.Hash, indexes []int) ([]*wire.MsgTx, error) {
	ctx, cancel := context.WithTimeout(ctx, blockTxnTimeout)
	defer cancel()
	s, err := n.host.NewStream(network.WithNoDial(ctx, "blocktxn"), p, n.protocol("blocktxn"))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(blockTxnTimeout))
	if err := encodeRequest(s, blockTxnRequest{Hash: hash.String(), Indexes: indexes}); err != nil {
		return nil, err
	}
	r := bufio.NewReader(s)
	txs := make([]*wire.MsgTx, 0, len(indexes))
	budget := uint32(consensus.MaxBlockBytes) // all of them fit in one block
	for range indexes {
		var size uint32
		if err := binary.Read(r, binary.LittleEndian, &size); err != nil {
			return nil, fmt.Errorf("blocktxn: %d of %d transactions: %w", len(txs), len(indexes), err)
		}
		if size > budget {
			return nil, fmt.Errorf("%w: blocktxn transactions over the block size", errMalformed)
		}
		budget -= size
		raw := make([]byte, size)
		if _, err := io.ReadFull(r, raw); err != nil {
			return nil, err
		}
		tx, err := consensus.DecodeTx(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		txs = append(txs, tx)
	}
	return txs, nil
}

// validateCompact rebuilds a gossiped compact block and processes it like
// a full one. The peer that forwarded it has the block (it validated the
// block before forwarding), so the missing transactions come from it; if
// the rebuilt block still does not match its header (a short-ID
// collision), the whole block is fetched from it.
func (n *Node) validateCompact(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == n.host.ID() {
		return pubsub.ValidationAccept
	}
	if len(msg.GetData()) > consensus.MaxBlockBytes {
		n.Misbehaving(from, banScoreLimit, "oversized compact block message")
		return pubsub.ValidationReject
	}
	// The header first: its proof of work and its chain's work decide
	// before anything else is decoded (screenHeader).
	var header wire.BlockHeader
	data := msg.GetData()
	if len(data) < wire.MaxBlockHeaderPayload || header.Deserialize(bytes.NewReader(data[:wire.MaxBlockHeaderPayload])) != nil {
		n.Misbehaving(from, banScoreLimit, "compact block: undecodable header")
		return pubsub.ValidationReject
	}
	if res, done := n.screenHeader(from, &header, "compact block"); done {
		return res
	}
	c, err := decodeCompactBlock(data)
	if err != nil {
		n.Misbehaving(from, banScoreLimit, err.Error())
		return pubsub.ValidationReject
	}
	hash := consensus.BlockHash(&c.header)
	if !n.cfg.Chain.HaveHeader(c.header.PrevBlock) {
		// Sync fetches the branch, this block with it.
		n.sync.syncWith(n.ctx, from)
		return pubsub.ValidationIgnore
	}
	// The header's full checks first (difficulty, time, version): only a
	// valid header, which costs real work, may make the node wait for
	// the transactions.
	if _, err := n.cfg.Chain.ProcessHeaders([]wire.BlockHeader{c.header}); err != nil {
		if chain.RejectReason(err) != "" && !errors.Is(err, chain.ErrTimeTooNew) {
			n.Misbehaving(from, banScoreLimit, "compact block with an invalid header: "+chain.RejectReason(err))
			return pubsub.ValidationReject
		}
		return pubsub.ValidationIgnore
	}
	block, missing := c.reconstruct(n.cfg.Mempool)
	if len(missing) > 0 {
		n.compactStats.fetched.Add(int64(len(missing)))
		txs, err := n.fetchBlockTxn(ctx, from, hash, missing)
		if err != nil {
			return n.relayerFailed(from, hash, "transactions", err)
		}
		for i, idx := range missing {
			block.Transactions[idx] = txs[i]
		}
	}
	n.compactStats.rebuilt.Add(1)
	res, err := n.acceptGossipedBlock(from, hash, block, true)
	if consensus.IsMutationError(err) {
		// A short-ID collision put a wrong transaction in, or the peer
		// sent wrong ones: the chain saw a body that does not match the
		// header, and remembers nothing. The peer sends the block whole.
		n.compactStats.failed.Add(1)
		full, err := n.fetchBlock(ctx, from, hash)
		if err != nil {
			return n.relayerFailed(from, hash, "block", err)
		}
		res, _ = n.acceptGossipedBlock(from, hash, full, false)
	}
	return res
}

// relayerFailed handles a peer that forwarded a compact block and then
// did not serve its transactions or body, which it has (it validated the
// block before forwarding). Gossip now drops the genuine announcement as
// a duplicate of this one, so every peer is asked where its chain is, and
// sync fetches the block (its header is stored) from one that has it.
func (n *Node) relayerFailed(from peer.ID, hash chainhash.Hash, what string, err error) pubsub.ValidationResult {
	go n.refreshStatuses(n.ctx)
	if errors.Is(err, errMalformed) {
		n.Misbehaving(from, banScoreLimit, "sent "+err.Error())
		return pubsub.ValidationReject
	}
	n.Misbehaving(from, relayFailPenalty, "did not serve the "+what+" of a block it relayed")
	n.log.Debug("compact block not completed", "peer", from, "hash", hash, "err", err)
	return pubsub.ValidationIgnore
}

// fetchBlock downloads one block from p.
func (n *Node) fetchBlock(ctx context.Context, p peer.ID, hash chainhash.Hash) (*wire.MsgBlock, error) {
	ctx, cancel := context.WithTimeout(ctx, blockRequestTimeout)
	defer cancel()
	s, err := n.host.NewStream(network.WithNoDial(ctx, "getblocks"), p, n.protocol("getblocks"))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(blockRequestTimeout))
	if err := encodeRequest(s, getBlocksRequest{Hashes: []string{hash.String()}}); err != nil {
		return nil, err
	}
	block, err := readBlockFrame(bufio.NewReader(s))
	if err != nil {
		return nil, err
	}
	if block == nil || consensus.BlockHash(&block.Header) != hash {
		return nil, errors.New("peer did not send the block")
	}
	return block, nil
}
