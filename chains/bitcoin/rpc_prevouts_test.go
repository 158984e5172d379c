package bitcoin_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"

	"github.com/chaintrace/chaintrace/chains/bitcoin"
)

// ParseBTC reads the amounts nodes print (bitcoind: always 8 decimals; btcd: shortest
// form) exactly, and refuses anything else.
func TestParseBTC(t *testing.T) {
	for s, want := range map[string]uint64{
		"50.00000000": 5_000_000_000, "0.00000001": 1, "0": 0, "1": 100_000_000, "0.1": 10_000_000,
		"20999999.97690000": 2_099_999_997_690_000, "21000000": 2_100_000_000_000_000, "12.3456789": 1_234_567_890,
	} {
		got, err := bitcoin.ParseBTC(s)
		if err != nil || got != want {
			t.Errorf("ParseBTC(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".", "1.", ".5", "-1", "1e8", "0.000000001", "21000000.00000001", "1,5", "0x10", " 1", "123456789"} {
		if v, err := bitcoin.ParseBTC(s); err == nil {
			t.Errorf("ParseBTC(%q) = %d, want an error", s, v)
		}
	}
}

// FuzzParseBTC: whatever ParseBTC accepts is the exact decimal value in satoshis.
func FuzzParseBTC(f *testing.F) {
	for _, s := range []string{"50.00000000", "0.00000001", "21000000", "1.", "1e8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := bitcoin.ParseBTC(s)
		if err != nil {
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("ParseBTC(%q) = %d, but it is not a number", s, v)
		}
		r.Mul(r, big.NewRat(100_000_000, 1))
		if !r.IsInt() || r.Num().Uint64() != v || !r.Num().IsUint64() {
			t.Fatalf("ParseBTC(%q) = %d, exact value %s", s, v, r.RatString())
		}
	})
}

// Dialling a node without a user says what to give, instead of btcd's client's
// "stat : no such file or directory" (it looks for a cookie file at an empty path).
func TestDialRPCWithoutUser(t *testing.T) {
	_, err := bitcoin.DialRPC(context.Background(), bitcoin.RPCConfig{Host: "127.0.0.1:1", Net: &chaincfg.RegressionNetParams})
	if !errors.Is(err, bitcoin.ErrRPC) || !strings.Contains(err.Error(), "rpcuser") || strings.Contains(err.Error(), "stat ") {
		t.Fatalf("%v", err)
	}
}
