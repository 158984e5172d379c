// Package scenario reads scenario files: small chains written by hand, in the UTXO or the
// account model, with seeds, exchange labels and parameters — the format of the taint
// specification's §11, which the conformance vectors also use (a vector is a scenario plus
// the expected result of every method).
//
// Researchers use scenarios to try the taint methods on flows from papers; tests use them
// as fixtures:
//
//	sc, err := scenario.Load("testdata/vectors/U02_peel_chain.json")
//	res, err := sc.Run(trace.FIFO)
//	diffs, err := sc.Check(trace.FIFO, res) // against the file's "expected", if any
//
// Load validates the whole file before anything runs and reports the first problem with
// the file name and the offending entry: a malformed amount or address, an input that
// spends an unknown or already spent outpoint, outputs worth more than their inputs, an
// account debit beyond its balance, a seed that is also an exchange, a seed that names
// nothing in the file. Errors wrap sentinels (ErrSyntax, ErrInvalid, and the engine's
// trace.ErrUnknownOutpoint, trace.ErrDoubleSpend, trace.ErrOverdraft, …) for errors.Is.
//
// A scenario becomes an ordinary graph.Block stream (Blocks) plus initial holdings, so the
// same engine that replays real chains replays it.
package scenario
