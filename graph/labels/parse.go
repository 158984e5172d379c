package labels

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

// Chain and currency codes that name a real chain chaintrace does not model: rows on them are
// skipped with a warning, never mistaken for Ethereum or Bitcoin.
var otherChains = map[string]bool{
	"bsc": true, "bnb": true, "bep2": true, "bep20": true, "binance-smart-chain": true,
	"arb": true, "arbitrum": true, "polygon": true, "matic": true, "optimism": true, "op": true,
	"base": true, "avalanche": true, "avax": true, "fantom": true, "ftm": true,
	"trx": true, "tron": true, "ltc": true, "litecoin": true, "xmr": true, "monero": true,
	"zec": true, "zcash": true, "dash": true, "btg": true, "etc": true, "bsv": true,
	"bch": true, "bitcoin-cash": true, "xrp": true, "ripple": true, "xvg": true, "sol": true,
	"solana": true, "ada": true, "cardano": true, "doge": true, "dogecoin": true, "dot": true,
	"atom": true, "eos": true, "xlm": true, "algo": true, "near": true, "fil": true, "ton": true,
	"kcs": true, "sui": true, "aptos": true, "apt": true,
}

// ERC-20 tokens whose issuer-side identity is Ethereum when the address is 0x-hex: OFAC
// lists e.g. "Digital Currency Address - USDT 0x…" without naming the network; an 0x address
// holding USDT on Ethereum is the same account that holds ETH. A TRON-form address for the
// same code (T…) is skipped instead.
var ethereumTokens = map[string]bool{
	"usdt": true, "usdc": true, "dai": true, "busd": true, "tusd": true, "usdp": true,
	"pax": true, "gusd": true, "weth": true, "wbtc": true,
}

func isHexAddress(s string) bool {
	if len(s) != 42 || (s[:2] != "0x" && s[:2] != "0X") {
		return false
	}
	for _, c := range s[2:] {
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}

// resolveChain maps a chain name or currency code, with the address it goes with, to a chain.
// skip is non-empty when the row is valid but on a chain chaintrace does not model. With
// strict, an unrecognized code is an ErrUnknownChain error; otherwise it is skipped too
// (TagPacks use dozens of free-form currency names).
func resolveChain(code, addr string, strict bool) (c graph.Chain, skip string, err error) {
	lc := strings.ToLower(strings.TrimSpace(code))
	switch lc {
	case "bitcoin", "btc", "xbt":
		return graph.Bitcoin, "", nil
	case "ethereum", "eth":
		return graph.Ethereum, "", nil
	}
	if tok, ok := strings.CutPrefix(lc, "ethereum-"); ok && tok != "" {
		return graph.Ethereum, "", nil // "ethereum-usdt": a token on Ethereum
	}
	if ethereumTokens[lc] {
		if isHexAddress(addr) {
			return graph.Ethereum, "", nil
		}
		return "", fmt.Sprintf("%s address %q is not in Ethereum form (another network)", strings.ToUpper(code), addr), nil
	}
	if otherChains[lc] {
		return "", fmt.Sprintf("chain %s is not modelled by chaintrace", strings.ToUpper(code)), nil
	}
	if lc == "" {
		return "", "", fmt.Errorf("%w: empty chain", ErrUnknownChain)
	}
	if strict {
		return "", "", fmt.Errorf("%w: %q", ErrUnknownChain, code)
	}
	return "", fmt.Sprintf("currency %q is not a chain chaintrace models", code), nil
}

const maxAddressLen = 100

// parseAddress canonicalizes addr on chain c, wrapping graph's errors with ErrBadAddress.
func parseAddress(c graph.Chain, addr string) (graph.Address, error) {
	// No address of any chain is longer (bech32 caps at 90 characters); a longer string is
	// rejected before base58 decoding, whose cost grows with the square of the length.
	if len(addr) > maxAddressLen {
		return "", fmt.Errorf("%w: %d characters is longer than any address", ErrBadAddress, len(addr))
	}
	a, err := graph.ParseAddress(c, addr)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadAddress, err)
	}
	if c == graph.Bitcoin && strings.HasPrefix(string(a), "nonstandard") {
		// A pseudo-address is the store's name for a script without an address; a label
		// source never lists one.
		return "", fmt.Errorf("%w: %q is a pseudo-address, not a Bitcoin address", ErrBadAddress, addr)
	}
	return a, nil
}

