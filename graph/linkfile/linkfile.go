package linkfile

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

// Sentinel errors, wrapped by every *ParseError (inspect with errors.Is).
var (
	ErrSyntax       = errors.New("malformed link file")
	ErrKind         = errors.New("unknown link kind")
	ErrSide         = errors.New("bad side")
	ErrChain        = errors.New("unknown chain")
	ErrRef          = errors.New("bad leg reference")
	ErrVenue        = errors.New("bad venue address")
	ErrDuplicateLeg = errors.New("duplicate leg")
)

// ParseError locates a problem in a link file.
type ParseError struct {
	File  string
	Line  int    // 1-based; 0 when the problem is not on one line
	Field string // the column (CSV) or the field path in the link (JSON); empty for the whole line
	Err   error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// maxQuoted bounds what an error message repeats of one input field.
const maxQuoted = 80

func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// LoadFile reads a link file, CSV or JSON by its extension (.csv, .json).
func LoadFile(ctx context.Context, path string) ([]graph.LinkPart, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("linkfile: %w", err)
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return ParseCSV(f, path)
	case ".json":
		return ParseJSON(f, path)
	}
	return nil, &ParseError{File: path, Err: fmt.Errorf("%w: extension %s (want .csv or .json)", ErrSyntax, quote(filepath.Ext(path)))}
}

// parseLeg checks and canonicalizes one leg's reference on its chain: a Bitcoin output
// "<64 hex txid>:<vout>" (txid in lower case), an Ethereum transfer id "0x<64 hex>.<suffix>"
// (hash in lower case; the suffix is the adapter's: 0, t0_1, log5, w3, …).
func parseLeg(chain graph.Chain, ref string) (graph.Leg, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return graph.Leg{}, fmt.Errorf("%w: empty", ErrRef)
	}
	switch chain {
	case graph.Bitcoin:
		op, err := graph.ParseOutpoint(ref)
		if err != nil || !isHex(op.TxID, 64) {
			return graph.Leg{}, fmt.Errorf("%w: %s is not a bitcoin output <64 hex digits txid>:<vout>", ErrRef, quote(ref))
		}
		op.TxID = strings.ToLower(op.TxID)
		return graph.Leg{Chain: chain, Ref: op.String()}, nil
	case graph.Ethereum:
		dot := strings.IndexByte(ref, '.')
		if dot != 66 || !strings.HasPrefix(ref, "0x") || !isHex(ref[2:dot], 64) || dot == len(ref)-1 || !isSuffix(ref[dot+1:]) {
			return graph.Leg{}, fmt.Errorf("%w: %s is not an ethereum transfer id 0x<64 hex digits tx hash>.<0|t…|log…>", ErrRef, quote(ref))
		}
		return graph.Leg{Chain: chain, Ref: strings.ToLower(ref[:dot]) + ref[dot:]}, nil
	}
	return graph.Leg{}, fmt.Errorf("%w: %s", ErrChain, quote(string(chain)))
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isSuffix(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}

func parseChain(s string) (graph.Chain, error) {
	c, err := graph.ParseChain(s)
	if err != nil {
		return "", fmt.Errorf("%w %s (want ethereum or bitcoin): %w", ErrChain, quote(s), graph.ErrUnknownChain)
	}
	return c, nil
}

func parseKind(s string) (graph.LinkKind, error) {
	if strings.TrimSpace(s) == "" {
		return graph.LinkDeclared, nil
	}
	k, err := graph.ParseLinkKind(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrKind, err)
	}
	return k, nil
}

func parseVenue(c graph.Chain, s string) (graph.Address, error) {
	a, err := graph.ParseAddress(c, s)
	if err != nil {
		return "", fmt.Errorf("%w %s on %s: %w", ErrVenue, quote(s), c, err)
	}
	return a, nil
}

