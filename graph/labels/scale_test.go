package labels_test

import (
	"bufio"
	"compress/bzip2"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/graph/labels/internal/labelgen"
	"github.com/chaintrace/chaintrace/trace"
)

// writeActors writes n generated actor labels (package labelgen) to a file in dir.
func writeActors(tb testing.TB, dir string, n int) string {
	tb.Helper()
	p := filepath.Join(dir, "actors-"+strconv.Itoa(n)+".csv")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	if err := labelgen.WriteActorCSV(f, n); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return p
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A loaded set keeps its labels compactly: 100,000 generated actor labels (13 MB of CSV)
// cost well under 150 bytes each once loaded — the address (34 bytes) and a 32-byte record;
// the entity, documents, URLs, dates and file name are shared. (A []Label costs 350 bytes a
// label before its strings, and the loader used to hold the whole file and a copy besides.)
func TestLoadSetIsCompact(t *testing.T) {
	const n = 100_000
	p := writeActors(t, t.TempDir(), n)
	before := heapInUse()
	s, err := labels.LoadSet(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	s.Seeds(labels.SeedQuery{Nexus: labels.NexusDPRK}, time.Time{}) // builds the index too
	perLabel := float64(heapInUse()-before) / n
	runtime.KeepAlive(s)
	if s.Len() != n || s.Addresses() != n {
		t.Fatalf("%d labels on %d addresses, want %d", s.Len(), s.Addresses(), n)
	}
	t.Logf("%.0f bytes a label", perLabel)
	if perLabel > 150 {
		t.Errorf("the set holds %.0f bytes a label, want at most 150", perLabel)
	}
}

// countingReader counts the bytes read from an endless CSV body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type endless struct{ line []byte }

func (e endless) Read(p []byte) (int, error) {
	n := 0
	for n+len(e.line) <= len(p) {
		n += copy(p[n:], e.line)
	}
	if n == 0 {
		n = copy(p, e.line)
	}
	return n, nil
}

// The loaders parse as they read: a file that fails on line 3 is refused after a buffer's
// worth of reading, however long it is (here: endless), with the line named.
func TestReadStopsAtFirstBadLine(t *testing.T) {
	head := "chain,address,actor\nbitcoin," + labelgen.Block9Coinbase + ",X\nbitcoin,not-an-address,X\n"
	cr := &countingReader{r: io.MultiReader(strings.NewReader(head), endless{[]byte("bitcoin," + labelgen.Block170Payee + ",Y\n")})}
	s := labels.NewSet()
	_, err := s.Read(cr, "big.csv", labels.Options{})
	var pe *labels.ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !errors.Is(err, labels.ErrBadAddress) {
		t.Fatalf("error %v, want a bad address on big.csv:3", err)
	}
	if cr.n > 1<<20 {
		t.Errorf("read %d bytes before failing on line 3", cr.n)
	}
	if s.Len() != 0 {
		t.Errorf("a failed file left %d labels in the set", s.Len())
	}
}

// Set.ReadFile gives the same labels, warnings and errors as LoadFile + AddBatch.
func TestReadFileEqualsLoadFile(t *testing.T) {
	ctx := context.Background()
	for _, f := range []string{
		"bundled/dprk-seeds-v1.csv",
		"bundled/exchanges-v1.csv",
		"../../testdata/labels/etherscan/combinedAccountLabels.json.gz",
		"../../testdata/labels/dprk-attribution/researcher_attributed_dprk_addresses.csv",
	} {
		b, err := labels.LoadFile(ctx, f, labels.Options{})
		if err != nil {
			t.Fatal(err)
		}
		old := labels.NewSet()
		if err := old.AddBatch(b); err != nil {
			t.Fatal(err)
		}
		s := labels.NewSet()
		got, err := s.ReadFile(ctx, f, labels.Options{Cite: "cited.csv"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Labels != len(b.Labels) || len(got.Warnings) != len(b.Warnings) {
			t.Fatalf("%s: %d labels %d warnings, LoadFile %d %d", f, got.Labels, len(got.Warnings), len(b.Labels), len(b.Warnings))
		}
		for i, l := range s.Labels() {
			want := b.Labels[i]
			if l.Source.File != "cited.csv" {
				t.Fatalf("%s: label %d cites %q", f, i, l.Source.File)
			}
			l.Source.File = want.Source.File
			if !equalLabel(l, want) {
				t.Fatalf("%s: label %d\n got %+v\nwant %+v", f, i, l, want)
			}
		}
		q := labels.SeedQuery{Nexus: labels.NexusDPRK}
		s1, c1 := old.Seeds(q, time.Time{})
		s2, c2 := s.Seeds(q, time.Time{})
		if len(s1) != len(s2) || len(c1) != len(c2) {
			t.Fatalf("%s: seeds %d/%d conflicts %d/%d", f, len(s1), len(s2), len(c1), len(c2))
		}
	}
}

func equalLabel(a, b labels.Label) bool {
	return a.Chain == b.Chain && a.Address == b.Address && a.Entity == b.Entity && a.EntityID == b.EntityID &&
		a.Name == b.Name && a.Category == b.Category && a.Nexus == b.Nexus && strings.Join(a.Programs, "|") == strings.Join(b.Programs, "|") &&
		a.Incident == b.Incident && a.Role == b.Role && strings.Join(a.Tags, "|") == strings.Join(b.Tags, "|") &&
		a.Confidence == b.Confidence && a.Listed.Equal(b.Listed) && a.Withdrawn.Equal(b.Withdrawn) && a.Source == b.Source
}

// peakRSS is the process's peak resident set (VmHWM) in MB, 0 where /proc is not there.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// mainnet1to255 returns a blocks directory holding real mainnet blocks 1–255.
func mainnet1to255(tb testing.TB) string {
	tb.Helper()
	f, err := os.Open("../../testdata/bitcoin/blocks1-256.bz2")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	dir := tb.TempDir()
	out, err := os.Create(filepath.Join(dir, "blk00000.dat"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, bzip2.NewReader(f)); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkActorLabelsTrace: load n generated actor labels (LoadSet), find the labelled
// addresses mainnet blocks 1–255 touch, seed those (SeedQuery.Only) and trace the blocks
// with haircut — what examples/trace does per method. cpu-s/op is the CPU time (user and
// system) of one run; peak-RSS-MB is the process's high water mark (it includes the test binary and earlier sub-benchmarks: run one size at a
// time, -bench 'ActorLabelsTrace/1000000', for a clean figure).
func BenchmarkActorLabelsTrace(b *testing.B) {
	ctx := context.Background()
	blocks := mainnet1to255(b)
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			p := writeActors(b, b.TempDir(), n)
			cpu0, runs := cpuSeconds(), 0
			for b.Loop() {
				runs++
				s, err := labels.LoadSet(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				bf, err := bitcoin.OpenBlockFiles(ctx, blocks, bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams})
				if err != nil {
					b.Fatal(err)
				}
				present := map[graph.Address]bool{}
				var all []*graph.Block
				err = bitcoin.Stream(ctx, bf, func(blk *graph.Block) error {
					all = append(all, blk)
					for _, tx := range blk.UTXOTxs {
						for _, in := range tx.Inputs {
							present[in.Address] = present[in.Address] || s.Has(graph.Bitcoin, in.Address)
						}
						for _, out := range tx.Outputs {
							present[out.Address] = present[out.Address] || s.Has(graph.Bitcoin, out.Address)
						}
					}
					return nil
				})
				bf.Close()
				if err != nil {
					b.Fatal(err)
				}
				only := func(_ graph.Chain, a graph.Address) bool { return present[a] }
				ss, _ := s.Seeds(labels.SeedQuery{Nexus: labels.NexusDPRK, Chain: graph.Bitcoin, Only: only}, time.Time{})
				ex, _ := s.Sinks(graph.Bitcoin, labels.CategoryExchange, time.Time{})
				var seeds []trace.Seed
				for _, sd := range ss {
					seeds = append(seeds, trace.Seed{Address: sd.Address, Source: sd.Source, Origin: sd.Origin})
				}
				eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Seeds: seeds, Exchanges: ex, Params: trace.DefaultParams()})
				if err != nil {
					b.Fatal(err)
				}
				for _, blk := range all {
					if err := eng.ApplyBlock(blk); err != nil {
						b.Fatal(err)
					}
				}
				if x := eng.Result().Exposure["Example Exchange"].Asset(graph.BTC); x == nil || x.TaintedTotal.IsZero() {
					b.Fatalf("no exposure of the block-170 payee: %+v", eng.Result().Exposure)
				}
			}
			b.ReportMetric((cpuSeconds()-cpu0)/float64(runs), "cpu-s/op")
			b.ReportMetric(peakRSS(), "peak-RSS-MB")
		})
	}
}
