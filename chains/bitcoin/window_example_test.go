package bitcoin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// Trace real mainnet blocks from height 100 only: block 170 spends the coinbase of block 9,
// created before the window, and the window resolves that input (here by a scan of blocks
// 1–99: these block files have no undo data), so the seed address's holding from before
// the window is tainted as in a full replay.
func ExampleBlockFilesOptions_window() {
	dir, _ := os.MkdirTemp("", "blocks")
	defer os.RemoveAll(dir)
	f, _ := os.Open(filepath.Join("..", "..", "testdata", "bitcoin", "blocks1-256.bz2"))
	defer f.Close()
	if err := writeBunzip(f, filepath.Join(dir, "blk00000.dat")); err != nil {
		fmt.Println(err)
		return
	}
	bf, err := bitcoin.OpenBlockFiles(context.Background(), dir,
		bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams, WindowStart: 100})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bf.Close()
	eng, _ := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds:     []trace.Seed{{Address: "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", Source: "block9"}},
		Exchanges: map[string][]graph.Address{"hal": {"1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"}}})
	if err := bitcoin.Stream(context.Background(), bf, eng.ApplyBlock); err != nil {
		fmt.Println(err)
		return
	}
	res := eng.Result()
	x := res.Exposure["hal"].Asset(graph.BTC)
	fmt.Println(bf.PrevoutMethod(), res.Stats.Blocks, res.Stats.OutsideWindowInputs, x.TaintedTotal.Dec(), x.Share())
	// Output: scan 156 1 1000000000 1
}

// Bitcoin Core's amount compression, as undo files store amounts.
func ExampleCompressAmount() {
	for _, sat := range []uint64{0, 1, 1_000_000, 100_000_000, 5_000_000_000} {
		c := bitcoin.CompressAmount(sat)
		fmt.Println(sat, c, bitcoin.DecompressAmount(c))
	}
	// Output:
	// 0 0 0
	// 1 1 1
	// 1000000 7 1000000
	// 100000000 9 100000000
	// 5000000000 50 5000000000
}
