package ethereum_test

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/contracts"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"
)

// Opening balances on the in-process dev chain: ETH through eth_getBalance and an ERC-20
// through balanceOf, at the end of the block before a window, agree with the node's own
// client; cached in a real store, a second window asks the node nothing.
//
//	block 1  alice → bob 1 ETH; alice deploys the token
//	block 2  token mints 1,000 TT to bob
//	block 3  bob sends carol 300 TT
func TestOpeningBalancesDevChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := devnode.Start(ctx, devnode.Config{NoHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	alice, bob, carol := n.Account(0), n.Account(1), n.Account(2)
	tokenC := need(contracts.Load(contracts.Token))
	need(n.Send(ctx, alice, devnode.Tx{To: &bob.Address, Value: devnode.Ether(1)}))
	tok, _ := must2(t)(n.Deploy(ctx, alice, need(tokenC.DeployData("Test Token", "TT")), nil))
	need(n.Commit(ctx))
	need(n.Send(ctx, alice, devnode.Tx{To: &tok, Data: need(tokenC.Call("mint", bob.Address, tokens(1000)))}))
	need(n.Commit(ctx))
	need(n.Send(ctx, bob, devnode.Tx{To: &tok, Data: need(tokenC.Call("transfer", carol.Address, tokens(300)))}))
	need(n.Commit(ctx))

	cl := ethereum.NewClient(n.RPC(), ethereum.Options{})
	tt := graph.Asset(addr(tok))
	for _, tc := range []struct {
		who   common.Address
		asset graph.Asset
		block uint64
		want  *big.Int
	}{
		{bob.Address, graph.ETH, 0, devnode.Ether(1000)},
		{bob.Address, graph.ETH, 1, devnode.Ether(1001)},
		{bob.Address, tt, 1, big.NewInt(0)},
		{bob.Address, tt, 2, tokens(1000)},
		{bob.Address, tt, 3, tokens(700)},
		{carol.Address, tt, 3, tokens(300)},
		{carol.Address, tt, 2, big.NewInt(0)},
	} {
		got, err := cl.BalanceAt(ctx, addr(tc.who), tc.asset, tc.block)
		if err != nil {
			t.Fatalf("%s %s at %d: %v", tc.who, tc.asset, tc.block, err)
		}
		if got.ToBig().Cmp(tc.want) != 0 {
			t.Errorf("%s %s at %d: %s, want %s", tc.who, tc.asset, tc.block, got, tc.want)
		}
		if tc.asset == graph.ETH { // the node's own client agrees
			if v, err := n.Client().BalanceAt(ctx, tc.who, new(big.Int).SetUint64(tc.block)); err != nil || v.Cmp(tc.want) != 0 {
				t.Errorf("ethclient: %s at %d: %v %v", tc.who, tc.block, v, err)
			}
		}
	}
	// Bob's gas for block 3 is paid out of his ETH: the window from block 3 opens with
	// his balance after block 2 (1,001 ETH), not after block 3.
	open := cl.OpeningBalances(3)
	if v, err := open.OpeningBalance(ctx, addr(bob.Address), graph.ETH); err != nil || !v.Eq(uint256.MustFromBig(devnode.Ether(1001))) {
		t.Errorf("opening ETH of bob for the window from 3: %v %v", v, err)
	}
	if v, err := cl.OpeningBalances(0).OpeningBalance(ctx, addr(bob.Address), graph.ETH); err != nil || !v.Eq(uint256.MustFromBig(devnode.Ether(1000))) {
		t.Errorf("opening ETH of bob for the window from genesis: %v %v (the genesis allocation)", v, err)
	}

	// Not a token: balanceOf on an account without code answers nothing: an error, not 0.
	if _, err := cl.BalanceAt(ctx, addr(bob.Address), graph.Asset(addr(carol.Address)), 3); !errors.Is(err, ethereum.ErrMalformed) {
		t.Errorf("balanceOf on an account without code: %v", err)
	}

	// Cached in a store: the second window (a new OpeningBalances, the same store) asks the
	// node nothing; the values survive reopening the store.
	dir := t.TempDir()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	first := st.OpeningBalances(graph.Ethereum, 2, cl)
	for _, a := range []graph.Asset{graph.ETH, tt} {
		if _, err := first.OpeningBalance(ctx, addr(bob.Address), a); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := cl.Stats()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = graph.OpenStore(ctx, graph.StoreOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	second := st.OpeningBalances(graph.Ethereum, 2, cl)
	v, err := second.OpeningBalance(ctx, addr(bob.Address), tt)
	if err != nil || v.ToBig().Cmp(tokens(1000)) != 0 {
		t.Errorf("cached TT of bob at 2: %v %v", v, err)
	}
	v, err = second.OpeningBalance(ctx, addr(bob.Address), graph.ETH)
	if err != nil || v.ToBig().Cmp(devnode.Ether(1001)) != 0 {
		t.Errorf("cached ETH of bob at 2: %v %v", v, err)
	}
	if after, _ := cl.Stats(); after != before {
		t.Errorf("the cached balances cost %d node calls", after-before)
	}
	// Another block is another record.
	if v, err := st.OpeningBalances(graph.Ethereum, 3, cl).OpeningBalance(ctx, addr(bob.Address), tt); err != nil || v.ToBig().Cmp(tokens(700)) != 0 {
		t.Errorf("TT of bob at 3: %v %v", v, err)
	}
}

// A node that no longer holds a block's state (a full node past its recent-state window)
// cannot give opening balances there: a *graph.OpeningBalanceError naming the address,
// asset and block, wrapping graph.ErrOpeningBalanceUnknown; nothing is cached.
func TestOpeningBalanceStateUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := devnode.Start(ctx, devnode.Config{NoHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	bob := n.Account(1)
	need(n.Send(ctx, n.Account(0), devnode.Tx{To: &bob.Address, Value: devnode.Ether(1)}))
	tok, _ := must2(t)(n.Deploy(ctx, n.Account(0), need(need(contracts.Load(contracts.Token)).DeployData("Test Token", "TT")), nil))
	need(n.Commit(ctx))
	if _, err := n.Mine(ctx, 300); err != nil {
		t.Fatal(err)
	}
	cl := ethereum.NewClient(n.RPC(), ethereum.Options{Retries: -1})
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.OpeningBalances(graph.Ethereum, 1, cl).OpeningBalance(ctx, addr(bob.Address), graph.ETH)
	var oe *graph.OpeningBalanceError
	if !errors.Is(err, graph.ErrOpeningBalanceUnknown) || !errors.As(err, &oe) {
		t.Fatalf("balance at block 1 of 302: %v", err)
	}
	if oe.Address != addr(bob.Address) || oe.Asset != graph.ETH || oe.Block != 1 {
		t.Errorf("error names %s %s %d", oe.Address, oe.Asset, oe.Block)
	}
	t.Log(err)
	// The same for a token balance (balanceOf through eth_call on the old state).
	_, err = cl.BalanceAt(ctx, addr(bob.Address), graph.Asset(addr(tok)), 1)
	if !errors.As(err, &oe) || oe.Asset != graph.Asset(addr(tok)) {
		t.Errorf("token balance at block 1 of 302: %v", err)
	}
	if _, err := cl.BalanceAt(ctx, addr(bob.Address), graph.Asset(addr(tok)), 301); err != nil {
		t.Errorf("recent token balance: %v", err)
	}
	cached := 0
	if err := st.Records(ctx, "opening-balance", func(_, _ []byte) error { cached++; return nil }); err != nil || cached != 0 {
		t.Errorf("%d opening balances cached after a failure (%v)", cached, err)
	}
	// Recent state is there.
	if v, err := cl.BalanceAt(ctx, addr(bob.Address), graph.ETH, 301); err != nil || v.ToBig().Cmp(devnode.Ether(1001)) != 0 {
		t.Errorf("recent balance: %v %v", v, err)
	}
}
