package screen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chaintrace/chaintrace/graph"
)

// maxQuoted is the most input an error message quotes: a screening service answers its
// errors to whoever sent the input, and a 13 KB path must not come back in the reply.
const maxQuoted = 64

// quoteExcerpt quotes s (%q-escaped) whole when it is short, else its first maxQuoted
// bytes (cut on a character boundary) followed by "…" and its length.
func quoteExcerpt(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// depositRef checks the form of a deposit reference that the index does not hold and
// returns its canonical spelling (hex in lower case, the index in decimal). A reference of
// the wrong form is an ErrBadQuery naming the first character at fault: answering a
// mistyped id with a verdict would tell an exchange that a deposit nobody can have made is
// clean.
//
// The form is the chain's: a Bitcoin output "txid:vout" (64 hex digits, a decimal index);
// an Ethereum transfer id "0x<64 hex digits>.<n>", ".log<n>" or ".t<n>[_<n>…]" (see
// chains/ethereum). References the index holds are looked up before this check, so the
// free-form names of a scenario file ("p2:0") still find their deposits; an unknown one
// is refused like any other id that is not a hash.
func depositRef(chain graph.Chain, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	bad := func(at int, why string) error {
		return fmt.Errorf("%w: deposit reference %s: %s (at byte %d)", ErrBadQuery, quoteExcerpt(ref), why, at+1)
	}
	if ref == "" {
		return "", fmt.Errorf("%w: empty deposit reference", ErrBadQuery)
	}
	if len(ref) > 200 {
		return "", bad(200, "too long for a deposit reference")
	}
	// firstNonHex returns the index of s's first byte that is not a hex digit, or -1.
	firstNonHex := func(s string) int {
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return i
			}
		}
		return -1
	}
	digits := func(s string) bool {
		if s == "" || len(s) > 10 {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		_, err := strconv.ParseUint(s, 10, 32)
		return err == nil
	}
	switch chain {
	case graph.Bitcoin:
		i := strings.LastIndexByte(ref, ':')
		if i < 0 {
			return "", bad(len(ref), "want txid:vout")
		}
		txid, vout := ref[:i], ref[i+1:]
		if !digits(vout) {
			return "", bad(i+1, "the output index is not a number")
		}
		n, _ := strconv.ParseUint(vout, 10, 32)
		if at := firstNonHex(txid); at >= 0 {
			return "", bad(at, "a transaction id is 64 hex digits")
		}
		if len(txid) != 64 {
			return "", bad(min(len(txid), 64), fmt.Sprintf("a transaction id is 64 hex digits, not %d", len(txid)))
		}
		return strings.ToLower(txid) + ":" + strconv.FormatUint(n, 10), nil
	case graph.Ethereum:
		i := strings.IndexByte(ref, '.')
		if i < 0 {
			return "", bad(len(ref), "want <tx hash>.<n>, <tx hash>.log<n> or <tx hash>.t<path>")
		}
		hash, part := ref[:i], ref[i+1:]
		switch {
		case digits(part):
		case strings.HasPrefix(part, "log") && digits(part[3:]):
		case strings.HasPrefix(part, "t") && part != "t" && strings.Trim(part[1:], "0123456789_") == "" && !strings.Contains(part, "__") && part[1] != '_' && !strings.HasSuffix(part, "_"):
		default:
			return "", bad(i+1, "the transfer part is not <n>, log<n> or t<path>")
		}
		if len(hash) < 2 || (hash[:2] != "0x" && hash[:2] != "0X") {
			return "", bad(0, "a transaction hash is 0x and 64 hex digits")
		}
		if at := firstNonHex(hash[2:]); at >= 0 {
			return "", bad(at+2, "a transaction hash is 0x and 64 hex digits")
		}
		if len(hash) != 66 {
			return "", bad(min(len(hash), 66), fmt.Sprintf("a transaction hash is 0x and 64 hex digits, not %d", len(hash)-2))
		}
		return strings.ToLower(ref), nil
	}
	return strings.ToLower(ref), nil
}
