package main

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Label files and block files as people have them, through the built program from a
// directory outside the repository: OFAC's sdn.csv alone loads (it failed: "no address
// column in header"); a plain address list (.txt) takes its owner from -entity, and without
// it the error names the flag (it said "needs Options.Entity"); an ActorPack and block files
// that do not start at the genesis block are refused in the words of files and flags (they
// said "use LoadActorPack" and "placed by StartHeight").
func TestLabelsAndBlocksInUsersWords(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "trace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	copyFile := func(from, to string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("../../testdata/labels/ofac/sdn_2024-05-03_slice_dca_and_dprk.csv", "sdn.csv")
	copyFile("../../testdata/labels/ofac/sdn_comments_2025-02_watchman-testdata.csv", "sdn_comments.csv")
	copyFile("../../testdata/labels/ofac/0xb10c_sanctioned_addresses_XBT_2024-09-27.txt", "sanctioned_XBT.txt")
	copyFile("../../testdata/labels/tagpacks/actors/graphsense.actorpack.yaml.gz", "graphsense.actorpack.yaml.gz")
	// Real mainnet blocks 1–255 (btcd's test file), whole and without its first two blocks.
	f, err := os.Open("../../testdata/bitcoin/blocks1-256.bz2")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"blocks", "headless"} {
		if err := os.Mkdir(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(work, "blocks", "blk00000.dat"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	rest := raw
	for i := 0; i < 2; i++ { // a frame: magic, little-endian size, block
		rest = rest[8+binary.LittleEndian.Uint32(rest[4:8]):]
	}
	if err := os.WriteFile(filepath.Join(work, "headless", "blk00000.dat"), rest, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, append(args, "-q", "-out", "out")...)
		cmd.Dir = work
		var e bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &e
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, e.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), e.String()
		}
		t.Fatal(err)
		return 0, ""
	}
	blocks := []string{"-btc-blocks", "blocks", "-to", "20"}
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string // in stderr
		not  []string
	}{
		// The labels load and the run goes through, with the file's skipped rows listed
		// and the file cited in the report.
		{"sdn.csv alone", append([]string{"-labels", "sdn.csv"}, blocks...), 0,
			[]string{"warning: labels: sdn.csv:391: skipped"}, []string{"no address column", "trace: labels:"}},
		{"sdn.csv with its comments file", append([]string{"-labels", "sdn.csv,sdn_comments.csv"}, blocks...), 0,
			[]string{"warning: labels: sdn.csv:391: skipped"}, []string{"trace: labels:"}},
		{"the comments file alone", append([]string{"-labels", "sdn_comments.csv"}, blocks...), 1,
			[]string{"sdn_comments.csv is OFAC's sdn_comments.csv", "give it with exactly one sdn.csv in -labels"}, []string{"no address column"}},
		{"plain list without an owner", append([]string{"-labels", "sanctioned_XBT.txt"}, blocks...), 1,
			[]string{"sanctioned_XBT.txt is a plain address list", "-entity NAME"}, []string{"Options.Entity"}},
		{"plain list with its owner", append([]string{"-labels", "sanctioned_XBT.txt", "-entity", "OFAC SDN", "-actor", "OFAC SDN"}, blocks...), 0,
			[]string{"warning: labels: sanctioned_XBT.txt:355"}, []string{"trace: labels:"}},
		{"an ActorPack", append([]string{"-labels", "graphsense.actorpack.yaml.gz"}, blocks...), 1,
			[]string{"ActorPack", "give the TagPack files"}, []string{"use LoadActorPack"}},
		{"block files without their start", []string{"-btc-blocks", "headless", "-labels", "sdn.csv"}, 1,
			[]string{"-btc-blocks headless: no chain of mainnet blocks starting at the genesis block", "blk00000.dat", "-btc-net"}, []string{"StartHeight"}},
	} {
		_ = os.RemoveAll(filepath.Join(work, "out"))
		code, e := run(c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d:\n%s", c.name, code, c.code, e)
		}
		if code == 0 {
			rep, err := os.ReadFile(filepath.Join(work, "out", "report.json"))
			cited := strings.Split(c.args[1], ",")[0]
			if err != nil || !bytes.Contains(rep, []byte(`"`+cited+`"`)) {
				t.Errorf("%s: report.json does not cite %s (%v)", c.name, cited, err)
			}
			if strings.Contains(c.args[1], "sdn_comments.csv") && !bytes.Contains(rep, []byte("with sdn_comments.csv")) {
				t.Errorf("%s: report.json does not say sdn.csv was read with its comments", c.name)
			}
		}
		for _, w := range c.want {
			if !strings.Contains(e, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, e)
			}
		}
		for _, w := range c.not {
			if strings.Contains(e, w) {
				t.Errorf("%s: stderr has %q:\n%s", c.name, w, e)
			}
		}
	}
}
