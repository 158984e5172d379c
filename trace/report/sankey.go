package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/holiman/uint256"
)

// SankeyNode is a node of a Sankey diagram.
type SankeyNode struct {
	Name     string
	Column   int    // 0 sources, 1 routes, 2 destinations
	Category string // colour
	In, Out  graph.Amount
}

// SankeyLink is a flow between two nodes.
type SankeyLink struct {
	From, To int
	Amount   graph.Amount
}

// Sankey says where each source's taint in one asset went under one method. Units of two
// assets are never drawn on one scale: a trace that moved tokens has one diagram per asset.
type Sankey struct {
	Chain  graph.Chain
	Asset  graph.Asset
	Method string
	// Assets names tokens (symbol, decimals) for the amounts drawn.
	Assets Assets
	Nodes  []SankeyNode
	Links  []SankeyLink
	// NonAdditive is set for poison, whose per-source amounts do not add up (spec §7.2).
	NonAdditive bool
	// Unanalysed counts exchange deposits whose route was not read from evidence (beyond
	// the first 500 by taint).
	Unanalysed int
	// Notice is drawn under the title (see FlowGraph.Notice).
	Notice string
}

// Routes of taint to an exchange, read from the evidence path of each deposit component.
const (
	RouteMixer    = "via a mixer"
	RouteDeFi     = "via a DeFi pool / swap"
	RouteBridge   = "via a bridge"
	RouteExchange = "via another exchange"
	RouteDirect   = "direct (hop ≤ 1)"
	RouteWallets  = "through wallets (splits, peel chains)"
	RouteUnread   = "route not analysed"
	// Routes through declared links (spec §15): the taint changed asset or chain.
	RouteLinkSwap      = "via a swap"
	RouteLinkWrap      = "via a wrap"
	RouteLinkBridge    = "via a bridge (link)"
	RouteLinkThorchain = "via THORChain"
	RouteLinkDeclared  = "via a declared link"
)

// linkRoute names the route of a path that went through a link: the last link it passed.
func linkRoute(p trace.Path) string {
	r := ""
	for _, s := range p.Steps {
		if s.Kind != "link" || s.Link == nil {
			continue
		}
		switch s.Link.Kind {
		case graph.LinkSwap:
			r = RouteLinkSwap
		case graph.LinkWrap:
			r = RouteLinkWrap
		case graph.LinkBridge:
			r = RouteLinkBridge
		case graph.LinkThorchain:
			r = RouteLinkThorchain
		default:
			r = RouteLinkDeclared
		}
	}
	return r
}

const maxSankeyDeposits = 500

// route classifies an evidence path by the labels of the addresses it passes through
// (neither the seed nor the deposit itself).
func route(p trace.Path, nm *naming) string {
	if r := linkRoute(p); r != "" {
		return r
	}
	found := map[string]bool{}
	for i, s := range p.Steps {
		if s.Kind == "seed" || i == len(p.Steps)-1 {
			continue
		}
		_, _, cat, _ := nm.describe(s.To)
		found[cat] = true
	}
	switch {
	case found[string(labels.CategoryMixer)]:
		return RouteMixer
	case found[string(labels.CategoryDeFi)]:
		return RouteDeFi
	case found[string(labels.CategoryBridge)]:
		return RouteBridge
	case found[string(labels.CategoryExchange)]:
		return RouteExchange
	case p.Hop <= 1:
		return RouteDirect
	}
	return RouteWallets
}

