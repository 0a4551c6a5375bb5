package explorer

import (
	"cmp"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/cairnchain/cairn/chain"
	"github.com/cairnchain/cairn/internal/coreshape"
)

func jsonEncoder(w io.Writer) *json.Encoder { return json.NewEncoder(w) }

// --- chain tips ---

// tipsWindow is how many blocks below the tip the tree shows; branches
// that fork lower are listed but not drawn.
const tipsWindow = 30

// maxDrawnBranches bounds the side branches drawn (the highest first).
const maxDrawnBranches = 12

// treeBlock is a block drawn in the chain-tips tree.
type treeBlock struct {
	Hash   string
	Height int32
	X, Y   int
	Stale  bool
	// PX, PY is where the line to its parent ends (HasParent false for
	// the lowest block drawn).
	PX, PY    int
	HasParent bool
}

type tipRow struct {
	Hash      string
	Height    int32
	BranchLen int32
	Status    string
	ForkAt    int32
	Drawn     bool
}

type tipsData struct {
	Tips          []tipRow
	Blocks        []treeBlock
	Width, Height int
	Columns       []treeColumn
	BestHeight    int32
}

type treeColumn struct {
	X     int
	Label string
	Stale bool
}

// Tree geometry, in SVG units.
const (
	treeColW   = 170
	treeRowH   = 30
	treeBlockW = 150
	treeBlockH = 22
	treeTop    = 34
)

func (s *Server) tipsData() *tipsData {
	best := s.cfg.Chain.BestSnapshot()
	d := &tipsData{BestHeight: best.Height}
	low := max(0, best.Height-tipsWindow+1)
	tips := s.cfg.Chain.ChainTips()
	type branch struct {
		tip   chain.ChainTip
		nodes []*chain.BlockInfo // tip first
	}
	var branches []branch
	for _, t := range tips {
		row := tipRow{Hash: t.Hash.String(), Height: t.Height, BranchLen: t.BranchLen, Status: t.Status, ForkAt: t.Height - t.BranchLen}
		if t.Status != "active" && row.ForkAt >= low-1 && len(branches) < maxDrawnBranches {
			// Walk the branch down to the main chain.
			var nodes []*chain.BlockInfo
			h := t.Hash
			for i := int32(0); i < t.BranchLen; i++ {
				info, err := s.cfg.Chain.BlockInfo(h)
				if err != nil {
					break
				}
				nodes = append(nodes, info)
				h = info.Header.PrevBlock
			}
			if len(nodes) == int(t.BranchLen) {
				branches = append(branches, branch{tip: t, nodes: nodes})
				row.Drawn = true
			}
		}
		if t.Status == "active" {
			row.Status = "active (best chain)"
			row.Drawn, row.ForkAt = true, -1
		}
		d.Tips = append(d.Tips, row)
	}
	top := best.Height
	for _, b := range branches {
		top = max(top, b.tip.Height)
	}
	y := func(h int32) int { return treeTop + int(top-h)*treeRowH }
	x := func(col int) int { return 10 + col*treeColW }
	d.Columns = append(d.Columns, treeColumn{X: x(0), Label: "best chain"})
	for h := best.Height; h >= low; h-- {
		hash, err := s.cfg.Chain.BlockHashByHeight(h)
		if err != nil {
			break
		}
		b := treeBlock{Hash: hash.String(), Height: h, X: x(0), Y: y(h)}
		if h > low {
			b.HasParent, b.PX, b.PY = true, x(0)+treeBlockW/2, y(h-1)
		}
		d.Blocks = append(d.Blocks, b)
	}
	for i, br := range branches {
		col := i + 1
		label := "stale branch"
		if br.tip.Status != "valid-fork" {
			label = br.tip.Status
		}
		d.Columns = append(d.Columns, treeColumn{X: x(col), Label: label, Stale: true})
		for j, n := range br.nodes {
			b := treeBlock{Hash: n.Hash.String(), Height: n.Height, X: x(col), Y: y(n.Height), Stale: true, HasParent: true}
			if j == len(br.nodes)-1 {
				// Its parent is on the main chain.
				b.PX, b.PY = x(0)+treeBlockW, y(n.Height-1)+treeBlockH/2
			} else {
				b.PX, b.PY = x(col)+treeBlockW/2, y(n.Height-1)
			}
			d.Blocks = append(d.Blocks, b)
		}
	}
	d.Width = x(len(d.Columns)) + 10
	d.Height = y(low) + treeBlockH + 10
	return d
}

func (s *Server) tipsPage(w http.ResponseWriter, _ *http.Request) {
	s.render(w, 200, "tips", "layout", s.wrap("Chain tips", s.tipsData()))
}

