package trace_test

import (
	"errors"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// UTXO values beyond 64 bits (scenario files allow any uint256) are kept exactly: a
// 2^70-unit seeded output is split by haircut, checked against resolved inputs,
// checkpointed and restored, and spent again.
func TestUTXOValuesBeyond64Bits(t *testing.T) {
	huge := graph.MustAmount("1180591620717411303424") // 2^70
	half := graph.MustAmount("590295810358705651712")
	cfg := trace.Config{Model: graph.UTXO, Method: trace.Haircut,
		Seeds:  []trace.Seed{{Outpoint: &graph.Outpoint{TxID: "h0"}, Source: "s", Amount: &half}}, // half
		Params: trace.DefaultParams()}
	eng, err := trace.NewEngine(cfg)
	require.NoError(t, err)
	require.NoError(t, eng.Fund(graph.Outpoint{TxID: "h0"}, "H", huge))
	require.NoError(t, eng.Fund(graph.Outpoint{TxID: "c0"}, "C", graph.NewAmount(1000)))

	// A resolved input that misstates a wide value is refused.
	bad := graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "x",
		Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "h0"}, Resolved: true, Address: "H", Value: graph.NewAmount(5)}},
		Outputs: []graph.TxOut{{Address: "D", Value: graph.NewAmount(5)}}}}}
	probe, err := trace.NewEngine(cfg)
	require.NoError(t, err)
	require.NoError(t, probe.Fund(graph.Outpoint{TxID: "h0"}, "H", huge))
	require.True(t, errors.Is(probe.ApplyBlock(&bad), trace.ErrValueMismatch))

	// t1 pays 2^70 − 10 + 1000 − 0 to two outputs: one wide, one small.
	big := graph.MustAmount("1180591620717411303414") // 2^70 − 10
	b1 := graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t1",
		Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "h0"}, Resolved: true, Address: "H", Value: huge}, {Prev: graph.Outpoint{TxID: "c0"}}},
		Outputs: []graph.TxOut{{Address: "W", Value: big}, {Address: "S", Value: graph.NewAmount(1010)}}}}}
	require.NoError(t, eng.ApplyBlock(&b1))

	data, err := eng.Checkpoint()
	require.NoError(t, err)
	eng, err = trace.RestoreEngine(cfg, data)
	require.NoError(t, err)

	b2 := graph.Block{Chain: graph.Bitcoin, Height: 2, UTXOTxs: []graph.UTXOTx{{TxID: "t2",
		Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "t1"}, Resolved: true, Address: "W", Value: big}},
		Outputs: []graph.TxOut{{Address: "Z", Value: big}}}}}
	require.NoError(t, eng.ApplyBlock(&b2))
	r := eng.Result()
	require.NoError(t, r.CheckConservation())
	z := r.Unspent["t2:0"]
	require.NotNil(t, z)
	require.Equal(t, big.Dec(), z.Value.Dec())
	// Pool: 2^69 tainted of 2^70 + 1000; W takes 2^70 − 10 of it. Its exact tainted share
	// is 2^69 − 505·2^70/(2^70+1000) = 2^69 − 504.99999999999957… = …651207.00000000000043,
	// so the leftover unit goes to CLEAN (remainder 0.99999…) and W carries …651207,
	// which t2 moves whole to Z.
	require.Equal(t, "590295810358705651207", z.Tainted.Dec())
	s := r.Unspent["t1:1"]
	require.NotNil(t, s)
	require.Equal(t, "1010", s.Value.Dec())
}
