package trace

import (
	"bufio"
	"os"
	"testing"
)

// RedirectRecords makes e's record writes go to path (such as /dev/full), to test how a
// failed write is reported.
func RedirectRecords(t testing.TB, e *Engine, path string) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	l := e.ev.movs.log
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recW = bufio.NewWriterSize(f, 64)
}
