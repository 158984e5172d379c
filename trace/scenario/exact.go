package scenario

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/exact"
)

// RunExact replays the scenario under method in the spec's informative exact mode (§6)
// and returns the result object as JSON, amounts as "n" or "p/q". Haircut runs on the
// exact engine (package trace/exact); every other method never rounds, so its exact
// result is the integer engine's, and Run gives it.
func (s *Scenario) RunExact(method string) (json.RawMessage, error) {
	if s.Chains != nil || len(s.Links) > 0 || len(s.Venues) > 0 {
		// Links rescale buffers onto out-legs exactly proportionally in exact mode, for
		// every method but poison (spec §15.5): the lots of FIFO, LIFO and seniority then
		// hold fractions of units, which package exact does not replay yet.
		if method != trace.Poison {
			return nil, fmt.Errorf("%s: %w", s.Name, ErrExactLinks)
		}
		res, err := s.RunAny(method)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
	if method != trace.Haircut {
		res, err := s.Run(method)
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

// ErrExactLinks is returned by RunExact for a scenario with venues, links or several
// chains under a method whose exact result is not the integer one.
var ErrExactLinks = errors.New("exact mode does not replay venues, links or several chains yet (only poison, whose exact result is the integer one)")

// runExactHaircut replays the scenario on the exact engine.
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
	return eng.Result(), nil
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
