package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The built program runs the main job from a directory outside the repository: the
// bundled label sets are embedded, nothing is read from the clone.
func TestBinaryRunsAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and plays the bundled case")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "chaintrace-trace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin, "-q", "-out", "out")
	run.Dir = work // not the repository
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "graph/labels/bundled/dprk-seeds-v1.csv") && !strings.Contains(string(out), "SIMULATION") {
		t.Errorf("unexpected output:\n%.500s", out)
	}
	rep, err := os.ReadFile(filepath.Join(work, "out", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rep), `"graph/labels/bundled/exchanges-v1.csv"`) {
		t.Errorf("report.json does not cite the embedded exchange set")
	}
}
