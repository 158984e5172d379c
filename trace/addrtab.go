package trace

import (
	"hash/maphash"
	"unsafe"

	"github.com/chaintrace/chaintrace/graph"
)

// addrTable interns addresses: it numbers them 0, 1, … in order of first sight and finds
// an address's number. A replay of Bitcoin history meets millions of addresses, one or
// two per output. A map[graph.Address]int32 of that size is full of string pointers that
// the garbage collector scans on every cycle, and it keeps every block's address strings
// alive. This table holds no pointers: the names are packed in one byte arena and the
// index is an open-addressing array of (hash tag, number) words.
//
// The hash is seeded per process, which is harmless: the table is never iterated, so no
// result depends on where an address lands in it.
type addrTable struct {
	seed  maphash.Seed
	arena []byte
	ends  []uint64 // ends[i] is where name i ends in arena; it starts where name i-1 ends
	slots []uint64 // 0 = empty; otherwise tag<<32 | (number+1), tag = the hash's top 32 bits
	mask  uint64
}

func newAddrTable(hint int) addrTable {
	t := addrTable{seed: maphash.MakeSeed()}
	n := 16
	for n*3/4 < hint {
		n *= 2
	}
	t.slots = make([]uint64, n)
	t.mask = uint64(n - 1)
	t.ends = make([]uint64, 0, hint)
	t.arena = make([]byte, 0, hint*42) // a bech32 P2WPKH address has 42 characters
	return t
}

// len returns how many addresses the table holds.
func (t *addrTable) len() int { return len(t.ends) }

// name returns address i. The string shares the arena's memory: arena bytes are never
// written again once appended (growing copies them elsewhere), so it stays valid.
func (t *addrTable) name(i int32) graph.Address {
	start := uint64(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	n := t.ends[i] - start
	if n == 0 {
		return ""
	}
	return graph.Address(unsafe.String(&t.arena[start], int(n)))
}

// find returns a's number, or false. slot is where a is, or where it would be inserted.
func (t *addrTable) find(a graph.Address) (idx int32, slot, tag uint64, ok bool) {
	h := maphash.String(t.seed, string(a))
	tag = h >> 32 << 32
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return -1, i, tag, false
		}
		if s&^0xffffffff == tag {
			j := int32(uint32(s) - 1)
			if t.name(j) == a {
				return j, i, tag, true
			}
		}
	}
}

// lookup returns a's number if the table holds a.
func (t *addrTable) lookup(a graph.Address) (int32, bool) {
	i, _, _, ok := t.find(a)
	return i, ok
}

// intern returns a's number, adding a if it is new; added says which.
func (t *addrTable) intern(a graph.Address) (idx int32, added bool) {
	i, slot, tag, ok := t.find(a)
	if ok {
		return i, false
	}
	idx = int32(len(t.ends))
	t.arena = append(t.arena, a...)
	t.ends = append(t.ends, uint64(len(t.arena)))
	t.slots[slot] = tag | uint64(uint32(idx)+1)
	if uint64(len(t.ends)) > (t.mask+1)*3/4 {
		t.grow()
	}
	return idx, true
}

// grow doubles the index and re-inserts every name.
func (t *addrTable) grow() {
	n := (t.mask + 1) * 2
	slots := make([]uint64, n)
	mask := n - 1
	for j := range t.ends {
		h := maphash.String(t.seed, string(t.name(int32(j))))
		i := h & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = h>>32<<32 | uint64(uint32(j)+1)
	}
	t.slots, t.mask = slots, mask
}
