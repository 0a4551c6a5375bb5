package p2p

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"golang.org/x/time/rate"

	"github.com/cairnchain/cairn/internal/atomicfile"
)

// DefaultBanTime is how long misbehaviour bans a peer, and setban without
// a time.
const DefaultBanTime = 24 * time.Hour

// banScoreLimit is the misbehaviour score at which a peer is banned.
const banScoreLimit = 100

// Misbehaviour scores decay: they halve every scoreHalfLife, so that
// misbehaviour long past does not add up with today's, and a score that
// decayed below 1 is forgotten (pruned every pruneInterval).
const (
	scoreHalfLife = time.Hour
	pruneInterval = time.Minute
	// saveInterval is the least time between two writes of the ban file.
	saveInterval = time.Second
)

// Inbound connections per remote address (loopback excepted): a burst of
// 10, then one every 6 seconds. An honest node connects once and stays;
// a host cycling through fresh identities to get past bans or to fill
// the inbound slots is slowed to 10 a minute.
const (
	acceptRate    = rate.Limit(1.0 / 6)
	acceptBurst   = 10
	maxAcceptAddr = 10_000
)

// Bounds of what misbehaving peers make the ban list remember: bans of
// each kind (IDs, subnets) and scores. Past them the bans that end soonest
// and the lowest scores go first. Core bounds its discouragement filter
// likewise (50,000 addresses, a rolling bloom filter).
const (
	maxBanEntries = 200_000
	maxScores     = 100_000
)

// bansFile keeps bans across restarts.
const bansFile = "banned.json"

// Errors of SetBan, with Bitcoin Core's messages.
var (
	ErrInvalidBanTarget = errors.New("Error: Invalid IP/Subnet or peer ID")
	ErrAlreadyBanned    = errors.New("Error: IP/Subnet already banned")
	ErrNotBanned        = errors.New("Error: Unban failed. Requested address/subnet was not previously manually banned.")
)

// banEntry is one ban: when it was made and when it ends.
type banEntry struct {
	created, until time.Time
}

// banList is the node's connection gater and misbehaviour ledger. Peers
// are banned by ID and by address (a single address or a subnet), so that
// a host banned for misbehaviour cannot come back under a fresh identity,
// which libp2p gives for free. The gater and the gossip score read it on
// every connection and message, so reads take no lock a ban write holds:
// the bans live in sync.Maps, the file is written in the background, at
// most once every saveInterval.
type banList struct {
	path string
	log  *slog.Logger
	now  func() time.Time

	// inactive refuses every connection (setnetworkactive false).
	inactive atomic.Bool

	// The bans: base is an immutable index, replaced whole; delta holds
	// the changes since it was built (a zero entry lifts a ban), merged
	// into a new base by the saver at most every saveInterval. A read
	// looks in the small delta, then the base, and takes no lock: a ban
	// never makes the gater or the gossip score wait, whatever the list's
	// size.
	base  atomic.Pointer[banIndex]
	delta atomic.Pointer[sync.Map] // peer.ID or netip.Prefix -> banEntry
	// lens has bit i set when a ban of an IPv4 /i may exist, bit 33+i for
	// an IPv6 /i: an address is looked up only at the lengths in use.
	lens [3]atomic.Uint64

	// writeMu serializes ban changes; dirty wakes the saver; saves
	// counts the writes of the file.
	writeMu sync.Mutex
	dirty   chan struct{}
	saves   atomic.Int64
	stop    chan struct{}
	stopped chan struct{}

	scoreMu sync.Mutex
	scores  map[peer.ID]decayingScore

	// maxBans and maxScores are maxBanEntries and maxScores (tests
	// shrink them).
	maxBans, maxScores int

	acceptMu sync.Mutex
	accepts  map[netip.Addr]*rate.Limiter
	// overRate counts inbound connections refused for their address's rate.
	overRate atomic.Int64
}

// banIndex is an immutable set of bans.
type banIndex struct {
	ids  map[peer.ID]banEntry
	nets map[netip.Prefix]banEntry // masked prefixes
}

// decayingScore is a misbehaviour score as of a time.
type decayingScore struct {
	value float64
	at    time.Time
}

