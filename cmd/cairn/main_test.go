package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestVersion ensures `cairn version` prints the version.
func TestVersion(t *testing.T) {
	t.Parallel()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"cairn", "version"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "cairn "+version) {
		t.Fatalf("got %q", out.String())
	}
}
