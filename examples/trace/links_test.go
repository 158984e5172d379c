package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/examples/trace/simcase"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
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

// The case's two nodes as real data: Ethereum and Bitcoin over JSON-RPC (HTTP), each with
// its own heights, the case's labels from a file. The links are found in what the nodes
// serve, and the figures and the THORChain link are those of the bundled run.
func TestTwoNodesFlags(t *testing.T) {
	c, err := simcase.Play(context.Background(), simcase.Options{HTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	lf := filepath.Join(dir, "case-labels.csv")
	var b bytes.Buffer
	if err := labels.WriteCSV(&b, []string{"labels of the simulated case"}, c.Labels); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lf, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, errOut := runMain(t, "-eth-rpc", c.Node.HTTPURL(), "-btc-rpc", c.BTC.URL(), "-btc-net", "regtest",
		"-from", "1", "-btc-from", "1", "-btc-to", strconv.FormatUint(c.BTCHead, 10), "-labels", lf, "-actor", simcase.Source, "-out", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := readReport(t, out)
	if len(r.Chains) != 2 || r.Chains[1].Chain != string(graph.Bitcoin) {
		t.Fatalf("report chains: %+v", r.Chains)
	}
	checkExpected(t, r)
	checkBridge(t, out)

	// Bitcoin's heights need a Bitcoin source.
	code, _, errOut = runMain(t, "-eth-rpc", c.Node.HTTPURL(), "-btc-from", "5", "-q", "-out", out)
	if code != 2 || !strings.Contains(errOut, "-btc-from/-btc-to apply to a Bitcoin source") {
		t.Errorf("-btc-from without Bitcoin: exit %d, %q", code, errOut)
	}
}
