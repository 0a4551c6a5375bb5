package testnet

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairnchain/cairn/internal/webassets"
)

// The dashboard is a live view of a running testnet in a browser: a column
// per node (tip, height, peers, pool, hash rate), the block tree across
// all nodes (each block with the nodes whose best chain holds it and the
// node that mined it), the partition drawn as groups, and a timeline of
// what happened (blocks found, reorganizations and their depth, nodes
// killed and restarted, partitions and heals, and the narration of a
// running scenario). Buttons partition, heal, kill and restart through the
// same code as the CLI. It is a client of the nodes like the rest of this
// package: it polls them over JSON-RPC and reads the state file, so it
// shows what another shell's commands and scenarios do too.

// ScenarioLog is the file in a testnet's folder that `cairn testnet
// scenario` copies its narration to, for the dashboard's timeline.
const ScenarioLog = "scenario.log"

// Dashboard limits and timings.
const (
	dashPoll = time.Second
	// dashWindow is how many blocks below the highest tip the tree shows.
	dashWindow = 16
	// dashEvents is how many timeline entries are kept.
	dashEvents = 300
	// dashMaxHeaders bounds the block cache (blocks are immutable, but a
	// long run makes many).
	dashMaxHeaders = 20_000
	// dashMaxClients bounds the open event streams.
	dashMaxClients = 32
)

// dashBlock is what the dashboard knows of a block.
type dashBlock struct {
	Hash   string
	Height int32
	Prev   string
	Time   int64
	Miner  string // the node whose payout address the coinbase pays, or ""
}

// DashNode is one node's column.
type DashNode struct {
	Index    int
	Name     string
	Running  bool
	Error    string
	Height   int32
	Tip      string
	Peers    int
	Mempool  int
	HashRate float64
	Mining   bool
	Explorer string
	Group    int // index of its partition group, 0 when whole
	work     string
	stale    []string // tips of branches it knows that lost
}

// DashEvent is one timeline entry.
type DashEvent struct {
	Time time.Time
	Kind string // block, reorg, down, up, partition, heal, scenario, action, error
	Text string
}

// Dashboard polls a testnet and serves its live view.
type Dashboard struct {
	dir, binary string
	log         *slog.Logger
	pages       *template.Template

	mu      sync.Mutex
	blocks  map[string]*dashBlock
	nodes   []DashNode
	groups  [][]int
	events  []DashEvent
	version uint64
	clients map[chan struct{}]struct{}
	// what the last poll saw, to tell what changed
	lastTip      map[string]string // node name -> tip
	lastRunning  map[string]bool
	lastGroups   string
	logOffset    int64
	scenarioSeen bool
	polled       bool
	reported     map[string]bool // blocks whose discovery is on the timeline
}

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

//go:embed templates
var dashTemplates embed.FS

// NewDashboard returns a dashboard of the testnet in dir (its nodes
// restarted with binary).
func NewDashboard(dir, binary string, log *slog.Logger) (*Dashboard, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dashboard{dir: dir, binary: binary, log: log, blocks: map[string]*dashBlock{},
		clients: map[chan struct{}]struct{}{}, lastTip: map[string]string{}, lastRunning: map[string]bool{}}
	funcs := template.FuncMap{
		"short": func(h string) string {
			if len(h) > 12 {
				return h[:6] + "…" + h[len(h)-4:]
			}
			return h
		},
		"clock":    func(t time.Time) string { return t.Format("15:04:05") },
		"hashrate": func(h float64) string { return strconv.FormatFloat(h/1e6, 'f', 2, 64) + " MH/s" },
		"plus":     func(a, b int) int { return a + b },
		"join":     strings.Join,
	}
	t, err := template.New("dashboard").Funcs(funcs).ParseFS(dashTemplates, "templates/dashboard.html")
	if err != nil {
		return nil, fmt.Errorf("testnet: dashboard templates: %w", err)
	}
	d.pages = t
	return d, nil
}

// CheckLoopback refuses a dashboard address that is not on loopback: its
// buttons kill nodes, so it must never face a network.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("testnet: dashboard address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("testnet: the dashboard binds to loopback only (127.0.0.1 or ::1), not %q: its buttons kill nodes", host)
	}
	return nil
}

