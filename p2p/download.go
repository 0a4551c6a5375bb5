package p2p

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

// Headers-first sync, as Bitcoin Core does it: the node first learns the
// headers of the chain with the most work from the peer that claims it,
// then downloads the blocks of that chain in parallel from every peer that
// has them, a few at a time from each, and takes a block away from a peer
// that holds up the whole download.

const (
	// downloadWindow bounds how far above the tip blocks are requested, so
	// that a block that is slow to come holds back a bounded number of
	// unconnected blocks (Core's BLOCK_DOWNLOAD_WINDOW).
	downloadWindow = 1024
	// peerWindow is how many blocks one peer has in flight at most,
	// requested blockBatch at a time (Core's
	// MAX_BLOCKS_IN_TRANSIT_PER_PEER).
	peerWindow = 16
	blockBatch = 8
	// streamsPerPeer is how many block requests one peer has open.
	streamsPerPeer = 2
	// blockRequestTimeout bounds one request of blockBatch blocks.
	blockRequestTimeout = time.Minute
	// defaultStallTimeout is how long the lowest missing block may be in
	// flight, while another peer could fetch it, before it is taken from
	// its peer. It doubles each time it fires (up to maxStallTimeout), so
	// that a network where every peer is slow does not churn, and decays
	// back as blocks arrive (Core's BLOCK_STALLING_TIMEOUT).
	defaultStallTimeout = 2 * time.Second
	maxStallTimeout     = 64 * time.Second
	// stalledRest is how long a peer that stalled, or whose request
	// failed, is not asked for blocks.
	stalledRest = 30 * time.Second
	// headersRest is how long a peer that stalled a headers request, or
	// claimed work its headers did not reach, is not asked for headers.
	headersRest = 10 * time.Minute
	// headersPenalty is what either costs the peer.
	headersPenalty = banScoreLimit / 5
	// statusRefreshGap spaces the status refreshes the downloader asks
	// for when no peer is known to have the block it needs next.
	statusRefreshGap = 2 * time.Second
	// progressInterval spaces the download's progress lines.
	progressInterval = 10 * time.Second
)

// downloader schedules headers and block requests.
type downloader struct {
	n    *Node
	kick chan struct{}

	mu sync.Mutex
	// blockSched decides the block requests (schedule.go).
	blockSched
	// headersFrom marks peers whose headers are being fetched, and
	// headersDone the best block each peer had when its headers were
	// last fetched (successfully or not): a peer is not asked again until
	// its best changes, and the next peer by claimed work is asked.
	headersFrom map[peer.ID]bool
	headersDone map[peer.ID]string
	// headersResting maps peers that stalled a headers request or did not
	// deliver the work they claimed to when they may be asked again; it
	// outlives their connections.
	headersResting map[peer.ID]time.Time
	// lastRefresh is when askWhoHas last refreshed the peers' statuses.
	lastRefresh time.Time
	// Progress figures.
	lastLog    time.Time
	lastHeight int32
	// avgBlockBytes is a moving average of the size of blocks received,
	// which bounds the window of a pruning node.
	avgBlockBytes atomic.Int64
}

// minPruneWindow is the least download window of a pruning node.
const minPruneWindow = 2 * peerWindow

// window returns how far above the tip blocks are requested: Core's 1,024,
// or, when the node prunes to a target, as many blocks as a quarter of the
// target holds at the size of those received so far. Blocks stored ahead
// of the tip cannot be pruned until they are connected and 288 deep, so a
// full window of large blocks would carry the files far past the target
// during initial sync.
func (d *downloader) window() int32 {
	ps := d.n.cfg.Chain.PruneState()
	avg := d.avgBlockBytes.Load()
	if !ps.Automatic || avg <= 0 {
		return downloadWindow
	}
	return int32(min(downloadWindow, max(minPruneWindow, ps.Target/4/avg)))
}

// noteBlockSize folds a received block's size into the moving average.
func (d *downloader) noteBlockSize(n int) {
	for {
		old := d.avgBlockBytes.Load()
		next := int64(n)
		if old > 0 {
			next = old + (int64(n)-old)/16
		}
		if d.avgBlockBytes.CompareAndSwap(old, next) {
			return
		}
	}
}

func newDownloader(n *Node) *downloader {
	return &downloader{
		n:           n,
		kick:        make(chan struct{}, 1),
		blockSched:  newBlockSched(defaultStallTimeout),
		headersFrom: make(map[peer.ID]bool),
		headersDone: make(map[peer.ID]string),

		headersResting: make(map[peer.ID]time.Time),
	}
}