// at returns the score decayed to t.
func (s decayingScore) valueAt(t time.Time) float64 {
	age := t.Sub(s.at)
	if age <= 0 {
		return s.value
	}
	return s.value * math.Exp2(-float64(age)/float64(scoreHalfLife))
}

// savedBans is the ban file: bans by peer ID and by subnet, as Unix times.
type savedBans struct {
	Version int                 `json:"version"`
	Peers   map[string]savedBan `json:"peers"`
	Subnets map[string]savedBan `json:"subnets"`
}

type savedBan struct {
	Created int64 `json:"created"`
	Until   int64 `json:"until"`
}

// loadBans reads dir's ban file (a missing file is an empty list). The
// file of earlier versions, a map from peer ID to the ban's end, is read
// too.
func loadBans(dir string) (*banList, error) {
	b := &banList{
		path:    filepath.Join(dir, bansFile),
		log:     slog.New(slog.DiscardHandler),
		now:     time.Now,
		dirty:   make(chan struct{}, 1),
		scores:  make(map[peer.ID]decayingScore),
		accepts: make(map[netip.Addr]*rate.Limiter),

		maxBans:   maxBanEntries,
		maxScores: maxScores,
	}
	base := &banIndex{ids: make(map[peer.ID]banEntry), nets: make(map[netip.Prefix]banEntry)}
	b.base.Store(base)
	b.delta.Store(new(sync.Map))
	raw, err := os.ReadFile(b.path)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("p2p: bans: %w", err)
	}
	damaged := func(err error) error {
		return fmt.Errorf("p2p: ban file %s is damaged: %w (delete it to clear the bans)", b.path, err)
	}
	var saved savedBans
	if err := json.Unmarshal(raw, &saved); err != nil || saved.Version == 0 {
		var legacy map[string]int64
		if err := json.Unmarshal(raw, &legacy); err != nil {
			return nil, damaged(err)
		}
		saved = savedBans{Peers: make(map[string]savedBan)}
		for id, until := range legacy {
			saved.Peers[id] = savedBan{Until: until}
		}
	}
	for id, s := range saved.Peers {
		pid, err := peer.Decode(id)
		if err != nil {
			return nil, damaged(fmt.Errorf("%q is not a peer ID", id))
		}
		base.ids[pid] = banEntry{created: time.Unix(s.Created, 0), until: time.Unix(s.Until, 0)}
	}
	for subnet, s := range saved.Subnets {
		pfx, err := netip.ParsePrefix(subnet)
		if err != nil || pfx != pfx.Masked() {
			return nil, damaged(fmt.Errorf("%q is not a subnet", subnet))
		}
		b.markLen(pfx)
		base.nets[pfx] = banEntry{created: time.Unix(s.Created, 0), until: time.Unix(s.Until, 0)}
	}
	return b, nil
}

// start runs the saver and pruner until close.
func (b *banList) start(log *slog.Logger) {
	b.log = log
	b.stop, b.stopped = make(chan struct{}), make(chan struct{})
	go b.run()
}

// close stops the saver, writing what changed since its last write.
func (b *banList) close() {
	if b.stop == nil {
		return
	}
	close(b.stop)
	<-b.stopped
}

// run writes the ban file when a ban changes, at most every
// saveInterval, and prunes expired bans and decayed scores.
func (b *banList) run() {
	defer close(b.stopped)
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	var lastSave time.Time
	var wait <-chan time.Time
	pending := false
	for {
		select {
		case <-b.stop:
			if pending {
				b.saveLogged()
			}
			return
		case <-prune.C:
			b.prune()
		case <-b.dirty:
			pending = true
			if wait == nil {
				wait = time.After(max(0, saveInterval-time.Since(lastSave)))
			}
		case <-wait:
			wait, pending = nil, false
			lastSave = time.Now()
			b.saveLogged() // merges the delta first
		}
	}
}

func (b *banList) saveLogged() {
	if err := b.save(); err != nil {
		b.log.Error("saving the ban list", "err", err)
	}
}

// changed marks the file out of date.
func (b *banList) changed() {
	select {
	case b.dirty <- struct{}{}:
	default:
	}
}

