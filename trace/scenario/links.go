package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// Scenario format 2 (docs/taint-spec.md §15.8): venues and links on one chain, or several
// chains merged on time, each with its own model, holdings and transactions.

// ModelMulti is the model of a multi-chain scenario (each chain names its own).
const ModelMulti graph.Model = "multi"

type chainJSON struct {
	Name            string            `json:"name"`
	Model           string            `json:"model"`
	Funding         json.RawMessage   `json:"funding"`
	InitialBalances json.RawMessage   `json:"initial_balances"`
	Transactions    []json.RawMessage `json:"transactions"`
}

// chainRef is a chain-qualified address: {"chain": …, "address": …}, or a bare address on
// a one-chain scenario.
type chainRef struct {
	Chain   string `json:"chain"`
	Address string `json:"address"`
}

func (c *chainRef) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		return json.Unmarshal(b, &c.Address)
	}
	type plain chainRef
	return json.Unmarshal(b, (*plain)(c))
}

// legJSON is a leg: {"transfer": id} or {"output": "txid:vout"} with an optional "chain",
// or the bare reference.
type legJSON struct {
	Chain    string `json:"chain"`
	Transfer string `json:"transfer"`
	Output   string `json:"output"`
	bare     string
}

func (l *legJSON) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		return json.Unmarshal(b, &l.bare)
	}
	type plain legJSON
	return json.Unmarshal(b, (*plain)(l))
}

type linkJSON struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	In       []legJSON `json:"in"`
	Out      []legJSON `json:"out"`
	Evidence string    `json:"evidence"`
}

// venuesAndLinks reads a one-chain scenario's venues (addresses) and links.
func (p *parser) venuesAndLinks(s *Scenario, sc *scenarioJSON) error {
	for i, raw := range sc.Venues {
		var v chainRef
		if err := json.Unmarshal(raw, &v); err != nil {
			return p.errf(ErrSyntax, "venues[%d]: want an address: %v", i, err)
		}
		if v.Chain != "" {
			return p.errf(ErrInvalid, "venues[%d]: names chain %q in a one-chain scenario", i, v.Chain)
		}
		a, err := address(v.Address)
		if err != nil {
			return p.wrap(fmt.Sprintf("venues[%d]", i), err)
		}
		s.Venues = append(s.Venues, a)
	}
	links, err := p.links(sc.Links, func(string) bool { return false })
	if err != nil {
		return err
	}
	s.Links = links
	return p.checkVenueRoles(s.Venues, s.Seeds, s.Exchanges, "")
}

// links reads the links; known says whether a chain name is one of the scenario's.
func (p *parser) links(raws []json.RawMessage, known func(string) bool) ([]graph.Link, error) {
	var out []graph.Link
	for i, raw := range raws {
		var lj linkJSON
		if err := json.Unmarshal(raw, &lj); err != nil {
			return nil, p.errf(ErrSyntax, "links[%d]: %v", i, err)
		}
		where := fmt.Sprintf("links[%d] (link %q)", i, lj.ID)
		l := graph.Link{ID: lj.ID, Evidence: lj.Evidence}
		kind := lj.Kind
		if kind == "" {
			kind = string(graph.LinkDeclared)
		}
		k, err := graph.ParseLinkKind(kind)
		if err != nil {
			return nil, p.errf(ErrInvalid, "%s: %v", where, err)
		}
		l.Kind = k
		leg := func(j int, side string, x legJSON) (graph.Leg, error) {
			ref := x.bare
			n := 0
			for _, r := range []string{x.bare, x.Transfer, x.Output} {
				if r != "" {
					ref = r
					n++
				}
			}
			if n != 1 {
				return graph.Leg{}, p.errf(ErrInvalid, "%s: %s[%d]: a leg names exactly one transfer or output", where, side, j)
			}
			if x.Chain != "" && !known(x.Chain) {
				return graph.Leg{}, p.errf(ErrInvalid, "%s: %s[%d]: unknown chain %q (link %q)", where, side, j, x.Chain, lj.ID)
			}
			return graph.Leg{Chain: graph.Chain(x.Chain), Ref: ref}, nil
		}
		for j, x := range lj.In {
			lg, err := leg(j, "in", x)
			if err != nil {
				return nil, err
			}
			l.In = append(l.In, lg)
		}
		for j, x := range lj.Out {
			lg, err := leg(j, "out", x)
			if err != nil {
				return nil, err
			}
			l.Out = append(l.Out, lg)
		}
		out = append(out, l)
	}
	return out, nil
}

// checkVenueRoles rejects an address that is a venue and a seed or an exchange (§15.9).
func (p *parser) checkVenueRoles(venues []graph.Address, seeds []trace.Seed, exchanges map[string][]graph.Address, chain graph.Chain) error {
	isVenue := map[graph.Address]bool{}
	for _, v := range venues {
		isVenue[v] = true
	}
	on := ""
	if chain != "" {
		on = " on chain " + string(chain)
	}
	for _, sd := range seeds {
		if sd.Chain == chain && sd.Address != "" && isVenue[sd.Address] {
			return p.errf(ErrInvalid, "address %s%s is both a venue and a seed", sd.Address, on)
		}
	}
	for l, as := range exchanges {
		for _, a := range as {
			if isVenue[a] {
				return p.errf(ErrInvalid, "address %s%s is both a venue and an address of exchange %s", a, on, l)
			}
		}
	}
	return nil
}

