package trace_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// twoChainHistory is a generated two-chain history (two account chains, "a" and "b") of
// about n transfers in all, 10 % of them through venues: swaps on one chain (ETH into the
// venue, TOK out) and bridges from one chain to the other (ETH into a's venue, ETH out of
// b's), one link each. A thief's address seeds about 10 % of the flow.
type twoChainHistory struct {
	blocks map[graph.Chain][]graph.Block
	links  []graph.Link
	n      int
}

func genTwoChains(n int) *twoChainHistory {
	r := rand.New(rand.NewPCG(7, 11))
	h := &twoChainHistory{blocks: map[graph.Chain][]graph.Block{}, n: n}
	const accounts = 50_000
	addr := func(c graph.Chain, i int) graph.Address { return graph.Address(fmt.Sprintf("0x%s%039x", c, i)) }
	height := map[graph.Chain]uint64{}
	var pendingBridges []graph.Leg // in-legs on a whose out-leg comes later on b
	now := int64(0)
	tx := func(c graph.Chain, xs ...graph.Transfer) string {
		height[c]++
		hash := fmt.Sprintf("%s-%d", c, height[c])
		for i := range xs {
			xs[i].ID = fmt.Sprintf("%s.%d", hash, i)
			xs[i].Kind = graph.KindCall
		}
		h.blocks[c] = append(h.blocks[c], graph.Block{Chain: graph.Ethereum, Height: height[c], Time: now, AccountTxs: []graph.AccountTx{{Hash: hash, From: xs[0].From, Success: true, Transfers: xs}}})
		return hash
	}
	amt := func() graph.Amount { return graph.NewAmount(uint64(1 + r.IntN(1_000_000))) }
	made := 0
	for made < n {
		now++
		c := graph.Chain("a")
		if r.IntN(2) == 1 {
			c = "b"
		}
		from := addr(c, r.IntN(accounts))
		if r.IntN(10) == 0 {
			from = addr(c, 0) // the thief: seeded on chain a
		}
		to := addr(c, 1+r.IntN(accounts-1))
		switch k := r.IntN(20); {
		case k == 0 && c == "a": // a swap: both legs on a
			in := graph.Transfer{Asset: graph.ETH, From: from, To: "venue-a", Amount: amt()}
			out := graph.Transfer{Asset: "TOK", From: "venue-a", To: to, Amount: amt()}
			hash := tx(c, in, out)
			h.links = append(h.links, graph.Link{ID: "sw-" + hash, Kind: graph.LinkSwap, In: []graph.Leg{{Chain: c, Ref: hash + ".0"}}, Out: []graph.Leg{{Chain: c, Ref: hash + ".1"}}})
			made += 2
		case k == 1 && c == "a": // the in-leg of a bridge to b
			hash := tx(c, graph.Transfer{Asset: graph.ETH, From: from, To: "venue-a", Amount: amt()})
			pendingBridges = append(pendingBridges, graph.Leg{Chain: c, Ref: hash + ".0"})
			made++
		case k <= 1 && c == "b" && len(pendingBridges) > 0: // a bridge's out-leg on b
			hash := tx(c, graph.Transfer{Asset: graph.ETH, From: "venue-b", To: to, Amount: amt()})
			in := pendingBridges[0]
			pendingBridges = pendingBridges[1:]
			h.links = append(h.links, graph.Link{ID: "br-" + in.Ref, Kind: graph.LinkBridge, In: []graph.Leg{in}, Out: []graph.Leg{{Chain: c, Ref: hash + ".0"}}})
			made++
		default:
			tx(c, graph.Transfer{Asset: graph.ETH, From: from, To: to, Amount: amt()})
			made++
		}
	}
	// In-legs still waiting are links without out-legs (pending).
	for _, in := range pendingBridges {
		h.links = append(h.links, graph.Link{ID: "br-" + in.Ref, Kind: graph.LinkBridge, In: []graph.Leg{in}})
	}
	return h
}

func (h *twoChainHistory) replay(b *testing.B, method string, links bool) *trace.Multi {
	p := trace.DefaultParams()
	p.ImplicitBalances = true // the history starts mid-way: balances from before are clean
	cfg := func(c graph.Chain) trace.Config {
		cf := trace.Config{Chain: c, Model: graph.Account, Method: method, Params: p, SizeHint: 60_000,
			Exchanges: map[string][]graph.Address{"EX": {graph.Address(fmt.Sprintf("0x%s%039x", c, 7))}}}
		if links {
			cf.Venues = []graph.Address{graph.Address("venue-" + c)}
		}
		return cf
	}
	var ls []graph.Link
	if links {
		ls = h.links
	}
	m, err := trace.NewMulti([]trace.Config{cfg("a"), cfg("b")}, []trace.Seed{{Chain: "a", Address: graph.Address(fmt.Sprintf("0x%s%039x", "a", 0)), Source: "thief"}}, ls)
	if err != nil {
		b.Fatal(err)
	}
	srcs := map[graph.Chain]trace.ChainBlocks{}
	for c, bs := range h.blocks {
		srcs[c] = &blockSlice{blocks: bs}
	}
	if err := m.Replay(context.Background(), srcs); err != nil {
		b.Fatal(err)
	}
	return m
}

var (
	twoChainsOnce sync.Once
	twoChains     *twoChainHistory
)

// BenchmarkReplayTwoChains replays the two-chain history (CHAINTRACE_BENCH_TX transfers,
// default 1,000,000; 10 % through venues) with its links, and the same transfers with no
// venues or links: the floor the links' cost is measured against. Units are transfers.
func BenchmarkReplayTwoChains(b *testing.B) {
	n := benchSize()
	twoChainsOnce.Do(func() { twoChains = genTwoChains(n) })
	h := twoChains
	for _, m := range []string{trace.Haircut, trace.FIFO} {
		for _, links := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/links=%v", m, links), func(b *testing.B) {
				var el, cpu time.Duration
				for i := 0; i < b.N; i++ {
					cpu0, start := replayCPUTime(), time.Now()
					mt := h.replay(b, m, links)
					el += time.Since(start)
					cpu += replayCPUTime() - cpu0
					if links && len(mt.Result().Links) != len(h.links) {
						b.Fatal("links missing from the result")
					}
				}
				units := float64(h.n) * float64(b.N)
				b.ReportMetric(units/el.Seconds(), "units/s")
				b.ReportMetric(units/cpu.Seconds(), "units/cpu-s")
			})
		}
	}
}
