// Package btcdtest builds the btcd node the Bitcoin tests run in regtest, from the module's
// pinned tool dependency (go.mod: github.com/btcsuite/btcd v0.25.0), so that no test needs
// a pre-installed node. The binary is built once per test process.
//
// A package whose tests use it removes the binary at the end of its TestMain:
//
//	func TestMain(m *testing.M) { code := m.Run(); btcdtest.Cleanup(); os.Exit(code) }
package btcdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	dir  string
	err  error
)

// Binary returns the path of a btcd binary built for this process, failing t if it cannot
// be built.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, err = os.MkdirTemp("", "chaintrace-btcd-")
		if err != nil {
			return
		}
		path = filepath.Join(dir, "btcd")
		if runtime.GOOS == "windows" {
			path += ".exe"
		}
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, statErr := os.Stat(goBin); statErr != nil {
			goBin = "go"
		}
		if out, buildErr := exec.Command(goBin, "build", "-o", path, "github.com/btcsuite/btcd").CombinedOutput(); buildErr != nil {
			err = fmt.Errorf("go build btcd: %v\n%s", buildErr, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Cleanup removes the binary Binary built, if any.
func Cleanup() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}
