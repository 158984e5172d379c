// Package randchain generates small random chains of both models for property tests:
// funding or initial balances, seeds of every kind, exchanges, parameters (pruning, hop
// bounds, TaintFee) and blocks whose inputs are resolved, as an adapter or the store
// resolves them. Package trace's tests and exact mode's tests draw from the same
// generators, so the two engines are held to the same histories.
package randchain

import (
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"pgregory.net/rapid"
)

// Case is one random history.
type Case struct {
	Model     graph.Model
	Funding   []Funding // UTXO: outputs that exist before the blocks
	Balances  []Balance // account: balances before the blocks
	Seeds     []trace.Seed
	Exchanges map[string][]graph.Address
	Params    trace.Params
	Blocks    []graph.Block
}

// Funding is a UTXO output from before the blocks.
type Funding struct {
	Op    graph.Outpoint
	Addr  graph.Address
	Value uint64
}

// Balance is an account balance from before the blocks.
type Balance struct {
	Addr  graph.Address
	Asset graph.Asset
	Value uint64
}

var addrPool = []graph.Address{"a0", "a1", "a2", "a3", "a4", "a5", "ex0", "ex1"}

func Params(t *rapid.T) trace.Params {
	p := trace.Params{StopAtExchanges: rapid.Bool().Draw(t, "stop")}
	p.MinTaint = graph.NewAmount(uint64(rapid.IntRange(0, 4).Draw(t, "min_taint")))
	if rapid.Bool().Draw(t, "has_max_hops") {
		h := uint32(rapid.IntRange(0, 4).Draw(t, "max_hops"))
		p.MaxHops = &h
	}
	if rapid.IntRange(0, 3).Draw(t, "has_fraction") == 0 {
		p.MinFraction = &trace.Fraction{Num: graph.NewAmount(1), Den: graph.NewAmount(uint64(rapid.IntRange(2, 20).Draw(t, "den")))}
	}
	return p
}

func Exchanges(t *rapid.T) map[string][]graph.Address {
	ex := map[string][]graph.Address{}
	switch rapid.IntRange(0, 2).Draw(t, "exchanges") {
	case 1:
		ex["E"] = []graph.Address{"ex0"}
	case 2:
		ex["E"] = []graph.Address{"ex0", "ex1"}
	}
	return ex
}

