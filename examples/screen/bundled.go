package main

import _ "embed"

// The bundled case is embedded, so that the program serves it from any directory.
var (
	//go:embed bundled/peel-case.json
	bundledCaseFile []byte
	//go:embed bundled/case-labels.csv
	bundledCaseLabels []byte
)

// openAPI is the service's API as an OpenAPI 3 document, served at /openapi.yaml.
//
//go:embed openapi.yaml
var openAPI []byte
