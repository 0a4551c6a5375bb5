package testnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClearDirRefusesForeignFolders ensures up never deletes a folder
// that is not a stopped testnet's.
func TestClearDirRefusesForeignFolders(t *testing.T) {
	dir := t.TempDir()
	precious := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(precious, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := clearDir(dir, "cairn", false); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("clearDir on a foreign folder: %v", err)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatal("the foreign file was deleted")
	}
	if err := clearDir(filepath.Join(dir, "missing"), "cairn", false); err != nil {
		t.Fatalf("a missing folder: %v", err)
	}
	empty := t.TempDir()
	if err := clearDir(empty, "cairn", false); err != nil {
		t.Fatalf("an empty folder: %v", err)
	}
}

// TestParseGroups covers the partition syntax and its errors.
func TestParseGroups(t *testing.T) {
	s := &State{Nodes: []*Node{{Name: "node0"}, {Name: "node1"}, {Name: "node2"}}}
	g, err := s.ParseGroups([]string{"0", "node1,2"})
	if err != nil || len(g) != 2 || len(g[1]) != 2 || g[1][0] != 1 || g[1][1] != 2 {
		t.Fatalf("groups %v, %v", g, err)
	}
	for _, bad := range [][]string{{"0"}, {"0", "0,1"}, {"0", "7"}} {
		if _, err := s.ParseGroups(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if err := s.Partition([][]int{{0}, {1}}); err == nil || !strings.Contains(err.Error(), "no group") {
		t.Fatalf("a partition leaving node2 out: %v", err)
	}
}

// TestStartingBits ensures the starting target gives one block per
// spacing at the measured rate, and never an easier one than regtest's.
func TestStartingBits(t *testing.T) {
	if got := startingBits(1, time.Second); got != regtestPowLimit {
		t.Fatalf("a tiny rate: %08x", got)
	}
	// 2^32 hashes a block: target 2^224, bits 0x1d010000... (Bitcoin's
	// difficulty-1 is 0x1d00ffff, 2^32 hashes).
	if got := startingBits(float64(1<<32), time.Second); got != 0x1d010000 {
		t.Fatalf("2^32 hashes a block: %08x", got)
	}
}

// TestCallTimeout ensures the calls that mine get minutes, not the ten
// seconds of the others: a timed-out generatetoaddress still mines, and
// the scenario that made it then failed on a block it had.
func TestCallTimeout(t *testing.T) {
	for _, m := range []string{"generatetoaddress", "generateblock"} {
		if d := callTimeout(m); d != mineTimeout {
			t.Errorf("%s: %v", m, d)
		}
	}
	if d := callTimeout("getblockcount"); d != rpcTimeout {
		t.Errorf("getblockcount: %v", d)
	}
}
