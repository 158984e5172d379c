package exact_test

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/stretchr/testify/require"
)

func vectorFiles(t *testing.T, glob string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join("..", "..", "testdata", glob))
	require.NoError(t, err)
	require.NotEmpty(t, fs, glob)
	return fs
}

// replay runs a scenario's haircut on the exact engine directly (not through
// Scenario.RunExact), so that the typed result can be checked too.
func replay(t *testing.T, sc *scenario.Scenario) *exact.Result {
	t.Helper()
	return replayWith(t, sc, trace.Haircut)
}

// replayWith runs a scenario under method on the exact engine directly.
func replayWith(t *testing.T, sc *scenario.Scenario, method string) *exact.Result {
	t.Helper()
	eng, err := exact.New(sc.Config(method))
	require.NoError(t, err)
	for _, f := range sc.Funding {
		require.NoError(t, eng.Fund(f.Outpoint, f.Address, f.Value))
	}
	for _, b := range sc.InitialBalances {
		require.NoError(t, eng.SetBalance(b.Address, b.Asset, b.Amount))
	}
	for _, b := range sc.Blocks() {
		require.NoError(t, eng.ApplyBlock(&b))
	}
	require.NoError(t, eng.CheckLinks())
	return eng.Result()
}

// replayMulti runs a multi-chain scenario's haircut on exact.Multi directly.
func replayMulti(t *testing.T, sc *scenario.Scenario) *exact.MultiResult {
	t.Helper()
	return replayMultiWith(t, sc, trace.Haircut)
}

// replayMultiWith runs a multi-chain scenario under method on exact.Multi directly.
func replayMultiWith(t *testing.T, sc *scenario.Scenario, method string) *exact.MultiResult {
	t.Helper()
	var cfgs []trace.Config
	for _, sub := range sc.Chains {
		cfgs = append(cfgs, sub.Config(method))
	}
	m, err := exact.NewMulti(cfgs, sc.Seeds, sc.Links)
	require.NoError(t, err)
	srcs := map[graph.Chain]trace.ChainBlocks{}
	for _, sub := range sc.Chains {
		eng := m.Engine(sub.Chain)
		for _, f := range sub.Funding {
			require.NoError(t, eng.Fund(f.Outpoint, f.Address, f.Value))
		}
		for _, b := range sub.InitialBalances {
			require.NoError(t, eng.SetBalance(b.Address, b.Asset, b.Amount))
		}
		srcs[sub.Chain] = &blocks{list: sub.Blocks()}
	}
	require.NoError(t, m.Replay(context.Background(), srcs))
	return m.Result()
}

type blocks struct {
	list []graph.Block
	i    int
}

func (b *blocks) Next(context.Context) (*graph.Block, error) {
	if b.i == len(b.list) {
		return nil, io.EOF
	}
	b.i++
	return &b.list[b.i-1], nil
}

// TestVectors replays every conformance vector's haircut in exact mode and requires its
// expected_exact result, or its expected result where the vector has no expected_exact
// (the two are then equal, spec §11).
func TestVectors(t *testing.T) {
	models := map[graph.Model]int{}
	withExact := 0
	files := vectorFiles(t, "vectors/*.json")
	for _, f := range files {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		if sc.ExpectedError != "" {
			// An invalid scenario (spec §15.9): refused with the error the integer
			// engine gives, naming what is at fault.
			_, err := sc.RunExact(trace.Haircut)
			require.ErrorContains(t, err, sc.ExpectedError, f)
			require.ErrorIs(t, err, trace.ErrInvalidLink, f)
			continue
		}
		models[sc.Model]++
		want, ok := sc.ExpectedExact[trace.Haircut]
		if ok {
			withExact++
		} else {
			want, ok = sc.Expected[trace.Haircut]
		}
		require.True(t, ok, "%s expects nothing for haircut", f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			var got []byte
			if sc.Chains != nil {
				res := replayMulti(t, sc)
				require.NoError(t, res.CheckConservation())
				got, err = json.Marshal(res)
			} else {
				res := replay(t, sc)
				require.NoError(t, res.CheckConservation())
				got, err = json.Marshal(res)
			}
			require.NoError(t, err)
			diffs, err := scenario.DiffJSON(want, got)
			require.NoError(t, err)
			require.Empty(t, diffs, "differences from the expected exact result")
			if _, ok := sc.ExpectedExact[trace.Haircut]; ok {
				// Where the vector says exact and integer differ, they must.
				diffs, err := scenario.DiffJSON(sc.Expected[trace.Haircut], got)
				require.NoError(t, err)
				require.NotEmpty(t, diffs, "the exact result equals the integer one")
			}
		})
	}
	// The set must keep covering both models and rounding that matters.
	require.GreaterOrEqual(t, len(files), 10)
	require.Positive(t, models[graph.UTXO])
	require.Positive(t, models[graph.Account])
	require.Positive(t, withExact)
}

