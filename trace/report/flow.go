package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/holiman/uint256"
)

// FlowNode is a node of the flow graph: one address, or one exchange (all its addresses).
type FlowNode struct {
	Key      string // the address, or "exchange:" + name
	Label    string // what the picture shows
	Title    string // the tooltip: full address and label
	Category string // label category ("actor", "exchange", …); "" when unlabelled
	Layer    int    // column: 0 = seeds, the last one = exchanges
	Seed     bool
	Exchange bool
}

// FlowEdge aggregates the tainted movements from one node to another in one asset.
type FlowEdge struct {
	From, To  int // node indexes
	Asset     graph.Asset
	Tainted   graph.Amount
	Movements int
}

// FlowGraph is the flow of taint between addresses under one method.
type FlowGraph struct {
	Chain  graph.Chain
	Method string
	Nodes  []FlowNode
	Edges  []FlowEdge
	// LeftOut counts tainted movements not drawn (beyond Run.MaxEdges).
	LeftOut int
	// Notice is drawn under the title (Build sets it to Meta.Notice: a picture may travel
	// without the report, and must still say when the case is a simulation).
	Notice string
	// Assets names tokens (symbol, decimals) for the edge labels.
	Assets Assets
	order  [][]int // node indexes per layer, top to bottom
}

// naming tells what an address is: an exchange (from the result's deposits, then the
// labels), a seed, or the best label.
type naming struct {
	chain      graph.Chain
	set        *labels.Set
	asOf       time.Time
	exchangeOf map[graph.Address]string
	seedOf     map[graph.Address]string
	// described memoizes describe: a Sankey diagram asks about every step of hundreds of
	// evidence paths, mostly the same addresses, and a label lookup parses the address.
	described map[graph.Address]description
}

type description struct{ key, label, cat, title string }

func newNaming(res *trace.Result, chain graph.Chain, set *labels.Set, asOf time.Time) *naming {
	n := &naming{chain: chain, set: set, asOf: asOf, exchangeOf: map[graph.Address]string{}, seedOf: map[graph.Address]string{}, described: map[graph.Address]description{}}
	for name, x := range res.Exposure {
		for _, ax := range x.Assets {
			for _, d := range ax.Deposits {
				n.exchangeOf[d.Address] = name
			}
		}
	}
	for _, s := range res.Seeds() {
		if s.Address != "" {
			n.seedOf[s.Address] = s.Source
		}
	}
	return n
}

var categoryRank = map[string]int{"exchange": 0, "actor": 1, "sanctioned": 2, "mixer": 3, "bridge": 4, "defi": 5, "service": 6}

// describe returns the node key, label, category and tooltip of an address.
func (n *naming) describe(a graph.Address) (key, label, cat, title string) {
	if d, ok := n.described[a]; ok {
		return d.key, d.label, d.cat, d.title
	}
	if len(n.described) >= maxDescribed {
		clear(n.described)
	}
	key, label, cat, title = n.lookup(a)
	n.described[a] = description{key, label, cat, title}
	return key, label, cat, title
}

// maxDescribed bounds describe's memo (a few hundred bytes an address).
const maxDescribed = 1 << 16

func (n *naming) lookup(a graph.Address) (key, label, cat, title string) {
	if ex, ok := n.exchangeOf[a]; ok {
		return "exchange:" + ex, ex, string(labels.CategoryExchange), ex
	}
	var best *labels.Label
	if n.set != nil {
		ls := n.set.LabelsOf(n.chain, a, n.asOf)
		for i := range ls {
			if best == nil || rank(ls[i].Category) < rank(best.Category) {
				best = &ls[i]
			}
		}
	}
	if best != nil && best.Category == labels.CategoryExchange {
		return "exchange:" + best.Entity, best.Entity, string(best.Category), best.Entity
	}
	label = shortAddr(string(a))
	title = string(a)
	if best != nil {
		cat = string(best.Category)
		name := best.Entity
		if best.Name != "" && best.Name != best.Entity {
			name += " · " + best.Name
		}
		label = trimLabel(name)
		title += " — " + name + " (" + best.Source.Document + ")"
	}
	if src, ok := n.seedOf[a]; ok {
		if cat == "" {
			cat = string(labels.CategoryActor)
		}
		title += " — seed of " + src
	}
	return string(a), label, cat, title
}

