package docs

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// notebookCells returns the Go cells of the notebook guide in order: the declarations cell
// (no "%%") and the bodies of the "%%" cells (the code after the "%%" line), and the text of
// its other fenced blocks (shell).
func notebookCells(md string) (decls string, cells []string, other []string) {
	fence := regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```$")
	for _, m := range fence.FindAllStringSubmatch(md, -1) {
		lang, body := m[1], m[2]
		switch {
		case lang != "go":
			other = append(other, body)
		case strings.HasPrefix(body, "%%\n"):
			cells = append(cells, strings.TrimPrefix(body, "%%\n"))
		default:
			decls += body
		}
	}
	return decls, cells, other
}

// gonbuiStandIn stands in for GoNB's display package, which needs a Jupyter kernel: it
// prints what would be displayed, so the test can see that the cells drew their SVG.
const gonbuiStandIn = `// Package gonbui stands in for GoNB's gonbui when the notebook's cells run as a program.
package gonbui

import "fmt"

// DisplayHTML prints the size and start of what the notebook would display.
func DisplayHTML(html string) { fmt.Printf("display: %d bytes of HTML: %.40s\n", len(html), html) }
`

// TestNotebookCells runs the Go cells of NOTEBOOK.md as GoNB runs them — every cell with the
// declarations of the cells before it — assembled into one program in a directory inside
// the module: the declarations cell, then one function per "%%" cell, called in the order
// of the guide. HOME is a temporary directory, where the cells keep their store. The
// installation lines name versions that work with this module's Go, not @latest.
func TestNotebookCells(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the bundled case on a dev chain and traces it")
	}
	md, err := os.ReadFile("NOTEBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	decls, cells, other := notebookCells(string(md))
	if !strings.Contains(decls, "func openCase(") || len(cells) < 5 {
		t.Fatalf("the guide's cells were not found: %d %%%% cells, declarations %q…", len(cells), decls[:min(len(decls), 80)])
	}
	for _, b := range other {
		if strings.Contains(b, "go install") && strings.Contains(b, "@latest") {
			t.Errorf("an installation line takes @latest, which may need a newer Go than go.mod's:\n%s", b)
		}
	}

	// The program: the declarations as they are (GoNB's display package replaced by the
	// stand-in), then the cells.
	dir, err := os.MkdirTemp("..", "_notebook-") // inside the module; "_" keeps it out of ./...
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	standIn := "github.com/chaintrace/chaintrace/" + filepath.Base(dir) + "/gonbui"
	if !strings.Contains(decls, `"github.com/janpfeifer/gonb/gonbui"`) {
		t.Fatal("the declarations do not import gonbui: update the stand-in")
	}
	var prog strings.Builder
	prog.WriteString("package main\n\n")
	prog.WriteString(strings.Replace(decls, `"github.com/janpfeifer/gonb/gonbui"`, `"`+standIn+`"`, 1))
	var calls strings.Builder
	for i, c := range cells {
		name := "cell" + string(rune('A'+i))
		prog.WriteString("\nfunc " + name + "() {\n" + c + "}\n")
		calls.WriteString("\tfmt.Println(\"=== " + name + "\")\n\t" + name + "()\n")
	}
	prog.WriteString("\nfunc main() {\n" + calls.String() + "}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(prog.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "gonbui"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gonbui", "gonbui.go"), []byte(gonbuiStandIn), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute) // a hang guard
	defer cancel()
	env := os.Environ()
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} { // HOME moves; the caches stay
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, v+"="+strings.TrimSpace(string(out)))
	}
	cmd := exec.CommandContext(ctx, "go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(env, "HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the notebook's cells: %v\n%s\n--- the program:\n%s", err, out.String(), prog.String())
	}
	// What each cell shows, in order.
	got := out.String()
	at := 0
	for _, want := range []string{
		"=== cellA", "SIMULATION", "ingested ", "labels saved in the store",
		"=== cellB", "exposure",
		"=== cellC", "exchanges listed", `"ETH"`,
		"=== cellD", "   seed ", "   hop 1 ",
		"=== cellE", "display: ", "<svg", "report.html",
	} {
		i := strings.Index(got[at:], want)
		if i < 0 {
			t.Fatalf("the cells' output lacks %q after byte %d:\n%s", want, at, got)
		}
		at += i + len(want)
	}
}
