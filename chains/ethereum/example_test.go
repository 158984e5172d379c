package ethereum_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/graph"
)

// Ingest a dev chain into a graph.Store: one payment of 1.5 ETH from account 0 to account 1.
func ExampleIngest() {
	ctx := context.Background()
	node, err := devnode.Start(ctx, devnode.Config{Accounts: 2, NoHTTP: true})
	if err != nil {
		panic(err)
	}
	defer node.Close()
	alice, bob := node.Account(0), node.Account(1)
	value := graph.MustAmount("1500000000000000000") // 1.5 ETH in wei
	if _, err := node.Send(ctx, alice, devnode.Tx{To: &bob.Address, Value: value.ToBig()}); err != nil {
		panic(err)
	}
	if _, err := node.Commit(ctx); err != nil {
		panic(err)
	}

	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	c := ethereum.NewClient(node.RPC(), ethereum.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	res, err := ethereum.Ingest(ctx, c, st, ethereum.IngestOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("blocks", res.Blocks, "transfers", res.Transfers, "complete", res.Degraded() == nil)
	st.Blocks(ctx, graph.Ethereum, 1, 1, func(b *graph.Block) error {
		x := b.AccountTxs[0].Transfers[0]
		fmt.Println(x.Kind, graph.ChecksumAddress(x.From), "→", graph.ChecksumAddress(x.To), x.Amount.Dec(), x.Asset)
		return nil
	})
	// Output:
	// blocks 2 transfers 1 complete true
	// call 0x47844dcb9Cfb730C3a4E2B11eeE89b9FCa1ae583 → 0xC31003E911F90B7089145c417742447DA6D859eb 1500000000000000000 ETH
}