// --- network ---

// networkWindow is how many recent blocks the network page charts.
const networkWindow = 1000

type intervalBin struct {
	From, To int64 // seconds
	Observed int
	Expected float64
	// Widths of the observed and expected bars, percent of the largest.
	ObsW, ExpW float64
}

type networkData struct {
	Height         int32
	Difficulty     float64
	NextDifficulty float64
	Hashrate       float64
	Spacing        int64 // seconds
	HalfLife       int64 // seconds (0 without ASERT)
	Blocks         int   // intervals measured
	MeanInterval   float64
	Bins           []intervalBin
	Peers          []Peer
	// Series for the charts: block times, difficulties, intervals.
	Chart chartData
}

type chartData struct {
	Times      []int64   `json:"times"`
	Difficulty []float64 `json:"difficulty"`
	Heights    []int32   `json:"heights"`
	Intervals  []int64   `json:"intervals"`
	BinMids    []float64 `json:"binMids"`
	Observed   []int     `json:"observed"`
	Expected   []float64 `json:"expected"`
	Spacing    int64     `json:"spacing"`
}

func (s *Server) networkData(charts bool) *networkData {
	best := s.cfg.Chain.BestSnapshot()
	cp := s.cfg.Chain.Network().Consensus
	d := &networkData{Height: best.Height, Difficulty: coreshape.Difficulty(best.Bits),
		NextDifficulty: coreshape.Difficulty(s.cfg.Chain.CalcNextRequiredBits()),
		Spacing:        int64(cp.TargetSpacing / time.Second)}
	if !cp.NoRetargeting {
		d.HalfLife = int64(cp.AsertHalfLife / time.Second)
	}
	d.Hashrate, _ = s.hashrateSeriesTail(best.Height)
	if s.cfg.Peers != nil {
		d.Peers = s.cfg.Peers.Peers()
		slices.SortFunc(d.Peers, func(a, b Peer) int { return cmp.Compare(a.ID, b.ID) })
	}
	if !charts {
		return d
	}
	low := max(0, best.Height-networkWindow)
	var prev int64
	for h := low; h <= best.Height; h++ {
		info, err := s.headerAt(h)
		if err != nil {
			break
		}
		t := info.Header.Timestamp.Unix()
		d.Chart.Times = append(d.Chart.Times, t)
		d.Chart.Heights = append(d.Chart.Heights, h)
		d.Chart.Difficulty = append(d.Chart.Difficulty, coreshape.Difficulty(info.Header.Bits))
		if h > low {
			d.Chart.Intervals = append(d.Chart.Intervals, t-prev)
		}
		prev = t
	}
	d.Chart.Spacing = d.Spacing
	d.Blocks = len(d.Chart.Intervals)
	// Intervals against the exponential distribution of mean T: the
	// chance that an interval falls in [a, b) is e^(-a/T) - e^(-b/T).
	T := float64(max(d.Spacing, 1))
	width := max(d.Spacing/4, 1)
	const nbins = 16
	d.Bins = make([]intervalBin, nbins)
	var sum int64
	for _, iv := range d.Chart.Intervals {
		sum += iv
		i := int(max(iv, 0) / width)
		d.Bins[min(i, nbins-1)].Observed++
	}
	if d.Blocks > 0 {
		d.MeanInterval = float64(sum) / float64(d.Blocks)
	}
	var most float64
	for i := range d.Bins {
		b := &d.Bins[i]
		b.From = int64(i) * width
		b.To = b.From + width
		p := math.Exp(-float64(b.From)/T) - math.Exp(-float64(b.To)/T)
		if i == nbins-1 {
			b.To = -1 // the last bin holds every longer interval
			p = math.Exp(-float64(b.From) / T)
		}
		b.Expected = p * float64(d.Blocks)
		most = math.Max(most, math.Max(b.Expected, float64(b.Observed)))
		d.Chart.BinMids = append(d.Chart.BinMids, float64(b.From)+float64(width)/2)
		d.Chart.Observed = append(d.Chart.Observed, b.Observed)
		d.Chart.Expected = append(d.Chart.Expected, math.Round(b.Expected*100)/100)
	}
	for i := range d.Bins {
		d.Bins[i].ObsW = 100 * float64(d.Bins[i].Observed) / math.Max(most, 1)
		d.Bins[i].ExpW = 100 * d.Bins[i].Expected / math.Max(most, 1)
	}
	return d
}

func (s *Server) networkPage(w http.ResponseWriter, _ *http.Request) {
	s.render(w, 200, "network", "layout", s.wrap("Network", s.networkData(true)))
}