func rank(c labels.Category) int {
	if r, ok := categoryRank[string(c)]; ok {
		return r
	}
	return 10
}

// maxLabel is the longest node label kept whole: an entity and its name ("Lazarus Group ·
// Harmony bridge exploiter") run to about forty characters. The SVG fits a long one into
// its box (textLength); the full text is always in the node's title.
const maxLabel = 44

func trimLabel(s string) string {
	r := []rune(s)
	if len(r) > maxLabel {
		return string(r[:maxLabel-1]) + "…"
	}
	return s
}

type flowMove struct {
	ref      string
	from, to graph.Address
	asset    graph.Asset
	tainted  uint256.Int
	hop      uint32
	deposit  bool
}

func minHop(cs []trace.Component) uint32 {
	h := ^uint32(0)
	for _, c := range cs {
		if c.Hop < h {
			h = c.Hop
		}
	}
	if h == ^uint32(0) {
		return 0
	}
	return h
}

// BuildFlow builds the flow graph of a result: the maxEdges movements that carried the most
// taint (fees left out) and up to maxEdges more exchange deposits, joined by address, laid
// out in layers.
func BuildFlow(res *trace.Result, chain graph.Chain, set *labels.Set, asOf time.Time, maxEdges int) *FlowGraph {
	g := &FlowGraph{Chain: chain, Method: res.Method}
	deposits := map[string]bool{}
	for _, x := range res.Exposure {
		for _, ax := range x.Assets {
			for _, d := range ax.Deposits {
				deposits[d.Ref] = true
			}
		}
	}
	// The largest movements, plus the largest deposits (up to as many again), so that every
	// exchange that received taint appears even when big flows elsewhere fill the picture.
	// Only the candidates are kept while the records are read (a long history has millions,
	// on disk): the maxEdges largest movements, and the 2·maxEdges largest deposits, which
	// hold every deposit that follows the largest movements' in that order.
	less := func(a, b *flowMove) bool {
		if c := a.tainted.Cmp(&b.tainted); c != 0 {
			return c > 0
		}
		return a.ref < b.ref
	}
	var top, topDeps []flowMove
	total := 0
	keep := func(list []flowMove, n int, m flowMove) []flowMove {
		list = append(list, m)
		if len(list) >= 2*n+64 {
			sort.Slice(list, func(i, j int) bool { return less(&list[i], &list[j]) })
			list = list[:n]
		}
		return list
	}
	add := func(m flowMove) {
		total++
		top = keep(top, maxEdges, m)
		if m.deposit {
			topDeps = keep(topDeps, 2*maxEdges, m)
		}
	}
	_ = res.EachTransfer(func(t *trace.TransferTaint) error {
		if t.To != trace.FeeSink && !t.Tainted.IsZero() {
			add(flowMove{ref: t.ID, from: t.From, to: t.To, asset: t.Asset, tainted: t.Tainted, hop: minHop(t.Taint), deposit: deposits[t.ID]})
		}
		return nil
	})
	_ = res.EachOutput(func(o *trace.Output) error {
		if !o.Tainted.IsZero() {
			add(flowMove{ref: o.Outpoint, to: o.Address, asset: chain.NativeAsset(), tainted: o.Tainted, hop: minHop(o.Taint), deposit: deposits[o.Outpoint]})
		}
		return nil
	})
	sort.Slice(top, func(i, j int) bool { return less(&top[i], &top[j]) })
	sort.Slice(topDeps, func(i, j int) bool { return less(&topDeps[i], &topDeps[j]) })
	top = top[:min(len(top), maxEdges)]
	inTop := map[string]bool{}
	for _, m := range top {
		inTop[m.ref] = true
	}
	kept := top
	deps := 0
	for _, m := range topDeps {
		if !inTop[m.ref] && deps < maxEdges {
			kept = append(kept, m)
			deps++
		}
	}
	sort.Slice(kept, func(i, j int) bool { return less(&kept[i], &kept[j]) })
	g.LeftOut = total - len(kept)
	// UTXO outputs do not name their sender: the evidence path says where the taint came from.
	for i := range kept {
		if kept[i].from != "" {
			continue
		}
		// The path of the largest component (the first of equal ones) names it; walking
		// only that one matters on deep haircut histories of hundreds of components.
		paths, _, err := res.EvidenceLargest(kept[i].ref, 1)
		if err != nil || len(paths) == 0 {
			continue
		}
		steps := paths[0].Steps
		if len(steps) >= 2 {
			prev := steps[len(steps)-2]
			kept[i].from = prev.To // a seed step's To is the seed address, when it is one
			if kept[i].from == "" {
				kept[i].from = graph.Address(prev.Ref)
			}
		}
	}
	nm := newNaming(res, chain, set, asOf)
	index := map[string]int{}
	layer := map[int]int{}
	node := func(a graph.Address) int {
		key, label, cat, title := nm.describe(a)
		if i, ok := index[key]; ok {
			return i
		}
		_, seed := nm.seedOf[a]
		g.Nodes = append(g.Nodes, FlowNode{Key: key, Label: label, Title: title, Category: cat, Seed: seed, Exchange: strings.HasPrefix(key, "exchange:")})
		index[key] = len(g.Nodes) - 1
		layer[len(g.Nodes)-1] = -1
		return len(g.Nodes) - 1
	}
	type ekey struct {
		from, to int
		asset    graph.Asset
	}
	edges := map[ekey]int{}
	lower := func(n, h int) {
		if h < 0 {
			h = 0
		}
		if layer[n] < 0 || h < layer[n] {
			layer[n] = h
		}
	}
	for _, m := range kept {
		if m.from == "" {
			continue
		}
		f, t := node(m.from), node(m.to)
		lower(f, int(m.hop)-1)
		lower(t, int(m.hop))
		k := ekey{f, t, m.asset}
		i, ok := edges[k]
		if !ok {
			g.Edges = append(g.Edges, FlowEdge{From: f, To: t, Asset: m.asset})
			i = len(g.Edges) - 1
			edges[k] = i
		}
		g.Edges[i].Tainted.Add(&g.Edges[i].Tainted, &m.tainted)
		g.Edges[i].Movements++
	}
	sort.SliceStable(g.Edges, func(i, j int) bool {
		a, b := g.Edges[i], g.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Asset < b.Asset
	})
	// Layers: seeds 0, hops compressed to consecutive columns, exchanges last.
	hops := map[int]bool{}
	for i := range g.Nodes {
		if g.Nodes[i].Seed {
			layer[i] = 0
		}
		if !g.Nodes[i].Exchange {
			hops[layer[i]] = true
		}
	}
	distinct := make([]int, 0, len(hops))
	for h := range hops {
		distinct = append(distinct, h)
	}
	sort.Ints(distinct)
	col := map[int]int{}
	for i, h := range distinct {
		col[h] = i
	}
	last := len(distinct)
	for i := range g.Nodes {
		if g.Nodes[i].Exchange {
			g.Nodes[i].Layer = last
		} else {
			g.Nodes[i].Layer = col[layer[i]]
		}
	}
	g.layout()
	return g
}

