package screen_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/chaintrace/chaintrace/trace/screen"
)

// The common path of an exchange: labels in, a chain source, a screener kept current by a
// follower, and the checks of a withdrawal address and of a deposit, under the built-in
// default policy. The chain source here is caseNode, the bundled peel case served as a
// node would serve it; in production it is a node adapter such as chains/bitcoin's RPC
// (examples/screen shows both chains), and the labels are graph/labels/bundled's or your
// own files (labels.LoadSet reads OFAC, FBI, TagPack and CSV files).
func Example_follow() {
	ctx := context.Background()
	set, err := labels.LoadSet(ctx, "../../examples/screen/bundled/case-labels.csv")
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "screen-example")
	defer os.RemoveAll(dir)
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: dir, WindowStarts: map[graph.Chain]uint64{graph.Bitcoin: 100}})
	if err != nil {
		panic(err)
	}
	defer st.Close()

	s, _ := screen.New(screen.Options{Chain: graph.Bitcoin, Labels: set}) // the default policy
	cfg, conflicts := screen.TraceConfig(set, graph.Bitcoin, "")          // labelled seeds and exchanges, haircut
	fmt.Println(len(cfg.Seeds), "seed,", len(conflicts), "label conflicts")
	f, err := screen.Follow(ctx, screen.FollowOptions{Name: "btc", Chain: graph.Bitcoin, Start: 100,
		Config: cfg, Store: st, Source: newCaseNode(), Screener: s})
	if err != nil {
		panic(err)
	}
	// A service runs f.Run(ctx, time.Minute, report) in a goroutine; here one step will do.
	if _, err := f.Advance(ctx); err != nil {
		panic(err)
	}

	v, _ := s.CheckAddress(ctx, graph.Bitcoin, "bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0")
	fmt.Println("withdrawal to", v.Subject+":", v.Risk, v.Score, v.Rule)
	d, _ := s.CheckDeposit(ctx, graph.Bitcoin, "p2:0")
	fmt.Println("deposit", d.Subject, "at", d.Exchange+":", d.Risk, d.Rule, "tainted share", d.Totals(graph.BTC).Share())
	// Output:
	// 1 seed, 0 label conflicts
	// withdrawal to bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0: high 80 indirect-share-10pct-4-hops
	// deposit p2:0 at ExchA: high indirect-share-10pct-4-hops tainted share 1
}

// caseNode serves the bundled peel case as a node serves its chain: the outputs the case
// starts from are paid in block 100, its transactions follow in blocks 101 to 105.
type caseNode struct{ blocks []graph.Block }

func newCaseNode() *caseNode {
	sc, err := scenario.Load("../../examples/screen/bundled/peel-case.json")
	if err != nil {
		panic(err)
	}
	first := graph.Block{Height: 100, Time: time.Date(2022, 6, 24, 0, 0, 0, 0, time.UTC).Unix()}
	for _, fd := range sc.Funding {
		first.UTXOTxs = append(first.UTXOTxs, graph.UTXOTx{TxID: fd.Outpoint.TxID, Index: uint32(len(first.UTXOTxs)), Coinbase: true,
			Outputs: []graph.TxOut{{Address: fd.Address, Value: fd.Value}}})
	}
	n := &caseNode{blocks: append([]graph.Block{first}, sc.Blocks()...)}
	for i := range n.blocks {
		b := &n.blocks[i]
		b.Chain, b.Hash = graph.Bitcoin, fmt.Sprintf("%064x", b.Height)
		if i > 0 {
			b.Parent = n.blocks[i-1].Hash
		}
	}
	return n
}

func (n *caseNode) Tip(context.Context) (uint64, error) { return n.blocks[len(n.blocks)-1].Height, nil }

func (n *caseNode) Block(_ context.Context, h uint64) (*graph.Block, error) {
	for _, b := range n.blocks {
		if b.Height == h {
			b.UTXOTxs = append([]graph.UTXOTx(nil), b.UTXOTxs...) // the store resolves inputs in place
			for j := range b.UTXOTxs {
				b.UTXOTxs[j].Inputs = append([]graph.TxIn(nil), b.UTXOTxs[j].Inputs...)
			}
			return &b, nil
		}
	}
	return nil, fmt.Errorf("no block %d", h)
}
