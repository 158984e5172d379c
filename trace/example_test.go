package trace_test

import (
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// A thief's address H holds 10 BTC; it pays 2 BTC to an exchange deposit address and
// keeps the change, which is then mixed with 5 clean BTC. Haircut splits proportionally.
func ExampleEngine() {
	eng, err := trace.NewEngine(trace.Config{
		Model:     graph.UTXO,
		Method:    trace.Haircut,
		Seeds:     []trace.Seed{{Address: "H", Source: "lazarus-2025"}},
		Exchanges: map[string][]graph.Address{"ExchangeA": {"EX1"}},
		Params:    trace.DefaultParams(),
	})
	if err != nil {
		panic(err)
	}
	_ = eng.Fund(graph.Outpoint{TxID: "h0"}, "H", graph.NewAmount(1_000_000_000))
	_ = eng.Fund(graph.Outpoint{TxID: "c0"}, "W", graph.NewAmount(500_000_000))
	blocks := []graph.Block{
		{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t1",
			Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "h0"}}},
			Outputs: []graph.TxOut{{Address: "EX1", Value: graph.NewAmount(200_000_000)}, {Address: "P", Value: graph.NewAmount(799_990_000)}}}}},
		{Chain: graph.Bitcoin, Height: 2, UTXOTxs: []graph.UTXOTx{{TxID: "t2",
			Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "t1", Index: 1}}, {Prev: graph.Outpoint{TxID: "c0"}}},
			Outputs: []graph.TxOut{{Address: "Q", Value: graph.NewAmount(1_299_980_000)}}}}},
	}
	for i := range blocks {
		if err := eng.ApplyBlock(&blocks[i]); err != nil {
			panic(err)
		}
	}
	res := eng.Result()
	x := res.Exposure["ExchangeA"].Assets[graph.BTC]
	fmt.Println("exchange received", x.ReceivedTotal.Dec(), "tainted", x.TaintedTotal.Dec(), "direct", x.Direct.Dec())
	q := res.Unspent["t2:0"]
	fmt.Println("Q holds", q.Tainted.Dec(), "tainted of", q.Value.Dec(), "at hop", q.Taint[0].Hop)
	fees := res.Sinks.Get(graph.BTC, trace.SinkFees, "lazarus-2025")
	fmt.Println("fees", fees.Dec())
	fmt.Println(res.CheckConservation())
	// Output:
	// exchange received 200000000 tainted 200000000 direct 200000000
	// Q holds 799983846 tainted of 1299980000 at hop 2
	// fees 16154
	// <nil>
}

// Evidence explains a figure: the path of movements from the seed to the tainted output.
func ExampleResult_Evidence() {
	eng, _ := trace.NewEngine(trace.Config{
		Model: graph.Account, Method: trace.FIFO,
		Seeds:  []trace.Seed{{Address: "0x1111111111111111111111111111111111111111", Source: "bybit-2025", Origin: "FBI PSA 2025-02-26"}},
		Params: trace.DefaultParams(),
	})
	thief, mule, cashout := graph.Address("0x1111111111111111111111111111111111111111"), graph.Address("0x2222222222222222222222222222222222222222"), graph.Address("0x3333333333333333333333333333333333333333")
	_ = eng.SetBalance(thief, graph.ETH, graph.NewAmount(100))
	b := graph.Block{Chain: graph.Ethereum, Height: 7, AccountTxs: []graph.AccountTx{
		{Hash: "0xaa", Index: 0, From: thief, Success: true, Transfers: []graph.Transfer{{ID: "0xaa.0", Asset: graph.ETH, From: thief, To: mule, Amount: graph.NewAmount(60), Kind: graph.KindCall}}},
		{Hash: "0xbb", Index: 1, From: mule, Success: true, Transfers: []graph.Transfer{{ID: "0xbb.0", Asset: graph.ETH, From: mule, To: cashout, Amount: graph.NewAmount(25), Kind: graph.KindCall}}},
	}}
	_ = eng.ApplyBlock(&b)
	paths, _ := eng.Result().Evidence("0xbb.0")
	for _, p := range paths {
		fmt.Println("source", p.Source, "hop", p.Hop, "amount", p.Amount)
		for _, s := range p.Steps {
			if s.Kind == "seed" {
				fmt.Printf("  seed     %s (%s)\n", short(graph.Address(s.Ref)), s.Seed)
				continue
			}
			fmt.Printf("  %-8s %-6s %s -> %s  %s\n", s.Kind, s.Ref, short(s.From), short(s.To), s.Amount)
		}
	}
	// Output:
	// source bybit-2025 hop 2 amount 25
	//   seed     0x1111… (address 0x1111111111111111111111111111111111111111 (source bybit-2025); FBI PSA 2025-02-26)
	//   transfer 0xaa.0 0x1111… -> 0x2222…  60
	//   transfer 0xbb.0 0x2222… -> 0x3333…  25
}

func short(a graph.Address) string {
	if len(a) > 6 {
		return string(a[:6]) + "…"
	}
	return string(a)
}
