package chain

import "log/slog"

// log is the package logger, silent until UseLogger is called.
var log = slog.New(slog.DiscardHandler)

// UseLogger sets the logger the package writes to. Call it before creating
// a BlockChain.
func UseLogger(l *slog.Logger) { log = l }
