// Package docs holds chaintrace's documents (the taint specification, the notebook guide).
// It has no code of its own: its test runs the Go cells of NOTEBOOK.md, so that the guide
// cannot drift from the library.
package docs
