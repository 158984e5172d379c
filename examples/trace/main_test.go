package main

import (
	"bytes"
	"compress/bzip2"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/chaintrace/chaintrace/examples/trace/simcase"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace/report"
	"github.com/chaintrace/chaintrace/trace/report/reportcheck"
	"github.com/holiman/uint256"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// expected is the hand-computed figures of the case (simcase.Expected), from one
// independent play of it: the case is deterministic, so its fees are the same in every play.
var expected = sync.OnceValues(func() ([]simcase.Expected, error) {
	c, err := played()
	return c.Expect, err
})

// played is one independent play of the case: its hand-computed figures and the two
// transactions of its THORChain swap.
var played = sync.OnceValues(func() (simcase.Case, error) {
	c, err := simcase.Play(context.Background(), simcase.Options{})
	if err != nil {
		return simcase.Case{}, err
	}
	defer c.Close()
	return *c, nil
})

type jsonReport struct {
	Notice string `json:"notice"`
	Chains []struct {
		Chain       string `json:"chain"`
		StoreHeight uint64 `json:"store_height"`
		Methods     []struct {
			Method   string               `json:"method"`
			Exposure []report.ExposureRow `json:"exposure"`
			Evidence []report.ExchangePath
			Injected map[graph.Asset]map[string]string `json:"injected"`
		} `json:"methods"`
	} `json:"chains"`
}

func readReport(t *testing.T, dir string) jsonReport {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	var r jsonReport
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkExpected compares the report's exposure with the hand-computed figures of the
// methods it holds.
func checkExpected(t *testing.T, r jsonReport) {
	t.Helper()
	want, err := expected()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range want {
		chain := string(graph.Ethereum)
		if e.Asset == graph.BTC {
			chain = string(graph.Bitcoin)
		}
		ci := -1
		for i := range r.Chains {
			if r.Chains[i].Chain == chain {
				ci = i
			}
		}
		if ci < 0 {
			continue // a run of one chain of the case
		}
		for _, m := range r.Chains[ci].Methods {
			if m.Method != e.Method {
				continue
			}
			var row *report.ExposureRow
			for i := range m.Exposure {
				if m.Exposure[i].Exchange == e.Exchange && m.Exposure[i].Asset == e.Asset {
					row = &m.Exposure[i]
				}
			}
			if row == nil {
				t.Errorf("%s: no exposure row for %s", e.Method, e.Exchange)
				continue
			}
			checked++
			got := uint256.MustFromDecimal(row.Tainted)
			diff := new(uint256.Int)
			if got.Gt(&e.Tainted) {
				diff.Sub(got, &e.Tainted)
			} else {
				diff.Sub(&e.Tainted, got)
			}
			if diff.Gt(&e.Tolerance) {
				t.Errorf("%s %s: tainted %s, by hand %s (±%s): %s", e.Method, e.Exchange, row.Tainted, e.Tainted.Dec(), e.Tolerance.Dec(), e.Why)
			}
			if row.Received != e.Received.Dec() || row.Direct != e.Direct.Dec() {
				t.Errorf("%s %s: received %s direct %s, by hand %s %s", e.Method, e.Exchange, row.Received, row.Direct, e.Received.Dec(), e.Direct.Dec())
			}
		}
	}
	if checked == 0 {
		t.Fatal("no hand-computed figure was checked")
	}
}

var exchanges = []string{simcase.ExchangeA, simcase.ExchangeB, simcase.ExchangeC, simcase.ExchangeD}

// The default run, twice: the figures are the hand-computed ones, the files are
// byte-identical, the SVG is XML with every exchange, the HTML renders in Chromium without
// console messages. (Its duration, which must stay under a minute, is BenchmarkDefaultRun's
// to measure: a test on a busy machine cannot tell slow code from a slow machine.)
func TestDefaultRun(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	code, out, errOut := runMain(t, "-out", d1, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("-q run wrote to stderr: %q", errOut)
	}
	if !strings.HasPrefix(out, "SIMULATION:") || !strings.Contains(out, "(the case above is a simulation)") {
		t.Errorf("stdout does not say plainly that the case is a simulation:\n%.300s", out)
	}
	for _, ex := range exchanges {
		for _, m := range []string{"poison", "haircut", "fifo", "lifo", "seniority"} {
			if !strings.Contains(out, ex) || !strings.Contains(out, m) {
				t.Errorf("stdout table lacks %s / %s", ex, m)
			}
		}
		if !strings.Contains(out, ex+": deposit ") {
			t.Errorf("stdout has no evidence path for %s", ex)
		}
	}
	r := readReport(t, d1)
	if r.Notice != simcase.Notice || len(r.Chains) != 2 || r.Chains[0].StoreHeight != simcase.Blocks || r.Chains[1].StoreHeight != simcase.BitcoinBlocks {
		t.Errorf("report header: notice %q, chains %d", r.Notice, len(r.Chains))
	}
	checkExpected(t, r)
	checkBridge(t, d1)
	checkFiguresAgree(t, d1, out, r)

	code, _, errOut = runMain(t, "-out", d2)
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "ingested 9 Ethereum blocks") || !strings.Contains(errOut, "ingested 107 Bitcoin blocks") {
		t.Errorf("status lines missing from stderr: %q", errOut)
	}
	if strings.ContainsAny(errOut, "\r|█") {
		t.Errorf("a progress bar was drawn on a stderr that is not a terminal: %q", errOut)
	}
	files, _ := filepath.Glob(filepath.Join(d1, "*"))
	if len(files) != 7 {
		t.Errorf("wrote %d files, want 7: %v", len(files), files)
	}
	for _, f := range files {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(d2, filepath.Base(f)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", filepath.Base(f))
		}
		for _, leak := range []string{d1, os.TempDir() + "/chaintrace-store-"} {
			if bytes.Contains(a, []byte(leak)) {
				t.Errorf("%s contains the temporary path %s", filepath.Base(f), leak)
			}
		}
	}

	// Each chain's flow picture shows the exchanges its taint reached.
	for chain, exs := range map[string][]string{
		"ethereum": {simcase.ExchangeA, simcase.ExchangeB, simcase.ExchangeC},
		"bitcoin":  {simcase.ExchangeB, simcase.ExchangeD},
	} {
		svg, err := os.ReadFile(filepath.Join(d1, "flow-"+chain+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(svg, []byte("SIMULATION")) {
			t.Errorf("the %s flow SVG does not say that the case is a simulation", chain)
		}
		nodes := svgNodeLabels(t, svg)
		dot, _ := os.ReadFile(filepath.Join(d1, "flow-"+chain+".dot"))
		for _, ex := range exs {
			if !nodes[ex] {
				t.Errorf("%s flow SVG has no node %q (nodes: %v)", chain, ex, nodes)
			}
			if !bytes.Contains(dot, []byte(`"`+ex+`"`)) {
				t.Errorf("%s DOT file has no node %q", chain, ex)
			}
		}
	}

	if _, err := reportcheck.Browser(); errors.Is(err, reportcheck.ErrNoChromium) {
		if os.Getenv("CI") == "" {
			t.Skip("chromium not installed (CI installs it): HTML rendering not checked")
		}
		t.Fatal(err)
	}
	res, err := reportcheck.Render(context.Background(), filepath.Join(d1, report.FileHTML))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Console) > 0 {
		t.Errorf("report.html: console messages %q", res.Console)
	}
	for _, s := range append([]string{"SIMULATION", "Where the taint in ETH went under haircut", "Where the taint in BTC went under haircut", "thorchain", "<svg"}, exchanges...) {
		if !strings.Contains(res.DOM, s) {
			t.Errorf("rendered report.html lacks %q", s)
		}
	}
}

// svgNodeLabels parses an SVG as XML and returns the text of the node boxes (<g
// class="node">).
func svgNodeLabels(t *testing.T, svg []byte) map[string]bool {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	labels := map[string]bool{}
	inNode, inText := 0, false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("flow SVG is not well-formed XML: %v", err)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if v.Name.Local == "g" {
				for _, a := range v.Attr {
					if a.Name.Local == "class" && a.Value == "node" {
						inNode++
					}
				}
			}
			inText = v.Name.Local == "text"
		case xml.EndElement:
			if v.Name.Local == "g" && inNode > 0 {
				inNode--
			}
			inText = false
		case xml.CharData:
			if inNode > 0 && inText {
				labels[string(v)] = true
			}
		}
	}
	return labels
}

