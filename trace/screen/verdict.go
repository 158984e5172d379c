package screen

import (
	"encoding/json"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/holiman/uint256"
)

// Subject kinds of a verdict.
const (
	KindAddress = "address"
	KindDeposit = "deposit"
)

// Verdict is the screener's answer about one address or deposit. Verdicts returned by a
// Screener are shared between callers and must not be modified. Its JSON encoding
// (MarshalJSON) has stable snake_case field names, amounts as decimal strings of base units
// and shares as reduced fractions.
type Verdict struct {
	Chain   graph.Chain
	Kind    string // KindAddress or KindDeposit
	Subject string // the canonical address, or the deposit reference
	// AsOf is the date label conditions were evaluated at (zero: every label, ignoring dates).
	AsOf time.Time
	// Height and BlockHash identify the last block the trace had applied.
	Height    uint64
	BlockHash string

	Risk  Risk
	Score int
	Rule  string // the rule that decided, "" when none matched

	// Known is false when the trace has never seen the subject move value (an unknown
	// address, or a deposit reference that carried no taint: a clean deposit and one the
	// follower has not confirmed yet look the same).
	Known bool
	// Amounts is, per asset (sorted by asset), what an address received and how much of
	// that was tainted, or a deposit's value and tainted part (one asset). Amounts of two
	// assets are never added together (spec v2 A.1).
	Amounts []trace.AssetTotals
	// Deposit only: the receiving address and its exchange label ("" when not an exchange's).
	Address  graph.Address
	Exchange string
	// Seed is the source the subject address is a seed of ("" when it is not a seed).
	Seed string

	Exposures []ExposureLine
	Labels    []MatchedLabel
	// Evidence holds the paths of the largest components of the taint of the movement
	// that explains the verdict (Options.EvidencePaths of them), largest first;
	// EvidenceComponents is how many components that taint has in all.
	Evidence           []trace.Path
	EvidenceComponents int

	// enc caches the JSON encoding of verdicts the screener shares (nil for others).
	enc *encCache
}

type encCache struct{ b atomic.Pointer[[]byte] }

// JSON returns the verdict's JSON encoding (as MarshalJSON). For the verdicts a Screener
// caches it is computed once and shared: callers must not modify the returned bytes.
func (v *Verdict) JSON() ([]byte, error) {
	if v.enc != nil {
		if b := v.enc.b.Load(); b != nil {
			return *b, nil
		}
	}
	b, err := v.MarshalJSON()
	if err == nil && v.enc != nil {
		v.enc.b.Store(&b)
	}
	return b, err
}

// Totals returns what the subject received of asset and how much of it was tainted (zero
// amounts for an asset it never received). Verdicts are shared: do not change it.
func (v *Verdict) Totals(asset graph.Asset) *trace.AssetTotals {
	for i := range v.Amounts {
		if v.Amounts[i].Asset == asset {
			return &v.Amounts[i]
		}
	}
	return &trace.AssetTotals{Asset: asset}
}

// ExposureLine is the taint of one source at one hop, in one asset, that reached
// (incoming) or left (outgoing) the subject.
type ExposureLine struct {
	Asset     graph.Asset
	Source    string
	Hop       uint32
	Amount    graph.Amount
	Direction Direction
	// SourceActive is false when the source is labelled but none of its labels holds at the
	// verdict's date: such lines are reported but match no rule.
	SourceActive bool
}

// Direct reports whether the taint is direct exposure: hop ≤ 1 (received straight from a
// seed, or from the transaction that spent the seed's output).
func (x *ExposureLine) Direct() bool { return x.Hop <= 1 }

// MatchedLabel is a label that bears on a verdict: one of the subject's own labels, or a
// label of a source the subject is exposed to.
type MatchedLabel struct {
	Role   string // "subject" or "source"
	Source string // for Role "source": the taint source name it labels
	Label  labels.Label
}

type jsonExposure struct {
	Asset        string `json:"asset"`
	Source       string `json:"source"`
	Hop          uint32 `json:"hop"`
	Amount       string `json:"amount"`
	Share        string `json:"share,omitempty"`
	Direct       bool   `json:"direct"`
	Direction    string `json:"direction"`
	SourceActive bool   `json:"source_active"`
}

type jsonAssetAmounts struct {
	Received string `json:"received"`
	Tainted  string `json:"tainted"`
	Share    string `json:"share"`
}

type jsonLabel struct {
	Role       string   `json:"role"`
	Source     string   `json:"source,omitempty"`
	Address    string   `json:"address"`
	Entity     string   `json:"entity"`
	Category   string   `json:"category"`
	Nexus      string   `json:"nexus,omitempty"`
	Programs   []string `json:"programs,omitempty"`
	Incident   string   `json:"incident,omitempty"`
	Confidence string   `json:"confidence"`
	Listed     string   `json:"listed,omitempty"`
	Withdrawn  string   `json:"withdrawn,omitempty"`
	Document   string   `json:"document"`
	URL        string   `json:"url,omitempty"`
}

