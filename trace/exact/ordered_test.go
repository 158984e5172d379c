package exact_test

import (
	"encoding/json"
	"testing"

	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"pgregory.net/rapid"
)

// Without links the ordered methods only move whole lots and never round (spec §6), so
// exact mode's rational lot sequences must give exactly the integer engine's result: the
// same JSON, figure for figure, on random histories of both models (package randchain).

func checkOrderedEqualsInt(t *rapid.T, c *chainCase, method string) {
	cfg := c.config(c.Params)
	cfg.Method = method
	eng, err := exact.New(cfg)
	if err != nil {
		t.Fatalf("exact.New(%s): %v", method, err)
	}
	c.replay(t, eng)
	er := eng.Result()
	checkExactInvariants(t, er)
	ieng, err := trace.NewEngine(cfg)
	if err != nil {
		t.Fatalf("trace.NewEngine(%s): %v", method, err)
	}
	c.replay(t, ieng)
	got, err := json.Marshal(er)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(ieng.Result())
	if err != nil {
		t.Fatal(err)
	}
	// Both ways: every figure of each is in the other, equal.
	for _, pair := range [][2][]byte{{want, got}, {got, want}} {
		diffs, err := scenario.DiffJSON(pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Fatalf("%s: exact and integer results differ: %v", method, diffs)
		}
	}
}

func TestPropertyOrderedUTXO(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genUTXO(t)
		m := rapid.SampledFrom([]string{trace.FIFO, trace.LIFO, trace.TIHO}).Draw(t, "method")
		checkOrderedEqualsInt(t, c, m)
	})
}

func TestPropertyOrderedAccount(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genAccount(t)
		m := rapid.SampledFrom([]string{trace.FIFO, trace.LIFO, trace.Seniority}).Draw(t, "method")
		checkOrderedEqualsInt(t, c, m)
	})
}
