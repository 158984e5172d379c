package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Temporary stores. A run without -store keeps its store in a temporary directory and
// removes it at the end; a run that is killed (SIGKILL, a crash, the machine stopping)
// cannot, and its store (gigabytes on a real chain) stays behind. So the directory is named
// after the run's process — chaintrace-store-<pid>-<random> — and every run first removes
// the temporary stores of processes that no longer run and that nobody has open.

const tempStorePrefix = "chaintrace-store-"

// legacyGrace protects a temporary store named without a pid (by an earlier build) that is
// being created: it is only removed once it is older than this and nobody has it open.
const legacyGrace = 10 * time.Minute

// newTempStore removes the stale temporary stores in parent (os.TempDir() if empty) and
// creates this run's.
func newTempStore(parent string, u *ui) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	if n, size := removeStaleTempStores(parent); n > 0 {
		u.status("removed %d temporary store(s) left in %s by runs that did not end normally (%s)", n, parent, humanBytes(size))
	}
	return os.MkdirTemp(parent, tempStorePrefix+strconv.Itoa(os.Getpid())+"-")
}

// removeStaleTempStores removes the temporary stores in parent whose process has ended and
// that no process has open, and returns how many it removed and their size.
func removeStaleTempStores(parent string) (n int, size int64) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, tempStorePrefix) {
			continue
		}
		dir := filepath.Join(parent, name)
		rest := name[len(tempStorePrefix):]
		if pidText, _, ok := strings.Cut(rest, "-"); ok {
			pid, err := strconv.Atoi(pidText)
			if err != nil || pid <= 0 || processRunning(pid) {
				continue
			}
		} else {
			// An earlier build's name, without a pid.
			info, err := e.Info()
			if err != nil || time.Since(info.ModTime()) < legacyGrace {
				continue
			}
		}
		if dirInUse(dir) {
			continue
		}
		s := dirSize(dir)
		if err := os.RemoveAll(dir); err == nil {
			n++
			size += s
		}
	}
	return n, size
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d KB", (n+1023)/1024)
	}
}
