package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace/report"
)

// The crash harness: the program (this test binary re-executed as the trace command, see
// TestMain) is killed with SIGKILL at random points of its run — bulk load, block-by-block
// ingest, trace, report — and the same command is run again. Every run that completes must
// write the report an uninterrupted run writes (report.json byte for byte: figures, sinks,
// exposure, evidence), and the store must verify (graph.Store.Verify) after it.
//
// In CI the chain is small and there are a few dozen kills. For a long run,
// CHAINTRACE_CRASH_POINTS sets the number of kills and CHAINTRACE_CRASH_BLOCKS a Bitcoin
// Core blocks directory with mainnet framing (e.g. written by /work/shared/tools/btcgen) to
// use instead; the labels are made up the same way (the first coinbase address is the
// seed, the address most paid the exchange):
//
//	CHAINTRACE_CRASH_POINTS=300 CHAINTRACE_CRASH_BLOCKS=/tmp/chain/blocks \
//	    go test -run TestCrashRerun -timeout 0 -v ./examples/trace
//
// On a large chain a command killed once or twice and then completed costs minutes a
// kill. CHAINTRACE_CRASH_PER_COMMAND=N kills the block-by-block ingest of a kept store N
// times in a row instead, each kill landing once the rerun has begun to ingest, at a
// random point of 2/N of the uninterrupted run's ingest: a rerun goes on from the blocks
// the killed one committed, so N kills spread over the whole ingest for the price of about
// one run and N restarts. The commands a rerun starts over (the bulk load, a stream without
// a store) are killed up to five times each, at a random point after their load begins
// (reading and indexing the blk files before it writes nothing), and the three commands
// take turns.

// childArgsEnv makes the test binary run the trace command with these arguments
// (separated by \x1f) instead of the tests.
const childArgsEnv = "CHAINTRACE_TRACE_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(childArgsEnv); ok {
		os.Exit(run(context.Background(), strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is one run of the trace command in its own process.
type child struct {
	cmd    *exec.Cmd
	stderr lineWatch
	start  time.Time

	waitOnce sync.Once
	done     chan struct{} // closed when the process has ended (exited)
	waitErr  error
}

// exited returns a channel closed when the child has ended.
func (c *child) exited() <-chan struct{} {
	c.waitOnce.Do(func() {
		c.done = make(chan struct{})
		go func() {
			c.waitErr = c.cmd.Wait()
			close(c.done)
		}()
	})
	return c.done
}

// lineWatch collects a child's stderr and tells when a given text has appeared in it.
type lineWatch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	watch string
	seen  chan struct{}
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.seen != nil && strings.Contains(w.buf.String(), w.watch) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

func (w *lineWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// when returns a channel closed once text has appeared (set before the child starts).
func (w *lineWatch) when(text string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.watch, w.seen = text, make(chan struct{})
	return w.seen
}

func startChild(t *testing.T, tmp string, args []string) *child {
	t.Helper()
	return startChildWatching(t, tmp, args, "", nil)
}

// startChildWatching starts a child and, if watch is set, sets *seen to a channel closed
// when its stderr shows watch.
func startChildWatching(t *testing.T, tmp string, args []string, watch string, seen *<-chan struct{}) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0])}
	if watch != "" {
		*seen = c.stderr.when(watch)
	}
	c.cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join(args, "\x1f"), "TMPDIR="+tmp)
	c.cmd.Stderr = &c.stderr
	c.start = time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// wait returns whether the child was killed (rather than ending by itself) and fails the
