package trace_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/randchain"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// sameAsInMemory holds a result whose records are on disk (Engine.RecordTo) equal to the
// in-memory result of the same replay: the same result object (JSON), the same records
// through EachOutput/EachTransfer, the same count, and the same evidence for every
// tainted output, transfer and deposit.
func sameAsInMemory(t require.TestingT, what string, mem, disk *trace.Result) {
	wj, err := json.Marshal(mem)
	require.NoError(t, err)
	gj, err := json.Marshal(disk)
	require.NoError(t, err, what)
	require.JSONEq(t, string(wj), string(gj), what)
	require.Nil(t, disk.Outputs, what)
	require.Nil(t, disk.Transfers, what)
	n, err := disk.Records()
	require.NoError(t, err, what)
	require.Equal(t, len(mem.Outputs)+len(mem.Transfers), n, what)
	var refs []string
	require.NoError(t, disk.EachOutput(func(o *trace.Output) error {
		w := mem.Outputs[o.Outpoint]
		require.NotNil(t, w, "%s: output %s", what, o.Outpoint)
		require.Equal(t, *w, *o, what)
		refs = append(refs, o.Outpoint)
		return nil
	}), what)
	require.NoError(t, disk.EachTransfer(func(x *trace.TransferTaint) error {
		w := mem.Transfers[x.ID]
		require.NotNil(t, w, "%s: transfer %s", what, x.ID)
		require.Equal(t, *w, *x, what)
		refs = append(refs, x.ID)
		return nil
	}), what)
	require.Len(t, refs, n, what)
	for _, ex := range mem.Exposure {
		for _, ax := range ex.Assets {
			for _, d := range ax.Deposits {
				refs = append(refs, d.Ref)
			}
		}
	}
	sort.Strings(refs)
	for _, ref := range refs {
		a, errA := mem.Evidence(ref)
		b, errB := disk.Evidence(ref)
		require.Equal(t, errA == nil, errB == nil, "%s: evidence %s: %v / %v", what, ref, errA, errB)
		require.Equal(t, a, b, "%s: evidence %s", what, ref)
		a, ta, _ := mem.EvidenceLargest(ref, 2)
		b, tb, _ := disk.EvidenceLargest(ref, 2)
		require.Equal(t, ta, tb, what)
		require.Equal(t, a, b, "%s: largest evidence %s", what, ref)
	}
	_, err = disk.Evidence("no such reference")
	require.ErrorIs(t, err, trace.ErrNoEvidence)
}

// TestRecordToScenarios: every one-chain vector and scenario, under each of its methods,
// gives the same result with its records on disk as in memory, and Close removes them.
func TestRecordToScenarios(t *testing.T) {
	fs, _ := filepath.Glob("../testdata/vectors/*.json")
	more, _ := filepath.Glob("../testdata/scenarios/valid/*.json")
	require.NotEmpty(t, fs)
	ran := 0
	for _, f := range append(fs, more...) {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		if sc.Chains != nil || sc.ExpectedError != "" || len(sc.Links) > 0 {
			continue // links and several chains share their records in memory (RecordTo refuses them)
		}
		for _, m := range sc.Methods {
			mem, err := sc.Run(m)
			require.NoError(t, err)
			eng, err := sc.NewEngine(m)
			require.NoError(t, err)
			dir := t.TempDir()
			require.NoError(t, eng.RecordTo(dir))
			for i := range sc.Blocks() {
				require.NoError(t, eng.ApplyBlock(&sc.Blocks()[i]))
			}
			sameAsInMemory(t, filepath.Base(f)+" "+m, mem, eng.Result())
			require.NoError(t, eng.Close())
			left, _ := os.ReadDir(dir)
			require.Empty(t, left, "Close leaves the record files behind")
			ran++
		}
	}
	require.NotZero(t, ran)
}

