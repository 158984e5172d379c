package ethereum_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/contracts"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/chains/thorchain"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	geth "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// linkScenario is what the link test played on the dev chain, with every link part and
// every warning the detectors must report, computed by hand from the contracts' rules.
type linkScenario struct {
	node  *devnode.Node
	parts []graph.LinkPart // in chain order
	warns []wantWarning
	// order: transactions whose normalized transfers must come in this order (ids
	// without the tx hash), where the detectors add or move transfers.
	order map[string][]string

	alice, bob, dave, vault, exchange, mallory *devnode.Account
	weth, tt, uu, pair1, pair2, pool3, router  common.Address

	x, y        *big.Int // mallory's swaps: 10 WETH → x TT (V2), x TT → y WETH (V3)
	malloryFees *big.Int
	tc1         string // the tainted THORChain inbound's tx hash
	wrapOut     string // mallory's wrap out-leg, swap and unwrap legs, for the trace check
	s1Out       string
	s3Out       string
	unwrapOut   string
	tc1In       string
	outbound    string
	outbound2   string
}

type wantWarning struct {
	tx       string
	sentinel error
	contains string
}

func hexHash(h common.Hash) string { return strings.ToLower(h.Hex()) }

// getAmountOut is Uniswap V2's formula (0.3 % fee), which PairV2, RouterV2 and PoolV3 use.
func getAmountOut(in, rIn, rOut *big.Int) *big.Int {
	f := new(big.Int).Mul(in, big.NewInt(997))
	num := new(big.Int).Mul(f, rOut)
	den := new(big.Int).Add(new(big.Int).Mul(rIn, big.NewInt(1000)), f)
	return num.Quo(num, den)
}

// newAccount makes a key the dev chain did not fund.
func newAccount(t testing.TB) *devnode.Account {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &devnode.Account{Key: k, Address: crypto.PubkeyToAddress(k.PublicKey)}
}

