package labels

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
)

// Bad input gives an error naming the file and line, wrapping a sentinel.
func TestBadInput(t *testing.T) {
	const hdr = "chain,address,actor,source,source_date\n"
	for _, c := range []struct {
		name string
		text string
		line int
		want []error
	}{
		{"bad checksum", hdr + "ethereum,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X,s,2025-02-26\nethereum,0x51e9D833Ecae4E8D9D8Be17300AEE6D3398C135D,X,s,2025-02-26\n", 3, []error{ErrBadAddress, graph.ErrBadChecksum}},
		{"bitcoin checksum", hdr + "bitcoin,1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3,X,s,2025-02-26\n", 2, []error{ErrBadAddress, graph.ErrBadChecksum}},
		{"unknown chain", hdr + "dogechain-x,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X,s,2025-02-26\n", 2, []error{ErrUnknownChain}},
		{"conflicting duplicate", hdr + "ethereum,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X,s,2025-02-26\nbitcoin,1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,Y,s,2025-02-26\nethereum,0x51e9d833ecae4e8d9d8be17300aee6d3398c135d,Z,s,2025-02-26\n", 4, []error{ErrConflictingEntity}},
		{"bad date", hdr + "ethereum,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X,s,26/02/2025\n", 2, []error{ErrBadDate}},
		{"impossible date", hdr + "ethereum,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X,s,2025-02-30\n", 2, []error{ErrBadDate}},
		{"short row", hdr + "ethereum,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D\n", 2, []error{ErrMalformed}},
		{"bad quote", hdr + "ethereum,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,\"X,s,2025-02-26\n", 2, []error{ErrMalformed}},
		{"no address column", "chain,wallet\nethereum,0x00\n", 1, []error{ErrMalformed}},
		{"unknown category", "address,entity,category\n0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X,casino\n", 2, []error{ErrUnknownCategory}},
		{"unknown confidence", "address,entity,confidence\n0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X,sure\n", 2, []error{ErrUnknownConfidence}},
		{"withdrawn before listed", "address,entity,listed,withdrawn\n0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X,2024-01-02,2024-01-01\n", 2, []error{ErrBadDate}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseCSV(strings.NewReader(c.text), "list.csv", Options{})
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "list.csv" || pe.Line != c.line {
				t.Fatalf("error %v: want list.csv:%d", err, c.line)
			}
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("%v does not wrap %v", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "list.csv:") {
				t.Errorf("message %q does not start with the file", err)
			}
		})
	}
}

// A chain chaintrace does not model is a counted skip, not an error.
func TestSkippedChains(t *testing.T) {
	b, err := ParseCSV(strings.NewReader("chain,address,actor\nbsc,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X\ntron,TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq,X\nethereum-usdt,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X\n"), "l.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, w := range b.Warnings {
		if w.Kind == WarnSkipped {
			lines = append(lines, w.Line)
		}
	}
	if len(b.Labels) != 1 || b.Labels[0].Chain != graph.Ethereum || len(lines) != 2 || lines[0] != 2 || lines[1] != 3 {
		t.Errorf("labels %+v warnings %+v", b.Labels, b.Warnings)
	}
}

