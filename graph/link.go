package graph

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// LinkKind says what kind of conversion a Link declares. It is informative: every kind is
// traced the same way (docs/taint-spec.md §15).
type LinkKind string

// The link kinds of the specification.
const (
	LinkSwap      LinkKind = "swap"      // a DEX swap (pool or router)
	LinkWrap      LinkKind = "wrap"      // wrapping or unwrapping (WETH9)
	LinkBridge    LinkKind = "bridge"    // a lock/mint or burn/release bridge
	LinkThorchain LinkKind = "thorchain" // a THORChain inbound and its outbound or refund
	LinkDeclared  LinkKind = "declared"  // written or exported by an investigator
)

// ParseLinkKind accepts one of the specification's link kinds.
func ParseLinkKind(s string) (LinkKind, error) {
	switch k := LinkKind(strings.ToLower(strings.TrimSpace(s))); k {
	case LinkSwap, LinkWrap, LinkBridge, LinkThorchain, LinkDeclared:
		return k, nil
	}
	return "", fmt.Errorf("link kind %q (want swap, wrap, bridge, thorchain or declared)", s)
}

// Leg is one movement of a link: on an account chain a transfer id, on a UTXO chain an
// output ("txid:vout"). Chain names the chain the movement is on; it is empty when the
// trace follows one chain.
type Leg struct {
	Chain Chain
	Ref   string
}

func (l Leg) String() string {
	if l.Chain == "" {
		return l.Ref
	}
	return string(l.Chain) + ":" + l.Ref
}

// Link declares that the out-legs are the proceeds of the in-legs: value that went into a
// venue (a DEX pool, a wrapper, a bridge or a THORChain vault) on one asset and came out on
// another asset, or on another chain. The taint fraction of what went in is carried onto
// what came out. Evidence says why the link holds (a log, a memo, an explorer's record).
type Link struct {
	ID       string
	Kind     LinkKind
	In, Out  []Leg
	Evidence string
}

// LinkPart is what a chain adapter's detector saw of one link in one block: the in-legs and
// the out-legs of a swap or a wrap (both in one transaction), or one side of a THORChain
// swap (the inbound on one chain, the outbound or refund on another, perhaps much later).
// Parts with the same Key are one link; JoinLinks puts them together. Adapters keep the
// parts they detect on the block (Block.Links), so a replay from the store has them without
// the logs and memos they were read from.
type LinkPart struct {
	// Key is the link's id. Detectors make it from the chain's own data, so that the two
	// sides of a cross-chain link meet: for THORChain "thorchain:" and the inbound
	// transaction hash in lower-case hex without 0x, which the outbound memo names.
	Key     string
	Kind    LinkKind
	Chain   Chain // the chain the part was seen on; its legs and venues are on it
	In, Out []Leg
	// Venues are the addresses on Chain that the legs pay or are paid by (pool, wrapper,
	// router, vault): they hold no taint (docs/taint-spec.md §15.4).
	Venues []Address
	// Evidence says what the part was read from: transaction, log index or memo.
	Evidence string
}

// JoinedLinks is the outcome of JoinLinks.
type JoinedLinks struct {
	// Links are the joined links in the order their keys were first seen: complete ones
	// (in- and out-legs) and pending ones (in-legs only: the outbound was not seen, or has
	// not happened yet).
	Links []Link
	// Venues per chain, sorted and without duplicates.
	Venues map[Chain][]Address
	// Orphans are parts with out-legs only, whose inbound was not among the parts (it lies
	// before the data read, or on a chain not read). No link can be made of them: their
	// out-legs are ordinary (clean) payments by a venue.
	Orphans []LinkPart
}

// ErrLinkParts is wrapped by JoinLinks errors.
var ErrLinkParts = errors.New("link parts do not join")

// JoinLinks joins link parts by Key. The legs of parts with one key are concatenated in the
// order of the parts (pass them in chain order), their evidence joined with "; ". Parts of
// one key with different kinds, or a leg that two parts name on the same side, are an error
// naming the key. A leg may be the out-leg of one link and the in-leg of the next (a swap
// routed through two pools is a chain of links).
func JoinLinks(parts []LinkPart) (JoinedLinks, error) {
	var out JoinedLinks
	byKey := map[string]int{}
	var joined []LinkPart
	// A leg may be an out-leg of one link and an in-leg of another (a route through two
	// pools), never the same side of two.
	type sidedLeg struct {
		Leg
		out bool
	}
	legOwner := map[sidedLeg]string{}
	venues := map[Chain]map[Address]bool{}
	for i := range parts {
		p := &parts[i]
		if p.Key == "" {
			return out, fmt.Errorf("%w: a %s part on %s has no key (%s)", ErrLinkParts, p.Kind, p.Chain, p.Evidence)
		}
		for side, legs := range [][]Leg{p.In, p.Out} {
			for _, l := range legs {
				sl := sidedLeg{l, side == 1}
				if k, dup := legOwner[sl]; dup {
					return out, fmt.Errorf("%w: leg %s is %s of links %q and %q", ErrLinkParts, l, [2]string{"an in-leg", "an out-leg"}[side], k, p.Key)
				}
				legOwner[sl] = p.Key
			}
		}
		for _, v := range p.Venues {
			if venues[p.Chain] == nil {
				venues[p.Chain] = map[Address]bool{}
			}
			venues[p.Chain][v] = true
		}
		j, seen := byKey[p.Key]
		if !seen {
			byKey[p.Key] = len(joined)
			joined = append(joined, LinkPart{Key: p.Key, Kind: p.Kind, Chain: p.Chain,
				In: append([]Leg(nil), p.In...), Out: append([]Leg(nil), p.Out...),
				Venues: append([]Address(nil), p.Venues...), Evidence: p.Evidence})
			continue
		}
		q := &joined[j]
		if q.Kind != p.Kind {
			return out, fmt.Errorf("%w: link %q is a %s on %s and a %s on %s", ErrLinkParts, p.Key, q.Kind, q.Chain, p.Kind, p.Chain)
		}
		q.In = append(q.In, p.In...)
		q.Out = append(q.Out, p.Out...)
		q.Venues = append(q.Venues, p.Venues...)
		if p.Evidence != "" {
			if q.Evidence != "" {
				q.Evidence += "; "
			}
			q.Evidence += p.Evidence
		}
	}
	for _, q := range joined {
		if len(q.In) == 0 {
			out.Orphans = append(out.Orphans, q)
			continue
		}
		out.Links = append(out.Links, Link{ID: q.Key, Kind: q.Kind, In: q.In, Out: q.Out, Evidence: q.Evidence})
	}
	if len(venues) > 0 {
		out.Venues = make(map[Chain][]Address, len(venues))
		for c, set := range venues {
			list := make([]Address, 0, len(set))
			for a := range set {
				list = append(list, a)
			}
			slices.Sort(list)
			out.Venues[c] = list
		}
	}
	return out, nil
}
