package etl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format is the encoding of one exported table.
type Format int

// Formats. FormatAuto decides from the name's extension (.csv; .json, .jsonl, .ndjson; an
// optional .gz after it) and otherwise from the first byte ('{' is JSON lines).
const (
	FormatAuto Format = iota
	FormatCSV
	FormatJSON // JSON lines: one object per line, as ethereum-etl/bitcoin-etl and BigQuery write them
)

func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatJSON:
		return "json"
	}
	return "auto"
}

// Source is one exported table: a reader and a name for error messages. Gzip-compressed
// content (as BigQuery exports write it) is detected and decompressed. The zero Source
// means "table not given". A Source is read once: open it again to read it again.
type Source struct {
	Name   string // shown in errors, usually the file path
	Format Format
	R      io.Reader

	closer io.Closer
}

// IsZero reports whether the source is absent.
func (s Source) IsZero() bool { return s.R == nil }

// Close closes the file behind a Source returned by OpenFile; otherwise it does nothing.
func (s Source) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// OpenFile opens path as a Source; its format comes from the extension.
func OpenFile(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return Source{}, err
	}
	return Source{Name: path, Format: formatFromName(path), R: f, closer: f}, nil
}

// StringSource is a Source over in-memory text (tests, examples, small exports).
func StringSource(name string, format Format, text string) Source {
	return Source{Name: name, Format: format, R: strings.NewReader(text)}
}

func formatFromName(name string) Format {
	n := strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	switch filepath.Ext(n) {
	case ".csv":
		return FormatCSV
	case ".json", ".jsonl", ".ndjson":
		return FormatJSON
	}
	return FormatAuto
}

// colKind says how a JSON value maps to the row's text form (the CSV form).
type colKind uint8

const (
	kScalar colKind = iota // string, number, boolean or null
	kList                  // array of scalars; CSV joins them with commas
	kRaw                   // nested structure kept as JSON text (withdrawals, inputs, outputs)
)

type column struct {
	name     string
	required bool
	kind     colKind
}

// schema describes one table: every column the exporters (ethereum-etl, bitcoin-etl, their
// stream mode, the public BigQuery tables) write, and which ones the reader needs.
type schema struct {
	table    string // e.g. "transactions"
	jsonType string // value of the "type" field on stream lines, e.g. "transaction"
	cols     []column
	index    map[string]int
}

func newSchema(table, jsonType string, cols ...column) *schema {
	s := &schema{table: table, jsonType: jsonType, cols: cols, index: make(map[string]int, len(cols))}
	for i, c := range cols {
		s.index[c.name] = i
	}
	return s
}

func (s *schema) col(name string) int {
	i, ok := s.index[name]
	if !ok {
		panic("etl: schema " + s.table + " has no column " + name)
	}
	return i
}

// streamExtras are the fields that `ethereumetl stream` / `bitcoinetl stream` add to lines.
var streamExtras = []column{{name: "type"}, {name: "item_id"}, {name: "item_timestamp"}}

const maxLine = 64 << 20 // one JSON line (a block with its logs bloom, a huge input) stays far below

// rowReader yields the rows of one table as text fields indexed by schema column, the same
// for CSV and JSON lines, so that everything after it is format-independent.
type rowReader struct {
	sch           *schema
	name          string
	format        Format
	ignoreUnknown bool

	csv    *csv.Reader
	csvMap []int // CSV field → column index, -1 for ignored columns

	br   *bufio.Reader
	buf  []byte
	line int

	row  []string
	seen []bool
}

func newRowReader(src Source, sch *schema, ignoreUnknown bool) (*rowReader, error) {
	br := bufio.NewReaderSize(src.R, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &Error{File: src.Name, Err: fmt.Errorf("%w: gzip: %v", ErrBadRow, err)}
		}
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	format := src.Format
	if format == FormatAuto {
		format = formatFromName(src.Name)
	}
	if format == FormatAuto {
		format = FormatCSV
		for i := 1; i < 4096; i++ {
			b, _ := br.Peek(i)
			if len(b) < i {
				break
			}
			c := b[i-1]
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				continue
			}
			if c == '{' {
				format = FormatJSON
			}
			break
		}
	}
	r := &rowReader{sch: sch, name: src.Name, format: format, ignoreUnknown: ignoreUnknown,
		row: make([]string, len(sch.cols)), seen: make([]bool, len(sch.cols))}
	switch format {
	case FormatCSV:
		r.csv = csv.NewReader(br)
		r.csv.ReuseRecord = true
		if err := r.readHeader(); err != nil {
			return nil, err
		}
	case FormatJSON:
		r.br = br
	default:
		return nil, &Error{File: src.Name, Err: fmt.Errorf("%w: format %d", ErrUnsupportedFormat, format)}
	}
	return r, nil
}

