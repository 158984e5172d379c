// Command labelgen writes n generated threat-actor labels (see package labelgen) to stdout:
//
//	go run ./graph/labels/internal/labelgen/cmd/labelgen -n 1000000 > /tmp/actors-1m.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/chaintrace/chaintrace/graph/labels/internal/labelgen"
)

func main() {
	n := flag.Int("n", 100000, "number of labels")
	flag.Parse()
	if err := labelgen.WriteActorCSV(os.Stdout, *n); err != nil {
		fmt.Fprintln(os.Stderr, "labelgen:", err)
		os.Exit(1)
	}
}
