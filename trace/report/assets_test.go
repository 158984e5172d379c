package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/report"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"
)

// A token of the multi-asset case, with 6 decimals.
const tok graph.Asset = "0x8888888888888888888888888888888888888888"

// multiAssetCase: the thief sends 30 wei and 2,500,000 token units (2.5 TKN) to exchange
// A's deposit address, and honest funds (20 wei, 1 TKN) arrive there too; a mule passes
// 10 wei on to exchange B. No figure may add wei to token units.
func multiAssetCase(t testing.TB, method string) *trace.Result {
	t.Helper()
	eng, err := trace.NewEngine(trace.Config{
		Model: graph.Account, Method: method,
		Seeds:     []trace.Seed{{Address: thief, Source: "heist"}},
		Exchanges: map[string][]graph.Address{"Exchange A": {dep1}, "Exchange B": {dep2}, "Exchange Idle": {"0x9999999999999999999999999999999999999999"}},
		Params:    trace.DefaultParams(),
	})
	require.NoError(t, err)
	require.NoError(t, eng.SetBalance(thief, graph.ETH, graph.NewAmount(100)))
	require.NoError(t, eng.SetBalance(thief, tok, graph.NewAmount(10_000_000)))
	require.NoError(t, eng.SetBalance(honest, graph.ETH, graph.NewAmount(100)))
	require.NoError(t, eng.SetBalance(honest, tok, graph.NewAmount(10_000_000)))
	x := func(id string, from, to graph.Address, a graph.Asset, n uint64) graph.Transfer {
		return graph.Transfer{ID: id, Asset: a, From: from, To: to, Amount: graph.NewAmount(n), Kind: graph.KindCall}
	}
	tx := func(h string, i uint32, from graph.Address, ts ...graph.Transfer) graph.AccountTx {
		return graph.AccountTx{Hash: h, Index: i, From: from, Success: true, Transfers: ts}
	}
	blocks := []graph.Block{
		{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{
			tx("0xb1", 0, thief, x("0xb1.0", thief, dep1, graph.ETH, 30)),
			tx("0xb2", 1, thief, x("0xb2.log0", thief, dep1, tok, 2_500_000)),
			tx("0xb3", 2, honest, x("0xb3.0", honest, dep1, graph.ETH, 20), x("0xb3.log1", honest, dep1, tok, 1_000_000)),
			tx("0xb4", 3, thief, x("0xb4.0", thief, mule, graph.ETH, 10)),
		}},
		{Chain: graph.Ethereum, Height: 2, AccountTxs: []graph.AccountTx{
			tx("0xb5", 0, mule, x("0xb5.0", mule, dep2, graph.ETH, 10)),
		}},
	}
	for i := range blocks {
		require.NoError(t, eng.ApplyBlock(&blocks[i]))
	}
	return eng.Result()
}

