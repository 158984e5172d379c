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
	} {
		if _, err := JoinLinks(parts); !errors.Is(err, ErrLinkParts) {
			t.Errorf("%s: got %v, want ErrLinkParts", name, err)
		}
	}
}
