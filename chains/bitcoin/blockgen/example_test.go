package blockgen_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/chaintrace/chaintrace/graph"
)

// Generate a small regtest chain into block files and read it back with the block-file
// reader, as the benchmarks do with a million transactions.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "blockgen-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	sum, err := blockgen.Generate(ctx, dir, blockgen.Options{
		Net: &chaincfg.RegressionNetParams, Seed: 7, Txs: 5000, TxsPerBlock: 500,
		XORKey: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, // written to xor.dat, as Bitcoin Core ≥ 28 does
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %d blocks, %d transactions, %d outputs\n", sum.Blocks, sum.Txs, sum.Outputs)

	bf, err := bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: &chaincfg.RegressionNetParams})
	if err != nil {
		log.Fatal(err)
	}
	defer bf.Close()
	txs, outputs := 0, 0
	var tip string
	if err := bitcoin.Stream(ctx, bf, func(b *graph.Block) error {
		txs += len(b.UTXOTxs)
		for _, tx := range b.UTXOTxs {
			outputs += len(tx.Outputs)
		}
		tip = b.Hash
		return nil
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("read %d transactions, %d outputs; same tip: %v\n", txs, outputs, tip == sum.TipHash)
	// Output:
	// wrote 25 blocks, 5025 transactions, 11235 outputs
	// read 5025 transactions, 11235 outputs; same tip: true
}