// layout orders the nodes of each layer to reduce crossings: sorted by category and label,
// then four sweeps of the barycenter heuristic (by predecessors, then by successors).
func (g *FlowGraph) layout() {
	layers := 0
	for _, n := range g.Nodes {
		if n.Layer+1 > layers {
			layers = n.Layer + 1
		}
	}
	g.order = make([][]int, layers)
	for i, n := range g.Nodes {
		g.order[n.Layer] = append(g.order[n.Layer], i)
	}
	for _, l := range g.order {
		sort.SliceStable(l, func(a, b int) bool {
			na, nb := g.Nodes[l[a]], g.Nodes[l[b]]
			if na.Category != nb.Category {
				return na.Category < nb.Category
			}
			return na.Key < nb.Key
		})
	}
	pos := make([]float64, len(g.Nodes))
	setPos := func() {
		for _, l := range g.order {
			for i, n := range l {
				pos[n] = float64(i)
			}
		}
	}
	setPos()
	for sweep := 0; sweep < 4; sweep++ {
		forward := sweep%2 == 0
		for li := range g.order {
			l := g.order[li]
			bary := map[int]float64{}
			for _, n := range l {
				sum, cnt := 0.0, 0
				for _, e := range g.Edges {
					if forward && e.To == n && g.Nodes[e.From].Layer < g.Nodes[n].Layer {
						sum, cnt = sum+pos[e.From], cnt+1
					}
					if !forward && e.From == n && g.Nodes[e.To].Layer > g.Nodes[n].Layer {
						sum, cnt = sum+pos[e.To], cnt+1
					}
				}
				if cnt > 0 {
					bary[n] = sum / float64(cnt)
				} else {
					bary[n] = pos[n]
				}
			}
			sort.SliceStable(l, func(a, b int) bool { return bary[l[a]] < bary[l[b]] })
			for i, n := range l {
				pos[n] = float64(i)
			}
		}
	}
}

