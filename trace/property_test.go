package trace_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"pgregory.net/rapid"
)

// The property tests replay random small chains under every method and check what the
// spec promises for all inputs: taint is conserved per source (every method but poison),
// nothing exceeds the value it rides on, and — against an independent unit-by-unit model
// that tracks every satoshi or wei on its own — FIFO, LIFO, TIHO and seniority move
// exactly the units the spec says, which also shows they never round.

type unit struct {
	src string // "" = clean
	hop int
}

type chainCase struct {
	model     graph.Model
	funding   []fundingOut
	balances  []trace.Seed // Address + Amount (+ Source = asset) for account initial balances
	seeds     []trace.Seed
	exchanges map[string][]graph.Address
	params    trace.Params
	blocks    []graph.Block
}

type fundingOut struct {
	op    graph.Outpoint
	addr  graph.Address
	value uint64
}

var addrPool = []graph.Address{"a0", "a1", "a2", "a3", "a4", "a5", "ex0", "ex1"}

func genParams(t *rapid.T) trace.Params {
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

func genExchanges(t *rapid.T) map[string][]graph.Address {
	ex := map[string][]graph.Address{}
	switch rapid.IntRange(0, 2).Draw(t, "exchanges") {
	case 1:
		ex["E"] = []graph.Address{"ex0"}
	case 2:
		ex["E"] = []graph.Address{"ex0", "ex1"}
	}
	return ex
}

func genUTXO(t *rapid.T) *chainCase {
	c := &chainCase{model: graph.UTXO, exchanges: genExchanges(t), params: genParams(t)}
	type live struct {
		op    graph.Outpoint
		value uint64
	}
	var lives []live
	nf := rapid.IntRange(1, 5).Draw(t, "funding")
	for i := 0; i < nf; i++ {
		f := fundingOut{op: graph.Outpoint{TxID: fmt.Sprintf("f%d", i)}, addr: addrPool[rapid.IntRange(0, 5).Draw(t, "faddr")], value: uint64(rapid.IntRange(0, 60).Draw(t, "fvalue"))}
		c.funding = append(c.funding, f)
		lives = append(lives, live{f.op, f.value})
	}
	sources := []string{"s1", "s2"}
	for i := range c.funding {
		if rapid.IntRange(0, 2).Draw(t, "seeded") > 0 {
			op := c.funding[i].op
			s := trace.Seed{Outpoint: &op, Source: sources[rapid.IntRange(0, 1).Draw(t, "src")]}
			if rapid.Bool().Draw(t, "partial") {
				a := graph.NewAmount(uint64(rapid.IntRange(0, 70).Draw(t, "amount")))
				s.Amount = &a
			}
			c.seeds = append(c.seeds, s)
		}
	}
	if rapid.Bool().Draw(t, "addr_seed") {
		c.seeds = append(c.seeds, trace.Seed{Address: addrPool[rapid.IntRange(0, 5).Draw(t, "seed_addr")], Source: sources[rapid.IntRange(0, 1).Draw(t, "asrc")]})
	}
	c.params.TaintFee = rapid.IntRange(0, 2).Draw(t, "taint_fee") == 0
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
		c.blocks = append(c.blocks, blk)
	}
	// Seed addresses must not be exchanges.
	for _, s := range c.seeds {
		if s.Address == "ex0" || s.Address == "ex1" {
			c.exchanges = map[string][]graph.Address{}
		}
	}
	return c
}

func genAccount(t *rapid.T) *chainCase {
	c := &chainCase{model: graph.Account, exchanges: genExchanges(t), params: genParams(t)}
	assets := []graph.Asset{graph.ETH, "TOK"}
	bal := map[[2]string]uint64{}
	for _, a := range addrPool[:6] {
		for _, as := range assets {
			v := uint64(rapid.IntRange(0, 40).Draw(t, "bal"))
			if v > 0 {
				amt := graph.NewAmount(v)
				c.balances = append(c.balances, trace.Seed{Address: a, Source: string(as), Amount: &amt})
				bal[[2]string{string(a), string(as)}] = v
			}
		}
	}
	srcAddr := graph.Address("")
	if rapid.Bool().Draw(t, "source_account") {
		srcAddr = addrPool[rapid.IntRange(0, 5).Draw(t, "seed_addr")]
		c.seeds = append(c.seeds, trace.Seed{Address: srcAddr, Source: "s1"})
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
				c.seeds = append(c.seeds, s)
			}
			tx.Transfers = append(tx.Transfers, x)
		}
		c.blocks = append(c.blocks, graph.Block{Chain: graph.Ethereum, Height: uint64(i + 1), AccountTxs: []graph.AccountTx{tx}})
	}
	if srcAddr == "ex0" || srcAddr == "ex1" {
		c.exchanges = map[string][]graph.Address{}
	}
	return c
}

