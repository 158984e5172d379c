package trace

import (
	"fmt"
	"math/big"
	"math/rand"
	"sort"
	"testing"

	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestWithdrawSpecExamples pins the rounding examples the spec gives (§6) and vector A01.
func TestWithdrawSpecExamples(t *testing.T) {
	var ap apportioner
	// 40,000,000.5 tainted / 19,999,999.5 clean: the exact tie goes to taint.
	pool := []seg{{c: comp{src: 1, hop: 1}, amt: *uint256.NewInt(80_000_001)}}
	clean := uint256.NewInt(39_999_999)
	parts := ap.withdraw(pool, clean, uint256.NewInt(60_000_000))
	require.Equal(t, "40000001", parts[0].Dec())
	require.Equal(t, "19999999", parts[1].Dec())

	// A01: 1 ETH out of 11 ETH of which 1 tainted: taint floor, the leftover wei to clean.
	e18 := uint256.MustFromDecimal("1000000000000000000")
	pool = []seg{{c: comp{src: 1, hop: 1}, amt: *e18}}
	clean = uint256.MustFromDecimal("10000000000000000000")
	parts = ap.withdraw(pool, clean, e18)
	require.Equal(t, "90909090909090909", parts[0].Dec())

	// Two sources of 1 each, balance 2, send 1: flooring each would give 0 and 0.
	pool = []seg{{c: comp{src: 1}, amt: *uint256.NewInt(1)}, {c: comp{src: 2}, amt: *uint256.NewInt(1)}}
	parts = ap.withdraw(pool, new(uint256.Int), uint256.NewInt(1))
	require.Equal(t, "1", parts[0].Dec(), "tie: the lower source id (bytewise first name) wins")
	require.Equal(t, "0", parts[1].Dec())
}

// TestWithdrawHamilton checks the apportionment's defining properties on random pools,
// including amounts near 2^256 where a·pool[c] needs 512 bits.
func TestWithdrawHamilton(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 24).Draw(t, "components")
		big256 := rapid.Bool().Draw(t, "huge")
		draw := func(label string) *uint256.Int {
			v := uint256.NewInt(rapid.Uint64Range(0, 1_000_000).Draw(t, label))
			if big256 {
				v.Lsh(v, uint(rapid.IntRange(0, 230).Draw(t, label+"_shift")))
			}
			return v
		}
		var pool []seg
		total := new(big.Int)
		for i := 0; i < n; i++ {
			v := draw("v")
			pool = append(pool, seg{c: comp{src: uint32(i + 1), hop: uint32(i % 3)}, amt: *v})
			total.Add(total, v.ToBig())
		}
		clean := draw("clean")
		total.Add(total, clean.ToBig())
		if total.BitLen() > 256 {
			t.Skip("pool total exceeds 2^256")
		}
		// a in [0, P]
		ab := new(big.Int).Rand(rng(t), new(big.Int).Add(total, big.NewInt(1)))
		a, _ := uint256.FromBig(ab)
		var ap apportioner
		parts := ap.withdraw(pool, clean, a)
		sum := new(big.Int)
		for i := 0; i <= n; i++ {
			v := clean
			if i < n {
				v = &pool[i].amt
			}
			p := parts[i].ToBig()
			sum.Add(sum, p)
			if total.Sign() == 0 {
				continue
			}
			q := new(big.Int).Mul(ab, v.ToBig())
			fl := new(big.Int).Quo(q, total)
			ce := new(big.Int).Set(fl)
			if new(big.Int).Rem(q, total).Sign() != 0 {
				ce.Add(ce, big.NewInt(1))
			}
			if p.Cmp(fl) < 0 || p.Cmp(ce) > 0 {
				t.Fatalf("part %d = %s outside [%s, %s]", i, p, fl, ce)
			}
			if p.Cmp(v.ToBig()) > 0 {
				t.Fatalf("part %d = %s exceeds its pool %s", i, p, v.Dec())
			}
		}
		if sum.Cmp(ab) != 0 {
			t.Fatalf("parts sum to %s, want %s", sum, ab)
		}
	})
}