func UTXO(t *rapid.T) *Case {
	c := &Case{Model: graph.UTXO, Exchanges: Exchanges(t), Params: Params(t)}
	type live struct {
		op    graph.Outpoint
		value uint64
	}
	var lives []live
	nf := rapid.IntRange(1, 5).Draw(t, "funding")
	for i := 0; i < nf; i++ {
		f := Funding{Op: graph.Outpoint{TxID: fmt.Sprintf("f%d", i)}, Addr: addrPool[rapid.IntRange(0, 5).Draw(t, "faddr")], Value: uint64(rapid.IntRange(0, 60).Draw(t, "fvalue"))}
		c.Funding = append(c.Funding, f)
		lives = append(lives, live{f.Op, f.Value})
	}
	sources := []string{"s1", "s2"}
	for i := range c.Funding {
		if rapid.IntRange(0, 2).Draw(t, "seeded") > 0 {
			op := c.Funding[i].Op
			s := trace.Seed{Outpoint: &op, Source: sources[rapid.IntRange(0, 1).Draw(t, "src")]}
			if rapid.Bool().Draw(t, "partial") {
				a := graph.NewAmount(uint64(rapid.IntRange(0, 70).Draw(t, "amount")))
				s.Amount = &a
			}
			c.Seeds = append(c.Seeds, s)
		}
	}
	if rapid.Bool().Draw(t, "addr_seed") {
		c.Seeds = append(c.Seeds, trace.Seed{Address: addrPool[rapid.IntRange(0, 5).Draw(t, "seed_addr")], Source: sources[rapid.IntRange(0, 1).Draw(t, "asrc")]})
	}
	c.Params.TaintFee = rapid.IntRange(0, 2).Draw(t, "taint_fee") == 0
	ntx := rapid.IntRange(0, 12).Draw(t, "txs")
	for i := 0; i < ntx && len(lives) > 0; i++ {
		// Some blocks open with a coinbase (which TaintFee pays the block's fees to).
		var cb *graph.UTXOTx
		if rapid.IntRange(0, 2).Draw(t, "coinbase") == 0 {
			cb = &graph.UTXOTx{TxID: fmt.Sprintf("cb%d", i), Index: 0, Coinbase: true}
			for k := rapid.IntRange(1, 2).Draw(t, "cb_nout"); k > 0; k-- {
				v := uint64(rapid.IntRange(0, 80).Draw(t, "cb_v"))
				cb.Outputs = append(cb.Outputs, graph.TxOut{Address: addrPool[rapid.IntRange(0, 7).Draw(t, "cb_addr")], Value: graph.NewAmount(v)})
			}
		}
		tx := graph.UTXOTx{TxID: fmt.Sprintf("t%d", i), Index: 1}
		nin := rapid.IntRange(1, min(3, len(lives))).Draw(t, "nin")
		var in uint64
		for k := 0; k < nin; k++ {
			j := rapid.IntRange(0, len(lives)-1).Draw(t, "pick")
			tx.Inputs = append(tx.Inputs, graph.TxIn{Prev: lives[j].op})
			in += lives[j].value
			lives = append(lives[:j], lives[j+1:]...)
		}
		fee := uint64(rapid.IntRange(0, int(in)).Draw(t, "fee"))
		rest := in - fee
		nout := rapid.IntRange(1, 3).Draw(t, "nout")
		for k := 0; k < nout; k++ {
			v := rest
			if k < nout-1 {
				v = uint64(rapid.IntRange(0, int(rest)).Draw(t, "v"))
			}
			rest -= v
			tx.Outputs = append(tx.Outputs, graph.TxOut{Address: addrPool[rapid.IntRange(0, 7).Draw(t, "oaddr")], Value: graph.NewAmount(v)})
			lives = append(lives, live{graph.Outpoint{TxID: tx.TxID, Index: uint32(k)}, v})
		}
		blk := graph.Block{Chain: graph.Bitcoin, Height: uint64(i + 1)}
		if cb != nil {
			blk.UTXOTxs = append(blk.UTXOTxs, *cb)
			for k, o := range cb.Outputs {
				lives = append(lives, live{graph.Outpoint{TxID: cb.TxID, Index: uint32(k)}, o.Value.Uint64()})
			}
		}
		blk.UTXOTxs = append(blk.UTXOTxs, tx)
		c.Blocks = append(c.Blocks, blk)
	}
	// Seed addresses must not be exchanges.
	for _, s := range c.Seeds {
		if s.Address == "ex0" || s.Address == "ex1" {
			c.Exchanges = map[string][]graph.Address{}
		}
	}
	c.resolve()
	return c
}

