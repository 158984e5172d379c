package labels_test

import (
	"fmt"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
)

// Venues of a trace from labels: a DEX pair and WETH on Ethereum; the exchange is none.
func ExampleSet_Venues() {
	s := labels.NewSet()
	err := s.Add(
		labels.Label{Chain: graph.Ethereum, Address: "0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852", Entity: "Uniswap V2 USDT/WETH", Category: labels.CategoryDEX, Confidence: labels.ConfidenceServiceData},
		labels.Label{Chain: graph.Ethereum, Address: "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", Entity: "WETH9", Category: labels.CategoryWrapper, Confidence: labels.ConfidenceServiceData},
		labels.Label{Chain: graph.Ethereum, Address: "0x28c6c06298d514db089934071355e5743bf21d60", Entity: "Binance", Category: labels.CategoryExchange, Confidence: labels.ConfidenceServiceData},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	venues, conflicts := s.Venues(graph.Ethereum, time.Time{})
	fmt.Println(venues, len(conflicts))
	// Output:
	// [0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852 0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2] 0
}
