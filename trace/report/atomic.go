package report

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// writeFileAtomic writes what fn writes to path by way of a temporary file in the same
// directory, synced to disk and then renamed over path: a reader, or a crash at any point,
// sees the previous file (or none) or the whole new one, never a torn one — a rename within
// a directory replaces the name in one step. A failed write removes its temporary file; a
// crash may leave one behind (".<name>.tmp-…"), never a partial path.
func writeFileAtomic(path string, perm os.FileMode, fn func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	done := false
	defer func() { // also when fn panics
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := fn(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	done = true
	// The rename is durable once the directory is synced. Best effort: some file systems
	// refuse to sync a directory, and the name holds a whole file either way.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
