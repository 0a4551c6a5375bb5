package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/chaintest"
)

// The decoders must turn any input into a message or an error: never a
// panic, and never a message that breaks their checks.

func FuzzDecodeStatus(f *testing.F) {
	g := chainparams.Regtest().GenesisHash().String()
	f.Add([]byte(`{"network":"regtest","genesis":"` + g + `","best":"` + g + `","height":0,"work":"2"}`))
	f.Add([]byte(`{"height":-1}`))
	f.Add([]byte(`{"work":"-5"}`))
	f.Add([]byte(`[]`))
	// Over maxStatusBytes: malformed, not a stream that failed.
	f.Add([]byte(`{"network":"` + strings.Repeat("x", maxStatusBytes) + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeStatus(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is not errMalformed", err)
			}
			return
		}
		if s.Height < 0 || s.work().Sign() < 0 || len(s.Best) != 64 || len(s.Genesis) != 64 {
			t.Fatalf("accepted a bad status %+v", s)
		}
	})
}

func FuzzDecodeHeadersRequest(f *testing.F) {
	g := chainparams.Regtest().GenesisHash().String()
	f.Add([]byte(`{"locator":["` + g + `"]}`))
	f.Add([]byte(`{"locator":["zz"]}`))
	f.Add([]byte(`{"locator":` + strings.Repeat(`"`+g+`",`, 3) + `]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		locator, err := decodeHeadersRequest(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is not errMalformed", err)
			}
			return
		}
		if len(locator) > maxLocatorHashes {
			t.Fatalf("accepted a locator of %d hashes", len(locator))
		}
	})
}

func FuzzDecodeGetBlocks(f *testing.F) {
	g := chainparams.Regtest().GenesisHash().String()
	f.Add([]byte(`{"hashes":["` + g + `"]}`))
	f.Add([]byte(`{"hashes":[]}`))
	f.Add([]byte(`{"hashes":["` + strings.Repeat("0", 63) + `"]}`))
	f.Add([]byte(`{"hashes":[` + strings.Repeat(`"`+g+`",`, 16) + `"` + g + `"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hashes, err := decodeGetBlocks(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is not errMalformed", err)
			}
			return
		}
		if len(hashes) == 0 || len(hashes) > maxBlocksPerRequest {
			t.Fatalf("accepted a request of %d hashes", len(hashes))
		}
	})
}

func FuzzReadHeaders(f *testing.F) {
	g := chaintest.New(chainparams.Regtest())
	var buf bytes.Buffer
	buf.Write(binary.LittleEndian.AppendUint32(nil, 2))
	for i := range 2 {
		_ = g.NextBlock("b"+itoa(i), nil, nil).Header.Serialize(&buf)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(buf.Bytes()[:100])
	f.Fuzz(func(t *testing.T, data []byte) {
		headers, err := readHeaders(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(headers) > maxHeadersPerResponse || 4+80*len(headers) > len(data) {
			t.Fatalf("read %d headers from %d bytes", len(headers), len(data))
		}
		var out bytes.Buffer
		for i := range headers {
			_ = headers[i].Serialize(&out)
		}
		if !bytes.Equal(out.Bytes(), data[4:4+out.Len()]) {
			t.Fatal("decoded headers do not serialize back to their bytes")
		}
	})
}

func FuzzReadBlockFrame(f *testing.F) {
	g := chaintest.New(chainparams.Regtest())
	var buf bytes.Buffer
	_ = g.NextBlock("b1", nil, nil).Serialize(&buf)
	frame := binary.LittleEndian.AppendUint32(nil, uint32(buf.Len()))
	f.Add(append(frame, buf.Bytes()...))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(append(binary.LittleEndian.AppendUint32(nil, 10), buf.Bytes()[:10]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		block, err := readBlockFrame(bytes.NewReader(data))
		if err != nil || block == nil {
			return
		}
		var out bytes.Buffer
		if err := block.Serialize(&out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data[4:4+out.Len()]) {
			t.Fatal("a decoded block does not serialize back to its frame")
		}
	})
}

// TestRequestFloodRefused ensures a peer that floods status requests is
// refused past the limit, but neither scored nor disconnected: a burst is
// what an honest node under load sends too.
func TestRequestFloodRefused(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	net := chainparams.Regtest()
	a, b := newTestNode(t, ctx, net, nil), newTestNode(t, ctx, net, nil)
	connect(t, ctx, b, a)
	waitFor(t, 10*time.Second, "the handshake", func() bool { return a.node.PeerCount() == 1 })
	refused := 0
	for i := 0; i < requestBurst+20; i++ {
		s, err := b.node.host.NewStream(ctx, a.node.ID(), a.node.protocol("status"))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_ = json.NewEncoder(s).Encode(b.node.ourStatus())
		_ = s.CloseWrite()
		if _, err := decodeStatus(s); err != nil {
			refused++
		}
		s.Close()
	}
	if refused == 0 {
		t.Error("no request over the limit was refused")
	}
	if a.node.bans.score(b.node.ID()) != 0 || a.node.bans.banned(b.node.ID()) {
		t.Error("the flood cost misbehaviour points")
	}
	if a.node.host.Network().Connectedness(b.node.ID()) != network.Connected {
		t.Error("the flooding peer was disconnected")
	}
}

func FuzzDecodeBlockTxnRequest(f *testing.F) {
	g := chainparams.Regtest().GenesisHash().String()
	f.Add([]byte(`{"hash":"` + g + `","indexes":[1,2,5]}`))
	f.Add([]byte(`{"hash":"` + g + `","indexes":[2,1]}`))
	f.Add([]byte(`{"hash":"` + g + `","indexes":[-1]}`))
	f.Add([]byte(`{"hash":"zz","indexes":[1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, indexes, err := decodeBlockTxnRequest(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is not errMalformed", err)
			}
			return
		}
		for i, idx := range indexes {
			if idx < 0 || idx >= maxCompactTxs || (i > 0 && idx <= indexes[i-1]) {
				t.Fatalf("accepted indexes %v", indexes)
			}
		}
	})
}

// TestConcurrentRequestLimit ensures the limit on open sync requests
// admits up to its count per peer, counts peers apart, and frees a slot on
// release.
func TestConcurrentRequestLimit(t *testing.T) {
	l := newRequestLimiter(requestRate, requestBurst)
	var releases []func()
	for i := range 3 {
		r, ok := l.open("p", 3)
		if !ok {
			t.Fatalf("request %d refused", i)
		}
		releases = append(releases, r)
	}
	if _, ok := l.open("p", 3); ok {
		t.Fatal("a fourth open request was admitted")
	}
	if _, ok := l.open("q", 3); !ok {
		t.Fatal("another peer's request was refused")
	}
	releases[0]()
	if _, ok := l.open("p", 3); !ok {
		t.Fatal("a released slot was not freed")
	}
}

func FuzzReadTxReply(f *testing.F) {
	fx := newTxFixture(f, chainparams.Regtest(), 1)
	var buf bytes.Buffer
	_ = fx.spends[0].Serialize(&buf)
	f.Add(append(binary.LittleEndian.AppendUint32(nil, uint32(buf.Len())), buf.Bytes()...))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := readTxReply(bytes.NewReader(data))
		if err != nil || tx == nil {
			return
		}
		var out bytes.Buffer
		if err := tx.Serialize(&out); err != nil || !bytes.Equal(out.Bytes(), data[4:4+out.Len()]) {
			t.Fatal("a decoded transaction does not serialize back to its frame")
		}
	})
}

func FuzzReadInv(f *testing.F) {
	var one bytes.Buffer
	_ = writeInv(&one, []chainhash.Hash{{1}, {2}})
	f.Add(one.Bytes())
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := readInv(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(inv) == 0 || len(inv) > maxInvEntries || len(data) < 4+32*len(inv) {
			t.Fatalf("accepted an announcement of %d from %d bytes", len(inv), len(data))
		}
	})
}

func FuzzReadWant(f *testing.F) {
	var want bytes.Buffer
	_ = writeWant(&want, []uint32{0, 3, 9})
	f.Add(want.Bytes(), 10)
	f.Add([]byte{2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, 5)
	f.Fuzz(func(t *testing.T, data []byte, announced int) {
		if announced < 0 || announced > maxInvEntries {
			return
		}
		out, err := readWant(bytes.NewReader(data), announced)
		if err != nil {
			return
		}
		for i, idx := range out {
			if int(idx) >= announced || (i > 0 && idx <= out[i-1]) {
				t.Fatalf("accepted indices %v of %d", out, announced)
			}
		}
	})
}