// wake asks the scheduler to look again soon.
func (d *downloader) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run schedules until ctx ends.
func (d *downloader) run(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-tick.C:
		}
		d.step(ctx)
	}
}

// candidate is a handshaken peer as the scheduler sees it.
type candidate struct {
	id     peer.ID
	height int32
	// lowest is the lowest height the peer serves (pruned peers).
	lowest int32
	work   *big.Int
	best   string
}

// candidates returns the handshaken peers, most work first.
func (d *downloader) candidates() []candidate {
	d.n.mu.Lock()
	var out []candidate
	for id, ps := range d.n.peers {
		if ps.status != nil {
			out = append(out, candidate{id: id, height: ps.status.Height, lowest: ps.status.lowestServed(),
				work: ps.status.work(), best: ps.status.Best})
		}
	}
	d.n.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].work.Cmp(out[j].work) > 0 })
	return out
}

// step starts what the sync needs now: headers from the peer with the
// most work if it has more than our best header, block requests to every
// peer with room in its window, and the reassignment of a stalled block.
func (d *downloader) step(ctx context.Context) {
	peers := d.candidates()
	if len(peers) == 0 {
		return
	}
	_, _, headerWork := d.n.cfg.Chain.BestHeader()
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	for id, until := range d.headersResting {
		if now.After(until) {
			delete(d.headersResting, id)
		}
	}
	// Headers from the peer claiming the most work beyond ours that has
	// not been asked since its best block changed: a peer that claims
	// work and sends nothing only delays the next one by a request.
	for _, c := range peers {
		if c.work.Cmp(headerWork) <= 0 {
			break
		}
		if d.headersFrom[c.id] {
			break // one headers fetch at a time, from the best peer
		}
		if _, resting := d.headersResting[c.id]; resting {
			continue // the next peer's claim is tried instead
		}
		if d.headersDone[c.id] != c.best {
			d.headersFrom[c.id] = true
			go d.fetchHeaders(ctx, c.id, c.best, c.work)
			break
		}
	}

	window := d.window()
	missing := d.n.cfg.Chain.MissingBlocks(window, int(window))
	if len(missing) == 0 {
		return
	}
	stalled, requests := d.plan(missing, peers, now)
	if stalled != nil {
		d.n.log.Info("peer is stalling the block download; asking another", "peer", stalled.peer,
			"height", missing[0].Height, "waited", now.Sub(stalled.since).Round(time.Millisecond))
		stalled.cancel()
	}
	for _, r := range requests {
		fctx, cancel := context.WithTimeout(ctx, blockRequestTimeout)
		r.fetch.cancel = cancel
		go d.fetchBlocks(fctx, r.fetch, r.batch)
	}
	d.askWhoHas(ctx, missing[0], peers, now)
	d.logProgress(missing, now)
}

// askWhoHas refreshes every peer's status (at most every
// statusRefreshGap) when no peer can be asked for the lowest missing
// block: its header arrived by gossip with a body that could not be used,
// and the peers' last statuses predate the block.
// This function MUST be called with d.mu held.
func (d *downloader) askWhoHas(ctx context.Context, lowest chain.BlockRef, peers []candidate, now time.Time) {
	if _, busy := d.inFlight[lowest.Hash]; busy || now.Sub(d.lastRefresh) < statusRefreshGap {
		return
	}
	for _, c := range peers {
		if _, lacks := d.lacks[c.id][lowest.Hash]; c.height >= lowest.Height && !lacks {
			return // it will be asked
		}
	}
	d.lastRefresh = now
	go d.n.refreshStatuses(ctx)
}

// logProgress writes a progress line every progressInterval while blocks
// are missing.
// This function MUST be called with d.mu held.
func (d *downloader) logProgress(missing []chain.BlockRef, now time.Time) {
	if now.Sub(d.lastLog) < progressInterval {
		return
	}
	height := d.n.cfg.Chain.BestSnapshot().Height
	if !d.lastLog.IsZero() {
		rate := float64(height-d.lastHeight) / now.Sub(d.lastLog).Seconds()
		_, headers, _ := d.n.cfg.Chain.BestHeader()
		peers := 0
		for _, c := range d.perPeer {
			if c > 0 {
				peers++
			}
		}
		d.n.log.Info("downloading blocks", "height", height, "headers", headers, "peers", peers,
			"in_flight", len(d.inFlight), "blocks_per_sec", int(rate), "stalls", d.stalls)
	}
	d.lastLog, d.lastHeight = now, height
}