type rapidSource struct{ t *rapid.T }

func (r rapidSource) Int63() int64 { return int64(rapid.Uint64().Draw(r.t, "rand") >> 1) }
func (r rapidSource) Seed(int64)   {}

func rng(t *rapid.T) *rand.Rand { return rand.New(rapidSource{t}) }

func TestFracLess(t *testing.T) {
	max := new(uint256.Int).SetAllOne()
	one := uint256.NewInt(1)
	two := uint256.NewInt(2)
	// (2^256−1)/(2^256−1) < 1/2 is false; 1/(2^256−1) < 1/2 is true — needs 512 bits.
	require.False(t, fracLess(max, max, one, two))
	require.True(t, fracLess(one, max, one, two))
	require.False(t, fracLess(uint256.NewInt(5), uint256.NewInt(10), one, two))
	require.True(t, fracLess(uint256.NewInt(4), uint256.NewInt(10), one, two))
}

// TestWithdrawMatchesSpecRule checks withdraw, on the 64-bit and the 256-bit path, against
// a literal big.Int transcription of spec §6: floors, then one unit each to the R largest
// remainders with ties to taint first, then source, then hop. Small values and up to 300
// components make equal remainders common, so the tie order is exercised.
func TestWithdrawMatchesSpecRule(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 300).Draw(t, "components")
		shift := uint(0)
		if rapid.Bool().Draw(t, "huge") {
			shift = 150 // beyond 64 bits: the 256-bit path
		}
		maxV := rapid.Uint64Range(1, 50).Draw(t, "max")
		var pool []seg
		for i := 0; i < n; i++ {
			v := uint256.NewInt(rapid.Uint64Range(1, maxV).Draw(t, "v"))
			v.Lsh(v, shift)
			pool = append(pool, seg{c: comp{src: uint32(i/7 + 1), hop: uint32(i % 7)}, amt: *v})
		}
		clean := uint256.NewInt(rapid.Uint64Range(0, maxV).Draw(t, "clean"))
		clean.Lsh(clean, shift)
		total := new(big.Int).Set(clean.ToBig())
		for i := range pool {
			total.Add(total, pool[i].amt.ToBig())
		}
		// a in [0, P], drawn so that its top bits vary uniformly (not only small values).
		small := new(big.Int).Rsh(total, shift).Uint64()
		ab := new(big.Int).Lsh(new(big.Int).SetUint64(rapid.Uint64Range(0, small).Draw(t, "a")), shift)
		if shift > 0 && ab.Cmp(total) < 0 {
			ab.Add(ab, new(big.Int).SetUint64(rapid.Uint64().Draw(t, "a_low")))
		}
		a, _ := uint256.FromBig(ab)

		// The reference: index n is CLEAN, which loses every tie.
		want := make([]*big.Int, n+1)
		rems := make([]*big.Int, n+1)
		sum := new(big.Int)
		for i := 0; i <= n; i++ {
			v := clean.ToBig()
			if i < n {
				v = pool[i].amt.ToBig()
			}
			want[i], rems[i] = big.NewInt(0), big.NewInt(0)
			if total.Sign() > 0 {
				want[i].QuoRem(new(big.Int).Mul(ab, v), total, rems[i])
			}
			sum.Add(sum, want[i])
		}
		order := make([]int, n+1)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(x, y int) bool { return rems[order[x]].Cmp(rems[order[y]]) > 0 })
		R := new(big.Int).Sub(ab, sum).Int64()
		for k := 0; k < int(R); k++ {
			want[order[k]].Add(want[order[k]], big.NewInt(1))
		}

		var ap apportioner
		got := ap.withdraw(pool, clean, a)
		for i := 0; i <= n; i++ {
			if got[i].ToBig().Cmp(want[i]) != 0 {
				t.Fatalf("part %d = %s, spec rule gives %s", i, got[i].Dec(), want[i])
			}
		}
	})
}

