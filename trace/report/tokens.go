package report

import (
	_ "embed"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

//go:embed tokens.csv
var knownTokensCSV string

// KnownTokens returns the symbol and decimals of the tokens this package ships
// (tokens.csv: the stablecoins, wrapped and staked ETH and wrapped BTC that laundering
// cases move on Ethereum). Callers add their own before building a report.
func KnownTokens() Assets {
	as, err := ParseTokens(strings.NewReader(knownTokensCSV), "tokens.csv")
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return as
}

// ParseTokens reads "chain,contract,symbol,decimals" lines ('#' starts a comment line);
// name is the file named in errors.
func ParseTokens(r io.Reader, name string) (Assets, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	as := Assets{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 4 {
			return nil, fmt.Errorf("%s line %d: want chain,contract,symbol,decimals", name, i+1)
		}
		d, err := strconv.Atoi(strings.TrimSpace(f[3]))
		if err != nil || d < 0 || d > 77 {
			return nil, fmt.Errorf("%s line %d: decimals %.20q is not an integer in 0..77", name, i+1, f[3])
		}
		c, err := graph.ParseChain(strings.TrimSpace(f[0]))
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, i+1, err)
		}
		a, err := graph.ParseAddress(c, strings.TrimSpace(f[1]))
		if err != nil {
			return nil, fmt.Errorf("%s line %d: contract: %w", name, i+1, err)
		}
		sym := strings.TrimSpace(f[2])
		if sym == "" {
			return nil, fmt.Errorf("%s line %d: empty symbol", name, i+1)
		}
		as[graph.Asset(a)] = AssetInfo{Symbol: sym, Decimals: d}
	}
	return as, nil
}
