package scenario

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
)

// RunExact replays the scenario under method in the spec's informative exact mode (§6)
// and returns the result object as JSON, amounts as "n" or "p/q". Haircut runs on the
// exact engine (package trace/exact), one chain or several (exact.Multi), links and venues
// included: out-legs receive their link's buffer rescaled exactly (§15.5). Poison never
// does arithmetic, so its exact result is the integer engine's. FIFO, LIFO, seniority and
// TIHO never round without links (venues and several chains included), so their exact
// result is then the integer one; with links a link's exact rescaling makes their lots
// fractions of units, and they run on the exact engine with rational lot sequences.
func (s *Scenario) RunExact(method string) (json.RawMessage, error) {
	// Venues and several chains alone never split a lot: only a link's rescaling does
	// (§15.5), so only links keep the ordered methods from the integer result.
	if method == trace.Poison || method != trace.Haircut && len(s.Links) == 0 {
		res, err := s.RunAny(method)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
	if _, err := trace.MethodByName(method); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if s.Chains != nil {
		res, err := s.runExactMulti(method)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
	res, err := s.runExactOne(method)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// runExactOne replays a one-chain scenario on the exact engine.
func (s *Scenario) runExactOne(method string) (*exact.Result, error) {
	eng, err := exact.New(s.Config(method))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if err := s.declare(eng); err != nil {
		return nil, err
	}
	if err := s.apply(eng); err != nil {
		return nil, err
	}
	if err := eng.CheckLinks(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return eng.Result(), nil
}

// runExactMulti replays a multi-chain scenario on exact engines, its chains merged on
// time.
func (s *Scenario) runExactMulti(method string) (*exact.MultiResult, error) {
	var cfgs []trace.Config
	for _, sub := range s.Chains {
		cfgs = append(cfgs, sub.Config(method))
	}
	m, err := exact.NewMulti(cfgs, s.Seeds, s.Links)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	srcs := map[graph.Chain]trace.ChainBlocks{}
	for _, sub := range s.Chains {
		if err := sub.declare(m.Engine(sub.Chain)); err != nil {
			return nil, err
		}
		srcs[sub.Chain] = &blockList{blocks: sub.blocks}
	}
	if err := m.Replay(context.Background(), srcs); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return m.Result(), nil
}

// CheckExact compares a result of RunExact with the file's exact expectation for method:
// its expected_exact entry, which vectors carry wherever the exact result differs from
// the integer one, and otherwise its expected entry (the two are then equal). It returns
// every difference, each naming the JSON path, and an error if the file expects nothing
// for method.
func (s *Scenario) CheckExact(method string, result json.RawMessage) ([]string, error) {
	exp, ok := s.ExpectedExact[method]
	if !ok {
		exp, ok = s.Expected[method]
	}
	if !ok {
		return nil, fmt.Errorf("%s: no expected result for method %s", s.Name, method)
	}
	return DiffJSON(exp, result)
}
