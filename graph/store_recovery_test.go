package graph

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

// Crash recovery of bulk loads (store_intent.go): whatever a crash during a bulk load
// leaves, the next OpenStore opens it, rolls the load back to the store before it (window
// starts kept), says so, and a new load then gives the store an uninterrupted load gives.

const bulkCrashEnvDir = "CHAINTRACE_STORE_BULK_CRASH_DIR"

// bulkCrashHistory is the chain the bulk-load child loads, from height bulkCrashFrom on.
func bulkCrashHistory() []Block { return GenerateUTXO(91, 40000, 200).Unresolved()[bulkCrashFrom:] }

const bulkCrashFrom = 3

var bulkCrashOpts = StoreOptions{MemTableSize: 8 << 20, BlockCacheSize: 8 << 20, IndexCacheSize: 8 << 20}

func bulkCrashOpen(ctx context.Context, dir string) (*Store, error) {
	o := bulkCrashOpts
	o.Dir = dir
	return OpenStore(ctx, o)
}

// bulkLoadAll loads blocks into st (with a budget small enough to spill sorted runs) and
// calls step before each phase.
func bulkLoadAll(ctx context.Context, st *Store, blocks []Block, tmp string, step func(string)) error {
	if err := st.SetWindowStart(ctx, Bitcoin, bulkCrashFrom); err != nil {
		return err
	}
	if err := st.SetWindowStart(ctx, Ethereum, 42); err != nil {
		return err
	}
	bl, err := st.NewBulkLoader(ctx, BulkOptions{TempDir: tmp, MemoryBudget: 1 << 20})
	if err != nil {
		return err
	}
	for i := range blocks {
		b := CloneBlock(&blocks[i])
		if err := bl.Add(ctx, &b); err != nil {
			bl.Abort()
			return err
		}
		if i == 0 {
			step("adding")
		}
	}
	step("finishing")
	_, err = bl.Finish(ctx)
	return err
}

// TestHelperBulkLoad is the child process of TestStoreBulkLoadCrash; it does nothing in a
// normal test run. It opens the store (printing what was recovered), and loads the history
// unless the store holds it already.
func TestHelperBulkLoad(t *testing.T) {
	dir := os.Getenv(bulkCrashEnvDir)
	if dir == "" {
		t.Skip("child process of TestStoreBulkLoadCrash")
	}
	ctx := context.Background()
	st, err := bulkCrashOpen(ctx, dir)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	if r, ok := st.Recovered(); ok {
		fmt.Println("recovered:", r)
	}
	if _, _, ok, err := st.Tip(ctx, Bitcoin); err != nil || ok {
		fmt.Println("loaded already", err)
		os.Exit(0)
	}
	err = bulkLoadAll(ctx, st, bulkCrashHistory(), os.Getenv("CHAINTRACE_STORE_BULK_CRASH_TMP"), func(s string) { fmt.Println(s) })
	if err != nil {
		fmt.Println("load:", err)
		os.Exit(3)
	}
	fmt.Println("loaded")
	os.Exit(0)
}

// checkRolledBackOrLoaded checks a store after a crash: either the load finished (the
// whole history, verified) or it was rolled back (no block, both window starts kept).
func checkRolledBackOrLoaded(t *testing.T, st *Store, want []Block) (loaded bool) {
	t.Helper()
	ctx := context.Background()
	rep, err := st.Verify(ctx, Bitcoin)
	require.NoError(t, err)
	for c, h := range map[Chain]uint64{Bitcoin: bulkCrashFrom, Ethereum: 42} {
		got, ok, err := st.WindowStart(ctx, c)
		require.NoError(t, err)
		require.True(t, ok, "window start of %s kept", c)
		require.Equal(t, h, got)
	}
	if !rep.HasTip {
		require.Zero(t, rep.Blocks)
		return false
	}
	require.Equal(t, len(want), rep.Blocks)
	require.Equal(t, want[len(want)-1].Height, rep.TipHeight)
	return true
}

func TestStoreBulkLoadCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped in -short")
	}
	ctx := context.Background()
	dir, tmp := t.TempDir(), t.TempDir()
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 3))
	t.Logf("seed %d", seed)
	want := bulkCrashHistory()

	// The reference: an uninterrupted load, also timed to spread the kills over the load.
	ref, err := bulkCrashOpen(ctx, t.TempDir())
	require.NoError(t, err)
	start := time.Now()
	var phases []time.Duration
	require.NoError(t, bulkLoadAll(ctx, ref, want, tmp, func(string) { phases = append(phases, time.Since(start)) }))
	total := time.Since(start)
	refDump := dump(t, ref)
	require.NoError(t, ref.Close())
	t.Logf("uninterrupted load: %s (phases at %v)", total, phases)

	kills, recovered, finished := 10, 0, 0
	for i := 0; i < kills; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBulkLoad$", "-test.count=1")
		cmd.Env = append(os.Environ(), bulkCrashEnvDir+"="+dir, "CHAINTRACE_STORE_BULK_CRASH_TMP="+tmp)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		// Half of the kills land while blocks are added, half once Finish has begun.
		waitFor := "adding"
		if i%2 == 1 {
			waitFor = "finishing"
		}
		seen := false
		for !seen && sc.Scan() {
			line := sc.Text()
			seen = line == waitFor
			if !seen && line != "adding" {
				t.Logf("child: %s", line)
			}
		}
		require.True(t, seen, "child did not reach %q", waitFor)
		// A random point of the phase (as long as in the uninterrupted load).
		phase := phases[1] - phases[0]
		if waitFor == "finishing" {
			phase = total - phases[1]
		}
		time.Sleep(time.Duration(r.Int64N(int64(phase) + 1)))
		go io.Copy(io.Discard, out)
		_ = cmd.Process.Kill()
		// The child may have finished first (then the kill found no process).
		if err = cmd.Wait(); err != nil {
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "kill %d: %v", i, err)
			require.Equal(t, -1, exit.ExitCode(), "kill %d: the child failed: %v", i, err)
		}

		st, err := bulkCrashOpen(ctx, dir)
		require.NoError(t, err, "reopen after kill %d", i)
		if _, ok := st.Recovered(); ok {
			recovered++
		}
		if checkRolledBackOrLoaded(t, st, want) {
			finished++
			require.Equal(t, refDump, dump(t, st))
			require.NoError(t, st.Close())
			require.NoError(t, os.RemoveAll(dir))
			continue
		}
		// Rolled back by this open or by the child's: closed, the next child loads again.
		require.NoError(t, st.Close())
	}
	// The last run is not interrupted, and gives the reference store.
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBulkLoad$", "-test.count=1")
	cmd.Env = append(os.Environ(), bulkCrashEnvDir+"="+dir, "CHAINTRACE_STORE_BULK_CRASH_TMP="+tmp)
	outb, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", outb)
	st, err := bulkCrashOpen(ctx, dir)
	require.NoError(t, err)
	require.True(t, checkRolledBackOrLoaded(t, st, want))
	require.Equal(t, refDump, dump(t, st))
	require.NoError(t, st.Close())
	t.Logf("%d kills: %d interrupted loads rolled back, %d loads finished before the kill", kills, recovered, finished)
	require.NotZero(t, recovered, "no kill interrupted a load")
}

// copyDir copies the regular files of src into a new directory: what a crash at that moment
// would leave, or close to it. Holes stay holes (badger's value log and memtable files are
// mostly preallocated space).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		require.NoError(t, err)
		out, err := os.Create(filepath.Join(dst, e.Name()))
		require.NoError(t, err)
		// Copy the data extents only (Linux's SEEK_DATA, SEEK_HOLE).
		fi, err := in.Stat()
		require.NoError(t, err)
		size := fi.Size()
		if runtime.GOOS != "linux" {
			_, err = io.Copy(out, in)
			require.NoError(t, err)
			size = 0
		}
		for off := int64(0); off < size; {
			data, err := in.Seek(off, 3)
			if err != nil {
				break // ENXIO: no data past off
			}
			hole, err := in.Seek(data, 4)
			require.NoError(t, err)
			_, err = in.Seek(data, io.SeekStart)
			require.NoError(t, err)
			_, err = out.Seek(data, io.SeekStart)
			require.NoError(t, err)
			_, err = io.CopyN(out, in, hole-data)
			require.NoError(t, err)
			off = hole
		}
		require.NoError(t, out.Truncate(fi.Size()))
		require.NoError(t, out.Close())
		require.NoError(t, in.Close())
	}
	return dst
}

