package p2p

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/chain/consensus"
)

// Headers presync, as Bitcoin Core's HeadersSyncState (net_processing,
// since 24.0). A peer's headers are stored only on a chain whose work
// reaches the anti-DoS threshold (chain's AntiDoSWorkThreshold): anyone
// can make headers at the pow limit on a fork from an old block, and a
// node that stored them would keep them, on disk and in memory, for good.
// A chain that needs more than one answer to reach the threshold is first
// downloaded without being stored (presync), keeping only its running
// work and one bit of every presyncCommitPeriod-th header's salted hash;
// once it reaches the threshold it is downloaded again (redownload), each
// header checked against those bits, and stored once the headers checked
// so far reach the threshold, or in batches when more than
// presyncBufferSize wait. Memory per peer is bounded whatever it sends:
// the bits (at most one per period over the headers time allows) and the
// buffer.
const (
	presyncCommitPeriod = 600
	presyncBufferSize   = 15_000
	// presyncMaxRate is how many blocks a second a chain's timestamps
	// can advance at most: the median-time-past rule lets a block's time
	// be one second past the median of the 11 before it (Core's bound of
	// 6 blocks a second).
	presyncMaxRate = 6
)

// Presync failures. errPresyncInvalid is data no honest node sends (a
// header without its proof of work or with the wrong difficulty, a
// sequence that does not connect); the others end the presync and cost
// nothing (a peer may switch chains between our requests).
var (
	errPresyncInvalid  = errors.New("invalid headers")
	errPresyncTooLong  = errors.New("headers presync: more headers than the chain's timestamps allow")
	errPresyncMismatch = errors.New("headers presync: the redownloaded chain is not the one presynced")
	errPresyncMoved    = errors.New("headers presync: the answer does not follow the last header (the peer's chain moved)")
)

// headersPresync follows one peer's chain from a stored block, start,
// until it is known to reach threshold.
type headersPresync struct {
	params    *consensus.Params
	threshold *big.Int
	start     chainhash.Hash
	// startLocator leads from start back to genesis; requests add the
	// last header received in front of it.
	startLocator []chainhash.Hash
	seed         maphash.Seed
	// period and bufferSize are presyncCommitPeriod and
	// presyncBufferSize (tests shrink them).
	period     int32
	bufferSize int

	// commits holds one bit per presyncCommitPeriod headers of the
	// presynced chain; maxCommits bounds them.
	commits    []uint64
	nCommits   int
	maxCommits int

	startCursor headerCursor
	presync     headerCursor
	redownload  *headerCursor // nil while presyncing
	verified    int           // commits checked during the redownload
	buffer      []wire.BlockHeader
	released    bool
}

// headerCursor is the last header of a chain being followed: enough to
// check the next one's link, proof of work and difficulty.
type headerCursor struct {
	hash   chainhash.Hash
	height int32
	time   int64
	work   *big.Int
}

// newHeadersPresync starts a presync of the chain after start (a stored
// block) until it reaches threshold.
func newHeadersPresync(params *consensus.Params, start *chain.BlockInfo, locator []chainhash.Hash,
	threshold *big.Int, now time.Time) *headersPresync {
	span := now.Unix() - start.MedianTime + int64(params.MaxFutureBlockTime.Seconds())
	maxHeaders := max(presyncMaxRate*span, 0)
	c := headerCursor{hash: start.Hash, height: start.Height, time: start.Header.Timestamp.Unix(), work: start.ChainWork}
	return &headersPresync{
		params:       params,
		threshold:    threshold,
		start:        start.Hash,
		startLocator: locator,
		seed:         maphash.MakeSeed(),
		period:       presyncCommitPeriod,
		bufferSize:   presyncBufferSize,
		maxCommits:   int(maxHeaders/presyncCommitPeriod) + 1,
		startCursor:  c,
		presync:      headerCursor{hash: c.hash, height: c.height, time: c.time, work: new(big.Int).Set(c.work)},
	}
}

// commitBit is the bit a header's hash commits to: one bit of a salted
// hash, which the peer cannot predict (the salt is ours).
func (s *headersPresync) commitBit(hash chainhash.Hash) bool {
	return maphash.Bytes(s.seed, hash[:])&1 == 1
}

