package labels

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chaintrace/chaintrace/graph"
)

// Options are the defaults and provenance a loader applies to every label it reads from one
// input. A field a row sets itself wins over the default.
type Options struct {
	Chain      graph.Chain // chain of rows that name none (plain lists, Etherscan files)
	Entity     string      // owner of rows that name none
	Category   Category    // category of rows that name none
	Confidence Confidence  // confidence of rows that name none
	Nexus      string      // state nexus of every row (e.g. NexusDPRK for an FBI list)
	Incident   string      // seed source name of rows that name none
	Document   string      // source document title
	URL        string      // source document address
	// Listed is the date of the list version being read: the date rows without one of
	// their own became known.
	Listed time.Time
	// Actors resolves GraphSense actor ids to names (ParseActorPack); optional.
	Actors map[string]Actor
	// SkipInvalid leaves out rows whose address is malformed or fails its checksum, with a
	// WarnInvalid warning naming the line, instead of failing the file: for bulk third-party
	// lists known to contain a few such rows. ParseSDN always does this.
	SkipInvalid bool
	// Cite is the file name labels give as their Source.File instead of the path they were
	// read from (Set.ReadFile, Set.Read): a report cites "testdata/labels/x.csv", not
	// this machine's absolute path. Errors and warnings name the path.
	Cite string
}

func (o *Options) or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// The OFAC SDN file's columns (no header row in the real file).
const (
	sdnEntNum = iota
	sdnColName
	sdnType
	sdnProgram
	sdnTitle
	sdnCallSign
	sdnVessType
	sdnTonnage
	sdnGRT
	sdnVessFlag
	sdnVessOwner
	sdnRemarks
	sdnColumns
)

// sdnRemarksLimit is where OFAC cuts the Remarks column; the rest is in sdn_comments.csv.
const sdnRemarksLimit = 1000

// digitalCurrencyRE finds "Digital Currency Address - XBT 1abc…" in SDN remarks. Addresses are
// alphanumeric in every currency OFAC lists, which ends the match before the "; " or "." that
// follows.
var digitalCurrencyRE = regexp.MustCompile(`Digital Currency Address - ([A-Za-z0-9]+) ([A-Za-z0-9]+)`)

// sdnNull is OFAC's empty value.
func sdnField(s string) string {
	s = strings.TrimSpace(s)
	if s == "-0-" {
		return ""
	}
	return s
}

// readOFACCSV reads one of OFAC's CSV files: no header, CRLF line ends, "-0-" for empty, a
// trailing DOS end-of-file byte (0x1A); the text is ASCII in practice, Latin-1 if not UTF-8.
// It returns the records with their 1-based line numbers.
func readOFACCSV(r io.Reader, name string, columns int) ([][]string, []int, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, errAt(name, 0, fmt.Errorf("%w: read: %w", ErrMalformed, err))
	}
	data = bytes.TrimRight(data, "\x1a\r\n \t")
	if !utf8.Valid(data) {
		runes := make([]rune, len(data))
		for i, c := range data {
			runes[i] = rune(c)
		}
		data = []byte(string(runes))
	}
	if i := bytes.IndexByte(data, 0x1a); i >= 0 {
		return nil, nil, errAt(name, 1+bytes.Count(data[:i], []byte("\n")), fmt.Errorf("%w: end-of-file byte 0x1A before the end", ErrMalformed))
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = columns
	cr.ReuseRecord = false
	var recs [][]string
	var lines []int
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, errAt(name, pe.StartLine, fmt.Errorf("%w: %w", ErrMalformed, pe.Err))
			}
			return nil, nil, errAt(name, 0, fmt.Errorf("%w: %w", ErrMalformed, err))
		}
		line, _ := cr.FieldPos(0)
		recs = append(recs, rec)
		lines = append(lines, line)
	}
	return recs, lines, nil
}

// ParseSDN reads OFAC's sdn.csv (and, if comments is not nil, sdn_comments.csv) and returns a
// label for every "Digital Currency Address" of every entry, on the chains chaintrace models:
// XBT → bitcoin; ETH, and ERC-20 codes (USDT, USDC, …) with an 0x address → ethereum. Every
// other currency (TRX, LTC, ARB, BSC, …) is skipped with a WarnSkipped warning.
//
// OFAC cuts Remarks at 1,000 characters and continues them in the comments file; the two are
// joined on ent_num before the addresses are extracted. Entities whose remarks are cut with no
// continuation give a WarnTruncated warning: addresses may be missing.
//
// OFAC's own data has errors (a TRON address filed under XBT): an address invalid for its
// currency (malformed, or a bad checksum) is left out with a WarnInvalid warning naming the
// line, so one typo does not stop the list; callers that must not lose addresses check
// Batch.Count(WarnInvalid).
//
// Each label: Entity = SDN name, EntityID = "SDN-<ent_num>", Programs from the program column,
// Category sanctioned, Confidence authority_data, Nexus DPRK when a program is a DPRK one or
// the remarks tie the entry to North Korea or Lazarus, Listed = opt.Listed (the list
// version's date: the SDN file carries no per-address dates).
func ParseSDN(sdn io.Reader, sdnName string, comments io.Reader, commentsName string, opt Options) (*Batch, error) {
	return labelsOut(parseSDN(sdn, sdnName, comments, commentsName, opt, newBatch(nil)))
}