// OFAC's format quirks: no header, -0- nulls, CRLF, the 0x1A end byte, remarks cut at 1,000
// characters and continued in the comments file.
func TestSDNFormat(t *testing.T) {
	// The cut falls inside an address: the continuation completes it (a wrong join would fail
	// the Base58Check checksum).
	remarks := "Digital Currency Address - XBT 1BvBMSEYst"
	remarks = strings.Repeat("y", 1000-len(remarks)) + remarks
	sdn := "1,\"A\",-0- ,\"DPRK3] [CYBER2\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"" + remarks + "\"\r\n" +
		"2,\"B\",\"individual\",\"SDGT\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency Address - TRX TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq; alt. Digital Currency Address - USDT 0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D.\"\r\n\x1a"
	comments := "1,\"WetqTFn5Au4m4GFg7xJaNVN2; alt. Digital Currency Address - ETH 0x51e9d833ecae4e8d9d8be17300aee6d3398c135d.\"\r\n\x1a"
	b, err := ParseSDN(strings.NewReader(sdn), "sdn.csv", strings.NewReader(comments), "sdn_comments.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Labels) != 3 {
		t.Fatalf("labels %+v", b.Labels)
	}
	a := b.Labels[0]
	if a.Address != "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2" || a.Nexus != NexusDPRK || !equalStrings(a.Programs, []string{"DPRK3", "CYBER2"}) || a.Source.Line != 1 || a.EntityID != "SDN-1" {
		t.Errorf("joined label %+v", a)
	}
	if b.Labels[2].Entity != "B" || b.Labels[2].Chain != graph.Ethereum || b.Labels[2].Nexus != "" || b.Labels[2].Source.Line != 2 {
		t.Errorf("USDT on Ethereum: %+v", b.Labels[2])
	}
	if b.Count(WarnSkipped) != 1 {
		t.Errorf("warnings %+v", b.Warnings)
	}
	// Without the comments file the cut address is lost, loudly.
	b, err = ParseSDN(strings.NewReader(sdn), "sdn.csv", nil, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Count(WarnTruncated) != 1 || b.Count(WarnInvalid) != 1 {
		t.Errorf("without comments: %+v", b.Warnings)
	}
	// Structural errors name the line.
	for _, c := range []struct{ sdn, want string }{
		{"1,\"A\",-0-\r\n", "sdn.csv:1"},
		{sdn[:strings.Index(sdn, "\r\n")+2] + "x,\"B\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n", "sdn.csv:2"},
		{"1,\"A\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n1,\"A\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n", "sdn.csv:2"},
		{"1,\"A\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\x1a2,\"B\"", "sdn.csv:2"},
	} {
		_, err := ParseSDN(strings.NewReader(c.sdn), "sdn.csv", nil, "", Options{})
		if err == nil || !errors.Is(err, ErrMalformed) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: %v, want %s", c.sdn, err, c.want)
		}
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	src := loadCurated(t, dprkSeedsFile).Labels()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []string{"round trip"}, src); err != nil {
		t.Fatal(err)
	}
	b, err := ParseCSV(bytes.NewReader(buf.Bytes()), "rt.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Labels) != len(src) {
		t.Fatalf("%d labels back, want %d", len(b.Labels), len(src))
	}
	for i := range src {
		a, c := src[i], b.Labels[i]
		a.Source.File, a.Source.Line, c.Source.File, c.Source.Line = "", 0, "", 0
		if !labelsEqual(a, c) {
			t.Fatalf("label %d:\n%+v\n%+v", i, a, c)
		}
	}
	orig, err := os.ReadFile(dprkSeedsFile)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := WriteCSV(&again, []string{dprkHeader}, src); err != nil || !bytes.Equal(again.Bytes(), orig) {
		t.Errorf("load + write does not reproduce %s (%v)", dprkSeedsFile, err)
	}
}

