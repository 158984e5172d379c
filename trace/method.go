package trace

import (
	"fmt"
	"math/bits"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// stateKind says how a method represents a holding's taint.
type stateKind uint8

const (
	sourceSet   stateKind = iota // poison: {source: min hop}
	composition                  // haircut: tainted components, clean implicit
	sequence                     // FIFO/LIFO/TIHO/seniority: ordered runs incl. clean
)

// Method is a taint method: the strategy that decides which units leave a holding (spec
// §7 for UTXO transactions, §8.3 for account debits). The engine does everything else —
// hops, seeds, pruning, sinks, exposure — identically for every method. Obtain one with
// MethodByName; the set of methods is closed because each must follow the spec exactly.
type Method interface {
	Name() string
	// Supports reports whether the method is defined for the model.
	Supports(graph.Model) bool
	kind() stateKind
	// split distributes a UTXO transaction's unit stream. ins are the inputs' states
	// (after the hop +1; nil = clean) with their values; outs[i] receives output i's
	// state (values[i] units), outs[len(values)] the fee's.
	split(s *splitter, ins []inState, values []uint256.Int, fee *uint256.Int, outs [][]seg)
	// take removes a units from an account holding whose state is st and balance bal
	// (bal ≥ a, bal not yet reduced) and returns the new state and the moved units,
	// appended to moved, in chronological order.
	take(s *splitter, st []seg, bal, a *uint256.Int, moved []seg) (newState, movedOut []seg)
	// put credits moved units to an account holding.
	put(st, moved []seg) []seg
}

// inState is one input of a UTXO transaction as the methods see it: its state after the
// hop +1 (nil = clean), or, for haircut only, narrow: a 64-bit composition at rest whose
// hops are still one short. The narrow form is the stored state itself, so it must not be
// changed; it spares a tainted input's unpacking into 40-byte segments.
type inState struct {
	st     []seg
	narrow []cseg
	value  uint256.Int
}

// MethodByName returns the method with the given name (see the constants Poison … Seniority).
func MethodByName(name string) (Method, error) {
	switch name {
	case Poison:
		return poisonMethod{}, nil
	case Haircut:
		return haircutMethod{}, nil
	case FIFO:
		return seqMethod{name: FIFO}, nil
	case LIFO:
		return seqMethod{name: LIFO}, nil
	case TIHO:
		return seqMethod{name: TIHO}, nil
	case Seniority:
		return seqMethod{name: Seniority}, nil
	}
	return nil, fmt.Errorf("%w: unknown method %q (known: poison, haircut, fifo, lifo, tiho, seniority)", ErrBadConfig, name)
}

// splitter holds the scratch space the methods use, so that the hot path does not
// allocate. One splitter belongs to one engine.
type splitter struct {
	ap     apportioner
	stream []seg
	pool   []seg
	order  []int
	tmp    []seg
	slab   []seg
	pool64 []cseg // haircut's 64-bit pool (split64)
	tmp64  []cseg
	// outs64 holds split64's outputs when narrowOuts is set: output i's composition with
	// its hops counted, instead of outs[i]. The fee is in outs as usual. They are never
	// changed afterwards, so they may become packed states.
	outs64     [][]cseg
	narrowOuts bool
	// pk is the engine's packer: split64 carves its outputs from the packer's slab, so
	// that an output kept as it is needs no copy to become a packed state.
	pk *packer
	// wideOnly turns split64 off (tests hold the two paths equal).
	wideOnly bool
}

// alloc64 returns an empty slice with room for n narrow segments, from the packer's
// slab: memory kept for good, as packed states are.
func (s *splitter) alloc64(n int) []cseg { return s.pk.carve(n)[:0] }

// widen appends narrow segments to dst as segments.
func widen(dst []seg, ns []cseg) []seg {
	for _, n := range ns {
		g := seg{c: n.c}
		g.amt.SetUint64(n.amt)
		dst = append(dst, g)
	}
	return dst
}

// alloc returns an empty slice with room for n segments, carved from a slab. What it
// returns lives until the next reset: states are packed (packer) before they are kept, so
// the slab is scratch space for one transaction or transfer. The capacity is capped, so
// appending beyond n reallocates instead of overwriting a neighbour.
func (s *splitter) alloc(n int) []seg {
	if len(s.slab)+n > cap(s.slab) {
		// Too small for this transaction: a bigger slab. What was carved from the old one
		// stays valid (it is still referenced) until the transaction ends.
		s.slab = make([]seg, 0, max(2*cap(s.slab), 4096, 2*n))
	}
	start := len(s.slab)
	s.slab = s.slab[:start+n]
	return s.slab[start : start : start+n]
}

// reset makes the slab's space available again; nothing carved from it may be in use.
func (s *splitter) reset() { s.slab = s.slab[:0] }

// clone copies ss into slab memory.
func (s *splitter) clone(ss []seg) []seg {
	if len(ss) == 0 {
		return nil
	}
	out := s.alloc(len(ss))
	return append(out, ss...)
}

// ---- poison ----

type poisonMethod struct{}

func (poisonMethod) Name() string              { return Poison }
func (poisonMethod) Supports(graph.Model) bool { return true }
func (poisonMethod) kind() stateKind           { return sourceSet }

func (poisonMethod) split(s *splitter, ins []inState, values []uint256.Int, fee *uint256.Int, outs [][]seg) {
	set := s.tmp[:0]
	for i := range ins {
		for _, g := range ins[i].st {
			set = setAdd(set, g.c)
		}
	}
	s.tmp = set
	for i := range values {
		if !values[i].IsZero() {
			outs[i] = s.clone(set)
		}
	}
	if !fee.IsZero() {
		outs[len(values)] = s.clone(set)
	}
}

func (poisonMethod) take(s *splitter, st []seg, bal, a *uint256.Int, moved []seg) ([]seg, []seg) {
	// Every source in the holding leaves with the full amount; poison is permanent.
	return st, append(moved, st...)
}

func (poisonMethod) put(st, moved []seg) []seg {
	for _, g := range moved {
		st = setAdd(st, g.c)
	}
	return st
}

// ---- haircut ----

type haircutMethod struct{}

func (haircutMethod) Name() string              { return Haircut }
func (haircutMethod) Supports(graph.Model) bool { return true }
func (haircutMethod) kind() stateKind           { return composition }

func (haircutMethod) split(s *splitter, ins []inState, values []uint256.Int, fee *uint256.Int, outs [][]seg) {
	if !s.wideOnly && split64(s, ins, values, fee, outs) {
		return
	}
	// Pool = Σ input compositions + CLEAN (Σ inputs − Σ taint), spec §7.3.
	pool := s.pool[:0]
	var clean, total uint256.Int
	for i := range ins {
		total.Add(&total, &ins[i].value)
		st := ins[i].st
		if len(ins[i].narrow) > 0 {
			st = (&packed{narrow: ins[i].narrow}).appendTo(s.alloc(len(ins[i].narrow)), 1)
		}
		if len(st) == 0 {
			continue
		}
		if len(pool) == 0 {
			pool = append(pool, st...)
			continue
		}
		// Input compositions are sorted: merge them in linear time.
		s.tmp = mergeComps(pool, st, s.tmp)
		pool, s.tmp = s.tmp, pool
	}
	t := taintOf(pool)
	clean.Sub(&total, &t)
	for i := range values {
		if values[i].IsZero() {
			continue
		}
		parts := s.ap.withdraw(pool, &clean, &values[i])
		var out []seg
		n := 0
		for k := range pool {
			if !parts[k].IsZero() {
				n++
			}
		}
		if n > 0 {
			out = s.alloc(n)
			for k := range pool {
				if !parts[k].IsZero() {
					out = append(out, seg{c: pool[k].c, amt: parts[k]})
				}
			}
		}
		clean.Sub(&clean, &parts[len(pool)])
		// Subtract in place; drop emptied components afterwards so parts stay aligned.
		for k := range pool {
			pool[k].amt.Sub(&pool[k].amt, &parts[k])
		}
		pool = dropEmpty(pool)
		outs[i] = out
	}
	// The fee receives what is left of the pool.
	if len(pool) > 0 {
		outs[len(values)] = s.clone(pool)
	}
	s.pool = pool
}

// split64 is haircut's split when every amount fits in 64 bits (always so for satoshi)
// and every tainted input is narrow: the pool stays in 16-byte segments with 64-bit
// arithmetic from the stored states to the outputs' parts. It gives exactly the parts of
// the general path (the apportionment is the same integer computation) and reports false,
// doing nothing, when it does not apply.
func split64(s *splitter, ins []inState, values []uint256.Int, fee *uint256.Int, outs [][]seg) bool {
	var total uint64
	for i := range ins {
		if len(ins[i].st) > 0 || !ins[i].value.IsUint64() {
			return false
		}
		var c uint64
		total, c = bits.Add64(total, ins[i].value.Uint64(), 0)
		if c != 0 {
			return false
		}
	}
	for i := range values {
		if !values[i].IsUint64() {
			return false
		}
	}
	if !fee.IsUint64() {
		return false
	}
	if cap(s.outs64) < len(values) {
		s.outs64 = make([][]cseg, len(values))
	}
	s.outs64 = s.outs64[:len(values)]
	clear(s.outs64)
	s.narrowOuts = true
	// Merge the inputs' compositions (each sorted; adding a hop to all keeps the order).
	pool := s.pool64[:0]
	for i := range ins {
		in := ins[i].narrow
		if len(in) == 0 {
			continue
		}
		if len(pool) == 0 {
			pool = append(pool, in...)
			continue
		}
		s.tmp64 = mergeNarrow(pool, in, s.tmp64)
		pool, s.tmp64 = s.tmp64, pool
	}
	var taint uint64
	for k := range pool {
		taint += pool[k].amt // ≤ total: no overflow
	}
	clean := total - taint
	for i := range values {
		a := values[i].Uint64()
		if a == 0 {
			continue
		}
		parts := s.ap.withdraw64(pool, clean, a)
		n := 0
		for k := range pool {
			if parts[k] != 0 {
				n++
			}
		}
		var out []cseg
		if n > 0 {
			out = s.alloc64(n)
			for k := range pool {
				if parts[k] != 0 {
					out = append(out, cseg{c: comp{src: pool[k].c.src, hop: pool[k].c.hop + 1}, amt: parts[k]})
				}
			}
		}
		clean -= parts[len(pool)]
		j := 0
		for k := range pool {
			if left := pool[k].amt - parts[k]; left != 0 {
				pool[j] = cseg{c: pool[k].c, amt: left}
				j++
			}
		}
		pool = pool[:j]
		s.outs64[i] = out
	}
	if len(pool) > 0 {
		out := s.alloc(len(pool))
		for _, g := range pool {
			f := seg{c: comp{src: g.c.src, hop: g.c.hop + 1}}
			f.amt.SetUint64(g.amt)
			out = append(out, f)
		}
		outs[len(values)] = out
	}
	s.pool64 = pool
	return true
}

// mergeNarrow is mergeComps on narrow compositions. Sums cannot overflow: they are
// bounded by the transaction's input total, which the caller checked fits in 64 bits.
func mergeNarrow(into, add, out []cseg) []cseg {
	out = out[:0]
	i, j := 0, 0
	for i < len(into) && j < len(add) {
		switch {
		case into[i].c == add[j].c:
			out = append(out, cseg{c: into[i].c, amt: into[i].amt + add[j].amt})
			i++
			j++
		case into[i].c.less(add[j].c):
			out = append(out, into[i])
			i++
		default:
			out = append(out, add[j])
			j++
		}
	}
	out = append(out, into[i:]...)
	return append(out, add[j:]...)
}

func dropEmpty(ss []seg) []seg {
	j := 0
	for i := range ss {
		if !ss[i].amt.IsZero() {
			ss[j] = ss[i]
			j++
		}
	}
	return ss[:j]
}

func (haircutMethod) take(s *splitter, st []seg, bal, a *uint256.Int, moved []seg) ([]seg, []seg) {
	if len(st) == 0 {
		return st, moved
	}
	var clean uint256.Int
	t := taintOf(st)
	clean.Sub(bal, &t)
	parts := s.ap.withdraw(st, &clean, a)
	for k := range st {
		if !parts[k].IsZero() {
			moved = append(moved, seg{c: st[k].c, amt: parts[k]})
			st[k].amt.Sub(&st[k].amt, &parts[k])
		}
	}
	return dropEmpty(st), moved
}

func (haircutMethod) put(st, moved []seg) []seg {
	for i := range moved {
		if !moved[i].c.clean() {
			st = compAdd(st, moved[i].c, &moved[i].amt)
		}
	}
	return st
}

// ---- FIFO, LIFO, TIHO, seniority ----

type seqMethod struct{ name string }

func (m seqMethod) Name() string { return m.name }
func (m seqMethod) Supports(md graph.Model) bool {
	switch m.name {
	case TIHO:
		return md == graph.UTXO
	case Seniority:
		return md == graph.Account
	}
	return true
}
func (seqMethod) kind() stateKind { return sequence }

func (m seqMethod) split(s *splitter, ins []inState, values []uint256.Int, fee *uint256.Int, outs [][]seg) {
	// The unit stream: the input sequences in input order (spec §7.4); a clean input is
	// one CLEAN run of its value.
	stream := s.stream[:0]
	for i := range ins {
		if len(ins[i].st) == 0 {
			stream = appendSeg(stream, seg{c: cleanComp, amt: ins[i].value})
			continue
		}
		for _, g := range ins[i].st {
			stream = appendSeg(stream, g)
		}
	}
	if m.name == TIHO {
		// Tainted runs first, then clean runs, each in stream order (spec §7.6).
		tmp := s.tmp[:0]
		for _, g := range stream {
			if !g.c.clean() {
				tmp = append(tmp, g)
			}
		}
		for _, g := range stream {
			if g.c.clean() {
				tmp = appendSeg(tmp, g)
			}
		}
		s.tmp, stream = stream[:0], tmp
	}
	// Recipient order: outputs by index, then the fee; TIHO orders outputs by value
	// descending, lower index first on ties.
	order := s.order[:0]
	for i := range values {
		order = append(order, i)
	}
	if m.name == TIHO {
		for x := 1; x < len(order); x++ {
			for y := x; y > 0; y-- {
				a, b := order[y], order[y-1]
				if c := values[a].Cmp(&values[b]); c > 0 || (c == 0 && a < b) {
					order[y], order[y-1] = b, a
				} else {
					break
				}
			}
		}
	}
	order = append(order, len(values))
	s.order = order
	fromBack := m.name == LIFO
	lo, hi := 0, len(stream) // stream[lo:hi] is what is left
	for _, r := range order {
		want := fee
		if r < len(values) {
			want = &values[r]
		}
		if want.IsZero() {
			continue
		}
		var need uint256.Int
		need.Set(want)
		var out []seg
		if !fromBack {
			start := lo
			for !need.IsZero() && lo < hi {
				if stream[lo].amt.Gt(&need) {
					stream[lo].amt.Sub(&stream[lo].amt, &need)
					need.Clear()
					break
				}
				need.Sub(&need, &stream[lo].amt)
				lo++
			}
			// Runs start..lo-1 were taken whole; a partial run (if any) was split at lo.
			out = s.alloc(lo - start + 1)
			out = append(out, stream[start:lo]...)
			var took uint256.Int
			took.Sub(want, &need)
			var whole uint256.Int
			for _, g := range stream[start:lo] {
				whole.Add(&whole, &g.amt)
			}
			if took.Gt(&whole) {
				var part uint256.Int
				part.Sub(&took, &whole)
				out = appendSeg(out, seg{c: stream[lo].c, amt: part})
			}
		} else {
			end := hi
			var partial seg
			hasPartial := false
			for !need.IsZero() && lo < hi {
				g := &stream[hi-1]
				if g.amt.Gt(&need) {
					g.amt.Sub(&g.amt, &need)
					partial = seg{c: g.c, amt: need}
					hasPartial = true
					need.Clear()
					break
				}
				need.Sub(&need, &g.amt)
				hi--
			}
			// Stored in chronological (stream) order: the partial run comes first.
			out = s.alloc(end - hi + 1)
			if hasPartial {
				out = append(out, partial)
			}
			for _, g := range stream[hi:end] {
				out = appendSeg(out, g)
			}
		}
		outs[r] = out
	}
	s.stream = stream
}

func (m seqMethod) take(s *splitter, st []seg, bal, a *uint256.Int, moved []seg) ([]seg, []seg) {
	var need uint256.Int
	need.Set(a)
	switch m.name {
	case FIFO:
		i := 0
		for ; i < len(st) && !need.IsZero(); i++ {
			if st[i].amt.Gt(&need) {
				moved = append(moved, seg{c: st[i].c, amt: need})
				st[i].amt.Sub(&st[i].amt, &need)
				need.Clear()
				break
			}
			moved = append(moved, st[i])
			need.Sub(&need, &st[i].amt)
		}
		n := copy(st, st[i:])
		return st[:n], moved
	case LIFO:
		i := len(st)
		var partial seg
		hasPartial := false
		for i > 0 && !need.IsZero() {
			g := &st[i-1]
			if g.amt.Gt(&need) {
				partial = seg{c: g.c, amt: need}
				hasPartial = true
				g.amt.Sub(&g.amt, &need)
				need.Clear()
				break
			}
			need.Sub(&need, &g.amt)
			i--
		}
		if hasPartial {
			moved = append(moved, partial)
		}
		moved = append(moved, st[i:]...)
		return st[:i], moved
	default: // Seniority: tainted runs first (oldest first), then clean runs oldest first.
		// Mark what leaves in tmp (amount taken per run), then emit in chronological order.
		take := s.tmp[:0]
		for range st {
			take = append(take, seg{})
		}
		for pass := 0; pass < 2 && !need.IsZero(); pass++ {
			for i := range st {
				if need.IsZero() {
					break
				}
				if st[i].c.clean() != (pass == 1) {
					continue
				}
				if st[i].amt.Gt(&need) {
					take[i].amt = need
					need.Clear()
				} else {
					take[i].amt = st[i].amt
					need.Sub(&need, &st[i].amt)
				}
			}
		}
		j := 0
		for i := range st {
			if !take[i].amt.IsZero() {
				moved = append(moved, seg{c: st[i].c, amt: take[i].amt})
				st[i].amt.Sub(&st[i].amt, &take[i].amt)
			}
			if !st[i].amt.IsZero() {
				st[j] = st[i]
				j++
			}
		}
		s.tmp = take
		return mergeRuns(st[:j]), moved
	}
}

// mergeRuns merges adjacent runs of the same component.
func mergeRuns(st []seg) []seg {
	if len(st) < 2 {
		return st
	}
	j := 0
	for i := 1; i < len(st); i++ {
		if st[i].c == st[j].c {
			st[j].amt.Add(&st[j].amt, &st[i].amt)
			continue
		}
		j++
		st[j] = st[i]
	}
	return st[:j+1]
}

func (seqMethod) put(st, moved []seg) []seg {
	for _, g := range moved {
		st = appendSeg(st, g)
	}
	return st
}
