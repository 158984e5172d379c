package screen

import (
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
)

// TraceConfig is the trace configuration a screener of chain usually follows: the set's
// DPRK-attributed actor and sanctioned addresses on chain as seeds (each with its label's
// source name and provenance), its exchange labels as sinks, method (trace.Haircut when
// empty) and the default parameters; on an account chain a window that starts mid-history
// takes the balances it meets as pre-window funds (Params.ImplicitBalances).
//
// Addresses whose labels disagree (an actor also labelled an exchange) are left out of
// both and returned as conflicts, to be shown to whoever maintains the labels. On
// Ethereum, list the assets you accept in the result's Params.Assets: any contract can log
// transfers of a fake token from a sanctioned address to your customers.
func TraceConfig(set *labels.Set, chain graph.Chain, method string) (trace.Config, []labels.Conflict) {
	if method == "" {
		method = trace.Haircut
	}
	seeds, conflicts := set.Seeds(labels.SeedQuery{Nexus: labels.NexusDPRK, Chain: chain}, time.Time{})
	sinks, sinkConflicts := set.Sinks(chain, labels.CategoryExchange, time.Time{})
	ts := make([]trace.Seed, 0, len(seeds))
	for _, s := range seeds {
		ts = append(ts, trace.Seed{Address: s.Address, Source: s.Source, Origin: s.Origin})
	}
	params := trace.DefaultParams()
	params.ImplicitBalances = chain.Model() == graph.Account
	return trace.Config{Model: chain.Model(), Method: method, Seeds: ts, Exchanges: sinks, Params: params},
		append(conflicts, sinkConflicts...)
}