// merge builds a new base of the unexpired bans with the delta applied,
// and starts an empty delta.
// This function MUST be called with b.writeMu held.
func (b *banList) mergeLocked() *banIndex {
	now := b.now()
	old, delta := b.base.Load(), b.delta.Load()
	next := &banIndex{ids: make(map[peer.ID]banEntry, len(old.ids)), nets: make(map[netip.Prefix]banEntry, len(old.nets))}
	for id, e := range old.ids {
		if now.Before(e.until) {
			next.ids[id] = e
		}
	}
	for pfx, e := range old.nets {
		if now.Before(e.until) {
			next.nets[pfx] = e
		}
	}
	delta.Range(func(k, v any) bool {
		e := v.(banEntry)
		switch k := k.(type) {
		case peer.ID:
			delete(next.ids, k)
			if now.Before(e.until) {
				next.ids[k] = e
			}
		case netip.Prefix:
			delete(next.nets, k)
			if now.Before(e.until) {
				next.nets[k] = e
			}
		}
		return true
	})
	if dropped := trimBans(next.ids, b.maxBans) + trimBans(next.nets, b.maxBans); dropped > 0 {
		b.log.Warn("ban list full: the bans ending soonest were lifted", "lifted", dropped)
	}
	// Readers that loaded the old delta still find its entries in the new
	// base; the order of these two stores only repeats what both say.
	b.base.Store(next)
	b.delta.Store(new(sync.Map))
	return next
}

// trimBans removes the bans of m that end soonest until at most max are
// left, and returns how many it removed.
func trimBans[K comparable](m map[K]banEntry, max int) int {
	over := len(m) - max
	if over <= 0 {
		return 0
	}
	ends := make([]time.Time, 0, len(m))
	for _, e := range m {
		ends = append(ends, e.until)
	}
	slices.SortFunc(ends, time.Time.Compare)
	cut := ends[over-1] // remove those ending at or before the over-th end
	removed := 0
	for k, e := range m {
		if removed < over && !e.until.After(cut) {
			delete(m, k)
			removed++
		}
	}
	return removed
}

// save merges the delta and writes the unexpired bans, atomically.
func (b *banList) save() error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	idx := b.mergeLocked()
	saved := savedBans{Version: 2, Peers: make(map[string]savedBan, len(idx.ids)), Subnets: make(map[string]savedBan, len(idx.nets))}
	for id, e := range idx.ids {
		saved.Peers[id.String()] = savedBan{Created: e.created.Unix(), Until: e.until.Unix()}
	}
	for pfx, e := range idx.nets {
		saved.Subnets[pfx.String()] = savedBan{Created: e.created.Unix(), Until: e.until.Unix()}
	}
	raw, _ := json.MarshalIndent(saved, "", "  ")
	b.saves.Add(1)
	if err := atomicfile.Write(b.path, raw, 0o600); err != nil {
		return fmt.Errorf("p2p: save bans: %w", err)
	}
	return nil
}

// prune forgets expired bans, decayed scores and idle accept limiters.
func (b *banList) prune() {
	now := b.now()
	b.writeMu.Lock()
	b.mergeLocked()
	b.writeMu.Unlock()
	b.scoreMu.Lock()
	for p, s := range b.scores {
		if s.valueAt(now) < 1 {
			delete(b.scores, p)
		}
	}
	b.scoreMu.Unlock()
	b.acceptMu.Lock()
	b.pruneAcceptsLocked()
	b.acceptMu.Unlock()
}

// lenBit returns the bit of lens for a prefix length of an address family.
func lenBit(is4 bool, bits int) int {
	if is4 {
		return bits
	}
	return 33 + bits
}

// markLen notes that bans of pfx's length may exist.
func (b *banList) markLen(pfx netip.Prefix) {
	bit := lenBit(pfx.Addr().Is4(), pfx.Bits())
	b.lens[bit/64].Or(1 << (bit % 64))
}

