package p2p

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

// Limits of the block-locator sync stream.
const (
	maxBlocksPerResponse = 500
	maxResponseBytes     = 64 << 20
	syncRequestTimeout   = 2 * time.Minute
	maxLocatorHashes     = 101
)

// blocksRequest asks for the main-chain blocks after the first locator
// hash the responder has on its main chain.
type blocksRequest struct {
	Locator []string `json:"locator"`
}

// handleBlocksRequest answers a blocks request with length-prefixed
// serialized blocks, ending with a zero length.
func (n *Node) handleBlocksRequest(s network.Stream) {
	defer s.Close()
	if !n.admitRequest(s.Conn().RemotePeer(), "blocks") {
		_ = s.Reset()
		return
	}
	_ = s.SetDeadline(time.Now().Add(syncRequestTimeout))
	locator, err := decodeBlocksRequest(s)
	if err != nil {
		n.Misbehaving(s.Conn().RemotePeer(), banScoreLimit/2, err.Error())
		_ = s.Reset()
		return
	}
	w := bufio.NewWriter(s)
	sent := 0
	for _, hdr := range n.cfg.Chain.LocateHeaders(locator, chainhash.Hash{}, maxBlocksPerResponse) {
		block, err := n.cfg.Chain.BlockByHash(hdr.BlockHash())
		if err != nil {
			break
		}
		var buf bytes.Buffer
		_ = block.Serialize(&buf)
		if sent+buf.Len() > maxResponseBytes {
			break
		}
		var lenBuf [4]byte
		binary.LittleEndian.PutUint32(lenBuf[:], uint32(buf.Len()))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		sent += buf.Len()
	}
	_, _ = w.Write([]byte{0, 0, 0, 0})
	_ = w.Flush()
}

// syncFrom fetches blocks from p by block locator until p has nothing we
// lack. One sync runs per peer at a time.
func (n *Node) syncFrom(ctx context.Context, p peer.ID) {
	n.mu.Lock()
	if n.syncing[p] {
		n.mu.Unlock()
		return
	}
	n.syncing[p] = true
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.syncing, p)
		n.mu.Unlock()
	}()
	for ctx.Err() == nil {
		got, err := n.requestBlocks(ctx, p)
		if err != nil {
			n.log.Debug("sync", "peer", p, "err", err)
			return
		}
		if got == 0 {
			return
		}
		n.log.Info("synced blocks", "peer", p, "blocks", got, "height", n.cfg.Chain.BestSnapshot().Height)
	}
}

// requestBlocks runs one blocks request and processes the answer, returning
// how many new blocks it connected or stored.
func (n *Node) requestBlocks(ctx context.Context, p peer.ID) (int, error) {
	locator, err := n.cfg.Chain.BlockLocator(nil)
	if err != nil {
		return 0, err
	}
	req := blocksRequest{}
	for _, h := range locator {
		req.Locator = append(req.Locator, h.String())
	}
	sctx, cancel := context.WithTimeout(ctx, syncRequestTimeout)
	defer cancel()
	s, err := n.host.NewStream(network.WithNoDial(sctx, "sync"), p, n.protocol("blocks"))
	if err != nil {
		return 0, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(syncRequestTimeout))
	if err := json.NewEncoder(s).Encode(req); err != nil {
		return 0, err
	}
	r := bufio.NewReader(s)
	added := 0
	for i := 0; i <= maxBlocksPerResponse; i++ {
		block, err := readBlockFrame(r)
		if errors.Is(err, errMalformed) {
			n.Misbehaving(p, banScoreLimit, "sent "+err.Error())
			return added, err
		}
		if err != nil {
			return added, err
		}
		if block == nil {
			return added, nil
		}
		_, err = n.cfg.Chain.ProcessBlock(block)
		switch {
		case err == nil:
			added++
		case errors.Is(err, chain.ErrDuplicateBlock):
		case chain.RejectReason(err) != "" && !consensus.IsMutationError(err) && !errors.Is(err, chain.ErrTimeTooNew):
			n.Misbehaving(p, banScoreLimit, "sent an invalid block: "+chain.RejectReason(err))
			return added, err
		default:
			return added, err
		}
	}
	return added, errors.New("peer sent more blocks than allowed")
}
