package blockgen_test

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/stretchr/testify/require"
)

func digest(t *testing.T, dir string) [32]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	h := sha256.New()
	for _, n := range names {
		data, err := os.ReadFile(n)
		require.NoError(t, err)
		h.Write([]byte(filepath.Base(n)))
		h.Write(data)
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

// The same options give byte-identical files; another seed gives another chain.
func TestGenerateDeterministic(t *testing.T) {
	ctx := context.Background()
	opts := blockgen.Options{Net: &chaincfg.MainNetParams, Seed: 42, Txs: 2000, TxsPerBlock: 300, MaxFileSize: 200_000, XORKey: [8]byte{9, 8, 7, 6, 5, 4, 3, 2}}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	sa, err := blockgen.Generate(ctx, a, opts)
	require.NoError(t, err)
	sb, err := blockgen.Generate(ctx, b, opts)
	require.NoError(t, err)
	require.Equal(t, sa, sb)
	require.Equal(t, digest(t, a), digest(t, b))
	require.Equal(t, 2000, sa.Txs-sa.Blocks) // non-coinbase transactions as asked
	require.Greater(t, sa.Files, 1)
	// 1–3 inputs and 1–3 outputs per spend: averages near 2.
	spends := sa.Txs - sa.Blocks
	require.InDelta(t, 2.0, float64(sa.Inputs)/float64(spends), 0.15)
	require.InDelta(t, 2.0, float64(sa.Outputs-50*sa.Blocks)/float64(spends), 0.15)
	opts.Seed = 43
	sc, err := blockgen.Generate(ctx, c, opts)
	require.NoError(t, err)
	require.NotEqual(t, sa.TipHash, sc.TipHash)
	xor, err := os.ReadFile(filepath.Join(a, "xor.dat"))
	require.NoError(t, err)
	require.Equal(t, opts.XORKey[:], xor)
}

func TestGenerateBadOptions(t *testing.T) {
	_, err := blockgen.Generate(context.Background(), t.TempDir(), blockgen.Options{Txs: 10})
	require.ErrorIs(t, err, blockgen.ErrBadOptions)
	_, err = blockgen.Generate(context.Background(), t.TempDir(), blockgen.Options{Net: &chaincfg.MainNetParams})
	require.ErrorIs(t, err, blockgen.ErrBadOptions)
}
