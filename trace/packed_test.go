package trace

import (
	"testing"

	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"
)

// Packing keeps every segment exactly: narrow when all amounts fit in 64 bits (their sum
// may not), wide otherwise; hops move on unpacking, and CLEAN runs do not count as taint.
func TestPacked(t *testing.T) {
	max64 := uint256.NewInt(^uint64(0))
	st := []seg{
		{c: comp{src: 1, hop: 0}, amt: *max64},
		{c: cleanComp, amt: *uint256.NewInt(5)},
		{c: comp{src: 2, hop: 3}, amt: *max64},
	}
	var pk packer
	p := pk.pack(st)
	require.Nil(t, p.wide)
	require.Equal(t, 3, p.len())
	require.Equal(t, st, p.unpack())
	sum := new(uint256.Int).Add(max64, max64)
	got := p.taint()
	require.Equal(t, sum.Dec(), got.Dec())
	moved := p.appendTo(nil, 1)
	require.Equal(t, comp{src: 2, hop: 4}, moved[2].c)
	require.Equal(t, st[2].amt, moved[2].amt)

	wide := append([]seg(nil), st...)
	wide[1].amt.Lsh(uint256.NewInt(1), 200)
	q := pk.pack(wide)
	require.NotNil(t, q.wide)
	require.Equal(t, wide, q.unpack())
	wide[0].amt.Clear() // the packed copy does not share memory with its source
	require.Equal(t, *max64, q.at(0).amt)
	got = q.taint()
	require.Equal(t, sum.Dec(), got.Dec())

	var empty packed
	require.Nil(t, empty.unpack())
	zero := empty.taint()
	require.True(t, zero.IsZero())
}

// A movList grows in chunks without moving what it holds, and a snapshot keeps seeing
// exactly the movements recorded before it was taken.
func TestMovList(t *testing.T) {
	var l movList
	n := 3<<movChunkBits + 5
	for i := 0; i < n/2; i++ {
		require.Equal(t, int32(i), l.add(movement{seed: int32(i)}))
	}
	first := l.at(7)
	snap := l.snapshot()
	for i := n / 2; i < n; i++ {
		l.add(movement{seed: int32(i)})
	}
	require.Same(t, first, l.at(7), "growing moved a movement")
	require.Equal(t, n, l.len())
	require.Equal(t, n/2, snap.len())
	for i := int32(0); i < int32(n); i++ {
		require.Equal(t, i, l.at(i).seed)
	}
	for i := int32(0); i < int32(snap.len()); i++ {
		require.Equal(t, i, snap.at(i).seed)
	}
}