// fetchHeaders asks p for the headers after our best header, and then
// after the last header it sent, until it has no more; the chain stores
// them. best is p's best block when the fetch began, and claimed the work
// its status claimed then.
//
// Headers are stored only on a chain whose work reaches the chain's
// anti-DoS threshold (Bitcoin Core's net_processing): an answer that ends
// below it is dropped if the peer has no more to send, and presynced
// (presync.go) if it may, so that a peer's low-work headers cost the node
// a bounded amount of memory and nothing on disk.
//
// A peer that stalls a request, or whose headers end (an answer that is
// not full) short of the work it claimed, costs headersPenalty and is not
// asked for headers for headersRest: the next peer's claim is tried. Core
// disconnects a peer that times out a headers request; a claim of work is
// Cairn's own (Core's version message has a height), so a false one is a
// lie no honest node tells, since a node's work only grows.
func (d *downloader) fetchHeaders(ctx context.Context, p peer.ID, best string, claimed *big.Int) {
	defer func() {
		d.mu.Lock()
		delete(d.headersFrom, p)
		d.headersDone[p] = best
		d.mu.Unlock()
		d.wake()
	}()
	from, _, delivered := d.n.cfg.Chain.BestHeader()
	locator, err := d.n.cfg.Chain.BlockLocator(&from)
	if err != nil {
		return
	}
	// ended judges a fetch the peer ended (an empty or short answer) by
	// the work its headers reached.
	ended := func() {
		if claimed != nil && delivered.Cmp(claimed) < 0 {
			d.headersFailed(p, "claimed work its headers do not reach")
		}
	}
	// Every answer must lead past the last: an answer ending where an
	// earlier one did would have the node ask forever.
	visited := map[chainhash.Hash]bool{from: true}
	var ps *headersPresync
	for ctx.Err() == nil {
		headers, err := d.requestHeaders(ctx, p, locator)
		if err != nil {
			switch {
			case errors.Is(err, errMalformed):
				d.n.Misbehaving(p, banScoreLimit, "sent "+err.Error())
			case ctx.Err() == nil && isTimeout(err):
				d.headersFailed(p, "stalled a headers request")
			}
			d.n.log.Debug("headers request", "peer", p, "err", err)
			return
		}
		if len(headers) == 0 {
			ended()
			return
		}
		full := len(headers) == maxHeadersPerResponse
		last := consensus.BlockHash(&headers[len(headers)-1])
		if ps != nil {
			presyncing := ps.redownload == nil
			ready, done, err := ps.feed(headers)
			if err != nil {
				d.presyncFailed(p, err)
				return
			}
			if len(ready) > 0 && !d.storeHeaders(p, ready) {
				return
			}
			if ps.redownload != nil {
				delivered = maxWork(delivered, ps.redownload.work)
			} else {
				delivered = maxWork(delivered, ps.presync.work)
			}
			switch {
			case done:
				// The rest of the chain has enough work: on as usual,
				// from the last header stored.
				ps = nil
				from = consensus.BlockHash(&ready[len(ready)-1])
				if locator, err = d.n.cfg.Chain.BlockLocator(&from); err != nil {
					return
				}
			case presyncing && ps.redownload != nil:
				// The presync reached the threshold: download again
				// from the start, whether or not the answer was full.
				d.n.log.Debug("headers presync reached the anti-DoS threshold; downloading again", "peer", p)
				locator = ps.locator()
			case !full:
				d.n.log.Debug("headers presync ended below the anti-DoS threshold", "peer", p)
				ended()
				return
			default:
				locator = ps.locator()
			}
			continue
		}
		if visited[last] {
			d.n.Misbehaving(p, banScoreLimit/2, "sent headers that lead nowhere new")
			return
		}
		visited[last] = true
		work, err := d.batchWork(headers)
		if err != nil {
			d.n.Misbehaving(p, banScoreLimit/2, "sent "+err.Error())
			return
		}
		delivered = maxWork(delivered, work)
		if threshold := d.n.cfg.Chain.AntiDoSWorkThreshold(); work.Cmp(threshold) < 0 {
			if !full {
				// Core: "Ignoring low-work chain". Not the peer's fault:
				// it may simply be behind, if it said so.
				d.n.log.Debug("headers of a chain below the anti-DoS threshold not stored", "peer", p)
				ended()
				return
			}
			start, err := d.n.cfg.Chain.BlockInfo(headers[0].PrevBlock)
			if err != nil {
				return
			}
			startLocator, err := d.n.cfg.Chain.BlockLocator(&start.Hash)
			if err != nil {
				return
			}
			d.n.log.Debug("headers presync", "peer", p, "from_height", start.Height)
			ps = newHeadersPresync(&d.n.cfg.Chain.Network().Consensus, start, startLocator, threshold, time.Now())
			if _, _, err := ps.feed(headers); err != nil {
				d.presyncFailed(p, err)
				return
			}
			locator = ps.locator()
			continue
		}
		if !d.storeHeaders(p, headers) {
			return
		}
		if !full {
			ended()
			return
		}
		from = last
		if locator, err = d.n.cfg.Chain.BlockLocator(&from); err != nil {
			return
		}
	}
}

