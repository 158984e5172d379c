package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace/report"
)

// TestBTCBlocksStreamed: -btc-blocks without -store streams the blk files into the trace
// without building a store, and writes the report a run through a store writes, byte for
// byte (every method: figures, evidence, pictures); it leaves nothing in its temporary
// directory, and a window (-from) streams too.
func TestBTCBlocksStreamed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	blocksDir := filepath.Join(dir, "blocks")
	if _, err := blockgen.Generate(ctx, blocksDir, blockgen.Options{Net: &chaincfg.RegressionNetParams, Seed: 11, Txs: 600, TxsPerBlock: 30, Addresses: 80}); err != nil {
		t.Fatal(err)
	}
	bf, err := bitcoin.OpenBlockFiles(ctx, blocksDir, bitcoin.BlockFilesOptions{Net: &chaincfg.RegressionNetParams})
	if err != nil {
		t.Fatal(err)
	}
	var seed, exchange graph.Address
	err = bf.Range(ctx, 1, 2, func(b *graph.Block) error {
		if b.Height == 1 {
			seed = b.UTXOTxs[0].Outputs[0].Address
		} else {
			exchange = b.UTXOTxs[0].Outputs[0].Address
		}
		return nil
	})
	bf.Close()
	if err != nil || seed == "" || exchange == "" || seed == exchange {
		t.Fatalf("reading the generated blocks: %v (seed %q, exchange %q)", err, seed, exchange)
	}
	lf := filepath.Join(dir, "labels.csv")
	os.WriteFile(lf, []byte("chain,address,entity,category,nexus,incident,confidence,source\n"+
		"bitcoin,"+string(seed)+",Generated actor (invented),actor,DPRK,generated,ownership,test: invented\n"+
		"bitcoin,"+string(exchange)+",Generated exchange (invented),exchange,,,ownership,test: invented\n"), 0o644)

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, window := range [][]string{nil, {"-from", "10"}} {
		streamed, stored := filepath.Join(dir, "streamed"), filepath.Join(dir, "stored")
		args := append([]string{"-btc-blocks", blocksDir, "-btc-net", "regtest", "-labels", lf}, window...)
		code, _, errOut := runMain(t, append(args, "-out", streamed)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", window, code, errOut)
		}
		if !strings.Contains(errOut, "no store") || strings.Contains(errOut, "ingest") {
			t.Fatalf("%v: the run without -store did not stream: %s", window, errOut)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Fatalf("%v: the streamed run left %v in its temporary directory", window, left)
		}
		code, _, errOut = runMain(t, append(args, "-out", stored, "-store", filepath.Join(dir, "store"+strings.Join(window, "")))...)
		if code != 0 {
			t.Fatalf("%v: with -store: exit %d: %s", window, code, errOut)
		}
		for _, f := range []string{report.FileJSON, "deposits.csv", "flow-bitcoin.dot", "report.html"} {
			a, _ := os.ReadFile(filepath.Join(streamed, f))
			b, _ := os.ReadFile(filepath.Join(stored, f))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Fatalf("%v: %s differs between the streamed run and the run through a store (%d and %d bytes)", window, f, len(a), len(b))
			}
		}
		r := readReport(t, streamed)
		if len(r.Chains) != 1 || len(r.Chains[0].Methods) != 5 {
			t.Fatalf("%v: report: %+v", window, r.Chains)
		}
		os.RemoveAll(streamed)
		os.RemoveAll(stored)
	}
}
