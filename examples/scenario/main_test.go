package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func vectors(t *testing.T) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "vectors", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, fs)
	return fs
}

// TestExactCheckVectors: `scenario -exact -check FILE` exits 0 for every vector, every
// method, and prints one result per method.
func TestExactCheckVectors(t *testing.T) {
	for _, f := range vectors(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"-exact", "-check", f}, &stdout, &stderr)
			require.Equal(t, 0, code, stderr.String())
			var out map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &out))
			require.Contains(t, out, "haircut")
			require.NotContains(t, stderr.String(), "expected")
		})
	}
}

// TestExactPrintsRationals: -exact prints haircut's exact figures, the integer run its
// rounded ones.
func TestExactPrintsRationals(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "vectors", "U02_peel_chain.json")
	var exact, integer, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-exact", "-method", "haircut", f}, &exact, &stderr), stderr.String())
	require.Equal(t, 0, run([]string{"-method", "haircut", f}, &integer, &stderr), stderr.String())
	require.Contains(t, exact.String(), `"10499700000000/44999"`)
	require.NotContains(t, integer.String(), `/44999"`)
	require.Contains(t, integer.String(), `"233331852"`)
}

// TestExactCheckFails: a wrong expected_exact makes -exact -check report the difference
// and exit 1; the integer check of the same file still passes.
func TestExactCheckFails(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "vectors", "U02_peel_chain.json"))
	require.NoError(t, err)
	bad := strings.Replace(string(src), `"10499700000000/44999"`, `"10499700000001/44999"`, 1)
	require.NotEqual(t, string(src), bad)
	f := filepath.Join(t.TempDir(), "U02_wrong.json")
	require.NoError(t, os.WriteFile(f, []byte(bad), 0o644))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 1, run([]string{"-exact", "-check", "-method", "haircut", f}, &stdout, &stderr))
	require.Contains(t, stderr.String(), `expected "10499700000001/44999", got "10499700000000/44999"`)
	stderr.Reset()
	require.Equal(t, 0, run([]string{"-check", "-method", "haircut", f}, &stdout, &stderr), stderr.String())
}

func TestExactUsage(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "vectors", "U02_peel_chain.json")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run([]string{"-exact", "-table", f}, &stdout, &stderr))
	require.Equal(t, 2, run([]string{"-exact", "-explain", "p4:0", f}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-exact")
}
