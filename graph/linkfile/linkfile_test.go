package linkfile_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/linkfile"
)

const (
	e1     = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
	e2     = "0x9a3b5e1f8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a"
	b1     = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
	b2     = "0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098"
	vault  = graph.Address("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")
	router = "0xd37bbe5744d730a1d98d8dc97c42f0ca46ad7146"
	pair   = "0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852"
)

func ethAddr(t *testing.T, s string) graph.Address {
	t.Helper()
	a, err := graph.ParseAddress(graph.Ethereum, s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The CSV and JSON examples declare the same links: the same parts, but for the evidence's
// file name.
func TestGoodFiles(t *testing.T) {
	eth := func(ref string) graph.Leg { return graph.Leg{Chain: graph.Ethereum, Ref: ref} }
	btc := func(ref string) graph.Leg { return graph.Leg{Chain: graph.Bitcoin, Ref: ref} }
	want := []graph.LinkPart{
		{Key: "L1", Kind: graph.LinkBridge, Chain: graph.Ethereum, In: []graph.Leg{eth(e1 + ".0")}, Venues: []graph.Address{ethAddr(t, router)},
			Evidence: "bridge explorer deposit 7781; bridge explorer release 7781"},
		{Key: "L1", Kind: graph.LinkBridge, Chain: graph.Bitcoin, Out: []graph.Leg{btc(b1 + ":1")}, Venues: []graph.Address{vault}},
		{Key: "thorchain:" + e2[2:], Kind: graph.LinkThorchain, Chain: graph.Bitcoin, Out: []graph.Leg{btc(b2 + ":0")}, Venues: []graph.Address{vault},
			Evidence: "thorchain.net: outbound of " + e2},
		{Key: "SWAP7", Kind: graph.LinkSwap, Chain: graph.Ethereum, In: []graph.Leg{eth(e2 + ".log3")}, Out: []graph.Leg{eth(e2 + ".log4")},
			Venues: []graph.Address{ethAddr(t, pair)}, Evidence: "router trace, hop 1"},
	}
	for _, name := range []string{"links.csv", "links.json"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			got, err := linkfile.LoadFile(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d parts, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				w := want[i]
				if w.Evidence != "" {
					w.Evidence += " (declared in " + path + ")"
				}
				if !equalPart(got[i], w) {
					t.Errorf("part %d:\n got %+v\nwant %+v", i, got[i], w)
				}
			}
			// The parts join: L1 complete across chains, SWAP7 complete, the THORChain
			// outbound an orphan until the detected inbound joins it.
			j, err := graph.JoinLinks(got)
			if err != nil {
				t.Fatal(err)
			}
			if len(j.Links) != 2 || len(j.Orphans) != 1 || len(j.Links[0].In) != 1 || len(j.Links[0].Out) != 1 {
				t.Errorf("joined: %+v", j)
			}
		})
	}
}

func equalPart(a, b graph.LinkPart) bool {
	eqLegs := func(x, y []graph.Leg) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if len(a.Venues) != len(b.Venues) {
		return false
	}
	for i := range a.Venues {
		if a.Venues[i] != b.Venues[i] {
			return false
		}
	}
	return a.Key == b.Key && a.Kind == b.Kind && a.Chain == b.Chain && a.Evidence == b.Evidence &&
		eqLegs(a.In, b.In) && eqLegs(a.Out, b.Out)
}