func (c *chainCase) run(t *rapid.T, method string) *trace.Result {
	return c.engine(t, method).Result()
}

// engine replays the case's blocks and returns the engine.
func (c *chainCase) engine(t *rapid.T, method string, setup ...func(*trace.Engine)) *trace.Engine {
	eng, err := trace.NewEngine(trace.Config{Model: c.model, Method: method, Seeds: c.seeds, Exchanges: c.exchanges, Params: c.params})
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	for _, f := range setup {
		f(eng)
	}
	for _, f := range c.funding {
		if err := eng.Fund(f.op, f.addr, graph.NewAmount(f.value)); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range c.balances {
		if err := eng.SetBalance(b.Address, graph.Asset(b.Source), *b.Amount); err != nil {
			t.Fatal(err)
		}
	}
	// Resolve inputs the way an adapter or the store would.
	vals := map[graph.Outpoint]fundingOut{}
	for _, f := range c.funding {
		vals[f.op] = f
	}
	for bi := range c.blocks {
		for ti := range c.blocks[bi].UTXOTxs {
			tx := &c.blocks[bi].UTXOTxs[ti]
			for k := range tx.Inputs {
				f := vals[tx.Inputs[k].Prev]
				tx.Inputs[k].Address, tx.Inputs[k].Value, tx.Inputs[k].Resolved = f.addr, graph.NewAmount(f.value), true
			}
			for k, o := range tx.Outputs {
				vals[graph.Outpoint{TxID: tx.TxID, Index: uint32(k)}] = fundingOut{addr: o.Address, value: o.Value.Uint64()}
			}
		}
		if err := eng.ApplyBlock(&c.blocks[bi]); err != nil {
			t.Fatalf("ApplyBlock %d: %v", bi, err)
		}
	}
	return eng
}

func checkInvariants(t *rapid.T, r *trace.Result) {
	if err := r.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	check := func(what string, value graph.Amount, tainted graph.Amount, cs []trace.Component) {
		if tainted.Gt(&value) {
			t.Fatalf("%s: tainted %s > value %s", what, tainted.Dec(), value.Dec())
		}
		var sum graph.Amount
		for _, c := range cs {
			if c.Amount.IsZero() || c.Amount.Gt(&value) {
				t.Fatalf("%s: component %s/%d amount %s out of range", what, c.Source, c.Hop, c.Amount.Dec())
			}
			sum.Add(&sum, &c.Amount)
		}
		if r.Method != trace.Poison && !sum.Eq(&tainted) {
			t.Fatalf("%s: components sum %s, tainted %s", what, sum.Dec(), tainted.Dec())
		}
	}
	for k, o := range r.Outputs {
		check("output "+k, o.Value, o.Tainted, o.Taint)
	}
	for k, o := range r.Unspent {
		check("unspent "+k, o.Value, o.Tainted, o.Taint)
	}
	for k, x := range r.Transfers {
		check("transfer "+k, x.Amount, x.Tainted, x.Taint)
	}
	for k, h := range r.Holdings {
		check("holding "+k, h.Balance, h.Tainted, h.Taint)
	}
	for k, x := range r.Exposure {
		if x.TaintedTotal.Gt(&x.ReceivedTotal) {
			t.Fatalf("exposure %s: tainted > received", k)
		}
	}
	for k, a := range r.Addresses {
		if a.TaintedReceived.Gt(&a.Received) {
			t.Fatalf("address %s: tainted > received", k)
		}
	}
	// Every tainted movement can be explained back to a seed.
	for k := range r.Outputs {
		explain(t, r, k)
	}
	for k := range r.Transfers {
		explain(t, r, k)
	}
}

func explain(t *rapid.T, r *trace.Result, ref string) {
	paths, err := r.Evidence(ref)
	if err != nil {
		t.Fatalf("evidence %s: %v", ref, err)
	}
	for _, p := range paths {
		if !p.Complete || p.Steps[0].Kind != "seed" || p.Steps[len(p.Steps)-1].Ref != ref {
			t.Fatalf("evidence %s: incomplete path %+v", ref, p)
		}
	}
}

func TestPropertyUTXO(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genUTXO(t)
		for _, m := range trace.Methods(graph.UTXO) {
			r := c.run(t, m)
			checkInvariants(t, r)
			if m == trace.FIFO || m == trace.LIFO || m == trace.TIHO {
				compareUnits(t, m, r, refUTXO(c, m))
			}
		}
	})
}

