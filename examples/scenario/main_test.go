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
			if strings.HasPrefix(filepath.Base(f), "L06") {
				// An invalid link: refused, naming it.
				require.Equal(t, 1, code)
				require.Contains(t, stderr.String(), `"BAD"`)
				return
			}
			// Every method the vector lists passes, links under fifo, lifo and seniority
			// (fractional lots) included.
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

// TestCheckVectors: `scenario -check FILE` passes every vector, links and several chains
// included, printing the checks but no JSON; an invalid vector exits non-zero with an error
// naming what is wrong.
func TestCheckVectors(t *testing.T) {
	for _, f := range vectors(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			var v struct {
				ExpectedError *struct{ Contains string } `json:"expected_error"`
			}
			require.NoError(t, json.Unmarshal(raw, &v))
			var stdout, stderr bytes.Buffer
			code := run([]string{"-check", f}, &stdout, &stderr)
			if v.ExpectedError != nil {
				require.NotEqual(t, 0, code)
				require.Contains(t, stderr.String(), v.ExpectedError.Contains)
				return
			}
			require.Equal(t, 0, code, stderr.String())
			require.Empty(t, stdout.String(), "-check prints the checks only")
			require.Contains(t, stderr.String(), ": ok")
		})
	}
}

// TestExplainThroughLinks: the evidence of a Bitcoin output paid out of a THORChain vault
// leads back through the link, named with its kind and evidence, to the Ethereum seed.
func TestExplainThroughLinks(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "vectors", "L02_link_wrap_thorchain_eth_to_btc.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-method", "haircut", "-explain", "btc:b2:0", f}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	out := stdout.String()
	for _, want := range []string{`"kind": "link"`, `"id": "TC1"`, `"kind": "thorchain"`, `"id": "WRAP1"`, `memo OUT:`, `"ref": "e1.0"`, `"complete": true`, `"kind": "seed"`} {
		require.Contains(t, out, want)
	}
	var stdout2, stderr2 bytes.Buffer
	require.Equal(t, 1, run([]string{"-explain", "zz:9", f}, &stdout2, &stderr2))
	require.Contains(t, stderr2.String(), `-explain "zz:9"`)
	var stdout3, stderr3 bytes.Buffer
	require.Equal(t, 2, run([]string{"-exact", "-table", f}, &stdout3, &stderr3))
	require.Contains(t, stderr3.String(), "does not combine with -table")
}