func Account(t *rapid.T) *Case {
	c := &Case{Model: graph.Account, Exchanges: Exchanges(t), Params: Params(t)}
	assets := []graph.Asset{graph.ETH, "TOK"}
	if rapid.IntRange(0, 3).Draw(t, "asset_list") == 0 {
		// Trace one asset only: the other's transfers are skipped, debits and credits alike.
		c.Params.Assets = []graph.Asset{assets[rapid.IntRange(0, 1).Draw(t, "traced")]}
	}
	bal := map[[2]string]uint64{}
	for _, a := range addrPool[:6] {
		for _, as := range assets {
			v := uint64(rapid.IntRange(0, 40).Draw(t, "bal"))
			if v > 0 {
				c.Balances = append(c.Balances, Balance{Addr: a, Asset: as, Value: v})
				bal[[2]string{string(a), string(as)}] = v
			}
		}
	}
	srcAddr := graph.Address("")
	if rapid.Bool().Draw(t, "source_account") {
		srcAddr = addrPool[rapid.IntRange(0, 5).Draw(t, "seed_addr")]
		c.Seeds = append(c.Seeds, trace.Seed{Address: srcAddr, Source: "s1"})
	}
	ntx := rapid.IntRange(0, 12).Draw(t, "txs")
	for i := 0; i < ntx; i++ {
		from := addrPool[rapid.IntRange(0, 7).Draw(t, "from")]
		tx := graph.AccountTx{Hash: fmt.Sprintf("x%d", i), From: from, Success: rapid.IntRange(0, 4).Draw(t, "ok") > 0}
		eth := bal[[2]string{string(from), "ETH"}]
		fee := uint64(rapid.IntRange(0, int(min(eth, 3))).Draw(t, "fee"))
		tx.Fee = graph.NewAmount(fee)
		bal[[2]string{string(from), "ETH"}] -= fee
		nx := rapid.IntRange(0, 3).Draw(t, "nx")
		for k := 0; k < nx; k++ {
			as := assets[rapid.IntRange(0, 1).Draw(t, "asset")]
			x := graph.Transfer{ID: fmt.Sprintf("x%d.%d", i, k), Asset: as, Kind: graph.KindCall}
			switch rapid.IntRange(0, 6).Draw(t, "kind") {
			case 0: // mint
				x.From = graph.ZeroAddress
			default:
				x.From = addrPool[rapid.IntRange(0, 7).Draw(t, "xfrom")]
			}
			if rapid.IntRange(0, 8).Draw(t, "burn") == 0 {
				x.To = graph.ZeroAddress
			} else {
				x.To = addrPool[rapid.IntRange(0, 7).Draw(t, "xto")]
			}
			have := uint64(40)
			if x.From != graph.ZeroAddress {
				have = bal[[2]string{string(x.From), string(as)}]
			}
			v := uint64(rapid.IntRange(0, int(have)).Draw(t, "amount"))
			x.Amount = graph.NewAmount(v)
			x.Reverted = rapid.IntRange(0, 9).Draw(t, "reverted") == 0
			if tx.Success && !x.Reverted && x.From != x.To {
				if x.From != graph.ZeroAddress {
					bal[[2]string{string(x.From), string(as)}] -= v
				}
				if x.To != graph.ZeroAddress {
					bal[[2]string{string(x.To), string(as)}] += v
				}
			}
			if rapid.IntRange(0, 5).Draw(t, "xseed") == 0 {
				s := trace.Seed{Transfer: x.ID, Source: "s2"}
				if rapid.Bool().Draw(t, "partial") {
					a := graph.NewAmount(uint64(rapid.IntRange(0, 50).Draw(t, "samount")))
					s.Amount = &a
				}
				c.Seeds = append(c.Seeds, s)
			}
			tx.Transfers = append(tx.Transfers, x)
		}
		c.Blocks = append(c.Blocks, graph.Block{Chain: graph.Ethereum, Height: uint64(i + 1), AccountTxs: []graph.AccountTx{tx}})
	}
	if srcAddr == "ex0" || srcAddr == "ex1" {
		c.Exchanges = map[string][]graph.Address{}
	}
	return c
}

// resolve fills in every UTXO input's address and value, as the store would.
func (c *Case) resolve() {
	vals := map[graph.Outpoint]Funding{}
	for _, f := range c.Funding {
		vals[f.Op] = f
	}
	for bi := range c.Blocks {
		for ti := range c.Blocks[bi].UTXOTxs {
			tx := &c.Blocks[bi].UTXOTxs[ti]
			for k := range tx.Inputs {
				f := vals[tx.Inputs[k].Prev]
				tx.Inputs[k].Address, tx.Inputs[k].Value, tx.Inputs[k].Resolved = f.Addr, graph.NewAmount(f.Value), true
			}
			for k, o := range tx.Outputs {
				vals[graph.Outpoint{TxID: tx.TxID, Index: uint32(k)}] = Funding{Addr: o.Address, Value: o.Value.Uint64()}
			}
		}
	}
}

// Replayer is an engine a Case can be replayed on: trace.Engine or exact mode's.
type Replayer interface {
	Fund(op graph.Outpoint, addr graph.Address, value graph.Amount) error
	SetBalance(addr graph.Address, asset graph.Asset, amount graph.Amount) error
	ApplyBlock(b *graph.Block) error
}

// Replay declares the case's funding or balances to r and applies its blocks.
func (c *Case) Replay(r Replayer) error {
	for _, f := range c.Funding {
		if err := r.Fund(f.Op, f.Addr, graph.NewAmount(f.Value)); err != nil {
			return err
		}
	}
	for _, b := range c.Balances {
		if err := r.SetBalance(b.Addr, b.Asset, graph.NewAmount(b.Value)); err != nil {
			return err
		}
	}
	for i := range c.Blocks {
		if err := r.ApplyBlock(&c.Blocks[i]); err != nil {
			return fmt.Errorf("block %d: %w", i, err)
		}
	}
	return nil
}
