package etl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Every error returned by a reader wraps one of them (inspect with
// errors.Is) inside an *Error that says where the problem is (inspect with errors.As).
var (
	// ErrMissingColumn: a required column (CSV header) or field (JSON line) is absent.
	ErrMissingColumn = errors.New("missing column")
	// ErrUnknownColumn: a CSV header or JSON key that the export schema does not have;
	// usually the wrong file was given for a table. Options.IgnoreUnknownColumns accepts it.
	ErrUnknownColumn = errors.New("unknown column")
	// ErrBadValue: a value that does not parse (number, amount, address, hash, boolean…).
	ErrBadValue = errors.New("bad value")
	// ErrBadRow: a line that is not a row at all (broken CSV quoting, invalid JSON).
	ErrBadRow = errors.New("malformed row")
	// ErrOutOfOrder: rows are not in ascending block order. Exports from BigQuery are
	// unordered: sort them by block number first (ORDER BY block_number).
	ErrOutOfOrder = errors.New("rows out of block order")
	// ErrUnknownBlock: a row refers to a block (or a transaction) that the export does not hold.
	ErrUnknownBlock = errors.New("refers to a block not in the export")
	// ErrUnknownTx: a receipt, trace, log or token transfer refers to a transaction that
	// its block does not hold.
	ErrUnknownTx = errors.New("refers to a transaction not in the export")
	// ErrDuplicate: the same block, transaction, receipt, log or trace appears twice.
	ErrDuplicate = errors.New("duplicate row")
	// ErrIncomplete: the export misses rows that the data says exist (transactions of a
	// block, receipts of transactions, a block's parent link).
	ErrIncomplete = errors.New("incomplete export")
	// ErrMissingReceipt: a transaction has no receipt (neither a receipts table row nor
	// receipt_* columns), so its fee and status are unknown.
	ErrMissingReceipt = errors.New("missing receipt")
	// ErrMissingTable: a table needed for a complete record is not given and not declared
	// absent (EthereumExport.NoTraces, NoTokenTransfers).
	ErrMissingTable = errors.New("missing table")
	// ErrInconsistent: two parts of the export disagree (receipt status against the
	// top-level trace, trace value against transaction value, input sums against fee…).
	ErrInconsistent = errors.New("inconsistent export")
	// ErrIncompleteTrace: a trace lacks what is needed to know the value it moved (geth
	// SELFDESTRUCT frames as exported by ethereum-etl's extract_geth_traces have no value).
	ErrIncompleteTrace = errors.New("incomplete trace")
	// ErrUnsupportedFormat: the source's format cannot hold this table (bitcoin-etl CSV).
	ErrUnsupportedFormat = errors.New("unsupported format")
)

// Error locates a problem in an export: the file (Source.Name), the 1-based line, and
// when known the block, the transaction and the column. Err wraps one of the sentinels.
type Error struct {
	File   string
	Line   int    // 0 when the problem is not one line (a missing table, a block as a whole)
	Block  uint64 // meaningful when HasBlock
	Tx     string // transaction hash, when known
	Column string // column or field name, when the problem is one value
	Err    error

	HasBlock bool
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.HasBlock {
		fmt.Fprintf(&b, "block %d: ", e.Block)
	}
	if e.Tx != "" {
		fmt.Fprintf(&b, "tx %s: ", plainOrQuoted(e.Tx))
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %s: ", plainOrQuoted(e.Column))
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// maxQuoted is the most of a value an error message quotes: an export's bad field may be
// megabytes of anything, control characters included, and the message goes to a terminal.
const maxQuoted = 64

// clip shortens a value quoted (%q) in an error message: at most maxQuoted bytes, cut on a
// character boundary, "..." marking a cut.
func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// plainOrQuoted shows a name from the data (a column, a transaction hash) as it is when it
// is printable ASCII no longer than a hash with its 0x (66 bytes), as a real column name
// or hash is; anything else is quoted, escaped and clipped, so that no byte of the input
// reaches the message raw.
func plainOrQuoted(s string) string {
	if len(s) <= 66 {
		plain := true
		for i := 0; i < len(s) && plain; i++ {
			plain = s[i] > ' ' && s[i] < 0x7f && s[i] != '"'
		}
		if plain {
			return s
		}
	}
	return strconv.Quote(clip(s))
}

// shortErr returns err with its message's quotation of input (when long) replaced by a
// clipped one, still wrapping err: graph's parsers quote the whole input they refuse.
func shortErr(err error, input string) error {
	if len(input) <= maxQuoted {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), strconv.Quote(input), strconv.Quote(clip(input)))
	return &shortened{msg: strings.ReplaceAll(msg, input, clip(input)), err: err}
}

type shortened struct {
	msg string
	err error
}

func (e *shortened) Error() string { return e.msg }
func (e *shortened) Unwrap() error { return e.err }

// pos is where a row came from.
type pos struct {
	file string
	line int
}

func (p pos) errf(sentinel error, format string, args ...any) *Error {
	return &Error{File: p.file, Line: p.line, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}

// withBlock annotates err (an *Error) with a block number.
func withBlock(err error, n uint64) error {
	var e *Error
	if errors.As(err, &e) && !e.HasBlock {
		e.Block, e.HasBlock = n, true
	}
	return err
}

// withTx annotates err (an *Error) with a transaction hash.
func withTx(err error, tx string) error {
	var e *Error
	if errors.As(err, &e) && e.Tx == "" {
		e.Tx = tx
	}
	return err
}

// Warning is a data-quality note that does not stop reading: something the export cannot
// tell and the reader had to assume (documented in doc.go). Options.Warn receives them.
type Warning struct {
	File  string
	Line  int
	Block uint64
	Tx    string
	Msg   string
}

func (w Warning) String() string {
	var b strings.Builder
	if w.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", w.File, w.Line)
	}
	fmt.Fprintf(&b, "block %d: ", w.Block)
	if w.Tx != "" {
		fmt.Fprintf(&b, "tx %s: ", w.Tx)
	}
	b.WriteString(w.Msg)
	return b.String()
}
