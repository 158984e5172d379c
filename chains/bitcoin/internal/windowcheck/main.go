// Command windowcheck measures a window against the full replay on a large chain of blk
// files (issue 18's "a window starting at its last quarter"): it traces the whole chain
// and a window over it, resolving the window's inputs from before it by the undo files or
// the scan of the earlier blk files, and checks that the exchange's deposits inside the
// window carry the same taint in both, under haircut and poison. It prints each run's
// wall time and the heap; run it under /usr/bin/time -v for the peak RSS.
//
//	go run ./chains/bitcoin/internal/windowcheck -blocks /tmp/chain/blocks
//
// The seeds are the coinbase outputs of the block before the window and the exchange is
// the address the window's transactions pay most often, as in chains/bitcoin's
// TestWindowSyntheticLastQuarter: a window cannot know of taint that moved before it, so
// the seeds' taint must start inside it for the figures to be comparable.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

func main() {
	dir := flag.String("blocks", "", "Bitcoin Core blocks directory (blk*.dat)")
	start := flag.Uint64("start", 0, "the window's first block (0: the chain's last quarter)")
	noUndo := flag.Bool("no-undo", false, "resolve the window's inputs by the scan even when undo files are there")
	methods := flag.String("methods", "haircut,poison", "taint methods, comma-separated")
	flag.Parse()
	if err := run(context.Background(), *dir, *start, *noUndo, *methods); err != nil {
		fmt.Fprintln(os.Stderr, "windowcheck:", err)
		os.Exit(1)
	}
}

func open(ctx context.Context, dir string, start uint64, noUndo bool) (*bitcoin.BlockFiles, error) {
	return bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams, WindowStart: start, NoUndo: noUndo})
}

func run(ctx context.Context, dir string, start uint64, noUndo bool, methods string) error {
	all, err := open(ctx, dir, 0, false)
	if err != nil {
		return err
	}
	defer all.Close()
	if start == 0 {
		start = all.TipHeight()*3/4 + 1
	}
	t0 := time.Now()
	var seeds []trace.Seed
	count := map[graph.Address]int{}
	inWindow := map[string]bool{}
	err = all.Blocks(ctx, func(b *graph.Block) error {
		for _, tx := range b.UTXOTxs {
			if b.Height >= start {
				inWindow[tx.TxID] = true
			}
			for i, o := range tx.Outputs {
				if b.Height == start-1 && tx.Coinbase {
					seeds = append(seeds, trace.Seed{Outpoint: &graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}, Source: "s"})
				}
				if !tx.Coinbase && b.Height >= start {
					count[o.Address]++
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var busiest graph.Address
	for a, n := range count {
		if busiest == "" || n > count[busiest] || n == count[busiest] && a < busiest {
			busiest = a
		}
	}
	count = nil
	fmt.Printf("chain to %d, window from %d: %d seed outputs (coinbase of %d), exchange %s (%d window txs); choosing took %.1f s\n",
		all.TipHeight(), start, len(seeds), start-1, busiest, len(inWindow), time.Since(t0).Seconds())
	trace1 := func(method string, src bitcoin.Source) (*trace.Result, time.Duration, error) {
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method, Seeds: seeds,
			Exchanges: map[string][]graph.Address{"x": {busiest}}, Params: trace.DefaultParams()})
		if err != nil {
			return nil, 0, err
		}
		if err := eng.RecordTo(""); err != nil {
			return nil, 0, err
		}
		defer eng.Close()
		t := time.Now()
		if err := bitcoin.Stream(ctx, src, eng.ApplyBlock); err != nil {
			return nil, 0, err
		}
		return eng.Result(), time.Since(t), nil
	}
	for _, method := range strings.Split(methods, ",") {
		full, tf, err := trace1(method, all)
		if err != nil {
			return err
		}
		win, err := open(ctx, dir, start, noUndo)
		if err != nil {
			return err
		}
		wr, tw, err := trace1(method, win)
		pm := win.PrevoutMethod()
		win.Close()
		if err != nil {
			return err
		}
		var want []trace.Deposit
		for _, d := range full.Exposure["x"].Asset(graph.BTC).Deposits {
			op, err := graph.ParseOutpoint(d.Ref)
			if err != nil {
				return err
			}
			if inWindow[op.TxID] {
				want = append(want, d)
			}
		}
		got := wr.Exposure["x"].Asset(graph.BTC).Deposits
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("%s: full replay %.1f s (%d tainted tx), window %.1f s (%d tainted tx, %d inputs from before it, by %v); deposits in the window: %d, tainted %s\n",
			method, tf.Seconds(), full.Stats.TaintedTxs, tw.Seconds(), wr.Stats.TaintedTxs, wr.Stats.OutsideWindowInputs, pm,
			len(want), wr.Exposure["x"].Asset(graph.BTC).TaintedTotal.Dec())
		if len(want) == 0 {
			return fmt.Errorf("%s: no deposit in the window: nothing compared", method)
		}
		if !reflect.DeepEqual(want, got) {
			return fmt.Errorf("%s: the window's %d deposits differ from the full replay's %d inside it", method, len(got), len(want))
		}
		fmt.Printf("%s: equal (heap sys %.2f GB)\n", method, float64(ms.Sys)/1e9)
	}
	return nil
}
