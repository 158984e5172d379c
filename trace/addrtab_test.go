package trace

import (
	"fmt"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

// The address table numbers addresses in order of first sight, finds every one of them
// again after many growths, and gives back their names, the empty name included.
func TestAddrTable(t *testing.T) {
	for _, hint := range []int{0, 10, 100_000} {
		tab := newAddrTable(hint)
		names := []graph.Address{""}
		for i := 0; i < 50_000; i++ {
			names = append(names, graph.Address(fmt.Sprintf("bc1q%038x", uint64(i)*0xbf58476d1ce4e5b9)))
		}
		for i, a := range names {
			idx, added := tab.intern(a)
			require.True(t, added)
			require.Equal(t, int32(i), idx)
		}
		require.Equal(t, len(names), tab.len())
		for i, a := range names {
			idx, added := tab.intern(a)
			require.False(t, added, a)
			require.Equal(t, int32(i), idx)
			got, ok := tab.lookup(a)
			require.True(t, ok)
			require.Equal(t, int32(i), got)
			require.Equal(t, a, tab.name(int32(i)))
		}
		_, ok := tab.lookup("bc1qnothere")
		require.False(t, ok)
	}
}

func BenchmarkAddrTable(b *testing.B) {
	names := make([]graph.Address, 1<<20)
	for i := range names {
		names[i] = graph.Address(fmt.Sprintf("bc1q%038x", uint64(i)*0xbf58476d1ce4e5b9))
	}
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			tab := newAddrTable(len(names))
			for _, a := range names {
				tab.intern(a)
			}
			for _, a := range names {
				tab.lookup(a)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			m := make(map[graph.Address]int32, len(names))
			for i, a := range names {
				if _, ok := m[a]; !ok {
					m[a] = int32(i)
				}
			}
			for _, a := range names {
				_ = m[a]
			}
		}
	})
}