func labelsEqual(a, b Label) bool {
	return a.Chain == b.Chain && a.Address == b.Address && a.Entity == b.Entity && a.EntityID == b.EntityID &&
		a.Name == b.Name && a.Category == b.Category && a.Nexus == b.Nexus && equalStrings(sortedCopy(a.Programs), sortedCopy(b.Programs)) &&
		a.Incident == b.Incident && a.Role == b.Role && equalStrings(a.Tags, b.Tags) && a.Confidence == b.Confidence &&
		a.Listed.Equal(b.Listed) && a.Withdrawn.Equal(b.Withdrawn) && a.Source.Document == b.Source.Document &&
		a.Source.URL == b.Source.URL && a.Source.DateText == b.Source.DateText
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		prec int
		bad  bool
	}{
		{"2025-02-26", "2025-02-26", precDay, false},
		{"2023-08-16 12:18:52.619444", "2023-08-16", precDay, false},
		{"2026-06-25 (commit date of list)", "2026-06-25", precDay, false},
		{"2025-02-26T00:00:00Z", "2025-02-26", precDay, false},
		{"2025-02/03", "2025-02-01", precMonth, false},
		{"2025-02", "2025-02-01", precMonth, false},
		{"2022 (file history)", "2022-01-01", precYear, false},
		{"2022", "2022-01-01", precYear, false},
		{"20222", "", 0, true},
		{"2025-13-01", "", 0, true},
		{"2025-02-29", "", 0, true},
		{"2024-02-29", "2024-02-29", precDay, false},
		{"2025-1-1", "", 0, true},
		{"yesterday", "", 0, true},
		{"", "", 0, true},
	} {
		got, prec, err := parseDate(c.in)
		if c.bad {
			if err == nil || !errors.Is(err, ErrBadDate) {
				t.Errorf("%q: %v, want ErrBadDate", c.in, err)
			}
			continue
		}
		if err != nil || got.Format("2006-01-02") != c.want || prec != c.prec {
			t.Errorf("%q: %v %d %v, want %s %d", c.in, got, prec, err, c.want, c.prec)
		}
	}
}

func TestEtherscanJSONErrors(t *testing.T) {
	good := `{
  "0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be": {"name": "Binance", "labels": ["binance", "exchange"]},
  "0x12d66f87a04a9e220743712ce6d9bb1b5616b8fc": {"name": "Tornado.Cash: 0.1 ETH", "labels": ["tornado-cash"]},
  "0x3F5CE5FBFE3E9AF3971DD833D26BA9B5C936F0BE": {"name": "Binance", "labels": ["binance", "exchange"]}
}`
	b, err := ParseEtherscanJSON(strings.NewReader(good), "l.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Labels) != 2 || b.Labels[0].Source.Line != 2 || b.Labels[1].Source.Line != 3 || b.Labels[1].Category != CategoryMixer || b.Count(WarnDuplicate) != 1 {
		t.Errorf("labels %+v warnings %+v", b.Labels, b.Warnings)
	}
	for _, c := range []struct {
		text string
		line int
		want error
	}{
		{strings.Replace(good, `"Binance", "labels": ["binance", "exchange"]}
}`, `"Kraken", "labels": ["kraken"]}
}`, 1), 4, ErrConflictingEntity},
		{strings.Replace(good, "0x12d66f87", "0x12d66f8", 1), 3, ErrBadAddress},
		{strings.Replace(good, `["tornado-cash"]`, `"tornado-cash"`, 1), 3, ErrMalformed},
		{strings.Replace(good, `},
  "0x3F5CE`, `}
  "0x3F5CE`, 1), 4, ErrMalformed},
		{good + "\n[]", 6, ErrMalformed},
		{"[]", 1, ErrMalformed},
	} {
		_, err := ParseEtherscanJSON(strings.NewReader(c.text), "l.json", Options{})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != c.line || !errors.Is(err, c.want) {
			t.Errorf("%v: want line %d, %v", err, c.line, c.want)
		}
	}
}

// An empty category or confidence cell is the default (actor / unknown), as a missing
// column is: never an empty, invalid value (found by FuzzParseCSV).
func TestCSVEmptyCategoryAndConfidenceCells(t *testing.T) {
	in := "address,entity,category,confidence\n12283Cq1pJ3f1gXwqi6K3bRf5LZb8Bkm6g,X,,\n"
	b, err := ParseCSV(strings.NewReader(in), "f.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Labels) != 1 {
		t.Fatalf("labels %+v", b.Labels)
	}
	l := b.Labels[0]
	if l.Category != CategoryActor || l.Confidence != ConfidenceUnknown {
		t.Fatalf("category %q confidence %q, want actor, unknown", l.Category, l.Confidence)
	}
	if err := NewSet().Add(l); err != nil { // a Set refuses invalid labels
		t.Fatal(err)
	}
}
