package ethereum_test

import (
	"fmt"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
)

// Detect a Uniswap V2 swap in a transaction: 1000 units of token A paid into the pair
// (log 0), 997 of token B paid out to the user (log 1), then the pair's Swap (log 3).
func ExampleDetectLinks() {
	tx := &graph.AccountTx{Hash: lTx, Success: true, Transfers: []graph.Transfer{
		{ID: lTx + ".log0", Asset: graph.Asset(lTokA), From: lUser, To: lPool, Amount: graph.NewAmount(1000), Kind: graph.KindERC20},
		{ID: lTx + ".log1", Asset: graph.Asset(lTokB), From: lPool, To: lUser, Amount: graph.NewAmount(997), Kind: graph.KindERC20},
	}}
	swap := ethereum.Log{Index: 3, Address: lPool, Topics: []string{ethereum.TopicUniswapV2Swap,
		"0x000000000000000000000000" + string(lUser)[2:], "0x000000000000000000000000" + string(lUser)[2:]},
		Data: make([]byte, 128)}
	swap.Data[31], swap.Data[30] = 0xe8, 0x03   // amount0In = 1000
	swap.Data[127], swap.Data[126] = 0xe5, 0x03 // amount1Out = 997
	parts, warnings := ethereum.DetectLinks(17_000_000, tx, []ethereum.Log{swap})
	for _, p := range parts {
		fmt.Println(p.Kind, p.Key[:12]+"…", "in", p.In[0].Ref[len(lTx):], "out", p.Out[0].Ref[len(lTx):], "venue", p.Venues[0])
	}
	fmt.Println(len(warnings), "warnings")
	// Output:
	// swap swap:0x00000… in .log0 out .log1 venue 0x9000000000000000000000000000000000000009
	// 0 warnings
}
