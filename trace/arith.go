package trace

import (
	"math/bits"
	"slices"
	"sort"

	"github.com/holiman/uint256"
)

// comp is a taint component: a (source, hop) pair. src is an index into the engine's
// source table, 1-based and in bytewise order of the source names, so comparing src
// values compares names; src 0 is CLEAN.
type comp struct {
	src uint32
	hop uint32
}

func (c comp) clean() bool { return c.src == 0 }

func (c comp) less(d comp) bool {
	if c.src != d.src {
		return c.src < d.src
	}
	return c.hop < d.hop
}

var cleanComp = comp{}

// seg is a run of units of one component. A holding's state is a []seg whose meaning
// depends on the method: a sequence (FIFO/LIFO/TIHO/seniority; clean runs included, oldest
// first), a composition (haircut; tainted components only, sorted, clean implicit) or a
// source set (poison; amt unused, hop is the minimum hop).
type seg struct {
	c   comp
	amt uint256.Int
}

// appendSeg appends s to a sequence, merging it into the last run when the component is
// the same, so that sequences stay short.
func appendSeg(seq []seg, s seg) []seg {
	if s.amt.IsZero() {
		return seq
	}
	if n := len(seq); n > 0 && seq[n-1].c == s.c {
		seq[n-1].amt.Add(&seq[n-1].amt, &s.amt)
		return seq
	}
	return append(seq, s)
}

// compAdd adds amt of component c to a sorted composition.
func compAdd(cs []seg, c comp, amt *uint256.Int) []seg {
	if amt.IsZero() {
		return cs
	}
	i := sort.Search(len(cs), func(i int) bool { return !cs[i].c.less(c) })
	if i < len(cs) && cs[i].c == c {
		cs[i].amt.Add(&cs[i].amt, amt)
		return cs
	}
	cs = append(cs, seg{})
	copy(cs[i+1:], cs[i:])
	cs[i] = seg{c: c, amt: *amt}
	return cs
}

// compSub subtracts amt of component c from a sorted composition, dropping it at zero.
// The caller guarantees amt ≤ the held amount.
func compSub(cs []seg, c comp, amt *uint256.Int) []seg {
	if amt.IsZero() {
		return cs
	}
	for i := range cs {
		if cs[i].c == c {
			cs[i].amt.Sub(&cs[i].amt, amt)
			if cs[i].amt.IsZero() {
				return append(cs[:i], cs[i+1:]...)
			}
			return cs
		}
	}
	return cs
}

// setAdd adds component c to a poison source set, keeping the minimum hop per source.
func setAdd(set []seg, c comp) []seg {
	for i := range set {
		if set[i].c.src == c.src {
			if c.hop < set[i].c.hop {
				set[i].c.hop = c.hop
			}
			return set
		}
	}
	i := sort.Search(len(set), func(i int) bool { return set[i].c.src > c.src })
	set = append(set, seg{})
	copy(set[i+1:], set[i:])
	set[i] = seg{c: c}
	return set
}

// taintOf sums the tainted units of a sequence or composition.
func taintOf(ss []seg) uint256.Int {
	var t uint256.Int
	for i := range ss {
		if !ss[i].c.clean() {
			t.Add(&t, &ss[i].amt)
		}
	}
	return t
}

// apportioner computes Hamilton (largest-remainder) apportionment, spec §6. It keeps its
// scratch space between calls so the hot path does not allocate.
type apportioner struct {
	part64 []uint64
	rem64  []uint64
	rem    []uint256.Int
	idx    []int
	part   []uint256.Int
}

