package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/chaintrace/chaintrace/trace/report"
)

// TestFullDisk: a store on a file system that fills up (a small tmpfs) ends the run with a
// clear error — never a crash — and once there is room the same command accepts the store,
// and writes the report an uninterrupted run writes. The store keeps 256 MB free (see
// graph.StoreOptions.MinFreeSpace), so "full" is less than that free. Mounting needs root
// on Linux; elsewhere the test is skipped.
func TestFullDisk(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux to mount a small tmpfs")
	}
	if testing.Short() {
		t.Skip("runs the program a dozen times; skipped in -short")
	}
	c := generatedChain(t, 3000)
	tmp := t.TempDir()
	half := c.tip / 2
	refHalf, refFull := t.TempDir(), t.TempDir()
	for _, r := range []struct {
		to  uint64
		out string
	}{{half, refHalf}, {0, refFull}} {
		if ch := startChild(t, tmp, c.args(r.to, "", r.out)); ch.wait(t) {
			t.Fatal("reference run killed")
		}
	}
	wantHalf := readFile(t, filepath.Join(refHalf, report.FileJSON))
	wantFull := readFile(t, filepath.Join(refFull, report.FileJSON))

	const reserve = 256 << 20
	mount := func(t *testing.T, dir string, size int64, remount bool) {
		t.Helper()
		flags := uintptr(0)
		if remount {
			flags = syscall.MS_REMOUNT
		}
		if err := syscall.Mount("tmpfs", dir, "tmpfs", flags, fmt.Sprintf("size=%dk", size>>10)); err != nil {
			if !remount {
				t.Skipf("cannot mount a tmpfs here (%v)", err)
			}
			t.Fatal(err)
		}
	}
	used := func(dir string) int64 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			t.Fatal(err)
		}
		return int64(st.Blocks-st.Bfree) * int64(st.Bsize)
	}
	// run runs the command on a store that may not fit: it must succeed with the report, or
	// end with the disk-full error. It tells which, and whether the error came mid-load.
	run := func(t *testing.T, args []string, want []byte, out string) (full, midLoad bool) {
		t.Helper()
		ch := startChild(t, tmp, args)
		err := ch.cmd.Wait()
		errOut := ch.stderr.String()
		if err == nil {
			if got := readFile(t, filepath.Join(out, report.FileJSON)); !bytes.Equal(got, want) {
				t.Fatal("the report differs from the uninterrupted run's")
			}
			return false, false
		}
		if code := ch.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(errOut, "not enough free disk space") ||
			!strings.Contains(errOut, "free some space or move the store") {
			t.Fatalf("a full disk ended the run with exit status %d and not with the disk-full error:\n%s", code, errOut)
		}
		if n := strings.Count(strings.TrimSpace(errOut), "\n"); n > 3 {
			t.Errorf("the error is not short: %d lines:\n%s", n+1, errOut)
		}
		return true, strings.Contains(errOut, "ingesting Bitcoin")
	}
	// rerun enlarges the file system and runs the command again: the store is accepted.
	rerun := func(t *testing.T, disk, store string, args []string, want []byte, out string) {
		t.Helper()
		mount(t, disk, 1<<30, true)
		if full, _ := run(t, args, want, out); full {
			t.Fatal("the disk was still full")
		}
		verifyStoreT(t, store)
	}

	// The bulk load, on file systems that are full from the start or fill up during it.
	midLoad := 0
	for _, extra := range []int64{-100 << 20, 256 << 10, 768 << 10} {
		t.Run(fmt.Sprintf("bulk load, reserve%+dk", extra>>10), func(t *testing.T) {
			disk := t.TempDir()
			mount(t, disk, reserve+extra, false)
			defer syscall.Unmount(disk, syscall.MNT_DETACH)
			store, out := filepath.Join(disk, "store"), t.TempDir()
			args := c.args(0, store, out)
			full, mid := run(t, args, wantFull, out)
			if mid {
				midLoad++
			}
			t.Logf("full %v, mid-load %v", full, mid)
			rerun(t, disk, store, args, wantFull, out)
		})
	}

	// Block-by-block ingest that fills the file system: the first half fits, the rest does
	// not. Every block is checked, so the refusal comes mid-ingest.
	t.Run("ingest", func(t *testing.T) {
		disk := t.TempDir()
		mount(t, disk, 1<<30, false)
		defer syscall.Unmount(disk, syscall.MNT_DETACH)
		store, out := filepath.Join(disk, "store"), t.TempDir()
		if full, _ := run(t, c.args(half, store, out), wantHalf, out); full {
			t.Fatal("the first half did not fit in 1 GB")
		}
		mount(t, disk, used(disk)+reserve+128<<10, true)
		args := c.args(0, store, out)
		full, mid := run(t, args, wantFull, out)
		if !full || !mid {
			t.Fatalf("the second half fitted in 128 KB (full %v, mid-ingest %v)", full, mid)
		}
		midLoad++
		rerun(t, disk, store, args, wantFull, out)
	})
	if midLoad == 0 {
		t.Error("the file system never filled up during a load")
	}
}
