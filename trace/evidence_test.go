package trace_test

import (
	"fmt"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/screen"
	"github.com/stretchr/testify/require"
)

// Five sources of different sizes merge into one output. EvidenceLargest gives the paths
// of the largest components, largest first, and says how many there are; Evidence gives
// all of them in (source, hop) order. A screener's verdict carries the largest few.
func TestEvidenceLargest(t *testing.T) {
	amounts := []uint64{10, 50, 30, 20, 40}
	var seeds []trace.Seed
	var ins []graph.TxIn
	var sum uint64
	for i, a := range amounts {
		op := graph.Outpoint{TxID: fmt.Sprintf("f%d", i)}
		seeds = append(seeds, trace.Seed{Outpoint: &op, Source: fmt.Sprintf("s%d", i)})
		ins = append(ins, graph.TxIn{Prev: op})
		sum += a
	}
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Seeds: seeds, Params: trace.DefaultParams()})
	require.NoError(t, err)
	for i, a := range amounts {
		require.NoError(t, eng.Fund(graph.Outpoint{TxID: fmt.Sprintf("f%d", i)}, graph.Address(fmt.Sprintf("A%d", i)), graph.NewAmount(a)))
	}
	b := graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t", Inputs: ins,
		Outputs: []graph.TxOut{{Address: "D", Value: graph.NewAmount(sum)}}}}}
	require.NoError(t, eng.ApplyBlock(&b))
	r := eng.Result()

	all, err := r.Evidence("t:0")
	require.NoError(t, err)
	require.Len(t, all, 5)
	for i, p := range all {
		require.Equal(t, fmt.Sprintf("s%d", i), p.Source)
		require.True(t, p.Complete)
	}

	top, total, err := r.EvidenceLargest("t:0", 3)
	require.NoError(t, err)
	require.Equal(t, 5, total)
	require.Len(t, top, 3)
	var got []string
	for _, p := range top {
		got = append(got, p.Source+"="+p.Amount)
		require.True(t, p.Complete)
		require.Len(t, p.Steps, 2) // seed, then the output
	}
	require.Equal(t, []string{"s1=50", "s4=40", "s2=30"}, got)

	every, total, err := r.EvidenceLargest("t:0", -1)
	require.NoError(t, err)
	require.Equal(t, 5, total)
	require.Len(t, every, 5)

	_, _, err = r.EvidenceLargest("nope:0", 3)
	require.ErrorIs(t, err, trace.ErrNoEvidence)

	for _, tc := range []struct{ opt, want int }{{0, screen.DefaultEvidencePaths}, {2, 2}, {-1, 5}} {
		s, err := screen.New(screen.Options{Chain: graph.Bitcoin, EvidencePaths: tc.opt})
		require.NoError(t, err)
		s.Update(r, 1, "")
		v, err := s.CheckDeposit(t.Context(), graph.Bitcoin, "t:0")
		require.NoError(t, err)
		require.Len(t, v.Evidence, tc.want, "EvidencePaths %d", tc.opt)
		require.Equal(t, 5, v.EvidenceComponents)
		require.Equal(t, "s1", v.Evidence[0].Source)
	}
}
