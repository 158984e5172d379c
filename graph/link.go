package graph

import (
	"fmt"
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