func (r *rowReader) pos() pos { return pos{file: r.name, line: r.line} }

func (r *rowReader) readHeader() error {
	hdr, err := r.csv.Read()
	if err == io.EOF {
		r.csv = nil // an empty file is an empty table (ethereum-etl writes no header then)
		return nil
	}
	if err != nil {
		return r.csvErr(err)
	}
	r.line = 1
	r.csvMap = make([]int, len(hdr))
	for i := range r.seen {
		r.seen[i] = false
	}
	for i, h := range hdr {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		c, ok := r.sch.index[h]
		if !ok {
			if !r.ignoreUnknown {
				return &Error{File: r.name, Line: 1, Column: h,
					Err: fmt.Errorf("%w: %q is not a column of %s", ErrUnknownColumn, clip(h), r.sch.table)}
			}
			r.csvMap[i] = -1
			continue
		}
		if r.seen[c] {
			return &Error{File: r.name, Line: 1, Column: h, Err: fmt.Errorf("%w: column %q twice in the header", ErrDuplicate, clip(h))}
		}
		r.seen[c] = true
		r.csvMap[i] = c
	}
	for c, col := range r.sch.cols {
		if col.required && !r.seen[c] {
			return &Error{File: r.name, Line: 1, Column: col.name,
				Err: fmt.Errorf("%w: %s needs column %q", ErrMissingColumn, r.sch.table, col.name)}
		}
	}
	r.csv.FieldsPerRecord = len(hdr)
	return nil
}

func (r *rowReader) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: r.name, Line: pe.StartLine, Err: fmt.Errorf("%w: %v", ErrBadRow, pe.Err)}
	}
	return &Error{File: r.name, Line: r.line, Err: fmt.Errorf("%w: %v", ErrBadRow, err)}
}

// next reads the next row into r.row. It returns false at the end of the table.
func (r *rowReader) next() (bool, error) {
	for i := range r.row {
		r.row[i] = ""
	}
	switch {
	case r.csv != nil:
		rec, err := r.csv.Read()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, r.csvErr(err)
		}
		r.line, _ = r.csv.FieldPos(0)
		for i, f := range rec {
			if c := r.csvMap[i]; c >= 0 {
				r.row[c] = f
			}
		}
		return true, r.checkType()
	case r.br != nil:
		return r.nextJSON()
	}
	return false, nil
}

func (r *rowReader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.buf = append(r.buf, chunk...)
		if len(r.buf) > maxLine {
			return nil, &Error{File: r.name, Line: r.line + 1, Err: fmt.Errorf("%w: line longer than %d bytes", ErrBadRow, maxLine)}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(r.buf) > 0 {
			return r.buf, nil
		}
		if err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, &Error{File: r.name, Line: r.line + 1, Err: fmt.Errorf("%w: %v", ErrBadRow, err)}
		}
		return r.buf, nil
	}
}

var (
	jsonNull  = []byte("null")
	jsonTrue  = []byte("true")
	jsonFalse = []byte("false")
)

func (r *rowReader) nextJSON() (bool, error) {
	for {
		line, err := r.readLine()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		r.line++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) || line[0] != '{' {
			var probe map[string]json.RawMessage
			err := json.Unmarshal(line, &probe)
			if err == nil {
				err = fmt.Errorf("not a JSON object")
			}
			return false, &Error{File: r.name, Line: r.line, Err: fmt.Errorf("%w: %v", ErrBadRow, err)}
		}
		for i := range r.seen {
			r.seen[i] = false
		}
		err = scanObject(line, func(key, v []byte) error {
			c, ok := r.sch.index[string(key)]
			if !ok {
				if r.ignoreUnknown {
					return nil
				}
				return &Error{File: r.name, Line: r.line, Column: string(key),
					Err: fmt.Errorf("%w: %q is not a field of %s", ErrUnknownColumn, clip(string(key)), r.sch.table)}
			}
			r.seen[c] = true
			s, err := jsonText(v, r.sch.cols[c].kind)
			if err != nil {
				return &Error{File: r.name, Line: r.line, Column: string(key), Err: err}
			}
			r.row[c] = s
			return nil
		})
		if err != nil {
			return false, err
		}
		for c, col := range r.sch.cols {
			if col.required && !r.seen[c] {
				return false, &Error{File: r.name, Line: r.line, Column: col.name,
					Err: fmt.Errorf("%w: %s needs field %q", ErrMissingColumn, r.sch.table, col.name)}
			}
		}
		return true, r.checkType()
	}
}

