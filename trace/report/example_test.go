package report_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/report"
)

// The investigator's main path, as in a notebook: load the curated labels, ingest blocks
// into a store, trace, explain a deposit, render. The labels are the real curated sets; the
// two blocks are INVENTED for the example (a chain adapter's Ingest writes real ones into
// the store the same way): the Bybit exploiter address of the FBI/researcher attributions
// pays 60 ETH to a fresh wallet, which pays 25 ETH to a Binance-labelled address.
func Example() {
	ctx := context.Background()

	// 1. Labels: seeds of one incident, exchanges as sinks.
	set, err := labels.LoadSet(ctx, "../../graph/labels/bundled/dprk-seeds-v1.csv", "../../graph/labels/bundled/exchanges-v1.csv")
	if err != nil {
		panic(err)
	}
	found, _ := set.Seeds(labels.SeedQuery{Incident: "bybit-2025", Chain: graph.Ethereum}, time.Time{})
	var seeds []trace.Seed
	for _, s := range found {
		seeds = append(seeds, trace.Seed{Address: s.Address, Source: s.Source, Origin: s.Origin})
	}
	exchanges, _ := set.Sinks(graph.Ethereum, labels.CategoryExchange, time.Time{})

	// 2. Ingest: into an in-memory store (a directory in real use).
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	exploiter := graph.Address("0x0fa09c3a328792253f8dee7116848723b72a6d2e")
	wallet := graph.Address("0x9999999999999999999999999999999999999999")
	binance9 := graph.Address("0x001866ae5b3de6caa5a51543fd9fb64f524f5478")
	eth := func(n uint64) graph.Amount { return graph.MustAmount(fmt.Sprint(n) + "000000000000000000") }
	blocks := []graph.Block{
		{Chain: graph.Ethereum, Height: 1, Hash: "0xb1", AccountTxs: []graph.AccountTx{{Hash: "0xaa", From: exploiter, Success: true,
			Transfers: []graph.Transfer{{ID: "0xaa.0", Asset: graph.ETH, From: exploiter, To: wallet, Amount: eth(60), Kind: graph.KindCall}}}}},
		{Chain: graph.Ethereum, Height: 2, Hash: "0xb2", Parent: "0xb1", AccountTxs: []graph.AccountTx{{Hash: "0xbb", From: wallet, Success: true,
			Transfers: []graph.Transfer{{ID: "0xbb.0", Asset: graph.ETH, From: wallet, To: binance9, Amount: eth(25), Kind: graph.KindCall}}}}},
	}
	for i := range blocks {
		if err := st.WriteBlock(ctx, &blocks[i]); err != nil {
			panic(err)
		}
	}

	// 3. Trace, replaying the store, under two methods.
	params := trace.DefaultParams()
	params.ImplicitBalances = true // the window starts mid-history
	var results []*trace.Result
	for _, m := range []string{trace.Haircut, trace.FIFO} {
		eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: m, Seeds: seeds, Exchanges: exchanges, Params: params})
		if err != nil {
			panic(err)
		}
		if err := st.Blocks(ctx, graph.Ethereum, 1, 2, func(b *graph.Block) error { return eng.ApplyBlock(b) }); err != nil {
			panic(err)
		}
		results = append(results, eng.Result())
	}

	// 4. Explain the deposit.
	paths, _ := results[0].Evidence("0xbb.0")
	for _, s := range paths[0].Steps {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-8s %-7s hop %d %s", s.Kind, s.Ref, s.Hop, report.FormatAmount(graph.Ethereum, s.Amount))))
	}

	// 5. Render: the report, its table and pictures (WriteFiles writes them all to a directory).
	rep, err := report.Build(report.Meta{Title: "example"}, report.Run{Chain: graph.Ethereum, StoreHeight: 2, From: 1, To: 2, Results: results, Labels: set})
	if err != nil {
		panic(err)
	}
	for _, m := range rep.Chains[0].Methods {
		for _, x := range m.Exposure {
			fmt.Printf("%s %s: tainted %s ETH of %s, direct %s, hops %d-%d\n", m.Method, x.Exchange,
				report.FormatAmount(graph.Ethereum, x.Tainted), report.FormatAmount(graph.Ethereum, x.Received),
				report.FormatAmount(graph.Ethereum, x.Direct), x.MinHop, x.MaxHop)
		}
	}
	flow := rep.Chains[0].Flow
	fmt.Println("flow graph:", len(flow.Nodes), "nodes,", len(flow.Edges), "edges")
	_ = flow.WriteSVG(io.Discard) // or rep.WriteHTML(w), rep.WriteJSON(w)
	// Output:
	// seed     0x0fa09c3a328792253f8dee7116848723b72a6d2e hop 0
	// transfer 0xaa.0  hop 1 60
	// transfer 0xbb.0  hop 2 25
	// haircut Binance: tainted 25 ETH of 25, direct 0, hops 2-2
	// fifo Binance: tainted 25 ETH of 25, direct 0, hops 2-2
	// flow graph: 3 nodes, 2 edges
}