type jsonVerdict struct {
	Chain     string `json:"chain"`
	Kind      string `json:"kind"`
	Subject   string `json:"subject"`
	AsOf      string `json:"as_of,omitempty"`
	Height    uint64 `json:"height"`
	BlockHash string `json:"block_hash,omitempty"`
	Risk      string `json:"risk"`
	Score     int    `json:"score"`
	Rule      string `json:"rule,omitempty"`
	Known     bool   `json:"known"`
	// Amounts: asset → what was received, how much of it tainted, and the share.
	Amounts   map[string]jsonAssetAmounts `json:"amounts"`
	Address   string                      `json:"address,omitempty"`
	Exchange  string                      `json:"exchange,omitempty"`
	Seed      string                      `json:"seed,omitempty"`
	Exposures []jsonExposure              `json:"exposures"`
	Labels    []jsonLabel                 `json:"labels"`
	Evidence  []trace.Path                `json:"evidence"`
	// EvidenceComponents is how many (source, hop) components the explaining movement's
	// taint has; evidence lists the paths of the largest of them.
	EvidenceComponents int `json:"evidence_components"`
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// MarshalJSON encodes the verdict with stable snake_case names.
func (v *Verdict) MarshalJSON() ([]byte, error) {
	j := jsonVerdict{
		Chain: string(v.Chain), Kind: v.Kind, Subject: v.Subject, AsOf: dateText(v.AsOf),
		Height: v.Height, BlockHash: v.BlockHash, Risk: v.Risk.String(), Score: v.Score, Rule: v.Rule,
		Known: v.Known, Amounts: make(map[string]jsonAssetAmounts, len(v.Amounts)),
		Address: string(v.Address), Exchange: v.Exchange, Seed: v.Seed,
		Exposures: make([]jsonExposure, 0, len(v.Exposures)), Labels: make([]jsonLabel, 0, len(v.Labels)),
		Evidence: v.Evidence, EvidenceComponents: v.EvidenceComponents,
	}
	if j.Evidence == nil {
		j.Evidence = []trace.Path{}
	}
	for _, t := range v.Amounts {
		j.Amounts[string(t.Asset)] = jsonAssetAmounts{Received: t.Received.Dec(), Tainted: t.Tainted.Dec(), Share: t.Share()}
	}
	for i := range v.Exposures {
		x := &v.Exposures[i]
		je := jsonExposure{Asset: string(x.Asset), Source: x.Source, Hop: x.Hop, Amount: x.Amount.Dec(), Direct: x.Direct(), Direction: string(x.Direction), SourceActive: x.SourceActive}
		if x.Direction == Incoming {
			je.Share = ratio(&x.Amount, &v.Totals(x.Asset).Received)
		}
		j.Exposures = append(j.Exposures, je)
	}
	for _, m := range v.Labels {
		l := &m.Label
		j.Labels = append(j.Labels, jsonLabel{
			Role: m.Role, Source: m.Source, Address: string(l.Address), Entity: l.Entity, Category: string(l.Category),
			Nexus: l.Nexus, Programs: l.Programs, Incident: l.Incident, Confidence: string(l.Confidence),
			Listed: dateText(l.Listed), Withdrawn: dateText(l.Withdrawn), Document: l.Source.Document, URL: l.Source.URL,
		})
	}
	return json.Marshal(j)
}

// Change is a verdict that differs after a rescreen: another risk level, score or rule, or
// other tainted amounts.
type Change struct {
	Before, After *Verdict
}

// changed reports whether a rescreen result differs from the earlier verdict in a way that
// matters to its user.
func changed(a, b *Verdict) bool {
	if a.Risk != b.Risk || a.Score != b.Score || a.Rule != b.Rule || a.Known != b.Known {
		return true
	}
	if len(a.Amounts) != len(b.Amounts) {
		return true
	}
	for i := range a.Amounts {
		x, y := &a.Amounts[i], &b.Amounts[i]
		if x.Asset != y.Asset || !x.Tainted.Eq(&y.Tainted) || !x.Received.Eq(&y.Received) {
			return true
		}
	}
	return false
}

// shareAtLeast reports amount/den ≥ q (false when den is zero).
func shareAtLeast(amount, den *graph.Amount, q *big.Rat) bool {
	if den.IsZero() {
		return false
	}
	// amount · q.den ≥ q.num · den
	l := new(big.Int).Mul(amount.ToBig(), q.Denom())
	r := new(big.Int).Mul(q.Num(), den.ToBig())
	return l.Cmp(r) >= 0
}

// ratio is num/den in lowest terms ("0" when either is zero), as the result's shares are.
func ratio(num, den *uint256.Int) string {
	if num.IsZero() || den.IsZero() {
		return "0"
	}
	q := new(big.Rat).SetFrac(num.ToBig(), den.ToBig())
	if q.IsInt() {
		return q.Num().String()
	}
	return q.String()
}