// builder collects links in file order and splits them into parts by chain.
type builder struct {
	file  string
	links []*link
	byID  map[string]*link
	// legs: where each leg was first named, per side, to report duplicates.
	legs map[sidedLeg]string
}

type sidedLeg struct {
	graph.Leg
	out bool
}

type link struct {
	id       string
	kind     graph.LinkKind
	kindSet  bool
	in, out  []graph.Leg
	venues   []venue
	evidence []string
}

func newBuilder(file string) *builder {
	return &builder{file: file, byID: map[string]*link{}, legs: map[sidedLeg]string{}}
}

// addLeg records a leg of l; at says where it is named, for a duplicate's message.
func (b *builder) addLeg(l *link, leg graph.Leg, out bool, at string) error {
	k := sidedLeg{leg, out}
	if prev, dup := b.legs[k]; dup {
		side := "in-leg"
		if out {
			side = "out-leg"
		}
		return fmt.Errorf("%w: %s is already an %s at %s", ErrDuplicateLeg, leg, side, prev)
	}
	b.legs[k] = at
	if out {
		l.out = append(l.out, leg)
	} else {
		l.in = append(l.in, leg)
	}
	return nil
}

func (l *link) addVenue(v venue) {
	for _, w := range l.venues {
		if w == v {
			return
		}
	}
	l.venues = append(l.venues, v)
}

func (l *link) addEvidence(e string) {
	e = strings.TrimSpace(e)
	if e == "" {
		return
	}
	for _, x := range l.evidence {
		if x == e {
			return
		}
	}
	l.evidence = append(l.evidence, e)
}

// parts returns one part per link and chain (the chains in the order the link's legs and
// venues first name them), keyed by the link's id; the first carries the evidence.
func (b *builder) parts() []graph.LinkPart {
	var out []graph.LinkPart
	for _, l := range b.links {
		var chains []graph.Chain
		seen := map[graph.Chain]bool{}
		note := func(c graph.Chain) {
			if !seen[c] {
				seen[c] = true
				chains = append(chains, c)
			}
		}
		for _, g := range l.in {
			note(g.Chain)
		}
		for _, g := range l.out {
			note(g.Chain)
		}
		for _, v := range l.venues {
			note(v.Chain)
		}
		kind := l.kind
		if kind == "" {
			kind = graph.LinkDeclared
		}
		ev := "declared in " + b.file
		if len(l.evidence) > 0 {
			ev = strings.Join(l.evidence, "; ") + " (" + ev + ")"
		}
		for i, c := range chains {
			p := graph.LinkPart{Key: l.id, Kind: kind, Chain: c}
			if i == 0 {
				p.Evidence = ev // once: JoinLinks joins the parts' evidence
			}
			for _, g := range l.in {
				if g.Chain == c {
					p.In = append(p.In, g)
				}
			}
			for _, g := range l.out {
				if g.Chain == c {
					p.Out = append(p.Out, g)
				}
			}
			for _, v := range l.venues {
				if v.Chain == c {
					p.Venues = append(p.Venues, v.Address)
				}
			}
			out = append(out, p)
		}
	}
	return out
}

