package main

import (
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
)

// One -store reused across sources: real mainnet blocks 1–255 from block files, then a
// bitcoin-etl export of blocks 50001–50002 into the same store. The second run used to
// write its blocks after a gap (1..255, then 50001..), after which ingesting the block
// files failed; it is refused in one line that names the store, what it holds, and what to
// do, and leaves the store as it was (the first source still runs on it). Through the built
// program, from a directory outside the repository.
func TestStoreReuseAcrossSources(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "trace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
	export, err := filepath.Abs("../../testdata/etl/bitcoin/blocks_50001_50002_enriched")
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
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
	blk := []string{"-btc-blocks", "blocks", "-to", "255", "-labels", "labels.csv", "-store", "store", "-out", "out", "-q"}
	if code, e := run(blk...); code != 0 {
		t.Fatalf("block files into a new store: exit %d: %s", code, e)
	}
	code, e := run("-etl", export, "-labels", "labels.csv", "-store", "store", "-out", "out2", "-q")
	if code != 1 || strings.Count(e, "trace: ") != 1 ||
		!strings.Contains(e, "-store store holds bitcoin mainnet blocks 1..255 from -btc-blocks blocks") ||
		!strings.Contains(e, "starts at block 50001, which would leave a gap: give another -store directory, or -from 256 or lower") {
		t.Fatalf("an export past the store's tip: exit %d, want 1 with one line saying what to do:\n%s", code, e)
	}
	if code, e := run(blk...); code != 0 {
		t.Fatalf("the first source again, after the refusal: exit %d: %s", code, e)
	}
	if code, e := run("-verify-store", "store"); code != 0 {
		t.Fatalf("the store after the refusal: exit %d: %s", code, e)
	}

	// The simulated case kept in a store, then an Ethereum export of mainnet blocks into it.
	eth, err := filepath.Abs("../../testdata/etl/ethereum/block_483920")
	if err != nil {
		t.Fatal(err)
	}
	if code, e := run("-store", "sim-store", "-out", "out3", "-q"); code != 0 {
		t.Fatalf("the simulated case into a new store: exit %d: %s", code, e)
	}
	code, e = run("-etl", eth, "-labels", "labels.csv", "-store", "sim-store", "-out", "out4", "-q")
	if code != 1 || !strings.Contains(e, "-store sim-store holds ethereum simulated dev chain blocks 1..") ||
		!strings.Contains(e, "from the simulated case; this run starts at block 483920, which would leave a gap") {
		t.Fatalf("an export into the simulated case's store: exit %d:\n%s", code, e)
	}
}

// checkStoreSource on a real store: an empty store takes anything; one that holds a range
// takes the same network contiguously (again from its start, or from right after its
// tip) and refuses another network, a gap, and a start below its first block.
func TestCheckStoreSource(t *testing.T) {
	ctx := context.Background()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir(), WindowStarts: map[graph.Chain]uint64{graph.Bitcoin: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := storeSource{Source: "-btc-blocks b", Network: "mainnet"}
	if err := checkStoreSource(ctx, st, "s", graph.Bitcoin, src, 10); err != nil {
		t.Fatalf("empty store: %v", err)
	}
	parent := ""
	for h := uint64(10); h <= 12; h++ {
		b := graph.Block{Chain: graph.Bitcoin, Height: h, Hash: strings.Repeat("0", 63) + string(rune('a'+h-10)), Parent: parent,
			UTXOTxs: []graph.UTXOTx{{TxID: strings.Repeat("0", 63) + string(rune('a'+h-10)), Coinbase: true,
				Outputs: []graph.TxOut{{Address: "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3", Value: graph.NewAmount(50)}}}}}
		if err := st.WriteBlock(ctx, &b); err != nil {
			t.Fatal(err)
		}
		parent = b.Hash
	}
	if err := recordStoreSource(ctx, st, graph.Bitcoin, src, 10); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		src  storeSource
		from uint64
		want string // "" accepted
	}{
		{"same source again", src, 10, ""},
		{"right after the tip", storeSource{Source: "-btc-rpc http://node"}, 13, ""},
		{"another network", storeSource{Source: "-btc-blocks r", Network: "regtest"}, 10, "holds bitcoin mainnet blocks 10..12 from -btc-blocks b; this run reads regtest blocks from -btc-blocks r: give another -store directory"},
		{"a gap", storeSource{Source: "-etl e"}, 50001, "which would leave a gap: give another -store directory, or -from 13 or lower"},
		{"below the first block", src, 5, "this run starts at block 5, below its first"},
		{"another chain", storeSource{Source: "-eth-rpc x"}, 1, ""},
	} {
		chain := graph.Bitcoin
		if c.name == "another chain" {
			chain = graph.Ethereum
		}
		err := checkStoreSource(ctx, st, "s", chain, c.src, c.from)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