// BuildSankey follows the taint in asset of every source of res to exchanges (through
// routes), holdings still in place (by the holder's category) and sinks.
func BuildSankey(res *trace.Result, chain graph.Chain, asset graph.Asset, set *labels.Set, asOf time.Time) *Sankey {
	if asset == "" {
		asset = chain.NativeAsset()
	}
	s := &Sankey{Chain: chain, Asset: asset, Method: res.Method, NonAdditive: res.Method == trace.Poison}
	nm := newNaming(res, chain, set, asOf)
	index := map[string]int{}
	node := func(col int, name, cat string) int {
		k := fmt.Sprintf("%d|%s", col, name)
		if i, ok := index[k]; ok {
			return i
		}
		s.Nodes = append(s.Nodes, SankeyNode{Name: name, Column: col, Category: cat})
		index[k] = len(s.Nodes) - 1
		return len(s.Nodes) - 1
	}
	type lk struct{ from, to int }
	links := map[lk]*uint256.Int{}
	link := func(f, t int, a *uint256.Int) {
		if a.IsZero() {
			return
		}
		if links[lk{f, t}] == nil {
			links[lk{f, t}] = new(uint256.Int)
		}
		links[lk{f, t}].Add(links[lk{f, t}], a)
	}
	srcNode := func(src string) int { return node(0, src, string(labels.CategoryActor)) }
	// Exchanges: deposits in order of taint, each component by its route.
	type dep struct {
		ex string
		d  *trace.Deposit
	}
	var deps []dep
	for _, ex := range sortedKeys(res.Exposure) {
		x := res.Exposure[ex].Assets[asset]
		if x == nil {
			continue
		}
		for i := range x.Deposits {
			deps = append(deps, dep{ex, &x.Deposits[i]})
		}
	}
	sort.SliceStable(deps, func(i, j int) bool { return deps[i].d.Tainted.Gt(&deps[j].d.Tainted) })
	for i, d := range deps {
		exN := node(2, d.ex, string(labels.CategoryExchange))
		if i >= maxSankeyDeposits {
			s.Unanalysed++
			r := node(1, RouteUnread, "")
			for _, c := range d.d.Taint {
				link(srcNode(c.Source), r, &c.Amount)
				link(r, exN, &c.Amount)
			}
			continue
		}
		paths, err := res.Evidence(d.d.Ref)
		if err != nil {
			continue
		}
		for _, p := range paths {
			a := amountOf(p.Amount)
			r := node(1, route(p, nm), "")
			link(srcNode(p.Source), r, a)
			link(r, exN, a)
		}
	}
	// Holdings still in place.
	held := func(addr graph.Address, a graph.Asset, cs []trace.Component) {
		if a != asset {
			return
		}
		_, _, cat, _ := nm.describe(addr)
		name := "held by unlabelled wallets"
		if cat != "" {
			name = "held: " + cat
		}
		h := node(2, name, cat)
		for _, c := range cs {
			link(srcNode(c.Source), h, &c.Amount)
		}
	}
	for _, k := range sortedKeys(res.Unspent) {
		held(res.Unspent[k].Address, graph.BTC, res.Unspent[k].Taint)
	}
	for _, k := range sortedKeys(res.Holdings) {
		held(res.Holdings[k].Address, res.Holdings[k].Asset, res.Holdings[k].Taint)
	}
	// Sinks (exchange_absorbed is what the exchange nodes show).
	sinks := res.Sinks[asset]
	for _, k := range sortedKeys(sinks) {
		if k == trace.SinkExchangeAbsorbed.String() {
			continue
		}
		n := node(2, "sink: "+strings.ReplaceAll(k, "_", " "), "sink")
		for _, src := range sortedKeys(sinks[k]) {
			v := sinks[k][src]
			link(srcNode(src), n, &v)
		}
	}
	keys := make([]lk, 0, len(links))
	for k := range links {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].from != keys[j].from {
			return keys[i].from < keys[j].from
		}
		return keys[i].to < keys[j].to
	})
	for _, k := range keys {
		s.Links = append(s.Links, SankeyLink{From: k.from, To: k.to, Amount: *links[k]})
		s.Nodes[k.from].Out.Add(&s.Nodes[k.from].Out, links[k])
		s.Nodes[k.to].In.Add(&s.Nodes[k.to].In, links[k])
	}
	return s
}

func (n *SankeyNode) value() *uint256.Int {
	if n.In.Gt(&n.Out) {
		return &n.In
	}
	return &n.Out
}

