package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool"
)

// maxTxGossipBytes bounds a gossiped transaction: no pool relays one of
// more weight than the standard limit, and its bytes never exceed its
// weight.
const maxTxGossipBytes = mempool.MaxStandardTxWeight

// gossipedMemory is how long a gossiped block's hash is remembered so that
// its connection is not announced again.
const gossipedMemory = 10 * time.Minute

// topicNames returns the full-block, compact-block and transaction topics
// of the network.
func (n *Node) topicNames() (blocks, compact, txs string) {
	return n.prefix + "/blocks/1", n.prefix + "/cmpct/1", n.prefix + "/txs/1"
}

// joinTopics joins the block and transaction topics with their validators.
func (n *Node) joinTopics() error {
	blockTopic, compactTopic, txTopic := n.topicNames()
	if err := n.ps.RegisterTopicValidator(blockTopic, pubsub.ValidatorEx(n.validateBlock)); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if err := n.ps.RegisterTopicValidator(compactTopic, pubsub.ValidatorEx(n.validateCompact)); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if err := n.ps.RegisterTopicValidator(txTopic, pubsub.ValidatorEx(n.validateTx)); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	var err error
	if n.blocks, err = n.ps.Join(blockTopic); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if n.compact, err = n.ps.Join(compactTopic); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if n.txs, err = n.ps.Join(txTopic); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	return nil
}

// validateBlock runs the node's full checks on a gossiped block before it
// is forwarded: undecodable, bad proof of work or invalid by consensus is
// rejected (the sender is penalized); a block whose parent is unknown is
// ignored and starts a sync with the sender; a known block is ignored.
func (n *Node) validateBlock(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == n.host.ID() {
		return pubsub.ValidationAccept // our own announcement, already processed
	}
	if len(msg.GetData()) > consensus.MaxBlockBytes {
		n.Misbehaving(from, banScoreLimit, "oversized block message")
		return pubsub.ValidationReject
	}
	block, err := consensus.DecodeBlock(msg.GetData())
	if err != nil {
		n.Misbehaving(from, banScoreLimit, "undecodable block")
		return pubsub.ValidationReject
	}
	hash := consensus.BlockHash(&block.Header)
	if n.cfg.Chain.HaveBlock(hash) {
		return pubsub.ValidationIgnore
	}
	if err := consensus.CheckBlockHeaderSanity(&block.Header, n.cfg.Chain.Network().Consensus.PowLimit); err != nil {
		n.Misbehaving(from, banScoreLimit, "block without proof of work")
		return pubsub.ValidationReject
	}
	res, _ := n.acceptGossipedBlock(from, hash, block, false)
	return res
}

// acceptGossipedBlock processes a gossiped block (whole or rebuilt from a
// compact one): a valid block is accepted (and so forwarded), one whose
// parent is unknown waits in the orphan pool while sync fetches its
// ancestors, and one invalid by consensus is rejected and its sender
// penalized. A block whose body does not match its header is the sender's
// doing when it sent the block whole (it validated what it forwarded), but
// not when the node rebuilt the body from a compact block (rebuilt): a
// short-ID collision does that. The chain's error comes with the verdict.
func (n *Node) acceptGossipedBlock(from peer.ID, hash chainhash.Hash, block *wire.MsgBlock, rebuilt bool) (pubsub.ValidationResult, error) {
	n.rememberGossiped(hash)
	res, err := n.cfg.Chain.ProcessBlock(block)
	switch {
	case err == nil:
		if res.MainChain {
			n.log.Debug("block from peer", "peer", from, "hash", hash)
		}
		return pubsub.ValidationAccept, nil
	case errors.Is(err, chain.ErrMissingParent):
		// Keep it while sync fetches the ancestors; it is not forwarded
		// now, but announced when it connects (adoptOrphans).
		n.orphans.add(block, time.Now())
		n.sync.syncWith(n.ctx, from)
		return pubsub.ValidationIgnore, err
	case consensus.IsMutationError(err) && !rebuilt:
		// The genuine block has this message's ID, so gossip now drops
		// it as a duplicate: ask every peer where its chain is, and sync
		// fetches the block from one that has it.
		n.Misbehaving(from, banScoreLimit, "block body does not match its header: "+chain.RejectReason(err))
		go n.refreshStatuses(n.ctx)
		return pubsub.ValidationReject, err
	case errors.Is(err, chain.ErrDuplicateBlock), errors.Is(err, chain.ErrTimeTooNew),
		consensus.IsMutationError(err):
		// Not provably the sender's fault: a clock difference, or a
		// rebuilt body that went wrong.
		return pubsub.ValidationIgnore, err
	case chain.RejectReason(err) != "":
		n.Misbehaving(from, banScoreLimit, "invalid block: "+chain.RejectReason(err))
		return pubsub.ValidationReject, err
	}
	n.log.Warn("processing gossiped block", "hash", hash, "err", err)
	return pubsub.ValidationIgnore, err
}

