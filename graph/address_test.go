package graph_test

import (
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

// Bitcoin addresses, BIP 173/350 test vectors among them: every witness version is
// accepted in its right checksum and returned in canonical (lower-case) form.
func TestParseBitcoinAddress(t *testing.T) {
	ok := []struct{ in, want string }{
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"},
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"},
		// Witness versions 2–16 (BIP 350 valid vectors).
		{"BC1SW50QGDZ25J", "bc1sw50qgdz25j"},
		{"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"},
		{"bc1y0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", ""}, // bech32, not bech32m: invalid
		{"nonstandard00ff", "nonstandard00ff"},
	}
	for _, c := range ok {
		got, err := graph.ParseAddress(graph.Bitcoin, c.in)
		if c.want == "" {
			require.Error(t, err, c.in)
			continue
		}
		require.NoError(t, err, c.in)
		require.Equal(t, graph.Address(c.want), got)
	}
	// BIP 350 invalid vectors and other garbage.
	for _, in := range []string{
		"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",               // unknown hrp
		"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",               // version 17
		"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",                                        // v2 with a bech32 checksum
		"bc1pw5dgrnzv",                                                                 // v1, 1-byte program
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", // 41 bytes
		"bc1gmk9yu", // empty data
		"", "bc1", "not an address",
	} {
		_, err := graph.ParseAddress(graph.Bitcoin, in)
		require.ErrorIs(t, err, graph.ErrBadAddress, in)
	}
}

// ParseAddress never panics, and what it returns is a fixed point: parsing a canonical
// address gives it back unchanged.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "BC1SW50QGDZ25J", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "nonstandard00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []graph.Chain{graph.Bitcoin, graph.Ethereum} {
			a, err := graph.ParseAddress(c, s)
			if err != nil {
				continue
			}
			b, err := graph.ParseAddress(c, string(a))
			if err != nil || b != a {
				t.Fatalf("%s %q: canonical %q parses to %q, %v", c, s, a, b, err)
			}
		}
	})
}