// ParseCSV reads links from CSV (see the package documentation); name is the file's name
// for errors.
func ParseCSV(r io.Reader, name string) ([]graph.LinkPart, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	errAt := func(line int, field string, err error) error {
		return &ParseError{File: name, Line: line, Field: field, Err: err}
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errAt(0, "", fmt.Errorf("%w: empty: want a header link_id,kind,side,chain,ref,venue,evidence", ErrSyntax))
	}
	if err != nil {
		return nil, csvErr(name, err)
	}
	line, _ := cr.FieldPos(0)
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "link_id", "kind", "side", "chain", "ref", "venue", "evidence":
		default:
			return nil, errAt(line, fmt.Sprintf("column %d", i+1), fmt.Errorf("%w: unknown column %s (want link_id,kind,side,chain,ref,venue,evidence)", ErrSyntax, quote(h)))
		}
		if _, dup := col[h]; dup {
			return nil, errAt(line, h, fmt.Errorf("%w: column named twice", ErrSyntax))
		}
		col[h] = i
	}
	for _, need := range []string{"link_id", "side", "chain", "ref"} {
		if _, ok := col[need]; !ok {
			return nil, errAt(line, "", fmt.Errorf("%w: the header has no %s column", ErrSyntax, need))
		}
	}
	b := newBuilder(name)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, errAt(line, "", fmt.Errorf("%w: %d fields, the header has %d", ErrSyntax, len(rec), len(header)))
		}
		get := func(h string) string {
			if i, ok := col[h]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		id := get("link_id")
		if id == "" {
			return nil, errAt(line, "link_id", fmt.Errorf("%w: empty", ErrSyntax))
		}
		l := b.byID[id]
		if l == nil {
			l = &link{id: id}
			b.byID[id] = l
			b.links = append(b.links, l)
		}
		if k := get("kind"); k != "" {
			kind, err := parseKind(k)
			if err != nil {
				return nil, errAt(line, "kind", err)
			}
			if l.kindSet && kind != l.kind {
				return nil, errAt(line, "kind", fmt.Errorf("%w: link %s is a %s on an earlier row and a %s here", ErrKind, quote(id), l.kind, kind))
			}
			l.kind, l.kindSet = kind, true
		}
		var out bool
		switch s := strings.ToLower(get("side")); s {
		case "in":
		case "out":
			out = true
		default:
			return nil, errAt(line, "side", fmt.Errorf("%w %s (want in or out)", ErrSide, quote(get("side"))))
		}
		c, err := parseChain(get("chain"))
		if err != nil {
			return nil, errAt(line, "chain", err)
		}
		leg, err := parseLeg(c, get("ref"))
		if err != nil {
			return nil, errAt(line, "ref", err)
		}
		if err := b.addLeg(l, leg, out, fmt.Sprintf("line %d", line)); err != nil {
			return nil, errAt(line, "ref", err)
		}
		if v := get("venue"); v != "" {
			a, err := parseVenue(c, v)
			if err != nil {
				return nil, errAt(line, "venue", err)
			}
			l.addVenue(venue{Chain: c, Address: a})
		}
		l.addEvidence(get("evidence"))
	}
	return b.parts(), nil
}

func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: name, Line: pe.Line, Field: fmt.Sprintf("byte %d", pe.Column), Err: fmt.Errorf("%w: %v", ErrSyntax, pe.Err)}
	}
	return &ParseError{File: name, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
}

type legJSON struct {
	Chain    string  `json:"chain"`
	Transfer *string `json:"transfer"`
	Output   *string `json:"output"`
}

type venueJSON struct {
	Chain   string `json:"chain"`
	Address string `json:"address"`
}

type linkJSON struct {
	ID       string      `json:"id"`
	Kind     string      `json:"kind"`
	In       []legJSON   `json:"in"`
	Out      []legJSON   `json:"out"`
	Venues   []venueJSON `json:"venues"`
	Evidence string      `json:"evidence"`
}