// lookup returns the ban of key (a peer.ID or a masked netip.Prefix).
func (b *banList) lookup(key any) (banEntry, bool) {
	if v, ok := b.delta.Load().Load(key); ok {
		e := v.(banEntry)
		return e, !e.until.IsZero()
	}
	idx := b.base.Load()
	var e banEntry
	var ok bool
	switch k := key.(type) {
	case peer.ID:
		e, ok = idx.ids[k]
	case netip.Prefix:
		e, ok = idx.nets[k]
	}
	return e, ok
}

// idBanned reports whether p is banned now.
func (b *banList) idBanned(p peer.ID) bool {
	e, ok := b.lookup(p)
	return ok && b.now().Before(e.until)
}

// addrBanned reports whether ip falls in a banned subnet now.
func (b *banList) addrBanned(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	is4 := ip.Is4()
	now := b.now()
	for bits := 0; bits <= ip.BitLen(); bits++ {
		bit := lenBit(is4, bits)
		if b.lens[bit/64].Load()&(1<<(bit%64)) == 0 {
			continue
		}
		pfx, _ := ip.Prefix(bits)
		if e, ok := b.lookup(pfx); ok && now.Before(e.until) {
			return true
		}
	}
	return false
}

// maBanned reports whether a multiaddr's IP is banned.
func (b *banList) maBanned(a ma.Multiaddr) bool {
	ip, ok := multiaddrIP(a)
	return ok && b.addrBanned(ip)
}

// banned reports whether p is banned by ID.
func (b *banList) banned(p peer.ID) bool { return b.idBanned(p) }

// banID bans p for d (0: DefaultBanTime) and forgets its score.
func (b *banList) banID(p peer.ID, d time.Duration) {
	now := b.now()
	b.writeMu.Lock()
	b.delta.Load().Store(p, banEntry{created: now, until: now.Add(cmpDuration(d))})
	b.writeMu.Unlock()
	b.scoreMu.Lock()
	delete(b.scores, p)
	b.scoreMu.Unlock()
	b.changed()
}

// banNet bans a subnet (a single address is a /32 or /128) for d; with
// onlyNew, a subnet banned already is refused.
func (b *banList) banNet(pfx netip.Prefix, d time.Duration, onlyNew bool) error {
	pfx = pfx.Masked()
	now := b.now()
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if e, ok := b.lookup(pfx); ok && onlyNew && now.Before(e.until) {
		return ErrAlreadyBanned
	}
	b.markLen(pfx)
	b.delta.Load().Store(pfx, banEntry{created: now, until: now.Add(cmpDuration(d))})
	b.changed()
	return nil
}

func cmpDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultBanTime
	}
	return d
}

// unban lifts the ban of key (a peer.ID or a masked netip.Prefix),
// reporting whether there was one in force.
func (b *banList) unban(key any) bool {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	e, ok := b.lookup(key)
	b.delta.Load().Store(key, banEntry{}) // lifted
	b.changed()
	return ok && b.now().Before(e.until)
}

// unbanID lifts p's ban, reporting whether there was one.
func (b *banList) unbanID(p peer.ID) bool { return b.unban(p) }

// unbanNet lifts a subnet's ban, reporting whether there was one.
func (b *banList) unbanNet(pfx netip.Prefix) bool { return b.unban(pfx.Masked()) }

// clear lifts every ban.
func (b *banList) clear() {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.base.Store(&banIndex{ids: make(map[peer.ID]banEntry), nets: make(map[netip.Prefix]banEntry)})
	b.delta.Store(new(sync.Map))
	b.changed()
}

// misbehave adds to p's decayed score and reports whether it reached the
// limit.
func (b *banList) misbehave(p peer.ID, score int) bool {
	now := b.now()
	b.scoreMu.Lock()
	defer b.scoreMu.Unlock()
	if _, ok := b.scores[p]; !ok && len(b.scores) >= b.maxScores {
		b.trimScoresLocked(now)
	}
	s := decayingScore{value: b.scores[p].valueAt(now) + float64(score), at: now}
	b.scores[p] = s
	// As score rounds it: ten penalties of 10 within seconds make 100.
	return math.Round(s.value) >= banScoreLimit
}

