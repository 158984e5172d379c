package bitcoin_test

import (
	"context"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// windowTrace replays src with the block-9 coinbase address as seed and Hal Finney's
// address (the block-170 recipient) as the exchange.
func windowTrace(t *testing.T, method string, replay func(fn func(*graph.Block) error) error) *trace.Result {
	t.Helper()
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method,
		Seeds:     []trace.Seed{{Address: satoshi9Addr, Source: "block9"}},
		Exchanges: map[string][]graph.Address{"hal": {halAddr}},
		Params:    trace.DefaultParams()})
	require.NoError(t, err)
	require.NoError(t, replay(eng.ApplyBlock))
	return eng.Result()
}

// sameFigures checks that a window's result has the full replay's exposure and that every
// tainted output it leaves unspent has the full replay's taint (the full replay also holds
// tainted outputs created before the window and never spent in it).
func sameFigures(t *testing.T, full, win *trace.Result) {
	t.Helper()
	require.NotEmpty(t, full.Exposure["hal"].Deposits)
	require.Equal(t, full.Exposure, win.Exposure)
	require.NotEmpty(t, win.Unspent)
	for op, o := range win.Unspent {
		require.NotNil(t, full.Unspent[op], "unspent %s", op)
		require.Equal(t, full.Unspent[op].Taint, o.Taint, "unspent %s", op)
		require.Equal(t, full.Unspent[op].Tainted, o.Tainted, "unspent %s", op)
	}
}

// A trace from block 100 over blocks 1–255 gives the full replay's figures: from blk files
// without undo data (the scan), with the undo files written in Bitcoin Core's format, and
// through a store that ingested only the window.
func TestWindowTraceEqualsFullReplay(t *testing.T) {
	ctx := context.Background()
	withUndo, without := mainnetDirs(t)
	const start = 100
	for _, method := range []string{trace.Haircut, trace.Poison, trace.FIFO} {
		t.Run(method, func(t *testing.T) {
			all := mustOpen(t, without, &chaincfg.MainNetParams)
			full := windowTrace(t, method, func(fn func(*graph.Block) error) error { return bitcoin.Stream(ctx, all, fn) })
			require.EqualValues(t, 0, full.Stats.OutsideWindowInputs)
			for _, tc := range []struct {
				name   string
				dir    string
				method bitcoin.PrevoutMethod
			}{{"scan", without, bitcoin.PrevoutsScan}, {"undo", withUndo, bitcoin.PrevoutsUndo}} {
				t.Run(tc.name, func(t *testing.T) {
					bf := openWindow(t, tc.dir, start, false)
					win := windowTrace(t, method, func(fn func(*graph.Block) error) error { return bitcoin.Stream(ctx, bf, fn) })
					require.Equal(t, tc.method, bf.PrevoutMethod())
					require.Positive(t, win.Stats.OutsideWindowInputs)
					require.EqualValues(t, 256-start, win.Stats.Blocks)
					sameFigures(t, full, win)

					// The same window ingested into a store (bulk load), then replayed from it.
					st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
					require.NoError(t, err)
					defer st.Close()
					require.NoError(t, st.SetWindowStart(ctx, graph.Bitcoin, start))
					_, err = bitcoin.BulkLoad(ctx, st, bf, bitcoin.BulkLoadOptions{From: start, To: 255})
					require.NoError(t, err)
					stored := windowTrace(t, method, func(fn func(*graph.Block) error) error {
						return st.Blocks(ctx, graph.Bitcoin, start, 255, fn)
					})
					sameFigures(t, full, stored)
				})
			}
		})
	}
}