// TestPropertyHaircut64 holds haircut's 64-bit path (split64 and the outputs it packs
// directly) equal to the general 256-bit path: the same result object, sinks included.
func TestPropertyHaircut64(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genUTXO(t)
		fast, err := json.Marshal(c.run(t, trace.Haircut))
		if err != nil {
			t.Fatal(err)
		}
		wide, err := json.Marshal(c.engine(t, trace.Haircut, func(e *trace.Engine) { trace.SetWideOnly(e, true) }).Result())
		if err != nil {
			t.Fatal(err)
		}
		if string(fast) != string(wide) {
			t.Fatalf("64-bit path: %s\n256-bit path: %s", fast, wide)
		}
	})
}

func TestPropertyAccount(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genAccount(t)
		for _, m := range trace.Methods(graph.Account) {
			r := c.run(t, m)
			checkInvariants(t, r)
			if m == trace.FIFO || m == trace.LIFO || m == trace.Seniority {
				compareUnits(t, m, r, refAccount(c, m))
			}
		}
	})
}

// ---- the unit-by-unit reference model ----

type refResult struct {
	moves map[string]map[unit]uint64 // tainted outputs / transfers as they arrived
	held  map[string]map[unit]uint64 // unspent outputs / holdings
	sinks map[string]map[string]uint64
}

func newRef() *refResult {
	return &refResult{moves: map[string]map[unit]uint64{}, held: map[string]map[unit]uint64{}, sinks: map[string]map[string]uint64{}}
}