// validateTx offers a gossiped transaction to the pool: accepted ones are
// forwarded, invalid ones rejected, and policy refusals (fees, orphans,
// duplicates) ignored.
func (n *Node) validateTx(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == n.host.ID() {
		return pubsub.ValidationAccept
	}
	if len(msg.GetData()) > maxTxGossipBytes {
		n.Misbehaving(from, banScoreLimit, "oversized transaction message")
		return pubsub.ValidationReject
	}
	if n.cfg.Mempool == nil {
		return pubsub.ValidationIgnore
	}
	tx, err := consensus.DecodeTx(msg.GetData())
	if err != nil {
		n.Misbehaving(from, banScoreLimit, "undecodable transaction")
		return pubsub.ValidationReject
	}
	res, err := n.cfg.Mempool.ProcessTransaction(tx, true)
	if err != nil {
		var re *mempool.RejectError
		if errors.As(err, &re) && re.Code == mempool.RejectInvalid {
			n.Misbehaving(from, banScoreLimit/10, "invalid transaction: "+re.Reason)
			return pubsub.ValidationReject
		}
		return pubsub.ValidationIgnore
	}
	if res.Orphaned || len(res.Accepted) == 0 {
		return pubsub.ValidationIgnore
	}
	return pubsub.ValidationAccept
}

// rememberGossiped notes a block that arrived by gossip.
func (n *Node) rememberGossiped(hash chainhash.Hash) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	n.gossiped[hash] = now
	for h, t := range n.gossiped {
		if now.Sub(t) > gossipedMemory {
			delete(n.gossiped, h)
		}
	}
}

// announceBlock publishes a newly connected block, whole or compact as
// Config.BlockRelay says, unless it came by gossip (GossipSub forwards
// those itself).
func (n *Node) announceBlock(ctx context.Context, hash chainhash.Hash, block *wire.MsgBlock) {
	n.mu.Lock()
	_, fromGossip := n.gossiped[hash]
	n.mu.Unlock()
	if fromGossip {
		return
	}
	topic, data := n.compact, []byte(nil)
	if n.cfg.BlockRelay == RelayFull {
		var buf bytes.Buffer
		if err := block.Serialize(&buf); err != nil {
			return
		}
		topic, data = n.blocks, buf.Bytes()
	} else {
		data = newCompactBlock(block).encode()
	}
	if err := topic.Publish(ctx, data); err != nil {
		n.log.Debug("publish block", "hash", hash, "err", err)
	}
}

// PublishTx announces a transaction the local pool accepted (from RPC).
//
// It returns at once: the publication waits (up to txPublishWait) until a
// peer has joined the topic, since a message published earlier reaches no
// one, as after a reorganization that follows a reconnection.
func (n *Node) PublishTx(ctx context.Context, tx *wire.MsgTx) {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return
	}
	go func() {
		pctx, cancel := context.WithTimeout(ctx, txPublishWait)
		defer cancel()
		if err := n.txs.Publish(pctx, buf.Bytes(), pubsub.WithReadiness(pubsub.MinTopicSize(1))); err != nil {
			n.log.Debug("publish transaction", "txid", consensus.TxHash(tx), "err", err)
		}
	}()
}

