package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/report"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/stretchr/testify/require"
)

// TestReportThroughLinks builds the report of a two-chain trace (ETH wrapped, then bridged
// by THORChain to Bitcoin, where an exchange receives part of it): per-chain sections, the
// links with their figures in report.json, the Bitcoin exchange's evidence path through the
// THORChain link back to the Ethereum seed, and the Sankey route "via THORChain".
func TestReportThroughLinks(t *testing.T) {
	sc, err := scenario.Load("../../testdata/vectors/L02_link_wrap_thorchain_eth_to_btc.json")
	require.NoError(t, err)
	var eth, btc []*trace.Result
	for _, m := range []string{trace.Haircut, trace.LIFO} {
		r, err := sc.RunMulti(m)
		require.NoError(t, err)
		eth, btc = append(eth, r.Results["eth"]), append(btc, r.Results["btc"])
	}
	rep, err := report.Build(report.Meta{Title: "two chains"},
		report.Run{Chain: "eth", Results: eth, Assets: report.Assets{"WETH": {Symbol: "WETH", Decimals: 18}}},
		report.Run{Chain: "btc", Results: btc})
	require.NoError(t, err)
	require.Len(t, rep.Chains, 2)

	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var doc struct {
		Chains []struct {
			Chain   string `json:"chain"`
			Methods []struct {
				Method   string                `json:"method"`
				Links    []report.LinkRow      `json:"links"`
				Evidence []report.ExchangePath `json:"evidence"`
			} `json:"methods"`
		} `json:"chains"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
	btcHaircut := doc.Chains[1].Methods[0]
	require.Equal(t, "haircut", btcHaircut.Method)
	require.Len(t, btcHaircut.Links, 2)
	tc := btcHaircut.Links[0]
	require.Equal(t, "TC1", tc.ID)
	require.Equal(t, graph.LinkThorchain, tc.Kind)
	require.Equal(t, "complete", tc.Status)
	require.Equal(t, []report.LinkOutRow{{Chain: "btc", Ref: "b1:0", Asset: "BTC", Value: "20000000", Tainted: "10000000"}}, tc.Out)
	require.Equal(t, "2500000000000000000", tc.InTaint)
	require.Len(t, btcHaircut.Evidence, 1)
	ev := btcHaircut.Evidence[0]
	require.Equal(t, "ExchB", ev.Exchange)
	require.Equal(t, "b2:0", ev.Deposit)
	require.True(t, ev.Path.Complete)
	require.Equal(t, "seed", ev.Path.Steps[0].Kind)
	require.Equal(t, graph.Address("H"), ev.Path.Steps[0].To)
	var kinds []string
	for _, s := range ev.Path.Steps {
		if s.Kind == "link" {
			kinds = append(kinds, s.Link.ID+"/"+string(s.Link.Kind))
		}
	}
	require.Equal(t, []string{"WRAP1/wrap", "TC1/thorchain"}, kinds)

	// The Bitcoin chain's Sankey: the exchange's taint came via THORChain.
	found := false
	for _, s := range rep.Chains[1].Sankeys {
		for _, n := range s.Nodes {
			found = found || n.Name == report.RouteLinkThorchain
		}
	}
	require.True(t, found, "no Sankey route via THORChain")

	var tb strings.Builder
	require.NoError(t, rep.WriteTable(&tb))
	require.Contains(t, tb.String(), "link TC1 (thorchain)")
	require.Contains(t, tb.String(), "memo OUT:")
	var hb strings.Builder
	require.NoError(t, rep.WriteHTML(&hb))
	require.Contains(t, hb.String(), "Links the taint passed through")
	require.Contains(t, hb.String(), "0.1 BTC tainted of 0.2 BTC")
}
