package rpc

import (
	"context"
	"time"

	"github.com/cairnchain/cairn/p2p"
)

// Version is the node's version number in Bitcoin Core's getnetworkinfo
// form (MMmmpp); clients such as btcd's rpcclient read it to pick result
// formats, so it sits in Core's range whose formats Cairn follows.
const (
	Version         = 280000
	SubVersion      = "/Cairn:0.1.0/"
	ProtocolVersion = 70016
)

// Network is what the handlers need of the peer-to-peer node.
type Network interface {
	// PeerCount is the number of connected peers past the handshake.
	PeerCount() int
	// Addrs are the node's full multiaddrs, with /p2p/<peer id>.
	Addrs() []string
	// Peers describes the connected peers.
	Peers() []p2p.PeerInfo
	// SetBan, Banned and ClearBanned manage the ban list.
	SetBan(peerID string, add bool, d time.Duration) error
	Banned() []p2p.Ban
	ClearBanned() error
}

// setBan bans or unbans a peer. Cairn's peers are known by libp2p peer ID
// rather than by IP address, so "subnet" takes a peer ID.
func (s *Server) setBan(_ context.Context, a args) (any, error) {
	if s.cfg.Network == nil {
		return nil, errorf(codeMisc, "this node has no peer-to-peer network")
	}
	id, err := a.str(0)
	if err != nil {
		return nil, err
	}
	cmd, err := a.str(1)
	if err != nil {
		return nil, err
	}
	if cmd != "add" && cmd != "remove" {
		return nil, errorf(codeMisc, "setban: command must be \"add\" or \"remove\"")
	}
	secs, err := a.int64At(2, 0)
	if err != nil {
		return nil, err
	}
	absolute, err := a.boolAt(3, false)
	if err != nil {
		return nil, err
	}
	d := time.Duration(secs) * time.Second
	if absolute {
		d = time.Until(time.Unix(secs, 0))
		if d <= 0 {
			return nil, errorf(codeInvalidParameter, "Absolute timestamp is in the past")
		}
	}
	if err := s.cfg.Network.SetBan(id, cmd == "add", d); err != nil {
		return nil, errorf(codeInvalidParameter, "Error: Invalid peer ID: %v", err)
	}
	return nil, nil
}

// bannedEntry is one entry of listbanned.
type bannedEntry struct {
	Address       string `json:"address"`
	BannedUntil   int64  `json:"banned_until"`
	TimeRemaining int64  `json:"time_remaining"`
}

func (s *Server) listBanned(context.Context, args) (any, error) {
	out := []bannedEntry{}
	if s.cfg.Network == nil {
		return out, nil
	}
	for _, b := range s.cfg.Network.Banned() {
		out = append(out, bannedEntry{Address: b.PeerID, BannedUntil: b.Until.Unix(), TimeRemaining: int64(time.Until(b.Until).Seconds())})
	}
	return out, nil
}

func (s *Server) clearBanned(context.Context, args) (any, error) {
	if s.cfg.Network == nil {
		return nil, nil
	}
	if err := s.cfg.Network.ClearBanned(); err != nil {
		return nil, errorf(codeMisc, "%v", err)
	}
	return nil, nil
}

// peerInfo is one entry of getpeerinfo, with Bitcoin Core's field names
// where they apply.
type peerInfo struct {
	ID             int     `json:"id"`
	PeerID         string  `json:"peerid"`
	Addr           string  `json:"addr"`
	Inbound        bool    `json:"inbound"`
	ConnTime       int64   `json:"conntime"`
	PingTime       float64 `json:"pingtime,omitempty"`
	SyncedHeaders  int32   `json:"synced_headers"`
	SyncedBlocks   int32   `json:"synced_blocks"`
	StartingHeight int32   `json:"startingheight"`
}

func (s *Server) getPeerInfo(context.Context, args) (any, error) {
	out := []peerInfo{}
	if s.cfg.Network == nil {
		return out, nil
	}
	for i, p := range s.cfg.Network.Peers() {
		out = append(out, peerInfo{ID: i, PeerID: p.ID, Addr: p.Addr, Inbound: p.Inbound, ConnTime: p.ConnTime.Unix(),
			PingTime: p.PingTime.Seconds(), SyncedHeaders: p.Height, SyncedBlocks: p.Height, StartingHeight: p.Height})
	}
	return out, nil
}

// networkInfo is getnetworkinfo's answer. Peer figures come with the
// peer-to-peer layer.
type networkInfo struct {
	Version         int      `json:"version"`
	SubVersion      string   `json:"subversion"`
	ProtocolVersion int      `json:"protocolversion"`
	LocalServices   string   `json:"localservices"`
	LocalRelay      bool     `json:"localrelay"`
	TimeOffset      int64    `json:"timeoffset"`
	NetworkActive   bool     `json:"networkactive"`
	Connections     int      `json:"connections"`
	ConnectionsIn   int      `json:"connections_in"`
	ConnectionsOut  int      `json:"connections_out"`
	Networks        []any    `json:"networks"`
	RelayFee        float64  `json:"relayfee"`
	IncrementalFee  float64  `json:"incrementalfee"`
	LocalAddresses  []any    `json:"localaddresses"`
	P2PAddresses    []string `json:"p2paddresses"`
	Warnings        string   `json:"warnings"`
}

func (s *Server) getNetworkInfo(context.Context, args) (any, error) {
	peers, addrs := 0, []string{}
	if s.cfg.Network != nil {
		peers, addrs = s.cfg.Network.PeerCount(), s.cfg.Network.Addrs()
	}
	return networkInfo{
		Connections:     peers,
		NetworkActive:   s.cfg.Network != nil,
		Version:         Version,
		SubVersion:      SubVersion,
		ProtocolVersion: ProtocolVersion,
		LocalServices:   "0000000000000000",
		LocalRelay:      true,
		Networks:        []any{},
		RelayFee:        0.00001,
		IncrementalFee:  0.00001,
		LocalAddresses:  []any{},
		P2PAddresses:    addrs,
	}, nil
}

func (s *Server) getConnectionCount(context.Context, args) (any, error) {
	if s.cfg.Network == nil {
		return 0, nil
	}
	return s.cfg.Network.PeerCount(), nil
}
