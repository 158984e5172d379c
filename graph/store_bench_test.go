package graph

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Store benchmarks. Sizes come from the environment so that the full-size runs
// (1M transactions / 1M transfers, as in the issue) are explicit:
//
//	CHAINTRACE_BENCH_TX=1000000 go test ./graph -run '^$' -bench 'Store' -benchtime 1x
//
// The default (100k) keeps an accidental -bench run short. Plain `go test` runs no benchmark.

func benchSize(b *testing.B) int {
	if v := os.Getenv("CHAINTRACE_BENCH_TX"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("CHAINTRACE_BENCH_TX=%q is not a positive integer", v)
		}
		return n
	}
	return 100_000
}

var (
	genMu    sync.Mutex
	genUTXO  = map[int]*GenUTXO{}
	genAcct  = map[int]*GenAccount{}
	genUnres = map[int][]Block{}
)

func benchUTXO(n int) (*GenUTXO, []Block) {
	genMu.Lock()
	defer genMu.Unlock()
	if genUTXO[n] == nil {
		genUTXO[n] = GenerateUTXO(42, n, 2500)
		genUnres[n] = genUTXO[n].Unresolved()
	}
	return genUTXO[n], genUnres[n]
}

func benchAccount(n int) *GenAccount {
	genMu.Lock()
	defer genMu.Unlock()
	if genAcct[n] == nil {
		genAcct[n] = GenerateAccount(42, n, 200)
	}
	return genAcct[n]
}

// peakHeap runs f and returns the peak of the live heap (as of each GC: the
// /gc/heap/live:bytes metric) above the live heap at start: the memory the work needs,
// without the garbage that the GC's pacing lets accumulate between cycles.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	live := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	base := live()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if l := live(); l > base && l-base > peak.Load() {
				peak.Store(l - base)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dirSize(b *testing.B, dir string) int64 {
	n := dirSizeAny(dir)
	if n < 0 {
		b.Fatalf("cannot measure %s", dir)
	}
	return n
}

// dirSizeAny is the total size of the files under dir (-1 on error).
func dirSizeAny(dir string) int64 {
	var total int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		return -1
	}
	return total
}

func countTxs(blocks []Block) int {
	n := 0
	for i := range blocks {
		n += blocks[i].TxCount()
	}
	return n
}

// ingest writes blocks into a fresh on-disk store and reports tx/s, bytes/tx and peak heap.
func ingest(b *testing.B, blocks []Block, units int, unit string, opts StoreOptions, bulk bool) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		opts.Dir = dir
		st, err := OpenStore(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		work := make([]Block, len(blocks))
		for j := range blocks {
			work[j] = CloneBlock(&blocks[j])
		}
		b.StartTimer()
		start := time.Now()
		cpu0 := cpuTime()
		peak := peakHeap(func() {
			if bulk {
				bl, err := st.NewBulkLoader(ctx, BulkOptions{TempDir: b.TempDir(), MemoryBudget: bulkBudget(b)})
				if err != nil {
					b.Fatal(err)
				}
				for j := range work {
					if err := bl.Add(ctx, &work[j]); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := bl.Finish(ctx); err != nil {
					b.Fatal(err)
				}
				return
			}
			for j := range work {
				if err := st.WriteBlock(ctx, &work[j]); err != nil {
					b.Fatal(err)
				}
			}
		})
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		cpu := cpuTime() - cpu0
		b.StopTimer()
		size := dirSize(b, dir)
		b.ReportMetric(float64(units)/elapsed.Seconds(), unit+"/s")
		// The machine is shared and noisy: throughput per CPU-second of this process
		// (all its threads, badger's included) is the steadier figure.
		b.ReportMetric(float64(units)/cpu.Seconds(), unit+"/cpu-s")
		b.ReportMetric(float64(size)/float64(units), "disk-B/"+unit)
		b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MB")
		b.StartTimer()
	}
}

func BenchmarkStoreIngestUTXO(b *testing.B) {
	_, blocks := benchUTXO(benchSize(b))
	ingest(b, blocks, countTxs(blocks), "tx", StoreOptions{}, false)
}

func BenchmarkStoreIngestUTXONoAddressIndex(b *testing.B) {
	_, blocks := benchUTXO(benchSize(b))
	ingest(b, blocks, countTxs(blocks), "tx", StoreOptions{NoAddressIndex: true}, false)
}

func BenchmarkStoreIngestAccount(b *testing.B) {
	g := benchAccount(benchSize(b))
	ingest(b, g.Blocks, g.Transfers, "transfer", StoreOptions{}, false)
}

func BenchmarkStoreBulkLoadUTXO(b *testing.B) {
	_, blocks := benchUTXO(benchSize(b))
	ingest(b, blocks, countTxs(blocks), "tx", StoreOptions{}, true)
}

func BenchmarkStoreBulkLoadAccount(b *testing.B) {
	g := benchAccount(benchSize(b))
	ingest(b, g.Blocks, g.Transfers, "transfer", StoreOptions{}, true)
}

// bulkBudget is BulkOptions.MemoryBudget for the bulk benchmarks: CHAINTRACE_BULK_MB
// megabytes, or the default.
func bulkBudget(b *testing.B) int {
	v := os.Getenv("CHAINTRACE_BULK_MB")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("CHAINTRACE_BULK_MB=%q is not a positive integer", v)
	}
	return n << 20
}