// Colours of the label categories in the pictures.
var categoryColours = map[string]string{
	"actor": "#d62728", "sanctioned": "#e377c2", "exchange": "#1f77b4", "mixer": "#9467bd",
	"defi": "#ff7f0e", "bridge": "#8c564b", "service": "#17becf", "gambling": "#bcbd22",
	"market": "#7f7f7f", "miner": "#7f7f7f", "blocked": "#7f7f7f", "other": "#7f7f7f", "": "#c7c7c7",
}

func colour(cat string) string {
	if c, ok := categoryColours[cat]; ok {
		return c
	}
	return "#7f7f7f"
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const (
	flowColW   = 250
	flowNodeW  = 190
	flowNodeH  = 24
	flowGapY   = 12
	flowMargin = 24
	flowTop    = 70
)

// nodeXY places node i: its layer's column, its row, each layer centred vertically.
func (g *FlowGraph) nodeXY(i int) (float64, float64) {
	n := g.Nodes[i]
	row := 0
	for r, m := range g.order[n.Layer] {
		if m == i {
			row = r
		}
	}
	offset := float64(g.rows()-len(g.order[n.Layer])) * (flowNodeH + flowGapY) / 2
	return float64(flowMargin + n.Layer*flowColW), float64(flowTop+row*(flowNodeH+flowGapY)) + offset
}

func (g *FlowGraph) rows() int {
	rows := 1
	for _, l := range g.order {
		if len(l) > rows {
			rows = len(l)
		}
	}
	return rows
}

func (g *FlowGraph) amountText(e FlowEdge) string {
	return g.Assets.Short(g.Chain, e.Asset, e.Tainted.Dec())
}

// WriteSVG draws the flow graph as a standalone SVG document.
func (g *FlowGraph) WriteSVG(w io.Writer) error {
	rows := g.rows()
	width := flowMargin*2 + max(1, len(g.order)-1)*flowColW + flowNodeW
	height := flowTop + rows*(flowNodeH+flowGapY) + 90
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", esc(fmt.Sprintf("Flow of taint on %s under %s", g.Chain, g.Method)))
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", flowMargin, esc(fmt.Sprintf("Flow of taint on %s (%s): seeds → hops → exchanges; edge width = tainted amount", g.Chain, g.Method)))
	sub := ""
	if g.LeftOut > 0 {
		sub = fmt.Sprintf("%d smaller tainted movements not drawn", g.LeftOut)
	}
	if g.Notice != "" {
		fmt.Fprintf(&b, `<text x="%d" y="40" fill="#b00000" font-weight="bold">%s</text>`+"\n", flowMargin, esc(g.Notice))
		if sub != "" {
			sub = " · " + sub
		}
	}
	if sub != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">%s</text>`+"\n", flowMargin, 40+14*boolInt(g.Notice != ""), esc(sub))
	}
	// Edge widths are scaled per asset: amounts of different assets are not comparable.
	maxOf := map[graph.Asset]float64{}
	for _, e := range g.Edges {
		if f := toFloat(&e.Tainted); f > maxOf[e.Asset] {
			maxOf[e.Asset] = f
		}
	}
	b.WriteString(`<g fill="none" stroke-linecap="round">` + "\n")
	for _, e := range g.Edges {
		x1, y1 := g.nodeXY(e.From)
		x2, y2 := g.nodeXY(e.To)
		x1 += flowNodeW
		y1 += flowNodeH / 2
		y2 += flowNodeH / 2
		wdt := 1.0
		if m := maxOf[e.Asset]; m > 0 {
			wdt += 13 * toFloat(&e.Tainted) / m
		}
		dash, stroke := "", "#d62728"
		if e.Asset != g.Chain.NativeAsset() {
			dash, stroke = ` stroke-dasharray="6 3"`, "#ff7f0e"
		}
		dx := (x2 - x1) / 2
		if dx < 60 {
			dx = 60
		}
		fmt.Fprintf(&b, `<path d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" stroke="%s" stroke-opacity="0.45" stroke-width="%.2f"%s><title>%s</title></path>`+"\n",
			x1, y1, x1+dx, y1, x2-dx, y2, x2, y2, stroke, wdt, dash,
			esc(fmt.Sprintf("%s → %s: %s tainted in %d movement(s)", g.Nodes[e.From].Label, g.Nodes[e.To].Label, g.amountText(e), e.Movements)))
	}
	b.WriteString("</g>\n")
	for i, n := range g.Nodes {
		x, y := g.nodeXY(i)
		stroke := "#333"
		if n.Seed {
			stroke = "#000"
		}
		fmt.Fprintf(&b, `<g class="node" id="node-%d"><title>%s</title><rect x="%.1f" y="%.1f" width="%d" height="%d" rx="5" fill="%s" fill-opacity="0.85" stroke="%s"/>`,
			i, esc(n.Title), x, y, flowNodeW, flowNodeH, colour(n.Category), stroke)
		fit := ""
		if utf8.RuneCountInString(n.Label) > 28 { // wider than the box at this font size: squeeze it in
			fit = fmt.Sprintf(` textLength="%d" lengthAdjust="spacingAndGlyphs"`, flowNodeW-12)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#000"%s>%s</text></g>`+"\n", x+6, y+flowNodeH/2+4, fit, esc(n.Label))
	}
	// Legend.
	ly := height - 60
	cats := []string{"actor", "exchange", "mixer", "defi", "service", "other", ""}
	for i, c := range cats {
		name := c
		if name == "" {
			name = "unlabelled"
		}
		x := flowMargin + i*110
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="14" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, ly, colour(c), x+18, ly+11, esc(name))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">%s</text>`+"\n", flowMargin, ly+34,
		esc("solid red: native asset; dashed orange: tokens (widths scaled per asset). Hover for exact amounts."))
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// WriteDOT writes the flow graph for Graphviz (dot -Tsvg flow.dot > flow.svg), with the same
// layers as the SVG (rank=same per layer).
func (g *FlowGraph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph flow {\n  label=%s;\n  labelloc=t;\n  rankdir=LR;\n", dotQuote(fmt.Sprintf("Flow of taint on %s (%s)", g.Chain, g.Method)))
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for i, n := range g.Nodes {
		fmt.Fprintf(&b, "  n%d [label=%s, tooltip=%s, fillcolor=%s];\n", i, dotQuote(n.Label), dotQuote(n.Title), dotQuote(colour(n.Category)))
	}
	for _, l := range g.order {
		b.WriteString("  { rank=same;")
		for _, n := range l {
			fmt.Fprintf(&b, " n%d;", n)
		}
		b.WriteString(" }\n")
	}
	maxOf := map[graph.Asset]float64{}
	for _, e := range g.Edges {
		if f := toFloat(&e.Tainted); f > maxOf[e.Asset] {
			maxOf[e.Asset] = f
		}
	}
	for _, e := range g.Edges {
		wdt := 1.0
		if m := maxOf[e.Asset]; m > 0 {
			wdt += 9 * toFloat(&e.Tainted) / m
		}
		style := ""
		if e.Asset != g.Chain.NativeAsset() {
			style = ", style=dashed, color=\"#ff7f0e\""
		}
		fmt.Fprintf(&b, "  n%d -> n%d [penwidth=%.2f, label=%s%s];\n", e.From, e.To, wdt, dotQuote(g.amountText(e)), style)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