// TestScenarios replays the project's own valid scenarios that run haircut: exact mode
// must replay them and conserve taint.
func TestScenarios(t *testing.T) {
	for _, f := range vectorFiles(t, "scenarios/valid/*.json") {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		t.Run(filepath.Base(f), func(t *testing.T) {
			res := replay(t, sc)
			require.NoError(t, res.CheckConservation())
			if want, ok := sc.ExpectedExact[trace.Haircut]; ok {
				got, err := json.Marshal(res)
				require.NoError(t, err)
				diffs, err := scenario.DiffJSON(want, got)
				require.NoError(t, err)
				require.Empty(t, diffs)
			}
		})
	}
}

// TestTaintFeeExact pins exact mode's coinbase split under Params.TaintFee (scenario
// U92): the coinbase's inputs are a clean subsidy of 800, t1's fee of 100, all tainted
// at hop 1, and t2's clean fee of 200, so each of its outputs is exactly 100/1100 = 1/11
// tainted, at hop 2. (The integer engine rounds them to 64/700 and 36/400.)
func TestTaintFeeExact(t *testing.T) {
	sc, err := scenario.Load(filepath.Join("..", "..", "testdata", "scenarios", "valid", "U92_taint_fee_coinbase.json"))
	require.NoError(t, err)
	res := replay(t, sc)
	for _, op := range []string{"cb:0", "cb:1"} {
		o := res.Outputs[op]
		require.NotNil(t, o, op)
		require.Equal(t, "1/11", new(big.Rat).Quo(o.Tainted, o.Value).RatString(), op)
		require.Len(t, o.Taint, 1)
		require.Equal(t, uint32(2), o.Taint[0].Hop)
	}
	for _, a := range []graph.Address{"M", "N"} {
		tot := res.Addresses[a].Totals(graph.BTC)
		require.Equal(t, "1/11", tot.Share(), a)
	}
}

// TestVectorsOrdered replays every valid vector under each ordered method it lists (FIFO,
// LIFO, seniority, TIHO) on the exact engine directly, links included, and requires its
// expected_exact result for that method, or its expected one where it has none: without
// links the ordered methods never round, so the two are equal. Taint is conserved.
func TestVectorsOrdered(t *testing.T) {
	linked := 0
	for _, f := range vectorFiles(t, "vectors/*.json") {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		if sc.ExpectedError != "" {
			continue
		}
		for _, m := range sc.Methods {
			if m == trace.Poison || m == trace.Haircut {
				continue
			}
			want, ok := sc.ExpectedExact[m]
			if !ok {
				want, ok = sc.Expected[m]
			}
			require.True(t, ok, "%s expects nothing for %s", f, m)
			if len(sc.Links) > 0 {
				linked++
			}
			t.Run(filepath.Base(f)+"/"+m, func(t *testing.T) {
				var got []byte
				if sc.Chains != nil {
					res := replayMultiWith(t, sc, m)
					require.NoError(t, res.CheckConservation())
					got, err = json.Marshal(res)
				} else {
					res := replayWith(t, sc, m)
					require.Equal(t, m, res.Method)
					require.NoError(t, res.CheckConservation())
					got, err = json.Marshal(res)
				}
				require.NoError(t, err)
				diffs, err := scenario.DiffJSON(want, got)
				require.NoError(t, err)
				require.Empty(t, diffs, "differences from the expected exact result")
			})
		}
	}
	require.Positive(t, linked, "no vector with links under an ordered method")
}
