package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium (Debian's chromium) driven over the
// DevTools protocol (chromedp), recording every console error, uncaught
// exception and browser-log error of the pages it shows.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

// chromiumPath finds Debian's chromium, or skips the test where it is
// missing, unless CAIRN_BROWSER_REQUIRED is set (as .ci/run sets it),
// where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CAIRN_BROWSER_REQUIRED") != "" {
		t.Fatal("chromium is required (CAIRN_BROWSER_REQUIRED is set) but not installed")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	// The first run starts the browser, on the context it lives by.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			// A navigation cuts the open event stream: not a page error.
			if strings.Contains(m.URL, "/events") || strings.Contains(m.Text, "/events") {
				continue
			}
			b.mu.Lock()
			b.errors = append(b.errors, m.String()+" at "+m.URL)
			b.mu.Unlock()
		}
	}()
	return b
}

// limited returns the browser's context with a time limit for one step.
func (b *browser) limited() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 60*time.Second)
}

// do runs steps, failing the test on an error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.limited()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := tryEval[T](b, expr)
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// tryEval is eval returning the error, for a page that may be navigating
// (its old document gone, the new one not yet there).
func tryEval[T any](b *browser, expr string) (T, error) {
	ctx, cancel := b.limited()
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// loaded reports whether the document that replaced the one marked with
// marker has loaded.
func (b *browser) loaded(marker, sel string) bool {
	ok, err := tryEval[bool](b, fmt.Sprintf(`!window[%q] && document.readyState === "complete" && !!document.querySelector(%q)`, marker, sel))
	return err == nil && ok
}

// open goes to url as a link would, and waits until the new document has
// loaded. (chromedp's Navigate waits for a load event that, for a page
// answered with 404 or left from one, can come a minute late.)
func (b *browser) open(url string) {
	b.t.Helper()
	marker := fmt.Sprintf("cairn-%d", time.Now().UnixNano())
	// A mark on the old document tells it from the new one.
	eval[bool](b, fmt.Sprintf(`(window[%q] = true, location.href = %q, true)`, marker, url))
	b.waitFor("the page "+url+" to load", 30*time.Second, func() bool { return b.loaded(marker, "body") })
}

// load opens url, lets its scripts run and its event stream open, and
// fails on any error the page logged.
func (b *browser) load(url string) {
	b.t.Helper()
	b.open(url)
	b.do("settle "+url, chromedp.Sleep(700*time.Millisecond))
	b.checkErrors(url)
}

func (b *browser) checkErrors(where string) {
	b.t.Helper()
	b.checkErrorsBut(where, "")
}

// checkErrorsBut is checkErrors letting pass the browser's report that the
// page at url itself answered 404 (a not-found page says so in its
// status, as it should).
func (b *browser) checkErrorsBut(where, url string) {
	b.t.Helper()
	b.mu.Lock()
	var errs []string
	for _, e := range b.errors {
		if url == "" || !strings.Contains(e, "status of 404") || !strings.HasSuffix(e, " at "+url) {
			errs = append(errs, e)
		}
	}
	b.errors = nil
	b.mu.Unlock()
	if len(errs) > 0 {
		b.t.Fatalf("%s: the page logged errors:\n%s", where, strings.Join(errs, "\n"))
	}
}

// text returns the text of the first element matching a CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, sel)))
}

// location is the page's URL.
func (b *browser) location() string {
	b.t.Helper()
	return eval[string](b, `document.location.toString()`)
}

// waitFor polls cond every 250 ms for up to d.
func (b *browser) waitFor(what string, d time.Duration, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// click clicks the first element matching a CSS selector, as the page's
// script does: live pages replace their parts at any moment, so a node
// looked up through the protocol can be gone by the time it is clicked.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.waitFor("a "+sel+" to click", 20*time.Second, func() bool {
		ok, err := tryEval[bool](b, fmt.Sprintf(`(e => e ? (e.click(), true) : false)(document.querySelector(%q))`, sel))
		return err == nil && ok
	})
}

// screenshot saves the page to CAIRN_SCREENSHOTS/name.png when that
// variable names a folder (how docs/ gets its pictures).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("CAIRN_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := b.limited()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// search types q into the search box, submits it, and returns the URL
// of the page it leads to.
func (b *browser) search(q string) string {
	b.t.Helper()
	marker := fmt.Sprintf("cairn-%d", time.Now().UnixNano())
	eval[bool](b, fmt.Sprintf(`(window[%q] = true, true)`, marker))
	b.do("search "+q, chromedp.SetValue(chromedp.CSS("#search"), q), chromedp.Submit(chromedp.CSS("#search")))
	b.waitFor("the search for "+q+" to lead somewhere", 30*time.Second, func() bool { return b.loaded(marker, "main h1") })
	return b.location()
}

