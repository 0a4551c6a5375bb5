package testnet

import (
	"fmt"
	"slices"
	"strings"
)

// The dashboard's view: what the page shows of the last poll, with the
// block tree laid out for SVG.

// treeBlock is a block drawn in the tree.
type treeBlock struct {
	Hash      string
	Height    int32
	Miner     string
	X, Y      int
	Stale     bool
	Nodes     []string // nodes whose best chain holds it
	PX, PY    int
	HasParent bool
}

// groupView is a partition group with its nodes.
type groupView struct {
	Label string
	Nodes []DashNode
}

type dashView struct {
	Dir           string
	Groups        []groupView
	Partitioned   bool
	Tree          []treeBlock
	Width, Height int
	Tips          int // distinct best tips among running nodes
	Events        []DashEvent
	Nodes         []DashNode
}

// Tree geometry.
const (
	dashColW   = 230
	dashRowH   = 44
	dashBlockW = 210
	dashBlockH = 36
	dashTop    = 10
)

// view builds what the page shows from the last poll.
func (d *Dashboard) view() *dashView {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := &dashView{Dir: d.dir, Partitioned: len(d.groups) > 0, Nodes: slices.Clone(d.nodes)}
	if v.Partitioned {
		for gi, g := range d.groups {
			gv := groupView{Label: fmt.Sprintf("group %d", gi)}
			for _, i := range g {
				if i < len(d.nodes) {
					gv.Nodes = append(gv.Nodes, d.nodes[i])
				}
			}
			v.Groups = append(v.Groups, gv)
		}
	} else {
		v.Groups = []groupView{{Label: "", Nodes: d.nodes}}
	}
	for i := len(d.events) - 1; i >= 0 && len(v.Events) < 100; i-- {
		v.Events = append(v.Events, d.events[i])
	}
	// The best chains of the running nodes.
	holders := map[string][]string{}
	tips := map[string]bool{}
	var best *DashNode
	for i := range d.nodes {
		n := &d.nodes[i]
		if n.Error != "" {
			continue
		}
		tips[n.Tip] = true
		if best == nil || workLess(best.work, n.work) || (best.work == n.work && n.Height > best.Height) {
			best = n
		}
		for h, k := n.Tip, 0; h != "" && k < dashWindow; k++ {
			holders[h] = append(holders[h], n.Name)
			b := d.blocks[h]
			if b == nil {
				break
			}
			h = b.Prev
		}
	}
	v.Tips = len(tips)
	if best == nil {
		return v
	}
	top := best.Height
	for h := range tips {
		if b := d.blocks[h]; b != nil {
			top = max(top, b.Height)
		}
	}
	low := max(0, top-dashWindow+1)
	y := func(h int32) int { return dashTop + int(top-h)*dashRowH }
	x := func(col int) int { return 10 + col*dashColW }
	// Column 0: the chain of the most work; each other tip's blocks not
	// on a drawn column get a column of their own.
	placed := map[string]int{}
	var columns [][]string
	addColumn := func(tip string) {
		var col []string
		for h := tip; h != ""; {
			b := d.blocks[h]
			if b == nil || b.Height < low {
				break
			}
			if _, ok := placed[h]; ok {
				break
			}
			col = append(col, h)
			h = b.Prev
		}
		if len(col) == 0 {
			return
		}
		for _, h := range col {
			placed[h] = len(columns)
		}
		columns = append(columns, col)
	}
	addColumn(best.Tip)
	var others []string
	for h := range tips {
		others = append(others, h)
	}
	for i := range d.nodes {
		others = append(others, d.nodes[i].stale...)
	}
	slices.SortFunc(others, func(a, b string) int { return strings.Compare(a, b) })
	for _, h := range others {
		addColumn(h)
	}
	for ci, col := range columns {
		for _, h := range col {
			b := d.blocks[h]
			tb := treeBlock{Hash: h, Height: b.Height, Miner: b.Miner, X: x(ci), Y: y(b.Height), Nodes: holders[h],
				Stale: len(holders[h]) == 0}
			slices.Sort(tb.Nodes)
			if pc, ok := placed[b.Prev]; ok {
				tb.HasParent = true
				if pc == ci {
					tb.PX, tb.PY = x(pc)+dashBlockW/2, y(b.Height-1)
				} else {
					tb.PX, tb.PY = x(pc)+dashBlockW, y(b.Height-1)+dashBlockH/2
				}
			}
			v.Tree = append(v.Tree, tb)
		}
	}
	v.Width = x(max(len(columns), 1)) + 10
	v.Height = y(low) + dashBlockH + 10
	return v
}

// workLess compares two chainwork hex strings.
func workLess(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
