package p2p

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnchain/cairn/internal/atomicfile"
)

// DefaultBanTime is how long misbehaviour bans a peer.
const DefaultBanTime = 24 * time.Hour

// banScoreLimit is the misbehaviour score at which a peer is banned.
const banScoreLimit = 100

// bansFile keeps bans across restarts.
const bansFile = "banned.json"

// banList is the node's connection gater: banned peer IDs may neither
// dial nor be dialled. It persists to a JSON file in the data folder.
type banList struct {
	path string

	// inactive refuses every connection (setnetworkactive false).
	inactive atomic.Bool

	mu     sync.Mutex
	until  map[peer.ID]time.Time
	scores map[peer.ID]int
}

// loadBans reads dir's ban file (a missing file is an empty list).
func loadBans(dir string) (*banList, error) {
	b := &banList{path: filepath.Join(dir, bansFile), until: map[peer.ID]time.Time{}, scores: map[peer.ID]int{}}
	raw, err := os.ReadFile(b.path)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("p2p: bans: %w", err)
	}
	var saved map[string]int64
	if err := json.Unmarshal(raw, &saved); err != nil {
		return nil, fmt.Errorf("p2p: ban file %s is damaged: %w (delete it to clear the bans)", b.path, err)
	}
	for id, until := range saved {
		pid, err := peer.Decode(id)
		if err != nil {
			return nil, fmt.Errorf("p2p: ban file %s: %q is not a peer ID", b.path, id)
		}
		b.until[pid] = time.Unix(until, 0)
	}
	return b, nil
}

// saveLocked writes the bans.
// This function MUST be called with b.mu held.
func (b *banList) saveLocked() error {
	saved := map[string]int64{}
	for id, until := range b.until {
		saved[id.String()] = until.Unix()
	}
	raw, _ := json.MarshalIndent(saved, "", "  ")
	if err := atomicfile.Write(b.path, raw, 0o600); err != nil {
		return fmt.Errorf("p2p: save bans: %w", err)
	}
	return nil
}

// banned reports whether p is banned now.
func (b *banList) banned(p peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.until[p]
	if ok && time.Now().After(until) {
		delete(b.until, p)
		return false
	}
	return ok
}

// ban bans p for d (0: DefaultBanTime).
func (b *banList) ban(p peer.ID, d time.Duration) error {
	if d <= 0 {
		d = DefaultBanTime
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.until[p] = time.Now().Add(d)
	delete(b.scores, p)
	return b.saveLocked()
}

// unban lifts p's ban; with p empty, every ban.
func (b *banList) unban(p peer.ID) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p == "" {
		b.until = map[peer.ID]time.Time{}
	} else {
		delete(b.until, p)
	}
	return b.saveLocked()
}

// misbehave adds to p's score and reports whether it reached the limit.
func (b *banList) misbehave(p peer.ID, score int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.scores[p] += score
	return b.scores[p] >= banScoreLimit
}

// score returns p's misbehaviour score.
func (b *banList) score(p peer.ID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.scores[p]
}

// Ban is one entry of the ban list.
type Ban struct {
	PeerID string
	Until  time.Time
}

// list returns the current bans, earliest expiry first.
func (b *banList) list() []Ban {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Ban
	for id, until := range b.until {
		if time.Now().Before(until) {
			out = append(out, Ban{PeerID: id.String(), Until: until})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Until.Before(out[j].Until) })
	return out
}

// The connmgr.ConnectionGater methods: a banned peer is refused at every
// stage its identity is known, and everyone while the network is inactive.

func (b *banList) refuse(p peer.ID) bool { return b.inactive.Load() || b.banned(p) }

func (b *banList) InterceptPeerDial(p peer.ID) bool                 { return !b.refuse(p) }
func (b *banList) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return !b.refuse(p) }
func (b *banList) InterceptAccept(network.ConnMultiaddrs) bool      { return !b.inactive.Load() }
func (b *banList) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !b.refuse(p)
}
func (b *banList) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	return !b.refuse(c.RemotePeer()), 0
}

// Misbehaving records misbehaviour of p; at the limit, p is banned and
// disconnected.
func (n *Node) Misbehaving(p peer.ID, score int, why string) {
	if !n.bans.misbehave(p, score) {
		n.log.Info("peer misbehaving", "peer", p, "score", score, "why", why)
		return
	}
	n.log.Warn("banning peer", "peer", p, "why", why, "for", DefaultBanTime)
	if err := n.bans.ban(p, 0); err != nil {
		n.log.Error("saving ban", "err", err)
	}
	n.drop(p, "banned: "+why)
}

// SetBan bans (add) or unbans (remove) a peer by ID (setban).
func (n *Node) SetBan(id string, add bool, d time.Duration) error {
	p, err := peer.Decode(id)
	if err != nil {
		return fmt.Errorf("p2p: %q is not a peer ID", id)
	}
	if !add {
		return n.bans.unban(p)
	}
	if err := n.bans.ban(p, d); err != nil {
		return err
	}
	n.drop(p, "banned by setban")
	return nil
}

// Banned returns the ban list (listbanned).
func (n *Node) Banned() []Ban { return n.bans.list() }

// ClearBanned lifts every ban (clearbanned).
func (n *Node) ClearBanned() error { return n.bans.unban("") }
