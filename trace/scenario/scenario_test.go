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
				res, err := sc.RunAny(m)
				if sc.ExpectedError != "" {
					// An invalid scenario is rejected with an error naming what is wrong.
					require.ErrorIs(t, err, trace.ErrInvalidLink)
					require.ErrorContains(t, err, sc.ExpectedError)
					return
				}
				require.NoError(t, err)
				diffs, err := sc.CheckResult(m, res)
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
	seen := map[string]map[string]bool{"utxo": {}, "account": {}, "multi": {}}
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
		if sc.ExpectedError != "" {
			continue
		}
		for _, m := range sc.Methods {
			a, err := sc.RunAny(m)
			require.NoError(t, err)
			b, err := sc.RunAny(m)
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
				!errors.Is(err, trace.ErrBadConfig) && !errors.Is(err, scenario.ErrSeedIsExchange) &&
				!errors.Is(err, trace.ErrInvalidLink) {
				t.Fatalf("error wraps no known sentinel: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// A scenario that validates must replay under every method without error (but
		// an invalid link set, which only the replay can find: §15.9), and conserve taint.
		for _, m := range sc.Methods {
			res, err := sc.RunAny(m)
			if errors.Is(err, trace.ErrInvalidLink) && strings.HasPrefix(err.Error(), "fuzz.json") {
				return
			}
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

// TestInvalidLinks: every invalid link set of spec §15.9 is rejected, at parse time or when
// the replay meets it, with an error that names the link, leg, chain or address at fault.
func TestInvalidLinks(t *testing.T) {
	// One account chain: A (2 ETH) pays venue P, P pays B 10 TKN; A2 pays P too.
	acct := func(venues, links, extra string) string {
		return `{"format_version": 2, "model": "account", "scenario": {
			"initial_balances": [{"address": "A", "asset": "ETH", "amount": "2"}, {"address": "P", "asset": "TKN", "amount": "20"}, {"address": "A2", "asset": "ETH", "amount": "1"}],
			"transactions": [
				{"tx": "t1", "block": 1, "index": 0, "from": "A", "transfers": [{"id": "t1.0", "asset": "ETH", "from": "A", "to": "P", "amount": "1"}]},
				{"tx": "t2", "block": 2, "index": 0, "from": "P", "transfers": [{"id": "t2.0", "asset": "TKN", "from": "P", "to": "B", "amount": "10"}, {"id": "t2.1", "asset": "ETH", "from": "A", "to": "A", "amount": "1"}]},
				{"tx": "t3", "block": 3, "index": 0, "from": "A2", "transfers": [{"id": "t3.0", "asset": "ETH", "from": "A2", "to": "P", "amount": "1"}, {"id": "t3.1", "asset": "TKN", "from": "B", "to": "C", "amount": "1"}]}
			],
			"seeds": [{"address": "A", "source": "s"}` + extra + `],
			"labels": {"exchanges": {"EX": ["E"]}},
			"venues": ` + venues + `, "links": ` + links + `}}`
	}
	cases := []struct {
		name, doc string
		says      []string
	}{
		{"leg not found", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t1.0"], "out": ["nope"]}]`, ""), []string{`link "L"`, "nope", "not found"}},
		{"in-leg pays no venue", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t3.1"], "out": []}]`, ""), []string{`link "L"`, "t3.1", "does not pay a venue"}},
		{"out-leg not paid by a venue", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t1.0"], "out": ["t3.1"]}]`, ""), []string{`link "L"`, "t3.1", "not paid by a venue"}},
		{"in-leg of two links", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t1.0"], "out": ["t2.0"]}, {"id": "M", "kind": "swap", "in": ["t1.0"], "out": []}]`, ""), []string{`link "M"`, "t1.0", `link "L"`}},
		{"no in-leg", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": [], "out": ["t2.0"]}]`, ""), []string{`link "L"`, "no in-leg"}},
		{"in-leg after an out-leg", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t1.0", "t3.0"], "out": ["t2.0"]}]`, ""), []string{`link "L"`, "t3.0", "after an out-leg"}},
		{"self-transfer leg", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t2.1"], "out": []}]`, ""), []string{`link "L"`, "t2.1", "self-transfer"}},
		{"out-leg is a transfer seed", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t1.0"], "out": ["t2.0"]}]`, `, {"transfer": "t2.0", "source": "s"}`), []string{`link "L"`, "t2.0", "transfer seed"}},
		{"venue and seed", acct(`["A"]`, `[]`, ""), []string{"A", "venue and a seed"}},
		{"venue and exchange", acct(`["E"]`, `[]`, ""), []string{"E", "venue", "exchange EX"}},
		{"two links share an id", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t1.0"], "out": ["t2.0"]}, {"id": "L", "kind": "swap", "in": ["t3.0"], "out": []}]`, ""), []string{`link "L"`, "share"}},
		{"a leg names a chain on one chain", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": [{"chain": "eth", "transfer": "t1.0"}], "out": []}]`, ""), []string{"eth"}},
		{"bad kind", acct(`["P"]`, `[{"id": "L", "kind": "teleport", "in": ["t1.0"], "out": []}]`, ""), []string{"teleport"}},
		{"in-legs of two assets", acct(`["P"]`, `[{"id": "L", "kind": "swap", "in": ["t1.0", "t2.0"], "out": []}]`, ""), []string{`link "L"`, "t2.0"}},
	}
	multi := func(chains, seeds, venues, links string) string {
		return `{"format_version": 2, "model": "multi", "scenario": {"chains": ` + chains + `, "seeds": ` + seeds + `, "labels": {"exchanges": {}}, "venues": ` + venues + `, "links": ` + links + `}}`
	}
	eth := `{"name": "eth", "model": "account", "initial_balances": [{"address": "A", "asset": "ETH", "amount": "1"}], "transactions": [{"tx": "e1", "block": 1, "index": 0, "from": "A", "time": 10, "transfers": [{"id": "e1.0", "asset": "ETH", "from": "A", "to": "V", "amount": "1"}]}]}`
	btc := `{"name": "btc", "model": "utxo", "funding": [{"outpoint": "f:0", "address": "W", "value": "5"}], "transactions": [{"txid": "b1", "block": 7, "index": 0, "time": 20, "inputs": ["f:0"], "outputs": [{"address": "X", "value": "5"}]}]}`
	btcEarly := strings.Replace(btc, `"time": 20`, `"time": 5`, 1)
	btcNoTime := strings.Replace(btc, `"time": 20, `, ``, 1)
	venues := `[{"chain": "eth", "address": "V"}, {"chain": "btc", "address": "W"}]`
	link := `[{"id": "TC", "kind": "thorchain", "in": [{"chain": "eth", "transfer": "e1.0"}], "out": [{"chain": "btc", "output": "b1:0"}]}]`
	seeds := `[{"chain": "eth", "address": "A", "source": "s"}]`
	cases = append(cases, []struct {
		name, doc string
		says      []string
	}{
		{"multi: valid", multi("["+eth+","+btc+"]", seeds, venues, link), nil},
		{"multi: out-leg before in-leg", multi("["+eth+","+btcEarly+"]", seeds, venues, link), []string{`link "TC"`, "btc:b1:0", "before any in-leg"}},
		{"multi: no time", multi("["+eth+","+btcNoTime+"]", seeds, venues, link), []string{"btc", "no time"}},
		{"multi: unknown chain in a leg", multi("["+eth+","+btc+"]", seeds, venues, strings.Replace(link, `"chain": "btc"`, `"chain": "doge"`, 1)), []string{"doge", `link "TC"`}},
		{"multi: unknown chain in a seed", multi("["+eth+","+btc+"]", `[{"chain": "sol", "address": "A", "source": "s"}]`, venues, link), []string{"sol"}},
		{"multi: unknown chain in a venue", multi("["+eth+","+btc+"]", seeds, `[{"chain": "sol", "address": "V"}]`, link), []string{"sol", "V"}},
		{"multi: in-legs on two chains", multi("["+eth+","+btc+"]", seeds, venues, `[{"id": "TC", "kind": "bridge", "in": [{"chain": "eth", "transfer": "e1.0"}, {"chain": "btc", "output": "b1:0"}], "out": []}]`), []string{`link "TC"`, "two chains"}},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc, err := scenario.Parse("links.json", []byte(c.doc))
			if err == nil {
				for _, m := range sc.Methods {
					if _, err = sc.RunAny(m); err != nil {
						break
					}
				}
			}
			if c.says == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, errors.Is(err, scenario.ErrInvalid) || errors.Is(err, trace.ErrInvalidLink), "%v", err)
			for _, s := range c.says {
				require.Contains(t, err.Error(), s)
			}
		})
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
