package screen

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/chaintrace/chaintrace/graph"
)

// A reference of the wrong form for its chain is an ErrBadQuery naming where it goes
// wrong, quoting at most a short escaped excerpt; a well-formed one comes back canonical.
func TestDepositRef(t *testing.T) {
	tx := "F4184FC596403B9D638783CF57ADFE4C75C605F6356FBC91338530E9831E9E16"
	eth := "0x" + strings.Repeat("ab", 32)
	cases := []struct {
		chain     graph.Chain
		ref, want string // want "" means refused
	}{
		{graph.Bitcoin, tx + ":0", strings.ToLower(tx) + ":0"},
		{graph.Bitcoin, " " + tx + ":007 ", strings.ToLower(tx) + ":7"},
		{graph.Bitcoin, "zzzz:0", ""},
		{graph.Bitcoin, "deadbeef:0", ""},
		{graph.Bitcoin, tx, ""},
		{graph.Bitcoin, tx + ":x", ""},
		{graph.Bitcoin, tx + ":4294967296", ""},
		{graph.Bitcoin, ":0", ""},
		{graph.Bitcoin, "", ""},
		{graph.Bitcoin, tx + "00:0", ""},
		{graph.Ethereum, eth + ".0", eth + ".0"},
		{graph.Ethereum, strings.ToUpper(eth[2:])[:0] + "0X" + strings.ToUpper(eth[2:]) + ".log12", eth + ".log12"},
		{graph.Ethereum, eth + ".t0_1_2", eth + ".t0_1_2"},
		{graph.Ethereum, eth + ".t", ""},
		{graph.Ethereum, eth + ".t0__1", ""},
		{graph.Ethereum, eth + ".x", ""},
		{graph.Ethereum, eth, ""},
		{graph.Ethereum, "0xdeadbeef.0", ""},
		{graph.Ethereum, "zzzz.0", ""},
	}
	for _, c := range cases {
		got, err := depositRef(c.chain, c.ref)
		if c.want == "" {
			if !errors.Is(err, ErrBadQuery) {
				t.Errorf("%s %q: %q, %v; want ErrBadQuery", c.chain, c.ref, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %q: %q, %v; want %q", c.chain, c.ref, got, err, c.want)
		}
	}
}

// Errors never echo large input: a 13 KB reference with control characters is quoted as a
// short escaped excerpt, with its position.
func TestDepositRefErrorIsShort(t *testing.T) {
	long := "\x1b[31m" + strings.Repeat("z\n", 6500) + ":0"
	_, err := depositRef(graph.Bitcoin, long)
	if !errors.Is(err, ErrBadQuery) {
		t.Fatal(err)
	}
	msg := err.Error()
	if len(msg) > 4*maxQuoted+120 || strings.ContainsFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) {
		t.Errorf("error of %d bytes, or with control characters: %q", len(msg), msg)
	}
	if !strings.Contains(msg, "byte") {
		t.Errorf("error names no position: %s", msg)
	}
	if q := quoteExcerpt(strings.Repeat("é", 100)); len(q) > 2*maxQuoted+30 {
		t.Errorf("excerpt %q is long", q)
	}
}

// FuzzDepositRef: any reference is refused with a short, printable ErrBadQuery, or comes
// back in a canonical form that is accepted again unchanged.
func FuzzDepositRef(f *testing.F) {
	f.Add("bitcoin", "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:0")
	f.Add("bitcoin", "zzzz:0")
	f.Add("ethereum", "0x"+strings.Repeat("ab", 32)+".log3")
	f.Add("ethereum", "0x"+strings.Repeat("AB", 32)+".t0_1")
	f.Fuzz(func(t *testing.T, chain, ref string) {
		c := graph.Bitcoin
		if chain == "ethereum" {
			c = graph.Ethereum
		}
		got, err := depositRef(c, ref)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("%q: %v is not ErrBadQuery", ref, err)
			}
			if msg := err.Error(); len(msg) > 4*maxQuoted+160 || strings.ContainsFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) {
				t.Fatalf("%q: message %q", ref, msg)
			}
			return
		}
		again, err := depositRef(c, got)
		if err != nil || again != got {
			t.Fatalf("%q → %q → %q, %v", ref, got, again, err)
		}
	})
}
