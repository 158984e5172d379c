package labels

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chaintrace/chaintrace/graph"
)

// Category says what kind of owner an address has. A label has exactly one; the source's own
// words are kept in Label.Tags.
type Category string

// The categories. Actor means a threat actor's own address (a thief, an exploiter, a
// laundering hop attributed to one); Sanctioned means listed by a sanctions authority.
const (
	CategoryActor      Category = "actor"
	CategorySanctioned Category = "sanctioned"
	CategoryExchange   Category = "exchange"
	CategoryMixer      Category = "mixer"
	CategoryBridge     Category = "bridge"
	CategoryDeFi       Category = "defi"
	CategoryService    Category = "service"
	CategoryGambling   Category = "gambling"
	CategoryMiner      Category = "miner"
	CategoryMarket     Category = "market"
	CategoryBlocked    Category = "blocked" // frozen by a token issuer (USDT/USDC blacklists)
	CategoryOther      Category = "other"
)

var categories = map[Category]bool{
	CategoryActor: true, CategorySanctioned: true, CategoryExchange: true, CategoryMixer: true,
	CategoryBridge: true, CategoryDeFi: true, CategoryService: true, CategoryGambling: true,
	CategoryMiner: true, CategoryMarket: true, CategoryBlocked: true, CategoryOther: true,
}

// ParseCategory accepts one of the Category names (case-insensitive).
func ParseCategory(s string) (Category, error) {
	c := Category(strings.ToLower(strings.TrimSpace(s)))
	if !categories[c] {
		return "", fmt.Errorf("%w: %q", ErrUnknownCategory, s)
	}
	return c, nil
}

// Confidence is GraphSense's confidence taxonomy: how the creator of a tag came to know it.
// Level orders them (100 = proven ownership … 5 = unknown).
type Confidence string

// The GraphSense confidence values (tagpack-tool db/confidence.csv), plus ledger_immanent
// from the older taxonomy that some packs (usdt_blacklist) still use.
const (
	ConfidenceOverride             Confidence = "override"
	ConfidenceOwnership            Confidence = "ownership"
	ConfidenceLedgerImmanent       Confidence = "ledger_immanent"
	ConfidenceManualTransaction    Confidence = "manual_transaction"
	ConfidenceServiceAPI           Confidence = "service_api"
	ConfidenceAuthorityData        Confidence = "authority_data"
	ConfidenceTrustedProvider      Confidence = "trusted_provider"
	ConfidenceServiceData          Confidence = "service_data"
	ConfidenceForensic             Confidence = "forensic"
	ConfidenceUntrustedTransaction Confidence = "untrusted_transaction"
	ConfidenceWebCrawl             Confidence = "web_crawl"
	ConfidenceHeuristic            Confidence = "heuristic"
	ConfidenceUnknown              Confidence = "unknown"
)

var confidenceLevels = map[Confidence]int{
	ConfidenceOverride: 100, ConfidenceOwnership: 100, ConfidenceLedgerImmanent: 100,
	ConfidenceManualTransaction: 90, ConfidenceServiceAPI: 70, ConfidenceAuthorityData: 60,
	ConfidenceTrustedProvider: 50, ConfidenceServiceData: 50, ConfidenceForensic: 50,
	ConfidenceUntrustedTransaction: 40, ConfidenceWebCrawl: 20, ConfidenceHeuristic: 10,
	ConfidenceUnknown: 5,
}

// Level is the confidence's level in the GraphSense taxonomy (0 for a value outside it).
func (c Confidence) Level() int { return confidenceLevels[c] }

// ParseConfidence accepts a GraphSense confidence id (case-insensitive).
func ParseConfidence(s string) (Confidence, error) {
	c := Confidence(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := confidenceLevels[c]; !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownConfidence, s)
	}
	return c, nil
}

// NexusDPRK marks a label linked to North Korea (the state behind Lazarus Group & co.).
const NexusDPRK = "DPRK"

// Source is the provenance of a label: the document that says so and where we read it.
type Source struct {
	Document string `json:"document"`            // e.g. "OFAC SDN list sdn.csv (2024-05-03)"
	URL      string `json:"url,omitempty"`       // where the document is published
	DateText string `json:"date_text,omitempty"` // the source's date as written, when it was imprecise
	File     string `json:"file,omitempty"`      // the file the label was read from
	Line     int    `json:"line,omitempty"`      // its line in File (1-based)
}

// String formats the source as "document <url> (file:line)".
func (s Source) String() string {
	var b strings.Builder
	b.WriteString(s.Document)
	if s.URL != "" {
		b.WriteString(" <" + s.URL + ">")
	}
	if s.File != "" {
		fmt.Fprintf(&b, " (%s:%d)", s.File, s.Line)
	}
	return b.String()
}

