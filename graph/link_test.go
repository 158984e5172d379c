package graph

import (
	"errors"
	"reflect"
	"testing"
)

func TestJoinLinks(t *testing.T) {
	eth := func(r string) Leg { return Leg{Chain: Ethereum, Ref: r} }
	btc := func(r string) Leg { return Leg{Chain: Bitcoin, Ref: r} }
	parts := []LinkPart{
		{Key: "swap:0x1:2", Kind: LinkSwap, Chain: Ethereum, In: []Leg{eth("0x1.log0")}, Out: []Leg{eth("0x1.log1")}, Venues: []Address{"0xpair"}, Evidence: "Swap 0x1 log 2"},
		{Key: "thorchain:aa", Kind: LinkThorchain, Chain: Ethereum, In: []Leg{eth("0x2.0")}, Venues: []Address{"0xrouter", "0xvault"}, Evidence: "Deposit 0x2 log 0"},
		{Key: "thorchain:bb", Kind: LinkThorchain, Chain: Bitcoin, Out: []Leg{btc("t9:0")}, Venues: []Address{"bc1vault"}, Evidence: "memo OUT:BB"},
		{Key: "thorchain:aa", Kind: LinkThorchain, Chain: Bitcoin, Out: []Leg{btc("t8:0")}, Venues: []Address{"bc1vault"}, Evidence: "memo OUT:AA"},
		{Key: "thorchain:cc", Kind: LinkThorchain, Chain: Ethereum, In: []Leg{eth("0x3.0")}, Venues: []Address{"0xrouter"}, Evidence: "Deposit 0x3"},
	}
	// A route through two pools: the first pool pays the second, one leg on both sides.
	route := []LinkPart{
		{Key: "swap:0x4:1", Kind: LinkSwap, Chain: Ethereum, In: []Leg{eth("0x4.log0")}, Out: []Leg{eth("0x4.log2")}},
		{Key: "swap:0x4:3", Kind: LinkSwap, Chain: Ethereum, In: []Leg{eth("0x4.log2")}, Out: []Leg{eth("0x4.log4")}},
	}
	if j, err := JoinLinks(route); err != nil || len(j.Links) != 2 {
		t.Fatalf("route through two pools: %v, %+v", err, j)
	}
	got, err := JoinLinks(parts)
	if err != nil {
		t.Fatal(err)
	}
	want := JoinedLinks{
		Links: []Link{
			{ID: "swap:0x1:2", Kind: LinkSwap, In: []Leg{eth("0x1.log0")}, Out: []Leg{eth("0x1.log1")}, Evidence: "Swap 0x1 log 2"},
			{ID: "thorchain:aa", Kind: LinkThorchain, In: []Leg{eth("0x2.0")}, Out: []Leg{btc("t8:0")}, Evidence: "Deposit 0x2 log 0; memo OUT:AA"},
			{ID: "thorchain:cc", Kind: LinkThorchain, In: []Leg{eth("0x3.0")}, Evidence: "Deposit 0x3"},
		},
		Venues:  map[Chain][]Address{Ethereum: {"0xpair", "0xrouter", "0xvault"}, Bitcoin: {"bc1vault"}},
		Orphans: []LinkPart{{Key: "thorchain:bb", Kind: LinkThorchain, Chain: Bitcoin, Out: []Leg{btc("t9:0")}, Venues: []Address{"bc1vault"}, Evidence: "memo OUT:BB"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("JoinLinks:\n got %+v\nwant %+v", got, want)
	}
}

func TestJoinLinksErrors(t *testing.T) {
	leg := Leg{Chain: Ethereum, Ref: "0x1.0"}
	for name, parts := range map[string][]LinkPart{
		"no key":       {{Kind: LinkWrap, In: []Leg{leg}}},
		"kinds differ": {{Key: "k", Kind: LinkWrap, In: []Leg{leg}}, {Key: "k", Kind: LinkSwap, Out: []Leg{{Ref: "x"}}}},
		"leg twice":    {{Key: "a", Kind: LinkWrap, In: []Leg{leg}}, {Key: "b", Kind: LinkWrap, In: []Leg{leg}}},
		"out twice":    {{Key: "a", Kind: LinkSwap, In: []Leg{{Ref: "i"}}, Out: []Leg{leg}}, {Key: "b", Kind: LinkSwap, In: []Leg{{Ref: "j"}}, Out: []Leg{leg}}},
	} {
		if _, err := JoinLinks(parts); !errors.Is(err, ErrLinkParts) {
			t.Errorf("%s: got %v, want ErrLinkParts", name, err)
		}
	}
}
