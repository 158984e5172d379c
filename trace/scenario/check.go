package scenario

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/chaintrace/chaintrace/trace"
)

// Check compares a result with the file's expected result for method (spec §11: equal
// after JSON normalisation, lists in order) and returns every difference, each naming the
// JSON path. It returns an error if the file has no expected result for method.
func (s *Scenario) Check(method string, res *trace.Result) ([]string, error) {
	exp, ok := s.Expected[method]
	if !ok {
		return nil, fmt.Errorf("%s: no expected result for method %s", s.Name, method)
	}
	got, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	return DiffJSON(exp, got)
}

// DiffJSON compares two result objects structurally and lists every difference as
// "path: expected X, got Y". Objects compare by key, arrays element by element, numbers
// and strings exactly, after the normalisation the spec allows (§11, v2 A.1): zero
// amounts in sinks and linked_in, and empty maps and lists, mean the same as absent ones;
// every exchange stays listed under exposure, even with nothing under it.
func DiffJSON(want, got []byte) ([]string, error) {
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return nil, fmt.Errorf("expected: %w", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return nil, fmt.Errorf("got: %w", err)
	}
	var diffs []string
	diff("", normalize(stripZeroSinks(w)), normalize(stripZeroSinks(g)), &diffs)
	return diffs, nil
}

// stripZeroSinks drops zero amounts from sinks and linked_in, in a result and in every
// chain of a multi-chain result.
func stripZeroSinks(x any) any {
	m, ok := x.(map[string]any)
	if !ok {
		return x
	}
	for _, k := range []string{"sinks", "linked_in"} {
		dropZeros(m[k])
	}
	if chains, ok := m["chains"].(map[string]any); ok {
		for _, c := range chains {
			stripZeroSinks(c)
		}
	}
	return x
}

func dropZeros(x any) {
	m, ok := x.(map[string]any)
	if !ok {
		return
	}
	for k, v := range m {
		if v == "0" || v == 0.0 {
			delete(m, k)
		} else {
			dropZeros(v)
		}
	}
}

// normalize drops empty maps, empty lists and nulls, except that each exchange under an
// "exposure" key is kept whatever it holds.
func normalize(x any) any {
	switch v := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if k == "exposure" {
				if rows, ok := e.(map[string]any); ok {
					kept := make(map[string]any, len(rows))
					for label, row := range rows {
						kept[label] = normalize(row)
						if kept[label] == nil {
							kept[label] = map[string]any{}
						}
					}
					out[k] = kept
					continue
				}
			}
			if n := normalize(e); n != nil {
				out[k] = n
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(v) == 0 {
			return nil
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e)
		}
		return out
	}
	return x
}

func show(v any) string {
	if v == nil {
		return "absent"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func diff(path string, w, g any, out *[]string) {
	switch wv := w.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: expected %s, got %s", orRoot(path), show(w), show(g)))
			return
		}
		keys := map[string]bool{}
		for k := range wv {
			keys[k] = true
		}
		for k := range gv {
			keys[k] = true
		}
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			diff(path+"."+k, wv[k], gv[k], out)
		}
	case []any:
		gv, ok := g.([]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: expected %s, got %s", orRoot(path), show(w), show(g)))
			return
		}
		n := len(wv)
		if len(gv) > n {
			n = len(gv)
		}
		for i := 0; i < n; i++ {
			var a, b any
			if i < len(wv) {
				a = wv[i]
			}
			if i < len(gv) {
				b = gv[i]
			}
			diff(fmt.Sprintf("%s[%d]", path, i), a, b, out)
		}
	default:
		if !reflect.DeepEqual(w, g) {
			*out = append(*out, fmt.Sprintf("%s: expected %s, got %s", orRoot(path), show(w), show(g)))
		}
	}
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return strings.TrimPrefix(p, ".")
}