// Label says who owns one address, according to one source.
type Label struct {
	Chain   graph.Chain   `json:"chain"`
	Address graph.Address `json:"address"` // canonical (graph.ParseAddress)

	Entity   string   `json:"entity"`              // owner: "LAZARUS GROUP", "Binance"
	EntityID string   `json:"entity_id,omitempty"` // the source's id: SDN ent_num, GraphSense actor id
	Name     string   `json:"name,omitempty"`      // the source's own tag text ("Binance 14")
	Category Category `json:"category"`
	Nexus    string   `json:"nexus,omitempty"`    // state nexus, e.g. NexusDPRK
	Programs []string `json:"programs,omitempty"` // sanctions programs (DPRK3, CYBER2, …)
	Incident string   `json:"incident,omitempty"` // e.g. "bybit-2025": the seed source name
	Role     string   `json:"role,omitempty"`     // e.g. "primary exploiter address"
	Tags     []string `json:"tags,omitempty"`     // the source's own categories/labels

	Confidence Confidence `json:"confidence"`
	// Listed is the date the source says the attribution became known (list date, release
	// date); zero when the source gives none. Withdrawn is the date it stopped holding
	// (delisting); zero when it still holds.
	Listed    time.Time `json:"listed,omitzero"`
	Withdrawn time.Time `json:"withdrawn,omitzero"`

	Source Source `json:"source"`
}

// ActiveAt reports whether the label holds on day t: listed on or before t (or no listing
// date) and not withdrawn on or before t. A zero t means "ignore dates": always active.
func (l *Label) ActiveAt(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	if !l.Listed.IsZero() && t.Before(l.Listed) {
		return false
	}
	return l.Withdrawn.IsZero() || t.Before(l.Withdrawn)
}

// SeedSource is the source name a seed from this label carries: its incident when known,
// else a slug of its entity (one source per incident, or per actor).
func (l *Label) SeedSource() string {
	if l.Incident != "" {
		return l.Incident
	}
	return Slug(l.Entity)
}

// Slug turns a name into a lower-case dash-separated identifier ("LAZARUS GROUP" →
// "lazarus-group").
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// Sentinel errors; every error of this package wraps one (test with errors.Is) and, for
// input files, is a *ParseError naming the file and line.
var (
	ErrMalformed         = errors.New("malformed label input")
	ErrBadAddress        = errors.New("bad address")
	ErrUnknownChain      = errors.New("unknown chain")
	ErrUnknownCategory   = errors.New("unknown category")
	ErrUnknownConfidence = errors.New("unknown confidence")
	ErrBadDate           = errors.New("bad date")
	ErrConflictingEntity = errors.New("duplicate address with a conflicting entity")
	ErrStoreFormat       = errors.New("unsupported label record format")
)

// ParseError locates a problem in an input file. Unwrap gives the cause, which wraps one of
// the sentinel errors above (and graph.ErrBadChecksum / graph.ErrBadAddress for addresses).
type ParseError struct {
	File string
	Line int // 1-based; 0 when the problem is not on one line
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, shortQuotes(e.Err.Error()))
	}
	return fmt.Sprintf("%s: %s", e.File, shortQuotes(e.Err.Error()))
}

// maxQuoted is the most of one input field an error message shows: a bad field may be
// megabytes of anything, and the message goes to a terminal or an HTTP reply.
const maxQuoted = 64

