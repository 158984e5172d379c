package exact_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
)

// benchChain is a generated UTXO history of n transactions (1–3 inputs, 1–3 outputs,
// young outputs spent first, 100 blocks) with every tenth funding output seeded, and
// its funding.
func benchChain(n int) ([]graph.Block, []graph.Outpoint, []uint64, []trace.Seed) {
	r := rand.New(rand.NewSource(3))
	type live struct {
		op    graph.Outpoint
		value uint64
	}
	var pool []live
	var funds []graph.Outpoint
	var values []uint64
	var seeds []trace.Seed
	for i := 0; i < 1000; i++ {
		op := graph.Outpoint{TxID: fmt.Sprintf("%064x", 1<<40+i)}
		v := 1_000_000 + uint64(r.Intn(100_000_000))
		funds, values = append(funds, op), append(values, v)
		pool = append(pool, live{op, v})
		if i%10 == 0 {
			seeds = append(seeds, trace.Seed{Outpoint: &funds[len(funds)-1], Source: fmt.Sprintf("incident-%d", i%3)})
		}
	}
	blocks := make([]graph.Block, 100)
	for i := 0; i < n; i++ {
		b := &blocks[i*len(blocks)/n]
		b.Chain, b.Height = graph.Bitcoin, uint64(i*len(blocks)/n+1)
		tx := graph.UTXOTx{TxID: fmt.Sprintf("%064x", i), Index: uint32(len(b.UTXOTxs))}
		var sum uint64
		for k := 1 + r.Intn(3); k > 0 && len(pool) > 0; k-- {
			j := len(pool) - 1 - r.Intn(min(len(pool), 200))
			l := pool[j]
			pool[j] = pool[len(pool)-1]
			pool = pool[:len(pool)-1]
			tx.Inputs = append(tx.Inputs, graph.TxIn{Prev: l.op, Address: "a", Value: graph.NewAmount(l.value), Resolved: true})
			sum += l.value
		}
		rest := sum - min(sum, 1000)
		for k, nout := 0, 1+r.Intn(3); k < nout; k++ {
			v := rest
			if k < nout-1 {
				v = rest / 2
			}
			rest -= v
			tx.Outputs = append(tx.Outputs, graph.TxOut{Address: graph.Address(fmt.Sprintf("addr-%d-%d", i, k)), Value: graph.NewAmount(v)})
			pool = append(pool, live{graph.Outpoint{TxID: tx.TxID, Index: uint32(k)}, v})
		}
		b.UTXOTxs = append(b.UTXOTxs, tx)
	}
	return blocks, funds, values, seeds
}

type benchEngine interface {
	Fund(graph.Outpoint, graph.Address, graph.Amount) error
	ApplyBlock(*graph.Block) error
}

// BenchmarkReplay compares exact mode's haircut with the integer engine's on the same
// 1,000 transactions, replay and result together: exact mode is a reference for small
// histories, and this says how much slower it is. Its cost grows faster than the history:
// the rationals' denominators multiply along every path the taint mixes through.
func BenchmarkReplay(b *testing.B) {
	const n = 1_000
	blocks, funds, values, seeds := benchChain(n)
	hops := uint32(12)
	cfg := trace.Config{Model: graph.UTXO, Method: trace.Haircut, Seeds: seeds, Params: trace.DefaultParams()}
	cfg.Params.MaxHops = &hops
	for _, mode := range []string{"int", "exact"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var eng benchEngine
				var result func() any
				if mode == "exact" {
					e, err := exact.New(cfg)
					if err != nil {
						b.Fatal(err)
					}
					eng, result = e, func() any { return e.Result() }
				} else {
					e, err := trace.NewEngine(cfg)
					if err != nil {
						b.Fatal(err)
					}
					eng, result = e, func() any { return e.Result() }
				}
				for k := range funds {
					if err := eng.Fund(funds[k], "f", graph.NewAmount(values[k])); err != nil {
						b.Fatal(err)
					}
				}
				for k := range blocks {
					if err := eng.ApplyBlock(&blocks[k]); err != nil {
						b.Fatal(err)
					}
				}
				result()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}