// checkType rejects a row whose stream "type" field names another table (a combined
// stream file given as one table).
func (r *rowReader) checkType() error {
	if t, ok := r.sch.index["type"]; ok && r.row[t] != "" && r.row[t] != r.sch.jsonType {
		return &Error{File: r.name, Line: r.line, Column: "type",
			Err: fmt.Errorf("%w: row holds a %q item, %s holds %q items", ErrBadValue, clip(r.row[t]), r.sch.table, r.sch.jsonType)}
	}
	return nil
}

// jsonText turns one JSON value into the text the CSV exporters write for it: strings
// unquoted, numbers verbatim (so that wei above 2^64 stay exact), null as empty, lists of
// scalars joined with commas, nested structures (kRaw) as JSON text.
func jsonText(v json.RawMessage, kind colKind) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", fmt.Errorf("%w: empty value", ErrBadValue)
	}
	switch v[0] {
	case 'n':
		if bytes.Equal(v, jsonNull) {
			return "", nil
		}
	case 't':
		if bytes.Equal(v, jsonTrue) {
			return "true", nil
		}
	case 'f':
		if bytes.Equal(v, jsonFalse) {
			return "false", nil
		}
	case '"':
		// the line was validated when it was parsed: a string without escapes is its bytes
		if len(v) >= 2 && v[len(v)-1] == '"' && bytes.IndexByte(v[1:len(v)-1], '\\') < 0 && bytes.IndexByte(v[1:len(v)-1], '"') < 0 {
			return string(v[1 : len(v)-1]), nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("%w: %v", ErrBadValue, err)
		}
		return s, nil
	case '[':
		switch kind {
		case kRaw:
			return string(v), nil
		case kList: // v is part of a line json.Valid accepted
			var parts []string
			err := scanArray(v, func(it []byte) error {
				s, err := jsonText(it, kScalar)
				if err != nil {
					return err
				}
				if strings.Contains(s, ",") {
					return fmt.Errorf("%w: list item %q contains a comma", ErrBadValue, clip(s))
				}
				parts = append(parts, s)
				return nil
			})
			if len(parts) == 1 {
				return parts[0], err
			}
			return strings.Join(parts, ","), err
		}
		return "", fmt.Errorf("%w: a list where a single value belongs", ErrBadValue)
	case '{':
		if kind == kRaw {
			return string(v), nil
		}
		return "", fmt.Errorf("%w: an object where a single value belongs", ErrBadValue)
	default:
		if v[0] == '-' || (v[0] >= '0' && v[0] <= '9') {
			return string(v), nil
		}
	}
	return "", fmt.Errorf("%w: %.40q is not a JSON value", ErrBadValue, v)
}

// scanObject calls fn with each key (unescaped) and raw value of a JSON object that
// json.Valid has accepted; it allocates nothing for keys without escapes.
func scanObject(b []byte, fn func(key, val []byte) error) error {
	i := skipWS(b, 0) + 1 // past '{'
	for {
		i = skipWS(b, i)
		if i >= len(b) || b[i] == '}' {
			return nil
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
		}
		end := skipString(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if err := json.Unmarshal(b[i:end], &k); err != nil {
				return fmt.Errorf("%w: %v", ErrBadRow, err)
			}
			key = []byte(k)
		}
		i = skipWS(b, end)
		i = skipWS(b, i+1) // past ':'
		vend := skipValue(b, i)
		if err := fn(key, b[i:vend]); err != nil {
			return err
		}
		i = vend
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// scanArray calls fn with each raw element of a JSON array that json.Valid has accepted.
func scanArray(b []byte, fn func(elem []byte) error) error {
	i := skipWS(b, 0) + 1 // past '['
	for {
		i = skipWS(b, i)
		if i >= len(b) || b[i] == ']' {
			return nil
		}
		if b[i] == ',' {
			i = skipWS(b, i+1)
		}
		end := skipValue(b, i)
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = end
	}
}
