package bitcoin_test

import (
	"context"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
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
	require.NotEmpty(t, full.Exposure["hal"].Asset(graph.BTC).Deposits)
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

// A synthetic chain in several obfuscated blk files with their undo files (blockgen): a
// window over its last quarter gives the full replay's figures for what happens inside it
// (every deposit at the exchange with the same taint), from the undo files and from the
// scan. Seeds: the coinbase outputs of the block before the window (so that taint flows
// only inside the window: a window cannot know of taint that moved before it); exchange:
// the address most paid to in the window.
func TestWindowSyntheticLastQuarter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sum, err := blockgen.Generate(ctx, dir, blockgen.Options{Net: &chaincfg.RegressionNetParams, Seed: 11, Txs: 6000,
		TxsPerBlock: 150, Addresses: 400, MaxFileSize: 256 << 10, XORKey: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, Undo: true})
	require.NoError(t, err)
	require.Greater(t, sum.Files, 3)
	start := uint64(sum.Blocks)*3/4 + 1

	all, err := bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: &chaincfg.RegressionNetParams})
	require.NoError(t, err)
	defer all.Close()
	var seeds []trace.Seed
	count := map[graph.Address]int{}
	inWindow := map[string]bool{} // txids of the window
	require.NoError(t, all.Blocks(ctx, func(b *graph.Block) error {
		for _, tx := range b.UTXOTxs {
			inWindow[tx.TxID] = b.Height >= start
			for i, o := range tx.Outputs {
				if b.Height == start-1 && tx.Coinbase {
					seeds = append(seeds, trace.Seed{Outpoint: &graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}, Source: "s"})
				}
				if !tx.Coinbase && b.Height >= start {
					count[o.Address]++
				}
			}
		}
		return nil
	}))
	var busiest graph.Address
	for a, n := range count {
		if busiest == "" || n > count[busiest] || n == count[busiest] && a < busiest {
			busiest = a
		}
	}
	run := func(method string, src bitcoin.Source) *trace.Result {
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method,
			Seeds:     seeds,
			Exchanges: map[string][]graph.Address{"x": {busiest}},
			Params:    trace.DefaultParams()})
		require.NoError(t, err)
		require.NoError(t, bitcoin.Stream(ctx, src, eng.ApplyBlock))
		return eng.Result()
	}
	for _, method := range []string{trace.Haircut, trace.Poison} {
		full := run(method, all)
		require.False(t, full.Exposure["x"].Asset(graph.BTC).TaintedTotal.IsZero(), "%s: no taint reaches the exchange", method)
		for _, noUndo := range []bool{false, true} {
			bf, err := bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: &chaincfg.RegressionNetParams, WindowStart: start, NoUndo: noUndo})
			require.NoError(t, err)
			win := run(method, bf)
			require.Equal(t, map[bool]bitcoin.PrevoutMethod{false: bitcoin.PrevoutsUndo, true: bitcoin.PrevoutsScan}[noUndo], bf.PrevoutMethod())
			bf.Close()
			require.Positive(t, win.Stats.OutsideWindowInputs)
			// The exchange also received before the window: the window's deposits are the
			// full replay's deposits made inside it, with the same taint.
			var want []trace.Deposit
			for _, d := range full.Exposure["x"].Asset(graph.BTC).Deposits {
				op, err := graph.ParseOutpoint(d.Ref)
				require.NoError(t, err)
				if inWindow[op.TxID] {
					want = append(want, d)
				}
			}
			require.NotEmpty(t, want)
			require.Equal(t, want, win.Exposure["x"].Asset(graph.BTC).Deposits, "%s noUndo=%v", method, noUndo)
		}
	}
}
