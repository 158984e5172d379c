package etl

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

// field is one value of one row, with what an error about it must say.
type field struct {
	p    pos
	name string
	s    string
}

func (f field) err(format string, args ...any) *Error {
	return &Error{File: f.p.file, Line: f.p.line, Column: f.name, Err: fmt.Errorf("%w: "+format, append([]any{ErrBadValue}, args...)...)}
}

func (f field) empty() bool { return f.s == "" }

func (f field) need() error {
	if f.s == "" {
		return &Error{File: f.p.file, Line: f.p.line, Column: f.name, Err: fmt.Errorf("%w: %s is empty", ErrMissingColumn, f.name)}
	}
	return nil
}

// uint64 parses a non-negative decimal integer (the exporters' bigint). An empty value is
// an error: use opt for optional columns.
func (f field) uint64() (uint64, error) {
	if err := f.need(); err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(f.s, 10, 64)
	if err != nil {
		return 0, f.err("%q is not a non-negative 64-bit integer", clip(f.s))
	}
	return n, nil
}

// optUint64 parses an optional integer; ok is false when the value is empty.
func (f field) optUint64() (n uint64, ok bool, err error) {
	if f.s == "" {
		return 0, false, nil
	}
	n, err = f.uint64()
	return n, err == nil, err
}

// amount parses an exact non-negative integer of base units (wei, satoshi, token units)
// below 2^256. Values above 2^64 are common (wei) and are exact here.
func (f field) amount() (graph.Amount, error) {
	if err := f.need(); err != nil {
		return graph.Amount{}, err
	}
	a, err := graph.ParseAmount(f.s)
	if err != nil {
		return a, &Error{File: f.p.file, Line: f.p.line, Column: f.name, Err: fmt.Errorf("%w: %w", ErrBadValue, shortErr(err, f.s))}
	}
	return a, nil
}

func (f field) optAmount() (a graph.Amount, ok bool, err error) {
	if f.s == "" {
		return a, false, nil
	}
	a, err = f.amount()
	return a, err == nil, err
}

// ethAddress parses an Ethereum address into canonical lower-case form.
func (f field) ethAddress() (graph.Address, error) {
	if err := f.need(); err != nil {
		return "", err
	}
	a, err := graph.ParseAddress(graph.Ethereum, f.s)
	if err != nil {
		return "", &Error{File: f.p.file, Line: f.p.line, Column: f.name, Err: fmt.Errorf("%w: %w", ErrBadValue, shortErr(err, f.s))}
	}
	return a, nil
}

func (f field) optEthAddress() (graph.Address, error) {
	if f.s == "" {
		return "", nil
	}
	return f.ethAddress()
}

// ethHash parses a 32-byte 0x-prefixed hash into lower case.
func (f field) ethHash() (string, error) {
	if err := f.need(); err != nil {
		return "", err
	}
	s := f.s
	if len(s) != 66 || (s[:2] != "0x" && s[:2] != "0X") || !isHex(s[2:]) {
		return "", f.err("%q is not 0x followed by 64 hex digits", clip(s))
	}
	return "0x" + strings.ToLower(s[2:]), nil
}

func (f field) optEthHash() (string, error) {
	if f.s == "" {
		return "", nil
	}
	return f.ethHash()
}

// btcHash parses a 32-byte hash in display hex (no 0x), returned in lower case.
func (f field) btcHash() (string, error) {
	if err := f.need(); err != nil {
		return "", err
	}
	if len(f.s) != 64 || !isHex(f.s) {
		return "", f.err("%q is not 64 hex digits", clip(f.s))
	}
	return strings.ToLower(f.s), nil
}

// boolean parses True/False (ethereum-etl CSV), true/false (JSON, BigQuery), 1/0.
func (f field) optBool() (v, ok bool, err error) {
	switch strings.ToLower(f.s) {
	case "":
		return false, false, nil
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	}
	return false, false, f.err("%q is not a boolean", clip(f.s))
}

// timestamp parses Unix seconds, or the TIMESTAMP text of BigQuery exports
// ("2016-06-23 08:12:42 UTC", RFC 3339).
func (f field) optTimestamp() (int64, error) {
	if f.s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(f.s, 10, 64); err == nil {
		return n, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05 MST", "2006-01-02 15:04:05.999999 MST", time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, f.s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, f.err("%q is neither Unix seconds nor a timestamp", clip(f.s))
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
