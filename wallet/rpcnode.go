package wallet

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/rpcclient"
)

// RPCNode reaches a Cairn node over its JSON-RPC interface.
type RPCNode struct {
	URL            string // http://host:port/
	User, Password string
	// Client sends the requests; nil means a default one. Each call is
	// bounded to two minutes as well as by the client's own timeout.
	Client *http.Client

	ctx context.Context
}

// rpcTimeout bounds one call of the node: enough for a large block from
// a busy node, not forever for a hung one.
const rpcTimeout = 2 * time.Minute

// ErrUnreachable marks a node that did not answer.
var ErrUnreachable = errors.New("wallet: cannot reach the node")

// WithContext returns a copy of n whose calls end when ctx does, such as
// when the user interrupts a command.
func (n *RPCNode) WithContext(ctx context.Context) *RPCNode {
	c := *n
	c.ctx = ctx
	return &c
}

// call runs one JSON-RPC request. The node's own errors come back as
// *rpcclient.Error (errors.As finds them), prefixed "the node refused".
func (n *RPCNode) call(method string, result any, params ...any) error {
	client, err := rpcclient.New(rpcclient.Config{URL: n.URL, User: n.User, Password: n.Password,
		Timeout: rpcTimeout, HTTPClient: n.Client})
	if err != nil {
		return fmt.Errorf("wallet: %w", err)
	}
	ctx := n.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	err = client.Call(ctx, method, result, params...)
	var rerr *rpcclient.Error
	var terr *rpcclient.TransportError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rerr):
		return fmt.Errorf("the node refused: %w", err)
	case errors.Is(err, rpcclient.ErrUnauthorized):
		return fmt.Errorf("wallet: the node at %s refused the credentials (check --rpc-user/--rpc-password or the cookie file)", n.URL)
	case ctx.Err() != nil:
		return fmt.Errorf("wallet: %s: %w", method, ctx.Err())
	case errors.As(err, &terr):
		return fmt.Errorf("%w at %s (is cairn node running? check --rpc-addr and --network): %w", ErrUnreachable, n.URL, terr.Err)
	default:
		return fmt.Errorf("wallet: %w", err)
	}
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
		FeeRate *json.Number `json:"feerate"`
		Errors  []string     `json:"errors"`
	}
	if err := n.call("estimatesmartfee", &out, target); err != nil {
		return 0, err
	}
	if out.FeeRate == nil {
		return 0, fmt.Errorf("wallet: no fee estimate yet %v", out.Errors)
	}
	perKvB, err := consensus.ParseCoinsJSON(out.FeeRate.String())
	if err != nil {
		return 0, fmt.Errorf("wallet: the node's fee estimate: %w", err)
	}
	return float64(perKvB) / 1000, nil
}

// MempoolTxIDs implements PoolNode.
func (n *RPCNode) MempoolTxIDs() ([]chainhash.Hash, error) {
	var ids []string
	if err := n.call("getrawmempool", &ids); err != nil {
		return nil, err
	}
	out := make([]chainhash.Hash, 0, len(ids))
	for _, s := range ids {
		h, err := chainhash.NewHashFromStr(s)
		if err != nil {
			return nil, fmt.Errorf("wallet: getrawmempool: %w", err)
		}
		out = append(out, *h)
	}
	return out, nil
}

// MempoolTx implements PoolNode.
func (n *RPCNode) MempoolTx(txid chainhash.Hash) (*wire.MsgTx, error) {
	var s string
	if err := n.call("getrawtransaction", &s, txid.String(), false); err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("wallet: getrawtransaction: %w", err)
	}
	return consensus.DecodeTx(raw)
}
