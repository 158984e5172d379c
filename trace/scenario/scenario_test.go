package scenario_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/stretchr/testify/require"
)

func files(t testing.TB, glob string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join("..", "..", "testdata", glob))
	require.NoError(t, err)
	require.NotEmpty(t, fs, glob)
	return fs
}

// TestVectors runs every conformance vector (testdata/vectors, copied from the shared
// conformance set) and every hand-computed scenario of this project (testdata/scenarios/
// valid) under every method it lists and compares with its expected result.
func TestVectors(t *testing.T) {
	all := append(files(t, "vectors/*.json"), files(t, "scenarios/valid/*.json")...)
	for _, f := range all {
		sc, err := scenario.Load(f)
		require.NoError(t, err, f)
		for _, m := range sc.Methods {
			t.Run(filepath.Base(f)+"/"+m, func(t *testing.T) {
				res, err := sc.Run(m)
				require.NoError(t, err)
				diffs, err := sc.Check(m, res)
				require.NoError(t, err)
				require.Empty(t, diffs, "differences from the expected result")
				// Every method but poison conserves taint exactly (spec §9.3).
				if m != trace.Poison {
					require.NoError(t, res.CheckConservation())
				}
			})
		}
	}
}

// TestVectorsCoverEveryMethod guards against a vector set that silently stops testing a
// method.
func TestVectorsCoverEveryMethod(t *testing.T) {
	seen := map[string]map[string]bool{"utxo": {}, "account": {}}
	for _, f := range files(t, "vectors/*.json") {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		for m := range sc.Expected {
			seen[string(sc.Model)][m] = true
		}
	}
	for _, m := range trace.Methods(graph.UTXO) {
		require.True(t, seen["utxo"][m], "no utxo vector for %s", m)
	}
	for _, m := range trace.Methods(graph.Account) {
		require.True(t, seen["account"][m], "no account vector for %s", m)
	}
}

