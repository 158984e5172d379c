package graph

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Crash safety: a child process ingests (with rewinds and checkpoint records) and is killed
// with SIGKILL at a random moment, many times over the same store directory. After every
// kill the store must reopen, verify (every block, index entry and the cursor agree), hold
// exactly a prefix of the generated chain, and hold a checkpoint record that is entirely
// one version (the chunked-record publication is atomic too).

const crashEnvDir = "CHAINTRACE_STORE_CRASH_DIR"

// crashHistory is the chain the child ingests: deterministic, so parent and child agree.
func crashHistory() *GenUTXO { return GenerateUTXO(77, 12000, 60) }

// checkpointValue is a record of 1.5 MB (three chunks) made of one repeated height.
func checkpointValue(height uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], height)
	return bytes.Repeat(b[:], 3*recordChunkSize/8-5)
}

// TestHelperIngest is the child process of TestStoreCrashMidIngest; it does nothing in a
// normal test run.
func TestHelperIngest(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("child process of TestStoreCrashMidIngest")
	}
	ctx := context.Background()
	st, err := OpenStore(ctx, StoreOptions{Dir: dir, MemTableSize: 8 << 20, BlockCacheSize: 8 << 20, IndexCacheSize: 8 << 20})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	blocks := crashHistory().Unresolved()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	fmt.Println("ready")
	for {
		h, _, ok, err := st.Tip(ctx, Bitcoin)
		if err != nil {
			fmt.Println("tip:", err)
			os.Exit(3)
		}
		next := uint64(0)
		if ok {
			next = h + 1
		}
		if next >= uint64(len(blocks)) || r.IntN(25) == 0 {
			// Churn: a rewind of a few blocks (a reorg to the same branch).
			if next > 0 {
				tip := next - 1
				to := tip - min(tip, uint64(1+r.IntN(8)))
				if err := st.Rewind(ctx, Bitcoin, to); err != nil {
					fmt.Println("rewind:", err)
					os.Exit(3)
				}
			}
			continue
		}
		b := CloneBlock(&blocks[next])
		if err := st.WriteBlock(ctx, &b); err != nil {
			fmt.Println("write:", err)
			os.Exit(3)
		}
		if next%5 == 0 {
			if err := st.PutRecord(ctx, "checkpoint", []byte("engine"), checkpointValue(next)); err != nil {
				fmt.Println("checkpoint:", err)
				os.Exit(3)
			}
		}
	}
}

func TestStoreCrashMidIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped in -short")
	}
	ctx := context.Background()
	dir := t.TempDir()
	want := crashHistory().Blocks
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 2))
	t.Logf("seed %d", seed)
	kills := 20
	maxTip := uint64(0)
	for i := 0; i < kills; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIngest$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnvDir+"="+dir)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		ready := false
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready = true
				break
			}
			t.Logf("child: %s", sc.Text())
		}
		require.True(t, ready, "child did not start")
		time.Sleep(time.Duration(10+r.IntN(250)) * time.Millisecond)
		require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred code, no flush
		err = cmd.Wait()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "the child was killed, not finished: %v", err)

		st, err := OpenStore(ctx, StoreOptions{Dir: dir, MemTableSize: 8 << 20, BlockCacheSize: 8 << 20, IndexCacheSize: 8 << 20})
		require.NoError(t, err, "reopen after kill %d", i)
		rep, err := st.Verify(ctx, Bitcoin)
		require.NoError(t, err, "verify after kill %d", i)
		n := 0
		require.NoError(t, st.Blocks(ctx, Bitcoin, 0, ^uint64(0), func(b *Block) error {
			if !reflect.DeepEqual(want[n], *b) {
				return fmt.Errorf("block %d differs from the generated one", b.Height)
			}
			n++
			return nil
		}))
		require.Equal(t, rep.Blocks, n)
		if rep.HasTip {
			require.Equal(t, uint64(n-1), rep.TipHeight)
			maxTip = max(maxTip, rep.TipHeight)
		}
		if v, err := st.GetRecord(ctx, "checkpoint", []byte("engine")); err == nil {
			h := binary.BigEndian.Uint64(v)
			require.Equal(t, checkpointValue(h), v, "checkpoint after kill %d mixes versions", i)
		} else {
			require.ErrorIs(t, err, ErrNotFound)
		}
		t.Logf("kill %d: %d blocks, %d txs, %d outpoints, %d movements", i, rep.Blocks, rep.Txs, rep.Outpoints, rep.Movements)
		require.NoError(t, st.Close())
	}
	require.NotZero(t, maxTip, "the children made progress")
}
