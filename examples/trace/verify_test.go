package main

import (
	"bytes"
	"compress/bzip2"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The store check through the built program, run from a directory outside the repository:
// a store the program built is consistent (exit 0, a summary per chain); a damaged one
// exits 1 with what to do (remove it and ingest again); a directory with no store, or
// -verify-store with other flags, is refused.
func TestVerifyStoreBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "trace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Real mainnet blocks 1–255 and two labels of them, in the work directory.
	if err := os.Mkdir(filepath.Join(work, "blocks"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../testdata/bitcoin/blocks1-256.bz2")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "blocks", "blk00000.dat"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	csv := "chain,address,actor,category,nexus\n" +
		"bitcoin,12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S,LAZARUS GROUP,actor,DPRK\n" +
		"bitcoin,1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3,Example Exchange,exchange,\n"
	if err := os.WriteFile(filepath.Join(work, "labels.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, o.String(), e.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), o.String(), e.String()
		}
		t.Fatal(err)
		return 0, "", ""
	}
	if code, _, e := run("-btc-blocks", "blocks", "-to", "255", "-labels", "labels.csv", "-store", "store", "-out", "out", "-q"); code != 0 {
		t.Fatalf("trace: exit %d: %s", code, e)
	}
	code, out, e := run("-verify-store", "store")
	if code != 0 || !strings.Contains(out, "bitcoin: consistent: 255 blocks (tip 255 ") {
		t.Fatalf("-verify-store on a good store: exit %d\n%s%s", code, out, e)
	}
	if code, _, e := run("-verify-store", "store", "-to", "5"); code != 2 || !strings.Contains(e, "-verify-store") {
		t.Errorf("-verify-store with another flag: exit %d: %s", code, e)
	}
	if err := os.Mkdir(filepath.Join(work, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, e := run("-verify-store", "empty"); code != 1 || !strings.Contains(e, "no badger store") {
		t.Errorf("-verify-store on a directory without a store: exit %d: %s", code, e)
	}
	// Damage every table of the store in its middle.
	tables, _ := filepath.Glob(filepath.Join(work, "store", "*.sst"))
	if len(tables) == 0 {
		t.Fatal("no tables in the store")
	}
	for _, p := range tables {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(b) / 2; i < len(b)/2+32 && i < len(b); i++ {
			b[i] ^= 0xff
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, e = run("-verify-store", "store")
	if code != 1 || !strings.Contains(e, "rm -r store") || !strings.Contains(e, "ingest again") || strings.Count(strings.TrimSpace(e), "\n") > 3 {
		t.Errorf("-verify-store on a damaged store: exit %d, want 1 with what to do:\n%s", code, e)
	}
}
