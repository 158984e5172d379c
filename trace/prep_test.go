package trace_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// TestPrepEqualsInline holds a replay whose blocks are prepared on a second goroutine
// (keys and address numbers ahead of the engine) equal to the one-goroutine replay, for
// every UTXO method, on blocks of 2,000 transactions with what interrupts a prep: inputs
// from before the window (their addresses are interned by the engine mid-block), seed and
// exchange addresses among the outputs, and TaintFee's coinbase, which is applied last.
func TestPrepEqualsInline(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // a prep needs two procs
	c := genUTXOChain(20_000, 0.3)
	// Declare only every other funding output: the rest are spent as resolved inputs
	// from before the window.
	var funding []fundingOut
	for i, f := range c.funding {
		if i%2 == 0 {
			funding = append(funding, f)
		}
	}
	seeds := append([]trace.Seed(nil), c.seeds...)
	seeds = append(seeds, trace.Seed{Address: graph.Address(baddr(50_000 + 3_001)), Source: "incident-x"})
	exchanges := map[string][]graph.Address{"ex": {graph.Address(baddr(50_000 + 12_345)), graph.Address(baddr(50_000 + 20_001))}}
	// The same blocks with a coinbase first, paying the block's fees plus a subsidy.
	var withCoinbase []graph.Block
	for bi, b := range c.blocks {
		nb := b
		nb.UTXOTxs = make([]graph.UTXOTx, 0, len(b.UTXOTxs)+1)
		nb.UTXOTxs = append(nb.UTXOTxs, graph.UTXOTx{TxID: fmt.Sprintf("%064x", 1<<50+bi), Coinbase: true,
			Outputs: []graph.TxOut{{Address: graph.Address(fmt.Sprintf("miner-%d", bi%3)), Value: graph.NewAmount(5_000_000_000)}}})
		for _, tx := range b.UTXOTxs {
			tx.Index++
			nb.UTXOTxs = append(nb.UTXOTxs, tx)
		}
		withCoinbase = append(withCoinbase, nb)
	}
	for _, taintFee := range []bool{false, true} {
		blocks := c.blocks
		if taintFee {
			blocks = withCoinbase
		}
		for _, m := range trace.Methods(graph.UTXO) {
			t.Run(fmt.Sprintf("%s/taint_fee=%v", m, taintFee), func(t *testing.T) {
				run := func(prep bool) []byte {
					p := trace.DefaultParams()
					p.TaintFee = taintFee
					hops := uint32(6)
					p.MaxHops = &hops
					eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: m, Seeds: seeds, Exchanges: exchanges, Params: p})
					require.NoError(t, err)
					trace.SetPrep(eng, prep)
					for _, f := range funding {
						require.NoError(t, eng.Fund(f.op, f.addr, graph.NewAmount(f.value)))
					}
					for i := range blocks {
						require.NoError(t, eng.ApplyBlock(&blocks[i]))
					}
					r := eng.Result()
					require.NotZero(t, r.Stats.OutsideWindowInputs)
					out, err := json.Marshal(r)
					require.NoError(t, err)
					return out
				}
				// Marshalled maps have sorted keys: equal results are equal bytes. (A
				// full diff of two multi-megabyte documents takes minutes.)
				inline, prepped := run(false), run(true)
				if i := firstDiff(inline, prepped); i >= 0 {
					t.Fatalf("results differ at byte %d: inline …%s…, prepped …%s…", i, around(inline, i), around(prepped, i))
				}
			})
		}
	}
}

// TestPrepStopsOnError checks that a block failing midway ends its prep before
// ApplyBlock returns, with the same error as without a prep.
func TestPrepStopsOnError(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	c := genUTXOChain(4_000, 0.1)
	bad := c.blocks[1]
	bad.UTXOTxs = append([]graph.UTXOTx(nil), bad.UTXOTxs...)
	tx := bad.UTXOTxs[700]
	tx.Inputs = []graph.TxIn{{Prev: graph.Outpoint{TxID: fmt.Sprintf("%064x", 77), Index: 3}}}
	bad.UTXOTxs[700] = tx
	var errs []string
	for _, prep := range []bool{false, true} {
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut, Seeds: c.seeds, Params: trace.DefaultParams()})
		require.NoError(t, err)
		trace.SetPrep(eng, prep)
		for _, f := range c.funding {
			require.NoError(t, eng.Fund(f.op, f.addr, graph.NewAmount(f.value)))
		}
		require.NoError(t, eng.ApplyBlock(&c.blocks[0]))
		err = eng.ApplyBlock(&bad)
		require.ErrorIs(t, err, trace.ErrUnknownOutpoint)
		errs = append(errs, err.Error())
	}
	require.Equal(t, errs[0], errs[1])
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func around(s []byte, i int) string { return string(s[max(0, i-80):min(len(s), i+80)]) }
