package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/mempool/policy"
)

// maxTxRelayBytes bounds a relayed transaction: no pool relays one of
// more weight than the standard limit, and its bytes never exceed its
// weight.
const maxTxRelayBytes = policy.MaxStandardTxWeight

// gossipedMemory is how long a gossiped block's hash is remembered so that
// its connection is not announced again.
const gossipedMemory = 10 * time.Minute

// topicNames returns the full-block and compact-block topics of the
// network. Transactions are not gossiped: they are announced and fetched
// (txrelay.go).
func (n *Node) topicNames() (blocks, compact string) {
	return n.prefix + "/blocks/1", n.prefix + "/cmpct/1"
}

// How many gossip messages of each block topic are validated at once
// (pubsub's default is 1,024): a whole block may decode to some 90 MB.
// The whole blocks being decoded together take at most maxDecodeBytes (a
// larger one takes it all).
const (
	blockValidators   = 4
	compactValidators = 8
	maxDecodeBytes    = 64 << 20
)

// joinTopics joins the block topics with their validators.
func (n *Node) joinTopics() error {
	blockTopic, compactTopic := n.topicNames()
	// Few validations at once per topic: pubsub drops what comes beyond
	// them ("validation throttled", no penalty), instead of decoding a
	// flood all at once. Compact blocks may wait for their transactions, so they get
	// more room.
	if err := n.ps.RegisterTopicValidator(blockTopic, pubsub.ValidatorEx(n.validateBlock),
		pubsub.WithValidatorConcurrency(blockValidators)); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if err := n.ps.RegisterTopicValidator(compactTopic, pubsub.ValidatorEx(n.validateCompact),
		pubsub.WithValidatorConcurrency(compactValidators)); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	var err error
	if n.blocks, err = n.ps.Join(blockTopic); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if n.compact, err = n.ps.Join(compactTopic); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	return nil
}

// validateBlock runs the node's checks on a gossiped block before it is
// forwarded. The 80-byte header is judged first, before the body is
// decoded (a 4 MB message can decode to some 90 MB): without proof of
// work, or known to be invalid, it is rejected and the sender penalized;
// known, or on a chain with less work than the tip, it is ignored (see
// screenHeader). Then the body: undecodable or invalid by consensus is
// rejected; a block whose parent is unknown is ignored, kept as an orphan
// and starts a sync with the sender.
func (n *Node) validateBlock(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == n.host.ID() {
		return pubsub.ValidationAccept // our own announcement, already processed
	}
	defer n.blocksJudged.Add(1)
	data := msg.GetData()
	if len(data) > consensus.MaxBlockBytes {
		n.Misbehaving(from, banScoreLimit, "oversized block message")
		return pubsub.ValidationReject
	}
	var header wire.BlockHeader
	if len(data) < wire.MaxBlockHeaderPayload || header.Deserialize(bytes.NewReader(data[:wire.MaxBlockHeaderPayload])) != nil {
		n.Misbehaving(from, banScoreLimit, "undecodable block")
		return pubsub.ValidationReject
	}
	if res, done := n.screenHeader(from, &header, "block"); done {
		return res
	}
	// What the body takes decoded, scanned from its bytes before decoding
	// them. A block whose parent is unknown can only wait in the orphan
	// pool, which keeps none over a peer's share: such a block is not
	// decoded at all. The others share decodeBudget, so that a flood
	// queues as bytes rather than as decoded blocks.
	scanned, err := consensus.ScanBlock(data)
	if err != nil {
		n.Misbehaving(from, banScoreLimit, "undecodable block")
		return pubsub.ValidationReject
	}
	size := scanned.DecodedSize
	if size > maxOrphanBytesPerPeer && !n.cfg.Chain.HaveHeader(header.PrevBlock) {
		n.log.Debug("orphan block not kept: too large", "peer", from, "hash", header.BlockHash(), "decoded_bytes", size)
		n.sync.syncWith(n.ctx, from)
		return pubsub.ValidationIgnore
	}
	weight := int64(min(size, maxDecodeBytes))
	if err := n.decodeBudget.Acquire(ctx, weight); err != nil {
		return pubsub.ValidationIgnore
	}
	defer n.decodeBudget.Release(weight)
	block, err := scanned.Decode()
	if err != nil {
		n.Misbehaving(from, banScoreLimit, "undecodable block")
		return pubsub.ValidationReject
	}
	res, _ := n.acceptGossipedBlock(from, consensus.BlockHash(&block.Header), block, false)
	return res
}

// unwantedRate and unwantedBurst bound how many blocks on chains with
// less work than the tip a peer may send before each costs it
// unwantedPenalty: an honest peer sends one now and then, when two miners
// race or a partition heals, never a stream of them.
const (
	unwantedRate    = rate.Limit(1.0 / 60)
	unwantedBurst   = 10
	unwantedPenalty = 10
)