// The same program on real-data flags: the case served over HTTP JSON-RPC as if it were a
// node, its labels in a file, one actor and one method.
func TestEthRPCFlags(t *testing.T) {
	ctx := context.Background()
	c, err := simcase.Play(ctx, simcase.Options{HTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	lf := filepath.Join(dir, "case-labels.csv")
	var b bytes.Buffer
	if err := labels.WriteCSV(&b, []string{"labels of the simulated case"}, c.Labels); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(lf, b.Bytes(), 0o644)
	out := filepath.Join(dir, "out")
	code, stdout, errOut := runMain(t, "-eth-rpc", c.Node.HTTPURL(), "-labels", lf, "-actor", simcase.Source, "-out", out, "-q", "-store", filepath.Join(dir, "store"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(stdout, "SIMULATION") {
		t.Error("a real-data run claims to be the simulation")
	}
	r := readReport(t, out)
	if len(r.Chains) != 1 || len(r.Chains[0].Methods) != 5 {
		t.Fatalf("report: %+v", r.Chains)
	}
	// Pre-window balances are implicit (clean) here instead of the genesis allocation: the
	// figures are the same.
	checkExpected(t, r)
	// A second run on the kept store resumes (nothing to ingest) and traces one method.
	code, _, errOut = runMain(t, "-eth-rpc", c.Node.HTTPURL(), "-labels", lf, "-actor", simcase.Source, "-method", "fifo", "-out", out, "-q", "-store", filepath.Join(dir, "store"))
	if code != 0 {
		t.Fatalf("rerun on the kept store: exit %d: %s", code, errOut)
	}
	r = readReport(t, out)
	if len(r.Chains[0].Methods) != 1 || r.Chains[0].Methods[0].Method != "fifo" {
		t.Fatalf("-method fifo: %+v", r.Chains[0].Methods)
	}
	checkExpected(t, r)
	// An actor nobody is attributed to is an error, not an empty report.
	code, _, errOut = runMain(t, "-eth-rpc", c.Node.HTTPURL(), "-labels", lf, "-actor", "nobody-at-all", "-out", out, "-q")
	if code != 1 || !strings.Contains(errOut, "no seeds") {
		t.Errorf("unknown actor: exit %d, %q", code, errOut)
	}
}

// Bad flags, unreachable nodes and unreadable files: one clear line, non-zero exit.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	badLabels := filepath.Join(dir, "bad.csv")
	os.WriteFile(badLabels, []byte("chain,address,entity,category,confidence\nethereum,0xnothex,X,actor,ownership\n"), 0o644)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"-nosuchflag"}, 2, "flag provided but not defined"},
		{"argument", []string{"extra"}, 2, "unexpected argument"},
		{"method", []string{"-method", "bogus"}, 2, `-method "bogus"`},
		{"from above to", []string{"-eth-rpc", "http://127.0.0.1:1", "-from", "9", "-to", "3"}, 2, "-from 9 is above -to 3"},
		{"height", []string{"-from", "x"}, 2, "not a block height"},
		{"from on the simulation", []string{"-from", "3"}, 2, "-from/-to apply to a data source"},
		{"min-taint", []string{"-min-taint", "1.5"}, 2, "-min-taint"},
		{"max-hops", []string{"-max-hops", "-3"}, 2, "-max-hops"},
		{"as-of", []string{"-as-of", "2025-13-01"}, 2, "-as-of"},
		{"both bitcoin sources", []string{"-btc-rpc", "http://127.0.0.1:1", "-btc-blocks", dir}, 2, "use one"},
		{"unreachable eth node", []string{"-eth-rpc", "http://127.0.0.1:1"}, 1, "cannot reach the Ethereum node at http://127.0.0.1:1"},
		{"unreachable btc node", []string{"-btc-rpc", "http://user:secret@127.0.0.1:1"}, 1, "cannot reach the Bitcoin node at http://user:xxxxx@127.0.0.1:1"},
		{"btc network", []string{"-btc-rpc", "http://127.0.0.1:1", "-btc-net", "moonnet"}, 1, "unknown bitcoin network"},
		{"missing labels", []string{"-labels", filepath.Join(dir, "none.csv")}, 1, "none.csv"},
		{"bad labels", []string{"-labels", badLabels}, 1, "bad.csv:2"},
		{"missing etl dir", []string{"-etl", filepath.Join(dir, "none")}, 1, "not a readable directory"},
		{"etl without transactions", []string{"-etl", dir}, 1, "no transactions table"},
		{"missing blocks dir", []string{"-btc-blocks", filepath.Join(dir, "none")}, 1, "-btc-blocks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errOut := runMain(t, append(c.args, "-q", "-out", filepath.Join(dir, "out"))...)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr %q lacks %q", errOut, c.want)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "trace: ") {
				t.Errorf("want exactly one line starting with \"trace: \", got %q", errOut)
			}
			if strings.Contains(errOut, "secret") {
				t.Errorf("password leaked: %q", errOut)
			}
			if strings.Contains(stdout, "exposure") {
				t.Errorf("a failed run printed a report: %q", stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, _, errOut := runMain(t, "-help")
	if code != 0 || !strings.Contains(errOut, "-eth-rpc") {
		t.Errorf("-help: exit %d, %q", code, errOut)
	}
}

// The chains the program knows for -etl detection.
func TestETLTableDetection(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "transactions.jsonl.gz"), nil, 0o644)
	if p, ok := etlTable(dir, "transactions"); !ok || filepath.Base(p) != "transactions.jsonl.gz" {
		t.Errorf("etlTable = %q %v", p, ok)
	}
	if _, ok := etlTable(dir, "receipts"); ok {
		t.Error("found a receipts table that is not there")
	}
	_ = graph.Ethereum
}