func tally(us []unit) map[unit]uint64 {
	m := map[unit]uint64{}
	for _, u := range us {
		if u.src != "" {
			m[u]++
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func (r *refResult) sink(name string, us []unit) {
	for _, u := range us {
		if u.src == "" {
			continue
		}
		if r.sinks[name] == nil {
			r.sinks[name] = map[string]uint64{}
		}
		r.sinks[name][u.src]++
	}
}

// prune applies max_hops and the dust rule to the units of one output or transfer.
func prune(p trace.Params, r *refResult, us []unit) {
	if p.MaxHops != nil {
		for i := range us {
			if us[i].src != "" && us[i].hop > int(*p.MaxHops) {
				r.sink("pruned_hops", us[i:i+1])
				us[i] = unit{}
			}
		}
	}
	per := map[string]uint64{}
	for _, u := range us {
		if u.src != "" {
			per[u.src]++
		}
	}
	v := uint64(len(us))
	for s, n := range per {
		cut := n < p.MinTaint.Uint64()
		if p.MinFraction != nil && n*p.MinFraction.Den.Uint64() < p.MinFraction.Num.Uint64()*v {
			cut = true
		}
		if cut {
			for i := range us {
				if us[i].src == s {
					r.sink("pruned_dust", us[i:i+1])
					us[i] = unit{}
				}
			}
		}
	}
}

func refUTXO(c *chainCase, method string) *refResult {
	r := newRef()
	state := map[graph.Outpoint][]unit{}
	addrOf := map[graph.Outpoint]graph.Address{}
	exch := map[graph.Address]string{}
	for l, as := range c.exchanges {
		for _, a := range as {
			exch[a] = l
		}
	}
	seedAddr := map[graph.Address]string{}
	for _, s := range c.seeds {
		if s.Address != "" {
			if _, ok := seedAddr[s.Address]; !ok {
				seedAddr[s.Address] = s.Source
			}
		}
	}
	seeded := func(op graph.Outpoint, a graph.Address, v uint64) []unit {
		us := make([]unit, v)
		k := uint64(0)
		if s, ok := seedAddr[a]; ok {
			for ; k < v; k++ {
				us[k] = unit{src: s}
			}
		}
		for _, s := range c.seeds {
			if s.Outpoint == nil || *s.Outpoint != op {
				continue
			}
			n := v - k
			if s.Amount != nil && s.Amount.Uint64() < n {
				n = s.Amount.Uint64()
			}
			for i := uint64(0); i < n; i++ {
				us[k] = unit{src: s.Source}
				k++
			}
		}
		return us
	}
	for _, f := range c.funding {
		state[f.op] = seeded(f.op, f.addr, f.value)
		addrOf[f.op] = f.addr
	}
	// distribute hands a transaction's unit stream to its outputs; it returns the fee's.
	distribute := func(tx graph.UTXOTx, stream []unit, inAddr map[string]bool) []unit {
		if method == trace.TIHO {
			var t, cl []unit
			for _, u := range stream {
				if u.src != "" {
					t = append(t, u)
				} else {
					cl = append(cl, u)
				}
			}
			stream = append(t, cl...)
		}
		order := make([]int, len(tx.Outputs))
		for i := range order {
			order[i] = i
		}
		if method == trace.TIHO {
			sort.SliceStable(order, func(a, b int) bool {
				return tx.Outputs[order[a]].Value.Uint64() > tx.Outputs[order[b]].Value.Uint64()
			})
		}
		got := make([][]unit, len(tx.Outputs))
		for _, i := range order {
			v := int(tx.Outputs[i].Value.Uint64())
			if method == trace.LIFO {
				got[i] = append([]unit(nil), stream[len(stream)-v:]...)
				stream = stream[:len(stream)-v]
			} else {
				got[i] = append([]unit(nil), stream[:v]...)
				stream = stream[v:]
			}
		}
		fee := stream // what is left is the fee
		for i, o := range tx.Outputs {
			op := graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}
			us := got[i]
			prune(c.params, r, us)
			if m := tally(us); m != nil {
				r.moves[op.String()] = m
			}
			if l, ok := exch[o.Address]; ok && c.params.StopAtExchanges && !inAddr[l] {
				r.sink("exchange_absorbed", us)
				us = make([]unit, len(us))
			}
			if _, ok := seedAddr[o.Address]; ok {
				r.sink("returned_to_seed", us)
				us = seeded(op, o.Address, uint64(len(us)))
			}
			state[op] = us
			addrOf[op] = o.Address
		}
		return fee
	}
	for _, b := range c.blocks {
		var coinbase *graph.UTXOTx
		var fees []unit // TaintFee: the block's fees, in transaction order
		for i, tx := range b.UTXOTxs {
			if c.params.TaintFee && tx.Coinbase && coinbase == nil {
				coinbase = &b.UTXOTxs[i]
				continue
			}
			var stream []unit
			if tx.Coinbase { // new money: clean
				for _, o := range tx.Outputs {
					stream = append(stream, make([]unit, o.Value.Uint64())...)
				}
			}
			inAddr := map[string]bool{}
			for _, in := range tx.Inputs {
				for _, u := range state[in.Prev] {
					if u.src != "" {
						u.hop++
					}
					stream = append(stream, u)
				}
				if l, ok := exch[addrOf[in.Prev]]; ok {
					inAddr[l] = true
				}
				delete(state, in.Prev)
			}
			fee := distribute(tx, stream, inAddr)
			if c.params.TaintFee && !tx.Coinbase {
				fees = append(fees, fee...)
			} else {
				r.sink("fees", fee)
			}
		}
		if coinbase == nil {
			r.sink("fees", fees)
			continue
		}
		// The coinbase's inputs: the subsidy (what it claims beyond the fees), clean, then
		// the fees, one hop further.
		var claimed uint64
		for _, o := range coinbase.Outputs {
			claimed += o.Value.Uint64()
		}
		var stream []unit
		if claimed > uint64(len(fees)) {
			stream = make([]unit, claimed-uint64(len(fees)))
		}
		for _, u := range fees {
			if u.src != "" {
				u.hop++
			}
			stream = append(stream, u)
		}
		r.sink("fees", distribute(*coinbase, stream, map[string]bool{}))
	}
	for op, us := range state {
		if m := tally(us); m != nil {
			r.held[op.String()] = m
		}
	}
	return r
}

func refAccount(c *chainCase, method string) *refResult {
	r := newRef()
	type key struct {
		a     graph.Address
		asset graph.Asset
	}
	hold := map[key][]unit{}
	exch := map[graph.Address]string{}
	for l, as := range c.exchanges {
		for _, a := range as {
			exch[a] = l
		}
	}
	source := map[graph.Address]string{}
	for _, s := range c.seeds {
		if s.Address != "" {
			source[s.Address] = s.Source
		}
	}
	for _, b := range c.balances {
		hold[key{b.Address, graph.Asset(b.Source)}] = make([]unit, b.Amount.Uint64())
	}
	move := func(id string, from, to graph.Address, asset graph.Asset, v uint64, mint bool) {
		if v == 0 || from == to {
			return
		}
		var moved []unit
		switch {
		case mint:
			moved = make([]unit, v)
		default:
			h := hold[key{from, asset}]
			switch method {
			case trace.FIFO:
				moved, h = append([]unit(nil), h[:v]...), h[v:]
			case trace.LIFO:
				moved, h = append([]unit(nil), h[len(h)-int(v):]...), h[:len(h)-int(v)]
			default: // seniority: tainted units first, oldest first; then clean
				take := make([]bool, len(h))
				n := uint64(0)
				for pass := 0; pass < 2; pass++ {
					for i := range h {
						if n < v && !take[i] && (h[i].src != "") == (pass == 0) {
							take[i] = true
							n++
						}
					}
				}
				var keep []unit
				for i := range h {
					if take[i] {
						moved = append(moved, h[i])
					} else {
						keep = append(keep, h[i])
					}
				}
				h = keep
			}
			hold[key{from, asset}] = h
			if s, ok := source[from]; ok {
				for i := range moved {
					moved[i] = unit{src: s}
				}
			}
		}
		for i := range moved {
			if moved[i].src != "" {
				moved[i].hop++
			}
		}
		var seeds []trace.Seed
		for _, s := range c.seeds {
			if s.Transfer == id {
				seeds = append(seeds, s)
			}
		}
		if len(seeds) > 0 {
			r.sink("overridden", moved)
			moved = make([]unit, v)
			k := uint64(0)
			for _, s := range seeds {
				n := v - k
				if s.Amount != nil && s.Amount.Uint64() < n {
					n = s.Amount.Uint64()
				}
				for i := uint64(0); i < n; i++ {
					moved[k] = unit{src: s.Source}
					k++
				}
			}
		}
		if to != trace.FeeSink {
			prune(c.params, r, moved)
		}
		if m := tally(moved); m != nil {
			r.moves[id] = m
		}
		switch {
		case to == trace.FeeSink:
			r.sink("fees", moved)
			return
		case to == graph.ZeroAddress:
			r.sink("burned", moved)
			return
		}
		if _, ok := source[to]; ok {
			r.sink("returned_to_seed", moved)
			moved = make([]unit, v)
		} else if l, ok := exch[to]; ok && c.params.StopAtExchanges && exch[from] != l {
			r.sink("exchange_absorbed", moved)
			moved = make([]unit, v)
		}
		hold[key{to, asset}] = append(hold[key{to, asset}], moved...)
	}
	for _, b := range c.blocks {
		for _, tx := range b.AccountTxs {
			move(tx.Hash+"#fee", tx.From, trace.FeeSink, graph.ETH, tx.Fee.Uint64(), false)
			if !tx.Success {
				continue
			}
			for _, x := range tx.Transfers {
				if x.Reverted {
					continue
				}
				move(x.ID, x.From, x.To, x.Asset, x.Amount.Uint64(), x.From == graph.ZeroAddress)
			}
		}
	}
	for k, us := range hold {
		if _, ok := source[k.a]; ok {
			continue
		}
		if m := tally(us); m != nil {
			r.held[string(k.a)+"|"+string(k.asset)] = m
		}
	}
	return r
}

func compareUnits(t *rapid.T, method string, r *trace.Result, ref *refResult) {
	flat := func(cs []trace.Component) map[unit]uint64 {
		m := map[unit]uint64{}
		for _, c := range cs {
			m[unit{c.Source, int(c.Hop)}] += c.Amount.Uint64()
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}
	moves := map[string]map[unit]uint64{}
	held := map[string]map[unit]uint64{}
	for k, o := range r.Outputs {
		moves[k] = flat(o.Taint)
	}
	for k, x := range r.Transfers {
		moves[k] = flat(x.Taint)
	}
	for k, o := range r.Unspent {
		held[k] = flat(o.Taint)
	}
	for k, h := range r.Holdings {
		held[k] = flat(h.Taint)
	}
	sinks := map[string]map[string]uint64{}
	for k, m := range r.Sinks {
		sinks[k] = map[string]uint64{}
		for s, v := range m {
			sinks[k][s] = v.Uint64()
		}
	}
	eq := func(what string, a, b any) {
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("%s %s differs from the unit model:\nengine %v\nunits  %v", method, what, a, b)
		}
	}
	eq("movements", moves, ref.moves)
	eq("holdings", held, ref.held)
	eq("sinks", sinks, ref.sinks)
}