// batchWork returns the chain work an answer's headers lead to: that of
// the block the first follows, plus each header's. The headers must form
// one chain from a known block (Core: "non-continuous headers sequence").
func (d *downloader) batchWork(headers []wire.BlockHeader) (*big.Int, error) {
	start, err := d.n.cfg.Chain.BlockInfo(headers[0].PrevBlock)
	if err != nil {
		return nil, fmt.Errorf("%w: headers that do not connect", errMalformed)
	}
	work := new(big.Int).Set(start.ChainWork)
	prev := headers[0].PrevBlock
	for i := range headers {
		if headers[i].PrevBlock != prev {
			return nil, fmt.Errorf("%w: headers that do not form a chain", errMalformed)
		}
		prev = consensus.BlockHash(&headers[i])
		work.Add(work, consensus.CalcWork(headers[i].Bits))
	}
	return work, nil
}

// storeHeaders hands headers to the chain, penalizing p for invalid ones;
// it reports whether the fetch may go on.
func (d *downloader) storeHeaders(p peer.ID, headers []wire.BlockHeader) bool {
	added, err := d.n.cfg.Chain.ProcessHeaders(headers)
	switch {
	case err == nil:
	case errors.Is(err, chain.ErrMissingParent):
		// An answer to our locator always connects.
		d.n.Misbehaving(p, banScoreLimit/2, "sent headers that do not connect")
		return false
	case chain.RejectReason(err) != "" && !errors.Is(err, chain.ErrTimeTooNew):
		d.n.Misbehaving(p, banScoreLimit, "sent an invalid header: "+chain.RejectReason(err))
		return false
	default:
		d.n.log.Debug("headers not stored", "peer", p, "err", err)
		return false
	}
	_, height, _ := d.n.cfg.Chain.BestHeader()
	d.n.log.Info("received headers", "peer", p, "count", added, "best_header", height)
	d.n.retryOrphans()
	d.wake()
	return true
}

// headersFailed costs p headersPenalty and rests it from header requests.
func (d *downloader) headersFailed(p peer.ID, why string) {
	d.mu.Lock()
	d.headersResting[p] = time.Now().Add(headersRest)
	d.mu.Unlock()
	d.n.Misbehaving(p, headersPenalty, why)
}

// maxWork returns the larger of two works.
func maxWork(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &t) && t.Timeout())
}

// presyncFailed ends a presync: invalid headers cost p as an invalid header
// stored would; a chain longer than time allows, or one that changed
// between its two downloads, costs nothing (Core likewise only stops).
func (d *downloader) presyncFailed(p peer.ID, err error) {
	if errors.Is(err, errPresyncInvalid) {
		d.n.Misbehaving(p, banScoreLimit, "sent "+err.Error())
		return
	}
	d.n.log.Debug("headers presync stopped", "peer", p, "err", err)
}

// requestHeaders runs one headers request with p, by locator.
func (d *downloader) requestHeaders(ctx context.Context, p peer.ID, locator []chainhash.Hash) ([]wire.BlockHeader, error) {
	req := headersRequest{}
	for _, h := range locator[:min(len(locator), maxLocatorHashes)] {
		req.Locator = append(req.Locator, h.String())
	}
	timeout := cmp.Or(d.n.cfg.headersTimeout, syncRequestTimeout)
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s, err := d.n.host.NewStream(network.WithNoDial(sctx, "sync"), p, d.n.protocol("headers"))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(timeout))
	if err := encodeRequest(s, req); err != nil {
		return nil, err
	}
	return readHeaders(bufio.NewReader(s))
}

