package devnode_test

import (
	"context"
	"fmt"

	"github.com/chaintrace/chaintrace/chains/ethereum/contracts"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
)

// Deploy the test ERC-20, mint to an account and send ETH, in one block.
func Example() {
	ctx := context.Background()
	n, err := devnode.Start(ctx, devnode.Config{Accounts: 2, NoHTTP: true})
	if err != nil {
		panic(err)
	}
	defer n.Close()
	owner, holder := n.Account(0), n.Account(1)

	token, err := contracts.Load(contracts.Token)
	if err != nil {
		panic(err)
	}
	code, err := token.DeployData("Test", "TST")
	if err != nil {
		panic(err)
	}
	addr, _, err := n.Deploy(ctx, owner, code, nil)
	if err != nil {
		panic(err)
	}
	if _, err := n.Commit(ctx); err != nil { // gas of the next calls is estimated on the deployed code
		panic(err)
	}
	mint, _ := token.Call("mint", holder.Address, devnode.Ether(5))
	mintTx, err := n.Send(ctx, owner, devnode.Tx{To: &addr, Data: mint})
	if err != nil {
		panic(err)
	}
	payTx, err := n.Send(ctx, owner, devnode.Tx{To: &holder.Address, Value: devnode.Gwei(7)})
	if err != nil {
		panic(err)
	}
	block, err := n.Commit(ctx)
	if err != nil {
		panic(err)
	}
	r, _ := n.Receipt(ctx, mintTx.Hash())
	fmt.Println("block", block.NumberU64(), "txs", len(block.Transactions()), "mint status", r.Status, "logs", len(r.Logs))
	fmt.Println("nonces", mintTx.Nonce(), payTx.Nonce())
	// Output:
	// block 2 txs 2 mint status 1 logs 1
	// nonces 1 2
}
