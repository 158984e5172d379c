package labels

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

// Columns of an attribution CSV, by the header names that spell them (lower case).
var csvColumns = map[string]string{
	"chain": "chain", "network": "chain", "blockchain": "chain",
	"address": "address",
	"entity":  "entity", "actor": "entity", "name": "entity", "owner": "entity",
	"entity_id": "entity_id", "actor_id": "entity_id", "ent_num": "entity_id",
	"tag": "name", "name_tag": "name", "label": "name",
	"category": "category",
	"nexus":    "nexus",
	"programs": "programs", "program": "programs",
	"incident":   "incident",
	"role":       "role",
	"tags":       "tags",
	"confidence": "confidence",
	"source":     "source", "document": "source",
	"source_url": "source_url", "url": "source_url",
	"listed": "listed", "source_date": "listed", "date_added": "listed", "date": "listed",
	"withdrawn": "withdrawn", "delisted": "withdrawn", "date_removed": "withdrawn",
}

// inferChain picks the chain of an address written without one: 0x + 40 hex digits is
// Ethereum, anything else is read as Bitcoin (and fails there if it is not one).
func inferChain(addr string) graph.Chain {
	if isHexAddress(strings.TrimSpace(addr)) {
		return graph.Ethereum
	}
	return graph.Bitcoin
}

// ParseCSV reads an attribution list in CSV with a header row: the FBI and researcher files
// (chain,address,actor,source,source_date,source_url[,role]), the ultrasoundmoney OFAC list
// ([date_added,]address,name), and this package's own format (WriteCSV). Columns are found by
// name (see the package documentation for the spellings); address is required, the rest
// default from opt. Lines starting with '#' are comments.
//
// A row on a chain chaintrace does not model (bsc, polygon, arbitrum, tron, …) is skipped
// with a WarnSkipped warning; an unknown chain name, a malformed address or checksum, a bad
// date or a duplicate address with a different entity is an error naming the file and line.
func ParseCSV(r io.Reader, name string, opt Options) (*Batch, error) {
	return labelsOut(parseCSV(r, name, opt, newBatch(nil)))
}

func parseCSV(r io.Reader, name string, opt Options, b *Batch) (*Batch, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errAt(name, 0, fmt.Errorf("%w: empty file, no header row", ErrMalformed))
	}
	if err != nil {
		return nil, csvErr(name, err)
	}
	hline, _ := cr.FieldPos(0)
	col := map[string]int{}
	var ignored []string
	hasEntity := false
	for _, h := range header {
		hasEntity = hasEntity || strings.EqualFold(strings.TrimSpace(h), "entity")
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		f, ok := csvColumns[strings.ReplaceAll(h, " ", "_")]
		if h == "name" && hasEntity {
			f = "name" // beside an entity column, "name" is the source's tag text (WriteCSV)
		}
		if !ok {
			ignored = append(ignored, fmt.Sprintf("%q", h))
			continue
		}
		if _, dup := col[f]; dup {
			return nil, errAt(name, hline, fmt.Errorf("%w: two columns mean %s (%q)", ErrMalformed, f, h))
		}
		col[f] = i
	}
	if _, ok := col["address"]; !ok {
		return nil, errAt(name, hline, fmt.Errorf("%w: no address column in header %q", ErrMalformed, strings.Join(header, ",")))
	}
	if len(ignored) > 0 {
		b.warn(WarnIgnoredField, name, hline, "", "columns %s are not read", strings.Join(ignored, ", "))
	}
	// Without a default, a row that leaves the category or confidence out (no column, or
	// an empty cell) gets actor / unknown, never an empty, invalid value.
	defCat := opt.Category
	if defCat == "" {
		defCat = CategoryActor
		if _, ok := col["category"]; !ok {
			b.warn(WarnDefaulted, name, hline, "", "no category column and no default: every row is %q", defCat)
		}
	}
	defConf := opt.Confidence
	if defConf == "" {
		defConf = ConfidenceUnknown
		if _, ok := col["confidence"]; !ok {
			b.warn(WarnDefaulted, name, hline, "", "no confidence column and no default: every row is %q", defConf)
		}
	}
	get := func(rec []string, f string) string {
		if i, ok := col[f]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	dd := newDedup(b.t, name)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			return nil, errAt(name, line, fmt.Errorf("%w: %d fields, header has %d", ErrMalformed, len(rec), len(header)))
		}
		raw := get(rec, "address")
		if raw == "" {
			return nil, errAt(name, line, fmt.Errorf("%w: empty address", ErrBadAddress))
		}
		var c graph.Chain
		if code := get(rec, "chain"); code != "" {
			var skip string
			c, skip, err = resolveChain(code, raw, true)
			if err != nil {
				return nil, errAt(name, line, err)
			}
			if skip != "" {
				b.warn(WarnSkipped, name, line, raw, "%s", skip)
				continue
			}
		} else if opt.Chain != "" {
			c = opt.Chain
		} else {
			c = inferChain(raw)
		}
		addr, err := parseAddress(c, raw)
		if err != nil {
			if opt.SkipInvalid {
				b.warn(WarnInvalid, name, line, raw, "address left out: %v", err)
				continue
			}
			return nil, errAt(name, line, err)
		}
		l := Label{
			Chain: c, Address: addr,
			Entity:   opt.or(get(rec, "entity"), opt.Entity),
			EntityID: get(rec, "entity_id"),
			Name:     get(rec, "name"),
			Category: defCat,
			Nexus:    opt.or(get(rec, "nexus"), opt.Nexus),
			Programs: splitPrograms(get(rec, "programs")),
			Incident: opt.or(get(rec, "incident"), opt.Incident),
			Role:     get(rec, "role"),
			Tags:     splitTags(get(rec, "tags")),
			Source: Source{
				Document: opt.or(get(rec, "source"), opt.or(opt.Document, filepath.Base(name))),
				URL:      opt.or(get(rec, "source_url"), opt.URL),
				File:     name, Line: line,
			},
			Confidence: defConf,
			Listed:     opt.Listed,
		}
		if l.Entity == "" {
			return nil, errAt(name, line, fmt.Errorf("%w: no entity for %s", ErrMalformed, raw))
		}
		if s := get(rec, "category"); s != "" {
			if l.Category, err = ParseCategory(s); err != nil {
				return nil, errAt(name, line, err)
			}
		}
		if s := get(rec, "confidence"); s != "" {
			if l.Confidence, err = ParseConfidence(s); err != nil {
				return nil, errAt(name, line, err)
			}
		}
		if l.Nexus == "" && mentionsDPRK(l.Entity) {
			l.Nexus = NexusDPRK
		}
		if t, err := readDate(b, &l, name, line, "listed date", get(rec, "listed")); err != nil {
			return nil, err
		} else if !t.IsZero() {
			l.Listed = t
		}
		if l.Withdrawn, err = readDate(b, &l, name, line, "withdrawn date", get(rec, "withdrawn")); err != nil {
			return nil, err
		}
		if !l.Withdrawn.IsZero() && !l.Listed.IsZero() && l.Withdrawn.Before(l.Listed) {
			return nil, errAt(name, line, fmt.Errorf("%w: withdrawn %s before listed %s", ErrBadDate, l.Withdrawn.Format("2006-01-02"), l.Listed.Format("2006-01-02")))
		}
		if err := b.keep(dd, &l, line); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func splitTags(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, t := range strings.Split(s, "|") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errAt(name, pe.StartLine, fmt.Errorf("%w: %w", ErrMalformed, pe.Err))
	}
	return errAt(name, 0, fmt.Errorf("%w: %w", ErrMalformed, err))
}

