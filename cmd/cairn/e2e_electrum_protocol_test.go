package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// protoClient is a scripted Electrum protocol client.
type protoClient struct {
	t     *testing.T
	conn  net.Conn
	r     *bufio.Reader
	id    int
	notes []map[string]any
}

func dialElectrum(t *testing.T, addr string) *protoClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &protoClient{t: t, conn: conn, r: bufio.NewReaderSize(conn, 1<<20)}
}

func (c *protoClient) read(d time.Duration) map[string]any {
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		c.t.Fatalf("server sent %q", line)
	}
	return m
}

// call sends a request and returns its result, keeping notifications.
func (c *protoClient) call(method string, params ...any) any {
	c.t.Helper()
	c.id++
	if params == nil {
		params = []any{}
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": c.id, "method": method, "params": params})
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		c.t.Fatal(err)
	}
	for {
		m := c.read(30 * time.Second)
		if m == nil {
			c.t.Fatalf("%s: no answer", method)
		}
		if _, ok := m["method"]; ok {
			c.notes = append(c.notes, m)
			continue
		}
		if m["error"] != nil {
			c.t.Fatalf("%s: %v", method, m["error"])
		}
		return m["result"]
	}
}

// waitStatus waits for a notification giving sh the status want.
func (c *protoClient) waitStatus(sh, want, what string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last any
	for time.Now().Before(deadline) {
		for len(c.notes) > 0 {
			m := c.notes[0]
			c.notes = c.notes[1:]
			if p, _ := m["params"].([]any); m["method"] == "blockchain.scripthash.subscribe" && len(p) == 2 && p[0] == sh {
				last = p[1]
				if p[1] == want {
					return
				}
			}
		}
		if m := c.read(time.Until(deadline)); m != nil {
			c.notes = append(c.notes, m)
		}
	}
	c.t.Fatalf("%s: last status %v, want %s", what, last, want)
}

func statusOfEntries(entries ...string) string {
	h := sha256.Sum256([]byte(strings.Join(entries, "")))
	return hex.EncodeToString(h[:])
}

// TestE2EElectrumProtocol drives a real cairn node's Electrum server with
// a scripted client: subscribe to an address, see a payment arrive in the
// pool, confirm, return to the pool when its block is invalidated,
// confirm again when it is reconsidered; and broadcast a transaction
// through the server.
func TestE2EElectrumProtocol(t *testing.T) {
	t.Parallel()
	eaddr := freeAddr(t)
	n := startNode(t, t.TempDir(), nodeOpts{args: []string{"--electrum-addr", eaddr}})
	dir := t.TempDir()
	a := &walletCLI{t: t, n: n, file: filepath.Join(dir, "a.dat"), env: []string{"CAIRN_WALLET_PASSWORD=a"}}
	b := &walletCLI{t: t, n: n, file: filepath.Join(dir, "b.dat"), env: []string{"CAIRN_WALLET_PASSWORD=b"}}
	a.ok(nil, []string{"create"}, nil)
	b.ok(nil, []string{"create"}, nil)
	n.mustCall(t, nil, "generatetoaddress", 101, a.address())
	addrB := b.address()
	var valid struct {
		ScriptPubKey string `json:"scriptPubKey"`
	}
	n.mustCall(t, &valid, "validateaddress", addrB)
	script, err := hex.DecodeString(valid.ScriptPubKey)
	if err != nil || len(script) == 0 {
		t.Fatalf("validateaddress %s: %+v", addrB, valid)
	}
	sum := sha256.Sum256(script)
	for i, j := 0, len(sum)-1; i < j; i, j = i+1, j-1 {
		sum[i], sum[j] = sum[j], sum[i]
	}
	sh := hex.EncodeToString(sum[:])

	c := dialElectrum(t, eaddr)
	c.call("server.version", "e2e", "1.4")
	c.call("blockchain.headers.subscribe")
	if st := c.call("blockchain.scripthash.subscribe", sh); st != nil {
		t.Fatalf("fresh address status %v", st)
	}

	var sent struct{ TxID string }
	a.ok(&sent, []string{"send"}, nil, addrB, "2")
	c.waitStatus(sh, statusOfEntries(sent.TxID+":0:"), "payment in the pool")
	var hashes []string
	n.mustCall(t, &hashes, "generatetoaddress", 1, a.address())
	c.waitStatus(sh, statusOfEntries(sent.TxID+":102:"), "payment confirmed")

	n.mustCall(t, nil, "invalidateblock", hashes[0])
	c.waitStatus(sh, statusOfEntries(sent.TxID+":0:"), "payment back in the pool after invalidateblock")
	n.mustCall(t, nil, "reconsiderblock", hashes[0])
	c.waitStatus(sh, statusOfEntries(sent.TxID+":102:"), "payment confirmed again after reconsiderblock")

	// B pays back through the Electrum server: a PSBT signed by the
	// wallet, finalized without broadcast, broadcast by the client.
	var created struct{ PSBT string }
	b.ok(&created, []string{"psbt", "create"}, []string{"--fee-rate", "2"}, a.address(), "1")
	var signed struct{ PSBT string }
	b.ok(&signed, []string{"psbt", "sign"}, nil, created.PSBT)
	var final struct{ Hex, TxID string }
	b.ok(&final, []string{"psbt", "finalize"}, nil, signed.PSBT)
	if got := c.call("blockchain.transaction.broadcast", final.Hex); got != final.TxID {
		t.Fatalf("broadcast returned %v, want %s", got, final.TxID)
	}
	c.waitStatus(sh, statusOfEntries(sent.TxID+":102:", final.TxID+":0:"), "the spend in the pool")
	hist, _ := c.call("blockchain.scripthash.get_history", sh).([]any)
	if len(hist) != 2 || fmt.Sprint(hist[1].(map[string]any)["height"]) != "0" {
		t.Fatalf("history %v", hist)
	}
}
