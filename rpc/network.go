package rpc

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
)

// This file holds Bitcoin Core's "network" methods, served by the
// Network the node is configured with.

// Version is the node's version number in Bitcoin Core's getnetworkinfo
// form (MMmmpp); clients such as btcd's rpcclient read it to pick result
// formats, so it sits in Core's range whose formats Cairn follows.
const (
	Version         = 280000
	SubVersion      = "/Cairn:0.1.0/"
	ProtocolVersion = 70016
)

// noNetwork is the error of peer methods on a node without a network.
var noNetwork = errorf(codeP2PDisabled, "Error: Peer-to-peer functionality missing or disabled")

// p2pError maps the network's errors to Core's codes.
func p2pError(err error) error {
	switch {
	case errors.Is(err, ErrAlreadyAdded):
		return errorf(codeNodeAdded, "Error: Node already added")
	case errors.Is(err, ErrNotAdded):
		return errorf(codeNodeNotAdded, "Error: Node could not be removed. It has not been added previously.")
	case errors.Is(err, ErrNotConnected):
		return errorf(codeNodeNotConnected, "Node not found in connected nodes")
	}
	return errorf(codeInvalidParameter, "%v", err)
}

var addNodeDoc = methodDoc{
	category: catNetwork,
	desc: "Attempts to add or remove a node from the addnode list.\n" +
		"Or try a connection to a node once.\n" +
		"Nodes added using addnode (or cairn node --peer) are kept connected: redialled when the connection is lost.",
	args: []argDoc{
		reqArg("node", argStr, "The peer's full multiaddr, with /p2p/<peer id> (Cairn's peers are libp2p peers)"),
		reqArg("command", argStr, "'add' to add a node to the list, 'remove' to remove a node from the list, 'onetry' to try a connection to the node once"),
	},
	results: []resultDoc{rNull("")},
	examples: exBoth(`"/ip4/192.168.0.6/tcp/27333/p2p/`+examplePeerID+`" "onetry"`,
		`"/ip4/192.168.0.6/tcp/27333/p2p/`+examplePeerID+`", "onetry"`),
}

// addNode is Core's addnode; nodes are full multiaddrs with /p2p/<peer id>.
func (s *Server) addNode(_ context.Context, a args) (any, error) {
	if s.cfg.Network == nil {
		return nil, noNetwork
	}
	addr, err := a.str(0)
	if err != nil {
		return nil, err
	}
	cmd, err := a.str(1)
	if err != nil {
		return nil, err
	}
	if cmd != "add" && cmd != "remove" && cmd != "onetry" {
		return nil, errorf(codeInvalidParameter, "addnode: command must be \"add\", \"remove\" or \"onetry\"")
	}
	if err := s.cfg.Network.AddNode(addr, cmd); err != nil {
		return nil, p2pError(err)
	}
	return nil, nil
}

// addedNodeInfo is one entry of getaddednodeinfo.
type addedNodeInfo struct {
	AddedNode string `json:"addednode"`
	Connected bool   `json:"connected"`
}

var getAddedNodeInfoDoc = methodDoc{
	category: catNetwork,
	desc:     "Returns information about all added nodes: those of addnode and cairn node --peer\n(note that onetry addnodes are not listed here)",
	args: []argDoc{
		optArg("node", argStr, "", "Accepted for compatibility and ignored: every added node is listed"),
	},
	results: []resultDoc{rArr("", "", rObj("", "",
		rStr("addednode", "The node's multiaddr (as provided to addnode)"),
		rBool("connected", "If connected"),
	))},
	examples: exBoth("", ""),
}