// ParsePlainList reads a list of addresses, one per line (blank lines and '#' comments
// ignored), e.g. 0xB10C's sanctioned_addresses_XBT.txt. Every label takes its entity,
// category, confidence and source from opt; the chain is opt.Chain, or inferred per line
// (0x-hex → ethereum, else bitcoin) when opt.Chain is empty.
func ParsePlainList(r io.Reader, name string, opt Options) (*Batch, error) {
	return labelsOut(parsePlainList(r, name, opt, newBatch(nil)))
}

func parsePlainList(r io.Reader, name string, opt Options, b *Batch) (*Batch, error) {
	if opt.Entity == "" {
		return nil, errAt(name, 0, fmt.Errorf("%w: a plain address list (.txt) does not say whose its addresses are: give their owner (Options.Entity)", ErrMalformed))
	}
	cat := opt.Category
	if cat == "" {
		cat = CategoryOther
	}
	conf := opt.Confidence
	if conf == "" {
		conf = ConfidenceUnknown
	}
	dd := newDedup(b.t, name)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		c := opt.Chain
		if c == "" {
			c = inferChain(s)
		}
		addr, err := parseAddress(c, s)
		if err != nil {
			if opt.SkipInvalid {
				b.warn(WarnInvalid, name, line, s, "address left out: %v", err)
				continue
			}
			return nil, errAt(name, line, err)
		}
		l := Label{
			Chain: c, Address: addr, Entity: opt.Entity, Category: cat, Nexus: opt.Nexus,
			Incident: opt.Incident, Confidence: conf, Listed: opt.Listed,
			Source: Source{Document: opt.or(opt.Document, filepath.Base(name)), URL: opt.URL, File: name, Line: line},
		}
		if err := b.keep(dd, &l, line); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errAt(name, line+1, fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	return b, nil
}

// csvHeader is the column order WriteCSV writes and ParseCSV reads back.
var csvHeader = []string{"chain", "address", "entity", "entity_id", "name", "category", "nexus",
	"programs", "incident", "role", "tags", "confidence", "listed", "withdrawn", "source", "source_url"}

// WriteCSV writes labels in this package's CSV format (readable by ParseCSV), after the
// given comment lines (each written as "# line"): the format of the curated sets.
// Ethereum addresses are written in EIP-55 form so a reader can check them.
func WriteCSV(w io.Writer, comments []string, ls []Label) error {
	bw := bufio.NewWriter(w)
	for _, c := range comments {
		for _, ln := range strings.Split(c, "\n") {
			if _, err := bw.WriteString(strings.TrimRight("# "+ln, " ") + "\n"); err != nil {
				return err
			}
		}
	}
	cw := csv.NewWriter(bw)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	date := func(l *Label, which string) string {
		t := l.Listed
		if which == "withdrawn" {
			t = l.Withdrawn
		}
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	}
	for i := range ls {
		l := &ls[i]
		addr := string(l.Address)
		if l.Chain == graph.Ethereum {
			addr = graph.ChecksumAddress(l.Address)
		}
		progs := append([]string(nil), l.Programs...)
		sort.Strings(progs)
		rec := []string{string(l.Chain), addr, l.Entity, l.EntityID, l.Name, string(l.Category), l.Nexus,
			strings.Join(progs, "|"), l.Incident, l.Role, strings.Join(l.Tags, "|"), string(l.Confidence),
			date(l, "listed"), date(l, "withdrawn"), l.Source.Document, l.Source.URL}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
