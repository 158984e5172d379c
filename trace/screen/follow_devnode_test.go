package screen_test

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/screen"
	"github.com/ethereum/go-ethereum/crypto"
)

// ethSource adapts the Ethereum adapter's client to screen.BlockSource (and BlockHasher).
type ethSource struct{ c *ethereum.Client }

func (s ethSource) Tip(ctx context.Context) (uint64, error) { return s.c.Head(ctx) }
func (s ethSource) Block(ctx context.Context, h uint64) (*graph.Block, error) {
	d, err := s.c.Block(ctx, h)
	if err != nil {
		return nil, err
	}
	return d.Block, nil
}
func (s ethSource) BlockHash(ctx context.Context, h uint64) (string, error) {
	return s.c.BlockHash(ctx, h)
}

func freshAccount(t *testing.T) *devnode.Account {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &devnode.Account{Key: k, Address: crypto.PubkeyToAddress(k.PublicKey)}
}

func ethAddr(a *devnode.Account) graph.Address {
	return graph.Address(strings.ToLower(a.Address.Hex()))
}

// A real in-process geth dev chain. A sanctioned address (labelled in the test's label set)
// pays a fresh mule, which pays a customer who so far held only clean money: once the
// blocks are two confirmations deep the follower takes them, and the customer's verdict
// goes from none to high (hop 2, 4/5 of what it received), reported by the rescreen. The
// customer's deposit at the exchange is high too. Reopening the store resumes from the
// follower's checkpoint with the same verdicts; a reorg below the confirmation depth whose
// new branch adds a direct payment from the thief is rolled back and followed (severe).
func TestFollowerDevnodeVerdictTurnsHigh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a geth dev chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	n, err := devnode.Start(ctx, devnode.Config{Accounts: 4, NoHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	thief, funder, exchange := n.Account(0), n.Account(1), n.Account(2)
	mule, customer := freshAccount(t), freshAccount(t)
	commit := func() {
		t.Helper()
		if _, err := n.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	send := func(from, to *devnode.Account, eth int64) string {
		t.Helper()
		tx, err := n.Send(ctx, from, devnode.Tx{To: &to.Address, Value: devnode.Ether(eth)})
		if err != nil {
			t.Fatal(err)
		}
		return strings.ToLower(tx.Hash().Hex())
	}

	set := labels.NewSet()
	if err := set.Add(labels.Label{Chain: graph.Ethereum, Address: ethAddr(thief), Entity: "Lazarus Group (devnode fixture)", Category: labels.CategorySanctioned,
		Nexus: labels.NexusDPRK, Programs: []string{"DPRK3"}, Confidence: labels.ConfidenceAuthorityData,
		Listed: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Source: labels.Source{Document: "devnode test fixture"}}); err != nil {
		t.Fatal(err)
	}
	pol, err := screen.LoadPolicy("default-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := trace.Config{Model: graph.Account, Method: trace.Haircut,
		Seeds:     []trace.Seed{{Address: ethAddr(thief), Source: "lazarus-devnode", Origin: "devnode test fixture"}},
		Exchanges: map[string][]graph.Address{"ExchDev": {ethAddr(exchange)}},
		Params:    trace.Params{StopAtExchanges: true, ImplicitBalances: true}}
	genesis := graph.MustAmount(devnode.Ether(1000).String())
	init := func(e *trace.Engine) error { // the pre-funded accounts' genesis balances, clean
		for _, a := range n.Accounts() {
			if err := e.SetBalance(ethAddr(a), graph.ETH, genesis); err != nil {
				return err
			}
		}
		return nil
	}
	dir := t.TempDir()
	client := ethereum.NewClient(n.RPC(), ethereum.Options{})
	open := func() (*graph.Store, *screen.Screener, *screen.Follower) {
		t.Helper()
		st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		s, err := screen.New(screen.Options{Chain: graph.Ethereum, Policy: pol, Labels: set})
		if err != nil {
			t.Fatal(err)
		}
		f, err := screen.Follow(ctx, screen.FollowOptions{Name: "devnode", Config: cfg, Init: init, Chain: graph.Ethereum, Start: 1,
			Confirmations: 2, CheckpointEvery: 1, Store: st, Source: ethSource{client}, Screener: s})
		if err != nil {
			t.Fatal(err)
		}
		return st, s, f
	}
	advance := func(f *screen.Follower) screen.AdvanceReport {
		t.Helper()
		rep, err := f.Advance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	check := func(s *screen.Screener, a *devnode.Account) *screen.Verdict {
		t.Helper()
		v, err := s.CheckAddress(ctx, graph.Ethereum, a.Address.Hex()) // EIP-55 spelling
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	st, s, f := open()
	// Clean money first.
	send(funder, customer, 1)
	commit()
	n.Mine(ctx, 2)
	advance(f)
	before := check(s, customer)
	if before.Risk != screen.RiskNone || !before.Known || before.Totals(graph.ETH).Received.Cmp(ptr(graph.MustAmount(devnode.Ether(1).String()))) != 0 {
		t.Fatalf("customer after clean funding: %+v", before)
	}
	f.Watch(before)

	// Tainted funds arrive through the mule.
	send(thief, mule, 5)
	commit()
	send(mule, customer, 4)
	commit()
	if rep := advance(f); len(rep.Changes) != 0 || check(s, customer).Risk != screen.RiskNone {
		t.Fatalf("blocks taken before two confirmations: %+v", rep)
	}
	n.Mine(ctx, 2)
	rep := advance(f)
	if len(rep.Changes) != 1 {
		t.Fatalf("rescreen after the tainted blocks: %+v", rep)
	}
	after := rep.Changes[0].After
	if rep.Changes[0].Before != before || after.Risk != screen.RiskHigh || after.Rule != "indirect-share-10pct-4-hops" || after.Totals(graph.ETH).Share() != "4/5" {
		t.Fatalf("customer verdict after the tainted blocks: %+v", after)
	}
	if len(after.Exposures) != 1 || after.Exposures[0].Hop != 2 || len(after.Evidence) != 1 {
		t.Fatalf("exposures %+v evidence %+v", after.Exposures, after.Evidence)
	}
	steps := after.Evidence[0].Steps
	if steps[0].Kind != "seed" || steps[len(steps)-1].To != ethAddr(customer) || len(steps) != 3 {
		t.Fatalf("evidence path %+v", steps)
	}
	if src := after.Labels; len(src) != 1 || src[0].Role != "source" || src[0].Label.Entity != "Lazarus Group (devnode fixture)" {
		t.Fatalf("labels %+v", src)
	}
	if m := check(s, mule); m.Risk != screen.RiskSevere || m.Rule != "direct-sanctioned" {
		t.Fatalf("mule: %+v", m)
	}
	if th := check(s, thief); th.Risk != screen.RiskSevere || th.Rule != "sanctioned-subject" {
		t.Fatalf("thief: %+v", th)
	}

	// The customer deposits at the exchange.
	dep := send(customer, exchange, 2) + ".0"
	commit()
	n.Mine(ctx, 2)
	advance(f)
	dv, err := s.CheckDeposit(ctx, graph.Ethereum, dep)
	if err != nil {
		t.Fatal(err)
	}
	if dv.Risk != screen.RiskHigh || dv.Exchange != "ExchDev" || !dv.Known || dv.Exposures[0].Hop != 3 {
		t.Fatalf("deposit %s: %+v", dep, dv)
	}
	h1, hash1, _ := f.Height()

	// Reopen: the engine resumes from the checkpoint, verdicts are the same.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, s, f = open()
	defer st.Close()
	if r := f.Resumed(); !r.FromCheckpoint || r.CheckpointHeight != h1 || r.Replayed != 0 {
		t.Fatalf("resumed %+v, want the checkpoint at %d", r, h1)
	}
	if h, hash, _ := f.Height(); h != h1 || hash != hash1 {
		t.Fatalf("reopened at %d %s, was %d %s", h, hash, h1, hash1)
	}
	again := check(s, customer)
	if again.Risk != after.Risk || fmt.Sprint(again.Amounts) != fmt.Sprint(after.Amounts) {
		t.Fatalf("verdict after reopening: %+v", again)
	}
	f.Watch(again)

	// A reorg deeper than the confirmation depth: fork below the follower's tip; the new
	// branch (which re-includes the dropped deposit) adds a direct payment from the thief.
	forkAt := h1 - 1
	fb, err := n.Client().HeaderByNumber(ctx, bigU(forkAt))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Fork(fb.Hash()); err != nil {
		t.Fatal(err)
	}
	send(thief, customer, 1)
	commit()
	n.Mine(ctx, 5)
	rep = advance(f)
	if rep.Reorg == nil || rep.Reorg.ForkHeight != forkAt || rep.Reorg.Dropped != 1 {
		t.Fatalf("reorg report %+v (fork expected at %d)", rep.Reorg, forkAt)
	}
	if len(rep.Changes) != 1 || rep.Changes[0].After.Risk != screen.RiskSevere || rep.Changes[0].After.Rule != "direct-sanctioned" {
		t.Fatalf("changes after the reorg: %+v", rep.Changes)
	}
	for h := uint64(1); h <= rep.Height; h++ {
		want, err := client.BlockHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := st.BlockHash(ctx, graph.Ethereum, h)
		if err != nil || !ok || got != want {
			t.Fatalf("stored block %d: %s %v %v, node %s", h, got, ok, err, want)
		}
	}
}

func ptr(a graph.Amount) *graph.Amount { return &a }

func bigU(n uint64) *big.Int { return new(big.Int).SetUint64(n) }
