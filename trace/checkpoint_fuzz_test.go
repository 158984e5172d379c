package trace_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
)

// FuzzRestoreEngine feeds RestoreEngine corrupted checkpoints: a checkpoint is read back
// from the store, which may be damaged. Every input is either refused with ErrCheckpoint or
// restores an engine whose Result, evidence and next checkpoint work, and that can go on
// with the rest of its history — never a panic.
func FuzzRestoreEngine(f *testing.F) {
	type fuzzCase struct {
		sc     *scenario.Scenario
		method string
		cut    int
	}
	var cases []fuzzCase
	for _, c := range []struct{ file, method string }{
		{"../testdata/vectors/U07_multisource_mittweida.json", trace.Haircut},
		{"../testdata/vectors/U03_consolidation_partial_seed.json", trace.FIFO},
		{"../testdata/vectors/U02_peel_chain.json", trace.Poison},
		{"../testdata/vectors/A02_account_interleaving_outflow_before_inflow.json", trace.Seniority},
		{"../testdata/vectors/A04_account_erc20_token.json", trace.Haircut},
	} {
		sc, err := scenario.Load(c.file)
		if err != nil {
			f.Fatal(err)
		}
		cut := len(sc.Blocks()) / 2
		eng, err := sc.NewEngine(c.method)
		if err != nil {
			f.Fatal(err)
		}
		blocks := sc.Blocks()
		for i := 0; i < cut; i++ {
			if err := eng.ApplyBlock(&blocks[i]); err != nil {
				f.Fatal(err)
			}
		}
		data, err := eng.Checkpoint()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(len(cases)), data)
		cases = append(cases, fuzzCase{sc, c.method, cut})
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		c := cases[int(which)%len(cases)]
		eng, err := trace.RestoreEngine(c.sc.Config(c.method), data)
		if err != nil {
			if !errors.Is(err, trace.ErrCheckpoint) {
				t.Fatalf("error %v does not wrap ErrCheckpoint", err)
			}
			return
		}
		r := eng.Result()
		_, _ = json.Marshal(r)
		for ref := range r.Outputs {
			_, _ = r.Evidence(ref)
		}
		for ref := range r.Transfers {
			_, _ = r.Evidence(ref)
		}
		if _, err := eng.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		blocks := c.sc.Blocks()
		for i := c.cut; i < len(blocks); i++ {
			if eng.ApplyBlock(&blocks[i]) != nil {
				return // a restored state the rest of the history contradicts: an error, fine
			}
		}
		_, _ = json.Marshal(eng.Result())
	})
}