// multi reads a multi-chain scenario (§15.8).
func (p *parser) multi(s *Scenario, f *fileJSON) (*Scenario, error) {
	s.Model = ModelMulti
	sc := f.Scenario
	if f.Model != "" && f.Model != "multi" {
		return nil, p.errf(ErrInvalid, "model %q: a scenario with chains has model \"multi\"", f.Model)
	}
	if len(sc.Chains) == 0 {
		return nil, p.errf(ErrInvalid, "a multi-chain scenario lists its chains")
	}
	if len(sc.Funding) > 0 || len(sc.InitialBalances) > 0 || len(sc.Transactions) > 0 {
		return nil, p.errf(ErrInvalid, "a multi-chain scenario keeps funding, balances and transactions in its chains")
	}
	names := map[string]bool{}
	var chains []chainJSON
	for i, raw := range sc.Chains {
		var c chainJSON
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, p.errf(ErrSyntax, "chains[%d]: %v", i, err)
		}
		if c.Name == "" || strings.ContainsAny(c.Name, " :") {
			return nil, p.errf(ErrInvalid, "chains[%d]: name %q must be non-empty, without spaces or ':'", i, c.Name)
		}
		if names[c.Name] {
			return nil, p.errf(ErrInvalid, "chains[%d]: chain %q is listed twice", i, c.Name)
		}
		names[c.Name] = true
		chains = append(chains, c)
	}
	known := func(c string) bool { return names[c] }
	if err := p.params(s, sc); err != nil {
		return nil, err
	}
	// Exchanges: every label on every chain, with its addresses there.
	labelsOn := map[string]map[string][]string{} // chain → label → addresses
	for _, c := range chains {
		labelsOn[c.Name] = map[string][]string{}
	}
	for kind, raw := range sc.Labels {
		if kind != "exchanges" {
			s.Warnings = append(s.Warnings, fmt.Sprintf("labels.%s: label kind not used, ignored", kind))
			continue
		}
		var ex map[string][]chainRef
		if err := json.Unmarshal(raw, &ex); err != nil {
			return nil, p.errf(ErrSyntax, "labels.exchanges: want {label: [{chain, address}]}: %v", err)
		}
		for label, refs := range ex {
			for _, c := range chains {
				if labelsOn[c.Name][label] == nil {
					labelsOn[c.Name][label] = []string{}
				}
			}
			for i, r := range refs {
				if !known(r.Chain) {
					return nil, p.errf(ErrInvalid, "labels.exchanges.%s[%d]: unknown chain %q", label, i, r.Chain)
				}
				labelsOn[r.Chain][label] = append(labelsOn[r.Chain][label], r.Address)
			}
		}
	}
	// Seeds and venues by chain.
	var seedJS []seedJSON
	if err := remarshal(sc.Seeds, &seedJS); err != nil {
		return nil, p.errf(ErrSyntax, "seeds: %v", err)
	}
	for i, sd := range seedJS {
		if !known(sd.Chain) {
			return nil, p.errf(ErrInvalid, "seeds[%d]: unknown chain %q", i, sd.Chain)
		}
	}
	venuesOn := map[string][]string{}
	for i, raw := range sc.Venues {
		var v chainRef
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, p.errf(ErrSyntax, "venues[%d]: %v", i, err)
		}
		if !known(v.Chain) {
			return nil, p.errf(ErrInvalid, "venues[%d]: unknown chain %q (venue %s)", i, v.Chain, v.Address)
		}
		venuesOn[v.Chain] = append(venuesOn[v.Chain], v.Address)
	}
	models := map[graph.Model]bool{}
	for i, c := range chains {
		sub := &Scenario{Name: s.Name, ID: s.ID, Chain: graph.Chain(c.Name), multi: true, Params: s.Params}
		switch c.Model {
		case "utxo":
			sub.Model = graph.UTXO
		case "account":
			sub.Model = graph.Account
		default:
			return nil, p.errf(ErrInvalid, "chains[%d] (%s): model %q (want \"utxo\" or \"account\")", i, c.Name, c.Model)
		}
		if s.Params.TaintFee {
			return nil, p.errf(ErrInvalid, "params.taint_fee is not defined on a multi-chain scenario")
		}
		models[sub.Model] = true
		csc := &scenarioJSON{Transactions: c.Transactions}
		if err := remarshal(c.Funding, &csc.Funding); err != nil {
			return nil, p.errf(ErrSyntax, "chains[%d].funding: %v", i, err)
		}
		if err := remarshal(c.InitialBalances, &csc.InitialBalances); err != nil {
			return nil, p.errf(ErrSyntax, "chains[%d].initial_balances: %v", i, err)
		}
		lj, _ := json.Marshal(labelsOn[c.Name])
		csc.Labels = map[string]json.RawMessage{"exchanges": lj}
		for _, sd := range seedJS {
			if sd.Chain == c.Name {
				sd.Chain = ""
				csc.Seeds = append(csc.Seeds, sd)
			}
		}
		if err := p.labels(sub, csc); err != nil {
			return nil, err
		}
		var err error
		if sub.Model == graph.UTXO {
			err = p.utxo(sub, csc)
		} else {
			err = p.account(sub, csc)
		}
		if err != nil {
			return nil, err
		}
		if err := p.seeds(sub, csc); err != nil {
			return nil, err
		}
		for _, v := range venuesOn[c.Name] {
			a, err := address(v)
			if err != nil {
				return nil, p.wrap("venues", err)
			}
			sub.Venues = append(sub.Venues, a)
		}
		for k := range sub.Seeds {
			sub.Seeds[k].Chain = sub.Chain
		}
		if err := p.checkVenueRoles(sub.Venues, sub.Seeds, sub.Exchanges, sub.Chain); err != nil {
			return nil, err
		}
		s.Chains = append(s.Chains, sub)
	}
	// The trace's seeds, in the file's order, each naming its chain.
	next := map[string]int{}
	for _, sd := range seedJS {
		sub := s.chain(graph.Chain(sd.Chain))
		s.Seeds = append(s.Seeds, sub.Seeds[next[sd.Chain]])
		next[sd.Chain]++
	}
	links, err := p.links(sc.Links, known)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		for _, leg := range append(append([]graph.Leg(nil), l.In...), l.Out...) {
			if leg.Chain == "" {
				return nil, p.errf(ErrInvalid, "link %q: leg %s names no chain", l.ID, leg.Ref)
			}
		}
	}
	s.Links = links
	// The methods valid on every chain (§15.8).
	s.Methods = f.Methods
	if len(s.Methods) == 0 {
		for _, m := range []string{trace.Poison, trace.Haircut, trace.FIFO, trace.LIFO, trace.TIHO, trace.Seniority} {
			ok := true
			for md := range models {
				mm, _ := trace.MethodByName(m)
				ok = ok && mm.Supports(md)
			}
			if ok {
				s.Methods = append(s.Methods, m)
			}
		}
	}
	for i, m := range s.Methods {
		mm, err := trace.MethodByName(m)
		if err != nil {
			return nil, p.wrap(fmt.Sprintf("methods[%d]", i), err)
		}
		for md := range models {
			if !mm.Supports(md) {
				return nil, p.errf(ErrInvalid, "methods[%d]: %s is not defined for the %s model of one of the chains", i, m, md)
			}
		}
	}
	return s, nil
}

