package scenario

import (
	"context"
	"encoding/json"
	"errors"
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
// result is then the integer one; with links their lots are rescaled into fractions of
// units, which package exact does not replay yet (ErrExactLinks).
func (s *Scenario) RunExact(method string) (json.RawMessage, error) {
	if method != trace.Haircut {
		// Venues and several chains alone never split a lot: only a link's rescaling
		// does (§15.5), so only links keep the ordered methods from the integer result.
		if len(s.Links) > 0 && method != trace.Poison {
			// The integer replay finds every invalid link (§15.9) as exact mode would.
			if _, err := s.RunAny(method); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", s.Name, ErrExactLinks)
		}
		res, err := s.RunAny(method)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
	if s.Chains != nil {
		res, err := s.runExactMulti()
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
	res, err := s.runExactHaircut()
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// ErrExactLinks is returned by RunExact for a scenario with links under FIFO, LIFO,
// seniority or TIHO, whose exact out-legs hold fractional lots.
var ErrExactLinks = errors.New("exact mode does not replay links under fifo, lifo, seniority or tiho yet (haircut and poison only)")

// runExactHaircut replays a one-chain scenario on the exact engine.
func (s *Scenario) runExactHaircut() (*exact.Result, error) {
	eng, err := exact.New(s.Config(trace.Haircut))
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
func (s *Scenario) runExactMulti() (*exact.MultiResult, error) {
	var cfgs []trace.Config
	for _, sub := range s.Chains {
		cfgs = append(cfgs, sub.Config(trace.Haircut))
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
