package report_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/benchchain"
	"github.com/chaintrace/chaintrace/trace/report"
)

// generated traces a random account history: one source account sends to 200 wallets,
// which pay each other, 20 exchange deposit addresses and back, transfers transfers in all.
func generated(b *testing.B, method string, transfers int) *trace.Result {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	addr := func(i int) graph.Address { return graph.Address(fmt.Sprintf("0x%040x", i+1)) }
	src := addr(0)
	var deps []graph.Address
	for i := 0; i < 20; i++ {
		deps = append(deps, addr(10_000+i))
	}
	eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: method,
		Seeds:     []trace.Seed{{Address: src, Source: "generated"}},
		Exchanges: map[string][]graph.Address{"Ex1": deps[:10], "Ex2": deps[10:]},
		Params:    trace.Params{StopAtExchanges: true, ImplicitBalances: true}})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for h := uint64(1); n < transfers; h++ {
		blk := graph.Block{Chain: graph.Ethereum, Height: h}
		for i := 0; i < 100 && n < transfers; i++ {
			from := addr(1 + r.IntN(200))
			if n < 200 {
				from = src
			}
			to := addr(1 + r.IntN(200))
			if r.IntN(10) == 0 {
				to = deps[r.IntN(len(deps))]
			}
			id := fmt.Sprintf("0x%x.%d", h, i)
			blk.AccountTxs = append(blk.AccountTxs, graph.AccountTx{Hash: fmt.Sprintf("0x%x%04d", h, i), Index: uint32(i), From: from, Success: true,
				Transfers: []graph.Transfer{{ID: id, Asset: graph.ETH, From: from, To: to, Amount: graph.NewAmount(1 + r.Uint64N(1_000_000)), Kind: graph.KindCall}}})
			n++
		}
		if err := eng.ApplyBlock(&blk); err != nil {
			b.Fatal(err)
		}
	}
	return eng.Result()
}

// BenchmarkBuild measures Build plus every file (JSON, CSV, DOT, SVG, HTML) of a 20,000-
// transfer haircut trace, against the baseline of the JSON encoding of the same result
// alone (what a report costs over the spec's result object).
func BenchmarkBuild(b *testing.B) {
	res := generated(b, trace.Haircut, 20_000)
	b.Run("baseline-result-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := res.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build-and-write", func(b *testing.B) {
		for b.Loop() {
			rep, err := report.Build(report.Meta{Title: "bench"}, report.Run{Chain: graph.Ethereum, Results: []*trace.Result{res}})
			if err != nil {
				b.Fatal(err)
			}
			for _, w := range []func(io.Writer) error{rep.WriteJSON, rep.WriteDepositsCSV, rep.WriteHTML, rep.Chains[0].Flow.WriteDOT, rep.Chains[0].Flow.WriteSVG} {
				if err := w(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkBuildRecordsOnDisk measures Build on a long UTXO haircut history whose records
// are on disk (trace.Engine.RecordTo, as the trace command keeps them): the flow graph
// reads every record and the diagrams walk the evidence of hundreds of deposits, each
// (source, hop) component back to the seed. The baseline is one scan of the records
// (Result.EachOutput), the least a report that looks at every movement can read. Each
// iteration takes a fresh Result, whose caches start empty, as a run's does.
func BenchmarkBuildRecordsOnDisk(b *testing.B) {
	c := benchchain.UTXO(200_000, 0.5)
	// Exchange deposit addresses: 300 addresses paid in the second half of the history.
	var deps []graph.Address
	half := len(c.Blocks) / 2
	for i := half; i < len(c.Blocks) && len(deps) < 300; i++ {
		for j, tx := range c.Blocks[i].UTXOTxs {
			if j%37 == 0 && len(deps) < 300 {
				deps = append(deps, tx.Outputs[0].Address)
			}
		}
	}
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Seeds: c.Seeds,
		Exchanges: map[string][]graph.Address{"Ex1": deps[:150], "Ex2": deps[150:]}, Params: trace.DefaultParams()})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.RecordTo(b.TempDir()); err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	for _, f := range c.Funding {
		if err := eng.Fund(f.Outpoint, f.Address, graph.NewAmount(f.Value)); err != nil {
			b.Fatal(err)
		}
	}
	for i := range c.Blocks {
		if err := eng.ApplyBlock(&c.Blocks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("baseline-scan-records", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := eng.Result().EachOutput(func(*trace.Output) error { n++; return nil }); err != nil || n == 0 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			rep, err := report.Build(report.Meta{Title: "bench"}, report.Run{Chain: graph.Bitcoin, Results: []*trace.Result{eng.Result()}})
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Chains[0].Sankeys) == 0 {
				b.Fatal("no diagram")
			}
		}
	})
}