func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, out)
}

// chain returns the chain named c of a multi-chain scenario.
func (s *Scenario) chain(c graph.Chain) *Scenario {
	for _, sub := range s.Chains {
		if sub.Chain == c {
			return sub
		}
	}
	return nil
}

// NewMulti returns the multi-chain trace of the scenario under method with every chain's
// initial holdings declared, ready for its blocks.
func (s *Scenario) NewMulti(method string) (*trace.Multi, error) {
	var cfgs []trace.Config
	for _, sub := range s.Chains {
		cfgs = append(cfgs, sub.Config(method))
	}
	m, err := trace.NewMulti(cfgs, s.Seeds, s.Links)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	for _, sub := range s.Chains {
		if err := sub.declare(m.Engine(sub.Chain)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// RunMulti replays a multi-chain scenario under method, its chains merged on time.
func (s *Scenario) RunMulti(method string) (*trace.MultiResult, error) {
	if s.Chains == nil {
		return nil, fmt.Errorf("%s: %w: a one-chain scenario: use Run", s.Name, ErrInvalid)
	}
	m, err := s.NewMulti(method)
	if err != nil {
		return nil, err
	}
	srcs := map[graph.Chain]trace.ChainBlocks{}
	for _, sub := range s.Chains {
		srcs[sub.Chain] = &blockList{blocks: sub.blocks}
	}
	if err := m.Replay(context.Background(), srcs); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return m.Result(), nil
}

// Result is what a scenario run gives: a one-chain Result or a multi-chain one. Both
// encode as the spec's result object and check conservation.
type Result interface {
	json.Marshaler
	CheckConservation() error
	String() string
}

// RunAny replays the scenario under method, one chain or several.
func (s *Scenario) RunAny(method string) (Result, error) {
	if s.Chains != nil {
		return s.RunMulti(method)
	}
	return s.Run(method)
}

// CheckResult compares any run's result with the file's expected result for method.
func (s *Scenario) CheckResult(method string, res Result) ([]string, error) {
	exp, ok := s.Expected[method]
	if !ok {
		return nil, fmt.Errorf("%s: no expected result for method %s", s.Name, method)
	}
	got, err := res.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return DiffJSON(exp, got)
}

type blockList struct {
	blocks []graph.Block
	i      int
}

func (l *blockList) Next(context.Context) (*graph.Block, error) {
	if l.i == len(l.blocks) {
		return nil, io.EOF
	}
	l.i++
	return &l.blocks[l.i-1], nil
}