// withdraw splits a units out of pool (components plus clean units; total P = Σpool) and
// returns the parts in pool order: parts[i] for pool[i], parts[len(pool)] for clean.
// Each part lies in {floor(q), ceil(q)} of its exact share q = a·pool[c]/P, the parts sum
// to a, and ties in the remainder go to taint first, then by source name, then by hop.
// The returned slice is reused by the next call.
func (ap *apportioner) withdraw(pool []seg, clean *uint256.Int, a *uint256.Int) []uint256.Int {
	n := len(pool) + 1
	if cap(ap.part) < n {
		ap.part = make([]uint256.Int, n)
		ap.rem = make([]uint256.Int, n)
		ap.idx = make([]int, n)
	}
	part, rem := ap.part[:n], ap.rem[:n]
	var total uint256.Int
	total.Set(clean)
	for i := range pool {
		total.Add(&total, &pool[i].amt)
	}
	if a.Eq(&total) { // everything moves
		for i := range pool {
			part[i] = pool[i].amt
		}
		part[n-1] = *clean
		return part
	}
	var sum uint256.Int
	idx := ap.idx[:0]
	if total.IsUint64() {
		// Every amount fits in 64 bits (always so for satoshi): a·v fits in 128 bits and
		// the quotient a·v/P ≤ v in 64, so bits.Mul64/Div64 give the exact same parts and
		// remainders as the 256-bit path at a fraction of the cost.
		A, P := a.Uint64(), total.Uint64()
		if cap(ap.rem64) < n {
			ap.rem64 = make([]uint64, n)
		}
		rem64 := ap.rem64[:n]
		var s64 uint64
		for i := 0; i < n; i++ {
			v := clean
			if i < len(pool) {
				v = &pool[i].amt
			}
			if v.IsZero() || A == 0 {
				part[i].Clear()
				rem[i].Clear()
				continue
			}
			hi, lo := bits.Mul64(A, v.Uint64())
			q, r := bits.Div64(hi, lo, P)
			part[i].SetUint64(q)
			rem64[i] = r
			s64 += q
			if r != 0 {
				idx = append(idx, i)
			}
		}
		ap.idx = idx
		R := A - s64
		if R == 0 {
			return part
		}
		// The R largest remainders in finish's order (larger first, then pool order)
		// each get a unit. Which R they are is all that matters, not their order among
		// themselves, so a selection in linear time replaces the sort.
		top := selectTop(idx, rem64, int(R))
		for _, i := range top {
			part[i].AddUint64(&part[i], 1)
		}
		return part
	}
	for i := 0; i < n; i++ {
		v := clean
		if i < len(pool) {
			v = &pool[i].amt
		}
		if v.IsZero() || a.IsZero() {
			part[i].Clear()
			rem[i].Clear()
			continue
		}
		// a·v < 2^512 cannot overflow MulDivOverflow's 512-bit intermediate, and the
		// quotient ≤ a fits in 256 bits.
		part[i].MulDivOverflow(a, v, &total)
		rem[i].MulMod(a, v, &total)
		sum.Add(&sum, &part[i])
		if !rem[i].IsZero() {
			idx = append(idx, i)
		}
	}
	return ap.finish(part, rem, idx, a, &sum)
}

// withdraw64 is withdraw on a narrow pool, for haircut's 64-bit split: the same
// apportionment, parts[i] for pool[i] and parts[len(pool)] for clean. The caller
// guarantees that the pool and clean sum to at most 2^64−1 and that a does not exceed it.
func (ap *apportioner) withdraw64(pool []cseg, clean, a uint64) []uint64 {
	n := len(pool) + 1
	if cap(ap.part64) < n {
		ap.part64 = make([]uint64, n)
		ap.rem64 = make([]uint64, n)
	}
	part, rem := ap.part64[:n], ap.rem64[:n]
	P := clean
	for i := range pool {
		P += pool[i].amt
	}
	if a == P { // everything moves
		for i := range pool {
			part[i] = pool[i].amt
		}
		part[n-1] = clean
		return part
	}
	idx := ap.idx[:0]
	var sum uint64
	for i := 0; i < n; i++ {
		v := clean
		if i < len(pool) {
			v = pool[i].amt
		}
		if v == 0 || a == 0 {
			part[i], rem[i] = 0, 0
			continue
		}
		// a, v ≤ P, so a·v < P² and the high word is below P: Div64 cannot overflow.
		hi, lo := bits.Mul64(a, v)
		q, r := bits.Div64(hi, lo, P)
		part[i], rem[i] = q, r
		sum += q
		if r != 0 {
			idx = append(idx, i)
		}
	}
	ap.idx = idx
	if R := a - sum; R > 0 {
		for _, i := range selectTop(idx, rem, int(R)) {
			part[i]++
		}
	}
	return part
}

