package graph_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/chaintrace/chaintrace/graph"
)

// A store in memory: write two Bitcoin blocks (the second one's input arrives unresolved,
// as from raw block files, and the store fills it in), read them back in chain order, and
// ask the indexes about an outpoint and an address.
func ExampleOpenStore() {
	ctx := context.Background()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true}) // or Dir: "/var/lib/chaintrace"
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	blocks := []graph.Block{
		{Chain: graph.Bitcoin, Height: 1, Hash: "b1", UTXOTxs: []graph.UTXOTx{
			{TxID: "cb1", Coinbase: true, Outputs: []graph.TxOut{{Address: "bc1qminer", Value: graph.NewAmount(5000)}}},
		}},
		{Chain: graph.Bitcoin, Height: 2, Hash: "b2", Parent: "b1", UTXOTxs: []graph.UTXOTx{
			{TxID: "cb2", Coinbase: true, Outputs: []graph.TxOut{{Address: "bc1qminer", Value: graph.NewAmount(5000)}}},
			{TxID: "pay", Index: 1, Inputs: []graph.TxIn{{Prev: graph.Outpoint{TxID: "cb1", Index: 0}}},
				Outputs: []graph.TxOut{{Address: "bc1qshop", Value: graph.NewAmount(4900)}}},
		}},
	}
	for i := range blocks {
		stats, err := st.WriteBlockStats(ctx, &blocks[i])
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("block %d written, %d inputs resolved\n", blocks[i].Height, stats.Resolved)
	}

	err = st.Blocks(ctx, graph.Bitcoin, 0, ^uint64(0), func(b *graph.Block) error {
		for _, tx := range b.UTXOTxs {
			fee, err := tx.Fee()
			if err != nil {
				return err
			}
			fmt.Printf("  %d/%s fee %s\n", b.Height, tx.TxID, fee.Dec())
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	info, err := st.Outpoint(ctx, graph.Bitcoin, graph.Outpoint{TxID: "cb1", Index: 0})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("cb1:0 pays %s to %s, spent by %s in block %d\n", info.Value.Dec(), info.Address, info.SpentBy, info.SpentAt.Height)

	err = st.Movements(ctx, graph.Bitcoin, "bc1qminer", func(m graph.Movement) error {
		fmt.Printf("bc1qminer %s credit=%v %s (%s)\n", m.Position, m.Credit, m.Amount.Dec(), m.Outpoint)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// block 1 written, 0 inputs resolved
	// block 2 written, 1 inputs resolved
	//   1/cb1 fee 0
	//   2/cb2 fee 0
	//   2/pay fee 100
	// cb1:0 pays 5000 to bc1qminer, spent by pay in block 2
	// bc1qminer 1/0/0 credit=true 5000 (cb1:0)
	// bc1qminer 2/0/0 credit=true 5000 (cb2:0)
	// bc1qminer 2/1/0 credit=false 5000 (cb1:0)
}

// A block that forks off below the tip rolls the store back to the fork point first.
func ExampleStore_WriteBlockStats_reorg() {
	ctx := context.Background()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	mk := func(h uint64, hash, parent string) *graph.Block {
		return &graph.Block{Chain: graph.Ethereum, Height: h, Hash: hash, Parent: parent}
	}
	for _, b := range []*graph.Block{mk(1, "0xa1", ""), mk(2, "0xa2", "0xa1"), mk(3, "0xa3", "0xa2")} {
		if err := st.WriteBlock(ctx, b); err != nil {
			log.Fatal(err)
		}
	}
	stats, err := st.WriteBlockStats(ctx, mk(2, "0xb2", "0xa1"))
	if err != nil {
		log.Fatal(err)
	}
	h, hash, _, _ := st.Tip(ctx, graph.Ethereum)
	fmt.Printf("rolled back %d blocks; tip %d %s\n", stats.RolledBack, h, hash)

	// A block whose parent is not stored: the fork is deeper than the store can tell.
	err = st.WriteBlock(ctx, mk(3, "0xc3", "0xc2"))
	fmt.Println(errors.Is(err, graph.ErrParentMismatch))
	// Output:
	// rolled back 2 blocks; tip 2 0xb2
	// true
}

// Records keep labels, engine checkpoints and trace results next to the graph.
func ExampleStore_PutRecord() {
	ctx := context.Background()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	_ = st.PutRecord(ctx, "labels", []byte("bc1qshop"), []byte(`{"entity":"ExchA"}`))
	_ = st.PutRecord(ctx, "labels", []byte("bc1qminer"), []byte(`{"entity":"Pool"}`))
	_ = st.Records(ctx, "labels", func(k, v []byte) error {
		fmt.Printf("%s %s\n", k, v)
		return nil
	})
	_, err = st.GetRecord(ctx, "labels", []byte("nobody"))
	fmt.Println(errors.Is(err, graph.ErrNotFound))
	// Output:
	// bc1qminer {"entity":"Pool"}
	// bc1qshop {"entity":"ExchA"}
	// true
}
