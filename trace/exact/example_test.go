package exact_test

import (
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"github.com/chaintrace/chaintrace/trace/scenario"
)

// Anderson et al.'s example: an address receives 3 stolen BTC and 7 freshly mined ones and
// spends them together. Haircut makes every output 30 % tainted; in exact mode it is
// exactly 3/10 even where the satoshi amount is not a whole number, whereas the integer
// engine has to round each output to a whole satoshi.
func Example() {
	stolen, mined := graph.Outpoint{TxID: "stolen"}, graph.Outpoint{TxID: "mined"}
	cfg := trace.Config{
		Model: graph.UTXO, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds: []trace.Seed{{Outpoint: &stolen, Source: "theft"}},
	}
	block := graph.Block{Chain: graph.Bitcoin, Height: 100, UTXOTxs: []graph.UTXOTx{{
		TxID: "tx1", Index: 1,
		Inputs: []graph.TxIn{
			{Prev: stolen, Address: "N", Value: graph.NewAmount(300_000_000), Resolved: true},
			{Prev: mined, Address: "N", Value: graph.NewAmount(700_000_000), Resolved: true},
		},
		Outputs: []graph.TxOut{
			{Address: "P", Value: graph.NewAmount(333_333_333)},
			{Address: "Q", Value: graph.NewAmount(666_666_667)},
		},
	}}}

	eng, err := exact.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	ieng, err := trace.NewEngine(cfg) // the normative integer engine, for comparison
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range []struct {
		op    graph.Outpoint
		value uint64
	}{{stolen, 300_000_000}, {mined, 700_000_000}} {
		if err := eng.Fund(f.op, "N", graph.NewAmount(f.value)); err != nil {
			fmt.Println(err)
			return
		}
		if err := ieng.Fund(f.op, "N", graph.NewAmount(f.value)); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := eng.ApplyBlock(&block); err != nil {
		fmt.Println(err)
		return
	}
	if err := ieng.ApplyBlock(&block); err != nil {
		fmt.Println(err)
		return
	}
	res, ires := eng.Result(), ieng.Result()
	for _, op := range []string{"tx1:0", "tx1:1"} {
		o, io := res.Outputs[op], ires.Outputs[op]
		share := new(big.Rat).Quo(o.Tainted, o.Value)
		fmt.Printf("%s %s: exact %s sat tainted (share %s), integer %s\n", op, o.Address, o.Tainted.RatString(), share.RatString(), io.Tainted.Dec())
	}
	out, _ := json.Marshal(res)
	var obj struct {
		Outputs map[string]json.RawMessage `json:"outputs"`
	}
	_ = json.Unmarshal(out, &obj)
	fmt.Println(string(obj.Outputs["tx1:0"]))
	// Output:
	// tx1:0 P: exact 999999999/10 sat tainted (share 3/10), integer 100000000
	// tx1:1 Q: exact 2000000001/10 sat tainted (share 3/10), integer 200000000
	// {"address":"P","value":"333333333","taint":[{"source":"theft","hop":1,"amount":"999999999/10"}],"tainted":"999999999/10"}
}

// Conformance vector U02 (a peel chain with an extra clean input) replayed in exact mode
// through package scenario: its X3 output holds exactly 10499700000000/44999 satoshi of
// taint, the figure of the vector's expected_exact block, and exchange ExchA's share of
// the bitcoin it received is exactly 124997/134997.
func Example_scenario() {
	sc, err := scenario.Load("../../testdata/vectors/U02_peel_chain.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := sc.RunExact(trace.Haircut)
	if err != nil {
		fmt.Println(err)
		return
	}
	var res struct {
		Outputs map[string]struct {
			Tainted string `json:"tainted"`
		} `json:"outputs"`
		Exposure map[string]map[string]struct { // exchange → asset → row (spec v2 A.1)
			Share string `json:"share"`
		} `json:"exposure"`
	}
	if err := json.Unmarshal(got, &res); err != nil {
		fmt.Println(err)
		return
	}
	diffs, err := sc.CheckExact(trace.Haircut, got)
	fmt.Println("p3:0 tainted", res.Outputs["p3:0"].Tainted)
	fmt.Println("ExchA BTC share", res.Exposure["ExchA"]["BTC"].Share)
	fmt.Println("differences from expected_exact:", len(diffs), err)
	// Output:
	// p3:0 tainted 10499700000000/44999
	// ExchA BTC share 124997/134997
	// differences from expected_exact: 0 <nil>
}
