package screen_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/chaintrace/chaintrace/trace/screen"
)

// A screener over a traced case: the policy is data, the labels say who the source is, and
// a verdict explains itself (rule, exposure by source and hop, evidence path from the seed).
func ExampleScreener() {
	ctx := context.Background()
	sc, _ := scenario.Load("../../examples/screen/bundled/peel-case.json")
	res, _ := sc.Run(trace.Haircut)
	pol, _ := screen.LoadPolicy("default-policy.yaml")
	set, _ := labels.LoadSet(ctx, "../../examples/screen/bundled/case-labels.csv")
	s, err := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol, Labels: set})
	if err != nil {
		panic(err)
	}
	s.Update(res, 105, "")

	v, err := s.CheckAddress(ctx, graph.Bitcoin, "bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0")
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Risk, v.Score, v.Rule)
	for _, x := range v.Exposures {
		fmt.Println(x.Direction, x.Source, "hop", x.Hop, x.Amount.Dec(), "of", v.Totals(x.Asset).Received.Dec(), x.Asset)
	}
	var path []string
	for _, st := range v.Evidence[0].Steps {
		path = append(path, st.Ref)
	}
	fmt.Println("evidence:", strings.Join(path, " → "))
	fmt.Println("source label:", v.Labels[0].Label.Source.URL)

	d, _ := s.CheckDeposit(ctx, graph.Bitcoin, "p4:0")
	fmt.Println("deposit", d.Subject, "at", d.Exchange+":", d.Risk, d.Totals(graph.BTC).Share())
	// Output:
	// high 80 indirect-share-10pct-4-hops
	// incoming harmony-2022 hop 3 233331852 of 300000000 BTC
	// evidence: h0:0 → p1:1 → p2:1 → p3:0
	// source label: https://www.fbi.gov/news/press-releases/fbi-confirms-lazarus-group-cyber-actors-responsible-for-harmonys-horizon-bridge-currency-theft
	// deposit p4:0 at ExchA: high 19444321/25000000
}

// A policy in YAML (JSON works too): ordered rules, the first match decides.
func ExampleParsePolicy() {
	pol, err := screen.ParsePolicy(strings.NewReader(`
version: 1
name: example
rules:
  - name: direct-dprk
    exposure: {nexus: DPRK, direct: true}
    risk: severe
    score: 95
  - name: large-indirect
    exposure: {asset: BTC, max_hop: 5, min_share: 1/4, min_amount: "100000000"}
    risk: high
    score: 70
`), "example.yaml")
	if err != nil {
		panic(err)
	}
	for _, r := range pol.Rules {
		fmt.Println(r.Name, r.Risk, r.Score)
	}
	_, err = screen.ParsePolicy(strings.NewReader("version: 1\nrules: [{name: x, risk: hot, score: 1, exposure: {}}]"), "bad.yaml")
	fmt.Println(err)
	// Output:
	// direct-dprk severe 95
	// large-indirect high 70
	// bad screening policy: bad.yaml: rule 1 (x): risk "hot" (want none, low, medium, high or severe)
}
