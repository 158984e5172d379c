package main

import _ "embed"

// The bundled case is embedded, so that the program serves it from any directory.
var (
	//go:embed bundled/peel-case.json
	bundledCaseFile []byte
	//go:embed bundled/case-labels.csv
	bundledCaseLabels []byte
)
