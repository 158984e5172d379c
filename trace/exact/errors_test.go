package exact_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"github.com/chaintrace/chaintrace/trace/internal/randchain"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func amt(n uint64) graph.Amount { return graph.NewAmount(n) }

func utxoCfg() trace.Config {
	op := graph.Outpoint{TxID: "f", Index: 0}
	return trace.Config{Model: graph.UTXO, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds: []trace.Seed{{Outpoint: &op, Source: "s"}}}
}

func accountCfg() trace.Config {
	return trace.Config{Model: graph.Account, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds: []trace.Seed{{Address: "H", Source: "s"}}}
}

func spend(txid string, index uint32, prev graph.Outpoint, resolved bool, inValue uint64, outs ...uint64) graph.UTXOTx {
	tx := graph.UTXOTx{TxID: txid, Index: index, Inputs: []graph.TxIn{{Prev: prev, Address: "A", Value: amt(inValue), Resolved: resolved}}}
	for _, v := range outs {
		tx.Outputs = append(tx.Outputs, graph.TxOut{Address: "B", Value: amt(v)})
	}
	return tx
}

var fundOp = graph.Outpoint{TxID: "f", Index: 0}

// TestErrors feeds each engine bad input and requires the error trace's engine gives,
// sentinel and message alike, and no panic.
func TestErrors(t *testing.T) {
	max := graph.MustAmount("115792089237316195423570985008687907853269984665640564039457584007913129639935")
	cases := []struct {
		name   string
		cfg    trace.Config
		setup  func(r replayer) error // before the blocks
		blocks []graph.Block
		after  func(r replayer) error // after the blocks
		err    error
		says   string
	}{
		{name: "unknown outpoint", cfg: utxoCfg(), err: trace.ErrUnknownOutpoint, says: "block 1 tx t1 input 0",
			blocks: []graph.Block{{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{spend("t1", 0, graph.Outpoint{TxID: "nope"}, false, 0, 1)}}}},
		{name: "overspend", cfg: utxoCfg(), err: trace.ErrOverspend, says: "block 1 tx t1",
			setup:  func(r replayer) error { return r.Fund(fundOp, "A", amt(100)) },
			blocks: []graph.Block{{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{spend("t1", 0, fundOp, true, 100, 60, 41)}}}},
		{name: "value mismatch", cfg: utxoCfg(), err: trace.ErrValueMismatch, says: "block 1 tx t1 input 0",
			setup:  func(r replayer) error { return r.Fund(fundOp, "A", amt(100)) },
			blocks: []graph.Block{{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{spend("t1", 0, fundOp, true, 99, 50)}}}},
		{name: "output created twice", cfg: utxoCfg(), err: trace.ErrDoubleSpend, says: "block 2 tx t1",
			setup: func(r replayer) error { return r.Fund(fundOp, "A", amt(100)) },
			blocks: []graph.Block{
				{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{spend("t1", 0, fundOp, true, 100, 50, 50)}},
				{Chain: graph.Bitcoin, Height: 2, UTXOTxs: []graph.UTXOTx{spend("t1", 0, graph.Outpoint{TxID: "t1", Index: 1}, true, 50, 50)}},
			}},
		{name: "input sum overflows", cfg: utxoCfg(), err: trace.ErrOverflow, says: "input sum",
			setup: func(r replayer) error {
				if err := r.Fund(graph.Outpoint{TxID: "a"}, "A", max); err != nil {
					return err
				}
				return r.Fund(graph.Outpoint{TxID: "b"}, "A", max)
			},
			blocks: []graph.Block{{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "t1", Inputs: []graph.TxIn{{Prev: graph.Outpoint{TxID: "a"}}, {Prev: graph.Outpoint{TxID: "b"}}}}}}}},
		{name: "out of order", cfg: utxoCfg(), err: trace.ErrOutOfOrder, says: "block 1 tx t2",
			setup: func(r replayer) error { return r.Fund(fundOp, "A", amt(100)) },
			blocks: []graph.Block{
				{Chain: graph.Bitcoin, Height: 2, UTXOTxs: []graph.UTXOTx{spend("t1", 0, fundOp, true, 100, 100)}},
				{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{spend("t2", 0, graph.Outpoint{TxID: "t1"}, true, 100, 100)}},
			}},
		{name: "account block on a utxo engine", cfg: utxoCfg(), err: trace.ErrModel, says: "block 7",
			blocks: []graph.Block{{Chain: graph.Ethereum, Height: 7}}},
		{name: "account transactions in a utxo block", cfg: utxoCfg(), err: trace.ErrModel, says: "block 7",
			blocks: []graph.Block{{Height: 7, AccountTxs: []graph.AccountTx{{Hash: "x"}}}}},
		{name: "fund twice", cfg: utxoCfg(), err: trace.ErrDoubleSpend, says: "funding f:0",
			setup: func(r replayer) error {
				if err := r.Fund(fundOp, "A", amt(1)); err != nil {
					return err
				}
				return r.Fund(fundOp, "A", amt(1))
			}},
		{name: "set balance on a utxo engine", cfg: utxoCfg(), err: trace.ErrModel,
			setup: func(r replayer) error { return r.SetBalance("A", graph.ETH, amt(1)) }},
		{name: "fund on an account engine", cfg: accountCfg(), err: trace.ErrModel,
			setup: func(r replayer) error { return r.Fund(fundOp, "A", amt(1)) }},
		{name: "overdraft", cfg: accountCfg(), err: trace.ErrOverdraft, says: "block 3 tx x1 transfer x1.0",
			setup: func(r replayer) error { return r.SetBalance("A", graph.ETH, amt(10)) },
			blocks: []graph.Block{{Chain: graph.Ethereum, Height: 3, AccountTxs: []graph.AccountTx{{Hash: "x1", From: "A", Success: true,
				Transfers: []graph.Transfer{{ID: "x1.0", Asset: graph.ETH, From: "A", To: "B", Amount: amt(11), Kind: graph.KindCall}}}}}}},
		{name: "fee overdraft", cfg: accountCfg(), err: trace.ErrOverdraft, says: "transfer x1#fee",
			setup:  func(r replayer) error { return r.SetBalance("A", graph.ETH, amt(10)) },
			blocks: []graph.Block{{Chain: graph.Ethereum, Height: 3, AccountTxs: []graph.AccountTx{{Hash: "x1", From: "A", Fee: amt(11)}}}}},
		{name: "set balance after blocks", cfg: accountCfg(), err: trace.ErrBadConfig,
			blocks: []graph.Block{{Chain: graph.Ethereum, Height: 3, AccountTxs: []graph.AccountTx{{Hash: "x1", From: "A", Success: true}}}},
			after:  func(r replayer) error { return r.SetBalance("A", graph.ETH, amt(1)) }},
		{name: "fund after blocks", cfg: utxoCfg(), err: trace.ErrBadConfig,
			blocks: []graph.Block{{Chain: graph.Bitcoin, Height: 3, UTXOTxs: []graph.UTXOTx{{TxID: "cb", Coinbase: true}}}},
			after:  func(r replayer) error { return r.Fund(fundOp, "A", amt(1)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(r replayer) error {
				if c.setup != nil {
					if err := c.setup(r); err != nil {
						return err
					}
				}
				for i := range c.blocks {
					if err := r.ApplyBlock(&c.blocks[i]); err != nil {
						return err
					}
				}
				if c.after != nil {
					return c.after(r)
				}
				return nil
			}
			ee, err := exact.New(c.cfg)
			require.NoError(t, err)
			ie, err := trace.NewEngine(c.cfg)
			require.NoError(t, err)
			gotErr := run(ee)
			require.Error(t, gotErr)
			if c.err != nil {
				require.ErrorIs(t, gotErr, c.err)
			}
			require.Contains(t, gotErr.Error(), c.says)
			require.EqualError(t, gotErr, run(ie).Error(), "the integer engine's error")
		})
	}
}