func TestInvalidScenarios(t *testing.T) {
	cases := []struct {
		file string
		err  error
		says []string // the message must name the offending entry
	}{
		{"unknown_outpoint.json", trace.ErrUnknownOutpoint, []string{"unknown_outpoint.json", "transactions[0]", "t1", "nope:0"}},
		{"double_spend.json", trace.ErrDoubleSpend, []string{"transactions[1]", "t2", "f:0", "already spent by t1"}},
		{"overspend.json", trace.ErrOverspend, []string{"transactions[0]", "101", "100"}},
		{"overdraft.json", trace.ErrOverdraft, []string{"transactions[0]", "x1.0", "A sends 11"}},
		{"fee_overdraft.json", trace.ErrOverdraft, []string{"transactions[0]", "fee 11"}},
		{"bad_amount.json", graph.ErrBadAmount, []string{"funding[0]", "1.5"}},
		{"negative_amount.json", graph.ErrBadAmount, []string{"initial_balances[0]", "-5"}},
		{"bad_address.json", graph.ErrBadAddress, []string{"funding[0]", "has space"}},
		{"bad_checksum.json", graph.ErrBadChecksum, []string{"initial_balances[0]", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}},
		{"seed_is_exchange.json", scenario.ErrSeedIsExchange, []string{"seeds[0]", "EX", "Ex"}},
		{"unknown_seed_outpoint.json", trace.ErrUnknownOutpoint, []string{"seeds[0]", "g:0"}},
		{"unknown_method.json", scenario.ErrInvalid, []string{"methods[0]", "tiho"}},
		{"syntax.json", scenario.ErrSyntax, []string{"syntax.json:2:"}},
		{"duplicate_position.json", scenario.ErrInvalid, []string{"transactions[1]", "block 1 index 0"}},
		{"taint_fee_account.json", scenario.ErrInvalid, []string{"taint_fee", "utxo"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, err := scenario.Load(filepath.Join("..", "..", "testdata", "scenarios", "invalid", c.file))
			require.Error(t, err)
			require.ErrorIs(t, err, c.err)
			for _, s := range c.says {
				require.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestCheckReportsEveryDifference(t *testing.T) {
	sc, err := scenario.Load(filepath.Join("..", "..", "testdata", "vectors", "U02_peel_chain.json"))
	require.NoError(t, err)
	res, err := sc.Run(trace.LIFO)
	require.NoError(t, err)
	// LIFO's result compared against FIFO's expectation must differ where the methods do.
	sc.Expected[trace.LIFO] = sc.Expected[trace.FIFO]
	diffs, err := sc.Check(trace.LIFO, res)
	require.NoError(t, err)
	require.NotEmpty(t, diffs)
	joined := strings.Join(diffs, "\n")
	require.Contains(t, joined, "outputs.p3:0.taint[0].amount: expected \"300000000\", got \"100000000\"")
	require.Contains(t, joined, "sinks.BTC.fees.lazarus")
}

func TestRunIsDeterministic(t *testing.T) {
	for _, f := range files(t, "vectors/*.json") {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		for _, m := range sc.Methods {
			a, err := sc.Run(m)
			require.NoError(t, err)
			b, err := sc.Run(m)
			require.NoError(t, err)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			require.Equal(t, string(ja), string(jb))
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, glob := range []string{"vectors/*.json", "scenarios/valid/*.json", "scenarios/invalid/*.json"} {
		for _, p := range files(f, glob) {
			b, err := os.ReadFile(p)
			require.NoError(f, err)
			f.Add(b)
		}
	}
	f.Add([]byte(`{"model":"utxo","scenario":{"funding":[{"outpoint":"a:0","address":"A","value":"1"}],"transactions":[{"txid":"t","block":0,"index":0,"inputs":["a:0"],"outputs":[{"address":"B","value":"1"}]}],"seeds":[{"outpoint":"a:0","source":"s","amount":"99"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scenario.Parse("fuzz.json", data)
		if err != nil {
			if !errors.Is(err, scenario.ErrSyntax) && !errors.Is(err, scenario.ErrInvalid) &&
				!errors.Is(err, graph.ErrBadAmount) && !errors.Is(err, graph.ErrBadAddress) &&
				!errors.Is(err, graph.ErrBadChecksum) && !errors.Is(err, graph.ErrBadOutpoint) &&
				!errors.Is(err, trace.ErrUnknownOutpoint) && !errors.Is(err, trace.ErrDoubleSpend) &&
				!errors.Is(err, trace.ErrOverspend) && !errors.Is(err, trace.ErrOverdraft) &&
				!errors.Is(err, trace.ErrBadConfig) && !errors.Is(err, scenario.ErrSeedIsExchange) {
				t.Fatalf("error wraps no known sentinel: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// A scenario that validates must replay under every method of its model without
		// error, and conserve taint.
		for _, m := range trace.Methods(sc.Model) {
			res, err := sc.Run(m)
			if err != nil {
				t.Fatalf("validated scenario fails under %s: %v", m, err)
			}
			if m != trace.Poison {
				if err := res.CheckConservation(); err != nil {
					t.Fatalf("%s: %v", m, err)
				}
			}
			if _, err := json.Marshal(res); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Spec v2 part B (venues, links, several chains) is not implemented yet: such a scenario is
// refused with an error that says so, never run as if its links were absent.
func TestLinksRefused(t *testing.T) {
	for _, doc := range []string{
		`{"format_version": 2, "model": "utxo", "scenario": {"venues": ["V"], "transactions": []}}`,
		`{"format_version": 2, "model": "account", "scenario": {"links": [{"id": "L1"}], "transactions": []}}`,
		`{"format_version": 2, "model": "multi", "scenario": {"chains": [{"name": "eth"}]}}`,
	} {
		_, err := scenario.Parse("links.json", []byte(doc))
		require.ErrorIs(t, err, scenario.ErrInvalid)
		require.ErrorContains(t, err, "spec v2 part B")
	}
	_, err := scenario.Parse("v3.json", []byte(`{"format_version": 3, "model": "utxo", "scenario": {}}`))
	require.ErrorContains(t, err, "format_version 3 is not supported")
}

// DiffJSON follows the spec's normalisation (§11): zero sinks and empty maps are absent,
// and every exchange stays listed even when nothing arrived.
func TestDiffJSONNormalisation(t *testing.T) {
	want := `{"sinks": {"BTC": {"fees": {"s": "0"}}}, "exposure": {"A": {}, "B": {"BTC": {"deposits": []}}}, "addresses": {}}`
	got := `{"sinks": {}, "exposure": {"A": {}, "B": {}}}`
	d, err := scenario.DiffJSON([]byte(want), []byte(got))
	require.NoError(t, err)
	require.Empty(t, d)
	d, err = scenario.DiffJSON([]byte(want), []byte(`{"exposure": {"B": {}}}`))
	require.NoError(t, err)
	require.Equal(t, []string{`exposure.A: expected {}, got absent`}, d)
}
