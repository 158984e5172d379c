package report_test

import (
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace/report"
	"github.com/stretchr/testify/require"
)

func TestKnownTokens(t *testing.T) {
	as := report.KnownTokens()
	usdt := graph.Asset("0xdac17f958d2ee523a2206206994597c13d831ec7")
	require.Equal(t, report.AssetInfo{Symbol: "USDT", Decimals: 6}, as[usdt])
	require.Equal(t, "1234.5 USDT", as.Format(graph.Ethereum, usdt, "1234500000"))
	require.Equal(t, "14.85 ETH", as.Format(graph.Ethereum, graph.ETH, "14850000000000000000"))
	require.Equal(t, "0.5 BTC", as.Format(graph.Bitcoin, graph.BTC, "50000000"))
	unknown := graph.Asset("0x1111111111111111111111111111111111111111")
	require.Equal(t, "200 units of 0x1111…1111", as.Format(graph.Ethereum, unknown, "200"))
	require.Equal(t, "200", as.Number(graph.Ethereum, unknown, "200"))
	require.Equal(t, "≈1.333333 ETH", as.Short(graph.Ethereum, graph.ETH, "1333333333333333333"))
	require.Equal(t, "0.666666", report.Decimal("2", "3"))
	require.Equal(t, "", report.Decimal("2", "0"))
}

func TestParseTokensErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ethereum,0xdac17f958d2ee523a2206206994597c13d831ec7,USDT", "t.csv line 1: want chain,contract,symbol,decimals"},
		{"# c\nethereum,0xdac17f958d2ee523a2206206994597c13d831ec7,USDT,x", "t.csv line 2: decimals"},
		{"dogecoin,0xdac17f958d2ee523a2206206994597c13d831ec7,USDT,6", "t.csv line 1"},
		{"ethereum,0xzz,USDT,6", "t.csv line 1: contract"},
		{"ethereum,0xdac17f958d2ee523a2206206994597c13d831ec7, ,6", "t.csv line 1: empty symbol"},
	} {
		_, err := report.ParseTokens(strings.NewReader(c.in), "t.csv")
		require.ErrorContains(t, err, c.want)
	}
}

func FuzzParseTokens(f *testing.F) {
	f.Add("ethereum,0xdac17f958d2ee523a2206206994597c13d831ec7,USDT,6\n")
	f.Add("# comment\n\nbitcoin,bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh,X,8")
	f.Fuzz(func(t *testing.T, in string) {
		as, err := report.ParseTokens(strings.NewReader(in), "f.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for a, i := range as {
			if i.Symbol == "" || i.Decimals < 0 || i.Decimals > 77 {
				t.Fatalf("%s: %+v", a, i)
			}
			_ = as.Format(graph.Ethereum, a, "123456789")
		}
	})
}
