package main

import (
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// -btc-blocks -from 100 -to 255 on real mainnet blocks 1–255 (btcd's test file, no undo
// data): the inputs spending outputs from before block 100 (block 170 spends block 9's
// coinbase) are resolved by a scan of the earlier blocks, and every method's exposure is
// the full replay's. Seed: the block-9 coinbase address; exchange: the block-170 recipient.
func TestBTCBlocksWindowEqualsFullReplay(t *testing.T) {
	dir := t.TempDir()
	blocksDir := filepath.Join(dir, "blocks")
	if err := os.MkdirAll(blocksDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("..", "..", "testdata", "bitcoin", "blocks1-256.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blk, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocksDir, "blk00000.dat"), blk, 0o644); err != nil {
		t.Fatal(err)
	}
	lf := filepath.Join(dir, "labels.csv")
	if err := os.WriteFile(lf, []byte("chain,address,entity,category,nexus,incident,confidence,source\n"+
		"bitcoin,12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S,Block 9 miner (invented),actor,DPRK,test,ownership,test: invented\n"+
		"bitcoin,1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3,Hal (invented exchange),exchange,,,ownership,test: invented\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, window ...string) jsonReport {
		out := filepath.Join(dir, name)
		args := append([]string{"-btc-blocks", blocksDir, "-labels", lf, "-out", out, "-q"}, window...)
		if code, _, errOut := runMain(t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		return readReport(t, out)
	}
	full, win := run("full"), run("window", "-from", "100", "-to", "255")
	if len(full.Chains) != 1 || len(win.Chains) != 1 || len(full.Chains[0].Methods) != 5 {
		t.Fatalf("reports: %+v / %+v", full.Chains, win.Chains)
	}
	for i, m := range full.Chains[0].Methods {
		w := win.Chains[0].Methods[i]
		if len(m.Exposure) != 1 || m.Exposure[0].Tainted == "0" {
			t.Fatalf("%s: the full replay finds no taint at the exchange: %+v", m.Method, m.Exposure)
		}
		if w.Method != m.Method || !reflect.DeepEqual(w.Exposure, m.Exposure) {
			t.Errorf("%s: window exposure %+v, full replay %+v", m.Method, w.Exposure, m.Exposure)
		}
	}
}
