package screen_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/chaintrace/chaintrace/trace/screen"
	"github.com/stretchr/testify/require"
)

// peelScreener builds a screener over examples/screen/bundled/peel-case.json (haircut) with the
// default policy and the fixture's labels.
func peelScreener(t testing.TB) (*screen.Screener, *trace.Result) {
	t.Helper()
	sc, err := scenario.Load("../../examples/screen/bundled/peel-case.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.Run(trace.Haircut)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := screen.LoadPolicy("default-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := labels.LoadSet(context.Background(), "../../examples/screen/bundled/case-labels.csv")
	if err != nil {
		t.Fatal(err)
	}
	s, err := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol, Labels: set})
	if err != nil {
		t.Fatal(err)
	}
	s.Update(res, 105, "fixture-105")
	return s, res
}

type verdictCase struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Subject  string `json:"subject"`
	AsOf     string `json:"as_of"`
	Risk     string `json:"risk"`
	Score    int    `json:"score"`
	Rule     string `json:"rule"`
	Known    bool   `json:"known"`
	Received string `json:"received"`
	Tainted  string `json:"tainted"`
	Share    string `json:"share"`
	Evidence int    `json:"evidence_paths"`
	Labels   int    `json:"labels"`
}

// The expected verdicts of testdata/peel-case.expect.json, each worked out by hand
// from the scenario (the shares are the haircut figures of the trace).
func TestScreenerVerdictsOnPeelCase(t *testing.T) {
	s, _ := peelScreener(t)
	b, err := os.ReadFile("testdata/peel-case.expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []verdictCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var asOf time.Time
			if c.AsOf != "" {
				asOf, _ = time.Parse(time.DateOnly, c.AsOf)
			}
			var v *screen.Verdict
			if c.Kind == screen.KindDeposit {
				v, err = s.CheckDepositAt(ctx, graph.Bitcoin, c.Subject, asOf)
			} else {
				v, err = s.CheckAddressAt(ctx, graph.Bitcoin, c.Subject, asOf)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := verdictCase{Name: c.Name, Kind: v.Kind, Subject: c.Subject, AsOf: c.AsOf, Risk: v.Risk.String(), Score: v.Score, Rule: v.Rule,
				Known: v.Known, Received: v.Totals(graph.BTC).Received.Dec(), Tainted: v.Totals(graph.BTC).Tainted.Dec(), Share: v.Totals(graph.BTC).Share(), Evidence: len(v.Evidence), Labels: len(v.Labels)}
			if got != c {
				j, _ := json.MarshalIndent(v, "", " ")
				t.Errorf("verdict\n got %+v\nwant %+v\n%s", got, c, j)
			}
		})
	}
}

func TestVerdictJSONIsStable(t *testing.T) {
	s, _ := peelScreener(t)
	v, err := s.CheckAddress(context.Background(), graph.Bitcoin, "bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"chain", "kind", "subject", "height", "block_hash", "risk", "score", "rule", "known", "amounts", "exposures", "labels", "evidence"} {
		if _, ok := m[k]; !ok {
			t.Errorf("verdict JSON has no %q: %s", k, b)
		}
	}
	// Amounts per asset, never added across assets (spec v2 A.1).
	btc := m["amounts"].(map[string]any)["BTC"].(map[string]any)
	for _, k := range []string{"received", "tainted", "share"} {
		if _, isString := btc[k].(string); !isString {
			t.Errorf("amounts.BTC.%s is not a string: %v", k, btc)
		}
	}
	x := m["exposures"].([]any)[0].(map[string]any)
	if x["asset"] != "BTC" {
		t.Errorf("exposure line without its asset: %v", x)
	}
	for _, k := range []string{"asset", "source", "hop", "amount", "share", "direct", "direction", "source_active"} {
		if _, ok := x[k]; !ok {
			t.Errorf("exposure JSON has no %q: %v", k, x)
		}
	}
	if _, isString := x["amount"].(string); !isString {
		t.Errorf("amount is not a decimal string: %v", x["amount"])
	}
	ev := m["evidence"].([]any)[0].(map[string]any)
	steps := ev["steps"].([]any)
	if first := steps[0].(map[string]any); first["kind"] != "seed" || !strings.Contains(first["seed"].(string), "12283Cq1pJ3f1gXwqi6K3bRf5LZb8Bkm6g") {
		t.Errorf("evidence does not start at the seed: %v", first)
	}
	src := m["labels"].([]any)[0].(map[string]any)
	if src["role"] != "source" || src["source"] != "harmony-2022" || !strings.Contains(src["document"].(string), "FBI") {
		t.Errorf("source label: %v", src)
	}
}

