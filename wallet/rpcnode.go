package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
)

// RPCNode reaches a Cairn node over its JSON-RPC interface.
type RPCNode struct {
	URL            string // http://host:port/
	User, Password string
	Client         *http.Client
}

// ErrUnreachable marks a node that did not answer.
var ErrUnreachable = errors.New("wallet: cannot reach the node")

// RPCError is an error the node answered with.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("the node refused: %s (code %d)", e.Message, e.Code)
}

// call runs one JSON-RPC 1.0 request.
func (n *RPCNode) call(method string, result any, params ...any) error {
	if params == nil {
		params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
	req, err := http.NewRequest(http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("wallet: %w", err)
	}
	req.SetBasicAuth(n.User, n.Password)
	req.Header.Set("Content-Type", "application/json")
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s (is cairn node running? check --rpc-addr and --network): %v", ErrUnreachable, n.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("wallet: the node at %s refused the credentials (check --rpc-user/--rpc-password or the cookie file)", n.URL)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrUnreachable, n.URL, err)
	}
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *RPCError       `json:"error"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("wallet: the node's answer to %s does not decode (HTTP %d): %v", method, resp.StatusCode, err)
	}
	if out.Error != nil {
		return out.Error
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(out.Result, result)
}

// BlockCount implements Node.
func (n *RPCNode) BlockCount() (int32, error) {
	var h int32
	return h, n.call("getblockcount", &h)
}

// BlockHash implements Node.
func (n *RPCNode) BlockHash(height int32) (chainhash.Hash, error) {
	var s string
	if err := n.call("getblockhash", &s, height); err != nil {
		return chainhash.Hash{}, err
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("wallet: getblockhash: %w", err)
	}
	return *h, nil
}

// BlockFilter implements Node.
func (n *RPCNode) BlockFilter(hash chainhash.Hash) ([]byte, error) {
	var out struct {
		Filter string `json:"filter"`
	}
	if err := n.call("getblockfilter", &out, hash.String(), "basic"); err != nil {
		return nil, err
	}
	return hex.DecodeString(out.Filter)
}

// Block implements Node.
func (n *RPCNode) Block(hash chainhash.Hash) (*wire.MsgBlock, error) {
	var s string
	if err := n.call("getblock", &s, hash.String(), 0); err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("wallet: getblock: %w", err)
	}
	return consensus.DecodeBlock(raw)
}

// SendRawTransaction implements Node.
func (n *RPCNode) SendRawTransaction(tx *wire.MsgTx) error {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	return n.call("sendrawtransaction", nil, hex.EncodeToString(buf.Bytes()))
}

// EstimateFee implements Node: estimatesmartfee's rate (coins per 1,000
// vbytes) in base units per vbyte.
func (n *RPCNode) EstimateFee(target int) (float64, error) {
	var out struct {
		FeeRate *float64 `json:"feerate"`
		Errors  []string `json:"errors"`
	}
	if err := n.call("estimatesmartfee", &out, target); err != nil {
		return 0, err
	}
	if out.FeeRate == nil {
		return 0, fmt.Errorf("wallet: no fee estimate yet %v", out.Errors)
	}
	return *out.FeeRate * 1e8 / 1000, nil
}