func TestDefaultKind(t *testing.T) {
	csv := "side,chain,ref,link_id\nin,eth," + e1 + ".0,X\nout,btc," + b1 + ":0,X\n"
	got, err := linkfile.ParseCSV(strings.NewReader(csv), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Kind != graph.LinkDeclared || got[1].Kind != graph.LinkDeclared || got[0].Evidence != "declared in x.csv" {
		t.Errorf("%+v", got)
	}
	js := `[{"id": "X", "in": [{"chain": "eth", "transfer": "` + e1 + `.0"}]}]`
	got, err = linkfile.ParseJSON(strings.NewReader(js), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != graph.LinkDeclared {
		t.Errorf("%+v", got)
	}
	if got, err := linkfile.ParseJSON(strings.NewReader(" [ ] "), "empty.json"); err != nil || len(got) != 0 {
		t.Errorf("empty array: %v %v", got, err)
	}
}

// Every file under testdata/bad fails with an error naming the file, the line and the
// field at fault.
func TestBadFiles(t *testing.T) {
	cases := []struct {
		file  string
		line  int
		field string
		err   error
		text  string
	}{
		{"kind.csv", 3, "kind", linkfile.ErrKind, "teleport"},
		{"kinds.csv", 3, "kind", linkfile.ErrKind, "bridge on an earlier row and a swap"},
		{"side.csv", 2, "side", linkfile.ErrSide, `"both"`},
		{"chain.csv", 2, "chain", graph.ErrUnknownChain, `"solana"`},
		{"outpoint.csv", 3, "ref", linkfile.ErrRef, "not a bitcoin output"},
		{"vout.csv", 2, "ref", linkfile.ErrRef, "not a bitcoin output"},
		{"transfer.csv", 2, "ref", linkfile.ErrRef, "not an ethereum transfer id"},
		{"emptyref.csv", 2, "ref", linkfile.ErrRef, "empty"},
		{"dupleg.csv", 4, "ref", linkfile.ErrDuplicateLeg, "already an in-leg at line 2"},
		{"venue.csv", 2, "venue", linkfile.ErrVenue, "bc1q"},
		{"header.csv", 1, "column 1", linkfile.ErrSyntax, `unknown column "link"`},
		{"noref.csv", 1, "", linkfile.ErrSyntax, "no ref column"},
		{"fields.csv", 2, "", linkfile.ErrSyntax, "5 fields, the header has 7"},
		{"emptyid.csv", 2, "link_id", linkfile.ErrSyntax, "empty"},
		{"quote.csv", 2, "byte 93", linkfile.ErrSyntax, "quote"},
		{"kind.json", 2, `link "L1" kind`, linkfile.ErrKind, "teleport"},
		{"chain.json", 3, `link "L2" in[0].chain`, graph.ErrUnknownChain, `"doge"`},
		{"outpoint.json", 2, `link "L1" out[0].output`, linkfile.ErrRef, "not a bitcoin output"},
		{"dupleg.json", 3, `link "L2" in[0].transfer`, linkfile.ErrDuplicateLeg, `line 2 (link "L1")`},
		{"dupid.json", 3, `link "L1" id`, linkfile.ErrSyntax, "two links"},
		{"field.json", 2, "links[0]", linkfile.ErrSyntax, `unknown field "amount"`},
		{"syntax.json", 2, "", linkfile.ErrSyntax, "invalid character"},
		{"btctransfer.json", 2, `link "L1" in[0]`, linkfile.ErrRef, "a bitcoin leg names an output"},
		{"both.json", 2, `link "L1" in[0]`, linkfile.ErrRef, "not both"},
		{"emptyref.json", 2, `link "L1" in[0].transfer`, linkfile.ErrRef, "empty"},
		{"venue.json", 2, `link "L1" venues[0].address`, linkfile.ErrVenue, "on bitcoin"},
		{"nolegs.json", 2, `link "L1"`, linkfile.ErrSyntax, "names no leg"},
		{"noid.json", 2, "links[0].id", linkfile.ErrSyntax, "needs an id"},
		{"object.json", 1, "", linkfile.ErrSyntax, "array of links"},
		{"trailing.json", 2, "", linkfile.ErrSyntax, "data after the array"},
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(cases) {
		t.Errorf("%d files in testdata/bad, %d cases: every bad file needs a case", len(entries), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", c.file)
			parts, err := linkfile.LoadFile(context.Background(), path)
			if err == nil {
				t.Fatalf("no error; parts %+v", parts)
			}
			if parts != nil {
				t.Errorf("parts returned with the error: %+v", parts)
			}
			var pe *linkfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%v is not a *ParseError", err)
			}
			if pe.File != path || pe.Line != c.line || pe.Field != c.field {
				t.Errorf("at %s:%d field %q, want %s:%d field %q (%v)", pe.File, pe.Line, pe.Field, path, c.line, c.field, err)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("%v does not wrap %v", err, c.err)
			}
			if !strings.Contains(err.Error(), c.text) || !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("%q does not name %q and the file", err, c.text)
			}
		})
	}
}

