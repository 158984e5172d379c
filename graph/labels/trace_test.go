package labels_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
)

// The curated sets feed the taint engine directly: seeds become trace.Seeds (with the
// label that justifies each as Origin), sinks become trace.Config.Exchanges. A Bybit-theft
// address sending 10 ETH to a Binance wallet shows up as Binance's exposure to bybit-2025.
func TestSeedsAndSinksDriveTheTracer(t *testing.T) {
	ctx := context.Background()
	set := labels.NewSet()
	for _, f := range []string{"dprk-seeds-v1.csv", "exchanges-v1.csv"} {
		b, err := labels.LoadFile(ctx, "bundled/"+f, labels.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := set.AddBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	asOf := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) // after the FBI's PSA of 2025-02-26
	seeds, conflicts := set.Seeds(labels.SeedQuery{Nexus: labels.NexusDPRK, Chain: graph.Ethereum}, asOf)
	sinks, sinkConflicts := set.Sinks(graph.Ethereum, labels.CategoryExchange, asOf)
	if len(conflicts)+len(sinkConflicts) != 0 {
		t.Fatalf("conflicts: %v %v", conflicts, sinkConflicts)
	}
	var cfgSeeds []trace.Seed
	var thief graph.Address
	for _, s := range seeds {
		cfgSeeds = append(cfgSeeds, trace.Seed{Address: s.Address, Source: s.Source, Origin: s.Origin})
		if s.Source == "bybit-2025" && thief == "" {
			thief = s.Address
			if !strings.Contains(s.Origin, "PSA250226") && !strings.Contains(s.Origin, "bybit") {
				t.Errorf("seed origin %q does not cite its source", s.Origin)
			}
		}
	}
	binance := sinks["Binance"][0]
	eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: "haircut", Seeds: cfgSeeds, Exchanges: sinks, Params: trace.DefaultParams()})
	if err != nil {
		t.Fatal(err)
	}
	ten := graph.MustAmount("10000000000000000000")
	if err := eng.SetBalance(thief, graph.ETH, ten); err != nil {
		t.Fatal(err)
	}
	blk := graph.Block{Chain: graph.Ethereum, Height: 21895000, Hash: "0x01", Time: asOf.Unix(), AccountTxs: []graph.AccountTx{{
		Hash: "0xaa", From: thief, To: binance, Success: true,
		Transfers: []graph.Transfer{{ID: "0xaa.0", Asset: graph.ETH, From: thief, To: binance, Amount: ten, Kind: graph.KindCall}},
	}}}
	if err := eng.ApplyBlock(&blk); err != nil {
		t.Fatal(err)
	}
	x := eng.Result().Exposure["Binance"].Asset(graph.Ethereum.NativeAsset())
	if x == nil {
		t.Fatalf("no Binance exposure; result %+v", eng.Result().Exposure)
	}
	got := x.BySource["bybit-2025"]
	if got.Cmp(&ten) != 0 || x.TaintedTotal.Cmp(&ten) != 0 {
		t.Errorf("Binance exposure to bybit-2025 %s (total %s), want %s", got.Dec(), x.TaintedTotal.Dec(), ten.Dec())
	}
}
