package graph_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// archive is a BalanceFetcher over a fixed table of balances at block 99, as a node's state
// would give them; any other block is pruned.
type archive map[graph.Address]uint64

func (a archive) BalanceAt(_ context.Context, addr graph.Address, asset graph.Asset, block uint64) (*uint256.Int, error) {
	if block != 99 {
		return nil, &graph.OpeningBalanceError{Address: addr, Asset: asset, Block: block, Err: errors.New("missing trie node")}
	}
	return uint256.NewInt(a[addr]), nil
}

// The balances a window from block 100 opens with, and the typed error of a balance the
// node cannot give.
func ExampleFetchOpeningBalances() {
	node := archive{"0xaa": 1000}
	ctx := context.Background()
	v, err := graph.FetchOpeningBalances(node, 99).OpeningBalance(ctx, "0xaa", graph.ETH)
	fmt.Println(v, err)
	_, err = graph.FetchOpeningBalances(node, 5).OpeningBalance(ctx, "0xaa", graph.ETH)
	var oe *graph.OpeningBalanceError
	fmt.Println(errors.Is(err, graph.ErrOpeningBalanceUnknown), errors.As(err, &oe) && oe.Block == 5)
	// Output:
	// 1000 <nil>
	// true true
}
