package thorchain

import (
	"errors"
	"fmt"
	"strings"
)

// Kind says what a memo does, as far as following value is concerned.
type Kind int

// Memo kinds.
const (
	// Inbound memos come with value paid into a vault: a swap, adding or withdrawing
	// liquidity, a bond, a donation and the like. Their outbound (if any) names the inbound
	// transaction's hash.
	Inbound Kind = iota + 1
	// Outbound: a vault pays out what an inbound asked for ("OUT:<inbound hash>").
	Outbound
	// Refund: a vault pays back an inbound that failed ("REFUND:<inbound hash>").
	Refund
	// Internal: value moving between THORChain's own vaults (MIGRATE, RAGNAROK,
	// CONSOLIDATE, YGGDRASIL): no user's value changes hands, so no link.
	Internal
)

func (k Kind) String() string {
	switch k {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	case Refund:
		return "refund"
	case Internal:
		return "internal"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Memo is a parsed THORChain memo.
type Memo struct {
	Kind Kind
	// Action is the memo's action in its canonical upper-case long form ("SWAP", "OUT",
	// "ADD", …).
	Action string
	// InboundHash is the inbound transaction an Outbound or Refund memo names: lower-case
	// hex without 0x (an Ethereum hash and a Bitcoin txid alike).
	InboundHash string
	// Asset and Dest are a swap's target asset ("BTC.BTC", "ETH.USDT-0XDAC1…") and
	// destination address (empty: back to the sender).
	Asset, Dest string
	// Raw is the memo as read.
	Raw string
}

// ErrMemo is wrapped by every ParseMemo error.
var ErrMemo = errors.New("malformed THORChain memo")

// MaxMemoLen bounds what ParseMemo reads: THORChain's memos fit an Ethereum string of any
// length, but a Bitcoin OP_RETURN carries at most 80 bytes; 250 leaves room for Ethereum's
// long affiliate forms without reading arbitrary data as a memo.
const MaxMemoLen = 250

// actions maps every spelling of an action to its canonical form and kind.
var actions = map[string]struct {
	name string
	kind Kind
}{
	"SWAP": {"SWAP", Inbound}, "S": {"SWAP", Inbound}, "=": {"SWAP", Inbound},
	"ADD": {"ADD", Inbound}, "A": {"ADD", Inbound}, "+": {"ADD", Inbound},
	"WITHDRAW": {"WITHDRAW", Inbound}, "WD": {"WITHDRAW", Inbound}, "-": {"WITHDRAW", Inbound},
	"DONATE": {"DONATE", Inbound}, "D": {"DONATE", Inbound},
	"BOND": {"BOND", Inbound}, "UNBOND": {"UNBOND", Inbound}, "LEAVE": {"LEAVE", Inbound},
	"RESERVE": {"RESERVE", Inbound}, "NOOP": {"NOOP", Inbound},
	"LOAN+": {"LOAN+", Inbound}, "$+": {"LOAN+", Inbound}, "LOAN-": {"LOAN-", Inbound}, "$-": {"LOAN-", Inbound},
	"TRADE+": {"TRADE+", Inbound}, "TRADE-": {"TRADE-", Inbound},
	"SECURE+": {"SECURE+", Inbound}, "SECURE-": {"SECURE-", Inbound},
	"OUT": {"OUT", Outbound}, "REFUND": {"REFUND", Refund},
	"MIGRATE": {"MIGRATE", Internal}, "RAGNAROK": {"RAGNAROK", Internal},
	"CONSOLIDATE": {"CONSOLIDATE", Internal}, "YGGDRASIL+": {"YGGDRASIL+", Internal},
	"YGGDRASIL-": {"YGGDRASIL-", Internal},
}

// ParseMemo parses a THORChain memo. An unknown action, an outbound or refund without a
// 64-digit hex hash, a swap without a target asset, or text that is not printable ASCII is
// an error wrapping ErrMemo that quotes the memo.
func ParseMemo(s string) (Memo, error) {
	if len(s) == 0 {
		return Memo{}, fmt.Errorf("%w: empty", ErrMemo)
	}
	if len(s) > MaxMemoLen {
		return Memo{}, fmt.Errorf("%w: %d bytes (at most %d)", ErrMemo, len(s), MaxMemoLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return Memo{}, fmt.Errorf("%w: %.40q has a byte %#02x that is not printable ASCII at %d", ErrMemo, s, s[i], i)
		}
	}
	fields := strings.Split(s, ":")
	a, ok := actions[strings.ToUpper(fields[0])]
	if !ok {
		return Memo{}, fmt.Errorf("%w: %.40q: unknown action %.20q", ErrMemo, s, fields[0])
	}
	m := Memo{Kind: a.kind, Action: a.name, Raw: s}
	switch a.kind {
	case Outbound, Refund:
		if len(fields) != 2 {
			return Memo{}, fmt.Errorf("%w: %.90q: %s takes exactly one field, the inbound hash", ErrMemo, s, a.name)
		}
		h, err := normHash(fields[1])
		if err != nil {
			return Memo{}, fmt.Errorf("%w: %.90q: %s hash: %v", ErrMemo, s, a.name, err)
		}
		m.InboundHash = h
	case Inbound:
		if a.name == "SWAP" {
			if len(fields) < 2 || fields[1] == "" {
				return Memo{}, fmt.Errorf("%w: %.90q: a swap names its target asset (SWAP:ASSET:DEST…)", ErrMemo, s)
			}
			m.Asset = strings.ToUpper(fields[1])
			if len(fields) > 2 {
				m.Dest = fields[2]
			}
		}
	}
	return m, nil
}

// normHash returns a 64-digit hex hash, with or without 0x, in lower case.
func normHash(h string) (string, error) {
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
	if len(h) != 64 {
		return "", fmt.Errorf("%d hex digits (want 64)", len(h))
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", fmt.Errorf("%q is not hex", c)
		}
	}
	return strings.ToLower(h), nil
}

// LinkKey is the graph.LinkPart key of the swap whose inbound transaction has the given hash
// (any case, with or without 0x): "thorchain:" and the hash in lower-case hex without 0x.
// Both sides of a swap use it, the inbound with its own hash, the outbound or refund with
// the hash its memo names.
func LinkKey(inboundHash string) string {
	h := strings.ToLower(inboundHash)
	h = strings.TrimPrefix(h, "0x")
	return "thorchain:" + h
}
