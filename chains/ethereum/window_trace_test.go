package ethereum_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/holiman/uint256"
)

// A trace over a window that starts after an address got clean funds gives the full
// replay's figures on the dev chain once the engine has the opening balances (fetched from
// the node, cached in the store), and says which figures overstate taint when the node no
// longer has the state.
//
//	genesis  every dev account holds 1,000 ETH (the mule's clean funds)
//	block 1  a clean payer sends the mule 5 ETH
//	block 2  the thief sends the mule 2 ETH          ← the window starts here
//	block 3  the mule sends 3 ETH on
func TestWindowOpeningBalancesDevChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := devnode.Start(ctx, devnode.Config{NoHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	thief, mule, payer, dest := n.Account(0), n.Account(1), n.Account(2), n.Account(3)
	need(n.Send(ctx, payer, devnode.Tx{To: &mule.Address, Value: devnode.Ether(5)}))
	need(n.Commit(ctx))
	need(n.Send(ctx, thief, devnode.Tx{To: &mule.Address, Value: devnode.Ether(2)}))
	need(n.Commit(ctx))
	out := need(n.Send(ctx, mule, devnode.Tx{To: &dest.Address, Value: devnode.Ether(3)}))
	need(n.Commit(ctx))

	cl := ethereum.NewClient(n.RPC(), ethereum.Options{})
	decoded, err := cl.Blocks(ctx, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	run := func(from uint64, ob graph.OpeningBalances) *trace.Result {
		p := trace.DefaultParams()
		p.ImplicitBalances = from > 1
		eng, err := trace.NewEngine(trace.Config{Model: graph.Account, Method: trace.Haircut, Params: p, OpeningBalances: ob,
			Seeds: []trace.Seed{{Address: addr(thief.Address), Source: "lazarus"}}})
		if err != nil {
			t.Fatal(err)
		}
		if from == 1 { // the full replay knows the genesis allocation
			for _, a := range []graph.Address{addr(thief.Address), addr(mule.Address), addr(payer.Address), addr(dest.Address)} {
				if err := eng.SetBalance(a, graph.ETH, *uint256.MustFromBig(devnode.Ether(1000))); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, d := range decoded {
			if d.Block.Height < from {
				continue
			}
			if err := eng.ApplyBlockContext(ctx, d.Block); err != nil {
				t.Fatal(err)
			}
		}
		return eng.Result()
	}
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	full := run(1, nil)
	window := run(2, st.OpeningBalances(graph.Ethereum, 1, cl))
	implicitOnly := run(2, nil)
	ref := out.Hash().Hex()
	var sent *trace.TransferTaint
	for id, x := range full.Transfers {
		if x.From == addr(mule.Address) && x.To == addr(dest.Address) {
			sent = x
			ref = id
		}
	}
	if sent == nil || sent.Tainted.IsZero() {
		t.Fatalf("the mule's payment carries no taint in the full replay: %+v", full.Transfers)
	}
	fj, _ := json.Marshal(map[string]any{"transfers": full.Transfers, "holdings": full.Holdings})
	wj, _ := json.Marshal(map[string]any{"transfers": window.Transfers, "holdings": window.Holdings})
	if string(fj) != string(wj) {
		t.Errorf("window from block 2 with opening balances differs from the full replay:\nwindow %s\nfull   %s", wj, fj)
	}
	if len(window.UnknownOpeningBalances) != 0 {
		t.Errorf("unknown opening balances: %v", window.UnknownOpeningBalances)
	}
	// Without opening balances the 3 ETH carry all of the mule's 2 tainted ETH: overstated.
	if got := implicitOnly.Transfers[ref]; got == nil || !got.Tainted.Gt(&sent.Tainted) {
		t.Errorf("implicit clean funds only: %+v, want more than %s tainted", got, sent.Tainted.Dec())
	}

	// A node past its recent-state window cannot give block 1's balances: the figures then
	// rest on an unknown opening balance, and the result says which.
	if _, err := n.Mine(ctx, 300); err != nil {
		t.Fatal(err)
	}
	st2, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	pruned := run(2, st2.OpeningBalances(graph.Ethereum, 1, ethereum.NewClient(n.RPC(), ethereum.Options{Retries: -1})))
	if len(pruned.UnknownOpeningBalances) == 0 || pruned.UnknownOpeningBalances[0].Address != addr(mule.Address) {
		t.Errorf("pruned state: unknown opening balances %v, want the mule's", pruned.UnknownOpeningBalances)
	}
	if got := pruned.Transfers[ref]; got == nil || !got.Tainted.Eq(&implicitOnly.Transfers[ref].Tainted) {
		t.Errorf("pruned state: %+v, want the implicit-only figure", got)
	}
}
