package p2p

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnchain/cairn/internal/atomicfile"
)

// peersFile keeps the addresses of peers that passed the handshake, so a
// restarted node finds its network again without --peer or discovery.
const peersFile = "peers.json"

// Bounds of the address book: how many peers are kept, and how many are
// dialled at start.
const (
	maxKnownPeers    = 1000
	startupDialPeers = 16
	// savePeersInterval bounds what a crash loses of the address book.
	savePeersInterval = 5 * time.Minute
)

// savePeers writes the handshaken peers' addresses (merged with those
// already saved, newest first, up to maxKnownPeers).
func (n *Node) savePeers() error {
	known := map[string][]string{}
	var order []string
	add := func(id string, addrs []string) {
		if _, ok := known[id]; ok || len(addrs) == 0 || len(order) >= maxKnownPeers {
			return
		}
		known[id] = addrs
		order = append(order, id)
	}
	n.mu.Lock()
	for id, ps := range n.peers {
		if ps.status == nil {
			continue
		}
		var addrs []string
		for _, a := range n.host.Peerstore().Addrs(id) {
			addrs = append(addrs, a.String())
		}
		add(id.String(), addrs)
	}
	n.mu.Unlock()
	for _, info := range n.loadPeers() {
		var addrs []string
		for _, a := range info.Addrs {
			addrs = append(addrs, a.String())
		}
		add(info.ID.String(), addrs)
	}
	out := make([]savedPeer, 0, len(order))
	for _, id := range order {
		out = append(out, savedPeer{ID: id, Addrs: known[id]})
	}
	raw, _ := json.MarshalIndent(out, "", "  ")
	if err := atomicfile.Write(filepath.Join(n.cfg.Dir, peersFile), raw, 0o600); err != nil {
		return fmt.Errorf("p2p: save peers: %w", err)
	}
	return nil
}

// savedPeer is one entry of the address book.
type savedPeer struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
}

// loadPeers reads the address book. A missing file is empty; a damaged
// one is reported and ignored, since it only speeds up finding peers.
func (n *Node) loadPeers() []peer.AddrInfo { return n.readPeersFile(peersFile, "known peer addresses") }

// readPeersFile reads a file of saved peers in the data folder (the
// address book, the anchors). A missing file is empty; a damaged one is
// reported and ignored: it only speeds up finding peers.
func (n *Node) readPeersFile(name, what string) []peer.AddrInfo {
	raw, err := os.ReadFile(filepath.Join(n.cfg.Dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var saved []savedPeer
	if err == nil {
		err = json.Unmarshal(raw, &saved)
	}
	if err != nil {
		n.log.Warn(what+" unreadable; starting without them", "file", name, "err", err)
		return nil
	}
	var out []peer.AddrInfo
	for _, s := range saved {
		id, err := peer.Decode(s.ID)
		if err != nil || id == n.host.ID() {
			continue
		}
		info := peer.AddrInfo{ID: id}
		for _, a := range s.Addrs {
			if m, err := parsePeerAddr(a + "/p2p/" + s.ID); err == nil {
				info.Addrs = append(info.Addrs, m.Addrs...)
			}
		}
		if len(info.Addrs) > 0 {
			out = append(out, info)
		}
	}
	return out
}
