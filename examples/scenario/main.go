// Command scenario runs the taint methods on a scenario or conformance-vector file (the
// format of the taint specification §11) and prints one JSON object {"<method>": result}.
//
//	go run ./examples/scenario testdata/vectors/U02_peel_chain.json
//	go run ./examples/scenario -method fifo -check testdata/vectors/U02_peel_chain.json
//	go run ./examples/scenario -table testdata/vectors/A04_account_erc20_token.json
//	go run ./examples/scenario -explain p4:0 -method haircut testdata/vectors/U02_peel_chain.json
//	go run ./examples/scenario -exact -check testdata/vectors/U02_peel_chain.json
//
// With -check it compares every result with the file's "expected" block and reports each
// difference (the results' JSON only with -json); the exit status is 1 if any differ.
// Errors go to stderr with a non-zero exit status; an invalid scenario (one the spec
// rejects, such as a link whose out-leg comes before its in-legs) is such an error, naming
// what is wrong.
//
// Multi-chain scenarios (spec §15.8) print {"<method>": {"chains": {…}, "links": {…}}};
// -explain takes "chain:ref" there, or a bare reference searched on every chain.
//
// With -exact it prints the results of the specification's informative exact mode (§6)
// instead: haircut in rational arithmetic (package trace/exact), amounts as "n" or "p/q";
// the other methods never round, so theirs are the integer results. -exact -check compares
// with the file's "expected_exact" block where it has one for the method, else with
// "expected". -exact prints JSON only: it does not combine with -table or -explain.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scenario", flag.ContinueOnError)
	fs.SetOutput(stderr)
	method := fs.String("method", "", "run only this method (poison, haircut, fifo, lifo, tiho, seniority)")
	check := fs.Bool("check", false, "compare each result with the file's expected result and report differences")
	table := fs.Bool("table", false, "print readable tables instead of JSON")
	explain := fs.String("explain", "", "print the evidence paths of this output, transfer or deposit reference")
	exact := fs.Bool("exact", false, "print the exact-mode results (haircut in rational arithmetic); with -check, compare with expected_exact")
	asJSON := fs.Bool("json", false, "with -check: print the results' JSON too")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: scenario [-method M] [-check] [-table] [-explain REF] [-exact] FILE\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	if *exact && (*table || *explain != "") {
		fmt.Fprintln(stderr, "scenario: -exact prints the exact results as JSON (or checks them with -check); it does not combine with -table or -explain")
		return 2
	}
	sc, err := scenario.Load(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "scenario:", err)
		return 1
	}
	for _, w := range sc.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	methods := sc.Methods
	if *method != "" {
		m, err := trace.MethodByName(*method)
		if err != nil {
			fmt.Fprintln(stderr, "scenario:", err)
			return 2
		}
		if sc.Chains == nil && !m.Supports(sc.Model) || sc.Chains != nil && !contains(sc.Methods, m.Name()) {
			fmt.Fprintf(stderr, "scenario: method %s is not defined for the %s model\n", *method, sc.Model)
			return 2
		}
		methods = []string{*method}
	}
	if *exact {
		return runExact(sc, methods, *check, stdout, stderr)
	}
	results := map[string]scenario.Result{}
	for _, m := range methods {
		res, err := sc.RunAny(m)
		if err != nil {
			fmt.Fprintln(stderr, "scenario:", err)
			return 1
		}
		results[m] = res
	}
	switch {
	case *explain != "":
		out := map[string]any{}
		found := false
		for m, res := range results {
			paths, err := evidence(res, *explain)
			if err != nil {
				out[m] = err.Error()
				continue
			}
			found = true
			out[m] = paths
		}
		writeJSON(stdout, out)
		if !found {
			fmt.Fprintf(stderr, "scenario: -explain %q: no tainted output, transfer or deposit has that reference under any method\n", *explain)
			return 1
		}
	case *table:
		for _, m := range methods {
			fmt.Fprintln(stdout, results[m].String())
		}
	case !*check || *asJSON:
		writeJSON(stdout, results)
	}
	if !*check {
		return 0
	}
	return checkAll(sc.Name, methods, "", func(m string) ([]string, error) { return sc.CheckResult(m, results[m]) }, stderr)
}

// evidence explains ref in a one-chain or multi-chain result ("chain:ref" or a bare
// reference searched on every chain).
func evidence(res scenario.Result, ref string) ([]trace.Path, error) {
	switch r := res.(type) {
	case *trace.Result:
		return r.Evidence(ref)
	case *trace.MultiResult:
		for _, c := range r.Chains {
			if strings.HasPrefix(ref, string(c)+":") {
				return r.Results[c].Evidence(strings.TrimPrefix(ref, string(c)+":"))
			}
		}
		for _, c := range r.Chains {
			if p, err := r.Results[c].Evidence(ref); err == nil {
				return p, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %q", trace.ErrNoEvidence, ref)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkAll reports, per method, every difference check finds (or "ok") and returns the
// exit status: 1 if any method differs or cannot be checked.
func checkAll(file string, methods []string, mode string, check func(method string) ([]string, error), stderr io.Writer) int {
	failed := 0
	for _, m := range methods {
		diffs, err := check(m)
		if err != nil {
			fmt.Fprintln(stderr, "check:", err)
			failed++
			continue
		}
		for _, d := range diffs {
			fmt.Fprintf(stderr, "check %s %s%s: %s\n", file, m, mode, d)
		}
		if len(diffs) > 0 {
			failed++
		} else {
			fmt.Fprintf(stderr, "check %s %s%s: ok\n", file, m, mode)
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// runExact prints the exact-mode results of methods and, with check, compares them with
// the file's exact expectations.
func runExact(sc *scenario.Scenario, methods []string, check bool, stdout, stderr io.Writer) int {
	results := map[string]json.RawMessage{}
	for _, m := range methods {
		res, err := sc.RunExact(m)
		if err != nil {
			fmt.Fprintln(stderr, "scenario:", err)
			return 1
		}
		results[m] = res
	}
	writeJSON(stdout, results)
	if !check {
		return 0
	}
	return checkAll(sc.Name, methods, " (exact)", func(m string) ([]string, error) { return sc.CheckExact(m, results[m]) }, stderr)
}

func writeJSON(w io.Writer, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(os.Stderr, "scenario:", err)
		return
	}
	w.Write(buf.Bytes())
}