// Date precisions of parseDate.
const (
	precDay = iota
	precMonth
	precYear
)

// parseDate reads the dates attribution sources write: "2025-02-26", "2025-02-26T12:00:00Z",
// "2026-06-25 (commit date of list)" (a day, then a comment), "2025-02/03" or "2025-02" (a
// month: its first day), "2022 (file history)" or "2022" (a year: its first day). The result
// is midnight UTC.
func parseDate(s string) (time.Time, int, error) {
	s = strings.TrimSpace(s)
	digits := func(s string, n int) (int, bool) {
		if len(s) < n {
			return 0, false
		}
		for i := 0; i < n; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
		}
		if len(s) > n && s[n] >= '0' && s[n] <= '9' {
			return 0, false
		}
		v, _ := strconv.Atoi(s[:n])
		return v, true
	}
	y, ok := digits(s, 4)
	if !ok || y < 1970 || y > 2200 {
		return time.Time{}, 0, fmt.Errorf("%w: %q (want YYYY-MM-DD)", ErrBadDate, s)
	}
	rest := s[4:]
	if rest == "" || rest[0] == ' ' || rest[0] == '(' {
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), precYear, nil
	}
	if rest[0] != '-' && rest[0] != '/' {
		return time.Time{}, 0, fmt.Errorf("%w: %q (want YYYY-MM-DD)", ErrBadDate, s)
	}
	m, ok := digits(rest[1:], 2)
	if !ok || m < 1 || m > 12 {
		return time.Time{}, 0, fmt.Errorf("%w: %q has no valid month", ErrBadDate, s)
	}
	rest = rest[3:]
	if rest == "" || rest[0] == ' ' || rest[0] == '(' || rest[0] == '/' {
		return time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC), precMonth, nil
	}
	if rest[0] != '-' {
		return time.Time{}, 0, fmt.Errorf("%w: %q (want YYYY-MM-DD)", ErrBadDate, s)
	}
	d, ok := digits(rest[1:], 2)
	if !ok || d < 1 {
		return time.Time{}, 0, fmt.Errorf("%w: %q has no valid day", ErrBadDate, s)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 2023-02-30 would normalize to March
		return time.Time{}, 0, fmt.Errorf("%w: %q is not a calendar day", ErrBadDate, s)
	}
	rest = rest[3:]
	if rest != "" && rest[0] != ' ' && rest[0] != '(' && rest[0] != 'T' {
		return time.Time{}, 0, fmt.Errorf("%w: %q (want YYYY-MM-DD)", ErrBadDate, s)
	}
	return t, precDay, nil
}

// readDate parses a date field, recording an imprecise one as a warning and its text in the
// label's source. An empty field is the zero time.
func readDate(b *Batch, l *Label, file string, line int, field, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, prec, err := parseDate(s)
	if err != nil {
		return time.Time{}, errAt(file, line, fmt.Errorf("%s: %w", field, err))
	}
	if prec != precDay {
		what := "month"
		if prec == precYear {
			what = "year"
		}
		l.Source.DateText = strings.TrimSpace(s)
		b.warn(WarnImpreciseDate, file, line, string(l.Address), "%s %q gives only the %s; using %s", field, s, what, t.Format(time.DateOnly))
	}
	return t, nil
}

// splitPrograms splits a program list written "DPRK3] [CYBER2" (sdn.csv), "DPRK3/CYBER2",
// "DPRK3|CYBER2" or "DPRK3 CYBER2".
func splitPrograms(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == '[' || r == ']' || r == '/' || r == '|' || r == ';' || r == ',' || r == ' '
	})
	out := f[:0]
	for _, p := range f {
		if p = strings.TrimSpace(p); p != "" && p != "-0-" {
			out = append(out, strings.ToUpper(p))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// hasDPRKProgram reports whether one of the programs is a North Korea sanctions program
// (DPRK, DPRK2, DPRK3, DPRK4, DPRK-NKSPEA).
func hasDPRKProgram(programs []string) bool {
	for _, p := range programs {
		if strings.HasPrefix(p, "DPRK") {
			return true
		}
	}
	return false
}

// mentionsDPRK reports whether free text ties its subject to North Korea: the words an
// attribution source uses for it.
func mentionsDPRK(s string) bool {
	u := strings.ToUpper(s)
	for _, w := range []string{"DPRK", "NORTH KOREA", "KOREA, NORTH", "LAZARUS"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	return false
}
