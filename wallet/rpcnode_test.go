package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/rpcclient"
)

// TestRPCNodeErrors ensures RPCNode decodes the node's answers and that
// each way a call fails reads as before: the node's refusal with its code
// (an *rpcclient.Error for errors.As), refused credentials, no node with a
// hint what to check (ErrUnreachable), and an interrupted command.
func TestRPCNodeErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, _ := r.BasicAuth(); user != "u" || pass != "p" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req struct {
			Method string `json:"method"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		switch req.Method {
		case "getblockcount":
			_, _ = w.Write([]byte(`{"result":12,"error":null,"id":1}`))
		case "estimatesmartfee":
			// 0.00001234 coins per 1,000 vB: 1.234 base units per vB.
			_, _ = w.Write([]byte(`{"result":{"feerate":0.00001234,"blocks":2},"error":null,"id":1}`))
		case "sendrawtransaction":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"result":null,"error":{"code":-26,"message":"min relay fee not met"},"id":1}`))
		default:
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	node := &RPCNode{URL: srv.URL + "/", User: "u", Password: "p"}

	if h, err := node.BlockCount(); err != nil || h != 12 {
		t.Fatalf("BlockCount: %d, %v", h, err)
	}

	if rate, err := node.EstimateFee(2); err != nil || rate != 1.234 {
		t.Fatalf("EstimateFee: %v, %v; want 1.234 base units per vB", rate, err)
	}

	err := node.SendRawTransaction(wire.NewMsgTx(2))
	var rerr *rpcclient.Error
	if !errors.As(err, &rerr) || rerr.Code != -26 {
		t.Fatalf("refused send: %#v", err)
	}
	if want := "the node refused: min relay fee not met (code -26)"; err.Error() != want {
		t.Fatalf("refused send: %q, want %q", err.Error(), want)
	}

	wrong := &RPCNode{URL: srv.URL + "/", User: "u", Password: "wrong"}
	if _, err := wrong.BlockCount(); err == nil ||
		err.Error() != "wallet: the node at "+srv.URL+"/ refused the credentials (check --rpc-user/--rpc-password or the cookie file)" {
		t.Fatalf("wrong credentials: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := node.WithContext(ctx).BlockHash(1); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("interrupted: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()
	_, err = (&RPCNode{URL: closed, User: "u", Password: "p"}).BlockCount()
	if !errors.Is(err, ErrUnreachable) || !strings.HasPrefix(err.Error(),
		"wallet: cannot reach the node at "+closed+" (is cairn node running? check --rpc-addr and --network): ") {
		t.Fatalf("no node: %v", err)
	}
}
