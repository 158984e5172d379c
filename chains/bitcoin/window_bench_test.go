package bitcoin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/chaintrace/chaintrace/graph"
)

// Window benchmarks run on a blockgen chain with undo files: CHAINTRACE_WINDOW_BENCH_TXS
// transactions (default 200,000), generated once into the system temp directory. The window
// is the chain's last quarter; each benchmark reads it with every input from before it
// resolved (undo files, or the scan), against reading the same blocks unresolved:
//
//	go test -run XXX -bench Window -benchtime 3x -count 5 ./chains/bitcoin/
var (
	windowOnce sync.Once
	windowDir  string
	windowSum  blockgen.Summary
	windowErr  error
)

func windowChain(b *testing.B) (string, blockgen.Summary) {
	b.Helper()
	windowOnce.Do(func() {
		txs := 200_000
		if s := os.Getenv("CHAINTRACE_WINDOW_BENCH_TXS"); s != "" {
			if txs, windowErr = strconv.Atoi(s); windowErr != nil {
				return
			}
		}
		windowDir = filepath.Join(os.TempDir(), fmt.Sprintf("chaintrace-blockgen-undo-seed1-%d", txs))
		if _, err := os.Stat(filepath.Join(windowDir, "done")); err == nil {
			windowSum, windowErr = readSummary(windowDir)
			return
		}
		os.RemoveAll(windowDir)
		windowSum, windowErr = blockgen.Generate(context.Background(), windowDir, blockgen.Options{Net: &chaincfg.MainNetParams,
			Seed: 1, Txs: txs, XORKey: [8]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}, Undo: true})
		if windowErr == nil {
			windowErr = os.WriteFile(filepath.Join(windowDir, "done"), []byte(fmt.Sprintf("%d %d %d %d %d",
				windowSum.Blocks, windowSum.Txs, windowSum.Inputs, windowSum.Outputs, windowSum.Bytes)), 0o644)
		}
	})
	if windowErr != nil {
		b.Fatal(windowErr)
	}
	return windowDir, windowSum
}

func benchWindow(b *testing.B, opts bitcoin.BlockFilesOptions, resolved bool) {
	dir, sum := windowChain(b)
	start := uint64(sum.Blocks)*3/4 + 1
	opts.Net = &chaincfg.MainNetParams
	if resolved {
		opts.WindowStart = start
	}
	b.ReportAllocs()
	b.ResetTimer()
	txs, ins := 0, 0
	for i := 0; i < b.N; i++ {
		// Opening is part of the cost: the undo index and the scan are built per window.
		bf, err := bitcoin.OpenBlockFiles(context.Background(), dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		txs, ins = 0, 0
		err = bf.Range(context.Background(), start, bf.TipHeight(), func(blk *graph.Block) error {
			txs += len(blk.UTXOTxs)
			for _, tx := range blk.UTXOTxs {
				for _, in := range tx.Inputs {
					if in.Resolved {
						ins++
					}
				}
			}
			return nil
		})
		bf.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(txs)*float64(b.N)/b.Elapsed().Seconds(), "window-txs/s")
	b.ReportMetric(float64(ins), "resolved-inputs")
}

// BenchmarkWindowUnresolved reads the window's blocks without resolving anything: the floor.
func BenchmarkWindowUnresolved(b *testing.B) { benchWindow(b, bitcoin.BlockFilesOptions{}, false) }

// BenchmarkWindowUndo resolves the window's inputs from the undo files.
func BenchmarkWindowUndo(b *testing.B) { benchWindow(b, bitcoin.BlockFilesOptions{}, true) }

// BenchmarkWindowScan resolves them with the scan (a pass over the window, then over the
// three quarters below it).
func BenchmarkWindowScan(b *testing.B) { benchWindow(b, bitcoin.BlockFilesOptions{NoUndo: true}, true) }

// BenchmarkDecodeBlockUndo decodes one block's undo data: 2,000 transactions of two inputs
// each, the script forms mixed (P2PKH, P2SH, P2WPKH raw).
func BenchmarkDecodeBlockUndo(b *testing.B) {
	h20 := make([]byte, 20)
	scripts := [][]byte{
		append(append([]byte{0x76, 0xa9, 20}, h20...), 0x88, 0xac),
		append(append([]byte{0xa9, 20}, h20...), 0x87),
		append([]byte{0, 20}, h20...),
	}
	var u bitcoin.BlockUndo
	for i := 0; i < 2000; i++ {
		u = append(u, []bitcoin.SpentCoin{
			{Height: uint32(800_000 + i), Value: uint64(1000 + i), Script: scripts[i%3]},
			{Height: uint32(700_000 + i), Coinbase: i%50 == 0, Value: 5_000_000_000, Script: scripts[(i+1)%3]},
		})
	}
	data := bitcoin.AppendBlockUndo(nil, u)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := bitcoin.DecodeBlockUndo(data); err != nil {
			b.Fatal(err)
		}
	}
}
