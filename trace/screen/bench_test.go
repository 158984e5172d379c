package screen_test

import (
	"context"
	"math/bits"
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/benchchain"
	"github.com/chaintrace/chaintrace/trace/screen"
)

// The screening benchmarks check addresses and deposits of a generated history
// (100,000 UTXO transactions, 30 % of the flow tainted, about 250,000 addresses) against
// the default policy, from as many goroutines as GOMAXPROCS, and report checks per second
// and the latency distribution (p50, p99, p999 from a log-linear histogram with 1/8-octave
// buckets; each figure is the bucket's upper bound). "baseline" does the same loop with a
// plain map lookup of the same keys, measured in the same process: the screener's cost is
// the difference. Run on 2 cores:
//
//	go test ./trace/screen -run '^$' -bench ScreenChecks -cpu 2 -benchtime 2000000x -count 5

type histogram struct{ b [64 * 8]uint64 }

func bucketOf(ns uint64) int {
	if ns < 8 {
		return int(ns)
	}
	n := bits.Len64(ns) // ns in [2^(n-1), 2^n)
	return (n-3)*8 + int(ns>>(n-4)&7)
}

func bucketUpper(i int) uint64 {
	if i < 8 {
		return uint64(i)
	}
	n := i/8 + 3
	return (uint64(8+i%8+1) << (n - 4)) - 1
}

func (h *histogram) add(ns uint64) { h.b[min(bucketOf(ns), len(h.b)-1)]++ }

func (h *histogram) merge(o *histogram) {
	for i := range h.b {
		h.b[i] += o.b[i]
	}
}

func (h *histogram) quantile(q float64) uint64 {
	var total uint64
	for _, c := range h.b {
		total += c
	}
	want := uint64(q * float64(total))
	var acc uint64
	for i, c := range h.b {
		acc += c
		if acc > want {
			return bucketUpper(i)
		}
	}
	return bucketUpper(len(h.b) - 1)
}

type screenBench struct {
	s        *screen.Screener
	addrs    []string
	deposits []string
}

// benchHistory is the generated history of every screening benchmark, made once.
var benchHistory = sync.OnceValue(func() *benchchain.Chain { return benchchain.UTXO(100_000, 0.3) })

var (
	screenBenchOnce sync.Once
	screenBenchData *screenBench
)

func loadScreenBench(b *testing.B) *screenBench {
	screenBenchOnce.Do(func() {
		c := benchHistory()
		eng, err := benchchain.Replay(c, trace.Haircut)
		if err != nil {
			b.Fatal(err)
		}
		res := eng.Result()
		pol, err := screen.LoadPolicy("default-policy.yaml")
		if err != nil {
			b.Fatal(err)
		}
		s, err := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol})
		if err != nil {
			b.Fatal(err)
		}
		s.Update(res, uint64(len(c.Blocks)), "")
		d := &screenBench{s: s}
		for a := range res.Addresses {
			d.addrs = append(d.addrs, string(a))
		}
		for ref := range res.Outputs {
			d.deposits = append(d.deposits, ref)
		}
		sort.Strings(d.addrs)
		sort.Strings(d.deposits)
		r := rand.New(rand.NewSource(1))
		r.Shuffle(len(d.addrs), func(i, j int) { d.addrs[i], d.addrs[j] = d.addrs[j], d.addrs[i] })
		r.Shuffle(len(d.deposits), func(i, j int) { d.deposits[i], d.deposits[j] = d.deposits[j], d.deposits[i] })
		screenBenchData = d
	})
	return screenBenchData
}

