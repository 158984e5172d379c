package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/report"
	"github.com/chaintrace/chaintrace/trace/report/reportcheck"
)

// Addresses of the small account-model case the tests trace.
const (
	thief  graph.Address = "0x1111111111111111111111111111111111111111"
	mule   graph.Address = "0x2222222222222222222222222222222222222222"
	mixer  graph.Address = "0x3333333333333333333333333333333333333333"
	dep1   graph.Address = "0x4444444444444444444444444444444444444444"
	dep2   graph.Address = "0x5555555555555555555555555555555555555555"
	honest graph.Address = "0x6666666666666666666666666666666666666666"
	out    graph.Address = "0x7777777777777777777777777777777777777777"
)

func xfer(id string, from, to graph.Address, n uint64) graph.Transfer {
	return graph.Transfer{ID: id, Asset: graph.ETH, From: from, To: to, Amount: graph.NewAmount(n), Kind: graph.KindCall}
}

// accountCase: the thief sends 60 to a mule and 10 straight to exchange A; the mule puts 50
// into a mixer that holds 50 clean; the mixer pays 40 to out, out pays 40 to exchange B.
func accountCase(t testing.TB, method string) *trace.Result {
	t.Helper()
	eng, err := trace.NewEngine(trace.Config{
		Model: graph.Account, Method: method,
		Seeds:     []trace.Seed{{Address: thief, Source: "heist", Origin: "test attribution"}},
		Exchanges: map[string][]graph.Address{"Exchange A": {dep1}, "Exchange B": {dep2}},
		Params:    trace.DefaultParams(),
	})
	if err != nil {
		t.Fatal(err)
	}
	must(t, eng.SetBalance(thief, graph.ETH, graph.NewAmount(100)))
	must(t, eng.SetBalance(honest, graph.ETH, graph.NewAmount(100)))
	blocks := []graph.Block{
		{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{
			{Hash: "0xa1", Index: 0, From: honest, Success: true, Transfers: []graph.Transfer{xfer("0xa1.0", honest, mixer, 50)}},
			{Hash: "0xa2", Index: 1, From: thief, Success: true, Transfers: []graph.Transfer{xfer("0xa2.0", thief, mule, 60)}},
			{Hash: "0xa3", Index: 2, From: thief, Success: true, Transfers: []graph.Transfer{xfer("0xa3.0", thief, dep1, 10)}},
			{Hash: "0xa4", Index: 3, From: honest, Success: true, Transfers: []graph.Transfer{xfer("0xa4.0", honest, dep2, 20)}},
		}},
		{Chain: graph.Ethereum, Height: 2, AccountTxs: []graph.AccountTx{
			{Hash: "0xb1", Index: 0, From: mule, Success: true, Transfers: []graph.Transfer{xfer("0xb1.0", mule, mixer, 50)}},
			{Hash: "0xb2", Index: 1, From: out, Success: true, Transfers: []graph.Transfer{xfer("0xb2.t0", mixer, out, 40)}},
		}},
		{Chain: graph.Ethereum, Height: 3, AccountTxs: []graph.AccountTx{
			{Hash: "0xc1", Index: 0, From: out, Success: true, Transfers: []graph.Transfer{xfer("0xc1.0", out, dep2, 40)}},
		}},
	}
	for i := range blocks {
		must(t, eng.ApplyBlock(&blocks[i]))
	}
	return eng.Result()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func caseLabels(t testing.TB) *labels.Set {
	set := labels.NewSet()
	src := labels.Source{Document: "report test"}
	must(t, set.Add(
		labels.Label{Chain: graph.Ethereum, Address: thief, Entity: "Thief <&> Co", Category: labels.CategoryActor, Confidence: labels.ConfidenceOwnership, Source: src},
		labels.Label{Chain: graph.Ethereum, Address: mixer, Entity: "Mixer", Category: labels.CategoryMixer, Confidence: labels.ConfidenceOwnership, Source: src},
	))
	return set
}

func build(t testing.TB) *report.Report {
	var results []*trace.Result
	for _, m := range trace.Methods(graph.Account) {
		results = append(results, accountCase(t, m))
	}
	rep, err := report.Build(report.Meta{Title: "test <report>", Notice: "TEST CASE", Command: []string{"go", "test"},
		Parameters: map[string]string{"method": "all"}, LabelSources: []report.LabelSource{{Name: "inline", Labels: 2}}},
		report.Run{Chain: graph.Ethereum, StoreHeight: 3, From: 1, To: 3, Results: results, Labels: caseLabels(t)})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The exposure rows are the engine's figures, by hand: haircut splits the mixer's 100 (50
// clean + 50 at hop 2) so out gets 20 tainted of 40; FIFO gives out the older clean 40.
func TestExposureRows(t *testing.T) {
	rep := build(t)
	want := map[string]map[string][2]string{ // method → exchange → {tainted, direct}
		"haircut": {"Exchange A": {"10", "10"}, "Exchange B": {"20", "0"}},
		"fifo":    {"Exchange A": {"10", "10"}, "Exchange B": {"0", "0"}},
		"lifo":    {"Exchange A": {"10", "10"}, "Exchange B": {"40", "0"}},
	}
	for _, m := range rep.Chains[0].Methods {
		for _, x := range m.Exposure {
			w, ok := want[m.Method][x.Exchange]
			if !ok {
				continue
			}
			if x.Tainted != w[0] || x.Direct != w[1] {
				t.Errorf("%s %s: tainted %s direct %s, want %s %s", m.Method, x.Exchange, x.Tainted, x.Direct, w[0], w[1])
			}
		}
		if m.Method == "haircut" && len(m.Evidence) != 2 {
			t.Errorf("haircut: %d evidence paths, want one per exchange", len(m.Evidence))
		}
	}
	var b strings.Builder
	must(t, rep.WriteTable(&b))
	for _, s := range []string{"TEST CASE", "Exchange A", "Exchange B", "evidence", "0xc1.0"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, b.String())
		}
	}
}

// checkSVG parses an SVG document as XML and returns the text of its <text> and <title>
// elements.
func checkSVG(t *testing.T, svg []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var text strings.Builder
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = v.Name.Local
			}
		case xml.CharData:
			text.Write(v)
			text.WriteByte('\n')
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return text.String()
}

