package labels

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

// Errors never echo large input: whatever field of whatever file is bad — 10 KB of it,
// control characters included — the message quotes a short escaped excerpt, with the file
// and line.
func TestErrorsQuoteShortEscapedExcerpts(t *testing.T) {
	garbage := "\x1b[2J\x1b[31m\a" + strings.Repeat("zz\x00\x7f", 2500)
	q := `"` + garbage + `"`
	cases := []struct{ name, text string }{
		{"f.csv", "chain,address,actor\nbitcoin," + q + ",X\n"},
		{"f.csv", "chain,address,actor\nbitcoin,1" + strings.Repeat("1", 10000) + ",X\n"},
		{"f.csv", "chain,address,actor\n" + q + ",1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,X\n"},
		{"f.csv", "chain,address,actor,listed\nbitcoin,1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,X," + q + "\n"},
		{"f.csv", "chain,address,actor,category\nbitcoin,1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,X," + q + "\n"},
		{"f.csv", q + ",x\n1,2\n"},
		{"f.txt", garbage + "\n"},
		{"f.json", `{"` + strings.Repeat("0x", 5000) + `": {"name": "x", "labels": ["binance"]}}`},
		{"f.yaml", "title: a\ncreator: b\ncurrency: BTC\ntags:\n- address: " + strings.Repeat("1", 10000) + "\n"},
	}
	for i, c := range cases {
		s := NewSet()
		_, err := s.Read(strings.NewReader(c.text), c.name, Options{Entity: "E"})
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("case %d: error %v is not a *ParseError", i, err)
			continue
		}
		msg := err.Error()
		if strings.ContainsFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) {
			t.Errorf("case %d: the message holds raw control characters: %q", i, msg)
		}
		if len(msg) > 400 {
			t.Errorf("case %d: a %d-byte message: %.300q…", i, len(msg), msg)
		}
		if !strings.HasPrefix(msg, c.name+":") {
			t.Errorf("case %d: the message names no file: %.100q", i, msg)
		}
	}
}

func TestShortQuotes(t *testing.T) {
	for in, want := range map[string]string{
		`bad address: "abc"`:                       `bad address: "abc"`,
		"raw \x1b[2J here":                         `raw \x1b[2J here`,
		`x "` + strings.Repeat("a", 100) + `" y`:   `x "` + strings.Repeat("a", 64) + `"…(100 bytes) y`,
		"tok " + strings.Repeat("b", 100) + " end": "tok " + strings.Repeat("b", 64) + "…(100 bytes) end",
		"invalid \xff byte":                        `invalid \xff byte`,
	} {
		if got := shortQuotes(in); got != want {
			t.Errorf("shortQuotes(%q) = %q, want %q", in, got, want)
		}
	}
}
