package reportcheck_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/trace/report/reportcheck"
)

// needChromium skips only when chromium is absent and CI is unset: in CI the check must run.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := reportcheck.Browser(); errors.Is(err, reportcheck.ErrNoChromium) {
		if os.Getenv("CI") == "" {
			t.Skip("chromium not installed (CI installs it)")
		}
		t.Fatal(err)
	}
}

// The harness must see what it is meant to catch: console errors, uncaught exceptions and
// failed loads; and a clean page must come back clean.
func TestRenderSeesConsoleErrors(t *testing.T) {
	needChromium(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, []byte(`<!DOCTYPE html><html><body><p>x</p><img src="missing.png"><script>console.error("boom-console-error"); undefinedFn();</script></body></html>`), 0o644)
	good := filepath.Join(dir, "good.html")
	os.WriteFile(good, []byte(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg><p>rendered-ok</p></body></html>`), 0o644)
	res, err := reportcheck.Render(context.Background(), bad)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(res.Console, "\n")
	for _, want := range []string{"boom-console-error", "undefinedFn is not defined"} {
		if !strings.Contains(all, want) {
			t.Errorf("console messages %q lack %q", res.Console, want)
		}
	}
	res, err = reportcheck.Render(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Console) != 0 {
		t.Errorf("clean page logged %q", res.Console)
	}
	if !strings.Contains(res.DOM, "rendered-ok") {
		t.Errorf("DOM lacks the page: %.300s", res.DOM)
	}
}

func TestRenderMissingFile(t *testing.T) {
	needChromium(t)
	if _, err := reportcheck.Render(context.Background(), filepath.Join(t.TempDir(), "nope.html")); err == nil {
		t.Fatal("no error for a missing file")
	}
}
