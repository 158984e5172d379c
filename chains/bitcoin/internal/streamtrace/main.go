// Command streamtrace measures the streaming floor and the engine on blk files: it streams
// every block of a blocks directory (bitcoin.Stream) into one trace engine and prints the
// wall time, the transactions and the heap. It is the "Stream + engine" row of
// trace/PERFORMANCE.md (issue 18); run it under /usr/bin/time -v for the peak RSS.
//
//	go run ./chains/bitcoin/internal/streamtrace -blocks /tmp/chain/blocks -seed ADDR -method haircut
//
// A seed that matches nothing (-seed none) gives the floor: decoding plus the engine's
// bookkeeping with no taint work.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

func main() {
	dir := flag.String("blocks", "", "Bitcoin Core blocks directory (blk*.dat)")
	seed := flag.String("seed", "none", "seed address (source \"s\"); \"none\" seeds an address no output pays")
	method := flag.String("method", trace.Haircut, "taint method")
	result := flag.Bool("result", true, "build the Result at the end (as the CLI does)")
	memprof := flag.String("memprofile", "", "write a heap profile at the end to this file")
	records := flag.String("records", "-", "keep the evidence records on disk under this directory (Engine.RecordTo; \"\" = the temp dir, \"-\" = in memory)")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "streamtrace:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*dir, *seed, *method, *result, *memprof, *records); err != nil {
		fmt.Fprintln(os.Stderr, "streamtrace:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(dir, seed, method string, result bool, memprof, records string) error {
	ctx := context.Background()
	bf, err := bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams})
	if err != nil {
		return err
	}
	defer bf.Close()
	if seed == "none" {
		seed = "1111111111111111111114oLvT2" // the all-zero hash160: no output here pays it
	}
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method, Params: trace.DefaultParams(),
		Seeds: []trace.Seed{{Address: graph.Address(seed), Source: "s"}}})
	if err != nil {
		return err
	}
	if records != "-" {
		if err := eng.RecordTo(records); err != nil {
			return err
		}
		defer eng.Close()
	}
	start := time.Now()
	if err := bitcoin.Stream(ctx, bf, eng.ApplyBlock); err != nil {
		return err
	}
	replay := time.Since(start)
	var outs, unspent, comps int
	if result {
		r := eng.Result()
		outs, unspent = len(r.Outputs), len(r.Unspent)
		for _, o := range r.Unspent {
			comps += len(o.Taint)
		}
		if records != "-" {
			var err error
			if outs, err = r.Records(); err != nil {
				return err
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if memprof != "" {
		f, err := os.Create(memprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
	}
	var recBytes int64
	if records != "-" && records != "" {
		_ = filepath.WalkDir(records, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					recBytes += info.Size()
				}
			}
			return nil
		})
		fmt.Printf("records on disk: %.2f GB\n", float64(recBytes)/1e9)
	}
	st := eng.Result().Stats
	fmt.Printf("method %s: %d blocks, %d tx, %d tainted tx; replay %.1f s, total %.1f s; outputs %d, unspent %d with %d components; heap in use %.2f GB, sys %.2f GB\n",
		method, st.Blocks, st.Txs, st.TaintedTxs, replay.Seconds(), time.Since(start).Seconds(), outs, unspent, comps,
		float64(ms.HeapInuse)/1e9, float64(ms.Sys)/1e9)
	return nil
}
