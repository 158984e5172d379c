package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	// amount shows base units of asset a in a's own unit with its symbol.
	"amount": func(c ChainReport, a graph.Asset, units string) string { return c.run.Assets.Format(c.Chain, a, units) },
	"native": func(c ChainReport) graph.Asset { return c.Chain.NativeAsset() },
	// stepAsset is the asset of an evidence step (the chain's native one when unset).
	"stepAsset": func(c ChainReport, a graph.Asset) graph.Asset {
		if a == "" {
			return c.Chain.NativeAsset()
		}
		return a
	},
	"percent": Percent,
	"hops": func(x ExposureRow) string {
		if x.Tainted == "0" {
			return "-"
		}
		if x.MinHop == x.MaxHop {
			return fmt.Sprint(x.MinHop)
		}
		return fmt.Sprintf("%d–%d", x.MinHop, x.MaxHop)
	},
	"short": shortAddr,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.R.Title}}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1280px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ccc; } h3 { font-size: 15px; }
.notice { background: #fff3cd; border: 2px solid #d9a400; padding: 10px 14px; font-weight: bold; border-radius: 6px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; } th { background: #f3f3f3; }
td.l, th.l { text-align: left; }
code, .mono { font-family: Menlo, Consolas, monospace; font-size: 12px; }
.pic svg { max-width: 100%; height: auto; }
.pic { overflow-x: auto; border: 1px solid #eee; padding: 6px; margin: 8px 0; }
ol.path li { margin: 2px 0; font-size: 13px; }
.muted { color: #666; font-size: 13px; }
</style>
</head>
<body>
<h1>{{.R.Title}}</h1>
{{if .R.Notice}}<p class="notice">{{.R.Notice}}</p>{{end}}
<p class="muted">Figures are exact: computed on integers in base units (wei, satoshi) and shown here in the chain's native unit. Mixer and swap routes are conventions of the taint method, not de-mixing (taint specification §8.7).</p>
{{if .R.Command}}<p>Command: <code>{{range .R.Command}}{{.}} {{end}}</code></p>{{end}}
<h3>Parameters</h3>
<table>{{range $k, $v := .R.Parameters}}<tr><th class="l">{{$k}}</th><td class="l"><code>{{$v}}</code></td></tr>{{end}}</table>
<h3>Label sources</h3>
<table><tr><th class="l">source</th><th>labels</th><th class="l">note</th></tr>
{{range .R.LabelSources}}<tr><td class="l"><code>{{.Name}}</code></td><td>{{.Labels}}</td><td class="l">{{.Note}}</td></tr>{{end}}</table>
{{range $ci, $c := .R.Chains}}
<h2>{{$c.Chain}} ({{$c.Model}} model)</h2>
<p>Store height {{$c.StoreHeight}}; replayed blocks {{$c.From}}–{{$c.To}}. {{len $c.Seeds}} seed(s) matched the data; {{$c.UnusedSeeds}} attributed address(es) did not appear in it.</p>
<table><tr><th class="l">seed</th><th class="l">source</th><th class="l">why (attribution)</th></tr>
{{range $c.Seeds}}<tr><td class="l mono">{{.Address}}</td><td class="l">{{.Source}}</td><td class="l">{{.Origin}}</td></tr>{{end}}</table>
<h3>Exposure per exchange, asset and method</h3>
<p class="muted">Each row is one asset, in its own unit: amounts of two assets are never added.</p>
<table><tr><th class="l">exchange</th><th class="l">method</th><th>received</th><th>tainted</th><th>direct</th><th>indirect</th><th>share</th><th>hops</th><th>tainted deposits</th></tr>
{{range $c.Methods}}{{$m := .}}{{range .Exposure}}<tr><td class="l">{{.Exchange}}</td><td class="l">{{$m.Method}}</td><td>{{amount $c .Asset .Received}}</td><td>{{amount $c .Asset .Tainted}}</td><td>{{amount $c .Asset .Direct}}</td><td>{{amount $c .Asset .Indirect}}</td><td title="{{.Share}}">{{percent .Tainted .Received}}</td><td>{{hops .}}</td><td>{{.Deposits}}</td></tr>
{{end}}{{end}}</table>
{{with index $c.Methods 0}}<p class="muted">{{.Exchanges}} exchange label(s) known; {{.IdleExchanges}} received nothing in the window.</p>{{end}}
<h3>Flow of taint ({{$c.Flow.Method}})</h3>
<div class="pic">{{index $.Flows $ci}}</div>
<h3>Where the taint went, per method and asset</h3>
{{range $si, $s := index $.Sankeys $ci}}<div class="pic">{{$s}}</div>{{end}}
{{range $c.Methods}}
<h3>{{.Method}}: evidence, one path per exchange and asset</h3>
{{range .Evidence}}<p><b>{{.Exchange}}</b>: deposit <code>{{.Deposit}}</code> carries {{amount $c .Asset .Path.Amount}} of <i>{{.Path.Source}}</i> at hop {{.Path.Hop}}{{if not .Path.Complete}} (path incomplete){{end}}</p>
<ol class="path">{{range .Path.Steps}}{{if eq .Kind "seed"}}<li>seed <code>{{.Ref}}</code> — {{.Seed}}</li>{{else if eq .Kind "link"}}<li>link <b>{{.Link.ID}}</b> ({{.Link.Kind}}): {{amount $c (stepAsset $c .Asset) .Amount}} tainted of {{amount $c (stepAsset $c .Asset) .Value}} went in{{if .Link.Evidence}}; evidence: {{.Link.Evidence}}{{end}}</li>{{else}}<li>hop {{.Hop}}: <code>{{.Ref}}</code> block {{.Height}}, <code title="{{.From}}">{{short (print .From)}}</code> → <code title="{{.To}}">{{short (print .To)}}</code>, {{amount $c (stepAsset $c .Asset) .Amount}} tainted of {{amount $c (stepAsset $c .Asset) .Value}}</li>{{end}}{{end}}</ol>
{{else}}<p class="muted">No exchange received taint.</p>{{end}}
{{if .Links}}<h4>Links the taint passed through (swaps, wraps, bridges: docs/taint-spec.md §15)</h4>
<table><tr><th class="l">link</th><th class="l">kind</th><th class="l">in</th><th class="l">out</th><th class="l">evidence</th><th class="l">status</th></tr>
{{range .Links}}<tr><td class="l">{{.ID}}</td><td class="l">{{.Kind}}</td><td class="l">{{if .ChainIn}}{{.ChainIn}}: {{end}}{{amount $c .AssetIn .InTaint}} tainted of {{amount $c .AssetIn .InValue}}</td><td class="l">{{range .Out}}{{if .Chain}}{{.Chain}}: {{end}}<code>{{.Ref}}</code> {{amount $c .Asset .Tainted}} tainted of {{amount $c .Asset .Value}}<br>{{end}}</td><td class="l">{{.Evidence}}</td><td class="l">{{.Status}}</td></tr>
{{end}}</table>{{end}}
<p class="muted">Conservation: {{.Conservation}}.</p>
<table><tr><th class="l">sink</th><th class="l">source</th><th>amount</th></tr>
{{range $asset, $bySink := .Sinks}}{{range $k, $v := $bySink}}{{range $s, $a := $v}}<tr><td class="l">{{$k}}</td><td class="l">{{$s}}</td><td>{{amount $c $asset $a}}</td></tr>{{end}}{{end}}{{end}}
{{range $asset, $bySrc := .Held}}{{range $s, $a := $bySrc}}<tr><td class="l">still held</td><td class="l">{{$s}}</td><td>{{amount $c $asset $a}}</td></tr>{{end}}{{end}}</table>
{{end}}
{{end}}
<p class="muted">Written by chaintrace (trace/report, format version {{.R.FormatVersion}}). The JSON report holds every figure in base units, the parameters and the label sources; deposits.csv lists the tainted deposits.</p>
</body>
</html>
`))

// WriteHTML writes the self-contained HTML report: tables, evidence paths, the flow graph
// and the Sankey diagrams inline (SVG, CSS; no script, nothing fetched when viewed).
func (r *Report) WriteHTML(w io.Writer) error {
	data := struct {
		R       *Report
		Flows   []template.HTML
		Sankeys [][]template.HTML
	}{R: r}
	for _, c := range r.Chains {
		var fb strings.Builder
		if err := c.Flow.WriteSVG(&fb); err != nil {
			return err
		}
		// The SVG is produced by this package with every text escaped.
		data.Flows = append(data.Flows, template.HTML(fb.String()))
		var ss []template.HTML
		for _, s := range c.Sankeys {
			var sb strings.Builder
			if err := s.WriteSVG(&sb); err != nil {
				return err
			}
			ss = append(ss, template.HTML(sb.String()))
		}
		data.Sankeys = append(data.Sankeys, ss)
	}
	var b bytes.Buffer
	if err := page.Execute(&b, data); err != nil {
		return fmt.Errorf("report: HTML: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Files written by WriteFiles.
const (
	FileJSON     = "report.json"
	FileDeposits = "deposits.csv"
	FileHTML     = "report.html"
)

// FlowFile returns the base name of a chain's flow graph file ("flow-ethereum.svg").
func FlowFile(c ChainReport, ext string) string { return "flow-" + string(c.Chain) + "." + ext }

// WriteFiles writes report.json, deposits.csv, flow-<chain>.dot and .svg per chain and
// report.html into dir (created if missing) and returns the paths written.
func (r *Report) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var written []string
	// Each file is written to a temporary file and renamed into place (writeFileAtomic):
	// an interrupted run leaves each report file as it was or whole, never torn.
	write := func(name string, fn func(io.Writer) error) error {
		p := filepath.Join(dir, name)
		if err := writeFileAtomic(p, 0o644, fn); err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
		written = append(written, p)
		return nil
	}
	if err := write(FileJSON, r.WriteJSON); err != nil {
		return written, err
	}
	if err := write(FileDeposits, r.WriteDepositsCSV); err != nil {
		return written, err
	}
	for _, c := range r.Chains {
		if err := write(FlowFile(c, "dot"), c.Flow.WriteDOT); err != nil {
			return written, err
		}
		if err := write(FlowFile(c, "svg"), c.Flow.WriteSVG); err != nil {
			return written, err
		}
	}
	if err := write(FileHTML, r.WriteHTML); err != nil {
		return written, err
	}
	return written, nil
}
