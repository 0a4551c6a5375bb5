package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestE2ESoak runs a short soak on a local testnet of four real nodes (two
// mining): 10 transactions a second from a load generator to random nodes
// (chains of unconfirmed children and BIP125 replacements among them), two
// partitions healed after 10 s each, and one node killed and restarted.
// Afterwards no honest node has banned another, no accepted transaction is
// lost (each is confirmed once or in every pool, and of a replacement and
// what it replaced exactly one survives), every node has one tip and one
// UTXO set, and the money supply is the sum of the subsidies. Under the
// old transaction push, the first heal banned peers for flooding.
func TestE2ESoak(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "localnet")
	cleanupTestnet(t, dir)
	// Debug logs name every transaction a node takes or refuses, which
	// is what a loss is investigated with (see lostTxLogs).
	out, errOut, code := runCairnFor(t, 2*time.Minute, []string{"CAIRN_LOG_LEVEL=debug"},
		"testnet", "up", "--dir", dir, "--nodes", "4", "--miners", "2", "--spacing", "1s", "--detach")
	if code != 0 {
		t.Fatalf("up: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runLong(t, 8*time.Minute, "testnet", "soak", "--dir", dir, "--json", "--duration", "70s", "--rate", "10",
		"--partition-every", "30s", "--partition-for", "10s", "--kill-for", "6s", "--settle", "2m", "--coins", "100")
	t.Logf("soak:\n%s%s", out, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rep struct {
		Accepted     int       `json:"accepted"`
		Replacements int       `json:"replacements"`
		Lost         int       `json:"lost"`
		LostTxIDs    []string  `json:"lost_txids"`
		Bans         []string  `json:"bans"`
		Heals        []float64 `json:"heal_convergence_s"`
		CatchUp      float64   `json:"catch_up_s"`
		OneTip       bool      `json:"one_tip"`
		OneUTXOSet   bool      `json:"one_utxo_set"`
		Supply       bool      `json:"supply_equals_subsidies"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("soak: exit %d, no JSON report: %v", code, err)
	}
	if code != 0 {
		t.Errorf("soak: exit %d", code)
	}
	if rep.Accepted < 200 || rep.Replacements == 0 {
		t.Errorf("%d transactions accepted, %d replacements: the load did not run", rep.Accepted, rep.Replacements)
	}
	if len(rep.Heals) != 2 || rep.CatchUp <= 0 {
		t.Errorf("heals %v, catch-up %v s: want two partitions healed and one restart", rep.Heals, rep.CatchUp)
	}
	if rep.Lost != 0 || len(rep.Bans) != 0 || !rep.OneTip || !rep.OneUTXOSet || !rep.Supply {
		t.Errorf("lost %d, bans %v, one tip %v, one UTXO set %v, supply equals subsidies %v",
			rep.Lost, rep.Bans, rep.OneTip, rep.OneUTXOSet, rep.Supply)
		t.Logf("what the nodes logged of the lost transactions:\n%s", lostTxLogs(dir, rep.LostTxIDs))
	}
}

// lostTxLogs returns the lines of every node's log that name one of the
// lost transactions (given as the soak reports them: txid first), then
// those naming the parents their refusals name: a child is lost when its
// parent is, and the parent's lines say why.
func lostTxLogs(dir string, lost []string) string {
	var b strings.Builder
	logs, _ := filepath.Glob(filepath.Join(dir, "node*", "node.log"))
	var raw []string
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err == nil {
			raw = append(raw, string(data))
		}
	}
	grep := func(id string) []string {
		var lines []string
		for i, text := range raw {
			for line := range strings.Lines(text) {
				if strings.Contains(line, id) {
					lines = append(lines, filepath.Base(filepath.Dir(logs[i]))+": "+line)
				}
			}
		}
		return lines
	}
	spent := regexp.MustCompile(`spent ([0-9a-f]{64}):`)
	for _, l := range lost {
		txid, _, _ := strings.Cut(l, " ")
		fmt.Fprintf(&b, "%s:\n", txid)
		parents := map[string]bool{}
		for _, line := range grep(txid) {
			b.WriteString("  " + line)
			for _, m := range spent.FindAllStringSubmatch(line, -1) {
				parents[m[1]] = true
			}
		}
		for parent := range parents {
			fmt.Fprintf(&b, "  its parent %s:\n", parent)
			for _, line := range grep(parent) {
				b.WriteString("    " + line)
			}
		}
	}
	return b.String()
}
