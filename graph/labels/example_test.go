package labels_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
)

// Load the curated DPRK seed set with one call and ask for the seeds of one incident.
func Example() {
	set, err := labels.LoadSet(context.Background(), "bundled/dprk-seeds-v1.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	seeds, conflicts := set.Seeds(labels.SeedQuery{Nexus: labels.NexusDPRK, Incident: "bybit-2025"}, time.Time{})
	fmt.Println(len(seeds), "Bybit seeds,", len(conflicts), "conflicts; first:", seeds[0].Source, seeds[0].Chain)
	// Output: 59 Bybit seeds, 0 conflicts; first: bybit-2025 ethereum
}

// Who was behind an address on a given day: Tornado Cash's 100 ETH pool was designated on
// 2022-08-08 and delisted on 2025-03-21.
func ExampleSet_LabelsOf() {
	b, _ := labels.LoadFile(context.Background(), "bundled/dprk-seeds-v1.csv", labels.Options{})
	set := labels.NewSet()
	_ = set.AddBatch(b)
	pool := graph.Address("0xA160cdAB225685dA1d56aa342Ad8841c3b53f291")
	for _, d := range []string{"2022-08-01", "2023-01-01", "2025-06-01"} {
		t, _ := time.Parse(time.DateOnly, d)
		var who []string
		for _, l := range set.LabelsOf(graph.Ethereum, pool, t) {
			who = append(who, l.Entity+" ("+string(l.Category)+", "+strings.Join(l.Programs, "/")+")")
		}
		fmt.Println(d, who)
	}
	// Output:
	// 2022-08-01 []
	// 2023-01-01 [TORNADO CASH (mixer, CYBER2/DPRK3)]
	// 2025-06-01 []
}

// Exchanges as sinks, in the shape trace.Config.Exchanges takes.
func ExampleSet_Sinks() {
	b, _ := labels.LoadFile(context.Background(), "bundled/exchanges-v1.csv", labels.Options{})
	set := labels.NewSet()
	_ = set.AddBatch(b)
	sinks, conflicts := set.Sinks(graph.Bitcoin, labels.CategoryExchange, time.Time{})
	fmt.Println(len(sinks["Binance"]), "Binance Bitcoin addresses,", len(conflicts), "conflicts")
	// Output: 6 Binance Bitcoin addresses, 0 conflicts
}

// A bad row names its file and line.
func ExampleParseCSV() {
	_, err := labels.ParseCSV(strings.NewReader("chain,address,actor\nethereum,0x51e9D833Ecae4E8D9D8Be17300AEE6D3398C135D,X\n"), "fbi.csv", labels.Options{})
	fmt.Println(err)
	// Output: fbi.csv:2: bad address: address checksum mismatch: "0x51e9D833Ecae4E8D9D8Be17300AEE6D3398C135D" (EIP-55 form is 0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D)
}
