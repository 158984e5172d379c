package trace_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/internal/randchain"
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

// runCase replays c under method and returns the result.
func runCase(t *rapid.T, c *randchain.Case, method string) *trace.Result {
	return engineFor(t, c, method).Result()
}

// engineFor replays c's blocks under method and returns the engine; setup runs on the
// engine before anything is replayed.
func engineFor(t *rapid.T, c *randchain.Case, method string, setup ...func(*trace.Engine)) *trace.Engine {
	eng, err := trace.NewEngine(trace.Config{Model: c.Model, Method: method, Seeds: c.Seeds, Exchanges: c.Exchanges, Params: c.Params})
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	for _, f := range setup {
		f(eng)
	}
	if err := c.Replay(eng); err != nil {
		t.Fatalf("replay: %v", err)
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
		for a, ax := range x.Assets {
			if ax.TaintedTotal.Gt(&ax.ReceivedTotal) {
				t.Fatalf("exposure %s %s: tainted > received", k, a)
			}
			if a != ax.Asset {
				t.Fatalf("exposure %s: row %s keyed %s", k, ax.Asset, a)
			}
			for _, d := range ax.Deposits {
				if d.Asset != a {
					t.Fatalf("exposure %s %s: deposit %s of asset %s", k, a, d.Ref, d.Asset)
				}
			}
		}
	}
	for k, a := range r.Addresses {
		for _, at := range a.Assets {
			if at.Tainted.Gt(&at.Received) {
				t.Fatalf("address %s %s: tainted > received", k, at.Asset)
			}
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
		c := randchain.UTXO(t)
		for _, m := range trace.Methods(graph.UTXO) {
			r := runCase(t, c, m)
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
		c := randchain.UTXO(t)
		fast, err := json.Marshal(runCase(t, c, trace.Haircut))
		if err != nil {
			t.Fatal(err)
		}
		wide, err := json.Marshal(engineFor(t, c, trace.Haircut, func(e *trace.Engine) { trace.SetWideOnly(e, true) }).Result())
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
		c := randchain.Account(t)
		for _, m := range trace.Methods(graph.Account) {
			r := runCase(t, c, m)
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

// sink records units that left the graph into sink name of asset.
func (r *refResult) sink(asset graph.Asset, name string, us []unit) {
	k := string(asset) + "/" + name
	for _, u := range us {
		if u.src == "" {
			continue
		}
		if r.sinks[k] == nil {
			r.sinks[k] = map[string]uint64{}
		}
		r.sinks[k][u.src]++
	}
}

// prune applies max_hops and the dust rule to the units of one output or transfer.
func prune(p trace.Params, r *refResult, asset graph.Asset, us []unit) {
	if p.MaxHops != nil {
		for i := range us {
			if us[i].src != "" && us[i].hop > int(*p.MaxHops) {
				r.sink(asset, "pruned_hops", us[i:i+1])
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
					r.sink(asset, "pruned_dust", us[i:i+1])
					us[i] = unit{}
				}
			}
		}
	}
}

func refUTXO(c *randchain.Case, method string) *refResult {
	r := newRef()
	state := map[graph.Outpoint][]unit{}
	exch := map[graph.Address]string{}
	for l, as := range c.Exchanges {
		for _, a := range as {
			exch[a] = l
		}
	}
	seedAddr := map[graph.Address]string{}
	for _, s := range c.Seeds {
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
		for _, s := range c.Seeds {
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
	for _, f := range c.Funding {
		state[f.Op] = seeded(f.Op, f.Addr, f.Value)
	}
	// distribute hands a transaction's unit stream to its outputs; it returns the fee's.
	distribute := func(tx graph.UTXOTx, stream []unit) []unit {
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
			prune(c.Params, r, graph.BTC, us)
			if m := tally(us); m != nil {
				r.moves[op.String()] = m
			}
			// Spec v2 A.2: every arrival at an exchange is absorbed, also on a
			// transaction that spends the exchange's own outputs.
			if _, ok := exch[o.Address]; ok && c.Params.StopAtExchanges {
				r.sink(graph.BTC, "exchange_absorbed", us)
				us = make([]unit, len(us))
			}
			if _, ok := seedAddr[o.Address]; ok {
				r.sink(graph.BTC, "returned_to_seed", us)
				us = seeded(op, o.Address, uint64(len(us)))
			}
			state[op] = us
		}
		return fee
	}
	for _, b := range c.Blocks {
		var coinbase *graph.UTXOTx
		var fees []unit // TaintFee: the block's fees, in transaction order
		for i, tx := range b.UTXOTxs {
			if c.Params.TaintFee && tx.Coinbase && coinbase == nil {
				coinbase = &b.UTXOTxs[i]
				continue
			}
			var stream []unit
			if tx.Coinbase { // new money: clean
				for _, o := range tx.Outputs {
					stream = append(stream, make([]unit, o.Value.Uint64())...)
				}
			}
			for _, in := range tx.Inputs {
				for _, u := range state[in.Prev] {
					if u.src != "" {
						u.hop++
					}
					stream = append(stream, u)
				}
				delete(state, in.Prev)
			}
			fee := distribute(tx, stream)
			if c.Params.TaintFee && !tx.Coinbase {
				fees = append(fees, fee...)
			} else {
				r.sink(graph.BTC, "fees", fee)
			}
		}
		if coinbase == nil {
			r.sink(graph.BTC, "fees", fees)
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
		r.sink(graph.BTC, "fees", distribute(*coinbase, stream))
	}
	for op, us := range state {
		if m := tally(us); m != nil {
			r.held[op.String()] = m
		}
	}
	return r
}

func refAccount(c *randchain.Case, method string) *refResult {
	r := newRef()
	type key struct {
		a     graph.Address
		asset graph.Asset
	}
	hold := map[key][]unit{}
	exch := map[graph.Address]string{}
	for l, as := range c.Exchanges {
		for _, a := range as {
			exch[a] = l
		}
	}
	source := map[graph.Address]string{}
	for _, s := range c.Seeds {
		if s.Address != "" {
			source[s.Address] = s.Source
		}
	}
	for _, b := range c.Balances {
		hold[key{b.Addr, b.Asset}] = make([]unit, b.Value)
	}
	move := func(id string, from, to graph.Address, asset graph.Asset, v uint64, mint bool) {
		if v == 0 || from == to || len(c.Params.Assets) > 0 && !slices.Contains(c.Params.Assets, asset) {
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
		for _, s := range c.Seeds {
			if s.Transfer == id {
				seeds = append(seeds, s)
			}
		}
		if len(seeds) > 0 {
			r.sink(asset, "overridden", moved)
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
			prune(c.Params, r, asset, moved)
		}
		if m := tally(moved); m != nil {
			r.moves[id] = m
		}
		switch {
		case to == trace.FeeSink:
			r.sink(asset, "fees", moved)
			return
		case to == graph.ZeroAddress:
			r.sink(asset, "burned", moved)
			return
		}
		if _, ok := source[to]; ok {
			r.sink(asset, "returned_to_seed", moved)
			moved = make([]unit, v)
		} else if _, ok := exch[to]; ok && c.Params.StopAtExchanges {
			// Spec v2 A.2: absorbed whatever the sender, another address of the
			// same exchange included.
			r.sink(asset, "exchange_absorbed", moved)
			moved = make([]unit, v)
		}
		hold[key{to, asset}] = append(hold[key{to, asset}], moved...)
	}
	for _, b := range c.Blocks {
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
	for a, bySink := range r.Sinks {
		for k, m := range bySink {
			key := string(a) + "/" + k
			sinks[key] = map[string]uint64{}
			for s, v := range m {
				sinks[key][s] = v.Uint64()
			}
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

// TestPropertyExchangeStops holds spec v2 A.1/A.2 on random histories, block by block, for
// both models and every method: every exchange label is listed in exposure; under stop
// semantics no exchange holds taint after any block, and everything absorbed shows in the
// exposure of the exchange that absorbed it (per asset and source); taint is conserved per
// (source, asset).
func TestPropertyExchangeStops(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var c *randchain.Case
		if rapid.Bool().Draw(t, "utxo") {
			c = randchain.UTXO(t)
		} else {
			c = randchain.Account(t)
		}
		exch := map[graph.Address]string{}
		for l, as := range c.Exchanges {
			for _, a := range as {
				exch[a] = l
			}
		}
		// An exchange that never receives anything is listed all the same.
		exchanges := map[string][]graph.Address{"Z-never-paid": {"zz-never-paid"}}
		for l, as := range c.Exchanges {
			exchanges[l] = as
		}
		for _, m := range trace.Methods(c.Model) {
			eng, err := trace.NewEngine(trace.Config{Model: c.Model, Method: m, Seeds: c.Seeds, Exchanges: exchanges, Params: c.Params})
			if err != nil {
				t.Fatalf("NewEngine: %v", err)
			}
			blocks := c.Blocks
			c.Blocks = nil
			if err := c.Replay(eng); err != nil { // funding and balances only
				t.Fatal(err)
			}
			c.Blocks = blocks
			for i := range blocks {
				if err := eng.ApplyBlock(&blocks[i]); err != nil {
					t.Fatalf("block %d: %v", i, err)
				}
				r := eng.Result()
				for l := range exchanges {
					if r.Exposure[l] == nil {
						t.Fatalf("%s block %d: exchange %s missing from exposure", m, i, l)
					}
				}
				if err := r.CheckConservation(); err != nil {
					t.Fatalf("%s block %d: %v", m, i, err)
				}
				if !c.Params.StopAtExchanges {
					continue
				}
				for k, o := range r.Unspent {
					if l, ok := exch[o.Address]; ok {
						t.Fatalf("%s block %d: exchange %s holds taint on %s", m, i, l, k)
					}
				}
				for k, h := range r.Holdings {
					if l, ok := exch[h.Address]; ok {
						t.Fatalf("%s block %d: exchange %s holds taint in %s", m, i, l, k)
					}
				}
				if m == trace.Poison {
					continue // poison's amounts are not additive
				}
				shown := map[string]graph.Amount{}
				for _, x := range r.Exposure {
					for a, ax := range x.Assets {
						for s, v := range ax.BySource {
							k := string(a) + "/" + s
							sum := shown[k]
							sum.Add(&sum, &v)
							shown[k] = sum
						}
					}
				}
				absorbed := map[string]graph.Amount{}
				for a, bySink := range r.Sinks {
					for s, v := range bySink[trace.SinkExchangeAbsorbed.String()] {
						absorbed[string(a)+"/"+s] = v
					}
				}
				if fmt.Sprint(shown) != fmt.Sprint(absorbed) {
					t.Fatalf("%s block %d: exposure by source %v, exchange_absorbed %v", m, i, shown, absorbed)
				}
			}
		}
	})
}