func parseSDN(sdn io.Reader, sdnName string, comments io.Reader, commentsName string, opt Options, b *Batch) (*Batch, error) {
	recs, lines, err := readOFACCSV(sdn, sdnName, sdnColumns)
	if err != nil {
		return nil, err
	}
	continuation := map[string]string{}
	contLine := map[string]int{}
	if comments != nil {
		crecs, clines, err := readOFACCSV(comments, commentsName, 2)
		if err != nil {
			return nil, err
		}
		for i, rec := range crecs {
			id := strings.TrimSpace(rec[0])
			if _, err := strconv.Atoi(id); err != nil {
				return nil, errAt(commentsName, clines[i], fmt.Errorf("%w: ent_num %q is not a number", ErrMalformed, rec[0]))
			}
			continuation[id] += rec[1] // an entry may continue over several rows, in order
			if _, ok := contLine[id]; !ok {
				contLine[id] = clines[i]
			}
		}
	}
	doc := opt.or(opt.Document, "OFAC SDN list (sdn.csv)")
	url := opt.or(opt.URL, "https://www.treasury.gov/ofac/downloads/sdn.csv")
	conf := opt.Confidence
	if conf == "" {
		conf = ConfidenceAuthorityData
	}
	seenEnt := map[string]int{}
	dd := newDedup(b.t, sdnName)
	dd.shared = true // OFAC lists an address under each SDN entry that uses it
	for i, rec := range recs {
		line := lines[i]
		id := strings.TrimSpace(rec[sdnEntNum])
		if _, err := strconv.Atoi(id); err != nil {
			return nil, errAt(sdnName, line, fmt.Errorf("%w: ent_num %q is not a number", ErrMalformed, rec[sdnEntNum]))
		}
		if prev, ok := seenEnt[id]; ok {
			return nil, errAt(sdnName, line, fmt.Errorf("%w: ent_num %s again (first on line %d)", ErrMalformed, id, prev))
		}
		seenEnt[id] = line
		name := sdnField(rec[sdnColName])
		if name == "" {
			return nil, errAt(sdnName, line, fmt.Errorf("%w: ent_num %s has no name", ErrMalformed, id))
		}
		// The cut is measured on the raw field: it may end in the space before a word.
		remarks := rec[sdnRemarks]
		cut := utf8.RuneCountInString(remarks) >= sdnRemarksLimit
		cont, hasCont := continuation[id]
		switch {
		case hasCont && !cut:
			// The comments file belongs to another list version in which this entry's
			// remarks grew past the limit: joining would splice two versions.
			b.warn(WarnVintage, commentsName, contLine[id], "", "ent_num %s (%s): remarks in %s are %d characters, not cut at %d; continuation from another list version ignored", id, name, sdnName, utf8.RuneCountInString(remarks), sdnRemarksLimit)
		case hasCont:
			remarks += cont
		case cut && strings.Contains(remarks, "Digital Currency Address"):
			b.warn(WarnTruncated, sdnName, line, "", "ent_num %s (%s): remarks cut at %d characters and no continuation in the comments file; digital currency addresses may be missing", id, name, sdnRemarksLimit)
		}
		remarks = sdnField(remarks)
		matches := digitalCurrencyRE.FindAllStringSubmatch(remarks, -1)
		if len(matches) == 0 {
			continue
		}
		programs := splitPrograms(rec[sdnProgram])
		typ := sdnField(rec[sdnType])
		if typ == "" {
			typ = "entity" // OFAC leaves the type empty for entities
		}
		nexus := opt.Nexus
		if nexus == "" && (hasDPRKProgram(programs) || mentionsDPRK(remarks)) {
			nexus = NexusDPRK
		}
		for _, m := range matches {
			code, raw := m[1], m[2]
			c, skip, err := resolveChain(code, raw, false)
			if err != nil {
				return nil, errAt(sdnName, line, err)
			}
			if skip != "" {
				b.warn(WarnSkipped, sdnName, line, raw, "ent_num %s (%s): %s", id, name, skip)
				continue
			}
			addr, err := parseAddress(c, raw)
			if err != nil {
				b.warn(WarnInvalid, sdnName, line, raw, "ent_num %s (%s): %s address left out: %v", id, name, code, err)
				continue
			}
			l := Label{
				Chain: c, Address: addr, Entity: name, EntityID: "SDN-" + id,
				Name:     "Digital Currency Address - " + code,
				Category: CategorySanctioned, Nexus: nexus, Programs: programs,
				Incident: opt.Incident, Tags: []string{"SDN " + typ},
				Confidence: conf, Listed: opt.Listed,
				Source: Source{Document: doc, URL: url, File: sdnName, Line: line},
			}
			if err := b.keep(dd, &l, line); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// LoadSDN is ParseSDN on files; commentsPath may be empty.
func LoadSDN(ctx context.Context, sdnPath, commentsPath string, opt Options) (*Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(sdnPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var comments io.Reader
	if commentsPath != "" {
		c, err := os.Open(commentsPath)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		comments = c
	}
	return ParseSDN(f, sdnPath, comments, commentsPath, opt)
}