func TestScreenerQueries(t *testing.T) {
	s, _ := peelScreener(t)
	ctx := context.Background()
	if _, err := s.CheckAddress(ctx, graph.Ethereum, "0x0000000000000000000000000000000000000001"); !errors.Is(err, screen.ErrWrongChain) {
		t.Errorf("wrong chain: %v", err)
	}
	for _, bad := range []string{"", "not-an-address", "bc1qwzzk5mtvywu0u5y8c0ag6t4swa44x0r5m2tzuX"} {
		if _, err := s.CheckAddress(ctx, graph.Bitcoin, bad); !errors.Is(err, screen.ErrBadQuery) {
			t.Errorf("address %q: %v, want ErrBadQuery", bad, err)
		}
	}
	// Another spelling (upper-case bech32) finds the same entry.
	v1, _ := s.CheckAddress(ctx, graph.Bitcoin, "bc1qwzzk5mtvywu0u5y8c0ag6t4swa44x0r5m2tzuh")
	v2, err := s.CheckAddress(ctx, graph.Bitcoin, strings.ToUpper("bc1qwzzk5mtvywu0u5y8c0ag6t4swa44x0r5m2tzuh"))
	if err != nil || v1 != v2 {
		t.Errorf("upper-case spelling: %v (%p vs %p)", err, v1, v2)
	}
	for _, bad := range []string{"", "p2", "p2:x"} {
		if _, err := s.CheckDeposit(ctx, graph.Bitcoin, bad); !errors.Is(err, screen.ErrBadQuery) {
			t.Errorf("deposit %q: %v, want ErrBadQuery", bad, err)
		}
	}
	empty, _ := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: s.Policy()})
	if _, err := empty.CheckAddress(ctx, graph.Bitcoin, "bc1qwzzk5mtvywu0u5y8c0ag6t4swa44x0r5m2tzuh"); !errors.Is(err, screen.ErrNotReady) {
		t.Errorf("before Update: %v", err)
	}
}

// Checks run while the index is swapped again and again: go test -race finds any shared
// mutable state, and every answer is one of the two consistent verdicts.
func TestScreenerConcurrentChecksDuringUpdates(t *testing.T) {
	s, res := peelScreener(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v, err := s.CheckAddress(ctx, graph.Bitcoin, "bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0")
				if err != nil || v.Risk != screen.RiskHigh || len(v.Evidence) == 0 {
					t.Errorf("check during update: %v %+v", err, v)
					return
				}
				if _, err := s.CheckDepositAt(ctx, graph.Bitcoin, "p2:0", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		s.Update(res, 105, "fixture-105")
	}
	close(stop)
	wg.Wait()
}

func TestRescreenReportsChanges(t *testing.T) {
	sc, err := scenario.Load("../../examples/screen/bundled/peel-case.json")
	if err != nil {
		t.Fatal(err)
	}
	pol, _ := screen.LoadPolicy("default-policy.yaml")
	s, _ := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol})
	eng, err := sc.NewEngine(trace.Haircut)
	if err != nil {
		t.Fatal(err)
	}
	blocks := sc.Blocks()
	ctx := context.Background()
	const x3 = "bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0"
	var before []*screen.Verdict
	for i := range blocks {
		if blocks[i].Height == 103 {
			s.Update(eng.Result(), 102, "")
			v, _ := s.CheckAddress(ctx, graph.Bitcoin, x3)
			w, _ := s.CheckAddress(ctx, graph.Bitcoin, "bc1qu7p95j983lp747skrff8l0jwsqz0s3yfl7rtuy")
			if v.Risk != screen.RiskNone || v.Known {
				t.Fatalf("X3 before p3: %+v", v)
			}
			before = append(before, v, w)
		}
		if err := eng.ApplyBlock(&blocks[i]); err != nil {
			t.Fatal(err)
		}
	}
	s.Update(eng.Result(), 105, "")
	ch, err := s.Rescreen(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	// X3 became high; W2 got clean money (known now, still none): both changed.
	if len(ch) != 2 || ch[0].After.Risk != screen.RiskHigh || ch[0].Before.Subject != x3 || ch[1].After.Risk != screen.RiskNone || !ch[1].After.Known {
		t.Fatalf("changes: %+v", ch)
	}
}

