package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

// TestStaleTempStores: a run removes the temporary stores of processes that have ended
// (and that nobody has open), and leaves every other directory alone.
func TestStaleTempStores(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("stale temporary stores are only recognised where flock exists")
	}
	parent := t.TempDir()
	// A process that has ended: its pid is free (until the system reuses it).
	ended := exec.Command(os.Args[0], "-test.run=^$")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := strconv.Itoa(ended.Process.Pid)
	mk := func(name string, age time.Duration) string {
		dir := filepath.Join(parent, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "000001.vlog"), make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
		if age > 0 {
			old := time.Now().Add(-age)
			if err := os.Chtimes(dir, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	stale := mk(tempStorePrefix+deadPID+"-123", 0)
	staleLegacy := mk(tempStorePrefix+"987654", time.Hour)
	mine := mk(tempStorePrefix+strconv.Itoa(os.Getpid())+"-456", time.Hour)
	freshLegacy := mk(tempStorePrefix+"555", 0)
	other := mk("something-else", time.Hour)
	// A store of an ended process that someone (here: this test) has open again.
	open := mk(tempStorePrefix+deadPID+"-789", time.Hour)
	st, err := graph.OpenStore(context.Background(), graph.StoreOptions{Dir: open})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	n, size := removeStaleTempStores(parent)
	if n != 2 || size != 2*4096 {
		t.Errorf("removed %d stores of %d bytes, want 2 of %d", n, size, 2*4096)
	}
	for dir, want := range map[string]bool{stale: false, staleLegacy: false, mine: true, freshLegacy: true, other: true, open: true} {
		_, err := os.Stat(dir)
		if exists := err == nil; exists != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(dir), exists, want)
		}
	}

	// newTempStore names the new store after this process, and reports what it removed.
	mk(tempStorePrefix+deadPID+"-321", 0)
	var status strings.Builder
	dir, err := newTempStore(parent, &ui{w: &status})
	if err != nil {
		t.Fatal(err)
	}
	if base := filepath.Base(dir); len(base) <= len(tempStorePrefix) || base[:len(tempStorePrefix)+len(strconv.Itoa(os.Getpid()))] != tempStorePrefix+strconv.Itoa(os.Getpid()) {
		t.Errorf("temporary store %s is not named after process %d", base, os.Getpid())
	}
	if want := "removed 1 temporary store(s) left in " + parent + " by runs that did not end normally (4 KB)\n"; status.String() != want {
		t.Errorf("status %q, want %q", status.String(), want)
	}
}
