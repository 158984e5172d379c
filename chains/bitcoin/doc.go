// Package bitcoin turns real Bitcoin data into chaintrace's normalized model (graph.Block):
// Bitcoin Core block files, and btcd or bitcoind over JSON-RPC.
//
// Work in progress: see the final doc in later commits.
package bitcoin
