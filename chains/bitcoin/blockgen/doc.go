// Package blockgen writes deterministic synthetic Bitcoin chains as Bitcoin Core block files
// (blk*.dat, optionally XOR-obfuscated with an xor.dat key), for benchmarks and tests of
// readers of real block files.
//
// The chain starts at the genesis block of the chosen network (the first generated block is
// height 1) and links every header to its parent with a correct merkle root; proof of work is
// not searched (headers carry the network's minimum-difficulty bits). Every block's coinbase
// pays the subsidy and the fees to 50 outputs (so that spending can start at once), and the
// other transactions spend 1–3 outputs of earlier blocks (P2PKH, P2WPKH, P2SH-P2WPKH or P2TR,
// with signature-sized script and witness data) into 1–3 outputs to a pool of addresses, with
// a fee. The same Options always give byte-identical files.
//
//	sum, err := blockgen.Generate(ctx, dir, blockgen.Options{Net: &chaincfg.MainNetParams, Seed: 1, Txs: 1_000_000})
package blockgen