// Serve listens on addr (loopback only) and serves until ctx ends. ready,
// if not nil, receives the address it listens on.
func (d *Dashboard) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	if err := CheckLoopback(addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("testnet: dashboard: %w", err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { d.run(ctx) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		d.closeClients()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = srv.Shutdown(shut)
	case err = <-errc:
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Handler returns the dashboard's routes.
func (d *Dashboard) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+webassets.Prefix, webassets.Handler())
	mux.HandleFunc("GET /favicon.ico", webassets.Favicon)
	mux.HandleFunc("GET /{$}", d.page)
	mux.HandleFunc("GET /part/state", d.part)
	mux.HandleFunc("GET /events", d.stream)
	mux.HandleFunc("GET /api/state", d.stateJSON)
	mux.HandleFunc("POST /action/{name}", d.action)
	return mux
}

// run polls until ctx ends.
func (d *Dashboard) run(ctx context.Context) {
	t := time.NewTicker(dashPoll)
	defer t.Stop()
	for {
		d.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll reads the state file and every node once, and records what
// changed since the last poll.
func (d *Dashboard) Poll(ctx context.Context) {
	s, err := Load(d.dir, d.binary)
	if err != nil {
		d.addEvent("error", err.Error())
		return
	}
	nodes := make([]DashNode, len(s.Nodes))
	group := map[int]int{}
	for gi, g := range s.Groups {
		for _, i := range g {
			group[i] = gi
		}
	}
	for i, n := range s.Nodes {
		dn := DashNode{Index: i, Name: n.Name, Running: n.running(), Mining: n.Mining, Group: group[i]}
		if n.HTTPAddr != "" {
			dn.Explorer = "http://" + n.HTTPAddr
		}
		if dn.Running {
			d.pollNode(ctx, s, n, &dn)
		} else {
			dn.Error = "down"
		}
		nodes[i] = dn
	}
	// Which node mined a block: the one its coinbase pays.
	payees := map[string]string{}
	for _, n := range s.Nodes {
		payees[n.Address] = n.Name
	}
	for i := range nodes {
		if nodes[i].Error != "" {
			continue
		}
		n := s.Nodes[i]
		d.walk(ctx, s, n, nodes[i].Tip, payees)
		for _, st := range nodes[i].stale {
			d.walk(ctx, s, n, st, payees)
		}
	}
	d.record(s, nodes)
	d.readScenarioLog()
}

// pollNode asks one node for its state.
func (d *Dashboard) pollNode(ctx context.Context, s *State, n *Node, dn *DashNode) {
	var info struct {
		Blocks        int32  `json:"blocks"`
		BestBlockHash string `json:"bestblockhash"`
		ChainWork     string `json:"chainwork"`
	}
	if err := s.CallContext(ctx, n, &info, "getblockchaininfo"); err != nil {
		dn.Error = "not answering"
		return
	}
	dn.Height, dn.Tip, dn.work = info.Blocks, info.BestBlockHash, info.ChainWork
	_ = s.CallContext(ctx, n, &dn.Peers, "getconnectioncount")
	var pool struct {
		Size int `json:"size"`
	}
	if s.CallContext(ctx, n, &pool, "getmempoolinfo") == nil {
		dn.Mempool = pool.Size
	}
	var mining struct {
		HashesPerSec float64 `json:"hashespersec"`
	}
	if s.CallContext(ctx, n, &mining, "getmininginfo") == nil {
		dn.HashRate = mining.HashesPerSec
	}
	var tips []struct {
		Height int32  `json:"height"`
		Hash   string `json:"hash"`
		Status string `json:"status"`
	}
	if s.CallContext(ctx, n, &tips, "getchaintips") == nil {
		for _, t := range tips {
			if t.Status == "valid-fork" && t.Height > info.Blocks-dashWindow {
				dn.stale = append(dn.stale, t.Hash)
			}
		}
	}
}

// walk caches the blocks from hash down dashWindow blocks, asking n for
// those not yet known.
func (d *Dashboard) walk(ctx context.Context, s *State, n *Node, hash string, payees map[string]string) {
	for i := 0; i < dashWindow && hash != ""; i++ {
		d.mu.Lock()
		b := d.blocks[hash]
		d.mu.Unlock()
		if b == nil {
			var blk verboseBlock
			if err := s.CallContext(ctx, n, &blk, "getblock", hash, 2); err != nil {
				return
			}
			b = &dashBlock{Hash: blk.Hash, Height: blk.Height, Prev: blk.Prev, Time: blk.Time}
			if len(blk.Tx) > 0 {
				for _, o := range blk.Tx[0].Vout {
					if name, ok := payees[o.ScriptPubKey.Address]; ok {
						b.Miner = name
						break
					}
				}
			}
			d.mu.Lock()
			if len(d.blocks) >= dashMaxHeaders {
				d.blocks = map[string]*dashBlock{} // start again; the next polls refill the window
			}
			d.blocks[hash] = b
			d.mu.Unlock()
		}
		hash = b.Prev
	}
}

// record stores a poll's result and adds the timeline entries of what
// changed.
func (d *Dashboard) record(s *State, nodes []DashNode) {
	d.mu.Lock()
	defer d.mu.Unlock()
	first := !d.polled
	d.polled = true
	groups := fmt.Sprint(s.Groups)
	if !first && groups != d.lastGroups {
		if len(s.Groups) == 0 {
			d.addEventLocked("heal", "the network is whole again")
		} else {
			d.addEventLocked("partition", "partitioned into "+groupNames(s))
		}
	}
	d.lastGroups = groups
	seenBlocks := map[string]bool{}
	for _, n := range nodes {
		was, known := d.lastRunning[n.Name]
		if !first && known && was != n.Running {
			if n.Running {
				d.addEventLocked("up", n.Name+" restarted")
			} else {
				d.addEventLocked("down", n.Name+" killed")
			}
		}
		d.lastRunning[n.Name] = n.Running
		if n.Error != "" {
			continue
		}
		old := d.lastTip[n.Name]
		if !first && old != "" && old != n.Tip {
			// New blocks on top of the old tip, or a reorganization?
			if depth, fork := d.reorgDepthLocked(old, n.Tip); depth > 0 {
				d.addEventLocked("reorg", fmt.Sprintf("%s reorganized: %d block%s left its best chain above height %d (old tip %s), new tip %s",
					n.Name, depth, plural(depth), fork, shortID(old), shortID(n.Tip)))
			}
			// Blocks it had not seen: reported once, by their miner.
			for h := n.Tip; h != "" && h != old && !seenBlocks[h]; {
				b := d.blocks[h]
				if b == nil || d.reportedLocked(h) {
					break
				}
				seenBlocks[h] = true
				miner := b.Miner
				if miner == "" {
					miner = "an unknown miner"
				}
				d.addEventLocked("block", fmt.Sprintf("block %d %s found by %s", b.Height, shortID(h), miner))
				d.reported[h] = true
				h = b.Prev
			}
		}
		d.lastTip[n.Name] = n.Tip
	}
	d.groups = s.Groups
	d.nodes = nodes
	d.version++
	for c := range d.clients {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// reportedLocked tells whether a block's discovery is already on the
// timeline.
func (d *Dashboard) reportedLocked(hash string) bool {
	if d.reported == nil {
		d.reported = map[string]bool{}
	}
	return d.reported[hash]
}

// reorgDepthLocked returns how many blocks of the chain ending at old are
// not on the chain ending at new, and the height of their fork; 0 when
// new descends from old (or the blocks are not known).
func (d *Dashboard) reorgDepthLocked(old, new string) (int, int32) {
	ob, nb := d.blocks[old], d.blocks[new]
	if ob == nil || nb == nil {
		return 0, 0
	}
	// Bring both to the same height, then walk down together.
	a, b := ob, nb
	for b != nil && b.Height > a.Height {
		b = d.blocks[b.Prev]
	}
	depth := 0
	for a != nil && b != nil && a.Hash != b.Hash {
		if a.Height >= b.Height {
			a = d.blocks[a.Prev]
			depth++
		} else {
			b = d.blocks[b.Prev]
		}
	}
	if a == nil || b == nil {
		return 0, 0
	}
	return depth, a.Height
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func shortID(h string) string {
	if len(h) > 12 {
		return h[:6] + "…" + h[len(h)-4:]
	}
	return h
}

func groupNames(s *State) string {
	var parts []string
	for _, g := range s.Groups {
		var names []string
		for _, i := range g {
			if i < len(s.Nodes) {
				names = append(names, s.Nodes[i].Name)
			}
		}
		parts = append(parts, "{"+strings.Join(names, ", ")+"}")
	}
	return strings.Join(parts, " | ")
}

func (d *Dashboard) addEvent(kind, text string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addEventLocked(kind, text)
}

func (d *Dashboard) addEventLocked(kind, text string) {
	d.events = append(d.events, DashEvent{Time: time.Now(), Kind: kind, Text: text})
	if len(d.events) > dashEvents {
		d.events = slices.Delete(d.events, 0, len(d.events)-dashEvents)
	}
	d.version++
}

// readScenarioLog adds the lines a scenario wrote since the last poll.
func (d *Dashboard) readScenarioLog() {
	f, err := os.Open(filepath.Join(d.dir, ScenarioLog))
	if err != nil {
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return
	}
	d.mu.Lock()
	off := d.logOffset
	first := off == 0 && !d.scenarioSeen
	d.scenarioSeen = true
	d.mu.Unlock()
	if st.Size() < off {
		off = 0 // a new scenario started the file again
	}
	if first {
		// Only what is written while the dashboard runs.
		d.mu.Lock()
		d.logOffset = st.Size()
		d.mu.Unlock()
		return
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return
	}
	r := bufio.NewReader(io.LimitReader(f, 1<<20))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break // a partial line waits for the next poll
		}
		off += int64(len(line))
		if text := strings.TrimSpace(line); text != "" {
			d.addEvent("scenario", text)
		}
	}
	d.mu.Lock()
	d.logOffset = off
	d.mu.Unlock()
}

func (d *Dashboard) render(w http.ResponseWriter, name string) {
	var buf bytes.Buffer
	if err := d.pages.ExecuteTemplate(&buf, name, d.view()); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (d *Dashboard) page(w http.ResponseWriter, _ *http.Request) { d.render(w, "dashboard") }
func (d *Dashboard) part(w http.ResponseWriter, _ *http.Request) { d.render(w, "state") }

// stateJSON answers the view as JSON, for scripts and tests.
func (d *Dashboard) stateJSON(w http.ResponseWriter, _ *http.Request) {
	v := d.view()
	type block struct {
		Hash   string   `json:"hash"`
		Height int32    `json:"height"`
		Miner  string   `json:"miner"`
		Stale  bool     `json:"stale"`
		Nodes  []string `json:"nodes"`
	}
	out := struct {
		Tips        int         `json:"tips"`
		Partitioned bool        `json:"partitioned"`
		Blocks      []block     `json:"blocks"`
		Events      []DashEvent `json:"events"`
	}{Tips: v.Tips, Partitioned: v.Partitioned, Blocks: []block{}, Events: v.Events}
	for _, b := range v.Tree {
		out.Blocks = append(out.Blocks, block{b.Hash, b.Height, b.Miner, b.Stale, b.Nodes})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = jsonEncode(w, out)
}

// stream sends a "tick" event whenever a poll or an action changed the
// view, for live.js.
func (d *Dashboard) stream(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	if len(d.clients) >= dashMaxClients {
		d.mu.Unlock()
		http.Error(w, "too many event streams", http.StatusServiceUnavailable)
		return
	}
	c := make(chan struct{}, 1)
	d.clients[c] = struct{}{}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		if _, ok := d.clients[c]; ok {
			delete(d.clients, c)
		}
		d.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	last := uint64(0)
	for {
		select {
		case <-r.Context().Done():
			return
		case _, ok := <-c:
			if !ok {
				return
			}
			d.mu.Lock()
			v := d.version
			d.mu.Unlock()
			if v == last {
				continue
			}
			last = v
			_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := fmt.Fprintf(w, "event: tick\ndata: {\"version\":%d}\n\n", v); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func (d *Dashboard) closeClients() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.clients {
		delete(d.clients, c)
		close(c)
	}
}

// sameOrigin guards the buttons against other web pages: a browser sends
// Origin (or Sec-Fetch-Site) with a cross-site form, which is refused.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		return false
	}
	return true
}

// action runs a button: the same calls as the CLI's commands.
func (d *Dashboard) action(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	name := r.PathValue("name")
	err := d.do(r.Context(), name, r.FormValue("node"), r.FormValue("groups"))
	if err != nil {
		d.addEvent("error", name+": "+err.Error())
	} else {
		d.Poll(r.Context())
	}
	if r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		msg := ""
		if err != nil {
			msg = err.Error()
			w.WriteHeader(http.StatusBadRequest)
		}
		_ = jsonEncode(w, map[string]string{"error": msg})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (d *Dashboard) do(ctx context.Context, name, node, groups string) error {
	s, err := Load(d.dir, d.binary)
	if err != nil {
		return err
	}
	switch name {
	case "partition":
		var args []string
		if groups = strings.TrimSpace(groups); groups != "" {
			args = strings.Fields(groups)
		} else {
			// Two halves, alternating, so that the first two nodes (the
			// miners when some nodes do not mine) end up on either side.
			var a, b []string
			for i := range s.Nodes {
				if i%2 == 0 {
					a = append(a, strconv.Itoa(i))
				} else {
					b = append(b, strconv.Itoa(i))
				}
			}
			args = []string{strings.Join(a, ","), strings.Join(b, ",")}
		}
		g, err := s.ParseGroups(args)
		if err != nil {
			return err
		}
		return s.Partition(g)
	case "heal":
		return s.Heal()
	case "kill", "restart":
		n, err := s.Node(node)
		if err != nil {
			return err
		}
		if name == "kill" {
			return s.Kill(n)
		}
		rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		return s.Restart(rctx, n)
	}
	return fmt.Errorf("no action %q (partition, heal, kill, restart)", name)
}