func TestPolicyErrorsNameFileAndRule(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"p.yaml", "version: 1\nrules: []\n", "p.yaml: no rules"},
		{"p.yaml", "version: 2\nrules: [{name: a, risk: high, score: 1, exposure: {}}]\n", "version 2"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: hot, score: 1, exposure: {}}]\n", `rule 1 (a): risk "hot"`},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, exposure: {}}]\n", "rule 1 (a): has no score"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 101, exposure: {}}]\n", "score 101"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1}]\n", "neither a subject nor an exposure"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1, exposure: {min_share: 2}}]\n", "min_share \"2\""},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1, exposure: {min_amount: 1.5}}]\n", "min_amount"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1, exposure: {max_hops: 3}}]\n", "field max_hops not found"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1, exposure: {categories: [pirate]}}]\n", "rule 1 (a): exposure: unknown category"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1, exposure: {direction: outgoing, min_share: 1/2}}]\n", "incoming taint only"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1, exposure: {direct: false, max_hop: 1}}]\n", "can never match"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1, subject: {}}]\n", "subject condition is empty"},
		{"p.yaml", "version: 1\nrules: [{name: a, risk: high, score: 1, exposure: {}}, {name: a, risk: low, score: 1, exposure: {}}]\n", "rule 2 (a): name already used by rule 1"},
		{"p.json", `{"version": 1, "rules": [{"name": "a", "risk": "high", "score": 1, "exposure": {"max_hop": -1}}]}`, "max_hop -1"},
		{"p.json", `{"version": 1, "rules": [{"name": "a", "risk": "high", "score": 1, "expsure": {}}]}`, `unknown field "expsure"`},
		{"p.yaml", "", "empty file"},
	}
	for _, c := range cases {
		_, err := screen.ParsePolicy(strings.NewReader(c.text), c.name)
		if !errors.Is(err, screen.ErrBadPolicy) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%q: error %v, want ErrBadPolicy mentioning %q and the file", c.text, err, c.want)
		}
	}
}

func TestShippedPoliciesLoad(t *testing.T) {
	files, _ := filepath.Glob("testdata/*polic*")
	files = append(files, "default-policy.yaml")
	if len(files) < 2 {
		t.Fatalf("policies: %v", files)
	}
	for _, f := range files {
		p, err := screen.LoadPolicy(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(p.Rules) == 0 || p.Name == "" {
			t.Errorf("%s: %+v", f, p)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, name := range []string{"default-policy.yaml", "testdata/policy-json-example.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, ".json"))
	}
	f.Add([]byte("version: 1\nrules: [{name: a, risk: high, score: 1, exposure: {min_share: 1/0}}]\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		name := "f.yaml"
		if isJSON {
			name = "f.json"
		}
		p, err := screen.ParsePolicy(strings.NewReader(string(data)), name)
		if err != nil {
			if !errors.Is(err, screen.ErrBadPolicy) {
				t.Fatalf("error not wrapping ErrBadPolicy: %v", err)
			}
			return
		}
		if len(p.Rules) == 0 {
			t.Fatal("accepted a policy without rules")
		}
		for _, r := range p.Rules {
			if r.Subject == nil && r.Exposure == nil || r.Score < 0 || r.Score > 100 {
				t.Fatalf("accepted rule %+v", r)
			}
		}
	})
}

// TestVerdictEvidenceTieIsStable: an address that received two outputs with the same
// taint at the same hop is explained by the smaller reference, whatever order the index
// met them in (the Result's outputs are a map).
func TestVerdictEvidenceTieIsStable(t *testing.T) {
	const (
		seed = graph.Address("bc1q3ph4cptwyaj2x2car4knkjlu34dq5mrmkxtj0t")
		dest = graph.Address("bc1qcvkf5thjeqw9yvhchxytgw7ewfwev7yuv2j0au")
	)
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds: []trace.Seed{{Address: seed, Source: "theft"}}})
	require.NoError(t, err)
	var txs []graph.UTXOTx
	for i := 0; i < 8; i++ { // eight payments of 1000 from the seed to dest, one hop each
		op := graph.Outpoint{TxID: fmt.Sprintf("f%063x", i)}
		require.NoError(t, eng.Fund(op, seed, graph.NewAmount(1100)))
		txs = append(txs, graph.UTXOTx{TxID: fmt.Sprintf("%064x", 8-i), Index: uint32(i), Inputs: []graph.TxIn{{Prev: op}},
			Outputs: []graph.TxOut{{Address: dest, Value: graph.NewAmount(1000)}}})
	}
	require.NoError(t, eng.ApplyBlock(&graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: txs}))
	pol, err := screen.LoadPolicy("default-policy.yaml")
	require.NoError(t, err)
	want := fmt.Sprintf("%064x", 1) + ":0" // the smallest of the eight references
	for run := 0; run < 20; run++ {
		s, err := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol})
		require.NoError(t, err)
		s.Update(eng.Result(), 1, "")
		v, err := s.CheckAddress(context.Background(), graph.Bitcoin, string(dest))
		require.NoError(t, err)
		require.NotEmpty(t, v.Evidence)
		steps := v.Evidence[0].Steps
		require.Equal(t, want, steps[len(steps)-1].Ref, "run %d", run)
	}
}