// screenHeader judges a peer's block (whole or compact) by its header
// alone, as Bitcoin Core's net_processing checks a block's header and its
// chain's work before it looks at the body: it reports done with the
// verdict when the body need not be decoded. A header without valid proof
// of work, or of a block known to be invalid, is the sender's fault. A
// block already stored, or on a chain with less work than the tip (which
// Core's AcceptBlock does not store unrequested), is ignored: it is not
// forwarded either, and a peer that keeps sending such blocks is
// penalized.
func (n *Node) screenHeader(from peer.ID, h *wire.BlockHeader, kind string) (pubsub.ValidationResult, bool) {
	if n.cfg.Gate != nil {
		n.cfg.Gate.PeerBlock(h)
	}
	err := n.cfg.Chain.WantsUnrequested(h)
	switch {
	case err == nil:
		return pubsub.ValidationIgnore, false
	case errors.Is(err, chain.ErrMissingParent):
		// Only worth decoding for the orphan pool if it could be a block
		// just ahead of the chain (addOrphan).
		if !n.nearTipTarget(h) {
			n.log.Debug("orphan block not kept: its target is far easier than the tip's", "peer", from, "hash", h.BlockHash())
			return pubsub.ValidationIgnore, true
		}
		return pubsub.ValidationIgnore, false
	case errors.Is(err, chain.ErrDuplicateBlock):
		return pubsub.ValidationIgnore, true
	case errors.Is(err, chain.ErrNotWanted):
		n.log.Debug("peer's block not stored", "peer", from, "err", err)
		// A node holding back its own blocks is ahead of its peers'
		// chain by its own doing: their blocks are no fault of theirs.
		if n.cfg.Gate == nil && !n.unwanted.allow(from) {
			n.Misbehaving(from, unwantedPenalty, "keeps sending blocks on chains with less work than the tip")
		}
		return pubsub.ValidationIgnore, true
	case errors.Is(err, chain.ErrHighHash), errors.Is(err, chain.ErrUnexpectedDifficulty):
		n.Misbehaving(from, banScoreLimit, kind+" without proof of work")
		return pubsub.ValidationReject, true
	case chain.RejectReason(err) != "":
		n.Misbehaving(from, banScoreLimit, "invalid "+kind+": "+chain.RejectReason(err))
		return pubsub.ValidationReject, true
	}
	n.log.Warn("judging a peer's block header", "peer", from, "err", err)
	return pubsub.ValidationIgnore, true
}

// acceptGossipedBlock processes a gossiped block (whole or rebuilt from a
// compact one), which the node did not ask for: a valid block is stored
// when its chain has at least the tip's work (chain's
// ProcessUnrequestedBlock), and forwarded only when it became the tip or
// is the best header's block, so that gossip carries the best chain and
// nothing else. One whose parent is unknown waits in the orphan pool while
// sync fetches its ancestors; one invalid by consensus is rejected and its
// sender penalized. A block whose body does not match its header is the
// sender's doing when it sent the block whole (it validated what it
// forwarded), but not when the node rebuilt the body from a compact block
// (rebuilt): a short-ID collision does that. The chain's error comes with
// the verdict.
func (n *Node) acceptGossipedBlock(from peer.ID, hash chainhash.Hash, block *wire.MsgBlock, rebuilt bool) (pubsub.ValidationResult, error) {
	n.rememberGossiped(hash)
	res, err := n.cfg.Chain.ProcessUnrequestedBlock(block)
	switch {
	case err == nil:
		if res.MainChain {
			n.log.Debug("block from peer", "peer", from, "hash", hash)
			return pubsub.ValidationAccept, nil
		}
		if best, _, _ := n.cfg.Chain.BestHeader(); best == hash {
			return pubsub.ValidationAccept, nil
		}
		return pubsub.ValidationIgnore, nil
	case errors.Is(err, chain.ErrMissingParent):
		// Keep it while sync fetches the ancestors; it is not forwarded
		// now, but announced when it connects (adoptOrphans).
		n.addOrphan(from, block)
		n.sync.syncWith(n.ctx, from)
		return pubsub.ValidationIgnore, err
	case errors.Is(err, chain.ErrNotWanted):
		// The tip moved while the body was decoded.
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

// addOrphan keeps a block whose parent is unknown, if it passes the
// context-free checks (merkle root, size, coinbase, transaction sanity:
// Core's CheckBlock) and its target is at most maxOrphanEasier times
// easier than the tip's: a block just ahead of the chain. A block that
// fails the checks is dropped (the body may be mutated; the header is not
// judged), so is one too easy to be near the tip.
func (n *Node) addOrphan(from peer.ID, block *wire.MsgBlock) {
	if !n.nearTipTarget(&block.Header) {
		n.log.Debug("orphan block not kept: its target is far easier than the tip's", "peer", from, "hash", block.BlockHash())
		return
	}
	if _, err := consensus.CheckBlockSanity(block, n.cfg.Chain.Network().Consensus.PowLimit); err != nil {
		n.log.Debug("orphan block not kept", "peer", from, "hash", block.BlockHash(), "err", err)
		return
	}
	if !n.orphans.add(block, from, time.Now()) {
		n.log.Debug("orphan block not kept: too large", "peer", from, "hash", block.BlockHash())
	}
}

// nearTipTarget reports whether h's target is at most maxOrphanEasier
// times easier than the tip's: whether it could be a block just ahead of
// the chain, whose parent the node has not seen yet.
func (n *Node) nearTipTarget(h *wire.BlockHeader) bool {
	tipWork := consensus.CalcWork(n.cfg.Chain.BestSnapshot().Bits)
	work := consensus.CalcWork(h.Bits)
	return work.Mul(work, big.NewInt(maxOrphanEasier)).Cmp(tipWork) >= 0
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