func playLinks(t *testing.T, ctx context.Context, n *devnode.Node) *linkScenario {
	t.Helper()
	s := &linkScenario{node: n, order: map[string][]string{}, malloryFees: new(big.Int)}
	s.alice, s.bob, s.dave, s.vault, s.exchange = n.Account(0), n.Account(1), n.Account(2), n.Account(3), n.Account(4)
	s.mallory = newAccount(t) // funded only by dave: everything she holds is stolen
	A := addr
	wethC, tokC := need(contracts.Load(contracts.WETH9)), need(contracts.Load(contracts.Token))
	pairC, r2C := need(contracts.Load(contracts.PairV2)), need(contracts.Load(contracts.RouterV2))
	poolC, r3C := need(contracts.Load(contracts.PoolV3)), need(contracts.Load(contracts.RouterV3))
	routerC, impC := need(contracts.Load(contracts.THORChainRouter)), need(contracts.Load(contracts.Impostor))
	call := func(c *contracts.Contract, m string, args ...any) []byte { return need(c.Call(m, args...)) }
	var pending []*types.Transaction
	send := func(from *devnode.Account, to common.Address, value *big.Int, data []byte) *types.Transaction {
		t.Helper()
		tx := need(n.Send(ctx, from, devnode.Tx{To: &to, Value: value, Data: data}))
		pending = append(pending, tx)
		return tx
	}
	deploy := func(code []byte) common.Address {
		t.Helper()
		a, tx := must2(t)(n.Deploy(ctx, s.alice, code, nil))
		pending = append(pending, tx)
		return a
	}
	commit := func() {
		t.Helper()
		need(n.Commit(ctx))
		for _, tx := range pending {
			r := need(n.Receipt(ctx, tx.Hash()))
			if r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("tx %s failed", tx.Hash())
			}
			if from := need(types.Sender(types.LatestSignerForChainID(n.ChainID()), tx)); from == s.mallory.Address {
				s.malloryFees.Add(s.malloryFees, new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice))
			}
		}
		pending = nil
	}
	logIdx := func(tx *types.Transaction, k int) string {
		t.Helper()
		r := need(n.Receipt(ctx, tx.Hash()))
		return fmt.Sprint(r.Logs[k].Index)
	}
	leg := func(tx *types.Transaction, suffix string) graph.Leg {
		return graph.Leg{Chain: graph.Ethereum, Ref: hexHash(tx.Hash()) + suffix}
	}
	E := devnode.Ether
	maxU := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

	// Block 1: the contracts.
	s.weth = deploy(wethC.Bytecode)
	s.tt = deploy(need(tokC.DeployData("Test Token", "TT")))
	s.uu = deploy(need(tokC.DeployData("Other Token", "UU")))
	s.pair1 = deploy(need(pairC.DeployData(s.weth, s.tt)))
	s.pair2 = deploy(need(pairC.DeployData(s.tt, s.uu)))
	s.pool3 = deploy(need(poolC.DeployData(s.weth, s.tt)))
	r2 := deploy(r2C.Bytecode)
	r3 := deploy(r3C.Bytecode)
	s.router = deploy(routerC.Bytecode)
	impostor := deploy(impC.Bytecode)
	commit()

	// Block 2: alice wraps 100 ETH (a link like any other), mints the tokens; dave (the
	// thief) sends mallory 20 ETH.
	wrapA := send(s.alice, s.weth, E(100), call(wethC, "deposit"))
	send(s.alice, s.tt, nil, call(tokC, "mint", s.alice.Address, E(1_000_000)))
	send(s.alice, s.uu, nil, call(tokC, "mint", s.alice.Address, E(1_000_000)))
	send(s.dave, s.mallory.Address, E(20), nil)
	commit()
	li := logIdx(wrapA, 0)
	s.parts = append(s.parts, graph.LinkPart{Key: "wrap:" + hexHash(wrapA.Hash()) + ":" + li, Kind: graph.LinkWrap, Chain: graph.Ethereum,
		In: []graph.Leg{leg(wrapA, ".0")}, Out: []graph.Leg{leg(wrapA, ".log"+li)}, Venues: []graph.Address{A(s.weth)},
		Evidence: fmt.Sprintf("tx %s log %s: WETH9 Deposit(dst %s, wad %s) by wrapper %s", hexHash(wrapA.Hash()), li, A(s.alice.Address), E(100), A(s.weth))})
	s.order[hexHash(wrapA.Hash())] = []string{".0", ".log" + li + ".mint", ".log" + li}

	// Block 3: liquidity. pair1 and pool3: 40 WETH / 4000 TT; pair2: 5000 TT / 5000 UU.
	send(s.alice, s.weth, nil, call(wethC, "transfer", s.pair1, E(40)))
	send(s.alice, s.tt, nil, call(tokC, "transfer", s.pair1, E(4000)))
	send(s.alice, s.tt, nil, call(tokC, "transfer", s.pair2, E(5000)))
	send(s.alice, s.uu, nil, call(tokC, "transfer", s.pair2, E(5000)))
	send(s.alice, s.weth, nil, call(wethC, "transfer", s.pool3, E(40)))
	send(s.alice, s.tt, nil, call(tokC, "transfer", s.pool3, E(4000)))
	commit()

	// Block 4: the pairs take their balances as reserves; mallory wraps 10 ETH by paying
	// the wrapper (its receive calls deposit); approvals.
	send(s.alice, s.pair1, nil, call(pairC, "sync"))
	send(s.alice, s.pair2, nil, call(pairC, "sync"))
	wrapM := send(s.mallory, s.weth, E(10), nil)
	send(s.mallory, s.weth, nil, call(wethC, "approve", r2, maxU))
	send(s.mallory, s.tt, nil, call(tokC, "approve", r3, maxU))
	send(s.alice, s.weth, nil, call(wethC, "approve", r2, maxU))
	send(s.alice, s.tt, nil, call(tokC, "approve", s.router, maxU))
	commit()
	li = logIdx(wrapM, 0)
	s.wrapOut = hexHash(wrapM.Hash()) + ".log" + li
	s.parts = append(s.parts, graph.LinkPart{Key: "wrap:" + hexHash(wrapM.Hash()) + ":" + li, Kind: graph.LinkWrap, Chain: graph.Ethereum,
		In: []graph.Leg{leg(wrapM, ".0")}, Out: []graph.Leg{leg(wrapM, ".log"+li)}, Venues: []graph.Address{A(s.weth)},
		Evidence: fmt.Sprintf("tx %s log %s: WETH9 Deposit(dst %s, wad %s) by wrapper %s", hexHash(wrapM.Hash()), li, A(s.mallory.Address), E(10), A(s.weth))})

	// Block 5: mallory swaps her 10 WETH for TT on pair1 (V2): logs Transfer in, Transfer
	// out, Sync, Swap.
	s.x = getAmountOut(E(10), E(40), E(4000))
	s1 := send(s.mallory, r2, nil, call(r2C, "swapExactTokensForTokens", E(10), s.weth, []common.Address{s.pair1}, s.mallory.Address))
	commit()
	l0, l1, l3 := logIdx(s1, 0), logIdx(s1, 1), logIdx(s1, 3)
	s.s1Out = hexHash(s1.Hash()) + ".log" + l1
	s.parts = append(s.parts, graph.LinkPart{Key: "swap:" + hexHash(s1.Hash()) + ":" + l3, Kind: graph.LinkSwap, Chain: graph.Ethereum,
		In: []graph.Leg{leg(s1, ".log"+l0)}, Out: []graph.Leg{leg(s1, ".log"+l1)}, Venues: []graph.Address{A(s.pair1)},
		Evidence: fmt.Sprintf("tx %s log %s: Uniswap V2 Swap by pool %s: %s of %s in, %s of %s out to %s", hexHash(s1.Hash()), l3, A(s.pair1), E(10), A(s.weth), s.x, A(s.tt), A(s.mallory.Address))})

	// Block 6: she swaps the TT back to WETH on pool3 (V3): the pool pays out (log 0),
	// the router's callback pays it (log 1), Swap (log 2). The detector moves the in-leg
	// before the out-leg.
	ttIsToken0 := strings.ToLower(s.tt.Hex()) < strings.ToLower(s.weth.Hex())
	s.y = getAmountOut(s.x, E(4000), E(40))
	s3 := send(s.mallory, r3, nil, call(r3C, "exactInputSingle", s.pool3, ttIsToken0, s.x, s.mallory.Address))
	commit()
	l0, l1, l2 := logIdx(s3, 0), logIdx(s3, 1), logIdx(s3, 2)
	s.s3Out = hexHash(s3.Hash()) + ".log" + l0
	s.parts = append(s.parts, graph.LinkPart{Key: "swap:" + hexHash(s3.Hash()) + ":" + l2, Kind: graph.LinkSwap, Chain: graph.Ethereum,
		In: []graph.Leg{leg(s3, ".log"+l1)}, Out: []graph.Leg{leg(s3, ".log"+l0)}, Venues: []graph.Address{A(s.pool3)},
		Evidence: fmt.Sprintf("tx %s log %s: Uniswap V3 Swap by pool %s: %s of %s in, %s of %s out to %s", hexHash(s3.Hash()), l2, A(s.pool3), s.x, A(s.tt), s.y, A(s.weth), A(s.mallory.Address))})
	s.order[hexHash(s3.Hash())] = []string{".log" + l1, ".log" + l0}

	// Block 7: she unwraps it: WETH9 sends the ETH (frame t0), then logs Withdrawal.
	u := send(s.mallory, s.weth, nil, call(wethC, "withdraw", s.y))
	commit()
	li = logIdx(u, 0)
	s.unwrapOut = hexHash(u.Hash()) + ".t0"
	s.parts = append(s.parts, graph.LinkPart{Key: "wrap:" + hexHash(u.Hash()) + ":" + li, Kind: graph.LinkWrap, Chain: graph.Ethereum,
		In: []graph.Leg{leg(u, ".log"+li)}, Out: []graph.Leg{leg(u, ".t0")}, Venues: []graph.Address{A(s.weth)},
		Evidence: fmt.Sprintf("tx %s log %s: WETH9 Withdrawal(src %s, wad %s) by wrapper %s", hexHash(u.Hash()), li, A(s.mallory.Address), s.y, A(s.weth))})
	s.order[hexHash(u.Hash())] = []string{".log" + li, ".log" + li + ".burn", ".t0"}

	// Block 8: mallory sends 5 ETH to THORChain (ETH inbound: the router forwards it to the
	// vault); alice routes 1 WETH → TT → UU through pair1 and pair2 to bob; alice sends
	// 500 TT to THORChain (ERC-20 inbound: the router keeps it).
	memo1 := "SWAP:BTC.BTC:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
	tc1 := send(s.mallory, s.router, E(5), call(routerC, "depositWithExpiry", s.vault.Address, common.Address{}, big.NewInt(0), memo1, big.NewInt(1<<40)))
	route := send(s.alice, r2, nil, call(r2C, "swapExactTokensForTokens", E(1), s.weth, []common.Address{s.pair1, s.pair2}, s.bob.Address))
	memo2 := "=:ETH.ETH:" + strings.ToLower(s.alice.Address.Hex())
	tc2 := send(s.alice, s.router, nil, call(routerC, "deposit", s.vault.Address, s.tt, E(500), memo2))
	commit()
	s.tc1 = hexHash(tc1.Hash())
	li = logIdx(tc1, 0)
	s.tc1In = s.tc1 + ".0"
	s.parts = append(s.parts, graph.LinkPart{Key: thorchain.LinkKey(s.tc1), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
		In: []graph.Leg{leg(tc1, ".0")}, Venues: []graph.Address{A(s.router), A(s.vault.Address)},
		Evidence: fmt.Sprintf("tx %s log %s: THORChain router %s Deposit to vault %s of %s ETH, memo %q", s.tc1, li, A(s.router), A(s.vault.Address), E(5), memo1)})
	// The route: pair1's reserves after mallory's swap are 50 WETH / 4000−x TT.
	a1 := getAmountOut(E(1), E(50), new(big.Int).Sub(E(4000), s.x))
	a2 := getAmountOut(a1, E(5000), E(5000))
	l0, l1, l3, l4, l6 := logIdx(route, 0), logIdx(route, 1), logIdx(route, 3), logIdx(route, 4), logIdx(route, 6)
	rh := hexHash(route.Hash())
	s.parts = append(s.parts,
		graph.LinkPart{Key: "swap:" + rh + ":" + l3, Kind: graph.LinkSwap, Chain: graph.Ethereum,
			In: []graph.Leg{leg(route, ".log"+l0)}, Out: []graph.Leg{leg(route, ".log"+l1)}, Venues: []graph.Address{A(s.pair1)},
			Evidence: fmt.Sprintf("tx %s log %s: Uniswap V2 Swap by pool %s: %s of %s in, %s of %s out to %s", rh, l3, A(s.pair1), E(1), A(s.weth), a1, A(s.tt), A(s.pair2))},
		graph.LinkPart{Key: "swap:" + rh + ":" + l6, Kind: graph.LinkSwap, Chain: graph.Ethereum,
			In: []graph.Leg{leg(route, ".log"+l1)}, Out: []graph.Leg{leg(route, ".log"+l4)}, Venues: []graph.Address{A(s.pair2)},
			Evidence: fmt.Sprintf("tx %s log %s: Uniswap V2 Swap by pool %s: %s of %s in, %s of %s out to %s", rh, l6, A(s.pair2), a1, A(s.tt), a2, A(s.uu), A(s.bob.Address))})
	l0, l1 = logIdx(tc2, 0), logIdx(tc2, 1)
	s.parts = append(s.parts, graph.LinkPart{Key: thorchain.LinkKey(hexHash(tc2.Hash())), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
		In: []graph.Leg{leg(tc2, ".log"+l0)}, Venues: []graph.Address{A(s.router), A(s.vault.Address)},
		Evidence: fmt.Sprintf("tx %s log %s: THORChain router %s Deposit to vault %s of %s %s, memo %q", hexHash(tc2.Hash()), l1, A(s.router), A(s.vault.Address), E(500), A(s.tt), memo2)})

	// Block 9: the vault pays 2 ETH out for mallory's inbound (OUT:) through the router,
	// and refunds alice's 500 TT (REFUND:) from its allowance; an impostor emits the
	// detectors' events without moving anything; bob deposits with a memo THORChain would
	// not read.
	outMemo := "OUT:" + strings.ToUpper(strings.TrimPrefix(s.tc1, "0x"))
	out := send(s.vault, s.router, E(2), call(routerC, "transferOut", s.exchange.Address, common.Address{}, big.NewInt(0), outMemo))
	refundMemo := "REFUND:" + strings.TrimPrefix(hexHash(tc2.Hash()), "0x")
	refund := send(s.vault, s.router, nil, call(routerC, "transferOut", s.alice.Address, s.tt, E(500), refundMemo))
	// A second outbound of the same swap through transferOutAndCall: the aggregator (the
	// impostor, which has no swapOut) reverts, so the router pays bob directly. Gas is
	// set: estimation would look for the least gas with which the swallowed call fails.
	aggr := impostor
	outCall := need(n.Send(ctx, s.vault, devnode.Tx{To: &s.router, Value: E(1), Gas: 300_000,
		Data: call(routerC, "transferOutAndCall", aggr, s.tt, s.bob.Address, big.NewInt(0), outMemo)}))
	pending = append(pending, outCall)
	imp := send(s.bob, impostor, nil, call(impC, "fake", s.bob.Address, big.NewInt(1000), outMemo))
	bad := send(s.bob, s.router, E(1), call(routerC, "deposit", s.vault.Address, common.Address{}, big.NewInt(0), "HELLO:WORLD"))
	commit()
	li = logIdx(out, 0)
	s.outbound = hexHash(out.Hash()) + ".t0"
	s.parts = append(s.parts, graph.LinkPart{Key: thorchain.LinkKey(s.tc1), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
		Out: []graph.Leg{leg(out, ".t0")}, Venues: []graph.Address{A(s.router), A(s.vault.Address)},
		Evidence: fmt.Sprintf("tx %s log %s: THORChain router %s TransferOut from vault %s to %s of %s ETH, memo %q", hexHash(out.Hash()), li, A(s.router), A(s.vault.Address), A(s.exchange.Address), E(2), outMemo)})
	l0, l1 = logIdx(refund, 0), logIdx(refund, 1)
	s.parts = append(s.parts, graph.LinkPart{Key: thorchain.LinkKey(hexHash(tc2.Hash())), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
		Out: []graph.Leg{leg(refund, ".log"+l0)}, Venues: []graph.Address{A(s.router), A(s.vault.Address)},
		Evidence: fmt.Sprintf("tx %s log %s: THORChain router %s TransferOut from vault %s to %s of %s %s, memo %q", hexHash(refund.Hash()), l1, A(s.router), A(s.vault.Address), A(s.alice.Address), E(500), A(s.tt), refundMemo)})
	li = logIdx(outCall, 0)
	s.outbound2 = hexHash(outCall.Hash()) + ".t1"
	s.parts = append(s.parts, graph.LinkPart{Key: thorchain.LinkKey(s.tc1), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
		Out: []graph.Leg{leg(outCall, ".t1")}, Venues: []graph.Address{A(s.router), A(s.vault.Address)},
		Evidence: fmt.Sprintf("tx %s log %s: THORChain router %s TransferOutAndCall from vault %s to %s of %s ETH, memo %q", hexHash(outCall.Hash()), li, A(s.router), A(s.vault.Address), A(s.bob.Address), E(1), outMemo)})
	s.order[hexHash(outCall.Hash())] = []string{".0", ".t0", ".t1"}
	ih := hexHash(imp.Hash())
	s.warns = append(s.warns,
		wantWarning{ih, ethereum.ErrLinkUnmatched, "log " + logIdx(imp, 0) + ": Uniswap V2 Swap by " + string(A(impostor)) + ": no Transfer of 1000 into the pool"},
		wantWarning{ih, ethereum.ErrLinkUnmatched, "log " + logIdx(imp, 1) + ": WETH9 Deposit by " + string(A(impostor)) + ": no ETH payment of 1000 wei"},
		wantWarning{ih, ethereum.ErrLinkUnmatched, "log " + logIdx(imp, 2) + ": WETH9 Withdrawal by " + string(A(impostor)) + ": no ETH payment of 1000 wei"},
		wantWarning{ih, ethereum.ErrLinkUnmatched, "log " + logIdx(imp, 3) + ": THORChain router TransferOut by " + string(A(impostor)) + ": no payment of 1000 of ETH from the router"},
		wantWarning{hexHash(bad.Hash()), thorchain.ErrMemo, "log " + logIdx(bad, 0) + ": THORChain router Deposit by " + string(A(s.router)) + ": malformed THORChain memo"},
	)
	commit()
	return s
}