// TestBadConfig requires New to reject what trace.NewEngine rejects, with its error, and
// poison (the ordered methods replay lot sequences).
func TestBadConfig(t *testing.T) {
	zero := trace.Fraction{Num: amt(1)}
	op := graph.Outpoint{TxID: "f"}
	cases := map[string]trace.Config{
		"model":           {Model: "dag", Method: trace.Haircut},
		"unknown method":  {Model: graph.UTXO, Method: "random"},
		"seed source":     {Model: graph.UTXO, Method: trace.Haircut, Seeds: []trace.Seed{{Address: "A"}}},
		"seed target":     {Model: graph.UTXO, Method: trace.Haircut, Seeds: []trace.Seed{{Address: "A", Outpoint: &op, Source: "s"}}},
		"seed exchange":   {Model: graph.UTXO, Method: trace.Haircut, Seeds: []trace.Seed{{Address: "A", Source: "s"}}, Exchanges: map[string][]graph.Address{"E": {"A"}}},
		"two exchanges":   {Model: graph.UTXO, Method: trace.Haircut, Exchanges: map[string][]graph.Address{"E": {"A"}, "F": {"A"}}},
		"outpoint seed":   {Model: graph.Account, Method: trace.Haircut, Seeds: []trace.Seed{{Outpoint: &op, Source: "s"}}},
		"transfer seed":   {Model: graph.UTXO, Method: trace.Haircut, Seeds: []trace.Seed{{Transfer: "x", Source: "s"}}},
		"zero fraction":   {Model: graph.UTXO, Method: trace.Haircut, Params: trace.Params{MinFraction: &zero}},
		"tiho on account": {Model: graph.Account, Method: trace.TIHO},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := exact.New(cfg)
			require.ErrorIs(t, err, trace.ErrBadConfig)
			_, ierr := trace.NewEngine(cfg)
			require.Error(t, ierr)
			if cfg.Method == trace.Haircut || name == "unknown method" {
				require.EqualError(t, err, ierr.Error())
			}
		})
	}
	_, err := exact.New(trace.Config{Model: graph.UTXO, Method: trace.Poison})
	require.ErrorIs(t, err, trace.ErrBadConfig)
	require.ErrorContains(t, err, "never does arithmetic")
	for _, m := range []string{trace.FIFO, trace.LIFO, trace.TIHO} {
		_, err := exact.New(trace.Config{Model: graph.UTXO, Method: m})
		require.NoError(t, err, m)
	}
	_, err = exact.New(trace.Config{Model: graph.Account, Method: trace.Seniority})
	require.NoError(t, err)
	var nilBlock *graph.Block
	eng, err := exact.New(utxoCfg())
	require.NoError(t, err)
	require.ErrorIs(t, eng.ApplyBlock(nilBlock), trace.ErrModel)
}

