package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

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

// joinTopics joins the block topics with their validators.
func (n *Node) joinTopics() error {
	blockTopic, compactTopic := n.topicNames()
	if err := n.ps.RegisterTopicValidator(blockTopic, pubsub.ValidatorEx(n.validateBlock)); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	if err := n.ps.RegisterTopicValidator(compactTopic, pubsub.ValidatorEx(n.validateCompact)); err != nil {
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