// screenCPUTime is the process's user+system CPU time.
func screenCPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runChecks runs check over keys from every goroutine and reports throughput (per wall
// second, and per CPU second: on a machine shared with other work the latter, times the
// number of cores, is the capacity of dedicated cores) and the latency of every 8th check
// (timing every check would add two clock reads to each).
func runChecks(b *testing.B, keys []string, check func(string) bool) {
	b.Helper()
	var mu sync.Mutex
	var all histogram
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), screenCPUTime()
	b.RunParallel(func(pb *testing.PB) {
		var h histogram
		i := int(seq.Add(1)) * 7919
		for pb.Next() {
			k := keys[i%len(keys)]
			i++
			if i&7 != 0 {
				if !check(k) {
					b.Error("check failed for", k)
					return
				}
				continue
			}
			t0 := time.Now()
			ok := check(k)
			h.add(uint64(time.Since(t0)))
			if !ok {
				b.Error("check failed for", k)
				return
			}
		}
		mu.Lock()
		all.merge(&h)
		mu.Unlock()
	})
	el, cpu := time.Since(start), screenCPUTime()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "checks/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "checks/cpu-s")
	b.ReportMetric(float64(all.quantile(0.5)), "p50-ns")
	b.ReportMetric(float64(all.quantile(0.99)), "p99-ns")
	b.ReportMetric(float64(all.quantile(0.999)), "p999-ns")
}

func BenchmarkScreenChecks(b *testing.B) {
	d := loadScreenBench(b)
	ctx := context.Background()
	base := make(map[graph.Address]*screen.Verdict, len(d.addrs))
	for _, a := range d.addrs {
		v, err := d.s.CheckAddress(ctx, graph.Bitcoin, a) // also warms the verdict caches
		if err != nil {
			b.Fatal(err)
		}
		base[graph.Address(a)] = v
	}
	for _, r := range d.deposits {
		if _, err := d.s.CheckDeposit(ctx, graph.Bitcoin, r); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("baseline-map", func(b *testing.B) {
		runChecks(b, d.addrs, func(k string) bool { return base[graph.Address(k)] != nil })
	})
	b.Run("address", func(b *testing.B) {
		runChecks(b, d.addrs, func(k string) bool {
			v, err := d.s.CheckAddress(ctx, graph.Bitcoin, k)
			return err == nil && v != nil
		})
	})
	b.Run("deposit", func(b *testing.B) {
		runChecks(b, d.deposits, func(k string) bool {
			v, err := d.s.CheckDeposit(ctx, graph.Bitcoin, k)
			return err == nil && v.Known
		})
	})
	// As of a date: rules are evaluated for every check (no cache), the slow path.
	asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b.Run("address-as-of", func(b *testing.B) {
		runChecks(b, d.addrs, func(k string) bool {
			v, err := d.s.CheckAddressAt(ctx, graph.Bitcoin, k, asOf)
			return err == nil && v != nil
		})
	})
}

// BenchmarkScreenUpdate measures building and swapping in the index of the generated
// history's Result — what a follower pays after each advance — next to the engine's own
// Result() on the same history ("engine-result", the baseline: the follower calls both) and
// the engine's checkpoint ("engine-checkpoint", which the follower saves after each advance).
func BenchmarkScreenUpdate(b *testing.B) {
	eng, err := benchchain.Replay(benchHistory(), trace.Haircut)
	if err != nil {
		b.Fatal(err)
	}
	res := eng.Result()
	pol, err := screen.LoadPolicy("default-policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	s, _ := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol})
	b.Run("engine-result", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = eng.Result()
		}
	})
	// A follower's engine keeps converted compositions between Results (movements never
	// change): after the first, a Result converts only what the new blocks added. Here no
	// block comes between two Results, so this is the rest of a Result's cost.
	b.Run("engine-result-kept", func(b *testing.B) {
		cp, err := eng.Checkpoint()
		if err != nil {
			b.Fatal(err)
		}
		kept, err := trace.RestoreEngine(eng.Config(), cp)
		if err != nil {
			b.Fatal(err)
		}
		kept.KeepCompositions()
		_ = kept.Result()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_ = kept.Result()
		}
	})
	// The follower also checkpoints the engine after each advance.
	b.Run("engine-checkpoint", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			data, err := eng.Checkpoint()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(data))/(1<<20), "MB")
		}
	})
	// A restart or a reorg restores the engine from a checkpoint.
	b.Run("engine-restore", func(b *testing.B) {
		data, err := eng.Checkpoint()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := trace.RestoreEngine(eng.Config(), data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("screener-update", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			s.Update(res, 1, "")
		}
	})
}