// finish hands the R = a − Σ floors leftover units to the largest remainders.
func (ap *apportioner) finish(part, rem []uint256.Int, idx []int, a, sum *uint256.Int) []uint256.Int {
	ap.idx = idx
	var r uint256.Int
	r.Sub(a, sum)
	if r.IsZero() {
		return part
	}
	// R < number of components, so it fits in an int.
	R := int(r.Uint64())
	// Order by remainder descending; ties: tainted before clean (clean is index n-1),
	// then source, then hop — pool order is already (source, hop) order.
	if len(idx) <= 12 {
		// Insertion sort for the usual handful of components.
		for x := 1; x < len(idx); x++ {
			for y := x; y > 0 && remBefore(rem, idx[y], idx[y-1]); y-- {
				idx[y], idx[y-1] = idx[y-1], idx[y]
			}
		}
	} else {
		// Deep histories mix many (source, hop) components: O(k log k).
		slices.SortFunc(idx, func(i, j int) int {
			if c := rem[i].Cmp(&rem[j]); c != 0 {
				return -c
			}
			return i - j
		})
	}
	one := uint256.NewInt(1)
	for k := 0; k < R && k < len(idx); k++ {
		part[idx[k]].Add(&part[idx[k]], one)
	}
	return part
}

// selectTop reorders idx so that its first r entries are the r greatest under "larger
// remainder first, then smaller index", and returns them. The order is total (indices
// differ), so the chosen set is the same as a full sort's. It is Hoare's quickselect with
// a median-of-three pivot: linear on average, and k is at most a few hundred.
func selectTop(idx []int, rem []uint64, r int) []int {
	if r >= len(idx) {
		return idx
	}
	before := func(i, j int) bool { return rem[i] > rem[j] || rem[i] == rem[j] && i < j }
	lo, hi := 0, len(idx)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Median of three into idx[mid].
		if before(idx[mid], idx[lo]) {
			idx[mid], idx[lo] = idx[lo], idx[mid]
		}
		if before(idx[hi], idx[lo]) {
			idx[hi], idx[lo] = idx[lo], idx[hi]
		}
		if before(idx[hi], idx[mid]) {
			idx[hi], idx[mid] = idx[mid], idx[hi]
		}
		p := idx[mid]
		i, j := lo, hi
		for i <= j {
			for before(idx[i], p) {
				i++
			}
			for before(p, idx[j]) {
				j--
			}
			if i <= j {
				idx[i], idx[j] = idx[j], idx[i]
				i++
				j--
			}
		}
		// Now idx[lo..j] ≤ p ≤ idx[i..hi] in the order, and j < i.
		switch {
		case r-1 <= j:
			hi = j
		case r-1 >= i:
			lo = i
		default:
			return idx[:r]
		}
	}
	return idx[:r]
}

// remBefore reports whether component i gets a leftover unit before component j.
func remBefore(rem []uint256.Int, i, j int) bool {
	if c := rem[i].Cmp(&rem[j]); c != 0 {
		return c > 0
	}
	return i < j
}

// mergeComps adds the sorted composition add into the sorted composition into, using
// out as scratch, and returns the merged composition (linear, unlike repeated compAdd).
func mergeComps(into, add, out []seg) []seg {
	out = out[:0]
	i, j := 0, 0
	for i < len(into) && j < len(add) {
		switch {
		case into[i].c == add[j].c:
			g := into[i]
			g.amt.Add(&g.amt, &add[j].amt)
			out = append(out, g)
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
