package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p/core/network"
)

// The sync protocols: headers by block locator, then blocks by hash. The
// downloader that drives them is in download.go.

// Limits of the sync streams.
const (
	// maxHeadersPerResponse is how many headers one answer holds (160 KB).
	maxHeadersPerResponse = 2000
	// maxBlocksPerRequest is how many blocks one request may name; 16
	// blocks of the largest size are 64 MB.
	maxBlocksPerRequest = 16
	// maxBlockRequestsPerPeer is how many block (and blocktxn) requests
	// a peer may have open with us at once; the downloader keeps at most
	// streamsPerPeer, and the slack covers a handler that has answered
	// but not yet returned.
	maxBlockRequestsPerPeer = 4
	// maxHeaderRequestsPerPeer: the downloader asks one peer for headers
	// one request after another.
	maxHeaderRequestsPerPeer = 2
	maxLocatorHashes         = 101
	syncRequestTimeout       = 2 * time.Minute
)

// headersRequest asks for the main-chain headers after the first locator
// hash the responder has on its main chain.
type headersRequest struct {
	Locator []string `json:"locator"`
}

// getBlocksRequest asks for blocks by hash.
type getBlocksRequest struct {
	Hashes []string `json:"hashes"`
}

// handleHeadersRequest answers a headers request with a count and that
// many 80-byte headers.
func (n *Node) handleHeadersRequest(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	release, ok := n.openRequest(s, maxHeaderRequestsPerPeer, "headers", syncRequestTimeout)
	if !ok {
		return
	}
	defer release()
	locator, err := decodeHeadersRequest(s)
	if err != nil {
		n.Misbehaving(p, banScoreLimit/2, err.Error())
		_ = s.Reset()
		return
	}
	headers := n.shownHeaders(n.cfg.Chain.LocateHeaders(locator, chainhash.Hash{}, maxHeadersPerResponse))
	w := bufio.NewWriter(s)
	_ = binary.Write(w, binary.LittleEndian, uint32(len(headers)))
	for i := range headers {
		if err := headers[i].Serialize(w); err != nil {
			return
		}
	}
	_ = w.Flush()
}

// shownHeaders cuts main-chain headers (consecutive, as LocateHeaders
// returns them) after the block a Gate shows as the tip: the headers of
// blocks it holds back would tell peers of a chain with more work than
// any they can fetch, and they would wait for it, announcing nothing of
// their own (a selfish miner on thirty nodes froze the honest ones so).
func (n *Node) shownHeaders(headers []wire.BlockHeader) []wire.BlockHeader {
	if n.cfg.Gate == nil || len(headers) == 0 {
		return headers
	}
	shown, ok := n.cfg.Gate.Shown()
	if !ok {
		return headers
	}
	for i := range headers {
		if headers[i].BlockHash() == shown {
			return headers[:i+1]
		}
	}
	// All above the shown block, or all below it.
	info, err := n.cfg.Chain.BlockInfo(shown)
	first, ferr := n.cfg.Chain.BlockInfo(headers[0].BlockHash())
	if err != nil || ferr != nil || first.Height > info.Height {
		return nil
	}
	return headers
}

// handleGetBlocks answers a blocks request with the requested blocks it
// holds, in the order asked, as length-prefixed frames ending with a zero
// length. A block it lacks is left out.
func (n *Node) handleGetBlocks(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	release, ok := n.openRequest(s, maxBlockRequestsPerPeer, "block", syncRequestTimeout)
	if !ok {
		return
	}
	defer release()
	hashes, err := decodeGetBlocks(s)
	if err != nil {
		n.Misbehaving(p, banScoreLimit/2, err.Error())
		_ = s.Reset()
		return
	}
	w := bufio.NewWriter(s)
	ctx, cancel := context.WithTimeout(n.ctx, syncRequestTimeout)
	defer cancel()
	var size [4]byte
	for _, h := range hashes {
		// The stored bytes as they are: serving costs a read, not a
		// decode and an encode.
		raw, err := n.cfg.Chain.RawBlock(h)
		if err != nil {
			n.blocksUnserved.Add(1)
			continue
		}
		if err := n.served.wait(ctx, p, len(raw)); err != nil {
			_ = s.Reset() // over its byte rate for longer than a request lasts
			return
		}
		binary.LittleEndian.PutUint32(size[:], uint32(len(raw)))
		if _, err := w.Write(size[:]); err != nil {
			return
		}
		if _, err := w.Write(raw); err != nil {
			return
		}
		n.blocksServed.Add(1)
	}
	_, _ = w.Write([]byte{0, 0, 0, 0})
	_ = w.Flush()
}

// encodeRequest writes a JSON request and closes the stream for writing.
func encodeRequest(s network.Stream, req any) error {
	if err := json.NewEncoder(s).Encode(req); err != nil {
		return err
	}
	return s.CloseWrite()
}
