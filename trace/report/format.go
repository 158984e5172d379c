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
	return scale(units, decimals(c))
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

// AssetInfo says how amounts of one asset are shown: its symbol and how many decimals its
// base unit has.
type AssetInfo struct {
	Symbol   string
	Decimals int
}

// Assets maps token contracts (as graph.Asset: the lower-case contract address) to their
// symbol and decimals. A chain's native asset needs no entry. Amounts of an asset that is
// not listed are shown in raw base units with the contract, never guessed.
type Assets map[graph.Asset]AssetInfo

// Info returns how amounts of asset a are shown on chain c; ok is false for a token
// without an entry.
func (as Assets) Info(c graph.Chain, a graph.Asset) (AssetInfo, bool) {
	if a == "" || a == c.NativeAsset() {
		return AssetInfo{Symbol: string(c.NativeAsset()), Decimals: decimals(c)}, true
	}
	// A link can bring another chain's native asset into this chain's figures.
	switch a {
	case graph.BTC:
		return AssetInfo{Symbol: "BTC", Decimals: 8}, true
	case graph.ETH:
		return AssetInfo{Symbol: "ETH", Decimals: 18}, true
	}
	if i, ok := as[a]; ok {
		return i, true
	}
	return AssetInfo{}, false
}

// Name is the asset's symbol, or for an unknown token its contract address.
func (as Assets) Name(c graph.Chain, a graph.Asset) string {
	if i, ok := as.Info(c, a); ok {
		return i.Symbol
	}
	return string(a)
}

// Format formats a decimal string of a's base units in a's own unit with its symbol,
// exactly ("14.85 ETH", "200 sETH"); a token without an entry shows raw units with its
// contract ("200000000 units of 0xdac1…1ec7").
func (as Assets) Format(c graph.Chain, a graph.Asset, units string) string {
	return as.format(c, a, units, false)
}

// Short is Format cut to at most 6 decimals for pictures, marked "≈" when cut.
func (as Assets) Short(c graph.Chain, a graph.Asset, units string) string {
	return as.format(c, a, units, true)
}

// Number formats the amount in a's own unit without the symbol (tables with an asset
// column); raw base units for a token without an entry.
func (as Assets) Number(c graph.Chain, a graph.Asset, units string) string {
	i, ok := as.Info(c, a)
	if !ok {
		return units
	}
	return scale(units, i.Decimals)
}

func (as Assets) format(c graph.Chain, a graph.Asset, units string, short bool) string {
	i, ok := as.Info(c, a)
	if !ok {
		return units + " units of " + shortAddr(string(a))
	}
	s := scale(units, i.Decimals)
	if short {
		if k := strings.IndexByte(s, '.'); k >= 0 && len(s)-k-1 > 6 {
			s = "≈" + s[:k+7]
		}
	}
	return s + " " + i.Symbol
}

// scale writes a decimal integer string with d decimals, exactly, without trailing zeros.
func scale(units string, d int) string {
	if units == "" {
		return ""
	}
	for _, r := range units {
		if r < '0' || r > '9' {
			return units
		}
	}
	if d == 0 {
		return units
	}
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

// Decimal returns num/den as a decimal with 6 places, rounded down, computed on the
// integers ("0.666666"); "" when den is zero. It sits beside an exact fraction in files
// that spreadsheets read: "2/3" alone becomes a date there.
func Decimal(num, den string) string {
	n, ok1 := new(big.Int).SetString(num, 10)
	d, ok2 := new(big.Int).SetString(den, 10)
	if !ok1 || !ok2 || d.Sign() == 0 {
		return ""
	}
	q := new(big.Int).Quo(new(big.Int).Mul(n, big.NewInt(1_000_000)), d)
	return scale(q.String(), 6)
}