// TestSplit64EqualsGeneral checks haircut's 64-bit split against the general 256-bit path
// on the same transaction: the parts of every output and the fee must be identical,
// remainder ties included (small amounts make ties common).
func TestSplit64EqualsGeneral(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		small := rapid.Bool().Draw(t, "small")
		amount := func(label string) uint64 {
			if small {
				return rapid.Uint64Range(0, 12).Draw(t, label)
			}
			return rapid.Uint64Range(0, 1<<61).Draw(t, label)
		}
		nIn := rapid.IntRange(1, 4).Draw(t, "inputs")
		var narrow, wide []inState
		var total uint64
		for i := 0; i < nIn; i++ {
			// A sorted composition of distinct (source, hop) components.
			var comps []cseg
			var taint uint64
			for src := uint32(1); src <= 3; src++ {
				for hop := uint32(0); hop < 4; hop++ {
					if rapid.IntRange(0, 2).Draw(t, "has") == 0 {
						if a := amount("amt"); a > 0 {
							comps = append(comps, cseg{c: comp{src: src, hop: hop}, amt: a})
							taint += a
						}
					}
				}
			}
			value := taint + amount("clean")
			total += value
			var v uint256.Int
			v.SetUint64(value)
			narrow = append(narrow, inState{narrow: comps, value: v})
			wide = append(wide, inState{st: (&packed{narrow: comps}).appendTo(nil, 1), value: v})
		}
		// Outputs take random parts of the total; the fee gets the rest.
		nOut := rapid.IntRange(1, 4).Draw(t, "outputs")
		var values []uint256.Int
		left := total
		for i := 0; i < nOut; i++ {
			v := rapid.Uint64Range(0, left).Draw(t, "value")
			left -= v
			values = append(values, *uint256.NewInt(v))
		}
		fee := uint256.NewInt(left)
		s64, sGen := splitter{pk: &packer{}}, splitter{}
		out64 := make([][]seg, nOut+1)
		outGen := make([][]seg, nOut+1)
		require.True(t, split64(&s64, narrow, values, fee, out64))
		haircutMethod{}.split(&sGen, wide, values, fee, outGen) // st set: the general path
		// split64 leaves the outputs narrow (in outs64) and the fee in outs.
		require.True(t, s64.narrowOuts)
		for i := 0; i < nOut; i++ {
			require.Nil(t, out64[i])
			out64[i] = widen(nil, s64.outs64[i])
		}
		for i := range out64 {
			require.Equal(t, len(outGen[i]), len(out64[i]), "output %d", i)
			for k := range out64[i] {
				require.Equal(t, outGen[i][k], out64[i][k], "output %d component %d", i, k)
			}
		}
	})
}

// TestSelectTopEqualsSort: the R units go to the R largest remainders, ties to the
// smaller index, for small and large sets, with few distinct remainders (many ties) or
// wide ones.
func TestSelectTopEqualsSort(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 48).Draw(t, "n")
		if rapid.IntRange(0, 3).Draw(t, "large") > 0 {
			n = rapid.IntRange(49, 400).Draw(t, "n_large") // deep histories' component counts
		}
		spread := rapid.SampledFrom([]uint64{3, 1000, 1 << 40, ^uint64(0)}).Draw(t, "spread")
		rem := make([]uint64, n)
		idx := make([]int, 0, n)
		for i := range rem {
			rem[i] = rapid.Uint64Range(0, spread).Draw(t, "rem")
			if rapid.IntRange(0, 9).Draw(t, "skip") > 0 { // idx holds the nonzero ones in practice; any subset works
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return
		}
		r := rapid.IntRange(0, len(idx)).Draw(t, "r")
		want := append([]int(nil), idx...)
		sort.Slice(want, func(a, b int) bool {
			i, j := want[a], want[b]
			return rem[i] > rem[j] || rem[i] == rem[j] && i < j
		})
		want = want[:r]
		got := append([]int(nil), selectTop(idx, rem, r)...)
		sort.Ints(want)
		sort.Ints(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("selectTop(r=%d) = %v, want %v", r, got, want)
		}
	})
}
