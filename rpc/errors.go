package rpc

import (
	"fmt"

	"github.com/btcsuite/btcd/btcjson"
)

// Bitcoin Core's error codes (SPEC section 8), as btcjson names them.
const (
	codeMisc             = btcjson.ErrRPCMisc
	codeType             = btcjson.ErrRPCType
	codeInvalidAddress   = btcjson.ErrRPCInvalidAddressOrKey
	codeInvalidParameter = btcjson.ErrRPCInvalidParameter
	codeDatabase         = btcjson.ErrRPCDatabase
	codeDeserialization  = btcjson.ErrRPCDeserialization
	codeVerify           = btcjson.ErrRPCVerify
	codeVerifyRejected   = btcjson.ErrRPCVerifyRejected
	codeAlreadyInChain   = btcjson.ErrRPCVerifyAlreadyInChain
	codeInWarmup         = btcjson.ErrRPCInWarmup
	codeP2PDisabled      = btcjson.ErrRPCClientP2PDisabled
	codeNodeAdded        = btcjson.ErrRPCClientNodeAlreadyAdded
	codeNodeNotAdded     = btcjson.ErrRPCClientNodeNotAdded
	codeNodeNotConnected = btcjson.ErrRPCClientNodeNotConnected
	codeInvalidSubnet    = btcjson.ErrRPCClientInvalidIPOrSubnet
	codeMethodNotFound   = btcjson.RPCErrorCode(-32601)
	codeInvalidRequest   = btcjson.RPCErrorCode(-32600)
	codeParse            = btcjson.RPCErrorCode(-32700)
	codeInvalidParams    = btcjson.RPCErrorCode(-32602)
	codeInternal         = btcjson.RPCErrorCode(-32603)
)

// Error is a JSON-RPC error with Bitcoin Core's code.
type Error struct {
	Code    btcjson.RPCErrorCode `json:"code"`
	Message string               `json:"message"`
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// errorf returns an *Error with a formatted message.
func errorf(code btcjson.RPCErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
