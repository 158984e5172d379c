package scenario_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/stretchr/testify/require"
)

// TestVectorsExact runs every vector and project scenario under every method it lists in
// exact mode and compares with expected_exact where the file has it, else with expected.
func TestVectorsExact(t *testing.T) {
	for _, f := range append(files(t, "vectors/*.json"), files(t, "scenarios/valid/*.json")...) {
		sc, err := scenario.Load(f)
		require.NoError(t, err, f)
		for _, m := range sc.Methods {
			t.Run(filepath.Base(f)+"/"+m, func(t *testing.T) {
				got, err := sc.RunExact(m)
				if sc.ExpectedError != "" {
					// Invalid (spec §15.9): refused, naming what is at fault.
					require.ErrorContains(t, err, sc.ExpectedError)
					return
				}
				require.NoError(t, err)
				diffs, err := sc.CheckExact(m, got)
				require.NoError(t, err)
				require.Empty(t, diffs, "differences from the expected exact result")
				if _, ok := sc.ExpectedExact[m]; ok && m != trace.Haircut {
					// Links rescale lots into fractions of units (§15.5): where the vector
					// says exact and integer differ, they must.
					require.NotEmpty(t, sc.Links)
					diffs, err := scenario.DiffJSON(sc.Expected[m], got)
					require.NoError(t, err)
					require.NotEmpty(t, diffs, "the exact result equals the integer one")
				}
				if m != trace.Haircut && len(sc.Links) == 0 {
					// Methods that never round: the exact result is the integer one.
					res, err := sc.RunAny(m)
					require.NoError(t, err)
					want, err := json.Marshal(res)
					require.NoError(t, err)
					require.JSONEq(t, string(want), string(got))
				}
			})
		}
	}
}

// TestCheckExactPicksTheExpectation: expected_exact when present, expected otherwise, an
// error when neither is.
func TestCheckExactPicksTheExpectation(t *testing.T) {
	sc, err := scenario.Load(filepath.Join("..", "..", "testdata", "vectors", "U02_peel_chain.json"))
	require.NoError(t, err)
	got, err := sc.RunExact(trace.Haircut)
	require.NoError(t, err)
	require.Contains(t, string(got), `"10499700000000/44999"`)

	// Against the integer expectation the exact result differs where rounding did.
	exactExp := sc.ExpectedExact[trace.Haircut]
	delete(sc.ExpectedExact, trace.Haircut)
	diffs, err := sc.CheckExact(trace.Haircut, got)
	require.NoError(t, err)
	joined := strings.Join(diffs, "\n")
	require.Contains(t, joined, `outputs.p3:0.taint[0].amount: expected "233331852", got "10499700000000/44999"`)
	require.Contains(t, joined, `exposure.ExchA.BTC.share: expected "23148107/25000000", got "124997/134997"`)

	sc.ExpectedExact[trace.Haircut] = exactExp
	diffs, err = sc.CheckExact(trace.Haircut, got)
	require.NoError(t, err)
	require.Empty(t, diffs)

	delete(sc.ExpectedExact, trace.Haircut)
	delete(sc.Expected, trace.Haircut)
	_, err = sc.CheckExact(trace.Haircut, got)
	require.ErrorContains(t, err, "no expected result for method haircut")
}

func TestRunExactErrors(t *testing.T) {
	sc, err := scenario.Load(filepath.Join("..", "..", "testdata", "vectors", "U02_peel_chain.json"))
	require.NoError(t, err)
	_, err = sc.RunExact(trace.Seniority) // not a UTXO method
	require.ErrorIs(t, err, trace.ErrBadConfig)
	_, err = sc.RunExact("nonsense")
	require.ErrorIs(t, err, trace.ErrBadConfig)
}