func TestLoadFileExtension(t *testing.T) {
	if _, err := linkfile.LoadFile(context.Background(), filepath.Join("testdata", "SOURCES")); !errors.Is(err, linkfile.ErrSyntax) {
		t.Errorf("unknown extension: %v", err)
	}
	if _, err := linkfile.LoadFile(context.Background(), filepath.Join("testdata", "none.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func checkParts(t *testing.T, parts []graph.LinkPart, err error) {
	if err != nil {
		var pe *linkfile.ParseError
		if !errors.As(err, &pe) || pe.File == "" {
			t.Fatalf("error %v is not a *ParseError naming the file", err)
		}
		if parts != nil {
			t.Fatal("parts with an error")
		}
		return
	}
	for _, p := range parts {
		if p.Key == "" || p.Chain == "" || len(p.In)+len(p.Out)+len(p.Venues) == 0 {
			t.Fatalf("empty part %+v", p)
		}
		for _, l := range append(append([]graph.Leg(nil), p.In...), p.Out...) {
			if l.Chain != p.Chain || l.Ref == "" {
				t.Fatalf("leg %v in part on %s", l, p.Chain)
			}
		}
	}
	if _, err := graph.JoinLinks(parts); err != nil {
		t.Fatalf("parts of one file do not join: %v", err)
	}
}

func FuzzParseCSV(f *testing.F) {
	for _, name := range []string{"links.csv", "bad/dupleg.csv", "bad/quote.csv", "bad/kinds.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, err := linkfile.ParseCSV(bytes.NewReader(data), "f.csv")
		checkParts(t, parts, err)
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, name := range []string{"links.json", "bad/dupleg.json", "bad/syntax.json", "bad/both.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, err := linkfile.ParseJSON(bytes.NewReader(data), "f.json")
		checkParts(t, parts, err)
	})
}

// A declared THORChain outbound completes the link of a detected inbound: same key, same
// kind, the declared out-leg joins the detected in-leg.
func TestDeclaredCompletesDetected(t *testing.T) {
	declared, err := linkfile.LoadFile(context.Background(), filepath.Join("testdata", "links.json"))
	if err != nil {
		t.Fatal(err)
	}
	detected := graph.LinkPart{Key: "thorchain:" + e2[2:], Kind: graph.LinkThorchain, Chain: graph.Ethereum,
		In: []graph.Leg{{Chain: graph.Ethereum, Ref: e2 + ".0"}}, Venues: []graph.Address{ethAddr(t, router)}, Evidence: "router Deposit"}
	j, err := graph.JoinLinks(append([]graph.LinkPart{detected}, declared...))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Orphans) != 0 || len(j.Links) != 3 {
		t.Fatalf("joined %+v", j)
	}
	l := j.Links[0]
	if l.ID != detected.Key || len(l.In) != 1 || l.In[0] != detected.In[0] || len(l.Out) != 1 || l.Out[0] != (graph.Leg{Chain: graph.Bitcoin, Ref: b2 + ":0"}) ||
		!strings.HasPrefix(l.Evidence, "router Deposit; thorchain.net") {
		t.Errorf("link %+v", l)
	}
	if v := j.Venues[graph.Bitcoin]; len(v) != 1 || v[0] != vault {
		t.Errorf("bitcoin venues %v", v)
	}
}
