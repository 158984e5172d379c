// Package trace computes how the taint of illicit funds propagates through a chain's
// history, exactly as chaintrace's taint specification (docs/taint-spec.md, version 2)
// defines it.
//
// One chronological replay engine serves every method. An Engine is configured with a
// Config — the accounting model, the Method (poison, haircut, FIFO, LIFO, TIHO on UTXO
// chains; poison, haircut, FIFO, LIFO, seniority on account chains), the seeds (addresses,
// outpoints or single transfers, each with a source name such as "lazarus-bybit-2025"), the
// exchange labels that act as sinks, and the pruning parameters — and is then fed
// graph.Blocks in chain order:
//
//	eng, err := trace.NewEngine(cfg)
//	for each block { err = eng.ApplyBlock(&block) }
//	res := eng.Result()
//
// The engine never knows where blocks come from: a scenario file (package trace/scenario),
// a chain adapter (chains/...) or the store (graph.Store). Replay streams a BlockSource.
//
// Taint is tracked per component (source, hop). All amounts are exact integers in base
// units; haircut splits use Hamilton (largest-remainder) apportionment with the spec's
// taint-favouring tie rule, so results are identical on every machine and taint is
// conserved exactly: for every method but poison, what was injected equals what is still
// held plus what went into sinks (fees, burned, exchange_absorbed, returned_to_seed,
// pruned_dust, pruned_hops, overridden). Result.CheckConservation verifies it. The spec's
// informative exact mode, haircut in rational arithmetic without rounding, is package
// trace/exact. A balance or total that would pass 2^256 fails the replay with an
// *OverflowError (errors.Is ErrOverflow) naming the block, transaction, transfer and asset,
// rather than wrap; on an account chain that is the mark of a fake token, which
// Params.Assets keeps out of a trace.
//
// A Result holds what the spec calls the result object (tainted outputs or transfers,
// unspent outputs or holdings, sinks, exposure per exchange, per-address shares); its
// JSON encoding is exactly that object. Every aggregate is per asset (spec §10, v2 A.1):
// Result.Sinks and Result.Injected are keyed by asset, an Exposure has one AssetExposure
// per asset the exchange received and an AddressStats one AssetTotals per asset, so units
// of two assets (wei and a token's units) are never added. Every exchange of the Config is
// listed in Result.Exposure, even one that received nothing. With StopAtExchanges every
// taint that arrives at an exchange is absorbed and shows in its exposure, whatever the
// movement that brought it (spec §10.2, v2 A.2).
//
// Venues and links (spec §15) carry taint across assets and chains: a venue (a DEX pool, a
// wrapper, a bridge or a THORChain vault; Config.Venues) holds no taint; a link
// (Config.Links, graph.Link) names in-legs paid to a venue and the out-legs that are their
// proceeds, and each out-leg carries the taint fraction of what went in. Multi replays
// several chains as one history, merged on block time, with links between them; its
// MultiResult and every Result's AllLinks say what each link carried, and evidence paths
// name the links they pass through. An invalid link set is a *LinkError (ErrInvalidLink)
// naming the link, leg, chain or address at fault.
//
// A window that starts mid-history on an account chain gets each tainted holding's
// balance from before the window from Config.OpeningBalances (a node, cached in the
// store), so that haircut shares are right; those it cannot get are listed in
// Result.UnknownOpeningBalances. Beyond the spec, Result.Evidence explains any
// tainted output, transfer or exchange deposit as the chain of movements from a seed that
// carried the taint, with transaction references and amounts per step.
//
// On a long history nearly all of a replay's memory would be the records of every tainted
// output or transfer ever (Result.Outputs and Transfers, and the evidence): Engine.RecordTo
// keeps them in an append-only file instead, so that memory follows the live state
// (unspent tainted outputs, holdings); the Result then reads them from there (EachOutput,
// EachTransfer, Records, Evidence), with the same JSON. Result.Close removes the records
// as the engine's Close does, so that a program keeping only the Result for its report can
// let the engine, and its live state, go first.
//
// Checkpoint and RestoreEngine (SaveCheckpoint/LoadCheckpoint with a graph.Store) let a
// trace continue as blocks arrive without replaying history. The exchange-facing part —
// verdicts for withdrawal and deposit checks under a policy, and a follower that keeps
// them current from a node — is package trace/screen.
//
// An Engine is not safe for concurrent use; a Result is immutable once returned and may be
// shared between goroutines. With two or more cores (GOMAXPROCS), ApplyBlock prepares a
// large UTXO block's taint-independent work (outpoint keys, address numbers) on a second
// goroutine while it applies the block; the goroutine ends before ApplyBlock returns, and
// the results are the same either way.
package trace
