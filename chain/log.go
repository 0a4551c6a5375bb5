package chain

import (
	"context"
	"log/slog"
)

// log is the package logger, silent until UseLogger is called.
var log = slog.New(discardHandler{})

// UseLogger sets the logger the package writes to.
func UseLogger(l *slog.Logger) { log = l }

// discardHandler drops every record.
type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }
