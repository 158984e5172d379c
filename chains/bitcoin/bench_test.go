package bitcoin_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// Benchmarks run on a synthetic chain from blockgen: CHAINTRACE_BENCH_TXS transactions
// (default 1,000,000), generated once into the system temp directory and reused by later
// runs (same seed, same bytes). All figures are bytes of serialized blocks per second
// (b.SetBytes), so the wire-decoding baseline and the pipelines compare directly:
//
//	go test -run XXX -bench . -benchtime 3x -count 5 ./chains/bitcoin/
var (
	benchOnce sync.Once
	benchDir  string
	benchSum  blockgen.Summary
	benchErr  error
)

func benchChain(b *testing.B) (string, blockgen.Summary) {
	b.Helper()
	benchOnce.Do(func() {
		txs := 1_000_000
		if s := os.Getenv("CHAINTRACE_BENCH_TXS"); s != "" {
			txs, benchErr = strconv.Atoi(s)
			if benchErr != nil {
				return
			}
		}
		benchDir = filepath.Join(os.TempDir(), fmt.Sprintf("chaintrace-blockgen-seed1-%d", txs))
		opts := blockgen.Options{Net: &chaincfg.MainNetParams, Seed: 1, Txs: txs, XORKey: [8]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}}
		if _, err := os.Stat(filepath.Join(benchDir, "done")); err == nil {
			benchSum, benchErr = readSummary(benchDir)
			return
		}
		os.RemoveAll(benchDir)
		benchSum, benchErr = blockgen.Generate(context.Background(), benchDir, opts)
		if benchErr == nil {
			benchErr = os.WriteFile(filepath.Join(benchDir, "done"),
				[]byte(fmt.Sprintf("%d %d %d %d %d", benchSum.Blocks, benchSum.Txs, benchSum.Inputs, benchSum.Outputs, benchSum.Bytes)), 0o644)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir, benchSum
}

func readSummary(dir string) (blockgen.Summary, error) {
	var s blockgen.Summary
	data, err := os.ReadFile(filepath.Join(dir, "done"))
	if err != nil {
		return s, err
	}
	_, err = fmt.Sscan(string(data), &s.Blocks, &s.Txs, &s.Inputs, &s.Outputs, &s.Bytes)
	return s, err
}

func openBench(b *testing.B, workers int) (*bitcoin.BlockFiles, blockgen.Summary) {
	dir, sum := benchChain(b)
	bf, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams, Workers: workers})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bf.Close() })
	return bf, sum
}

// loadRaw reads every block of the bench chain into memory (for decode-only benchmarks).
func loadRaw(b *testing.B, bf *bitcoin.BlockFiles) [][]byte {
	var raws [][]byte
	if err := bf.RawBlocks(context.Background(), func(_ uint64, raw []byte) error {
		raws = append(raws, raw)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return raws
}

// BenchmarkWireDecode is the baseline: btcd's wire.MsgBlock.Deserialize of blocks already in
// memory, on one core and on all cores (GOMAXPROCS workers, blocks split among them).
func BenchmarkWireDecode(b *testing.B) {
	bf, sum := openBench(b, runtime.GOMAXPROCS(0))
	raws := loadRaw(b, bf)
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("cores=%d", workers), func(b *testing.B) {
			b.SetBytes(sum.Bytes)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				parallelEach(workers, len(raws), func(k int) {
					var msg wire.MsgBlock
					if err := msg.Deserialize(bytes.NewReader(raws[k])); err != nil {
						panic(err)
					}
				})
			}
			reportTxs(b, sum)
		})
	}
}

// BenchmarkNormalize: serialized block → graph.Block (decode, txids, merkle check,
// addresses), in memory, one core and all cores.
func BenchmarkNormalize(b *testing.B) {
	bf, sum := openBench(b, runtime.GOMAXPROCS(0))
	raws := loadRaw(b, bf)
	first := bf.FirstHeight()
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("cores=%d", workers), func(b *testing.B) {
			b.SetBytes(sum.Bytes)
			b.ReportAllocs()
			decoders := make([]*bitcoin.Decoder, workers)
			for w := range decoders {
				decoders[w] = bitcoin.NewDecoder(&chaincfg.MainNetParams)
			}
			for i := 0; i < b.N; i++ {
				parallelEach(workers, len(raws), func(k int) {
					if _, err := decoders[k%workers].Decode(raws[k], first+uint64(k)); err != nil {
						panic(err)
					}
				})
			}
			reportTxs(b, sum)
		})
	}
}

