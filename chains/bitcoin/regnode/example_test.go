package regnode_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/regnode"
)

// A vault pays an exchange with a THORChain memo (an OP_RETURN output) and gets the rest
// back as change; chaintrace reads the block over JSON-RPC as from any btcd.
func Example() {
	ctx := context.Background()
	n, err := regnode.Start(ctx, regnode.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()
	vault, exchange := regnode.NewKey("vault"), regnode.NewKey("exchange")
	// Block 1's coinbase can be spent from block 101 on.
	if _, err := n.Mine(ctx, 100, vault.P2PKH()); err != nil {
		log.Fatal(err)
	}
	txid, err := n.Send(ctx, vault, []regnode.Payment{
		{To: exchange.P2PKH(), Value: 2 * regnode.BTC},
		{Memo: []byte("OUT:9F3A")},
	}, 1_000)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := n.MineTxs(ctx, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		log.Fatal(err)
	}

	rpc, err := bitcoin.DialRPC(ctx, n.RPCConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer rpc.Close()
	b, err := rpc.Block(ctx, 101)
	if err != nil {
		log.Fatal(err)
	}
	tx := b.UTXOTxs[1]
	fmt.Println("block", b.Height, time.Unix(b.Time, 0).UTC().Format(time.DateOnly), "tx", tx.TxID == txid)
	for i, o := range tx.Outputs {
		fmt.Printf("output %d: %q %d sat unspendable=%v\n", i, o.Address, o.Value.Uint64(), o.Unspendable)
	}
	// Output:
	// block 101 2024-01-02 tx true
	// output 0: "my5csTi6XYxeCc5hCj9KgRT17Ekzjkfgyc" 200000000 sat unspendable=false
	// output 1: "" 0 sat unspendable=true
	// output 2: "mpKmuoMfZh38HZQ8ysFG98kfV5sfYsZTqd" 4799999000 sat unspendable=false
}
