package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A write that fails half-way leaves the previous file as it was and no temporary file.
func TestWriteFileAtomicFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, FileJSON)
	if err := os.WriteFile(p, []byte(`{"previous":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := writeFileAtomic(p, 0o644, func(w io.Writer) error {
		if _, err := io.WriteString(w, strings.Repeat(`{"new":`, 100_000)); err != nil { // past the buffer
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the writer's", err)
	}
	if b, _ := os.ReadFile(p); string(b) != `{"previous":true}` {
		t.Errorf("the previous file became %.40q…", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	// And a write that succeeds replaces it whole, with the permissions asked for.
	if err := writeFileAtomic(p, 0o640, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("got %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// A process killed in the middle of writing a report (here: exiting at once, with no
// deferred cleanup, after writing part of the file) leaves the previous report whole.
func TestWriteFileAtomicKilledMidWrite(t *testing.T) {
	if p := os.Getenv("REPORT_KILL_MID_WRITE"); p != "" {
		_ = writeFileAtomic(p, 0o644, func(w io.Writer) error {
			io.WriteString(w, strings.Repeat("torn ", 50_000))
			os.Exit(3) // dies mid-write
			return nil
		})
		os.Exit(0)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, FileHTML)
	prev := "<html>previous report</html>"
	if err := os.WriteFile(p, []byte(prev), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteFileAtomicKilledMidWrite$")
	cmd.Env = append(os.Environ(), "REPORT_KILL_MID_WRITE="+p)
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("child: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != prev {
		t.Errorf("after a kill mid-write the report is %.40q…, want the previous one", b)
	}
}

// WriteFiles killed mid-write — the child may write at most 512 bytes a file
// (ulimit -f 1), so writing a larger report.json kills it (SIGXFSZ) or fails — leaves the
// previous report.json whole. (Written in place, it was truncated to a torn half.)
func TestWriteFilesKilledMidWriteKeepsPrevious(t *testing.T) {
	if dir := os.Getenv("REPORT_WRITEFILES_DIR"); dir != "" {
		r := &Report{FormatVersion: 1, Title: strings.Repeat("a long title ", 400)}
		if _, err := r.WriteFiles(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		os.Exit(0)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to set a file size limit")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, FileJSON)
	prev := `{"title":"previous"}` + "\n"
	if err := os.WriteFile(p, []byte(prev), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-c", `ulimit -f 1 && exec "$0" -test.run='^TestWriteFilesKilledMidWriteKeepsPrevious$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "REPORT_WRITEFILES_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child wrote a %d-byte limit's worth and succeeded: %s", 512, out)
	}
	if b, _ := os.ReadFile(p); string(b) != prev {
		t.Errorf("after an interrupted WriteFiles report.json is %.60q…, want the previous one (child: %v %s)", b, err, out)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != FileJSON && !strings.HasPrefix(e.Name(), "."+FileJSON+".tmp-") {
			t.Errorf("unexpected file %s", e.Name())
		}
	}
}
