package screen

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"gopkg.in/yaml.v3"
)

// Risk is a screening verdict's risk level, ordered: RiskNone < RiskLow < RiskMedium <
// RiskHigh < RiskSevere.
type Risk uint8

// The risk levels.
const (
	RiskNone Risk = iota
	RiskLow
	RiskMedium
	RiskHigh
	RiskSevere
)

var riskNames = [...]string{"none", "low", "medium", "high", "severe"}

func (r Risk) String() string {
	if int(r) < len(riskNames) {
		return riskNames[r]
	}
	return fmt.Sprintf("risk(%d)", r)
}

// MarshalText writes the level's name.
func (r Risk) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a level's name.
func (r *Risk) UnmarshalText(b []byte) error {
	v, err := ParseRisk(string(b))
	*r = v
	return err
}

// ParseRisk reads "none", "low", "medium", "high" or "severe".
func ParseRisk(s string) (Risk, error) {
	for i, n := range riskNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Risk(i), nil
		}
	}
	return RiskNone, fmt.Errorf("%w: risk %q (want none, low, medium, high or severe)", ErrBadPolicy, s)
}

// ErrBadPolicy is wrapped by every policy parsing and validation error. The error text names
// the file and the rule.
var ErrBadPolicy = errors.New("bad screening policy")

// Direction says which way taint moved relative to the screened address.
type Direction string

// Directions of an exposure.
const (
	Incoming Direction = "incoming" // taint the address received
	Outgoing Direction = "outgoing" // taint the address passed on
)

// Policy is an ordered list of rules: a verdict takes the risk and score of the first rule
// that matches, or none and 0 when none does. Policies are data (LoadPolicy reads JSON or
// YAML); DefaultPolicy is the shipped default (default-policy.yaml, with its reasoning).
type Policy struct {
	Name  string
	Rules []Rule
	// File is where the policy was read from ("" when built in code).
	File string
}

// Rule maps conditions to a risk level and score. A rule with a Subject condition matches
// when the screened address's own labels (or its role as a seed) satisfy it; a rule with an
// Exposure condition matches when the taint selected by it is non-zero and passes its
// thresholds; a rule with both needs both.
type Rule struct {
	Name     string
	Risk     Risk
	Score    int
	Subject  *SubjectCond
	Exposure *ExposureCond
}

// SubjectCond matches the labels of the screened address itself, active at the query's date.
// Every non-empty field must match one same label; Seed alone matches a trace seed address.
type SubjectCond struct {
	Categories []labels.Category
	Programs   []string // sanctions program prefixes ("DPRK" matches DPRK3)
	Nexus      string
	// Seed matches an address the trace starts from (a seed of any source), labelled or not.
	Seed bool
}

// ExposureCond selects part of a subject's taint and sets thresholds on it.
//
// Taint is selected per (source, hop) line: the source must pass the label conditions
// (Categories, Programs, Nexus: some label of the source's seed addresses that is active at
// the query's date must satisfy all of them; a source with labels none of which is active
// at that date never matches) and be in Sources if that is set; the hop must pass Direct
// (true: hop ≤ 1, false: hop ≥ 2) and MaxHop; the line's direction must be Direction.
// The line's asset must be Asset if that is set. The selected amounts are summed per asset
// (amounts of two assets are never added): the rule matches when, for some asset, the
// sum is non-zero, at least MinAmount, and at least MinShare of what the subject received
// of that asset (an address's receipts, a deposit's value). MinAmount is in the base units
// of Asset, which a policy must name when it sets MinAmount.
type ExposureCond struct {
	Asset      graph.Asset // "" = every asset, each on its own
	Categories []labels.Category
	Programs   []string
	Nexus      string
	Sources    []string
	Direction  Direction // Incoming (the default) or Outgoing
	Direct     *bool
	MaxHop     *uint32
	MinShare   *big.Rat // nil: no threshold
	MinAmount  graph.Amount
}

// ---- file format ----

type policyFile struct {
	Version int        `json:"version" yaml:"version"`
	Name    string     `json:"name" yaml:"name"`
	Rules   []ruleFile `json:"rules" yaml:"rules"`
}

