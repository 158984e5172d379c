// Package exact replays a history under haircut in the taint specification's informative
// exact mode (docs/taint-spec.md §6): rational numbers, no rounding, so that haircut's
// results are exactly proportional. Every output of a transaction, and every debit of an
// account, carries the same tainted fraction as the pool it comes from, to the last
// fraction of a unit: spending 3 stolen and 7 clean BTC leaves every output exactly 3/10
// tainted, and a peel chain's figures come out as the fractions a paper would print
// (vector U02's X3 output holds 10499700000000/44999 satoshi of taint).
//
// It is a reference mode for researchers who compare chaintrace with published fractions
// or with their own proportional models, and for checking how far the normative integer
// mode (package trace, Hamilton rounding) strays from the proportional ideal: without
// dust pruning, less than one unit for every split an amount's history went through (a
// split rounds each component by less than a unit, and that error spreads on with weights
// that sum to at most 1). It is not for production screening: it is much slower than
// package trace (math/big rationals, whose denominators can grow along a history) and is
// meant for small histories: on a generated chain whose outputs mix taint from many
// earlier ones (BenchmarkReplay, max_hops 12), 1,000 transactions replay in 1.9 s (540
// tx/s, against 177k for package trace) and 2,000 in 10 s. A denominator multiplies along
// every path the taint mixes through, and no hop bound limits that. The conformance
// vectors carry its results in their expected_exact blocks, and Result.CheckConservation
// verifies spec §9.3 exactly, per (source, asset).
//
// The result has trace.Result's shape (spec v2 part A): every aggregate is keyed by asset
// first — sinks and injected taint (asset → …), each exchange's exposure (one
// AssetExposure per asset that anything paid it, every configured exchange listed) and
// each address's received totals (AddressStats.Assets). Under stop_at_exchanges every
// taint that reaches an exchange is absorbed and shown in its exposure, also on
// self-change and movements between its own addresses (v2 A.2); fees are never pruned
// (v2 A.3). Whether an internal movement counts as received depends on whether it carries
// taint, so an exact replay's received_total can differ from the integer one's where
// rounding or pruning left such a movement clean in one replay and tainted in the other.
//
// Links, venues and multi-chain traces (spec §15) are replayed as trace does: an in-leg's
// taint fills its link's buffer (sink linked_out), a venue is credited clean (taint paid
// to it outside a link goes to venue_unlinked), and an out-leg of value w receives the
// buffer rescaled exactly, w·C[c]/V of every component, one hop further, counted in
// linked_in (which conservation counts as injected). Multi replays several chains merged
// on block time, as trace.Multi; its result encodes as {"chains": …, "links": …}. The
// link set is validated by package trace, and invalid links give the same
// *trace.LinkError (wrapping trace.ErrInvalidLink).
//
// Haircut rounds in package trace; the ordered methods (FIFO, LIFO, TIHO on UTXO chains,
// seniority on account chains; spec §7.4–7.6, §8.3) move whole lots and never round —
// until a link rescales its buffer. Exact mode rescales a link's lot sequence lot by lot,
// exactly (w·lot/V, lots that get 0 dropped, adjacent equal components merged, order
// kept; §15.5), so the lots that leave an out-leg are fractions of units. New therefore
// accepts these methods too and replays them with rational lot sequences (CLEAN lots
// included), following trace's take, put and split rules exactly; without links their
// results equal package trace's figure for figure (TestPropertyOrderedUTXO,
// TestPropertyOrderedAccount). Poison never does arithmetic: New refuses it, and
// trace.NewEngine gives its exact result.
//
// The engine does exactly what trace.Engine does under haircut — seeds of every kind
// (address, outpoint, transfer, partial amounts), hop counting, per-(source, hop)
// components, every sink, min_taint, min_fraction, max_hops, stop_at_exchanges,
// Params.TaintFee, self-change and internal-movement rules, exchange exposure, per-address
// shares, account gas fees first, failed and reverted transfers, source accounts — except
// that each split is the exact share a·pool[c]/P, every amount and sum is a rational,
// and balances and totals are unbounded integers where trace's are 256 bits wide. Pruning
// compares rationals (t_s < min_taint, t_s/value < min_fraction), so an exact replay may
// keep or prune taint that the integer one prunes or keeps.
//
// Use it as trace.Engine:
//
//	eng, err := exact.New(cfg) // haircut, fifo, lifo, tiho or seniority
//	err = eng.Fund(op, addr, value) // or SetBalance on account chains
//	for each block { err = eng.ApplyBlock(&block) }
//	res := eng.Result()
//	json.Marshal(res) // the spec's result object, amounts as "n" or "p/q"
//
// Bad input gives the errors trace.Engine gives, wrapping the same sentinels
// (trace.ErrUnknownOutpoint, trace.ErrOverspend, trace.ErrOverdraft, trace.ErrBadConfig, …)
// and naming the block and transaction. Package trace/scenario runs scenario and vector
// files in exact mode (Scenario.RunExact, Scenario.CheckExact), and so does
// examples/scenario with -exact.
package exact