// ParseJSON reads links from JSON (see the package documentation); name is the file's
// name for errors.
func ParseJSON(r io.Reader, name string) ([]graph.LinkPart, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &ParseError{File: name, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
	}
	lineAt := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		return 1 + bytes.Count(data[:off], []byte{'\n'})
	}
	// A json.Decoder's error offsets are not positions in the file: errors name the line
	// the link (or the token) starts on.
	syntax := func(off int64, err error) error {
		return &ParseError{File: name, Line: lineAt(off), Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(dec.InputOffset(), err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, &ParseError{File: name, Line: lineAt(dec.InputOffset()), Err: fmt.Errorf("%w: want an array of links", ErrSyntax)}
	}
	b := newBuilder(name)
	for i := 0; dec.More(); i++ {
		start := dec.InputOffset()
		// The link starts at its '{', after the separator and spaces.
		for start < int64(len(data)) && strings.IndexByte(", \t\r\n", data[start]) >= 0 {
			start++
		}
		line := lineAt(start)
		var lj linkJSON
		raw := json.RawMessage{}
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(start, err)
		}
		ld := json.NewDecoder(bytes.NewReader(raw))
		ld.DisallowUnknownFields()
		if err := ld.Decode(&lj); err != nil {
			return nil, &ParseError{File: name, Line: line, Field: fmt.Sprintf("links[%d]", i), Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
		}
		errAt := func(field string, err error) error {
			return &ParseError{File: name, Line: line, Field: strings.TrimSpace(fmt.Sprintf("link %s %s", quote(lj.ID), field)), Err: err}
		}
		if strings.TrimSpace(lj.ID) == "" {
			return nil, &ParseError{File: name, Line: line, Field: fmt.Sprintf("links[%d].id", i), Err: fmt.Errorf("%w: a link needs an id", ErrSyntax)}
		}
		if _, dup := b.byID[lj.ID]; dup {
			return nil, errAt("id", fmt.Errorf("%w: two links have this id", ErrSyntax))
		}
		kind, err := parseKind(lj.Kind)
		if err != nil {
			return nil, errAt("kind", err)
		}
		if len(lj.In)+len(lj.Out) == 0 {
			return nil, errAt("", fmt.Errorf("%w: a link names no leg (in, out)", ErrSyntax))
		}
		l := &link{id: lj.ID, kind: kind, kindSet: true}
		b.byID[lj.ID] = l
		b.links = append(b.links, l)
		for side, legs := range [][]legJSON{lj.In, lj.Out} {
			sideName := [2]string{"in", "out"}[side]
			for j, x := range legs {
				field := fmt.Sprintf("%s[%d]", sideName, j)
				c, err := parseChain(x.Chain)
				if err != nil {
					return nil, errAt(field+".chain", err)
				}
				var ref string
				switch {
				case x.Transfer != nil && x.Output != nil:
					return nil, errAt(field, fmt.Errorf("%w: a leg names a transfer or an output, not both", ErrRef))
				case c == graph.Ethereum && x.Transfer != nil:
					ref, field = *x.Transfer, field+".transfer"
				case c == graph.Bitcoin && x.Output != nil:
					ref, field = *x.Output, field+".output"
				case c == graph.Ethereum:
					return nil, errAt(field, fmt.Errorf("%w: an ethereum leg names a transfer", ErrRef))
				default:
					return nil, errAt(field, fmt.Errorf("%w: a bitcoin leg names an output", ErrRef))
				}
				leg, err := parseLeg(c, ref)
				if err != nil {
					return nil, errAt(field, err)
				}
				if err := b.addLeg(l, leg, side == 1, fmt.Sprintf("line %d (link %s)", line, quote(lj.ID))); err != nil {
					return nil, errAt(field, err)
				}
			}
		}
		for j, v := range lj.Venues {
			field := fmt.Sprintf("venues[%d]", j)
			c, err := parseChain(v.Chain)
			if err != nil {
				return nil, errAt(field+".chain", err)
			}
			a, err := parseVenue(c, v.Address)
			if err != nil {
				return nil, errAt(field+".address", err)
			}
			l.addVenue(venue{Chain: c, Address: a})
		}
		l.addEvidence(lj.Evidence)
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(dec.InputOffset(), err)
	}
	if dec.More() {
		return nil, &ParseError{File: name, Line: lineAt(dec.InputOffset()), Err: fmt.Errorf("%w: data after the array", ErrSyntax)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ParseError{File: name, Line: lineAt(dec.InputOffset()), Err: fmt.Errorf("%w: data after the array", ErrSyntax)}
	}
	return b.parts(), nil
}

// venue is an address on a chain.
type venue struct {
	Chain   graph.Chain
	Address graph.Address
}