// TestPropertyGarbage replays random, mostly invalid histories (unknown and spent
// outpoints, wrong input values, overspends, overdrafts, blocks out of order, blocks of
// the other model) on both engines: neither may panic, both must fail or succeed alike
// with the same error, and whatever succeeds conserves taint.
func TestPropertyGarbage(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		model := rapid.SampledFrom([]graph.Model{graph.UTXO, graph.Account}).Draw(t, "model")
		names := []string{"f0", "f1", "t0", "t1", "t2"}
		addrs := []graph.Address{"A", "B", "C", "ex"}
		cfg := trace.Config{Model: model, Method: trace.Haircut, Params: randchain.Params(t), Exchanges: map[string][]graph.Address{"E": {"ex"}}}
		cfg.Params.ImplicitBalances = rapid.Bool().Draw(t, "implicit")
		cfg.Params.TaintFee = model == graph.UTXO && rapid.Bool().Draw(t, "taint_fee")
		if model == graph.UTXO {
			op := graph.Outpoint{TxID: "f0"}
			cfg.Seeds = []trace.Seed{{Outpoint: &op, Source: "s"}, {Address: "B", Source: "b"}}
		} else {
			cfg.Seeds = []trace.Seed{{Address: "A", Source: "s"}, {Transfer: "t1.0", Source: "x"}}
		}
		var setup []func(replayer) error
		for i := rapid.IntRange(0, 3).Draw(t, "initial"); i > 0; i-- {
			name, a, v := rapid.SampledFrom(names).Draw(t, "fname"), rapid.SampledFrom(addrs).Draw(t, "faddr"), amt(uint64(rapid.IntRange(0, 50).Draw(t, "fvalue")))
			if model == graph.UTXO {
				setup = append(setup, func(r replayer) error { return r.Fund(graph.Outpoint{TxID: name}, a, v) })
			} else {
				setup = append(setup, func(r replayer) error { return r.SetBalance(a, graph.ETH, v) })
			}
		}
		var blocks []graph.Block
		for i := rapid.IntRange(0, 5).Draw(t, "blocks"); i > 0; i-- {
			b := graph.Block{Height: uint64(rapid.IntRange(0, 4).Draw(t, "height"))}
			switch rapid.IntRange(0, 7).Draw(t, "chain") {
			case 0:
				b.Chain = graph.Bitcoin
			case 1:
				b.Chain = graph.Ethereum
			}
			for j := rapid.IntRange(0, 2).Draw(t, "txs"); j > 0; j-- {
				id := rapid.SampledFrom(names[2:]).Draw(t, "txid")
				idx := uint32(rapid.IntRange(0, 2).Draw(t, "index"))
				if model == graph.UTXO || rapid.IntRange(0, 9).Draw(t, "wrong_model") == 0 {
					tx := graph.UTXOTx{TxID: id, Index: idx, Coinbase: rapid.IntRange(0, 3).Draw(t, "coinbase") == 0}
					for k := rapid.IntRange(0, 2).Draw(t, "nin"); k > 0 && !tx.Coinbase; k-- {
						tx.Inputs = append(tx.Inputs, graph.TxIn{
							Prev:     graph.Outpoint{TxID: rapid.SampledFrom(names).Draw(t, "prev"), Index: uint32(rapid.IntRange(0, 1).Draw(t, "vout"))},
							Address:  rapid.SampledFrom(addrs).Draw(t, "in_addr"),
							Value:    amt(uint64(rapid.IntRange(0, 50).Draw(t, "in_value"))),
							Resolved: rapid.Bool().Draw(t, "resolved"),
						})
					}
					for k := rapid.IntRange(0, 2).Draw(t, "nout"); k > 0; k-- {
						tx.Outputs = append(tx.Outputs, graph.TxOut{Address: rapid.SampledFrom(addrs).Draw(t, "out_addr"), Value: amt(uint64(rapid.IntRange(0, 50).Draw(t, "out_value"))), Unspendable: rapid.IntRange(0, 5).Draw(t, "unspendable") == 0})
					}
					b.UTXOTxs = append(b.UTXOTxs, tx)
				} else {
					tx := graph.AccountTx{Hash: id, Index: idx, From: rapid.SampledFrom(addrs).Draw(t, "from"), Fee: amt(uint64(rapid.IntRange(0, 5).Draw(t, "fee"))), Success: rapid.Bool().Draw(t, "ok")}
					for k := rapid.IntRange(0, 2).Draw(t, "nx"); k > 0; k-- {
						tx.Transfers = append(tx.Transfers, graph.Transfer{
							ID: fmt.Sprintf("%s.%d", id, k-1), Asset: graph.ETH,
							From:   rapid.SampledFrom(append(addrs, graph.ZeroAddress)).Draw(t, "xfrom"),
							To:     rapid.SampledFrom(append(addrs, graph.ZeroAddress)).Draw(t, "xto"),
							Amount: amt(uint64(rapid.IntRange(0, 30).Draw(t, "xamount"))), Kind: graph.KindCall,
							Reverted: rapid.IntRange(0, 5).Draw(t, "reverted") == 0,
						})
					}
					b.AccountTxs = append(b.AccountTxs, tx)
				}
			}
			blocks = append(blocks, b)
		}
		run := func(r replayer) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			for _, f := range setup {
				if err := f(r); err != nil {
					return err
				}
			}
			for i := range blocks {
				if err := r.ApplyBlock(&blocks[i]); err != nil {
					return err
				}
			}
			return nil
		}
		ee, err := exact.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ie, err := trace.NewEngine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		eerr, ierr := run(ee), run(ie)
		if fmt.Sprint(eerr) != fmt.Sprint(ierr) {
			t.Fatalf("exact: %v\ninteger: %v", eerr, ierr)
		}
		if eerr != nil {
			if strings.HasPrefix(eerr.Error(), "panic") {
				t.Fatal(eerr)
			}
			return
		}
		if err := ee.Result().CheckConservation(); err != nil {
			t.Fatal(err)
		}
	})
}