// test if it ended by itself with an error.
func (c *child) wait(t *testing.T) (killed bool) {
	t.Helper()
	<-c.exited()
	err := c.waitErr
	if err == nil {
		return false
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	t.Fatalf("%v failed: %v\n%s", c.cmd.Env[len(c.cmd.Env)-2], err, c.stderr.String())
	return false
}

// crashChain is the data of a crash run: a blocks directory, its network and labels.
type crashChain struct {
	blocks, net, labels string
	tip                 uint64
}

// generatedChain writes a small regtest chain (chains/bitcoin/blockgen) and its labels.
func generatedChain(t *testing.T, txs int) crashChain {
	dir := t.TempDir()
	blocks := filepath.Join(dir, "blocks")
	_, err := blockgen.Generate(context.Background(), blocks, blockgen.Options{Net: &chaincfg.RegressionNetParams, Seed: 19, Txs: txs, TxsPerBlock: 40, Addresses: 120})
	if err != nil {
		t.Fatal(err)
	}
	return chainWithLabels(t, blocks, "regtest", filepath.Join(dir, "labels.csv"))
}

// chainWithLabels writes labels for the chain in blocks (invented attributions): the first
// coinbase address is the seed, the address most paid besides the "exchange".
func chainWithLabels(t *testing.T, blocks, net, labelFile string) crashChain {
	ctx := context.Background()
	params, err := bitcoin.ParseNetwork(net)
	if err != nil {
		t.Fatal(err)
	}
	bf, err := bitcoin.OpenBlockFiles(ctx, blocks, bitcoin.BlockFilesOptions{Net: params})
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	c := crashChain{blocks: blocks, net: net, labels: labelFile}
	var seed, busiest graph.Address
	count := map[graph.Address]int{}
	err = bf.Blocks(ctx, func(b *graph.Block) error {
		c.tip = b.Height
		for _, tx := range b.UTXOTxs {
			for _, o := range tx.Outputs {
				if b.Height == 1 && tx.Coinbase && seed == "" {
					seed = o.Address
				}
				if !tx.Coinbase {
					count[o.Address]++
				}
			}
		}
		return nil
	})
	if err != nil || seed == "" {
		t.Fatalf("reading the blocks: %v (seed %q)", err, seed)
	}
	for a, n := range count {
		if a != seed && (busiest == "" || n > count[busiest] || (n == count[busiest] && a < busiest)) {
			busiest = a
		}
	}
	err = os.WriteFile(c.labels, []byte("chain,address,entity,category,nexus,incident,confidence,source\n"+
		"bitcoin,"+string(seed)+",Generated actor (invented),actor,DPRK,generated,ownership,test: invented\n"+
		"bitcoin,"+string(busiest)+",Generated exchange (invented),exchange,,,ownership,test: invented\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// args is the command: heights up to `to` (all if 0), with a store (a temporary one if
// empty) and an output directory.
func (c crashChain) args(to uint64, store, out string) []string {
	a := []string{"-btc-blocks", c.blocks, "-btc-net", c.net, "-labels", c.labels, "-out", out}
	if to > 0 {
		a = append(a, "-to", strconv.FormatUint(to, 10))
	}
	if store != "" {
		a = append(a, "-store", store)
	}
	return a
}

// verifyStoreT opens dir and checks it (graph.Store.Verify), and that it was left whole.
func verifyStoreT(t *testing.T, dir string) graph.VerifyReport {
	t.Helper()
	st, err := graph.OpenStore(context.Background(), graph.StoreOptions{Dir: dir})
	if err != nil {
		t.Fatalf("open the store after a completed run: %v", err)
	}
	defer st.Close()
	if r, ok := st.Recovered(); ok {
		t.Errorf("a completed run left something to recover: %s", r)
	}
	rep, err := st.Verify(context.Background(), graph.Bitcoin)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

// crashStats counts what the kills hit.
type crashStats struct {
	kills, finishedFirst, rollbacks, staleRemoved, runs int
	phases                                              map[string]int // kills by the phase they hit
}

// phaseAt names the phase a killed run was in, from the last status line it wrote.
func phaseAt(stderr, loading string) string {
	switch {
	case strings.Contains(stderr, "traced "):
		return "report"
	case strings.Contains(stderr, "ingested "):
		return "trace"
	case strings.Contains(stderr, "ingesting Bitcoin"), strings.Contains(stderr, "reading Bitcoin blocks"):
		return loading
	}
	return "start"
}

func TestCrashRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped in -short")
	}
	points := 30
	if v := os.Getenv("CHAINTRACE_CRASH_POINTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CHAINTRACE_CRASH_POINTS=%q: want a positive number", v)
		}
		points = n
	}
	var c crashChain
	if dir := os.Getenv("CHAINTRACE_CRASH_BLOCKS"); dir != "" {
		c = chainWithLabels(t, dir, "mainnet", filepath.Join(t.TempDir(), "labels.csv"))
	} else {
		c = generatedChain(t, 3000)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CHAINTRACE_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	perCommand := 0
	if v := os.Getenv("CHAINTRACE_CRASH_PER_COMMAND"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CHAINTRACE_CRASH_PER_COMMAND=%q: want a positive number", v)
		}
		perCommand = n
	}
	r := rand.New(rand.NewPCG(seed, 19))
	t.Logf("seed %d (CHAINTRACE_CRASH_SEED), %d kill points, chain of %d blocks", seed, points, c.tip)
	half := c.tip / 2
	tmp := t.TempDir() // the children's TMPDIR: their temporary stores and sorted runs

	// The references: the first half, then the whole chain on the same store (bulk load,
	// then block-by-block ingest), and the whole chain without a store (the blk files
	// streamed into the trace). Both whole-chain reports must be the same.
	refStore, refHalf, refFull, refFresh := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	// timed runs a reference: its duration and when its load began (the status line).
	timed := func(args []string, watch string) (dur, loadAt time.Duration) {
		var begins <-chan struct{}
		ch := startChildWatching(t, tmp, args, watch, &begins)
		loadAt = -1
		select {
		case <-begins:
			loadAt = time.Since(ch.start)
		case <-ch.exited():
		}
		if ch.wait(t) {
			t.Fatal("the reference run was killed")
		}
		dur = time.Since(ch.start)
		if loadAt < 0 {
			loadAt = 0
		}
		return dur, loadAt
	}
	durHalf, loadHalf := timed(c.args(half, refStore, refHalf), "ingesting Bitcoin")
	durFull, loadFull := timed(c.args(0, refStore, refFull), "ingesting Bitcoin")
	durFresh, loadFresh := timed(c.args(0, "", refFresh), "reading Bitcoin blocks")
	wantHalf := readFile(t, filepath.Join(refHalf, report.FileJSON))
	wantFull := readFile(t, filepath.Join(refFull, report.FileJSON))
	if got := readFile(t, filepath.Join(refFresh, report.FileJSON)); !bytes.Equal(got, wantFull) {
		t.Fatal("the whole chain's report differs between a stream without a store and a bulk load followed by ingest")
	}
	verifyStoreT(t, refStore)
	t.Logf("uninterrupted runs: first half %s, the rest %s, the whole chain streamed without a store %s (their loads began after %s, %s, %s)",
		durHalf, durFull, durFresh, loadHalf, loadFull, loadFresh)

	st := crashStats{phases: map[string]int{}}
	// killRuns runs args until one run completes, killing the first `kills` runs at random
	// points of the uninterrupted run's duration; it checks the report and the store.
	killRuns := func(args []string, kills int, dur, loadAt time.Duration, want []byte, store, out, loading string) {
		t.Helper()
		for i := 0; ; i++ {
			// Every other first kill of a command waits for its load to begin (the event)
			// and lands at a random point of the next 200 ms; the others land at a random
			// point of the whole run.
			var loadBegins <-chan struct{}
			// A run without -store streams the blk files into the trace (no store).
			watch := "ingesting Bitcoin"
			if store == "" {
				watch = "reading Bitcoin blocks"
			}
			ch := startChildWatching(t, tmp, args, watch, &loadBegins)
			if i < kills && perCommand > 0 {
				// After the load begins, at a random point of what the reference spent
				// from there (2/N of it for the ingest, which a rerun resumes).
				span := max(dur-loadAt, time.Millisecond)
				if loading == "ingest" {
					span = max(2*span/time.Duration(kills), time.Millisecond)
				}
				select {
				case <-loadBegins:
					select {
					case <-time.After(time.Duration(r.Int64N(int64(span)))):
					case <-ch.exited():
					}
				case <-ch.exited():
				case <-time.After(10 * time.Minute): // a hang guard
					t.Fatalf("the run did not start loading: %s", ch.stderr.String())
				}
				_ = ch.cmd.Process.Signal(syscall.SIGKILL)
			} else if i < kills {
				if i == 0 && r.IntN(2) == 0 {
					select {
					case <-loadBegins:
					case <-time.After(2 * time.Minute): // a hang guard
						t.Fatalf("the run did not start loading: %s", ch.stderr.String())
					}
					time.Sleep(time.Duration(r.Int64N(int64(200 * time.Millisecond))))
				} else {
					time.Sleep(time.Until(ch.start.Add(time.Duration(r.Int64N(int64(dur))))))
				}
				_ = ch.cmd.Process.Signal(syscall.SIGKILL)
			}
			killed := ch.wait(t)
			errOut := ch.stderr.String()
			st.runs++
			if strings.Contains(errOut, "not a chaintrace store") || strings.Contains(errOut, "incompatible") {
				t.Fatalf("a rerun refused the store a crash left: %s", errOut)
			}
			st.rollbacks += strings.Count(errOut, "discarded an interrupted bulk load")
			st.staleRemoved += strings.Count(errOut, "removed 1 temporary store")
			if i < kills {
				st.kills++
				if !killed {
					st.finishedFirst++
				} else {
					st.phases[phaseAt(errOut, loading)]++
				}
				continue
			}
			if killed {
				t.Fatal("a run that was not to be killed was killed")
			}
			if got := readFile(t, filepath.Join(out, report.FileJSON)); !bytes.Equal(got, want) {
				t.Fatalf("after %d kill(s) the report differs from the uninterrupted run's (stderr: %s)", kills, errOut)
			}
			if store != "" {
				rep := verifyStoreT(t, store)
				if testing.Verbose() && os.Getenv("CHAINTRACE_CRASH_POINTS") != "" {
					t.Logf("%d kill(s) so far; this command completed after %d: same report, store verified (%d blocks, %d movements)", st.kills, kills, rep.Blocks, rep.Movements)
				}
			}
			return
		}
	}

	for seq := 0; st.kills < points; {
		left := points - st.kills
		kind := r.IntN(3)
		if perCommand > 0 {
			kind = seq % 2 * 2 // alternately: the store's two commands, then the stream
		}
		seq++
		switch kind {
		case 0, 1: // with -store: the first half (bulk load), then the rest (ingest)
			store, out := t.TempDir(), t.TempDir()
			k1, k2 := min(left, 1+r.IntN(3)), 0
			if perCommand > 0 {
				k1 = min(left, perCommand, 5)
			}
			if left > k1 {
				k2 = min(left-k1, 1+r.IntN(3))
				if perCommand > 0 {
					k2 = min(left-k1, perCommand)
				}
			}
			killRuns(c.args(half, store, out), k1, durHalf, loadHalf, wantHalf, store, out, "bulk load")
			killRuns(c.args(0, store, out), k2, durFull, loadFull, wantFull, store, out, "ingest")
		case 2: // without -store: the blocks stream into the trace, whose records a kill leaves behind
			out := t.TempDir()
			k := min(left, 1+r.IntN(2))
			if perCommand > 0 {
				k = min(left, perCommand, 5)
			}
			killRuns(c.args(0, "", out), k, durFresh, loadFresh, wantFull, "", out, "stream")
			// The completed run removed the temporary directories of the killed ones (and its own).
			if left, _ := filepath.Glob(filepath.Join(tmp, tempStorePrefix+"*")); len(left) > 0 {
				t.Fatalf("temporary directories left after a completed run: %v", left)
			}
		}
	}
	t.Logf("%d kills in %d runs: %d runs ended before their kill; kills by phase %v; %d interrupted bulk loads rolled back by the rerun, %d stale temporary stores removed",
		st.kills, st.runs, st.finishedFirst, st.phases, st.rollbacks, st.staleRemoved)
	if st.phases["bulk load"] == 0 {
		t.Error("no kill interrupted a bulk load: the kill points do not cover it")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