// TestStoreBulkLoadSnapshots copies the store's directory at each phase of a bulk load (as
// a crash would leave it) and opens every copy.
func TestStoreBulkLoadSnapshots(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := bulkCrashOpen(ctx, dir)
	require.NoError(t, err)
	want := bulkCrashHistory()[:60]
	var snaps []string
	require.NoError(t, bulkLoadAll(ctx, st, want, t.TempDir(), func(string) { snaps = append(snaps, copyDir(t, dir)) }))
	refDump := dump(t, st)
	require.NoError(t, st.Close())
	require.Len(t, snaps, 2)
	for i, snap := range snaps {
		_, err := os.Stat(filepath.Join(snap, bulkIntentFile))
		require.NoError(t, err, "snapshot %d holds the intent record", i)
		st, err := bulkCrashOpen(ctx, snap)
		require.NoError(t, err, "snapshot %d", i)
		r, ok := st.Recovered()
		require.True(t, ok)
		require.True(t, r.BulkLoadDiscarded)
		require.Equal(t, Bitcoin, r.Chain)
		require.Equal(t, os.Getpid(), r.PID)
		require.Contains(t, r.String(), "discarded an interrupted bulk load of bitcoin")
		require.False(t, checkRolledBackOrLoaded(t, st, want))
		_, err = os.Stat(filepath.Join(snap, bulkIntentFile))
		require.ErrorIs(t, err, fs.ErrNotExist, "the intent record is removed once rolled back")
		// A new load gives the store an uninterrupted one gives.
		require.NoError(t, bulkLoadAll(ctx, st, want, t.TempDir(), func(string) {}))
		require.Equal(t, refDump, dump(t, st))
		require.NoError(t, st.Close())
		// And the next open has nothing to recover.
		st, err = bulkCrashOpen(ctx, snap)
		require.NoError(t, err)
		_, ok = st.Recovered()
		require.False(t, ok)
		require.NoError(t, st.Close())
	}
	// The finished load removed its intent record.
	_, err = os.Stat(filepath.Join(dir, bulkIntentFile))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// TestStoreRecoveryIsRedone: an intent record found beside any database state (here a
// complete store, as when a crash hits the recovery after it rewrote part of the database)
// rolls the store back to the records the intent holds.
func TestStoreRecoveryIsRedone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := bulkCrashOpen(ctx, dir)
	require.NoError(t, err)
	require.NoError(t, st.SetWindowStart(ctx, Bitcoin, bulkCrashFrom))
	require.NoError(t, st.SetWindowStart(ctx, Ethereum, 42))
	var before []kvPair
	require.NoError(t, st.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			before = append(before, kvPair{Key: it.Item().KeyCopy(nil), Value: v})
		}
		return nil
	}))
	writeAll(t, st, bulkCrashHistory()[:30])
	require.NoError(t, st.Close())
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, writeIntent(dir, &bulkIntent{Chain: Bitcoin, PID: 4242, Started: started, Before: before}))
	// A stale temporary intent record (a crash while it was written) is ignored.
	require.NoError(t, os.WriteFile(filepath.Join(dir, bulkIntentFile+".tmp"), []byte("partial"), 0o644))

	st, err = bulkCrashOpen(ctx, dir)
	require.NoError(t, err)
	r, ok := st.Recovered()
	require.True(t, ok)
	require.Equal(t, Recovery{BulkLoadDiscarded: true, Chain: Bitcoin, Started: started, PID: 4242}, Recovery{
		BulkLoadDiscarded: r.BulkLoadDiscarded, Chain: r.Chain, Started: r.Started.UTC(), PID: r.PID})
	require.Equal(t, "discarded an interrupted bulk load of bitcoin (started 2026-01-02T03:04:05Z by process 4242); the store is as it was before that load, which starts again from the beginning", r.String())
	require.False(t, checkRolledBackOrLoaded(t, st, nil))
	require.NoError(t, st.Close())
	for _, f := range []string{bulkIntentFile, bulkIntentFile + ".tmp"} {
		_, err = os.Stat(filepath.Join(dir, f))
		require.ErrorIs(t, err, fs.ErrNotExist, f)
	}

	t.Run("damaged intent record", func(t *testing.T) {
		dir := t.TempDir()
		st, err := bulkCrashOpen(ctx, dir)
		require.NoError(t, err)
		require.NoError(t, st.Close())
		b := encodeIntent(&bulkIntent{Chain: Bitcoin, Before: before})
		b[len(b)-6] ^= 0xff
		require.NoError(t, os.WriteFile(filepath.Join(dir, bulkIntentFile), b, 0o644))
		_, err = bulkCrashOpen(ctx, dir)
		require.ErrorIs(t, err, ErrCorruptStore)
		require.ErrorContains(t, err, "remove the directory")
	})
}

