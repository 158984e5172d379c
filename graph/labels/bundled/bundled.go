// Package bundled embeds chaintrace's curated label sets, so that every program and
// library user has them without the repository: the DPRK seed set (OFAC SDN, FBI and
// researchers' attributions of North Korean cyber actors' addresses, with their sources)
// and the exchange set (GraphSense, WalletExplorer and Etherscan exchange labels). How they
// are built from the real files, and their provenance: testdata/labels/SOURCES.md; rebuild
// with go test ./graph/labels -run TestCurated -update.
//
//	set := labels.NewSet()
//	err := bundled.Load(ctx, set)
package bundled

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"

	"github.com/chaintrace/chaintrace/graph/labels"
)

// The bundled sets' names, as reports cite them.
const (
	DPRKSeeds = "graph/labels/bundled/dprk-seeds-v1.csv"
	Exchanges = "graph/labels/bundled/exchanges-v1.csv"
)

//go:embed dprk-seeds-v1.csv
var dprkSeeds []byte

//go:embed exchanges-v1.csv
var exchanges []byte

// File is one bundled label file.
type File struct {
	Name string // as cited (DPRKSeeds, Exchanges)
	Data []byte // shared: do not modify
}

// Files returns the bundled label files: the DPRK seed set, then the exchange set.
func Files() []File {
	return []File{{DPRKSeeds, dprkSeeds}, {Exchanges, exchanges}}
}

// Load reads every bundled set into set and returns what each load reported.
func Load(ctx context.Context, set *labels.Set) ([]labels.Loaded, error) {
	var out []labels.Loaded
	for _, f := range Files() {
		got, err := set.Read(bytes.NewReader(f.Data), f.Name, labels.Options{Cite: f.Name})
		if err != nil {
			return out, fmt.Errorf("bundled labels %s: %w", f.Name, err)
		}
		out = append(out, got)
	}
	return out, nil
}