// shortQuotes bounds what a message repeats of its input, whichever parser wrote it: a
// quoted string (%q) longer than maxQuoted is cut to its first maxQuoted bytes, marked
// "…(N bytes)"; outside quotes, a run of more than maxQuoted bytes without a space is cut
// the same way, and a control character or invalid UTF-8 is escaped, never printed raw.
func shortQuotes(msg string) string {
	var b strings.Builder
	run := 0 // bytes since the last space outside quotes
	for i := 0; i < len(msg); {
		if msg[i] == '"' {
			if q, err := strconv.QuotedPrefix(msg[i:]); err == nil {
				i += len(q)
				s, _ := strconv.Unquote(q)
				if len(s) > maxQuoted {
					cut := maxQuoted
					for cut > 0 && !utf8.RuneStart(s[cut]) {
						cut--
					}
					q = strconv.Quote(s[:cut]) + "…(" + strconv.Itoa(len(s)) + " bytes)"
				}
				b.WriteString(q)
				run = 0
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(msg[i:])
		switch {
		case r == ' ':
			run = 0
		default:
			run += n
		}
		if run > maxQuoted {
			j := i
			for j < len(msg) && msg[j] != ' ' && msg[j] != '"' {
				j++
			}
			b.WriteString("…(" + strconv.Itoa(run-n+j-i) + " bytes)")
			run, i = 0, j
			continue
		}
		if (r == utf8.RuneError && n == 1) || !unicode.IsPrint(r) {
			q := strconv.QuoteRune(r)
			if r == utf8.RuneError && n == 1 {
				q = fmt.Sprintf("'\\x%02x'", msg[i])
			}
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteString(msg[i : i+n])
		}
		i += n
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

func errAt(file string, line int, err error) error {
	return &ParseError{File: file, Line: line, Err: err}
}

// WarningKind classifies a recoverable problem.
type WarningKind string

// Warning kinds.
const (
	// WarnSkipped: a row that is valid but not usable here (a chain chaintrace does not
	// model, a tx-hash tag, an exchange's token contract). Reason says which.
	WarnSkipped WarningKind = "skipped"
	// WarnDuplicate: the same address with the same entity again in one file.
	WarnDuplicate WarningKind = "duplicate"
	// WarnImpreciseDate: a date given only to the month or year; the first day is used.
	WarnImpreciseDate WarningKind = "imprecise-date"
	// WarnTruncated: OFAC remarks cut at 1,000 characters with no continuation found.
	WarnTruncated WarningKind = "truncated"
	// WarnVintage: an OFAC comment row joined to an SDN row of another list version.
	WarnVintage WarningKind = "vintage"
	// WarnDefaulted: a missing or unknown field replaced by a default (e.g. confidence).
	WarnDefaulted WarningKind = "defaulted"
	// WarnShared: one address listed for two entries of a list that allows it (OFAC lists
	// an address under every SDN entry that uses it); both labels are kept.
	WarnShared WarningKind = "shared-address"
	// WarnInvalid: an address that is not valid for the currency its source files it under,
	// in a source known to contain such errors (OFAC's SDN list: a TRON address filed as
	// XBT); the row is left out. Other loaders make this an error unless
	// Options.SkipInvalid is set.
	WarnInvalid WarningKind = "invalid-address"
	// WarnIgnoredField: a field this package does not read.
	WarnIgnoredField WarningKind = "ignored-field"
)

// Warning is a recoverable problem in an input file: the row was handled as the Reason says.
type Warning struct {
	Kind    WarningKind `json:"kind"`
	File    string      `json:"file"`
	Line    int         `json:"line,omitempty"`
	Address string      `json:"address,omitempty"`
	Reason  string      `json:"reason"`
}

func (w Warning) String() string {
	loc := w.File
	if w.Line > 0 {
		loc = fmt.Sprintf("%s:%d", w.File, w.Line)
	}
	return fmt.Sprintf("%s: %s: %s", loc, w.Kind, w.Reason)
}

// Batch is what a loader read from one input: the labels, in file order, and the warnings.
type Batch struct {
	Labels   []Label
	Warnings []Warning

	// t receives the labels while a loader reads: the batch's own table, turned into
	// Labels when the loader is done (a public Parse/Load function), or a Set's, which
	// keeps them in its compact form with no other copy (Set.ReadFile, Set.Read).
	t *table
	// cite replaces the path a loader was given (citePath) in Source.File (Options.Cite).
	citePath, cite string
}

func newBatch(t *table) *Batch {
	if t == nil {
		t = newTable()
	}
	return &Batch{t: t}
}

// labelsOut finishes a public loader: its labels, read into the batch's own table, become
// Labels.
func labelsOut(b *Batch, err error) (*Batch, error) {
	if err != nil {
		return nil, err
	}
	b.Labels = make([]Label, len(b.t.recs))
	for i := range b.t.recs {
		b.Labels[i] = b.t.label(i)
	}
	b.t = nil
	return b, nil
}

// keep puts l into the batch's table and checks it against the file's earlier labels (see
// dedup.check).
func (b *Batch) keep(dd *dedup, l *Label, line int) error {
	b.put(l)
	return dd.check(b, line)
}

// put puts l into the batch's table as it is.
func (b *Batch) put(l *Label) {
	if b.cite != "" && l.Source.File == b.citePath {
		l.Source.File = b.cite
	}
	b.t.put(l)
}

// Count returns the number of warnings of kind k.
func (b *Batch) Count(k WarningKind) int {
	n := 0
	for _, w := range b.Warnings {
		if w.Kind == k {
			n++
		}
	}
	return n
}

func (b *Batch) warn(k WarningKind, file string, line int, addr, format string, args ...any) {
	b.Warnings = append(b.Warnings, Warning{Kind: k, File: file, Line: line, Address: addr, Reason: fmt.Sprintf(format, args...)})
}