// TestRecordToRandomChains: the same on random UTXO and account chains, every method.
func TestRecordToRandomChains(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := randchain.UTXO(t)
		if rapid.Bool().Draw(t, "account") {
			c = randchain.Account(t)
		}
		for _, m := range trace.Methods(c.Model) {
			mem := runCase(t, c, m)
			dir, err := os.MkdirTemp("", "records-test-*")
			if err != nil {
				t.Fatal(err)
			}
			eng := engineFor(t, c, m, func(e *trace.Engine) {
				if err := e.RecordTo(dir); err != nil {
					t.Fatal(err)
				}
			})
			sameAsInMemory(t, string(c.Model)+" "+m, mem, eng.Result())
			if err := eng.Close(); err != nil {
				t.Fatal(err)
			}
			left, _ := os.ReadDir(dir)
			os.RemoveAll(dir)
			if len(left) != 0 {
				t.Fatalf("Close left %v", left)
			}
		}
	})
}

// TestRecordToGenerated: a generated history large enough for records beyond the read
// buffers, haircut and poison.
func TestRecordToGenerated(t *testing.T) {
	c := genUTXOChain(20_000, 0.5)
	for _, m := range []string{trace.Haircut, trace.Poison} {
		mem := replayT(t, c, graph.UTXO, m)
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: m, Seeds: c.seeds, Params: trace.DefaultParams()})
		require.NoError(t, err)
		require.NoError(t, eng.RecordTo(t.TempDir()))
		for _, f := range c.funding {
			require.NoError(t, eng.Fund(f.op, f.addr, graph.NewAmount(f.value)))
		}
		for i := range c.blocks {
			require.NoError(t, eng.ApplyBlock(&c.blocks[i]))
		}
		disk := eng.Result()
		require.NotZero(t, len(mem.Outputs))
		wj, _ := json.Marshal(mem)
		gj, err := json.Marshal(disk)
		require.NoError(t, err)
		require.JSONEq(t, string(wj), string(gj), m)
		k := 0
		for ref := range mem.Outputs { // a sample: every evidence walk reads the files
			if k++; k > 200 {
				break
			}
			a, _ := mem.Evidence(ref)
			b, err := disk.Evidence(ref)
			require.NoError(t, err)
			require.Equal(t, a, b, ref)
		}
		require.NoError(t, eng.Close())
	}
}