// fetchBlocks requests batch from f's peer and processes what arrives. The
// blocks that did not arrive go back to the scheduler; those the peer
// answered without are not asked of it again.
func (d *downloader) fetchBlocks(ctx context.Context, f *blockFetch, batch []chain.BlockRef) {
	p := f.peer
	pending := make(map[chainhash.Hash]bool, len(batch))
	for _, ref := range batch {
		pending[ref.Hash] = true
	}
	err := d.requestBlocks(ctx, p, batch, pending, func(hash chainhash.Hash) {
		delete(pending, hash)
		d.mu.Lock()
		d.delivered(f, hash)
		d.mu.Unlock()
	})
	failed := false
	switch {
	case err == nil:
	case ctx.Err() != nil:
		d.n.log.Debug("block request cancelled", "peer", p, "err", ctx.Err())
	default:
		// A request that failed (refused, reset, no such protocol) is not
		// sent to the peer again at once: retried in a loop it would take
		// the blocks from every other peer, and burn the CPU doing so.
		d.n.log.Debug("block request", "peer", p, "err", err)
		failed = true
	}
	f.cancel()
	d.mu.Lock()
	// Answered in full without some: the peer does not have them.
	d.finished(f, pending, err == nil, failed, time.Now())
	d.mu.Unlock()
	d.wake()
}

// requestBlocks asks p for the blocks of batch and processes each that
// arrives, calling done once it is stored. A peer that sends a block not
// pending, or an invalid block, is penalized.
func (d *downloader) requestBlocks(ctx context.Context, p peer.ID, batch []chain.BlockRef,
	pending map[chainhash.Hash]bool, done func(chainhash.Hash)) error {
	req := getBlocksRequest{}
	for _, ref := range batch {
		req.Hashes = append(req.Hashes, ref.Hash.String())
	}
	s, err := d.n.host.NewStream(network.WithNoDial(ctx, "sync"), p, d.n.protocol("getblocks"))
	if err != nil {
		return err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(deadline)
	}
	if err := encodeRequest(s, req); err != nil {
		return err
	}
	r := bufio.NewReader(s)
	for i := 0; i <= len(batch); i++ {
		block, err := readBlockFrame(r)
		if errors.Is(err, errMalformed) {
			d.n.Misbehaving(p, banScoreLimit, "sent "+err.Error())
			return err
		}
		if err != nil {
			return err
		}
		if block == nil {
			return nil
		}
		hash := consensus.BlockHash(&block.Header)
		if !pending[hash] {
			d.n.Misbehaving(p, banScoreLimit/2, "sent a block that was not asked for")
			return errors.New("unrequested block")
		}
		d.noteBlockSize(block.SerializeSize())
		_, err = d.n.cfg.Chain.ProcessBlock(block)
		done(hash)
		switch {
		case err == nil, errors.Is(err, chain.ErrDuplicateBlock):
		case chain.RejectReason(err) != "" && !errors.Is(err, chain.ErrTimeTooNew):
			// A mutated body counts too: the peer was asked for this
			// header's block, and no node stores a body that does not
			// match its header.
			d.n.Misbehaving(p, banScoreLimit, "sent an invalid block: "+chain.RejectReason(err))
			return err
		default:
			d.n.log.Debug("downloaded block not stored", "peer", p, "hash", hash, "err", err)
		}
	}
	d.n.Misbehaving(p, banScoreLimit/2, "sent more blocks than asked for")
	return errors.New("peer sent more blocks than asked for")
}

// syncWith fetches the headers p has after our best header, whatever
// work its status claims: p gossiped a block whose parent we lack.
func (d *downloader) syncWith(ctx context.Context, p peer.ID) {
	d.n.mu.Lock()
	best := ""
	if ps, ok := d.n.peers[p]; ok && ps.status != nil {
		best = ps.status.Best
	}
	d.n.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.headersFrom[p] {
		d.headersFrom[p] = true
		go d.fetchHeaders(ctx, p, best, nil) // not its claim: its block
	}
}

// forgetPeer drops what the downloader knows of a peer whose best block
// changed or that disconnected.
func (d *downloader) forgetPeer(p peer.ID, gone bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.lacks, p)
	if gone {
		delete(d.headersDone, p)
		delete(d.resting, p)
	}
}