// PublishReturnedTx publishes a transaction a reorganization returned to
// the pool once every handshaken peer has joined the transaction topic,
// or after returnedTxWait. A reorganization usually follows a new
// connection (a partition healing), and the new peer's topic
// subscription may arrive after the reorganization: published at once,
// the transaction would reach only the old peers, which already had it.
//
// Gossip alone is not enough: a transaction that travelled by gossip
// before it was mined is in the gossip router's seen cache (two minutes),
// here and at the peers of its side, and publishing it again is a no-op.
// So it is also pushed to every peer over a stream; a peer whose pool
// takes it publishes it as new to its own side.
func (n *Node) PublishReturnedTx(ctx context.Context, tx *wire.MsgTx) {
	go func() {
		deadline := time.Now().Add(returnedTxWait)
		for time.Now().Before(deadline) && ctx.Err() == nil && !n.allPeersInTxTopic() {
			time.Sleep(50 * time.Millisecond)
		}
		n.PublishTx(ctx, tx)
		n.pushTx(ctx, tx)
	}()
}

// pushTx sends tx to every handshaken peer over the "tx" stream.
func (n *Node) pushTx(ctx context.Context, tx *wire.MsgTx) {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return
	}
	n.mu.Lock()
	var peers []peer.ID
	for id, ps := range n.peers {
		if ps.status != nil {
			peers = append(peers, id)
		}
	}
	n.mu.Unlock()
	for _, p := range peers {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := n.host.NewStream(network.WithNoDial(sctx, "tx push"), p, n.protocol("tx"))
		cancel()
		if err != nil {
			continue
		}
		_ = s.SetDeadline(time.Now().Add(10 * time.Second))
		frame := binary.LittleEndian.AppendUint32(nil, uint32(buf.Len()))
		_, _ = s.Write(append(frame, buf.Bytes()...))
		_ = s.Close()
	}
}

// handleTxPush takes a transaction a peer pushed (one a reorganization
// returned to its pool) into the pool, and publishes it if the pool
// accepts it: to this node's side of the network it is new.
func (n *Node) handleTxPush(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	if !n.admitRequest(p, "tx push") {
		_ = s.Reset()
		return
	}
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	tx, err := readTxFrame(s)
	if err != nil {
		if errors.Is(err, errMalformed) {
			n.Misbehaving(p, banScoreLimit, "pushed "+err.Error())
		}
		_ = s.Reset()
		return
	}
	if n.cfg.Mempool == nil {
		return
	}
	res, err := n.cfg.Mempool.ProcessTransaction(tx, true)
	if err != nil {
		var re *mempool.RejectError
		if errors.As(err, &re) && re.Code == mempool.RejectInvalid {
			n.Misbehaving(p, banScoreLimit/10, "pushed an invalid transaction: "+re.Reason)
		}
		return
	}
	if len(res.Accepted) > 0 {
		n.PublishTx(n.ctx, tx)
	}
}

// returnedTxWait bounds how long a returned transaction waits for the
// peers to join the topic.
const returnedTxWait = 5 * time.Second

// allPeersInTxTopic reports whether every handshaken peer is subscribed
// to the transaction topic.
func (n *Node) allPeersInTxTopic() bool {
	in := make(map[peer.ID]bool)
	for _, p := range n.txs.ListPeers() {
		in[p] = true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, ps := range n.peers {
		if ps.status != nil && !in[id] {
			return false
		}
	}
	return true
}

// txPublishWait bounds how long a transaction waits for a peer to
// publish to.
const txPublishWait = 30 * time.Second