func (s *Server) getAddedNodeInfo(context.Context, args) (any, error) {
	out := []addedNodeInfo{}
	if s.cfg.Network == nil {
		return out, nil
	}
	connected := map[string]bool{}
	for _, p := range s.cfg.Network.Peers() {
		connected[p.ID] = true
	}
	for _, addr := range s.cfg.Network.AddedNodes() {
		i := strings.LastIndex(addr, "/p2p/")
		out = append(out, addedNodeInfo{AddedNode: addr, Connected: i >= 0 && connected[addr[i+5:]]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AddedNode < out[j].AddedNode })
	return out, nil
}

var disconnectNodeDoc = methodDoc{
	category: catNetwork,
	desc:     "Immediately disconnects from the specified peer node.\nA peer kept by addnode or cairn node --peer is dialled again.",
	args: []argDoc{
		reqArg("address", argStr, "The peer's libp2p peer ID, or its full multiaddr with /p2p/<peer id>"),
		optArg("nodeid", argNum, "", "Ignored: Cairn names peers by peer ID, given as address"),
	},
	results:  []resultDoc{rNull("")},
	examples: exBoth(`"`+examplePeerID+`"`, `"`+examplePeerID+`"`),
}

// disconnectNode takes a peer's multiaddr or peer ID as "address" (Core's
// second argument, a numeric node id, is not used: peer IDs serve).
func (s *Server) disconnectNode(_ context.Context, a args) (any, error) {
	if s.cfg.Network == nil {
		return nil, noNetwork
	}
	target, err := a.str(0)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Network.DisconnectNode(target); err != nil {
		return nil, p2pError(err)
	}
	return nil, nil
}

var setNetworkActiveDoc = methodDoc{
	category: catNetwork,
	desc:     "Disable/enable all p2p network activity.",
	args:     []argDoc{reqArg("state", argBool, "true to enable networking, false to disable")},
	results:  []resultDoc{rBool("", "The value that was passed in")},
	examples: exBoth("false", "false"),
}

func (s *Server) setNetworkActive(_ context.Context, a args) (any, error) {
	if s.cfg.Network == nil {
		return nil, noNetwork
	}
	if !a.has(0) {
		return nil, errorf(codeInvalidParams, "setnetworkactive: state (true or false) is required")
	}
	active, err := a.boolAt(0, true)
	if err != nil {
		return nil, err
	}
	s.cfg.Network.SetNetworkActive(active)
	return active, nil
}

var setBanDoc = methodDoc{
	category: catNetwork,
	desc:     "Attempts to add or remove an IP/Subnet, or a libp2p peer ID, from the banned list.",
	args: []argDoc{
		reqArg("subnet", argStr, "The IP/Subnet (see getpeerinfo for nodes IP) with an optional netmask (default is /32 = single IP), or a libp2p peer ID (see getpeerinfo for peerid)"),
		reqArg("command", argStr, "'add' to add an IP/Subnet or peer ID to the list, 'remove' to remove it from the list"),
		optArg("bantime", argNum, "0", "time in seconds how long (or until when if [absolute] is set) the peer is banned (0 or less means the default time of 24h)"),
		optArg("absolute", argBool, "false", "If set, the bantime must be an absolute timestamp expressed in "+unixTime),
	},
	results: []resultDoc{rNull("")},
	examples: []exampleLine{
		exCLI(`"192.168.0.6" "add" 86400`),
		exCLI(`"192.168.0.0/24" "add"`),
		exCLI(`"` + examplePeerID + `" "add" 86400`),
		exCLI(`"` + examplePeerID + `" "remove"`),
		exRPC(`"` + examplePeerID + `", "add", 86400`),
	},
}

// setBan bans or unbans an IP address, a subnet or (Cairn's peers being
// libp2p peers) a peer ID.
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
	switch err := s.cfg.Network.SetBan(id, cmd == "add", d); {
	case err == nil:
		return nil, nil
	case errors.Is(err, ErrInvalidBanTarget):
		return nil, errorf(codeInvalidSubnet, "Error: Invalid IP/Subnet or peer ID")
	case errors.Is(err, ErrAlreadyBanned):
		return nil, errorf(codeNodeAdded, "Error: IP/Subnet already banned")
	case errors.Is(err, ErrNotBanned):
		return nil, errorf(codeInvalidSubnet, "Error: Unban failed. Requested address/subnet was not previously manually banned.")
	default:
		return nil, errorf(codeMisc, "%v", err)
	}
}

// bannedEntry is one entry of listbanned.
type bannedEntry struct {
	Address       string `json:"address"`
	BanCreated    int64  `json:"ban_created"`
	BannedUntil   int64  `json:"banned_until"`
	BanDuration   int64  `json:"ban_duration"`
	TimeRemaining int64  `json:"time_remaining"`
}

var listBannedDoc = methodDoc{
	category: catNetwork,
	desc:     "List all banned IPs/Subnets and peer IDs, whether banned by setban or for misbehaviour.",
	results: []resultDoc{rArr("", "", rObj("", "",
		rStr("address", "The banned subnet (a single address is a /32 or /128), or libp2p peer ID"),
		rTime("ban_created", "The "+unixTime+" the ban was created"),
		rTime("banned_until", "The "+unixTime+" the ban expires"),
		rNum("ban_duration", "The ban duration, in seconds"),
		rNum("time_remaining", "The time remaining until the ban expires, in seconds"),
	))},
	examples: exBoth("", ""),
}

func (s *Server) listBanned(context.Context, args) (any, error) {
	out := []bannedEntry{}
	if s.cfg.Network == nil {
		return out, nil
	}
	for _, b := range s.cfg.Network.Banned() {
		out = append(out, bannedEntry{Address: b.Address, BanCreated: b.Created.Unix(), BannedUntil: b.Until.Unix(),
			BanDuration: int64(b.Until.Sub(b.Created).Seconds()), TimeRemaining: int64(time.Until(b.Until).Seconds())})
	}
	return out, nil
}