// TestRecordToConcurrentReads: a report reads one Result from several goroutines (its
// flow graph scanning the records while the diagrams walk evidence); every read gives
// what it gives alone, and the walks' shared memo and cache race with nothing (-race).
func TestRecordToConcurrentReads(t *testing.T) {
	c := genUTXOChain(20_000, 0.5)
	mem := replayT(t, c, graph.UTXO, trace.Haircut)
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Seeds: c.seeds, Params: trace.DefaultParams()})
	require.NoError(t, err)
	require.NoError(t, eng.RecordTo(t.TempDir()))
	for _, f := range c.funding {
		require.NoError(t, eng.Fund(f.op, f.addr, graph.NewAmount(f.value)))
	}
	for i := range c.blocks {
		require.NoError(t, eng.ApplyBlock(&c.blocks[i]))
	}
	disk := eng.Result()
	var refs []string
	for ref := range mem.Outputs {
		if refs = append(refs, ref); len(refs) == 300 {
			break
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range refs {
				ref := refs[(i*7+g*31)%len(refs)] // each goroutine in its own order
				want, _ := mem.Evidence(ref)
				got, err := disk.Evidence(ref)
				if err != nil || !reflect.DeepEqual(want, got) {
					errs <- fmt.Errorf("evidence of %s: %v", ref, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		n := 0
		err := disk.EachOutput(func(o *trace.Output) error {
			if w := mem.Outputs[o.Outpoint]; w == nil || !w.Tainted.Eq(&o.Tainted) {
				return fmt.Errorf("output %s differs", o.Outpoint)
			}
			n++
			return nil
		})
		if err == nil && n != len(mem.Outputs) {
			err = fmt.Errorf("%d outputs read, want %d", n, len(mem.Outputs))
		}
		if err != nil {
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A Result closes the records it shares with its engine: either may close first.
	require.NoError(t, disk.Close())
	require.ErrorIs(t, disk.EachOutput(func(*trace.Output) error { return nil }), trace.ErrRecords)
	require.NoError(t, eng.Close())
	require.NoError(t, disk.Close())
}

// TestRecordToClose: after Close the files are gone, evidence says why it cannot be
// given, and the engine takes no more blocks; RecordTo is refused once blocks were
// applied, twice, or on an engine with links.
func TestRecordToClose(t *testing.T) {
	sc, err := scenario.Load("../testdata/vectors/U02_peel_chain.json")
	require.NoError(t, err)
	eng, err := sc.NewEngine(trace.Haircut)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, eng.RecordTo(dir))
	require.ErrorIs(t, eng.RecordTo(dir), trace.ErrBadConfig)
	blocks := sc.Blocks()
	for i := range blocks[:len(blocks)-1] {
		require.NoError(t, eng.ApplyBlock(&blocks[i]))
	}
	res := eng.Result()
	var ref string
	require.NoError(t, res.EachOutput(func(o *trace.Output) error { ref = o.Outpoint; return nil }))
	require.NotEmpty(t, ref)
	_, err = res.Evidence(ref)
	require.NoError(t, err)
	files, _ := os.ReadDir(dir)
	require.Len(t, files, 1)
	_, err = eng.Checkpoint()
	require.ErrorIs(t, err, trace.ErrCheckpoint)

	require.NoError(t, eng.Close())
	require.NoError(t, eng.Close()) // twice is fine
	files, _ = os.ReadDir(dir)
	require.Empty(t, files)
	_, err = res.Evidence(ref)
	require.ErrorIs(t, err, trace.ErrRecords)
	err = eng.ApplyBlock(&blocks[len(blocks)-1])
	require.ErrorIs(t, err, trace.ErrRecords)
	require.False(t, errors.Is(err, trace.ErrNoEvidence))

	eng2, err := sc.NewEngine(trace.Haircut)
	require.NoError(t, err)
	require.NoError(t, eng2.ApplyBlock(&blocks[0]))
	require.ErrorIs(t, eng2.RecordTo(t.TempDir()), trace.ErrBadConfig)

	lk, err := scenario.Load("../testdata/vectors/L01_link_swap_eth_to_token.json")
	require.NoError(t, err)
	eng3, err := lk.NewEngine(lk.Methods[0])
	require.NoError(t, err)
	require.ErrorIs(t, eng3.RecordTo(t.TempDir()), trace.ErrBadConfig)
}

// TestRecordToWriteError: a record that cannot be written fails the block, naming the
// records, instead of a result with evidence missing.
func TestRecordToWriteError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	sc, err := scenario.Load("../testdata/vectors/U02_peel_chain.json")
	require.NoError(t, err)
	eng, err := sc.NewEngine(trace.Haircut)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, eng.RecordTo(dir))
	trace.RedirectRecords(t, eng, "/dev/full")
	var failed error
	for i := range sc.Blocks() {
		if failed = eng.ApplyBlock(&sc.Blocks()[i]); failed != nil {
			break
		}
	}
	if failed == nil { // the last block's records are still in the buffer
		_, failed = json.Marshal(eng.Result())
	}
	require.ErrorIs(t, failed, trace.ErrRecords)
	require.NoError(t, eng.Close())
}

// BenchmarkReplayUTXORecordTo is BenchmarkReplayUTXO's haircut at 10 % with the records
// on disk (Engine.RecordTo), and the Result, which then holds only the live state.
func BenchmarkReplayUTXORecordTo(b *testing.B) {
	n := benchSize()
	c := cached(fmt.Sprintf("%s-%d-%v", graph.UTXO, n, 0.10), func() *genChain { return genUTXOChain(n, 0.10) })
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Seeds: c.seeds, Params: trace.DefaultParams(), SizeHint: sizeHint(c)})
		if err != nil {
			b.Fatal(err)
		}
		if err := eng.RecordTo(b.TempDir()); err != nil {
			b.Fatal(err)
		}
		for _, f := range c.funding {
			if err := eng.Fund(f.op, f.addr, graph.NewAmount(f.value)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		for j := range c.blocks {
			if err := eng.ApplyBlock(&c.blocks[j]); err != nil {
				b.Fatal(err)
			}
		}
		_ = eng.Result()
		b.StopTimer()
		if err := eng.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(c.blocks)), "blocks")
}
