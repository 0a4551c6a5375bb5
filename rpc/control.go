package rpc

import (
	"context"
	"time"
)

// This file holds Bitcoin Core's "control" methods except help, whose
// handler sits with the help rendering in help.go.

var uptimeDoc = methodDoc{
	category: catControl,
	desc:     "Returns the total uptime of the server.",
	results:  []resultDoc{rNum("", "The number of seconds that the server has been running")},
	examples: exBoth("", ""),
}

func (s *Server) uptime(context.Context, args) (any, error) {
	return int64(time.Since(s.cfg.StartTime).Seconds()), nil
}

// stopMessage is stop's answer.
const stopMessage = "Cairn server stopping"

var stopDoc = methodDoc{
	category: catControl,
	desc:     "Request a graceful shutdown of the Cairn node.",
	results:  []resultDoc{rStr("", "A string with the content '"+stopMessage+"'")},
	examples: exBoth("", ""),
}

func (s *Server) stop(context.Context, args) (any, error) {
	if s.cfg.Stop == nil {
		return nil, errorf(codeMisc, "this server cannot stop its node")
	}
	// Answer first; the node stops after the response is written.
	go func() {
		time.Sleep(100 * time.Millisecond)
		s.cfg.Stop()
	}()
	return stopMessage, nil
}
