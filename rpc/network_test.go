package rpc

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestGetNetworkInfo ensures getnetworkinfo answers with Core's fields,
// which clients read to learn the node's version.
func TestGetNetworkInfo(t *testing.T) {
	t.Parallel()
	r := richNode(t)
	res := mustCall(t, r.srv, "getnetworkinfo")
	m := object(t, res)
	for _, k := range []string{"version", "subversion", "protocolversion", "localservices", "localrelay", "timeoffset",
		"networkactive", "connections", "connections_in", "connections_out", "networks", "relayfee",
		"incrementalfee", "localaddresses", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %s", k, res)
		}
	}
	var info struct {
		Version    int     `json:"version"`
		SubVersion string  `json:"subversion"`
		RelayFee   float64 `json:"relayfee"`
	}
	decode(t, res, &info)
	if info.Version <= 0 || !strings.HasPrefix(info.SubVersion, "/") || !strings.HasSuffix(info.SubVersion, "/") ||
		info.RelayFee <= 0 {
		t.Errorf("got %+v; want a positive version, a /Name:x.y.z/ subversion and a relay fee", info)
	}
	_, rerr := call(t, r.srv, "getnetworkinfo", 1)
	checkErr(t, "with a parameter", rerr, -1, "too many parameters")
}

// fakeNetwork is a peer-to-peer node with one inbound peer, one ban and
// one added node.
type fakeNetwork struct{ active bool }

var _ Network = (*fakeNetwork)(nil)

func (f *fakeNetwork) PeerCount() int { return 1 }
func (f *fakeNetwork) Addrs() []string {
	return []string{"/ip4/127.0.0.1/tcp/27333/p2p/" + examplePeerID}
}
func (f *fakeNetwork) Peers() []PeerInfo {
	return []PeerInfo{{ID: examplePeerID, Addr: "/ip4/192.168.0.6/tcp/27333", Inbound: true,
		ConnTime: testNow(), PingTime: 30 * time.Millisecond, StartingHeight: 3,
		SyncedHeaders: 5, SyncedBlocks: -1, BytesSent: 10, BytesRecv: 20, GossipScore: 1.5}}
}
func (f *fakeNetwork) SetBan(string, bool, time.Duration) error { return nil }
func (f *fakeNetwork) Banned() []Ban {
	return []Ban{{Address: "192.168.0.0/24", Created: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)},
		{Address: examplePeerID, Created: time.Now(), Until: time.Now().Add(24 * time.Hour)}}
}
func (f *fakeNetwork) ClearBanned() error           { return nil }
func (f *fakeNetwork) AddNode(string, string) error { return nil }
func (f *fakeNetwork) AddedNodes() []string {
	return []string{"/ip4/192.168.0.6/tcp/27333/p2p/" + examplePeerID}
}
func (f *fakeNetwork) DisconnectNode(string) error  { return nil }
func (f *fakeNetwork) SetNetworkActive(active bool) { f.active = active }
func (f *fakeNetwork) NetworkActive() bool          { return f.active }

// failingNetwork is fakeNetwork whose AddNode and DisconnectNode fail with
// err.
type failingNetwork struct {
	fakeNetwork
	err error
}

func (f *failingNetwork) AddNode(string, string) error             { return f.err }
func (f *failingNetwork) DisconnectNode(string) error              { return f.err }
func (f *failingNetwork) SetBan(string, bool, time.Duration) error { return f.err }

// TestNetworkErrors ensures addnode, disconnectnode and setban answer the
// Network's errors, wrapped or not, with Core's codes and messages, and any
// other error of addnode as an invalid parameter.
func TestNetworkErrors(t *testing.T) {
	t.Parallel()
	f := &failingNetwork{fakeNetwork: fakeNetwork{active: true}}
	s := newServer(t, Config{User: testUser, Password: testPass, Network: f})
	addr := "/ip4/192.168.0.6/tcp/27333/p2p/" + examplePeerID
	tests := []struct {
		name     string
		err      error
		method   string
		params   []any
		wantCode int
		wantMsg  string
	}{
		{name: "add an added node", err: ErrAlreadyAdded, method: "addnode", params: []any{addr, "add"},
			wantCode: -23, wantMsg: "Error: Node already added"},
		{name: "remove a node not added", err: fmt.Errorf("remove %s: %w", addr, ErrNotAdded), method: "addnode",
			params: []any{addr, "remove"}, wantCode: -24, wantMsg: "Error: Node could not be removed. It has not been added previously."},
		{name: "disconnect a peer not connected", err: ErrNotConnected, method: "disconnectnode", params: []any{examplePeerID},
			wantCode: -29, wantMsg: "Node not found in connected nodes"},
		{name: "other error", err: errors.New("invalid multiaddr"), method: "addnode", params: []any{"nonsense", "onetry"},
			wantCode: -8, wantMsg: "invalid multiaddr"},
		{name: "ban an invalid subnet", err: fmt.Errorf("%w: \"1.2.3\"", ErrInvalidBanTarget), method: "setban",
			params: []any{"1.2.3", "add"}, wantCode: -30, wantMsg: "Error: Invalid IP/Subnet or peer ID"},
		{name: "ban a banned subnet", err: ErrAlreadyBanned, method: "setban", params: []any{"10.0.0.0/8", "add"},
			wantCode: -23, wantMsg: "Error: IP/Subnet already banned"},
		{name: "unban what is not banned", err: ErrNotBanned, method: "setban", params: []any{"10.0.0.1", "remove"},
			wantCode: -30, wantMsg: "Error: Unban failed. Requested address/subnet was not previously manually banned."},
	}
	for _, test := range tests {
		f.err = test.err
		_, rerr := call(t, s, test.method, test.params...)
		checkErr(t, test.name, rerr, test.wantCode, test.wantMsg)
		if rerr != nil && rerr.Message != test.wantMsg {
			t.Errorf("%q: message %q, want %q", test.name, rerr.Message, test.wantMsg)
		}
	}
}