// A verdict on a Bitcoin deposit cites an Ethereum theft through the links its taint passed
// (spec §15): the evidence path leads from the deposit back through the THORChain and wrap
// links to the seed on the other chain.
func TestVerdictThroughLinks(t *testing.T) {
	sc, err := scenario.Load("../../testdata/vectors/L02_link_wrap_thorchain_eth_to_btc.json")
	require.NoError(t, err)
	r, err := sc.RunMulti(trace.Haircut)
	require.NoError(t, err)
	pol, err := screen.LoadPolicy("default-policy.yaml")
	require.NoError(t, err)
	s, err := screen.New(screen.Options{Chain: "btc", Policy: pol})
	require.NoError(t, err)
	s.Update(r.Results["btc"], 800002, "")
	v, err := s.CheckDeposit(context.Background(), "btc", "b2:0")
	require.NoError(t, err)
	require.Equal(t, "ExchB", v.Exchange)
	require.Equal(t, "2500000", v.Totals(graph.BTC).Tainted.Dec())
	require.NotEqual(t, screen.RiskNone, v.Risk)
	require.NotEmpty(t, v.Evidence)
	p := v.Evidence[0]
	require.True(t, p.Complete)
	require.Equal(t, "seed", p.Steps[0].Kind)
	require.Contains(t, p.Steps[0].Seed, "address H")
	var links []string
	for _, st := range p.Steps {
		if st.Kind == "link" {
			links = append(links, st.Link.ID)
		}
	}
	require.Equal(t, []string{"WRAP1", "TC1"}, links)
	b, err := v.JSON()
	require.NoError(t, err)
	require.Contains(t, string(b), `"kind":"thorchain"`)
}

// The built-in policy is the shipped file, parsed: every rule named, the first the most
// severe.
func TestDefaultPolicy(t *testing.T) {
	p := screen.DefaultPolicy()
	require.NotEmpty(t, p.Rules)
	require.NotSame(t, p, screen.DefaultPolicy(), "each call returns its own Policy")
	for _, r := range p.Rules {
		require.NotEmpty(t, r.Name)
	}
}

// A seed address that moved value is known to the trace, and its verdict says so.
func TestSeedVerdictKnown(t *testing.T) {
	s, _ := peelScreener(t)
	v, err := s.CheckAddress(context.Background(), graph.Bitcoin, "12283Cq1pJ3f1gXwqi6K3bRf5LZb8Bkm6g")
	require.NoError(t, err)
	require.NotEmpty(t, v.Seed)
	require.True(t, v.Known, "the seed spent its funds in the trace")
}
