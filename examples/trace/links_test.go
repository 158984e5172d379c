package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad declared-links file ends the run before any block is read, with one line naming
// the file, the line and the field.
func TestBadLinksFile(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ file, says string }{
		"kind":    {"link_id,kind,side,chain,ref,venue,evidence\nX,warp,in,ethereum,0xab.0,,\n", "links.csv:2: kind"},
		"side":    {"link_id,kind,side,chain,ref,venue,evidence\nX,swap,sideways,ethereum,0xab.0,,\n", "links.csv:2: side"},
		"missing": {"", "no such file"},
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, name, "links.csv")
			if tc.file != "" {
				if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errOut := runMain(t, "-q", "-out", filepath.Join(dir, name, "out"), "-links", f)
			if code != 1 || !strings.Contains(errOut, tc.says) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q: want 1 and one line saying %q", code, errOut, tc.says)
			}
			if _, err := os.Stat(filepath.Join(dir, name, "out")); !os.IsNotExist(err) {
				t.Errorf("the run wrote a report before refusing the links file")
			}
		})
	}
}
