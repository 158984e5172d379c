// Package screen is what an exchange integrates: it answers withdrawal and deposit checks
// — is this address, or this deposit, exposed to funds of a listed source (DPRK-attributed
// thefts, sanctioned parties); how much, how many hops away, and why — from a trace kept
// current as the chain grows.
//
// The common path, in full in Example_follow:
//
//	set, _ := labels.LoadSet(ctx, files...)                // or graph/labels/bundled
//	s, _ := screen.New(screen.Options{Chain: graph.Bitcoin, Labels: set}) // built-in default policy
//	cfg, _ := screen.TraceConfig(set, graph.Bitcoin, "")  // labelled seeds and exchanges
//	f, _ := screen.Follow(ctx, screen.FollowOptions{Name: "btc", Chain: graph.Bitcoin,
//		Config: cfg, Store: st, Source: node, Screener: s}) // st: a graph.Store; node: a BlockSource
//	go f.Run(ctx, time.Minute, report)
//	v, _ := s.CheckAddress(ctx, graph.Bitcoin, addr)       // v.Risk, v.Score, v.Rule, v.Evidence
//	d, _ := s.CheckDeposit(ctx, graph.Bitcoin, "txid:vout")
//
// A Screener holds an immutable index of a trace.Result and swaps in a new one on
// Update; checks take no locks and never recompute history, so any number may run while
// the Follower updates it. The Follower takes confirmed blocks from a BlockSource (a node
// adapter of chains/bitcoin or chains/ethereum), writes them to the graph.Store, advances
// the trace engine from its checkpoint (trace.Checkpoint: engine state, kept in the store),
// survives restarts and reorgs, and rescreens the verdicts it watches so that a changed
// answer is reported.
//
// A Policy is data — ordered rules over the subject's labels and its exposure (source
// category, nexus, program, hop, share, amount) that decide a Verdict's risk and score;
// DefaultPolicy is built in (default-policy.yaml, with its reasoning in comments), and
// LoadPolicy reads your own in YAML or JSON. A Verdict explains itself: the deciding rule,
// exposure per source and hop, amounts per asset in exact base units, the labels matched,
// and evidence paths from the seed through every movement (and cross-chain link).
//
// examples/screen serves the same checks over HTTP (its API is an OpenAPI document).
package screen
