// Package report turns trace Results into what an investigator hands on: a JSON report, a
// CSV of exchange deposits, a flow graph (Graphviz DOT and an SVG drawn here, in Go), and a
// self-contained HTML page with the exposure tables, one evidence path per exchange, the
// flow graph and a Sankey diagram of where the taint went under each method. The
// investigator's program (examples/trace) and Go notebooks share it:
//
//	rep, err := report.Build(report.Meta{Title: "…", Command: os.Args[1:]},
//		report.Run{Chain: graph.Ethereum, StoreHeight: h, Results: results, Labels: set})
//	rep.WriteTable(os.Stdout)        // exposure per exchange and method, one path per exchange
//	files, err := rep.WriteFiles(dir) // report.json, deposits.csv, flow-<chain>.dot/.svg, report.html
//
// Everything written is deterministic: the same Results give byte-identical files (no
// timestamps, no temporary paths, maps sorted). Amounts in the JSON and CSV are exact
// decimal strings of base units (wei, satoshi); the tables and pictures also show them in
// ETH or BTC, formatted exactly from the integers. Floating point is used only for
// geometry (line widths, box heights), never for a figure that is printed.
//
// # Pictures
//
// The flow graph (BuildFlow) has one node per address, except that all addresses of one
// exchange become one node; nodes are coloured by label category and laid out in layers:
// seeds on the left, then the hops at which taint arrived, exchanges in the rightmost
// column. Edges join the sender and the recipient of tainted movements (UTXO: the output's
// address and the address the evidence path came from), their width proportional to the
// tainted amount. Big traces are cut to the movements carrying the most taint, and the
// exchange deposits.
//
// The Sankey diagram (BuildSankey) follows each source's taint to where it ended: an
// exchange (through a route: a mixer, a DeFi pool, directly, or through plain wallets, read
// from the evidence path of each deposit), a holding still in place (by the holder's label
// category), or a sink (fees, returned to a seed, pruned, burned). Poison amounts are not
// additive (spec §7.2), which the diagram says when it draws them. The layout is computed
// here and emitted as SVG; nothing is fetched when the page is viewed.
package report