var clearBannedDoc = methodDoc{
	category: catNetwork,
	desc:     "Clear all banned peers.",
	results:  []resultDoc{rNull("")},
	examples: exBoth("", ""),
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
	BytesSent      int64   `json:"bytessent"`
	BytesRecv      int64   `json:"bytesrecv"`
	GossipScore    float64 `json:"gossip_score"` // Cairn's: the GossipSub router's score
	SyncedHeaders  int32   `json:"synced_headers"`
	SyncedBlocks   int32   `json:"synced_blocks"`
	StartingHeight int32   `json:"startingheight"`
}

var getPeerInfoDoc = methodDoc{
	category: catNetwork,
	desc:     "Returns data about each connected network peer as a json array of objects.",
	results: []resultDoc{rArr("", "", rObj("", "",
		rNum("id", "Peer index (its place in this list: Cairn names peers by peerid)"),
		rStr("peerid", "Cairn's: the peer's libp2p peer ID"),
		rStr("addr", "The peer's multiaddr"),
		rBool("inbound", "Inbound (true) or Outbound (false)"),
		rTime("conntime", "The "+unixTime+" of the connection"),
		rNum("pingtime", "The last ping time in seconds, if any").opt(),
		rNum("bytessent", "The total bytes sent"),
		rNum("bytesrecv", "The total bytes received"),
		rNum("gossip_score", "Cairn's: the GossipSub router's score of the peer"),
		rNum("synced_headers", "The last header we have in common with this peer (-1 if none)"),
		rNum("synced_blocks", "The last block we have in common with this peer (-1 if none)"),
		rNum("startingheight", "The starting height (block) of the peer"),
	))},
	examples: exBoth("", ""),
}

func (s *Server) getPeerInfo(context.Context, args) (any, error) {
	out := []peerInfo{}
	if s.cfg.Network == nil {
		return out, nil
	}
	for i, p := range s.cfg.Network.Peers() {
		out = append(out, peerInfo{ID: i, PeerID: p.ID, Addr: p.Addr, Inbound: p.Inbound, ConnTime: p.ConnTime.Unix(),
			PingTime: p.PingTime.Seconds(), BytesSent: p.BytesSent, BytesRecv: p.BytesRecv, GossipScore: p.GossipScore, SyncedHeaders: p.SyncedHeaders, SyncedBlocks: p.SyncedBlocks, StartingHeight: p.StartingHeight})
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

var getNetworkInfoDoc = methodDoc{
	category: catNetwork,
	desc:     "Returns an object containing various state info regarding P2P networking.",
	results: []resultDoc{rObj("", "",
		rNum("version", "the server version"),
		rStr("subversion", "the server subversion string"),
		rNum("protocolversion", "the protocol version"),
		rHex("localservices", "the services we offer to the network (none: Cairn's peers speak libp2p)"),
		rBool("localrelay", "true if transaction relay is requested from peers"),
		rNum("timeoffset", "the time offset"),
		rBool("networkactive", "whether p2p networking is enabled"),
		rNum("connections", "the total number of connections"),
		rNum("connections_in", "the number of inbound connections"),
		rNum("connections_out", "the number of outbound connections"),
		rArr("networks", "information per network (always empty: Cairn's peers are reached over libp2p)", rElision("")),
		rNum("relayfee", "minimum relay fee rate for transactions in "+coinUnit+"/kvB"),
		rNum("incrementalfee", "minimum fee rate increment for mempool limiting or replacement in "+coinUnit+"/kvB"),
		rArr("localaddresses", "list of local addresses (always empty: see p2paddresses)", rElision("")),
		rArr("p2paddresses", "Cairn's: the node's libp2p multiaddrs, with /p2p/<peer id>", rStr("", "a multiaddr")),
		rStr("warnings", "any network and blockchain warnings"),
	)},
	examples: exBoth("", ""),
}

func (s *Server) getNetworkInfo(context.Context, args) (any, error) {
	peers, in, active, addrs := 0, 0, false, []string{}
	if s.cfg.Network != nil {
		addrs, active = s.cfg.Network.Addrs(), s.cfg.Network.NetworkActive()
		for _, p := range s.cfg.Network.Peers() {
			peers++
			if p.Inbound {
				in++
			}
		}
	}
	return networkInfo{
		Connections:     peers,
		ConnectionsIn:   in,
		ConnectionsOut:  peers - in,
		NetworkActive:   active,
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

var getConnectionCountDoc = methodDoc{
	category: catNetwork,
	desc:     "Returns the number of connections to other nodes.",
	results:  []resultDoc{rNum("", "The connection count")},
	examples: exBoth("", ""),
}

func (s *Server) getConnectionCount(context.Context, args) (any, error) {
	if s.cfg.Network == nil {
		return 0, nil
	}
	return s.cfg.Network.PeerCount(), nil
}
