package labels

import (
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

// Venue categories: addresses that convert value instead of holding it (docs/taint-spec.md
// §15.1). A trace takes them as venues, which hold no taint; the links through them carry
// it (CategoryBridge, declared with the other categories, is one too).
const (
	CategoryDEX       Category = "dex"       // a DEX pool or router (Uniswap pair, V3 pool, aggregator)
	CategoryWrapper   Category = "wrapper"   // a wrapped-asset contract (WETH9)
	CategoryThorchain Category = "thorchain" // a THORChain router or vault
)

func init() {
	// The venue categories are categories like the others: ParseCategory and every reader
	// accept them.
	for _, c := range VenueCategories() {
		categories[c] = true
	}
}

// VenueCategories are the categories whose addresses are venues: dex, bridge, wrapper,
// thorchain.
func VenueCategories() []Category {
	return []Category{CategoryDEX, CategoryBridge, CategoryWrapper, CategoryThorchain}
}

// IsVenue reports whether c is a venue category.
func IsVenue(c Category) bool {
	switch c {
	case CategoryDEX, CategoryBridge, CategoryWrapper, CategoryThorchain:
		return true
	}
	return false
}

// venueTags are the sources' own words (Label.Tags: a TagPack's category, an Etherscan
// label id) that make a DeFi label a venue: GraphSense files DEXes as "defi_dex" and
// Etherscan as "dex", which the readers map to CategoryDeFi along with lending pools and
// the like, which hold deposits and are no venues.
var venueTags = map[string]bool{"dex": true, "defi_dex": true, "defi_bridge": true, "wrapped_token": true}

// isVenueLabel reports whether label l makes its address a venue.
func isVenueLabel(l *Label) bool {
	if IsVenue(l.Category) {
		return true
	}
	if l.Category != CategoryDeFi {
		return false
	}
	for _, t := range l.Tags {
		if venueTags[strings.ToLower(t)] {
			return true
		}
	}
	return false
}

// Venues returns the addresses of chain c ("" for every chain) that a label active on day
// asOf (zero: ignoring dates) places in a venue category (VenueCategories, or DeFi with the
// source's tag "dex", "defi_dex", "defi_bridge" or "wrapped_token"), sorted, each once —
// what trace.Config's venues take. Venues and exchanges, seeds and sanctioned addresses are
// disjoint (docs/taint-spec.md §15.1): an address also labelled exchange, actor or
// sanctioned on that day is left out and returned as a conflict.
func (s *Set) Venues(c graph.Chain, asOf time.Time) ([]graph.Address, []Conflict) {
	var out []graph.Address
	var conflicts []Conflict
	t, ix := s.t, s.index()
	for g := 0; g < len(ix.groups)-1; g++ {
		venue, other := "", ""
		var active []Label
		for _, i := range ix.group(g) {
			r := &t.recs[i]
			if (c != "" && t.chainOf(r) != c) || !t.activeAt(r, asOf) {
				continue
			}
			l := t.label(int(i))
			active = append(active, l)
			switch {
			case isVenueLabel(&l):
				if venue == "" {
					venue = string(l.Category) + " (" + l.Entity + ")"
				}
			case l.Category == CategoryExchange || l.Category == CategoryActor || l.Category == CategorySanctioned:
				if other == "" {
					other = string(l.Category) + " (" + l.Entity + ")"
				}
			}
		}
		if venue == "" {
			continue
		}
		k := s.key(ix, g)
		if other != "" {
			conflicts = append(conflicts, Conflict{Chain: k.chain, Address: k.addr,
				Reason: "venue " + venue + " and " + other, Labels: active})
			continue
		}
		out = append(out, k.addr)
	}
	return out, conflicts
}