// TestE2EExplorerBrowser opens every page of a `cairn node`'s explorer in
// headless Chromium: none may log an error; the search box finds a block
// by height and by hash, a transaction and an address; a block mined
// during the test appears on the home page without a reload; and a stale
// block shows on the chain-tips page.
func TestE2EExplorerBrowser(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	haddr := freeAddr(t)
	n := startNode(t, t.TempDir(), nodeOpts{args: []string{"--http-addr", haddr}})
	base := "http://" + haddr
	dir := t.TempDir()
	a := &walletCLI{t: t, n: n, file: filepath.Join(dir, "a.dat"), env: []string{"CAIRN_WALLET_PASSWORD=a"}}
	w := &walletCLI{t: t, n: n, file: filepath.Join(dir, "b.dat"), env: []string{"CAIRN_WALLET_PASSWORD=b"}}
	a.ok(nil, []string{"create"}, nil)
	w.ok(nil, []string{"create"}, nil)
	addrA, addrB := a.address(), w.address()
	n.mustCall(t, nil, "generatetoaddress", 101, addrA)
	var paid struct{ TxID string }
	a.ok(&paid, []string{"send"}, nil, addrB, "2")
	var mined []string
	n.mustCall(t, &mined, "generatetoaddress", 1, addrA)
	// A stale block: invalidate the tip, mine past it, reconsider.
	var stale []string
	n.mustCall(t, &stale, "generatetoaddress", 1, addrA)
	n.mustCall(t, nil, "invalidateblock", stale[0])
	n.mustCall(t, nil, "generatetoaddress", 2, addrA)
	n.mustCall(t, nil, "reconsiderblock", stale[0])
	a.ok(nil, []string{"send"}, nil, addrB, "0.3") // one in the pool

	// Every page, without an error.
	b.load(base + "/")
	b.screenshot("explorer-home")
	b.load(base + "/block/" + mined[0])
	if got := b.text("#block-hash"); got != mined[0] {
		t.Fatalf("block page shows %q", got)
	}
	b.screenshot("explorer-block")
	b.load(base + "/tx/" + paid.TxID)
	b.load(base + "/address/" + addrB)
	b.load(base + "/network")
	b.load(base + "/tips")
	b.screenshot("explorer-tips")
	staleRows := eval[int](b, `document.querySelectorAll('#tips-tree g.stale').length`)
	staleTagged := eval[bool](b, fmt.Sprintf(`!!document.querySelector('#tips-tree g.stale[data-hash="%s"]')`, stale[0]))
	if staleRows != 1 || !staleTagged {
		t.Fatalf("chain tips: %d stale blocks drawn, the invalidated one among them: %v", staleRows, staleTagged)
	}
	b.open(base + "/nothing-here")
	if got := b.text("main h1"); got != "Not found" {
		t.Fatalf("a missing page says %q", got)
	}
	b.checkErrorsBut("missing page", base+"/nothing-here")

	// The search box.
	var height int32
	n.mustCall(t, &height, "getblockcount")
	var hash5 string
	n.mustCall(t, &hash5, "getblockhash", 5)
	if url := b.search("5"); !strings.HasSuffix(url, "/block/"+hash5) {
		t.Fatalf("search 5 led to %s", url)
	}
	if url := b.search(mined[0]); !strings.HasSuffix(url, "/block/"+mined[0]) {
		t.Fatalf("search by block hash led to %s", url)
	}
	if url := b.search(paid.TxID); !strings.HasSuffix(url, "/tx/"+paid.TxID) || b.text("#txid") != paid.TxID {
		t.Fatalf("search by txid led to %s", url)
	}
	if url := b.search(addrB); !strings.HasSuffix(url, "/address/"+addrB) || b.text("#address") != addrB {
		t.Fatalf("search by address led to %s", url)
	}
	b.checkErrors("search")
	url := b.search("not a thing")
	if !strings.Contains(url, "/search?q=") || !strings.Contains(b.text("main"), "Search takes") {
		t.Fatalf("a search for nothing led to %s", url)
	}
	b.checkErrorsBut("search for nothing", url)

	// Live: a block mined now appears on the open home page.
	b.load(base + "/")
	if got := b.text("#tip-height"); got != strconv.Itoa(int(height)) {
		t.Fatalf("home page tip height %q, want %d", got, height)
	}
	var fresh []string
	n.mustCall(t, &fresh, "generatetoaddress", 1, addrA)
	b.waitFor("the new block on the home page", 20*time.Second, func() bool {
		has, _ := tryEval[bool](b, fmt.Sprintf(`!!document.querySelector('#latest-blocks a[href="/block/%s"]')`, fresh[0]))
		return has && b.text("#tip-height") == strconv.Itoa(int(height)+1)
	})
	if live := b.text("#live-state"); live != "live" {
		t.Fatalf("live indicator %q", live)
	}
	b.checkErrors("live home page")
}

