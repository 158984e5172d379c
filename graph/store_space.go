package graph

import (
	"errors"
	"fmt"
)

// ErrDiskFull: the store's file system has less free space than the store keeps in reserve
// (StoreOptions.MinFreeSpace), so the write was refused before it began.
var ErrDiskFull = errors.New("not enough free disk space for the store")

// defaultMinFreeSpace is the reserve the store keeps free on its file system by default.
//
// Why a reserve: badger writes its value log, memtable logs and tables through memory
// mappings of files it extends first (sparse). When the file system fills up, the write
// to the mapping does not fail with an error: the kernel sends SIGBUS and the process
// dies in a badger goroutine. So the store checks the free space before it writes (every
// block, record and window change; every batch of a bulk load) and refuses to begin while
// less than the reserve is free: the run ends with ErrDiskFull and a store that is whole
// (a refused block is not written; a refused bulk load is rolled back). The reserve covers
// what badger may write between two checks (a block, a 16 MB batch, the tables a
// compaction writes); it is a guard, not a guarantee: a crash that happens anyway is
// recovered at the next open like any other.
const defaultMinFreeSpace = 256 << 20

// checkSpace refuses a write when the file system holding the store is (nearly) full.
func (s *Store) checkSpace() error {
	if s.opts.InMemory || s.opts.MinFreeSpace < 0 {
		return nil
	}
	free, ok := freeSpace(s.opts.Dir)
	if !ok {
		return nil // unknown here: nothing to guard with
	}
	min := orDefault(s.opts.MinFreeSpace, defaultMinFreeSpace)
	if free < min {
		return fmt.Errorf("graph: store %s: %w: %s free on its file system, and the store keeps %s free (StoreOptions.MinFreeSpace); free some space or move the store, then run again: the store is whole",
			s.opts.Dir, ErrDiskFull, formatBytes(free), formatBytes(min))
	}
	return nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d KB", n>>10)
	}
}
