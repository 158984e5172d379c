package exact_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
	"github.com/stretchr/testify/require"
)

const tka, tkb = graph.Asset("TKA"), graph.Asset("TKB")

// swapCfg: H (a source account) pays A; A swaps at venue P (link L1: in-leg x2.0, out-legs
// x3.0 and x3.1).
func swapCfg() trace.Config {
	return trace.Config{Model: graph.Account, Method: trace.Haircut, Params: trace.DefaultParams(),
		Seeds:  []trace.Seed{{Address: "H", Source: "s"}},
		Venues: []graph.Address{"P"},
		Links: []graph.Link{{ID: "L1", Kind: graph.LinkSwap, In: []graph.Leg{{Ref: "x2.0"}},
			Out: []graph.Leg{{Ref: "x3.0"}, {Ref: "x3.1"}}}}}
}

func xfer(hash, id string, from, to graph.Address, asset graph.Asset, n uint64) graph.AccountTx {
	return graph.AccountTx{Hash: hash, From: from, Success: true,
		Transfers: []graph.Transfer{{ID: id, Asset: asset, From: from, To: to, Amount: amt(n), Kind: graph.KindCall}}}
}

// swapBlocks: 3 tainted + 7 clean TKA go into the venue; 100 and 7 TKB come out.
func swapBlocks() []graph.Block {
	return []graph.Block{
		{Chain: graph.Ethereum, Height: 1, AccountTxs: []graph.AccountTx{xfer("x1", "x1.0", "H", "A", tka, 3)}},
		{Chain: graph.Ethereum, Height: 2, AccountTxs: []graph.AccountTx{xfer("x2", "x2.0", "A", "P", tka, 10)}},
		{Chain: graph.Ethereum, Height: 3, AccountTxs: []graph.AccountTx{{Hash: "x3", From: "P", Success: true, Transfers: []graph.Transfer{
			{ID: "x3.0", Asset: tkb, From: "P", To: "B", Amount: amt(100), Kind: graph.KindCall},
			{ID: "x3.1", Asset: tkb, From: "P", To: "C", Amount: amt(7), Kind: graph.KindCall},
		}}}},
	}
}

func declareSwap(r replayer) error {
	if err := r.SetBalance("H", tka, amt(3)); err != nil {
		return err
	}
	if err := r.SetBalance("A", tka, amt(7)); err != nil {
		return err
	}
	return r.SetBalance("P", tkb, amt(1000))
}

// TestLinkExactRescale: each out-leg carries exactly the buffer's taint fraction (3/10):
// 30 of 100 and 21/10 of 7 (the integer engine rounds the second to 2), one hop further
// than the in-leg; linked_out and linked_in say what crossed, and taint is conserved
// exactly per (source, asset).
func TestLinkExactRescale(t *testing.T) {
	eng, err := exact.New(swapCfg())
	require.NoError(t, err)
	require.NoError(t, declareSwap(eng))
	for _, b := range swapBlocks() {
		require.NoError(t, eng.ApplyBlock(&b))
	}
	require.NoError(t, eng.CheckLinks())
	res := eng.Result()
	require.NoError(t, res.CheckConservation())

	require.Equal(t, "3", res.Sinks.Get(tka, trace.SinkLinkedOut, "s").RatString())
	require.Equal(t, "321/10", res.LinkedIn[tkb]["s"].RatString())
	b, c := res.Transfers["x3.0"], res.Transfers["x3.1"]
	require.Equal(t, "30", b.Tainted.RatString())
	require.Equal(t, "21/10", c.Tainted.RatString())
	require.Equal(t, uint32(3), c.Taint[0].Hop) // x1.0 at hop 1, x2.0 at 2, the out-leg at 3
	require.Equal(t, "21/10", res.Holdings["C|"+string(tkb)].Tainted.RatString())
	require.Nil(t, res.Holdings["P|"+string(tka)], "a venue holds no taint")

	l := res.Links["L1"]
	require.Equal(t, "complete", l.Status)
	require.Equal(t, "10", l.InValue.RatString())
	require.Len(t, l.Out, 2)
	require.Equal(t, "21/10", l.Out[1].Taint[0].Amount.RatString())

	js, err := json.Marshal(res)
	require.NoError(t, err)
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(js, &obj))
	require.Contains(t, obj, "links")
	require.JSONEq(t, `{"TKB": {"s": "321/10"}}`, string(obj["linked_in"]))

	// The integer engine rounds the second out-leg; its first is the same.
	ieng, err := trace.NewEngine(swapCfg())
	require.NoError(t, err)
	require.NoError(t, declareSwap(ieng))
	for _, b := range swapBlocks() {
		require.NoError(t, ieng.ApplyBlock(&b))
	}
	ires := ieng.Result()
	require.NoError(t, ires.CheckConservation())
	require.Equal(t, "2", ires.Transfers["x3.1"].Tainted.Dec())
	require.Equal(t, "30", ires.Transfers["x3.0"].Tainted.Dec())
}

// TestVenueUnlinked: taint paid to a venue outside a link goes to venue_unlinked, and
// the venue is credited clean.
func TestVenueUnlinked(t *testing.T) {
	cfg := swapCfg()
	cfg.Links = nil
	eng, err := exact.New(cfg)
	require.NoError(t, err)
	require.NoError(t, declareSwap(eng))
	for _, b := range swapBlocks()[:2] {
		require.NoError(t, eng.ApplyBlock(&b))
	}
	res := eng.Result()
	require.NoError(t, res.CheckConservation())
	require.Equal(t, "3", res.Sinks.Get(tka, trace.SinkVenueUnlinked, "s").RatString())
	require.Empty(t, res.Holdings)
}

