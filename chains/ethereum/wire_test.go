package ethereum

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// FuzzQuantity checks the hex quantity parser against math/big: same value when both
// accept, an ErrMalformed error (never a panic or a wrong number) otherwise.
func FuzzQuantity(f *testing.F) {
	for _, s := range []string{`"0x0"`, `"0x00"`, `"0x1"`, `"0xde0b6b3a7640000"`, `"0x` + strings.Repeat("f", 64) + `"`,
		`"0x1` + strings.Repeat("0", 64) + `"`, `"0x"`, `"1"`, `null`, `"0xg"`, `"0X1F"`, `"-0x1"`, `12`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var a hexAmount
		err := a.UnmarshalJSON(in)
		var s string
		strErr := json.Unmarshal(in, &s)
		ref, ok := new(big.Int), false
		if strErr == nil && len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") && !strings.ContainsAny(s[2:], "+-_ ") {
			_, ok = ref.SetString(s[2:], 16)
		}
		if ok && ref.BitLen() > 256 {
			ok = false
		}
		if ok != (err == nil) {
			if err != nil && !ok {
				return
			}
			if strErr == nil && string(in) != `"`+s+`"` {
				return // JSON escapes: the parser sees the raw bytes; rejecting them is fine
			}
			t.Fatalf("%s: parser err %v, big.Int ok %v", in, err, ok)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: error without ErrMalformed: %v", in, err)
			}
			return
		}
		got := a.amount()
		if got.ToBig().Cmp(ref) != 0 {
			t.Fatalf("%s: parsed %s, big.Int %s", in, got.Dec(), ref)
		}
		var q quantity
		if qerr := q.UnmarshalJSON(in); (qerr == nil) != (ref.BitLen() <= 64) || (qerr == nil && uint64(q) != ref.Uint64()) {
			t.Fatalf("%s: quantity %d err %v, big.Int %s", in, q, qerr, ref)
		}
	})
}

func TestParseHashAndTopics(t *testing.T) {
	h, err := parseHash("x", "0x"+strings.Repeat("AB", 32))
	if err != nil || h != "0x"+strings.Repeat("ab", 32) {
		t.Errorf("parseHash: %q %v", h, err)
	}
	for _, bad := range []string{"", "0x", "0x" + strings.Repeat("a", 63), "0x" + strings.Repeat("g", 64), strings.Repeat("a", 66)} {
		if _, err := parseHash("x", bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("parseHash(%q) = %v", bad, err)
		}
	}
	if a, ok := topicAddress("0x000000000000000000000000" + strings.Repeat("ab", 20)); !ok || string(a) != "0x"+strings.Repeat("ab", 20) {
		t.Errorf("topicAddress: %q %v", a, ok)
	}
	if _, ok := topicAddress("0x100000000000000000000000" + strings.Repeat("ab", 20)); ok {
		t.Error("topicAddress accepted dirty high bytes")
	}
	if v, ok := word32("0x" + strings.Repeat("0", 62) + "ff"); !ok || v.Uint64() != 255 {
		t.Errorf("word32: %v %v", v, ok)
	}
	if _, ok := word32("0x" + strings.Repeat("0", 128)); ok {
		t.Error("word32 accepted 64 bytes")
	}
}
