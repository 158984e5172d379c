package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
)

// Replay from the store gives results identical to replay of the same blocks in memory, on
// every conformance vector and every method it lists: the store loses nothing the engine
// reads (amounts, order, flags, addresses, transfer kinds).
func TestStoreReplayEqualsInMemory(t *testing.T) {
	ctx := context.Background()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "vectors", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "testdata/vectors holds the conformance vectors")
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			sc, err := scenario.Load(path)
			require.NoError(t, err)
			if sc.ExpectedError != "" {
				return // an invalid scenario: nothing to replay (scenario's tests check the error)
			}
			if sc.Chains != nil {
				multiStoreReplay(t, sc)
				return
			}

			st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
			require.NoError(t, err)
			defer st.Close()
			in := sc.Blocks()
			require.NotEmpty(t, in)
			for i := range in {
				b := graph.CloneBlock(&in[i]) // WriteBlock resolves in place; the scenario's blocks are shared
				require.NoError(t, st.WriteBlock(ctx, &b), "block %d", b.Height)
			}
			var stored []*graph.Block
			require.NoError(t, st.Blocks(ctx, in[0].Chain, 0, ^uint64(0), func(b *graph.Block) error {
				stored = append(stored, b)
				return nil
			}))
			require.Len(t, stored, len(in))
			for i := range in {
				require.Equal(t, in[i], *stored[i], "block %d round trip", in[i].Height)
			}
			_, err = st.Verify(ctx, in[0].Chain)
			require.NoError(t, err)

			require.NotEmpty(t, sc.Methods)
			for _, method := range sc.Methods {
				want, err := sc.Run(method)
				require.NoError(t, err, method)
				eng, err := sc.NewEngine(method)
				require.NoError(t, err, method)
				for _, b := range stored {
					require.NoError(t, eng.ApplyBlock(b), "%s: block %d", method, b.Height)
				}
				wantJSON, err := json.Marshal(want)
				require.NoError(t, err)
				gotJSON, err := json.Marshal(eng.Result())
				require.NoError(t, err)
				require.JSONEq(t, string(wantJSON), string(gotJSON), "%s: replay from the store differs from replay in memory", method)

				// And both conform to the vector.
				diffs, err := sc.CheckResult(method, eng.Result())
				require.NoError(t, err)
				require.Empty(t, diffs, "%s: result differs from the vector's expected result", method)
			}
		})
	}
}

// multiStoreReplay writes every chain of a multi-chain scenario to one store, replays the
// chains from it through a merged multi-chain trace, and requires the in-memory result.
func multiStoreReplay(t *testing.T, sc *scenario.Scenario) {
	ctx := context.Background()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	require.NoError(t, err)
	defer st.Close()
	stored := map[graph.Chain][]graph.Block{}
	for _, sub := range sc.Chains {
		in := sub.Blocks()
		for i := range in {
			b := graph.CloneBlock(&in[i])
			require.NoError(t, st.WriteBlock(ctx, &b), "chain %s block %d", sub.Chain, b.Height)
		}
		require.NoError(t, st.Blocks(ctx, in[0].Chain, 0, ^uint64(0), func(b *graph.Block) error {
			stored[sub.Chain] = append(stored[sub.Chain], *b)
			return nil
		}))
		require.Equal(t, in, stored[sub.Chain], "chain %s round trip", sub.Chain)
	}
	for _, method := range sc.Methods {
		want, err := sc.RunMulti(method)
		require.NoError(t, err, method)
		m, err := sc.NewMulti(method)
		require.NoError(t, err)
		srcs := map[graph.Chain]trace.ChainBlocks{}
		for c, bs := range stored {
			srcs[c] = &storedBlocks{blocks: bs}
		}
		require.NoError(t, m.Replay(ctx, srcs))
		wantJSON, err := json.Marshal(want)
		require.NoError(t, err)
		gotJSON, err := json.Marshal(m.Result())
		require.NoError(t, err)
		require.JSONEq(t, string(wantJSON), string(gotJSON), "%s: replay from the store differs from replay in memory", method)
		diffs, err := sc.CheckResult(method, m.Result())
		require.NoError(t, err)
		require.Empty(t, diffs, method)
	}
}

type storedBlocks struct {
	blocks []graph.Block
	i      int
}

func (s *storedBlocks) Next(context.Context) (*graph.Block, error) {
	if s.i == len(s.blocks) {
		return nil, io.EOF
	}
	s.i++
	return &s.blocks[s.i-1], nil
}