func TestPicturesContainEveryExchange(t *testing.T) {
	rep := build(t)
	c := rep.Chains[0]
	var svg bytes.Buffer
	must(t, c.Flow.WriteSVG(&svg))
	text := checkSVG(t, svg.Bytes())
	for _, ex := range []string{"Exchange A", "Exchange B", "Thief <&> Co", "Mixer"} {
		if !strings.Contains(text, ex) {
			t.Errorf("flow SVG lacks node %q", ex)
		}
	}
	var dot bytes.Buffer
	must(t, c.Flow.WriteDOT(&dot))
	for _, ex := range []string{`"Exchange A"`, `"Exchange B"`, "rankdir=LR"} {
		if !strings.Contains(dot.String(), ex) {
			t.Errorf("DOT lacks %s", ex)
		}
	}
	for _, s := range c.Sankeys {
		var b bytes.Buffer
		must(t, s.WriteSVG(&b))
		text := checkSVG(t, b.Bytes())
		if !strings.Contains(text, "Exchange A") {
			t.Errorf("%s Sankey lacks Exchange A", s.Method)
		}
		if s.Method == "haircut" && !strings.Contains(text, report.RouteMixer) {
			t.Errorf("haircut Sankey lacks the mixer route")
		}
	}
}

// Exchange nodes sit in the last layer, seeds in the first.
func TestFlowLayers(t *testing.T) {
	g := build(t).Chains[0].Flow
	last := 0
	for _, n := range g.Nodes {
		last = max(last, n.Layer)
	}
	for _, n := range g.Nodes {
		if n.Exchange && n.Layer != last {
			t.Errorf("exchange %s in layer %d, want %d", n.Label, n.Layer, last)
		}
		if n.Seed && n.Layer != 0 {
			t.Errorf("seed %s in layer %d", n.Label, n.Layer)
		}
	}
}

func TestFilesAreDeterministic(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	f1, err := build(t).WriteFiles(d1)
	must(t, err)
	_, err = build(t).WriteFiles(d2)
	must(t, err)
	for _, p := range f1 {
		a, _ := os.ReadFile(p)
		b, _ := os.ReadFile(filepath.Join(d2, filepath.Base(p)))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds", filepath.Base(p))
		}
	}
	var rep map[string]any
	raw, _ := os.ReadFile(filepath.Join(d1, report.FileJSON))
	must(t, json.Unmarshal(raw, &rep))
	if rep["format_version"] != float64(report.FormatVersion) || rep["notice"] != "TEST CASE" {
		t.Errorf("report.json header: %v %v", rep["format_version"], rep["notice"])
	}
	rows, err := csv.NewReader(bytes.NewReader(must2(os.ReadFile(filepath.Join(d1, report.FileDeposits))))).ReadAll()
	must(t, err)
	// Tainted deposits: A's 10 under every method, B's 40 under poison, haircut, lifo,
	// seniority (fifo: clean).
	if len(rows) != 1+5+4 {
		t.Errorf("deposits.csv has %d rows, want header + 9", len(rows))
	}
}