// TestLinkErrorsAsTrace: every invalid link the replay meets gives the error trace's
// engine gives, word for word, wrapping trace.ErrInvalidLink as a *trace.LinkError.
func TestLinkErrorsAsTrace(t *testing.T) {
	blocks := swapBlocks()
	cases := []struct {
		name   string
		cfg    func(*trace.Config)
		blocks []graph.Block
		says   string
	}{
		{name: "out-leg before in-leg", blocks: []graph.Block{blocks[0], blocks[2]}, says: "processed before any in-leg"},
		{name: "in-leg after out-leg", blocks: []graph.Block{blocks[0], blocks[1], blocks[2],
			{Chain: graph.Ethereum, Height: 4, AccountTxs: []graph.AccountTx{xfer("x9", "x9.0", "A", "P", tka, 0)}}},
			cfg: func(c *trace.Config) { c.Links[0].In = append(c.Links[0].In, graph.Leg{Ref: "x9.0"}) }, says: "after an out-leg"},
		{name: "in-leg not to a venue", cfg: func(c *trace.Config) { c.Links[0].In = []graph.Leg{{Ref: "x1.0"}} },
			blocks: blocks, says: "does not pay a venue"},
		{name: "out-leg not from a venue", cfg: func(c *trace.Config) { c.Links[0].Out = []graph.Leg{{Ref: "x4.0"}} },
			blocks: append(blocks[:3:3], graph.Block{Chain: graph.Ethereum, Height: 4, AccountTxs: []graph.AccountTx{xfer("x4", "x4.0", "A", "B", tka, 0)}}),
			says:   "not paid by a venue"},
		{name: "self-transfer leg", cfg: func(c *trace.Config) { c.Links[0].Out = []graph.Leg{{Ref: "x4.0"}} },
			blocks: append(blocks[:3:3], graph.Block{Chain: graph.Ethereum, Height: 4, AccountTxs: []graph.AccountTx{xfer("x4", "x4.0", "P", "P", tkb, 1)}}),
			says:   "self-transfer"},
		{name: "leg not found", blocks: blocks[:2], says: "out-leg not found"},
		{name: "in-legs of two assets", cfg: func(c *trace.Config) { c.Links[0].In = append(c.Links[0].In, graph.Leg{Ref: "x4.0"}) },
			blocks: []graph.Block{blocks[0], blocks[1], {Chain: graph.Ethereum, Height: 3, AccountTxs: []graph.AccountTx{xfer("x4", "x4.0", "A", "P", tkb, 0)}}},
			says:   "two assets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := swapCfg()
			cfg.Links = []graph.Link{{ID: "L1", Kind: graph.LinkSwap, In: append([]graph.Leg(nil), cfg.Links[0].In...), Out: append([]graph.Leg(nil), cfg.Links[0].Out...)}}
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			run := func(r interface {
				replayer
				CheckLinks() error
			}) error {
				if err := declareSwap(r); err != nil {
					return err
				}
				for i := range c.blocks {
					if err := r.ApplyBlock(&c.blocks[i]); err != nil {
						return err
					}
				}
				return r.CheckLinks()
			}
			ieng, err := trace.NewEngine(cfg)
			require.NoError(t, err)
			want := run(ieng)
			require.ErrorContains(t, want, c.says)
			eng, err := exact.New(cfg)
			require.NoError(t, err)
			got := run(eng)
			require.ErrorIs(t, got, trace.ErrInvalidLink)
			var le *trace.LinkError
			require.True(t, errors.As(got, &le))
			require.Equal(t, "L1", le.Link)
			require.Equal(t, want.Error(), got.Error())
		})
	}
}

// TestLinkConfigErrorsAsTrace: a link set or venue list the spec rejects is refused by
// New and NewMulti with trace's own errors.
func TestLinkConfigErrorsAsTrace(t *testing.T) {
	cfg := swapCfg()
	cfg.Links = append(cfg.Links, cfg.Links[0]) // two links share an id
	_, werr := trace.NewEngine(cfg)
	_, err := exact.New(cfg)
	require.ErrorIs(t, err, trace.ErrInvalidLink)
	require.Equal(t, werr.Error(), err.Error())

	cfg = swapCfg()
	cfg.Venues = append(cfg.Venues, "H") // a venue is never a seed
	_, err = exact.New(cfg)
	require.ErrorIs(t, err, trace.ErrInvalidLink)

	cfg = swapCfg()
	cfg.Chain = "eth"
	links := cfg.Links
	links[0].In[0].Chain, links[0].Out[0].Chain, links[0].Out[1].Chain = "eth", "eth", "btc" // unknown chain
	cfg.Links = nil
	seeds := []trace.Seed{{Chain: "eth", Address: "H", Source: "s"}}
	_, werr = trace.NewMulti([]trace.Config{cfg}, seeds, links)
	_, err = exact.NewMulti([]trace.Config{cfg}, seeds, links)
	require.ErrorIs(t, err, trace.ErrInvalidLink)
	require.Equal(t, werr.Error(), err.Error())
}
