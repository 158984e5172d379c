package labels

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// withFile opens path, transparently gunzipping a ".gz" file, and calls fn with the reader
// and the name without ".gz" (which says the format).
func withFile(ctx context.Context, path string, fn func(r io.Reader, inner string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	inner := path
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return errAt(path, 0, fmt.Errorf("%w: gzip: %w", ErrMalformed, err))
		}
		defer zr.Close()
		r, inner = zr, strings.TrimSuffix(path, ".gz")
	}
	return fn(r, inner)
}

// LoadFile reads one label file, choosing the parser by its name (a ".gz" suffix is
// decompressed first):
//
//   - *.csv: an Etherscan label page (header ",Address,Name Tag,…"; the label id is the file
//     name) or else an attribution list (ParseCSV) — the curated sets are the latter;
//   - *.yaml, *.yml: a TagPack (ParseTagPack, no header file; use LoadTagPackDir for a tree);
//   - *.json: Etherscan combined account labels (ParseEtherscanJSON);
//   - *.txt: a plain address list (ParsePlainList; needs opt.Entity).
//
// A *.csv in OFAC's headerless sdn.csv layout is read with ParseSDN, without the comments
// file (LoadSDN joins sdn_comments.csv, which completes remarks OFAC cut short). To add a file's labels to a Set,
// Set.ReadFile reads them straight into the set's compact form, with no Batch in between.
func LoadFile(ctx context.Context, path string, opt Options) (*Batch, error) {
	b := newBatch(nil)
	return labelsOut(b, withFile(ctx, path, func(r io.Reader, inner string) error {
		return parseFile(r, path, inner, opt, b)
	}))
}

// parseFile runs the parser inner's name calls for, reading r as it goes. A CSV file's first
// line, which tells an Etherscan page from an attribution list, is peeked at, not copied.
func parseFile(r io.Reader, path, inner string, opt Options, b *Batch) error {
	var err error
	switch ext := strings.ToLower(filepath.Ext(inner)); ext {
	case ".csv":
		br := bufio.NewReaderSize(r, 64<<10)
		head, perr := br.Peek(8 << 10) // an OFAC row is at most about 2,000 bytes
		if perr != nil && perr != io.EOF && perr != bufio.ErrBufferFull {
			return errAt(path, 0, fmt.Errorf("%w: read: %w", ErrMalformed, perr))
		}
		first, _, _ := strings.Cut(string(head), "\n")
		switch {
		case strings.HasPrefix(strings.TrimSpace(first), ",Address,Name Tag"):
			id := strings.TrimSuffix(filepath.Base(inner), ext)
			_, err = parseEtherscanCSV(br, path, id, opt, b)
		case ofacColumns(first) == sdnColumns:
			// OFAC's sdn.csv on its own: the addresses in its remarks, without the
			// continuations of sdn_comments.csv (entries cut short are warned of).
			_, err = parseSDN(br, path, nil, "", opt, b)
		case ofacColumns(first) == 2:
			return errAt(path, 0, fmt.Errorf("%w: this is OFAC's sdn_comments.csv, which only continues remarks of sdn.csv and holds no address of its own: give sdn.csv with it (Set.ReadSDN, LoadSDN and examples/trace's -labels join the two) or instead (it loads alone)", ErrMalformed))
		default:
			_, err = parseCSV(br, path, opt, b)
		}
	case ".yaml", ".yml":
		if strings.HasSuffix(inner, "actorpack.yaml") {
			return errAt(path, 0, fmt.Errorf("%w: this is a GraphSense ActorPack, which names actors and holds no address: give the TagPack files (.yaml) whose addresses you want instead; their actor ids are kept as they are (LoadActorPack reads the names, for Options.Actors)", ErrMalformed))
		}
		_, err = parseTagPack(r, path, nil, opt, b)
	case ".json":
		_, err = parseEtherscanJSON(r, path, opt, b)
	case ".txt":
		_, err = parsePlainList(r, path, opt, b)
	default:
		return fmt.Errorf("%s: unknown label file type %q", path, ext)
	}
	return err
}

// Loaded says what one file added to a Set.
type Loaded struct {
	Labels   int       // labels added
	Warnings []Warning // the file's warnings (also kept in Set.Warnings)
}