// TestFiguresAgreeAcrossOutputs builds the report of a multi-asset trace and holds every
// place a figure is shown to the same numbers, asset by asset: report.json's exposure rows,
// the deposits CSV, the Sankey diagrams (one per asset) and the table, and checks that no
// output adds units of two assets.
func TestFiguresAgreeAcrossOutputs(t *testing.T) {
	var results []*trace.Result
	for _, m := range []string{trace.Haircut, trace.FIFO, trace.LIFO, trace.Seniority} {
		results = append(results, multiAssetCase(t, m))
	}
	assets := report.Assets{tok: {Symbol: "TKN", Decimals: 6}}
	rep, err := report.Build(report.Meta{Title: "multi-asset"}, report.Run{Chain: graph.Ethereum, From: 1, To: 2, Results: results, Assets: assets})
	require.NoError(t, err)

	// report.json: one row per exchange and asset.
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var doc struct {
		Chains []struct {
			Assets  []report.AssetRef `json:"assets"`
			Methods []struct {
				Method        string               `json:"method"`
				Exposure      []report.ExposureRow `json:"exposure"`
				Exchanges     int                  `json:"exchanges"`
				IdleExchanges int                  `json:"idle_exchanges"`
			} `json:"methods"`
		} `json:"chains"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
	require.Equal(t, []report.AssetRef{{Asset: tok, Symbol: "TKN", Decimals: 6, Known: true}, {Asset: graph.ETH, Symbol: "ETH", Decimals: 18, Known: true}}, doc.Chains[0].Assets)
	rows := map[string]report.ExposureRow{} // method|exchange|asset
	for _, m := range doc.Chains[0].Methods {
		require.Equal(t, 3, m.Exchanges)
		require.Equal(t, 1, m.IdleExchanges, "Exchange Idle received nothing")
		for _, r := range m.Exposure {
			rows[m.Method+"|"+r.Exchange+"|"+string(r.Asset)] = r
		}
	}
	for _, m := range []string{trace.Haircut, trace.FIFO, trace.LIFO, trace.Seniority} {
		require.Equal(t, "50", rows[m+"|Exchange A|ETH"].Received)
		require.Equal(t, "30", rows[m+"|Exchange A|ETH"].Tainted)
		require.Equal(t, "3500000", rows[m+"|Exchange A|"+string(tok)].Received)
		require.Equal(t, "2500000", rows[m+"|Exchange A|"+string(tok)].Tainted)
		require.Equal(t, "10", rows[m+"|Exchange B|ETH"].Tainted)
	}
	require.Len(t, rows, 4*3)

	// deposits.csv: the tainted deposits add up to each row's tainted total.
	var cb bytes.Buffer
	require.NoError(t, rep.WriteDepositsCSV(&cb))
	recs, err := csv.NewReader(&cb).ReadAll()
	require.NoError(t, err)
	head := map[string]int{}
	for i, h := range recs[0] {
		head[h] = i
	}
	sums := map[string]*uint256.Int{}
	for _, r := range recs[1:] {
		k := r[head["method"]] + "|" + r[head["exchange"]] + "|" + r[head["asset"]]
		if sums[k] == nil {
			sums[k] = new(uint256.Int)
		}
		sums[k].Add(sums[k], uint256.MustFromDecimal(r[head["tainted"]]))
		if r[head["asset"]] == string(tok) {
			require.Equal(t, "TKN", r[head["symbol"]])
		}
		require.NotContains(t, r[head["share_decimal"]], "/")
	}
	for k, r := range rows {
		require.Equal(t, r.Tainted, sums[k].Dec(), "CSV and report.json disagree on %s", k)
	}

	// The Sankey diagrams: one per method and asset; what flows into an exchange node is
	// the row's tainted total.
	require.Len(t, rep.Chains[0].Sankeys, 4*2)
	for _, s := range rep.Chains[0].Sankeys {
		for i, n := range s.Nodes {
			if n.Column != 2 || !strings.HasPrefix(n.Name, "Exchange") {
				continue
			}
			var in uint256.Int
			for _, l := range s.Links {
				if l.To == i {
					in.Add(&in, &l.Amount)
				}
			}
			k := s.Method + "|" + n.Name + "|" + string(s.Asset)
			require.Equal(t, rows[k].Tainted, in.Dec(), "Sankey and report.json disagree on %s", k)
		}
		var svg strings.Builder
		require.NoError(t, s.WriteSVG(&svg))
		want := map[graph.Asset]string{graph.ETH: "Where the taint in ETH", tok: "Where the taint in TKN"}[s.Asset]
		require.Contains(t, svg.String(), want)
	}

	// The table: each asset in its own unit, with its symbol; the token never in ETH.
	var tb strings.Builder
	require.NoError(t, rep.WriteTable(&tb))
	table := tb.String()
	for _, m := range []string{trace.Haircut, trace.FIFO} {
		require.Regexp(t, fmt.Sprintf(`Exchange A\s+TKN\s+%s\s+3\.5\s+2\.5\s`, m), table)
		require.Regexp(t, fmt.Sprintf(`Exchange A\s+ETH\s+%s\s+0\.00000000000000005\s+0\.00000000000000003\s`, m), table)
	}
	require.Contains(t, table, "1 other exchange(s) received nothing")
	var hb strings.Builder
	require.NoError(t, rep.WriteHTML(&hb))
	require.Contains(t, hb.String(), "2.5 TKN")
	require.NotContains(t, hb.String(), "2500030", "no total adds token units to wei")
}
