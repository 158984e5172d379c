package bitcoin_test

import (
	"context"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// A first-time bulk load of mainnet blocks 1–100 stores what Ingest stores, Ingest then
// continues it to 255, and a trace from it equals the trace from an Ingest-only store. A
// load that fails part-way leaves the store empty, and a store that holds blocks is refused.
func TestBulkLoadBlockFiles(t *testing.T) {
	ctx := context.Background()
	bf := mustOpen(t, mainnet1to255(t), &chaincfg.MainNetParams)
	open := func() *graph.Store {
		st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	}

	// A load that fails part-way (here the caller's OnBlock, at block 50) is undone.
	st := open()
	stop := errors.New("stop")
	var fed int
	_, err := bitcoin.BulkLoad(ctx, st, bf, bitcoin.BulkLoadOptions{From: 1, To: 255, Bulk: graph.BulkOptions{TempDir: t.TempDir()},
		OnBlock: func(b *graph.Block) error {
			fed++
			if b.Height == 50 {
				return stop
			}
			return nil
		}})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 50, fed)
	_, _, ok, err := st.Tip(ctx, graph.Bitcoin)
	require.NoError(t, err)
	require.False(t, ok, "a failed bulk load leaves the store empty")

	// Fed blocks have their inputs resolved, as Ingest's OnBlock sees them.
	var resolved bool
	stats, err := bitcoin.BulkLoad(ctx, st, bf, bitcoin.BulkLoadOptions{From: 1, To: 100, Bulk: graph.BulkOptions{TempDir: t.TempDir()},
		OnBlock: func(b *graph.Block) error {
			if b.Height == 100 {
				resolved = true
			}
			for _, tx := range b.UTXOTxs {
				for _, in := range tx.Inputs {
					resolved = resolved && in.Resolved
				}
			}
			return nil
		}})
	require.NoError(t, err)
	require.True(t, resolved)
	require.Equal(t, 100, stats.Blocks)
	_, err = bitcoin.BulkLoad(ctx, st, bf, bitcoin.BulkLoadOptions{From: 101})
	require.True(t, errors.Is(err, graph.ErrStoreNotEmpty), "%v", err)
	ist, err := bitcoin.Ingest(ctx, st, bf, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.Equal(t, 155, ist.Written)
	_, err = st.Verify(ctx, graph.Bitcoin)
	require.NoError(t, err)

	ref := open()
	_, err = bitcoin.Ingest(ctx, ref, bf, bitcoin.IngestOptions{From: 1})
	require.NoError(t, err)
	blocks := func(st *graph.Store) []*graph.Block {
		var out []*graph.Block
		require.NoError(t, st.Blocks(ctx, graph.Bitcoin, 1, 255, func(b *graph.Block) error { out = append(out, b); return nil }))
		return out
	}
	require.Equal(t, blocks(ref), blocks(st))
	var prevMoves []graph.Movement
	for _, s := range []*graph.Store{ref, st} {
		var ms []graph.Movement
		require.NoError(t, s.Movements(ctx, graph.Bitcoin, satoshi9Addr, func(m graph.Movement) error { ms = append(ms, m); return nil }))
		require.NotEmpty(t, ms)
		if prevMoves != nil {
			require.Equal(t, prevMoves, ms)
		}
		prevMoves = ms
	}

	traceOf := func(st *graph.Store) *trace.Result {
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut,
			Seeds: []trace.Seed{{Outpoint: &graph.Outpoint{TxID: coinbase9, Index: 0}, Source: "block9"}}, Params: trace.DefaultParams()})
		require.NoError(t, err)
		require.NoError(t, st.Blocks(ctx, graph.Bitcoin, 1, 255, eng.ApplyBlock))
		return eng.Result()
	}
	want, got := traceOf(ref), traceOf(st)
	require.Len(t, got.Unspent, 6)
	require.Equal(t, want.Unspent, got.Unspent)
	require.Equal(t, want.Sinks, got.Sinks)
}
