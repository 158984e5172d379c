package bitcoin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// Read a Bitcoin Core blocks directory in height order (here a small synthetic one) and
// count its transactions.
func ExampleOpenBlockFiles() {
	dir, _ := os.MkdirTemp("", "blocks")
	defer os.RemoveAll(dir)
	net := &chaincfg.RegressionNetParams
	if _, err := blockgen.Generate(context.Background(), dir, blockgen.Options{Net: net, Seed: 1, Txs: 100}); err != nil {
		fmt.Println(err)
		return
	}
	bf, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: net})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bf.Close()
	txs := 0
	err = bitcoin.Stream(context.Background(), bf, func(b *graph.Block) error {
		txs += len(b.UTXOTxs)
		return nil
	})
	fmt.Println(bf.FirstHeight(), bf.TipHeight(), txs, err)
	// Output: 1 5 105 <nil>
}

// Stream real mainnet blocks 1–255 straight into a haircut trace seeded at the coinbase of
// block 9, the coins of the first person-to-person payment (block 170).
func ExampleStream() {
	dir, _ := os.MkdirTemp("", "blocks")
	defer os.RemoveAll(dir)
	f, _ := os.Open(filepath.Join("..", "..", "testdata", "bitcoin", "blocks1-256.bz2"))
	defer f.Close()
	if err := writeBunzip(f, filepath.Join(dir, "blk00000.dat")); err != nil {
		fmt.Println(err)
		return
	}
	bf, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bf.Close()
	eng, _ := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds: []trace.Seed{{Outpoint: &graph.Outpoint{TxID: "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"}, Source: "block9"}}})
	if err := bitcoin.Stream(context.Background(), bf, eng.ApplyBlock); err != nil {
		fmt.Println(err)
		return
	}
	hal := eng.Result().Unspent["f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:0"]
	fmt.Println(hal.Address, hal.Tainted.Dec())
	// Output: 1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3 1000000000
}

// Output scripts become canonical addresses; OP_RETURN is unspendable.
func ExampleScriptAddress() {
	for _, script := range [][]byte{
		mustHex("76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac"),
		mustHex("0014751e76e8199196d454941c45d1b3a323f1433bd6"),
		mustHex("6a04deadbeef"),
		mustHex("51ae"),
	} {
		addr, class, unspendable := bitcoin.ScriptAddress(script, &chaincfg.MainNetParams)
		fmt.Printf("%s %q %v\n", class, addr, unspendable)
	}
	// Output:
	// pubkeyhash "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa" false
	// witness_v0_keyhash "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" false
	// nulldata "" true
	// nonstandard "nonstandard5e49bec8cd8b5fa3a9dcc3744061a7f3bba1eda9" false
}

// Keep a store in step with a node (here blk files; an *RPC works the same), resuming
// and following reorgs.
func ExampleIngest() {
	dir, _ := os.MkdirTemp("", "blocks")
	defer os.RemoveAll(dir)
	net := &chaincfg.RegressionNetParams
	if _, err := blockgen.Generate(context.Background(), dir, blockgen.Options{Net: net, Seed: 2, Txs: 50}); err != nil {
		fmt.Println(err)
		return
	}
	bf, _ := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: net})
	defer bf.Close()
	st, err := graph.OpenStore(context.Background(), graph.StoreOptions{InMemory: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	stats, err := bitcoin.Ingest(context.Background(), st, bf, bitcoin.IngestOptions{From: 1})
	fmt.Println(stats.Written, stats.Tip, err)
	// Output: 3 3 <nil>
}

// Load a history into an empty store in one pass (all or nothing), then keep it current
// with Ingest.
func ExampleBulkLoad() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "blocks")
	defer os.RemoveAll(dir)
	net := &chaincfg.RegressionNetParams
	if _, err := blockgen.Generate(ctx, dir, blockgen.Options{Net: net, Seed: 2, Txs: 50}); err != nil {
		fmt.Println(err)
		return
	}
	bf, _ := bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: net})
	defer bf.Close()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	loaded, err := bitcoin.BulkLoad(ctx, st, bf, bitcoin.BulkLoadOptions{From: 1, To: 2})
	fmt.Println(loaded.Blocks, loaded.Txs, err)
	stats, err := bitcoin.Ingest(ctx, st, bf, bitcoin.IngestOptions{})
	fmt.Println(stats.Written, stats.Tip, err)
	// Output:
	// 2 18 <nil>
	// 1 3 <nil>
}