func TestDevChainLinks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n := startNode(t, devnode.Config{})
	s := playLinks(t, ctx, n)

	c := need(ethereum.Dial(ctx, n.HTTPURL(), ethereum.Options{RequireTraces: true}))
	defer c.Close()
	st := &memStore{}
	res, err := ethereum.Ingest(ctx, c, st, ethereum.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blocks := st.all()

	// Every link part, and nothing else.
	var got []graph.LinkPart
	for _, b := range blocks {
		got = append(got, b.Links...)
	}
	if len(got) != len(s.parts) {
		t.Errorf("%d link parts, want %d", len(got), len(s.parts))
	}
	for i := 0; i < max(len(got), len(s.parts)); i++ {
		var g, w graph.LinkPart
		if i < len(got) {
			g = got[i]
		}
		if i < len(s.parts) {
			w = s.parts[i]
		}
		if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
			t.Errorf("part %d:\n got  %+v\n want %+v", i, g, w)
		}
	}

	// Every warning, and nothing else; they are counted, and leave the blocks complete.
	if res.WarningCounts[ethereum.ErrLinkUnmatched] != 4 || res.WarningCounts[ethereum.ErrLinkEvent] != 1 || res.Degraded() != nil {
		t.Errorf("warning counts %v, degraded %v", res.WarningCounts, res.Degraded())
	}
	if len(res.Warnings) != len(s.warns) {
		t.Errorf("%d warnings, want %d: %v", len(res.Warnings), len(s.warns), res.Warnings)
	}
	for _, w := range s.warns {
		found := false
		for _, g := range res.Warnings {
			if g.Tx == w.tx && errors.Is(g, w.sentinel) && strings.Contains(g.Error(), w.contains) {
				found = true
			}
		}
		if !found {
			t.Errorf("no warning on tx %s wrapping %v containing %q; got %v", w.tx, w.sentinel, w.contains, res.Warnings)
		}
	}

	// The transfers the detectors add or move, in their final order.
	for _, b := range blocks {
		for _, tx := range b.AccountTxs {
			want, ok := s.order[tx.Hash]
			if !ok {
				continue
			}
			var ids []string
			for _, x := range tx.Transfers {
				ids = append(ids, strings.TrimPrefix(x.ID, tx.Hash))
			}
			if !slices.Equal(ids, want) {
				t.Errorf("tx %s transfers %v, want %v", tx.Hash, ids, want)
			}
		}
	}

	// The store keeps the parts and the added transfers: a replay from disk has them.
	gs, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Close()
	for _, b := range blocks {
		if err := gs.WriteBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	var replayed []*graph.Block
	if err := gs.Blocks(ctx, graph.Ethereum, 0, blocks[len(blocks)-1].Height, func(b *graph.Block) error {
		c := *b
		replayed = append(replayed, &c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", derefAll(replayed)) != fmt.Sprintf("%+v", derefAll(blocks)) {
		t.Error("the blocks replayed from the store differ from those ingested")
	}

	checkWETHBalances(t, ctx, s, blocks)
	t.Run("trace", func(t *testing.T) { checkLinkTrace(t, s, blocks) })
}

func derefAll(bs []*graph.Block) []graph.Block {
	out := make([]graph.Block, len(bs))
	for i, b := range bs {
		out[i] = *b
	}
	return out
}

// checkWETHBalances replays the WETH movements (logged and added) and compares every
// holder's balance, the wrapper's own included, with the contract's balanceOf: the added
// mints and burns keep the wrapper's balance of its own token what it really is.
func checkWETHBalances(t *testing.T, ctx context.Context, s *linkScenario, blocks []*graph.Block) {
	t.Helper()
	bal := map[graph.Address]*big.Int{}
	get := func(a graph.Address) *big.Int {
		if bal[a] == nil {
			bal[a] = new(big.Int)
		}
		return bal[a]
	}
	get(addr(s.weth))
	for _, b := range blocks {
		for _, tx := range b.AccountTxs {
			for _, x := range tx.Transfers {
				if x.Asset != graph.Asset(addr(s.weth)) || x.Reverted {
					continue
				}
				get(x.From).Sub(get(x.From), x.Amount.ToBig())
				get(x.To).Add(get(x.To), x.Amount.ToBig())
			}
		}
	}
	wethC := need(contracts.Load(contracts.WETH9))
	for a, want := range bal {
		if a == graph.ZeroAddress {
			continue
		}
		out := need(s.node.Client().CallContract(ctx, geth.CallMsg{To: &s.weth, Data: need(wethC.Call("balanceOf", common.HexToAddress(string(a))))}, nil))
		if got := new(big.Int).SetBytes(out); got.Cmp(want) != 0 {
			t.Errorf("WETH balance of %s: contract %s, transfers give %s", a, got, want)
		}
	}
}

// checkLinkTrace joins the parts and traces FIFO taint from dave (source "dprk") through
// mallory's wrap → V2 swap → V3 swap → unwrap → THORChain inbound, whose outbound pays
// the exchange. Mallory holds nothing but dave's ETH, so every leg she pays is wholly
// tainted; the hops are counted by hand: dave → mallory 1; each in-leg +1, each out-leg +1.
func checkLinkTrace(t *testing.T, s *linkScenario, blocks []*graph.Block) {
	A := addr
	var parts []graph.LinkPart
	for _, b := range blocks {
		parts = append(parts, b.Links...)
	}
	j, err := graph.JoinLinks(parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Orphans) != 0 {
		t.Errorf("orphans %+v", j.Orphans)
	}
	m, err := trace.NewMulti([]trace.Config{{
		Chain: graph.Ethereum, Model: graph.Account, Method: trace.FIFO, Venues: j.Venues[graph.Ethereum],
		Exchanges: map[string][]graph.Address{"EX": {A(s.exchange.Address)}}, Params: trace.DefaultParams(),
	}}, []trace.Seed{{Chain: graph.Ethereum, Address: A(s.dave.Address), Source: "dprk"}}, j.Links)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.node.Accounts() {
		if err := m.Engine(graph.Ethereum).SetBalance(A(a.Address), graph.ETH, amt(devnode.Ether(1000))); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range blocks {
		if err := m.ApplyBlock(graph.Ethereum, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.CheckLinks(); err != nil {
		t.Fatal(err)
	}
	r := m.Result()
	if err := r.CheckConservation(); err != nil {
		t.Error(err)
	}
	res := r.Results[graph.Ethereum]
	links := res.AllLinks()
	outTaint := func(ref string, hop uint32, amount *big.Int) {
		t.Helper()
		for _, l := range links {
			for _, o := range l.Out {
				if o.Ref != ref {
					continue
				}
				if o.Value != amt(amount) || len(o.Taint) != 1 || o.Taint[0] != (trace.Component{Source: "dprk", Hop: hop, Amount: amt(amount)}) {
					t.Errorf("out-leg %s of link %s: value %s taint %+v, want all of %s dprk at hop %d", ref, l.ID, o.Value.Dec(), o.Taint, amount, hop)
				}
				return
			}
		}
		t.Errorf("no out-leg %s in the links' results", ref)
	}
	outTaint(s.wrapOut, 3, devnode.Ether(10))
	outTaint(s.s1Out, 5, s.x)
	outTaint(s.s3Out, 7, s.y)
	outTaint(s.unwrapOut, 9, s.y)
	outTaint(s.outbound, 3, devnode.Ether(2)) // mallory's oldest ETH (hop 1) went in
	outTaint(s.outbound2, 3, devnode.Ether(1))
	tc := links[thorchain.LinkKey(s.tc1)]
	if tc == nil || tc.Status != "complete" || tc.InValue != amt(devnode.Ether(5)) ||
		len(tc.InTaint) != 1 || tc.InTaint[0] != (trace.Component{Source: "dprk", Hop: 2, Amount: amt(devnode.Ether(5))}) {
		t.Errorf("THORChain link %+v", tc)
	}
	for id, l := range links {
		if l.Status != "complete" {
			t.Errorf("link %s is %s", id, l.Status)
		}
	}
	ex := res.Exposure["EX"].Assets[graph.ETH]
	if ex == nil || ex.TaintedTotal != amt(devnode.Ether(2)) || ex.ReceivedTotal != amt(devnode.Ether(2)) {
		t.Errorf("exchange exposure %+v", ex)
	}
	// Mallory: 20 − 10 (wrap) − 5 (THORChain) − her fees at hop 1, and the y ETH of the
	// unwrap at hop 9; no WETH or TT left.
	h := res.Holdings[string(A(s.mallory.Address))+"|"+string(graph.ETH)]
	rest := new(big.Int).Sub(devnode.Ether(5), s.malloryFees)
	if h == nil || len(h.Taint) != 2 ||
		h.Taint[0] != (trace.Component{Source: "dprk", Hop: 1, Amount: amt(rest)}) ||
		h.Taint[1] != (trace.Component{Source: "dprk", Hop: 9, Amount: amt(s.y)}) {
		t.Errorf("mallory's ETH %+v, want %s dprk at hop 1 and %s at hop 9", h, rest, s.y)
	}
	for _, asset := range []common.Address{s.weth, s.tt} {
		if h := res.Holdings[string(A(s.mallory.Address))+"|"+string(A(asset))]; h != nil && !h.Balance.IsZero() {
			t.Errorf("mallory still holds %s of %s", h.Balance.Dec(), A(asset))
		}
	}
}