func must2(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestHTMLRendersWithoutConsoleErrors(t *testing.T) {
	if _, err := reportcheck.Browser(); errors.Is(err, reportcheck.ErrNoChromium) {
		if os.Getenv("CI") == "" {
			t.Skip("chromium not installed (CI installs it)")
		}
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err := build(t).WriteFiles(dir)
	must(t, err)
	res, err := reportcheck.Render(context.Background(), filepath.Join(dir, report.FileHTML))
	must(t, err)
	if len(res.Console) > 0 {
		t.Errorf("console messages: %q", res.Console)
	}
	for _, s := range []string{"Exchange A", "Exchange B", "<svg", "TEST CASE"} {
		if !strings.Contains(res.DOM, s) {
			t.Errorf("rendered DOM lacks %q", s)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, report.FileHTML))
	for _, bad := range []string{"<script", "src=\"http", "href=\"http", "@import", "url("} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("report.html is not self-contained: it has %q", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		chain      graph.Chain
		in, want   string
		short      string
		num, den   string
		wantPercnt string
	}{
		{graph.Ethereum, "14850000000000000000", "14.85", "14.85", "1", "3", "33.33%"},
		{graph.Ethereum, "1", "0.000000000000000001", "≈0.000000", "2", "3", "66.66%"},
		{graph.Ethereum, "0", "0", "0", "0", "5", "0.00%"},
		{graph.Bitcoin, "123456789", "1.23456789", "≈1.234567", "5", "0", "-"},
		{graph.Bitcoin, "100000000", "1", "1", "1", "1", "100.00%"},
		{graph.Bitcoin, "-5", "-5", "-5", "x", "1", "-"},
	} {
		if got := report.FormatAmount(c.chain, c.in); got != c.want {
			t.Errorf("FormatAmount(%s, %s) = %s, want %s", c.chain, c.in, got, c.want)
		}
		if got := report.FormatShort(c.chain, c.in); got != c.short {
			t.Errorf("FormatShort(%s, %s) = %s, want %s", c.chain, c.in, got, c.short)
		}
		if got := report.Percent(c.num, c.den); got != c.wantPercnt {
			t.Errorf("Percent(%s, %s) = %s, want %s", c.num, c.den, got, c.wantPercnt)
		}
	}
}

// FormatAmount is exact: the digits come back when the decimal point is removed.
func FuzzFormatAmount(f *testing.F) {
	for _, s := range []string{"0", "1", "1000000000000000000", "14850000000000000000", "00012", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []graph.Chain{graph.Ethereum, graph.Bitcoin} {
			got := report.FormatAmount(c, s)
			v, err := graph.ParseAmount(s)
			if err != nil || strings.TrimLeft(s, "0123456789") != "" || s == "" {
				continue
			}
			whole, frac, _ := strings.Cut(got, ".")
			d := 18
			if c == graph.Bitcoin {
				d = 8
			}
			back, err := graph.ParseAmount(whole + frac + strings.Repeat("0", d-len(frac)))
			if err != nil || !back.Eq(&v) {
				t.Fatalf("FormatAmount(%s, %q) = %q does not round-trip", c, s, got)
			}
		}
	})
}

func TestBuildWithoutResults(t *testing.T) {
	if _, err := report.Build(report.Meta{}, report.Run{Chain: graph.Bitcoin}); !errors.Is(err, report.ErrNoResults) {
		t.Errorf("err = %v, want ErrNoResults", err)
	}
}

// A node's label keeps an entity and its name whole (they run to about forty characters):
// the SVG fits it into the box, the DOT file gets it as it is.
func TestFlowLabelsKeptWhole(t *testing.T) {
	set := labels.NewSet()
	long := "Lazarus Group · Harmony bridge exploiter" // 40 characters
	must(t, set.Add(labels.Label{Chain: graph.Ethereum, Address: mule, Entity: "Lazarus Group", Name: "Harmony bridge exploiter",
		Category: labels.CategoryActor, Confidence: labels.ConfidenceOwnership, Source: labels.Source{Document: "report test"}}))
	rep, err := report.Build(report.Meta{Title: "labels"}, report.Run{Chain: graph.Ethereum, From: 1, To: 3,
		Results: []*trace.Result{accountCase(t, trace.Haircut)}, Labels: set})
	must(t, err)
	var svg, dot strings.Builder
	must(t, rep.Chains[0].Flow.WriteSVG(&svg))
	must(t, rep.Chains[0].Flow.WriteDOT(&dot))
	if !strings.Contains(svg.String(), long+"</text>") || !strings.Contains(svg.String(), `lengthAdjust="spacingAndGlyphs"`) {
		t.Errorf("SVG does not show %q whole, fitted to its box", long)
	}
	if !strings.Contains(dot.String(), long) {
		t.Errorf("DOT does not show %q whole", long)
	}
}