// trimScoresLocked forgets the lower half of the scores: their peers
// misbehaved least, or longest ago. Halving keeps the cost of a flood of
// new misbehaving identities at O(log n) per score.
// This function MUST be called with b.scoreMu held.
func (b *banList) trimScoresLocked(now time.Time) {
	values := make([]float64, 0, len(b.scores))
	for _, s := range b.scores {
		values = append(values, s.valueAt(now))
	}
	slices.Sort(values)
	median := values[len(values)/2]
	for p, s := range b.scores {
		if len(b.scores) <= b.maxScores/2 {
			break
		}
		if s.valueAt(now) <= median {
			delete(b.scores, p)
		}
	}
}

// score returns p's misbehaviour score now.
func (b *banList) score(p peer.ID) int {
	b.scoreMu.Lock()
	s, ok := b.scores[p]
	b.scoreMu.Unlock()
	if !ok {
		return 0
	}
	return int(math.Round(s.valueAt(b.now())))
}

// allowAccept takes a token of ip's inbound connection bucket; loopback
// is not limited (local networks run every node on it).
func (b *banList) allowAccept(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsLoopback() {
		return true
	}
	ip = ip.Unmap()
	b.acceptMu.Lock()
	defer b.acceptMu.Unlock()
	l, ok := b.accepts[ip]
	if !ok {
		if len(b.accepts) >= maxAcceptAddr {
			b.pruneAcceptsLocked()
		}
		l = rate.NewLimiter(acceptRate, acceptBurst)
		b.accepts[ip] = l
	}
	if !l.Allow() {
		b.overRate.Add(1)
		return false
	}
	return true
}

// pruneAcceptsLocked forgets the buckets that refilled: their addresses
// have not connected for a while. Past maxAcceptAddr the rest go too.
// This function MUST be called with b.acceptMu held.
func (b *banList) pruneAcceptsLocked() {
	for ip, l := range b.accepts {
		if l.Tokens() >= acceptBurst || len(b.accepts) > maxAcceptAddr {
			delete(b.accepts, ip)
		}
	}
}

// Ban is one entry of the ban list: a peer ID or a subnet.
type Ban struct {
	// Address is the peer ID or the subnet (CIDR) banned.
	Address        string
	Created, Until time.Time
}

// list returns the current bans, earliest expiry first.
func (b *banList) list() []Ban {
	b.writeMu.Lock()
	idx := b.mergeLocked()
	b.writeMu.Unlock()
	out := make([]Ban, 0, len(idx.ids)+len(idx.nets))
	for id, e := range idx.ids {
		out = append(out, Ban{Address: id.String(), Created: e.created, Until: e.until})
	}
	for pfx, e := range idx.nets {
		out = append(out, Ban{Address: pfx.String(), Created: e.created, Until: e.until})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Until.Equal(out[j].Until) {
			return out[i].Until.Before(out[j].Until)
		}
		return out[i].Address < out[j].Address
	})
	return out
}

// multiaddrIP returns the IP of a multiaddr, if it has one.
func multiaddrIP(a ma.Multiaddr) (netip.Addr, bool) {
	if a == nil {
		return netip.Addr{}, false
	}
	ip, err := manet.ToIP(a)
	if err != nil {
		return netip.Addr{}, false
	}
	addr, ok := netip.AddrFromSlice(ip)
	return addr.Unmap(), ok
}

// The connmgr.ConnectionGater methods: a banned peer ID is refused at every
// stage its identity is known, a banned address at every stage its address
// is, an address over its inbound rate when it connects, and everyone
// while the network is inactive.

func (b *banList) refuse(p peer.ID) bool { return b.inactive.Load() || b.idBanned(p) }

func (b *banList) InterceptPeerDial(p peer.ID) bool { return !b.refuse(p) }
func (b *banList) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return !b.refuse(p) && !b.maBanned(a)
}
func (b *banList) InterceptAccept(c network.ConnMultiaddrs) bool {
	if b.inactive.Load() {
		return false
	}
	ip, ok := multiaddrIP(c.RemoteMultiaddr())
	return !ok || (!b.addrBanned(ip) && b.allowAccept(ip))
}
func (b *banList) InterceptSecured(_ network.Direction, p peer.ID, c network.ConnMultiaddrs) bool {
	return !b.refuse(p) && !b.maBanned(c.RemoteMultiaddr())
}
func (b *banList) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	return !b.refuse(c.RemotePeer()) && !b.maBanned(c.RemoteMultiaddr()), 0
}