type ruleFile struct {
	Name     string        `json:"name" yaml:"name"`
	Risk     string        `json:"risk" yaml:"risk"`
	Score    *int          `json:"score" yaml:"score"`
	Subject  *subjectFile  `json:"subject" yaml:"subject"`
	Exposure *exposureFile `json:"exposure" yaml:"exposure"`
}

type subjectFile struct {
	Categories []string `json:"categories" yaml:"categories"`
	Programs   []string `json:"programs" yaml:"programs"`
	Nexus      string   `json:"nexus" yaml:"nexus"`
	Seed       bool     `json:"seed" yaml:"seed"`
}

type exposureFile struct {
	Asset      string   `json:"asset" yaml:"asset"`
	Categories []string `json:"categories" yaml:"categories"`
	Programs   []string `json:"programs" yaml:"programs"`
	Nexus      string   `json:"nexus" yaml:"nexus"`
	Sources    []string `json:"sources" yaml:"sources"`
	Direction  string   `json:"direction" yaml:"direction"`
	Direct     *bool    `json:"direct" yaml:"direct"`
	MaxHop     *int64   `json:"max_hop" yaml:"max_hop"`
	MinShare   string   `json:"min_share" yaml:"min_share"`
	MinAmount  string   `json:"min_amount" yaml:"min_amount"`
}

// PolicyFormatVersion is the policy file version this library reads.
const PolicyFormatVersion = 1

// LoadPolicy reads a policy file: JSON when its name ends in ".json", YAML otherwise.
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPolicy, err)
	}
	return ParsePolicy(bytes.NewReader(b), path)
}

