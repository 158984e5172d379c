package reportcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"
)

// ErrNoChromium is returned when no Chromium binary is found.
var ErrNoChromium = errors.New("reportcheck: no chromium binary (install Debian's chromium, or set CHROMIUM)")

// Browser returns the Chromium binary: $CHROMIUM, else the first of chromium,
// chromium-browser, google-chrome on PATH or /usr/bin/chromium.
func Browser() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	return "", ErrNoChromium
}

// Result is what the browser saw.
type Result struct {
	DOM     string   // the DOM after load (--dump-dom)
	Console []string // console messages, in order
}

var consoleLine = regexp.MustCompile(`:CONSOLE[:(]\d*\)?\]? ?(.*)$`)

// Render loads the file at path in headless Chromium (within a 90 s limit) and returns the
// DOM and the console messages.
func Render(ctx context.Context, path string) (*Result, error) {
	bin, err := Browser()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("reportcheck: %w", err)
	}
	profile, err := os.MkdirTemp("", "reportcheck-profile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+profile, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000",
		"--dump-dom", "file://"+filepath.ToSlash(abs))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("reportcheck: %s: %w (stderr: %.2000s)", bin, err, stderr.String())
	}
	res := &Result{DOM: stdout.String()}
	for _, line := range bytes.Split(stderr.Bytes(), []byte("\n")) {
		if m := consoleLine.FindSubmatch(line); m != nil {
			res.Console = append(res.Console, string(m[1]))
		}
	}
	if res.DOM == "" {
		return res, fmt.Errorf("reportcheck: %s rendered no DOM (stderr: %.2000s)", path, stderr.String())
	}
	return res, nil
}
