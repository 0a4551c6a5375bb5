package p2p

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
)

// rpcWatch is the gossip router's RPC logger. The router drops, before any
// validator sees them, RPCs over the size limit and RPCs that do not
// decode, and only tells its RPC logger; rpcWatch turns those records into
// misbehaviour of the sender. Other records are discarded (the router
// logs every RPC at debug level).
type rpcWatch struct{ n *Node }

func (w rpcWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w rpcWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w rpcWatch) WithGroup(string) slog.Handler            { return w }

func (w rpcWatch) Handle(_ context.Context, r slog.Record) error {
	var why string
	switch {
	case r.Message == "error reading rpc":
		// Stream errors are routine; only a message over the limit is the
		// sender's doing.
		if err, _ := recordAttr(r, "err").(error); errors.Is(err, msgio.ErrMsgTooLarge) {
			why = "sent an oversized gossip message"
		}
	case r.Message == "bogus rpc from":
		why = "sent an undecodable gossip message"
	case strings.HasPrefix(r.Message, "RPC's control message is too large"):
		why = "sent an oversized gossip control message"
	}
	if why == "" {
		return nil
	}
	from, ok := recordAttr(r, "from").(peer.ID)
	if !ok {
		from, ok = recordAttr(r, "peer").(peer.ID)
	}
	if ok {
		// Not on the router's goroutine: a ban closes connections.
		go w.n.Misbehaving(from, banScoreLimit, why)
	}
	return nil
}

// recordAttr returns the value of the record's attribute key, or nil.
func recordAttr(r slog.Record, key string) any {
	var v any
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.Any()
			return false
		}
		return true
	})
	return v
}
