package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// handler is one RPC method.
type handler struct {
	// doc is the method's help, and the source of its parameters.
	doc *methodDoc
	// params names the parameters in order, each by its name and then its
	// aliases (named arguments map onto them); the first required of them
	// must be given. Both come from doc.
	params   [][]string
	required int
	fn       func(ctx context.Context, a args) (any, error)
}

// usage returns the method's call line, Core's help synopsis.
func (h *handler) usage(method string) string { return h.doc.callLine(method) }

// positional turns the request's params (absent, null, an array, or an
// object of named arguments) into positional arguments.
func (h *handler) positional(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	switch raw[0] {
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errorf(codeInvalidRequest, "Params must be an array or object: %v", err)
		}
		return list, nil
	case '{':
		var named map[string]json.RawMessage
		if err := json.Unmarshal(raw, &named); err != nil {
			return nil, errorf(codeInvalidRequest, "Params must be an array or object: %v", err)
		}
		// As Core's transformNamedArguments: a parameter takes the first of
		// its names given, and any name left over is unknown.
		out := make([]json.RawMessage, 0, len(h.params))
		used := make(map[string]bool, len(named))
		for i, names := range h.params {
			for _, name := range names {
				if v, ok := named[name]; ok {
					for len(out) < i {
						out = append(out, json.RawMessage("null"))
					}
					out = append(out, v)
					used[name] = true
					break
				}
			}
		}
		for name := range named {
			if !used[name] {
				return nil, errorf(codeInvalidParameter, "Unknown named parameter %s", name)
			}
		}
		return out, nil
	}
	return nil, errorf(codeInvalidRequest, "Params must be an array or object")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// args are a call's positional arguments; the accessors return Bitcoin
// Core's errors for a wrong JSON type (-3) and a bad value (-8).
type args []json.RawMessage

// has reports whether argument i is present and not null.
func (a args) has(i int) bool { return i < len(a) && !isNull(a[i]) }

// jsonType names a JSON value's type as Core's messages do.
func jsonType(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

func typeError(raw json.RawMessage, want string) error {
	return errorf(codeType, "JSON value of type %s is not of expected type %s", jsonType(raw), want)
}

// str returns argument i as a string.
func (a args) str(i int) (string, error) {
	var s string
	if err := json.Unmarshal(a[i], &s); err != nil {
		return "", typeError(a[i], "string")
	}
	return s, nil
}

// list returns argument i, a JSON array, as arguments of its own, so that
// its elements are read with the same accessors and errors.
func (a args) list(i int) (args, error) {
	var l []json.RawMessage
	if err := json.Unmarshal(a[i], &l); err != nil || jsonType(a[i]) != "array" {
		return nil, typeError(a[i], "array")
	}
	return l, nil
}

// int64At returns argument i as an integer, or def when absent.
func (a args) int64At(i int, def int64) (int64, error) {
	if !a.has(i) {
		return def, nil
	}
	var n json.Number
	if err := json.Unmarshal(a[i], &n); err != nil || jsonType(a[i]) != "number" {
		return 0, typeError(a[i], "number")
	}
	v, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) {
			return 0, errorf(codeType, "JSON integer out of range or not whole: %s", n)
		}
		return 0, errorf(codeType, "JSON integer out of range: %s", n)
	}
	return v, nil
}

// int32At is int64At within the int32 range.
func (a args) int32At(i int, def int32) (int32, error) {
	v, err := a.int64At(i, int64(def))
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, errorf(codeType, "JSON integer out of range: %d", v)
	}
	return int32(v), nil
}

// boolAt returns argument i as a bool, or def when absent. Like Core's
// getblock verbosity, a number is accepted where a bool is documented only
// by the callers that ask for it.
func (a args) boolAt(i int, def bool) (bool, error) {
	if !a.has(i) {
		return def, nil
	}
	var b bool
	if err := json.Unmarshal(a[i], &b); err != nil {
		return false, typeError(a[i], "bool")
	}
	return b, nil
}

// hash returns argument i as a block or transaction hash in display
// (byte-reversed) hex.
func (a args) hash(i int, name string) (chainhash.Hash, error) {
	s, err := a.str(i)
	if err != nil {
		return chainhash.Hash{}, err
	}
	if len(s) != 2*chainhash.HashSize {
		return chainhash.Hash{}, errorf(codeInvalidParameter, "%s must be of length 64 (not %d, for '%s')", name, len(s), s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return chainhash.Hash{}, errorf(codeInvalidParameter, "%s must be hexadecimal string (not '%s')", name, s)
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, errorf(codeInvalidParameter, "%s: %v", name, err)
	}
	return *h, nil
}

// hexBytes returns argument i decoded from hex. A value that is not a
// string is a type error (-3), as in Core; one that is not hex gets badHex.
func (a args) hexBytes(i int, badHex *Error) ([]byte, error) {
	s, err := a.str(i)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, badHex
	}
	return b, nil
}