// Misbehaving records misbehaviour of p. At the limit p is banned and
// disconnected, and so is its address, unless it is a loopback one (Bitcoin
// Core's MaybeDiscourageAndDisconnect: "we disconnect local peers for bad
// behavior but don't discourage", since every local node shares it):
// connections from that address are refused for the ban time whatever
// identity they present, and its other connections are closed.
func (n *Node) Misbehaving(p peer.ID, score int, why string) {
	if !n.bans.misbehave(p, score) {
		n.log.Info("peer misbehaving", "peer", p, "score", score, "why", why)
		return
	}
	n.log.Warn("banning peer", "peer", p, "why", why, "for", DefaultBanTime)
	// The address first: once the ID's ban shows, the address's does.
	var addrs []netip.Prefix
	for _, c := range n.host.Network().ConnsToPeer(p) {
		if ip, ok := multiaddrIP(c.RemoteMultiaddr()); ok && !ip.IsLoopback() && !ip.IsUnspecified() {
			pfx := netip.PrefixFrom(ip, ip.BitLen())
			_ = n.bans.banNet(pfx, 0, false)
			n.log.Warn("banning address", "addr", ip, "peer", p, "for", DefaultBanTime)
			addrs = append(addrs, pfx)
		}
	}
	n.bans.banID(p, 0)
	n.drop(p, "banned: "+why)
	for _, pfx := range addrs {
		n.dropAddrs(pfx, "banned address: "+why)
	}
}

// dropAddrs closes every connection from an address in pfx.
func (n *Node) dropAddrs(pfx netip.Prefix, why string) {
	for _, c := range n.host.Network().Conns() {
		if ip, ok := multiaddrIP(c.RemoteMultiaddr()); ok && pfx.Contains(ip) {
			n.drop(c.RemotePeer(), why)
		}
	}
}

// parseBanTarget reads setban's target: a peer ID, an IP address (a /32 or
// /128) or a subnet in CIDR form.
func parseBanTarget(s string) (peer.ID, netip.Prefix, error) {
	if p, err := peer.Decode(s); err == nil {
		return p, netip.Prefix{}, nil
	}
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return "", netip.Prefix{}, fmt.Errorf("%w: %q", ErrInvalidBanTarget, s)
		}
		if pfx.Addr().Is4In6() {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), max(0, pfx.Bits()-96))
		}
		return "", pfx.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return "", netip.Prefix{}, fmt.Errorf("%w: %q", ErrInvalidBanTarget, s)
	}
	ip = ip.Unmap()
	return "", netip.PrefixFrom(ip, ip.BitLen()), nil
}

// SetBan bans (add) or unbans (remove) a peer ID, an IP address or a subnet
// (setban), for d (0: DefaultBanTime). As Core's setban, banning what is
// banned already and unbanning what is not are errors. A ban closes the
// connections it covers.
func (n *Node) SetBan(target string, add bool, d time.Duration) error {
	p, pfx, err := parseBanTarget(target)
	if err != nil {
		return err
	}
	switch {
	case p != "" && add:
		if n.bans.idBanned(p) {
			return ErrAlreadyBanned
		}
		n.bans.banID(p, d)
		n.drop(p, "banned by setban")
	case p != "":
		if !n.bans.unbanID(p) {
			return ErrNotBanned
		}
	case add:
		if err := n.bans.banNet(pfx, d, true); err != nil {
			return err
		}
		n.dropAddrs(pfx, "address banned by setban")
	default:
		if !n.bans.unbanNet(pfx) {
			return ErrNotBanned
		}
	}
	return nil
}

// Banned returns the ban list (listbanned).
func (n *Node) Banned() []Ban { return n.bans.list() }

// ClearBanned lifts every ban (clearbanned).
func (n *Node) ClearBanned() error {
	n.bans.clear()
	return nil
}