// ReadFile adds the labels of one file (any format LoadFile reads) to the set, parsing them
// into its compact form as it reads: a million-row list costs the set's form of a million
// labels, not the file, a []Label and the set's copy (see PERFORMANCE.md). Errors and
// warnings are LoadFile's; a file that fails leaves the set as it was.
func (s *Set) ReadFile(ctx context.Context, path string, opt Options) (Loaded, error) {
	var out Loaded
	err := withFile(ctx, path, func(r io.Reader, inner string) error {
		var err error
		out, err = s.read(r, path, inner, opt)
		return err
	})
	return out, err
}

// Read is ReadFile on a reader: name gives the format, as a file name would (a ".gz" name
// is not decompressed here), and is the file the labels and errors cite.
func (s *Set) Read(r io.Reader, name string, opt Options) (Loaded, error) {
	return s.read(r, name, name, opt)
}

func (s *Set) read(r io.Reader, path, inner string, opt Options) (Loaded, error) {
	return s.readWith(path, opt, func(b *Batch) error { return parseFile(r, path, inner, opt, b) })
}

// ReadSDN adds OFAC's sdn.csv joined with its sdn_comments.csv (ParseSDN) to the set;
// commentsPath may be empty. A file that fails leaves the set as it was.
func (s *Set) ReadSDN(ctx context.Context, sdnPath, commentsPath string, opt Options) (Loaded, error) {
	var out Loaded
	err := withFile(ctx, sdnPath, func(sdn io.Reader, _ string) error {
		parse := func(comments io.Reader) error {
			var err error
			out, err = s.readWith(sdnPath, opt, func(b *Batch) error {
				_, err := parseSDN(sdn, sdnPath, comments, commentsPath, opt, b)
				return err
			})
			return err
		}
		if commentsPath == "" {
			return parse(nil)
		}
		return withFile(ctx, commentsPath, func(comments io.Reader, _ string) error { return parse(comments) })
	})
	return out, err
}

// OFACFile says whether the file at path is one of OFAC's headerless CSV files: "sdn" for
// sdn.csv, "sdn_comments" for sdn_comments.csv, "" for anything else (or a file that cannot
// be read: reading it says why).
func OFACFile(path string) string {
	kind := ""
	_ = withFile(context.Background(), path, func(r io.Reader, inner string) error {
		if !strings.EqualFold(filepath.Ext(inner), ".csv") {
			return nil
		}
		head, _ := bufio.NewReaderSize(r, 8<<10).Peek(8 << 10)
		first, _, _ := strings.Cut(string(head), "\n")
		switch ofacColumns(first) {
		case sdnColumns:
			kind = "sdn"
		case 2:
			kind = "sdn_comments"
		}
		return nil
	})
	return kind
}

// readWith runs parse into a batch that writes straight into the set, and keeps what it
// read only when it succeeds.
func (s *Set) readWith(path string, opt Options, parse func(*Batch) error) (Loaded, error) {
	n0 := len(s.t.recs)
	b := &Batch{t: s.t, citePath: path, cite: opt.Cite}
	err := parse(b)
	if err == nil {
		err = s.t.validFrom(n0)
		if err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
	}
	if err != nil {
		s.t.truncate(n0)
		return Loaded{}, err
	}
	if len(s.t.recs) > n0 {
		s.changed()
	}
	s.warnings = append(s.warnings, b.Warnings...)
	return Loaded{Labels: len(s.t.recs) - n0, Warnings: b.Warnings}, nil
}

// LoadSet reads files in this package's own format — the curated sets — or any other
// format LoadFile recognizes with default options, into one new Set: the one call that
// loads a curated set. The files' warnings are kept (Set.Warnings).
func LoadSet(ctx context.Context, paths ...string) (*Set, error) {
	s := NewSet()
	for _, p := range paths {
		if _, err := s.ReadFile(ctx, p, Options{}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ofacColumns returns how many fields line has when it is a row of OFAC's headerless CSV
// files — a numeric ent_num, then a quoted field: 12 in sdn.csv, 2 in sdn_comments.csv —
// and 0 when it is not.
func ofacColumns(line string) int {
	id, rest, ok := strings.Cut(strings.TrimPrefix(line, "\ufeff"), ",")
	if !ok || id == "" || strings.Trim(id, "0123456789") != "" || !strings.HasPrefix(rest, `"`) {
		return 0
	}
	cr := csv.NewReader(strings.NewReader(line))
	cr.LazyQuotes = true
	rec, err := cr.Read()
	if err != nil {
		return 0
	}
	return len(rec)
}
