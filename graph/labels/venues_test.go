package labels

import (
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

func TestVenues(t *testing.T) {
	eth := func(hex string) graph.Address {
		a, err := graph.ParseAddress(graph.Ethereum, "0x"+strings.Repeat("0", 40-len(hex))+hex)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	pair, weth, router, bridge, lending, ex, both, old := eth("a1"), eth("a2"), eth("a3"), eth("a4"), eth("a5"), eth("a6"), eth("a7"), eth("a8")
	const vault = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	s := NewSet()
	add := func(l Label) {
		t.Helper()
		if l.Chain == "" {
			l.Chain = graph.Ethereum
		}
		l.Confidence = ConfidenceServiceData
		if err := s.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	add(Label{Address: pair, Entity: "Uniswap V2 USDT/WETH", Category: CategoryDEX})
	add(Label{Address: weth, Entity: "WETH9", Category: CategoryWrapper})
	add(Label{Address: weth, Entity: "Wrapped Ether", Category: CategoryDeFi, Tags: []string{"wrapped_token"}}) // one address, two venue labels
	add(Label{Address: router, Entity: "Uniswap Router", Category: CategoryDeFi, Tags: []string{"defi_dex"}})
	add(Label{Address: bridge, Entity: "Some Bridge", Category: CategoryBridge})
	add(Label{Address: lending, Entity: "Lending pool", Category: CategoryDeFi, Tags: []string{"defi_lending"}})
	add(Label{Address: ex, Entity: "Binance", Category: CategoryExchange})
	add(Label{Address: both, Entity: "THORChain router", Category: CategoryThorchain})
	add(Label{Address: both, Entity: "Lazarus", Category: CategoryActor})
	add(Label{Address: old, Entity: "Old pool", Category: CategoryDEX, Withdrawn: day("2022-01-01")})
	add(Label{Chain: graph.Bitcoin, Address: vault, Entity: "THORChain vault", Category: CategoryThorchain})

	got, conflicts := s.Venues(graph.Ethereum, time.Time{})
	want := []graph.Address{pair, weth, router, bridge, old}
	if !equalAddrs(got, want) {
		t.Errorf("venues ignoring dates: %v, want %v", got, want)
	}
	if len(conflicts) != 1 || conflicts[0].Address != both || !strings.Contains(conflicts[0].Reason, "venue thorchain (THORChain router) and actor (Lazarus)") {
		t.Errorf("conflicts: %+v", conflicts)
	}
	got, _ = s.Venues(graph.Ethereum, day("2024-06-01"))
	if want := []graph.Address{pair, weth, router, bridge}; !equalAddrs(got, want) {
		t.Errorf("venues on 2024-06-01: %v, want %v (the withdrawn pool is out)", got, want)
	}
	got, conflicts = s.Venues(graph.Bitcoin, time.Time{})
	if !equalAddrs(got, []graph.Address{vault}) || len(conflicts) != 0 {
		t.Errorf("bitcoin venues: %v %v", got, conflicts)
	}
	if got, _ := s.Venues("", time.Time{}); len(got) != 6 {
		t.Errorf("every chain: %v", got)
	}
}

func TestVenueCategoriesParse(t *testing.T) {
	for _, c := range VenueCategories() {
		got, err := ParseCategory(strings.ToUpper(string(c)))
		if err != nil || got != c || !IsVenue(c) {
			t.Errorf("%s: %v %v", c, got, err)
		}
	}
	for _, c := range []Category{CategoryExchange, CategoryDeFi, CategoryMixer} {
		if IsVenue(c) {
			t.Errorf("%s is no venue category (mixers stay pools, §15.1)", c)
		}
	}
}

// A TagPack's "defi_dex" tag makes a venue; its "defi_lending" does not.
func TestVenuesFromTagPack(t *testing.T) {
	pack := "title: DEXes\ncreator: test\nconfidence: service_data\nlastmod: 2024-01-01\nnetwork: eth\ntags:\n" +
		"- address: '0x7a250d5630b4cf539739df2c5dacb4c659f2488d'\n  label: Uniswap V2 Router\n  category: defi_dex\n" +
		"- address: '0x7d2768de32b0b80b7a3454c06bdac94a69ddc7a9'\n  label: Aave lending pool\n  category: defi_lending\n"
	b, err := ParseTagPack(strings.NewReader(pack), "dex.yaml", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet()
	if err := s.AddBatch(b); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Venues(graph.Ethereum, time.Time{})
	if len(got) != 1 || !strings.EqualFold(string(got[0]), "0x7a250d5630b4cf539739df2c5dacb4c659f2488d") {
		t.Errorf("venues: %v", got)
	}
}

func equalAddrs(a, b []graph.Address) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