// WriteSVG draws the diagram (width × height pixels of plot, plus margins for labels).
func (s *Sankey) WriteSVG(w io.Writer) error {
	const (
		plotW, plotH = 620.0, 380.0
		left, right  = 230.0, 300.0
		top          = 48.0
		nodeW        = 14.0
		pad          = 12.0
	)
	width, height := left+plotW+right, top+plotH+40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="Helvetica, Arial, sans-serif" font-size="11">`+"\n", width, height, width, height)
	title := fmt.Sprintf("Where the taint in %s went under %s (%s)", s.Assets.Name(s.Chain, s.Asset), s.Method, s.Chain)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", esc(title))
	note := "sources → routes (read from evidence paths) → exchanges, holdings and sinks"
	if s.NonAdditive {
		note = "poison: every movement of a tainted holding counts in full for every source; amounts are not additive"
	}
	fmt.Fprintf(&b, `<text x="10" y="36" fill="#555">%s</text>`+"\n", esc(note))
	if s.Notice != "" {
		fmt.Fprintf(&b, `<text x="10" y="%.0f" fill="#b00000" font-weight="bold">%s</text>`+"\n", height-12, esc(s.Notice))
	}
	if len(s.Links) == 0 {
		fmt.Fprintf(&b, `<text x="10" y="70">%s</text>`+"\n</svg>\n", esc("no taint moved in the replayed window"))
		_, err := io.WriteString(w, b.String())
		return err
	}
	cols := [3][]int{}
	for i, n := range s.Nodes {
		cols[n.Column] = append(cols[n.Column], i)
	}
	scale := -1.0
	for _, c := range cols {
		if len(c) == 0 {
			continue
		}
		sum := 0.0
		for _, i := range c {
			sum += toFloat(s.Nodes[i].value())
		}
		if sum == 0 {
			continue
		}
		if sc := (plotH - pad*float64(len(c)-1)) / sum; scale < 0 || sc < scale {
			scale = sc
		}
	}
	if scale <= 0 {
		scale = 1
	}
	x := [3]float64{left, left + (plotW-nodeW)/2, left + plotW - nodeW}
	y := make([]float64, len(s.Nodes))
	h := make([]float64, len(s.Nodes))
	for c, ids := range cols {
		yy := top
		for _, i := range ids {
			y[i], h[i] = yy, toFloat(s.Nodes[i].value())*scale
			if h[i] < 1 {
				h[i] = 1
			}
			yy += h[i] + pad
		}
		_ = c
	}
	// Ribbons, stacked at each end in the order of the other end's position.
	order := make([]int, len(s.Links))
	for i := range order {
		order[i] = i
	}
	outOff := make([]float64, len(s.Nodes))
	inOff := make([]float64, len(s.Nodes))
	sort.SliceStable(order, func(a, c int) bool { return y[s.Links[order[a]].To] < y[s.Links[order[c]].To] })
	y0 := make([]float64, len(s.Links))
	for _, li := range order {
		l := s.Links[li]
		y0[li] = y[l.From] + outOff[l.From]
		outOff[l.From] += toFloat(&l.Amount) * scale
	}
	sort.SliceStable(order, func(a, c int) bool { return y[s.Links[order[a]].From] < y[s.Links[order[c]].From] })
	b.WriteString(`<g fill-opacity="0.35">` + "\n")
	for _, li := range order {
		l := s.Links[li]
		lh := toFloat(&l.Amount) * scale
		y1 := y[l.To] + inOff[l.To]
		inOff[l.To] += lh
		x0, x1 := x[s.Nodes[l.From].Column]+nodeW, x[s.Nodes[l.To].Column]
		xm := (x0 + x1) / 2
		cat := s.Nodes[l.To].Category
		if s.Nodes[l.From].Column == 0 && s.Nodes[l.To].Column == 1 {
			cat = "actor"
		}
		fmt.Fprintf(&b, `<path d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f L%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f Z" fill="%s"><title>%s</title></path>`+"\n",
			x0, y0[li], xm, y0[li], xm, y1, x1, y1, x1, y1+lh, xm, y1+lh, xm, y0[li]+lh, x0, y0[li]+lh, colour(cat),
			esc(fmt.Sprintf("%s → %s: %s", s.Nodes[l.From].Name, s.Nodes[l.To].Name, s.amountText(&l.Amount))))
	}
	b.WriteString("</g>\n")
	for i, n := range s.Nodes {
		c := n.Category
		if n.Column == 1 {
			c = "route"
		}
		fill := colour(c)
		if c == "route" {
			fill = "#555"
		}
		if c == "sink" {
			fill = "#999"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n", x[n.Column], y[i], nodeW, h[i], fill,
			esc(n.Name+": "+s.amountText(n.value())))
		label := n.Name + " — " + s.amountText(n.value())
		switch n.Column {
		case 0:
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", x[0]-4, y[i]+h[i]/2+4, esc(n.Name))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", x[0]-4, y[i]+h[i]/2+17, esc(s.amountText(n.value())))
		case 1:
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x[1]+nodeW+4, y[i]+h[i]/2+4, esc(label))
		default:
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x[2]+nodeW+4, y[i]+h[i]/2+4, esc(label))
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (s *Sankey) amountText(a *uint256.Int) string {
	return s.Assets.Short(s.Chain, s.Asset, a.Dec())
}
