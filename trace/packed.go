package trace

import "github.com/holiman/uint256"

// cseg is a seg whose amount fits in 64 bits: 16 bytes instead of 40.
type cseg struct {
	c   comp
	amt uint64
}

// packed is a state at rest: the stored state of a tainted unspent output, or the taint
// of an evidence record. Replays keep millions of them, and nearly every amount fits in
// 64 bits (every satoshi amount does), so they are kept as csegs; a state with a wider
// amount stays a []seg. The methods work on []seg: a state is unpacked when it is used.
// A packed state is never changed once made, so records may share one.
type packed struct {
	narrow []cseg
	wide   []seg // instead of narrow, when some amount exceeds 64 bits
}

func (p *packed) len() int { return len(p.narrow) + len(p.wide) }

// at returns segment i.
func (p *packed) at(i int) seg {
	if p.wide != nil {
		return p.wide[i]
	}
	g := seg{c: p.narrow[i].c}
	g.amt.SetUint64(p.narrow[i].amt)
	return g
}

// appendTo appends the segments to dst, moving every component hops further.
func (p *packed) appendTo(dst []seg, hops uint32) []seg {
	if p.wide != nil {
		for _, g := range p.wide {
			g.c.hop += hops
			dst = append(dst, g)
		}
		return dst
	}
	for _, n := range p.narrow {
		g := seg{c: comp{src: n.c.src, hop: n.c.hop + hops}}
		g.amt.SetUint64(n.amt)
		dst = append(dst, g)
	}
	return dst
}

// find returns the segment of component c in a packed aggregate (sorted by component,
// each component once, as every evidence record's taint is), by binary search.
func (p *packed) find(c comp) (seg, bool) {
	lo, hi := 0, p.len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		var mc comp
		if p.wide != nil {
			mc = p.wide[mid].c
		} else {
			mc = p.narrow[mid].c
		}
		if mc.less(c) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < p.len() {
		if g := p.at(lo); g.c == c {
			return g, true
		}
	}
	return seg{}, false
}

// unpack returns the segments in a new slice (for paths that are not hot).
func (p *packed) unpack() []seg {
	if p.len() == 0 {
		return nil
	}
	return p.appendTo(make([]seg, 0, p.len()), 0)
}

// taint returns the sum of the tainted (non-CLEAN) amounts.
func (p *packed) taint() uint256.Int {
	var t uint256.Int
	if p.wide != nil {
		return taintOf(p.wide)
	}
	var lo, hi uint64
	for _, n := range p.narrow {
		if !n.c.clean() {
			var c uint64
			lo, c = add64(lo, n.amt)
			hi += c
		}
	}
	t[0], t[1] = lo, hi
	return t
}

func add64(a, b uint64) (uint64, uint64) {
	s := a + b
	if s < a {
		return s, 1
	}
	return s, 0
}

// packer packs states into slab memory, so that many small states share few allocations.
type packer struct {
	slab []cseg
}

// carve returns n segments of slab memory (a state of its own when large).
func (pk *packer) carve(n int) []cseg {
	if n > 256 {
		return make([]cseg, n)
	}
	if len(pk.slab)+n > cap(pk.slab) {
		pk.slab = make([]cseg, 0, 8192)
	}
	start := len(pk.slab)
	pk.slab = pk.slab[:start+n]
	return pk.slab[start : start+n : start+n]
}

// pack returns st as a packed state. st itself is not kept.
func (pk *packer) pack(st []seg) packed {
	if len(st) == 0 {
		return packed{}
	}
	for i := range st {
		if !st[i].amt.IsUint64() {
			return packed{wide: append([]seg(nil), st...)}
		}
	}
	out := pk.carve(len(st))
	for i := range st {
		out[i] = cseg{c: st[i].c, amt: st[i].amt.Uint64()}
	}
	return packed{narrow: out}
}