// TestStoreBulkLoadWithoutIntent: a load interrupted by an earlier build, which recorded no
// intent, left blocks and indexes without a format marker. It is recognised as the store's
// own and discarded, never reported as another program's data.
func TestStoreBulkLoadWithoutIntent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := bulkCrashOpen(ctx, dir)
	require.NoError(t, err)
	require.NoError(t, bulkLoadAll(ctx, st, bulkCrashHistory()[:40], t.TempDir(), func(string) {}))
	require.NoError(t, st.Close())
	db, err := badger.Open(badger.DefaultOptions(dir).WithLoggingLevel(badger.ERROR))
	require.NoError(t, err)
	require.NoError(t, db.Update(func(txn *badger.Txn) error {
		for _, k := range [][]byte{metaFormatKey, cursorKey(1), cursorKey(2)} {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())
	st, err = bulkCrashOpen(ctx, dir)
	require.NoError(t, err)
	r, ok := st.Recovered()
	require.True(t, ok)
	require.True(t, r.NoIntent)
	require.Contains(t, r.String(), "earlier chaintrace build")
	_, _, ok, err = st.Tip(ctx, Bitcoin)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, st.Close())
}

func TestStoreInUse(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := bulkCrashOpen(ctx, dir)
	require.NoError(t, err)
	_, err = bulkCrashOpen(ctx, dir)
	require.ErrorIs(t, err, ErrStoreInUse)
	require.ErrorContains(t, err, "process "+strconv.Itoa(os.Getpid()))
	require.NoError(t, st.Close())
	st, err = bulkCrashOpen(ctx, dir)
	require.NoError(t, err, "Close releases the lock")
	require.NoError(t, st.Close())
}

// TestStoreDiskFull: below the free-space reserve every kind of write is refused with
// ErrDiskFull before it begins, and the store stays whole. (examples/trace's TestFullDisk
// fills a real tmpfs.)
func TestStoreDiskFull(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("free space is measured on Linux only")
	}
	ctx := context.Background()
	dir := t.TempDir()
	blocks := bulkCrashHistory()[:20]
	st, err := bulkCrashOpen(ctx, dir)
	require.NoError(t, err)
	require.NoError(t, st.SetWindowStart(ctx, Bitcoin, bulkCrashFrom))
	writeAll(t, st, blocks[:10])
	require.NoError(t, st.Close())

	o := bulkCrashOpts
	o.Dir, o.MinFreeSpace = dir, 1<<62 // more than any disk has free
	st, err = OpenStore(ctx, o)
	require.NoError(t, err, "a full disk does not keep a store from opening (reading)")
	b := CloneBlock(&blocks[10])
	for what, err := range map[string]error{
		"write block":  st.WriteBlock(ctx, &b),
		"rewind":       st.Rewind(ctx, Bitcoin, 5),
		"window start": st.SetWindowStart(ctx, Ethereum, 1),
		"record":       st.PutRecord(ctx, "ns", []byte("k"), []byte("v")),
	} {
		require.ErrorIs(t, err, ErrDiskFull, what)
		require.ErrorContains(t, err, "free some space or move the store", what)
	}
	rep, err := st.Verify(ctx, Bitcoin)
	require.NoError(t, err)
	require.Equal(t, blocks[9].Height, rep.TipHeight, "nothing was written")
	require.NoError(t, st.Close())

	// A bulk load is refused before it records its intent or drops anything.
	dir = t.TempDir()
	o.Dir = dir
	st, err = OpenStore(ctx, o)
	require.NoError(t, err)
	bl, err := st.NewBulkLoader(ctx, BulkOptions{TempDir: t.TempDir()})
	require.NoError(t, err)
	b = CloneBlock(&blocks[0])
	require.ErrorIs(t, bl.Add(ctx, &b), ErrDiskFull)
	_, err = bl.Finish(ctx)
	require.Error(t, err)
	_, err = os.Stat(filepath.Join(dir, bulkIntentFile))
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoError(t, st.Close())
}
