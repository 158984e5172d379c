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

// DiffJSON compares two JSON documents structurally and lists every difference as
// "path: expected X, got Y". Objects compare by key, arrays element by element, numbers
// and strings exactly.
func DiffJSON(want, got []byte) ([]string, error) {
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return nil, fmt.Errorf("expected: %w", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return nil, fmt.Errorf("got: %w", err)
	}
	var diffs []string
	diff("", w, g, &diffs)
	return diffs, nil
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