// -etl on a real bitcoin-etl export (blocks 50001-50002, from the exporter's own tests) with
// invented labels: 1DoQeK… (seed) and another address's 50 BTC go into one 100 BTC output to
// the "exchange", which also receives a clean 50 BTC. By hand: haircut, FIFO, LIFO and TIHO
// put 50 BTC of taint at hop 1 into the 100 BTC deposit; poison counts all 100.
func TestETLBitcoin(t *testing.T) {
	out := t.TempDir()
	code, stdout, errOut := runMain(t, "-etl", "../../testdata/etl/bitcoin/blocks_50001_50002_enriched", "-labels", "../../testdata/report/btc-50001-labels.csv", "-out", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := readReport(t, out)
	if len(r.Chains) != 1 || r.Chains[0].Chain != "bitcoin" || r.Chains[0].StoreHeight != 50002 {
		t.Fatalf("report chains: %+v", r.Chains)
	}
	want := map[string]string{"poison": "10000000000", "haircut": "5000000000", "fifo": "5000000000", "lifo": "5000000000", "tiho": "5000000000"}
	for _, m := range r.Chains[0].Methods {
		if len(m.Exposure) != 1 {
			t.Fatalf("%s: %d exposure rows", m.Method, len(m.Exposure))
		}
		x := m.Exposure[0]
		if x.Received != "15000000000" || x.Tainted != want[m.Method] || x.Direct != want[m.Method] || x.MinHop != 1 {
			t.Errorf("%s: %+v, want received 150 BTC, tainted = direct = %s at hop 1", m.Method, x, want[m.Method])
		}
	}
	if !strings.Contains(stdout, "Test exchange (invented)") {
		t.Errorf("stdout: %s", stdout)
	}
	svg, err := os.ReadFile(filepath.Join(out, "flow-bitcoin.svg"))
	if err != nil {
		t.Fatal(err)
	}
	nodes := svgNodeLabels(t, svg)
	if !nodes["Test exchange (invented)"] || !nodes["Test actor (invented attribution)"] {
		t.Errorf("flow SVG nodes: %v", nodes)
	}
}

// -btc-blocks on Bitcoin Core block files (generated by chains/bitcoin/blockgen on regtest):
// a coinbase address of block 1 is the seed, the busiest other address the "exchange"
// (invented labels). Checked: the run succeeds (the program checks conservation), the report
// is about bitcoin, and the exposure rows are consistent.
func TestBTCBlocks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	blocksDir := filepath.Join(dir, "blocks")
	if _, err := blockgen.Generate(ctx, blocksDir, blockgen.Options{Net: &chaincfg.RegressionNetParams, Seed: 7, Txs: 400, TxsPerBlock: 40, Addresses: 60}); err != nil {
		t.Fatal(err)
	}
	bf, err := bitcoin.OpenBlockFiles(ctx, blocksDir, bitcoin.BlockFilesOptions{Net: &chaincfg.RegressionNetParams})
	if err != nil {
		t.Fatal(err)
	}
	var seed graph.Address
	count := map[graph.Address]int{}
	err = bf.Blocks(ctx, func(b *graph.Block) error {
		for _, tx := range b.UTXOTxs {
			for _, o := range tx.Outputs {
				if b.Height == 1 && tx.Coinbase && seed == "" {
					seed = o.Address
				}
				if !tx.Coinbase {
					count[o.Address]++
				}
			}
		}
		return nil
	})
	bf.Close()
	if err != nil || seed == "" {
		t.Fatalf("reading the generated blocks: %v (seed %q)", err, seed)
	}
	var busiest graph.Address
	for a, n := range count {
		if a != seed && (busiest == "" || n > count[busiest] || (n == count[busiest] && a < busiest)) {
			busiest = a
		}
	}
	lf := filepath.Join(dir, "labels.csv")
	os.WriteFile(lf, []byte("chain,address,entity,category,nexus,incident,confidence,source\n"+
		"bitcoin,"+string(seed)+",Generated actor (invented),actor,DPRK,generated,ownership,test: invented\n"+
		"bitcoin,"+string(busiest)+",Generated exchange (invented),exchange,,,ownership,test: invented\n"), 0o644)
	out := filepath.Join(dir, "out")
	code, _, errOut := runMain(t, "-btc-blocks", blocksDir, "-btc-net", "regtest", "-labels", lf, "-out", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := readReport(t, out)
	if len(r.Chains) != 1 || r.Chains[0].Chain != "bitcoin" || len(r.Chains[0].Methods) != 5 {
		t.Fatalf("report: %+v", r.Chains)
	}
	tainted := 0
	for _, m := range r.Chains[0].Methods {
		for _, x := range m.Exposure {
			if x.Tainted != "0" {
				tainted++
			}
			rec, tai := uint256.MustFromDecimal(x.Received), uint256.MustFromDecimal(x.Tainted)
			dir, ind := uint256.MustFromDecimal(x.Direct), uint256.MustFromDecimal(x.Indirect)
			if tai.Gt(rec) || !new(uint256.Int).Add(dir, ind).Eq(tai) {
				t.Errorf("%s %s: received %s tainted %s direct %s indirect %s", m.Method, x.Exchange, x.Received, x.Tainted, x.Direct, x.Indirect)
			}
		}
	}
	if tainted == 0 {
		t.Error("no method found taint at the exchange: the test traces nothing")
	}
}

// checkFiguresAgree holds the bundled case's figures equal wherever they are shown, asset
// by asset (spec v2 A.1): report.json's exposure rows and the deposits CSV agree, ETH and
// the sETH token are never added together (v1 reports showed 458.199… "ETH", 200 of them
// sETH units), and each asset has its own Sankey diagram in its own unit.
func checkFiguresAgree(t *testing.T, dir, table string, r jsonReport) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, report.FileDeposits))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("deposits CSV: %v (%d rows)", err, len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	sums := map[string]*uint256.Int{}
	for _, rec := range recs[1:] {
		k := rec[col["method"]] + "|" + rec[col["exchange"]] + "|" + rec[col["asset"]]
		if sums[k] == nil {
			sums[k] = new(uint256.Int)
		}
		sums[k].Add(sums[k], uint256.MustFromDecimal(rec[col["tainted"]]))
	}
	rows := 0
	for _, m := range r.Chains[0].Methods {
		if len(m.Injected) < 2 || m.Injected[graph.ETH] == nil {
			t.Errorf("%s: injected taint %v: want ETH and the sETH token apart", m.Method, m.Injected)
		}
		for _, x := range m.Exposure {
			if x.Asset == "" {
				t.Errorf("%s %s: exposure row without an asset", m.Method, x.Exchange)
			}
			k := m.Method + "|" + x.Exchange + "|" + string(x.Asset)
			got := "0"
			if sums[k] != nil {
				got = sums[k].Dec()
			}
			if x.Tainted != got {
				t.Errorf("%s: report.json says %s tainted, deposits CSV adds up to %s", k, x.Tainted, got)
			}
			rows++
		}
	}
	if rows == 0 {
		t.Fatal("no exposure rows")
	}
	html, err := os.ReadFile(filepath.Join(dir, report.FileHTML))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Where the taint in ETH went", "Where the taint in sETH went"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html has no diagram %q", want)
		}
	}
	if strings.Contains(table, "458.199") {
		t.Errorf("the table adds sETH units to ETH:\n%s", table)
	}
}