// ParsePolicy reads a policy from r; name is the file name used in errors and chooses the
// format (".json": JSON, else YAML). Unknown fields are errors, so a misspelt condition
// never silently widens a rule.
func ParsePolicy(r io.Reader, name string) (*Policy, error) {
	var pf policyFile
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadPolicy, name, fmt.Sprintf(format, args...))
	}
	if strings.EqualFold(filepath.Ext(name), ".json") {
		dec := json.NewDecoder(r)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&pf); err != nil {
			return nil, fail("%v", err)
		}
		if dec.More() {
			return nil, fail("trailing data after the policy object")
		}
	} else {
		dec := yaml.NewDecoder(r)
		dec.KnownFields(true)
		if err := dec.Decode(&pf); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fail("empty file")
			}
			return nil, fail("%v", err)
		}
	}
	if pf.Version != PolicyFormatVersion {
		return nil, fail("version %d (this library reads version %d)", pf.Version, PolicyFormatVersion)
	}
	if len(pf.Rules) == 0 {
		return nil, fail("no rules")
	}
	p := &Policy{Name: pf.Name, File: name}
	seen := map[string]int{}
	for i, rf := range pf.Rules {
		where := fmt.Sprintf("rule %d", i+1)
		if rf.Name != "" {
			where += fmt.Sprintf(" (%s)", rf.Name)
		}
		rfail := func(format string, args ...any) error {
			return fmt.Errorf("%w: %s: %s: %s", ErrBadPolicy, name, where, fmt.Sprintf(format, args...))
		}
		if rf.Name == "" {
			return nil, rfail("has no name")
		}
		if j, dup := seen[rf.Name]; dup {
			return nil, rfail("name already used by rule %d", j)
		}
		seen[rf.Name] = i + 1
		risk, err := ParseRisk(rf.Risk)
		if err != nil {
			return nil, rfail("risk %q (want none, low, medium, high or severe)", rf.Risk)
		}
		if rf.Score == nil {
			return nil, rfail("has no score")
		}
		if *rf.Score < 0 || *rf.Score > 100 {
			return nil, rfail("score %d is outside 0..100", *rf.Score)
		}
		rule := Rule{Name: rf.Name, Risk: risk, Score: *rf.Score}
		if rf.Subject == nil && rf.Exposure == nil {
			return nil, rfail("has neither a subject nor an exposure condition (it would match everything)")
		}
		if s := rf.Subject; s != nil {
			sc := &SubjectCond{Programs: upper(s.Programs), Nexus: s.Nexus, Seed: s.Seed}
			if sc.Categories, err = parseCategories(s.Categories); err != nil {
				return nil, rfail("subject: %v", err)
			}
			if len(sc.Categories) == 0 && len(sc.Programs) == 0 && sc.Nexus == "" && !sc.Seed {
				return nil, rfail("subject condition is empty")
			}
			if sc.Seed && (len(sc.Categories) > 0 || len(sc.Programs) > 0 || sc.Nexus != "") {
				return nil, rfail("subject: seed cannot be combined with label conditions (write two rules)")
			}
			rule.Subject = sc
		}
		if x := rf.Exposure; x != nil {
			xc := &ExposureCond{Programs: upper(x.Programs), Nexus: x.Nexus, Sources: x.Sources, Direct: x.Direct}
			if xc.Categories, err = parseCategories(x.Categories); err != nil {
				return nil, rfail("exposure: %v", err)
			}
			if a := strings.TrimSpace(x.Asset); a != "" {
				if strings.HasPrefix(strings.ToLower(a), "0x") {
					a = strings.ToLower(a)
				} else {
					a = strings.ToUpper(a)
				}
				xc.Asset = graph.Asset(a)
			}
			switch Direction(strings.ToLower(x.Direction)) {
			case "", Incoming:
				xc.Direction = Incoming
			case Outgoing:
				xc.Direction = Outgoing
			default:
				return nil, rfail("exposure: direction %q (want incoming or outgoing)", x.Direction)
			}
			if x.MaxHop != nil {
				if *x.MaxHop < 0 || *x.MaxHop > 1<<31 {
					return nil, rfail("exposure: max_hop %d out of range", *x.MaxHop)
				}
				h := uint32(*x.MaxHop)
				xc.MaxHop = &h
				if x.Direct != nil && !*x.Direct && h < 2 {
					return nil, rfail("exposure: direct: false (hop ≥ 2) with max_hop %d can never match", h)
				}
			}
			if x.MinShare != "" {
				q, ok := new(big.Rat).SetString(strings.TrimSpace(x.MinShare))
				if !ok || q.Sign() < 0 || q.Cmp(big.NewRat(1, 1)) > 0 {
					return nil, rfail("exposure: min_share %q is not a rational in [0, 1] (write 1/10 or 0.1)", x.MinShare)
				}
				if xc.Direction == Outgoing {
					return nil, rfail("exposure: min_share applies to incoming taint only (a share of what the subject received)")
				}
				xc.MinShare = q
			}
			if x.MinAmount != "" {
				a, err := graph.ParseAmount(strings.TrimSpace(x.MinAmount))
				if err != nil {
					return nil, rfail("exposure: min_amount %q: %v (base units, a decimal integer)", x.MinAmount, err)
				}
				if x.Asset == "" {
					return nil, rfail("exposure: min_amount %q is in one asset's base units: name the asset (asset: BTC, ETH or a token contract address)", x.MinAmount)
				}
				xc.MinAmount = a
			}
			rule.Exposure = xc
		}
		p.Rules = append(p.Rules, rule)
	}
	return p, nil
}

func upper(ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, strings.ToUpper(strings.TrimSpace(s)))
	}
	return out
}

func parseCategories(ss []string) ([]labels.Category, error) {
	var out []labels.Category
	for _, s := range ss {
		c, err := labels.ParseCategory(s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ---- evaluation ----

// labelMatches reports whether one label satisfies category/program/nexus conditions.
func labelMatches(l *labels.Label, cats []labels.Category, programs []string, nexus string) bool {
	if len(cats) > 0 {
		ok := false
		for _, c := range cats {
			ok = ok || l.Category == c
		}
		if !ok {
			return false
		}
	}
	if nexus != "" && !strings.EqualFold(l.Nexus, nexus) {
		return false
	}
	if len(programs) > 0 {
		ok := false
		for _, want := range programs {
			for _, p := range l.Programs {
				ok = ok || strings.HasPrefix(strings.ToUpper(p), want)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

//go:embed default-policy.yaml
var defaultPolicyYAML []byte

// DefaultPolicy returns chaintrace's default screening policy (default-policy.yaml in this
// package, embedded: its rules and the reasoning behind them are in its comments). Each
// call returns a new Policy.
func DefaultPolicy() *Policy {
	p, err := ParsePolicy(bytes.NewReader(defaultPolicyYAML), "default-policy.yaml")
	if err != nil {
		panic(err) // the embedded policy is tested
	}
	return p
}
