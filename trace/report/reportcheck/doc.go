// Package reportcheck renders an HTML report in headless Chromium and returns the rendered
// DOM and every message the page wrote to the browser console (errors, failed loads,
// uncaught exceptions). Tests of package report and of examples/trace use it to check that
// report.html renders with no console errors; CI installs Debian's chromium for them.
//
//	res, err := reportcheck.Render(ctx, "chaintrace-out/report.html")
//	if len(res.Console) > 0 { … }
//
// Chromium runs with a fresh profile in a temporary directory, without sandbox (CI runs as
// root), GPU, background networking, component updates or sync, and logs the page's console
// to stderr (--enable-logging=stderr), which Render parses: every "CONSOLE" line is a message.
package reportcheck