// advance checks that h follows c (its link, proof of work and the
// difficulty the chain's rules give it) and moves c to it.
func (s *headersPresync) advance(c *headerCursor, h *wire.BlockHeader) (chainhash.Hash, error) {
	hash := consensus.BlockHash(h)
	if h.PrevBlock != c.hash {
		return hash, fmt.Errorf("%w: header %v does not follow %v", errPresyncInvalid, hash, c.hash)
	}
	if err := consensus.CheckBlockHeaderSanity(h, s.params.PowLimit); err != nil {
		return hash, fmt.Errorf("%w: header %v: %v", errPresyncInvalid, hash, err)
	}
	if want := consensus.CalcNextRequiredBits(s.params, c.height, c.time); h.Bits != want {
		return hash, fmt.Errorf("%w: header %v has bits %08x, the difficulty algorithm requires %08x",
			errPresyncInvalid, hash, h.Bits, want)
	}
	c.hash, c.height, c.time = hash, c.height+1, h.Timestamp.Unix()
	c.work.Add(c.work, consensus.CalcWork(h.Bits))
	return hash, nil
}

// feed takes one answer of the peer. While presyncing it stores nothing
// and returns nothing; in the redownload it returns the headers now ready
// to be stored, and done once the rest of the chain reaches the
// threshold (the caller then stores normally from the last of them).
func (s *headersPresync) feed(headers []wire.BlockHeader) (ready []wire.BlockHeader, done bool, err error) {
	cursor := &s.presync
	if s.redownload != nil {
		cursor = s.redownload
	}
	if len(headers) > 0 && headers[0].PrevBlock != cursor.hash {
		// Benign: the peer may have reorganized away from the chain it
		// was on (Core likewise gives up without a penalty).
		return nil, false, errPresyncMoved
	}
	if s.redownload == nil {
		for i := range headers {
			hash, err := s.advance(&s.presync, &headers[i])
			if err != nil {
				return nil, false, err
			}
			if s.presync.height%s.period == 0 {
				if s.nCommits >= s.maxCommits {
					return nil, false, errPresyncTooLong
				}
				if s.nCommits%64 == 0 {
					s.commits = append(s.commits, 0)
				}
				if s.commitBit(hash) {
					s.commits[s.nCommits/64] |= 1 << (s.nCommits % 64)
				}
				s.nCommits++
			}
			if s.presync.work.Cmp(s.threshold) >= 0 {
				// Enough work: download it again from the start, and
				// ignore what this answer holds beyond.
				c := s.startCursor
				c.work = new(big.Int).Set(s.startCursor.work)
				s.redownload = &c
				return nil, false, nil
			}
		}
		return nil, false, nil
	}
	for i := range headers {
		hash, err := s.advance(s.redownload, &headers[i])
		if err != nil {
			return nil, false, err
		}
		if s.redownload.height%s.period == 0 && !s.released {
			if s.verified >= s.nCommits {
				// Longer than what was presynced, without the work yet.
				return nil, false, errPresyncMismatch
			}
			bit := s.commits[s.verified/64]&(1<<(s.verified%64)) != 0
			if s.commitBit(hash) != bit {
				return nil, false, errPresyncMismatch
			}
			s.verified++
		}
		s.buffer = append(s.buffer, headers[i])
		if s.redownload.work.Cmp(s.threshold) >= 0 {
			s.released = true
		}
	}
	if s.released {
		ready, s.buffer = s.buffer, nil
		return ready, true, nil
	}
	if over := len(s.buffer) - s.bufferSize; over > 0 {
		ready = append([]wire.BlockHeader(nil), s.buffer[:over]...)
		s.buffer = append(s.buffer[:0], s.buffer[over:]...)
	}
	return ready, false, nil
}

// locator returns the locator of the next request: the last header
// received, then start's own locator.
func (s *headersPresync) locator() []chainhash.Hash {
	last := s.presync.hash
	if s.redownload != nil {
		last = s.redownload.hash
	}
	if last == s.start {
		return s.startLocator
	}
	return append([]chainhash.Hash{last}, s.startLocator...)
}
