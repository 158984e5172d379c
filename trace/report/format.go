package report

import (
	"math/big"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// decimals of the chains' native units.
func decimals(c graph.Chain) int {
	if c == graph.Bitcoin {
		return 8
	}
	return 18
}

// FormatAmount formats a decimal string of base units in the chain's native unit, exactly
// ("14850000000000000000" on Ethereum → "14.85"). Input that is not a decimal integer is
// returned as it is.
func FormatAmount(c graph.Chain, units string) string {
	if units == "" {
		return ""
	}
	for _, r := range units {
		if r < '0' || r > '9' {
			return units
		}
	}
	d := decimals(c)
	s := strings.TrimLeft(units, "0")
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	whole, frac := s[:len(s)-d], strings.TrimRight(s[len(s)-d:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// FormatShort is FormatAmount cut to at most 6 decimals for pictures, marked "≈" when cut
// (the tables and files keep every digit).
func FormatShort(c graph.Chain, units string) string {
	s := FormatAmount(c, units)
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > 6 {
		return "≈" + s[:i+7]
	}
	return s
}

// Percent returns num/den as a percentage with two decimals, rounded down, computed on the
// integers ("33.33%"); "-" when den is zero.
func Percent(num, den string) string {
	n, ok1 := new(big.Int).SetString(num, 10)
	d, ok2 := new(big.Int).SetString(den, 10)
	if !ok1 || !ok2 || d.Sign() == 0 {
		return "-"
	}
	q := new(big.Int).Quo(new(big.Int).Mul(n, big.NewInt(10000)), d)
	s := q.String()
	if len(s) < 3 {
		s = strings.Repeat("0", 3-len(s)) + s
	}
	return s[:len(s)-2] + "." + s[len(s)-2:] + "%"
}

// toFloat converts an amount for geometry only (widths, heights): never for a printed figure.
func toFloat(a *uint256.Int) float64 {
	f, _ := new(big.Float).SetInt(a.ToBig()).Float64()
	return f
}

// shortAddr abbreviates a long address for a picture ("0x1234…cdef").
func shortAddr(a string) string {
	if len(a) > 14 {
		return a[:6] + "…" + a[len(a)-4:]
	}
	return a
}
