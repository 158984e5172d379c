package thorchain

import (
	"errors"
	"strings"
	"testing"
)

const hashUpper = "9F2C6A3D1B0E4F5A6B7C8D9E0F1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C"

func TestParseMemo(t *testing.T) {
	lower := strings.ToLower(hashUpper)
	for _, tc := range []struct {
		memo string
		want Memo
	}{
		{"OUT:" + hashUpper, Memo{Kind: Outbound, Action: "OUT", InboundHash: lower}},
		{"out:0x" + lower, Memo{Kind: Outbound, Action: "OUT", InboundHash: lower}},
		{"REFUND:" + hashUpper, Memo{Kind: Refund, Action: "REFUND", InboundHash: lower}},
		{"SWAP:BTC.BTC:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", Memo{Kind: Inbound, Action: "SWAP", Asset: "BTC.BTC", Dest: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}},
		{"=:ETH.ETH:0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045:0/1/0:t:15", Memo{Kind: Inbound, Action: "SWAP", Asset: "ETH.ETH", Dest: "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"}},
		{"s:btc.btc", Memo{Kind: Inbound, Action: "SWAP", Asset: "BTC.BTC"}},
		{"+:BTC.BTC", Memo{Kind: Inbound, Action: "ADD"}},
		{"MIGRATE:12345", Memo{Kind: Internal, Action: "MIGRATE"}},
	} {
		got, err := ParseMemo(tc.memo)
		if err != nil {
			t.Errorf("%q: %v", tc.memo, err)
			continue
		}
		tc.want.Raw = tc.memo
		if got != tc.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.memo, got, tc.want)
		}
	}
}

func TestParseMemoErrors(t *testing.T) {
	for memo, says := range map[string]string{
		"":                               "empty",
		"HELLO:world":                    "unknown action",
		"OUT:1234":                       "4 hex digits",
		"OUT:" + hashUpper + ":x":        "exactly one field",
		"REFUND:" + hashUpper[:63] + "G": "not hex",
		"SWAP:":                          "target asset",
		"SWAP":                           "target asset",
		"OUT:\x00":                       "not printable",
		strings.Repeat("=", 300):         "at most",
	} {
		_, err := ParseMemo(memo)
		if !errors.Is(err, ErrMemo) || !strings.Contains(err.Error(), says) {
			t.Errorf("%.30q: got %v, want ErrMemo saying %q", memo, err, says)
		}
	}
}

func TestLinkKey(t *testing.T) {
	m, _ := ParseMemo("OUT:" + hashUpper)
	if LinkKey("0x"+hashUpper) != LinkKey(m.InboundHash) || LinkKey(m.InboundHash) != "thorchain:"+strings.ToLower(hashUpper) {
		t.Fatalf("the inbound's own hash and the outbound memo's must give one key: %s, %s", LinkKey("0x"+hashUpper), LinkKey(m.InboundHash))
	}
}

// Any input gives a memo or an ErrMemo; what parses keeps its hash in the canonical form.
func FuzzParseMemo(f *testing.F) {
	for _, s := range []string{"OUT:" + hashUpper, "=:ETH.ETH:0xabc", "REFUND:0x" + hashUpper, "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMemo(s)
		if err != nil {
			if !errors.Is(err, ErrMemo) {
				t.Fatalf("%q: error %v does not wrap ErrMemo", s, err)
			}
			return
		}
		if (m.Kind == Outbound || m.Kind == Refund) && (len(m.InboundHash) != 64 || strings.ToLower(m.InboundHash) != m.InboundHash) {
			t.Fatalf("%q: hash %q not canonical", s, m.InboundHash)
		}
		if m.Raw != s {
			t.Fatalf("Raw %q != %q", m.Raw, s)
		}
	})
}