// TestE2EDashboardBrowser runs a 3-node testnet and its dashboard in
// headless Chromium: the Partition button splits it and the dashboard
// shows two tips, the Heal button joins it and the dashboard shows one,
// with the losing branch's blocks marked stale, and the timeline tells the
// reorganization.
func TestE2EDashboardBrowser(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	dir := filepath.Join(t.TempDir(), "net")
	cleanupTestnet(t, dir)
	if out, errOut, code := runLong(t, 3*time.Minute, "testnet", "up", "--dir", dir, "--nodes", "3", "--miners", "2",
		"--spacing", "2s", "--detach"); code != 0 {
		t.Fatalf("testnet up: %d\n%s%s", code, out, errOut)
	}
	dash := freeAddr(t)
	p := startProc(t, "dashboard", nil, "testnet", "dashboard", "--dir", dir, "--dashboard-addr", dash)
	base := "http://" + dash
	waitHTTP(t, p, base+"/api/state")
	// The dashboard refuses to face a network.
	if _, errOut, code := runCairn(t, nil, "testnet", "dashboard", "--dir", dir, "--dashboard-addr", "0.0.0.0:0"); code == 0 ||
		!strings.Contains(errOut, "loopback only") {
		t.Fatalf("dashboard on 0.0.0.0: exit %d, %s", code, errOut)
	}

	b.load(base + "/")
	summary := func(attr string) string {
		v, _ := tryEval[string](b, fmt.Sprintf(`(document.querySelector('#summary') || {getAttribute: () => ""}).getAttribute(%q) || ""`, attr))
		return v
	}
	b.waitFor("blocks on the dashboard", 60*time.Second, func() bool {
		n, _ := tryEval[int](b, `document.querySelectorAll('#tree g.block').length`)
		return n >= 3 && summary("data-tips") == "1"
	})
	b.click("#btn-partition")
	b.waitFor("the partition on the dashboard", 30*time.Second, func() bool {
		return summary("data-partitioned") == "true"
	})
	// The heights the first poll after the split saw: blocks above them
	// were mined apart.
	atSplit := eval[int](b, `Math.max(...[...document.querySelectorAll('.node[data-height]')].map(e => +e.dataset.height))`)
	if groups := eval[int](b, `document.querySelectorAll('section.group[data-group]').length`); groups != 2 {
		t.Fatalf("%d partition groups drawn", groups)
	}
	// The two miners (node0 and node1, on either side) each extend their
	// own branch past the height of the split: two tips.
	b.waitFor("both branches to grow", 120*time.Second, func() bool {
		type nodeTip struct {
			Tip    string
			Height int
		}
		tips, _ := tryEval[map[string]nodeTip](b, `Object.fromEntries([...document.querySelectorAll('.node[data-tip]')].map(e => [e.dataset.node, {Tip: e.dataset.tip, Height: +e.dataset.height}]))`)
		n0, n1 := tips["node0"], tips["node1"]
		return n0.Tip != "" && n0.Tip != n1.Tip && n0.Height > atSplit && n1.Height > atSplit && summary("data-tips") == "2"
	})
	b.screenshot("dashboard-partition")
	b.click("#btn-heal")
	defer func() {
		if t.Failed() {
			_, body := httpGet(t, base+"/api/state")
			t.Logf("dashboard state: %s", body)
			t.Logf("page summary: %s", b.text("#summary"))
		}
	}()
	b.waitFor("one tip and a stale branch after the heal", 120*time.Second, func() bool {
		staleBlocks, _ := tryEval[int](b, `document.querySelectorAll('#tree g.block[data-stale="true"]').length`)
		return summary("data-partitioned") == "false" && summary("data-tips") == "1" && staleBlocks > 0
	})
	timeline := b.text("#timeline")
	for _, want := range []string{"partitioned into", "the network is whole again", "reorganized"} {
		if !strings.Contains(timeline, want) {
			t.Fatalf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	// Kill and restart from the page.
	b.click(`.node[data-node="node2"] button.btn-kill`)
	b.waitFor("node2 down", 30*time.Second, func() bool {
		down, _ := tryEval[bool](b, `!!document.querySelector('.node.down[data-node="node2"]')`)
		return down
	})
	b.click(`.node[data-node="node2"] button.btn-restart`)
	b.waitFor("node2 up", 90*time.Second, func() bool {
		up, _ := tryEval[bool](b, `!!document.querySelector('.node[data-node="node2"]:not(.down)')`)
		return up
	})
	timeline = b.text("#timeline")
	if !strings.Contains(timeline, "node2 killed") || !strings.Contains(timeline, "node2 restarted") {
		t.Fatalf("timeline lacks the kill and restart:\n%s", timeline)
	}
	b.checkErrors("dashboard")

	// The restarted node catches up: one tip again.
	b.waitFor("one tip after the restart", 60*time.Second, func() bool {
		var state struct {
			Tips int `json:"tips"`
		}
		code, body := httpGet(t, base+"/api/state")
		return code == 200 && json.Unmarshal(body, &state) == nil && state.Tips == 1
	})
	// A form another site posts is refused.
	req, _ := http.NewRequest("POST", base+"/action/kill?node=0", nil)
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site kill answered %d, want 403", resp.StatusCode)
	}
}

// httpGet answers a GET's status and body.
func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// waitHTTP waits until url answers 200, or p exits.
func waitHTTP(t *testing.T, p *proc, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("%s did not answer (exited %v)", url, p.exited())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
