package trace_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/randchain"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestCheckpointResume splits every vector's replay at every block: replay the first
// part, checkpoint into a real (in-memory) badger store, restore, replay the rest. The
// result must equal the uninterrupted replay, evidence included.
func TestCheckpointResume(t *testing.T) {
	ctx := context.Background()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	require.NoError(t, err)
	defer st.Close()
	fs, _ := filepath.Glob("../testdata/vectors/*.json")
	more, _ := filepath.Glob("../testdata/scenarios/valid/*.json")
	require.NotEmpty(t, fs)
	for _, f := range append(fs, more...) {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		if sc.Chains != nil || sc.ExpectedError != "" {
			continue // several chains share link buffers and evidence: TestMultiCheckpointRefused
		}
		blocks := sc.Blocks()
		for _, m := range sc.Methods {
			full, err := sc.Run(m)
			require.NoError(t, err)
			want, _ := json.Marshal(full)
			for cut := 0; cut <= len(blocks); cut++ {
				eng, err := sc.NewEngine(m)
				require.NoError(t, err)
				for i := 0; i < cut; i++ {
					require.NoError(t, eng.ApplyBlock(&blocks[i]))
				}
				require.NoError(t, eng.SaveCheckpoint(ctx, st, "cp"))
				eng2, err := trace.LoadCheckpoint(ctx, st, "cp", sc.Config(m))
				require.NoError(t, err)
				for i := cut; i < len(blocks); i++ {
					require.NoError(t, eng2.ApplyBlock(&blocks[i]))
				}
				got := eng2.Result()
				gj, _ := json.Marshal(got)
				require.JSONEq(t, string(want), string(gj), "%s %s cut %d", filepath.Base(f), m, cut)
				for ref := range full.Outputs {
					a, _ := full.Evidence(ref)
					b, _ := got.Evidence(ref)
					require.Equal(t, a, b)
				}
				for ref := range full.Transfers {
					a, _ := full.Evidence(ref)
					b, _ := got.Evidence(ref)
					require.Equal(t, a, b)
				}
			}
		}
	}
}

func TestCheckpointRejectsOtherConfig(t *testing.T) {
	sc, err := scenario.Load("../testdata/vectors/U02_peel_chain.json")
	require.NoError(t, err)
	eng, err := sc.NewEngine(trace.FIFO)
	require.NoError(t, err)
	cp, err := eng.Checkpoint()
	require.NoError(t, err)
	_, err = trace.RestoreEngine(sc.Config(trace.LIFO), cp)
	require.ErrorIs(t, err, trace.ErrCheckpoint)
	cfg := sc.Config(trace.FIFO)
	cfg.Params.StopAtExchanges = false
	_, err = trace.RestoreEngine(cfg, cp)
	require.ErrorIs(t, err, trace.ErrCheckpoint)
	_, err = trace.RestoreEngine(sc.Config(trace.FIFO), cp[:len(cp)/2])
	require.ErrorIs(t, err, trace.ErrCheckpoint)
	_, err = trace.LoadCheckpoint(context.Background(), missingStore{}, "x", sc.Config(trace.FIFO))
	require.ErrorIs(t, err, graph.ErrNotFound)
}

type missingStore struct{}

func (missingStore) PutRecord(context.Context, string, []byte, []byte) error { return nil }
func (missingStore) GetRecord(_ context.Context, ns string, key []byte) ([]byte, error) {
	return nil, graph.ErrNotFound
}

// TestPropertyCheckpoint: on random chains, a checkpoint at a random block changes nothing.
func TestPropertyCheckpoint(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var c *randchain.Case
		if rapid.Bool().Draw(t, "utxo") {
			c = randchain.UTXO(t)
		} else {
			c = randchain.Account(t)
		}
		m := rapid.SampledFrom(trace.Methods(c.Model)).Draw(t, "method")
		full := runCase(t, c, m)
		cut := rapid.IntRange(0, len(c.Blocks)).Draw(t, "cut")
		blocks := c.Blocks
		c.Blocks = blocks[:cut]
		eng := engineFor(t, c, m)
		cp, err := eng.Checkpoint()
		if err != nil {
			t.Fatal(err)
		}
		eng2, err := trace.RestoreEngine(eng.Config(), cp)
		if err != nil {
			t.Fatal(err)
		}
		for i := cut; i < len(blocks); i++ {
			if err := eng2.ApplyBlock(&blocks[i]); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := json.Marshal(full)
		b, _ := json.Marshal(eng2.Result())
		if string(a) != string(b) {
			t.Fatalf("resumed replay differs:\n%s\n%s", a, b)
		}
	})
}

// TestMultiCheckpointRefused: one chain of a multi-chain trace shares its links and
// evidence with the others, so its checkpoint alone would restore a different trace; it is
// refused instead.
func TestMultiCheckpointRefused(t *testing.T) {
	sc, err := scenario.Load("../testdata/vectors/L02_link_wrap_thorchain_eth_to_btc.json")
	require.NoError(t, err)
	m, err := sc.NewMulti(trace.Haircut)
	require.NoError(t, err)
	_, err = m.Engine(m.Chains()[0]).Checkpoint()
	require.ErrorIs(t, err, trace.ErrCheckpoint)
	require.ErrorContains(t, err, "multi-chain")
}