// BenchmarkStreamBlockFiles: blk files on disk (page cache) → graph.Blocks in height order,
// decoded in parallel, nothing applied.
func BenchmarkStreamBlockFiles(b *testing.B) {
	bf, sum := openBench(b, runtime.GOMAXPROCS(0))
	b.SetBytes(sum.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := bitcoin.Stream(context.Background(), bf, func(*graph.Block) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	reportTxs(b, sum)
}

// benchMaxHops bounds the taint of the trace benchmarks: on blockgen's random spends
// unbounded taint reaches nearly every transaction, and the engine's state (components per
// hop, evidence) then outgrew 15 GB on a million transactions.
const benchMaxHops = 12

// benchEngine seeds the 50 payees of block 1's coinbase (source "gen") and names the payees
// of block 2's coinbase an exchange, with max_hops benchMaxHops; the share of transactions
// the taint reaches is reported as %tainted-txs.
func benchEngine(b *testing.B, bf *bitcoin.BlockFiles, method string) *trace.Engine {
	var seeds []trace.Seed
	var exchange []graph.Address
	seen := map[graph.Address]bool{}
	if err := bf.Range(context.Background(), 1, 2, func(blk *graph.Block) error {
		for _, o := range blk.UTXOTxs[0].Outputs {
			if seen[o.Address] {
				continue
			}
			seen[o.Address] = true
			if blk.Height == 1 {
				seeds = append(seeds, trace.Seed{Address: o.Address, Source: "gen"})
			} else {
				exchange = append(exchange, o.Address)
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	params := trace.DefaultParams()
	maxHops := uint32(benchMaxHops)
	params.MaxHops = &maxHops
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method, Seeds: seeds,
		Exchanges: map[string][]graph.Address{"X": exchange}, Params: params})
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// BenchmarkStreamHaircut: blk files → haircut trace, no store: blocks decoded in parallel on
// all cores, applied in order to the engine.
func BenchmarkStreamHaircut(b *testing.B) {
	bf, sum := openBench(b, runtime.GOMAXPROCS(0))
	b.SetBytes(sum.Bytes)
	b.ReportAllocs()
	var stats trace.Stats
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		eng := benchEngine(b, bf, trace.Haircut)
		runtime.GC()
		b.StartTimer()
		if err := bitcoin.Stream(context.Background(), bf, eng.ApplyBlock); err != nil {
			b.Fatal(err)
		}
		b.StopTimer() // Result builds the report: not part of the replay
		stats = eng.Result().Stats
		b.StartTimer()
	}
	reportTxs(b, sum)
	b.ReportMetric(float64(stats.TaintedTxs)/float64(sum.Txs)*100, "%tainted-txs")
}

// BenchmarkTraceOnly: the haircut engine alone on blocks already normalized in memory
// (what the streaming pipeline cannot go faster than).
func BenchmarkTraceOnly(b *testing.B) {
	bf, sum := openBench(b, runtime.GOMAXPROCS(0))
	var blocks []*graph.Block
	if err := bitcoin.Stream(context.Background(), bf, func(blk *graph.Block) error { blocks = append(blocks, blk); return nil }); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(sum.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		eng := benchEngine(b, bf, trace.Haircut)
		runtime.GC()
		b.StartTimer()
		for _, blk := range blocks {
			if err := eng.ApplyBlock(blk); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(eng.Result().Stats.TaintedTxs)/float64(sum.Txs)*100, "%tainted-txs")
		b.StartTimer()
	}
	reportTxs(b, sum)
}

// BenchmarkStoreThenHaircut: blk files → store (Ingest, badger on disk; or BulkLoad, the
// first-time load) → haircut trace from the store. Reported separately: ingest, bulk, trace.
func BenchmarkStoreThenHaircut(b *testing.B) {
	bf, sum := openBench(b, runtime.GOMAXPROCS(0))
	ctx := context.Background()
	// load times one way of filling a fresh on-disk store from the blk files.
	load := func(name string, fill func(st *graph.Store, tmp string) error) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(sum.Bytes)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				tmp := b.TempDir()
				b.StartTimer()
				if err := fill(st, tmp); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
			reportTxs(b, sum)
		})
	}
	load("ingest", func(st *graph.Store, _ string) error {
		_, err := bitcoin.Ingest(ctx, st, bf, bitcoin.IngestOptions{From: 1})
		return err
	})
	// The first-time load through the store's bulk path.
	load("bulk", func(st *graph.Store, tmp string) error {
		_, err := bitcoin.BulkLoad(ctx, st, bf, bitcoin.BulkLoadOptions{From: 1, Bulk: graph.BulkOptions{TempDir: tmp}})
		return err
	})
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := bitcoin.Ingest(ctx, st, bf, bitcoin.IngestOptions{From: 1}); err != nil {
		b.Fatal(err)
	}
	b.Run("trace", func(b *testing.B) {
		b.SetBytes(sum.Bytes)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			eng := benchEngine(b, bf, trace.Haircut)
			b.StartTimer()
			if err := st.Blocks(ctx, graph.Bitcoin, 1, bf.TipHeight(), eng.ApplyBlock); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportTxs(b, sum)
	})
}

func reportTxs(b *testing.B, sum blockgen.Summary) {
	b.ReportMetric(float64(sum.Txs)*float64(b.N)/b.Elapsed().Seconds(), "txs/s")
}

// parallelEach runs fn(0..n-1) on workers goroutines (contiguous chunks interleaved).
func parallelEach(workers, n int, fn func(k int)) {
	if workers <= 1 {
		for k := 0; k < n; k++ {
			fn(k)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := w; k < n; k += workers {
				fn(k)
			}
		}(w)
	}
	wg.Wait()
}