// BenchmarkDefaultRun is the default run (the bundled case, every method, all files), which
// the README promises under a minute on the development machine:
//
//	go test ./examples/trace -run '^$' -bench DefaultRun -benchtime 3x
func BenchmarkDefaultRun(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var o, e bytes.Buffer
		if code := run(context.Background(), []string{"-out", b.TempDir(), "-q"}, &o, &e); code != 0 {
			b.Fatalf("exit %d: %s", code, e.String())
		}
	}
}

// Label problems are shown, not only counted: each skipped or defaulted row with its file
// and line (up to ten, then how many more).
func TestLabelWarningsListed(t *testing.T) {
	_, _, errOut := runMain(t, "-q", "-labels", "../../testdata/labels/dprk-attribution/fbi_attributed_dprk_addresses.csv", "-btc-blocks", t.TempDir())
	for _, want := range []string{
		"warning: labels: ../../testdata/labels/dprk-attribution/fbi_attributed_dprk_addresses.csv:1: defaulted: no confidence column",
		"fbi_attributed_dprk_addresses.csv:68: skipped: chain BSC is not modelled",
		"fbi_attributed_dprk_addresses.csv:74: skipped: chain POLYGON is not modelled",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// Conflicting sources are refused in one line, not silently reduced to one of them.
func TestConflictingSources(t *testing.T) {
	for _, args := range [][]string{
		{"-etl", t.TempDir(), "-btc-blocks", t.TempDir()},
		{"-etl", t.TempDir(), "-eth-rpc", "http://127.0.0.1:1"},
		{"-btc-rpc", "127.0.0.1:1", "-btc-blocks", t.TempDir()},
	} {
		code, _, errOut := runMain(t, args...)
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") > 2 || !strings.Contains(errOut, "one") {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}

// An address labelled both actor and exchange is left out, and the run says which and why,
// instead of ending in a bare "no seeds".
func TestActorExchangeConflictNamed(t *testing.T) {
	dir := t.TempDir()
	list := "chain,address,actor,category,nexus\n" +
		"bitcoin,12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S,LAZARUS GROUP,actor,DPRK\n" +
		"bitcoin,12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S,Example Exchange,exchange,\n"
	if err := os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	blocks := filepath.Join(dir, "blocks")
	if err := os.Mkdir(blocks, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../testdata/bitcoin/blocks1-256.bz2")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocks, "blk00000.dat"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runMain(t, "-q", "-labels", filepath.Join(dir, "labels.csv"), "-btc-blocks", blocks, "-to", "20", "-out", filepath.Join(dir, "out"))
	if code == 0 || !strings.Contains(errOut, "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S") || !strings.Contains(errOut, "no seeds") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// checkBridge holds the report to what the case's THORChain swap must show: under every
// method traced across the chains, the link from the Ethereum inbound (150 ETH through the
// router) to the Bitcoin outbound (4.8 BTC, memo OUT:<inbound>) is complete and carried
// all of its taint (the swapper held nothing clean), and each Bitcoin exchange's evidence
// path starts at the Ethereum seed and names the link.
func checkBridge(t *testing.T, dir string) {
	t.Helper()
	c, err := played()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Chains []struct {
			Chain   string `json:"chain"`
			Methods []struct {
				Method   string                `json:"method"`
				Links    []report.LinkRow      `json:"links"`
				Evidence []report.ExchangePath `json:"evidence"`
			} `json:"methods"`
		} `json:"chains"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	id := "thorchain:" + strings.TrimPrefix(c.ThorchainInbound, "0x")
	methods := 0
	for _, ch := range r.Chains {
		if ch.Chain != string(graph.Bitcoin) {
			continue
		}
		for _, m := range ch.Methods {
			methods++
			var link *report.LinkRow
			for i := range m.Links {
				if m.Links[i].ID == id {
					link = &m.Links[i]
				}
			}
			if link == nil {
				t.Errorf("%s: report.json has no link %s", m.Method, id)
				continue
			}
			want150 := "150000000000000000000"
			if link.Kind != graph.LinkThorchain || link.Status != "complete" || link.ChainIn != graph.Ethereum || link.AssetIn != graph.ETH ||
				link.InValue != want150 || link.InTaint != want150 || len(link.Out) != 1 {
				t.Errorf("%s: link %+v", m.Method, *link)
				continue
			}
			if o := link.Out[0]; o.Chain != graph.Bitcoin || o.Ref != c.ThorchainOutbound+":0" || o.Value != "480000000" || o.Tainted != "480000000" {
				t.Errorf("%s: the link's out-leg %+v, want %s:0 with 4.8 BTC all tainted", m.Method, o, c.ThorchainOutbound)
			}
			if !strings.Contains(link.Evidence, "OUT:"+strings.ToUpper(strings.TrimPrefix(c.ThorchainInbound, "0x"))) {
				t.Errorf("%s: the link's evidence does not quote the outbound memo: %s", m.Method, link.Evidence)
			}
			paths := 0
			for _, p := range m.Evidence {
				if p.Asset != graph.BTC {
					continue
				}
				paths++
				steps := p.Path.Steps
				viaLink := false
				for _, st := range steps {
					viaLink = viaLink || (st.Link != nil && st.Link.ID == id)
				}
				if len(steps) == 0 || string(steps[0].To) != string(c.Roles["exploiter"]) || !viaLink {
					t.Errorf("%s: the evidence of %s's deposit %s does not lead from the Ethereum seed through %s: %+v", m.Method, p.Exchange, p.Deposit, id, steps)
				}
			}
			if paths == 0 {
				t.Errorf("%s: no evidence path for a Bitcoin exchange", m.Method)
			}
		}
	}
	if methods == 0 {
		t.Error("report.json has no Bitcoin results")
	}
}
