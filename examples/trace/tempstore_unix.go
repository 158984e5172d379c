//go:build unix

package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// processRunning tells whether a process with this pid exists (a zombie counts: its parent
// has not reaped it yet).
func processRunning(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// dirInUse tells whether a process holds the store's lock (graph's chaintrace.lock) or
// badger's (a flock on the directory itself).
func dirInUse(dir string) bool {
	for _, p := range []string{filepath.Join(dir, "chaintrace.lock"), dir} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		f.Close() // releases the lock if it was taken
		if err != nil {
			return true
		}
	}
	return false
}
