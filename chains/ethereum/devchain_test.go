package ethereum_test

import (
	"context"
	"errors"
	"math/big"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/contracts"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	geth "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
)

// memStore is an in-memory Store used where the test needs to look inside (it records
// every write and rewind); the real graph.Store is exercised in store_test.go.
type memStore struct {
	mu      sync.Mutex
	blocks  []*graph.Block // index = height - base
	base    uint64
	writes  int
	rewinds []uint64
}

func (s *memStore) WriteBlock(_ context.Context, b *graph.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if len(s.blocks) == 0 {
		s.base = b.Height
	} else if tip := s.blocks[len(s.blocks)-1]; b.Height != tip.Height+1 || b.Parent != tip.Hash {
		return errors.New("memStore: block does not extend the tip")
	}
	s.blocks = append(s.blocks, b)
	return nil
}

func (s *memStore) Tip(context.Context, graph.Chain) (uint64, string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.blocks) == 0 {
		return 0, "", false, nil
	}
	b := s.blocks[len(s.blocks)-1]
	return b.Height, b.Hash, true, nil
}

func (s *memStore) BlockHash(_ context.Context, _ graph.Chain, h uint64) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.blocks) == 0 || h < s.base || h >= s.base+uint64(len(s.blocks)) {
		return "", false, nil
	}
	return s.blocks[h-s.base].Hash, true, nil
}

func (s *memStore) Rewind(_ context.Context, _ graph.Chain, h uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rewinds = append(s.rewinds, h)
	switch {
	case len(s.blocks) == 0:
	case h < s.base:
		s.blocks = nil
	case h-s.base+1 < uint64(len(s.blocks)):
		s.blocks = s.blocks[:h-s.base+1]
	}
	return nil
}

func (s *memStore) all() []*graph.Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*graph.Block(nil), s.blocks...)
}

func addr(a common.Address) graph.Address { return graph.Address(strings.ToLower(a.Hex())) }

func amt(b *big.Int) graph.Amount { return *uint256.MustFromBig(b) }

func milliEther(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }

func tokens(n int64) *big.Int { return devnode.Ether(n) } // 18 decimals

// want is one expected normalized transfer.
type want struct {
	id       string // suffix after the tx hash (".0", ".t1_0", ".log2") or block hash (".w0")
	asset    graph.Asset
	from, to graph.Address
	amount   *big.Int
	kind     graph.TransferKind
	reverted bool
}

// scenario is what the dev chain played, with the hand-computed expectations.
type scenario struct {
	node            *devnode.Node
	txs             map[common.Hash][]want // expected transfers per transaction
	success         map[common.Hash]bool
	order           []common.Hash
	withdrawalBlock common.Hash
	withdrawals     []want

	alice, bob, carol, dave, eve, relayer, recipient *devnode.Account
	token, forwarder, pool, relay, child1, child2    common.Address
	fees                                             map[common.Address]*big.Int // Σ fees paid per sender
}

// need returns v, and panics (failing the test with the error) when err is set; it keeps
// the scenario readable where every step can fail.
func need[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// playScenario sends the transactions of the dev-chain test and records what each must
// normalize to. Amounts are chosen so that every figure can be checked by hand.
func playScenario(t testing.TB, ctx context.Context, n *devnode.Node) *scenario {
	t.Helper()
	s := &scenario{node: n, txs: map[common.Hash][]want{}, success: map[common.Hash]bool{}, fees: map[common.Address]*big.Int{}}
	s.alice, s.bob, s.carol, s.dave, s.eve, s.relayer, s.recipient = n.Account(0), n.Account(1), n.Account(2), n.Account(3), n.Account(4), n.Account(5), n.Account(6)
	tokenC := need(contracts.Load(contracts.Token))
	fwdC := need(contracts.Load(contracts.Forwarder))
	poolC := need(contracts.Load(contracts.Pool))
	childC := need(contracts.Load(contracts.Child))

	send := func(from *devnode.Account, tx devnode.Tx, ok bool, ws ...want) *types.Transaction {
		t.Helper()
		signed := need(n.Send(ctx, from, tx))
		s.txs[signed.Hash()] = ws
		s.success[signed.Hash()] = ok
		s.order = append(s.order, signed.Hash())
		return signed
	}
	call := func(c *contracts.Contract, method string, args ...any) []byte {
		t.Helper()
		return need(c.Call(method, args...))
	}
	commit := func() {
		t.Helper()
		need(n.Commit(ctx))
	}
	A := addr
	eth := graph.ETH

	// Block 1: plain transfers and the deployments.
	send(s.alice, devnode.Tx{To: &s.bob.Address, Value: devnode.Ether(1)}, true,
		want{".0", eth, A(s.alice.Address), A(s.bob.Address), devnode.Ether(1), graph.KindCall, false})
	send(s.bob, devnode.Tx{To: &s.carol.Address, Value: milliEther(250)}, true,
		want{".0", eth, A(s.bob.Address), A(s.carol.Address), milliEther(250), graph.KindCall, false})
	var tx *types.Transaction
	s.token, tx = must2(t)(n.Deploy(ctx, s.alice, need(tokenC.DeployData("Test Token", "TT")), nil))
	s.txs[tx.Hash()], s.success[tx.Hash()], s.order = nil, true, append(s.order, tx.Hash())
	s.forwarder, tx = must2(t)(n.Deploy(ctx, s.alice, fwdC.Bytecode, nil))
	s.txs[tx.Hash()], s.success[tx.Hash()], s.order = nil, true, append(s.order, tx.Hash()) // the Relay it creates gets no value
	s.relay = crypto.CreateAddress(s.forwarder, 1)                                          // a contract's first nonce is 1
	s.pool, tx = must2(t)(n.Deploy(ctx, s.alice, poolC.Bytecode, nil))
	s.txs[tx.Hash()], s.success[tx.Hash()], s.order = nil, true, append(s.order, tx.Hash())
	commit()

	// Block 2: ERC-20 mint.
	tok := s.token
	send(s.alice, devnode.Tx{To: &tok, Data: call(tokenC, "mint", s.bob.Address, tokens(1000))}, true,
		want{".log0", graph.Asset(A(tok)), graph.ZeroAddress, A(s.bob.Address), tokens(1000), graph.KindERC20, false})
	commit() // gas is estimated on the latest block: a transaction that depends on another waits for it

	// Block 3: ERC-20 transfer and a failed transaction with value (fee only).
	send(s.bob, devnode.Tx{To: &tok, Data: call(tokenC, "transfer", s.carol.Address, tokens(300))}, true,
		want{".log0", graph.Asset(A(tok)), A(s.bob.Address), A(s.carol.Address), tokens(300), graph.KindERC20, false})
	poolAddr := s.pool
	send(s.dave, devnode.Tx{To: &poolAddr, Value: devnode.Ether(2), Gas: 200_000, Data: call(poolContract(t), "deposit", [32]byte{9})}, false)
	commit()

	// Block 4: ERC-20 burn.
	send(s.carol, devnode.Tx{To: &tok, Data: call(tokenC, "burn", tokens(100))}, true,
		want{".log0", graph.Asset(A(tok)), A(s.carol.Address), graph.ZeroAddress, tokens(100), graph.KindERC20, false})
	commit()

	// Block 5: ETH forwarded through internal calls; the third leg reverts with its subtree.
	fwd := s.forwarder
	// Gas is set, not estimated: estimation finds the least gas with which the transaction
	// succeeds, and since the reverting leg's failure is swallowed, that is a limit under
	// which the leg runs out of gas before it forwards anything.
	send(s.alice, devnode.Tx{To: &fwd, Value: devnode.Ether(10), Gas: 500_000, Data: call(fwdC, "forward",
		s.dave.Address, devnode.Ether(1), s.eve.Address, devnode.Ether(2), s.carol.Address, devnode.Ether(3))}, true,
		want{".0", eth, A(s.alice.Address), A(fwd), devnode.Ether(10), graph.KindCall, false},
		want{".t0", eth, A(fwd), A(s.dave.Address), devnode.Ether(1), graph.KindInternal, false},
		want{".t1", eth, A(fwd), A(s.relay), devnode.Ether(2), graph.KindInternal, false},
		want{".t1_0", eth, A(s.relay), A(s.eve.Address), devnode.Ether(2), graph.KindInternal, false},
		want{".t2", eth, A(fwd), A(s.relay), devnode.Ether(3), graph.KindInternal, true},
		want{".t2_0", eth, A(s.relay), A(s.carol.Address), devnode.Ether(3), graph.KindInternal, true})
	commit()

	// Block 6: CREATE and CREATE2 with value, then SELFDESTRUCT of both to dave.
	salt := [32]byte{0xc2}
	s.child1 = crypto.CreateAddress(fwd, 2) // nonce 1 went to the Relay
	s.child2 = crypto.CreateAddress2(fwd, salt, crypto.Keccak256(childC.Bytecode))
	send(s.bob, devnode.Tx{To: &fwd, Value: devnode.Ether(5), Data: call(fwdC, "spawn", s.dave.Address, devnode.Ether(1), devnode.Ether(2), salt)}, true,
		want{".0", eth, A(s.bob.Address), A(fwd), devnode.Ether(5), graph.KindCall, false},
		want{".t0", eth, A(fwd), A(s.child1), devnode.Ether(1), graph.KindCreate, false},
		want{".t1", eth, A(fwd), A(s.child2), devnode.Ether(2), graph.KindCreate, false},
		want{".t2_0", eth, A(s.child1), A(s.dave.Address), devnode.Ether(1), graph.KindSelfDestruct, false},
		want{".t3_0", eth, A(s.child2), A(s.dave.Address), devnode.Ether(2), graph.KindSelfDestruct, false})
	commit()

	// Block 7: sweep the Forwarder: 10 − 1 − 2 (the 3 came back) + 5 − 1 − 2 = 9 ETH.
	send(s.carol, devnode.Tx{To: &fwd, Data: call(fwdC, "sweep", s.alice.Address)}, true,
		want{".t0", eth, A(fwd), A(s.alice.Address), devnode.Ether(9), graph.KindInternal, false})
	commit()

	// Block 8: two 1-ETH deposits into the pool.
	secret := [32]byte{0x5e, 0xc7}
	send(s.dave, devnode.Tx{To: &poolAddr, Value: devnode.Ether(1), Data: call(poolC, "deposit", crypto.Keccak256Hash(secret[:]))}, true,
		want{".0", eth, A(s.dave.Address), A(poolAddr), devnode.Ether(1), graph.KindCall, false})
	send(s.eve, devnode.Tx{To: &poolAddr, Value: devnode.Ether(1), Data: call(poolC, "deposit", crypto.Keccak256Hash([]byte("eve's note")))}, true,
		want{".0", eth, A(s.eve.Address), A(poolAddr), devnode.Ether(1), graph.KindCall, false})
	commit()

	// Block 9: the relayer withdraws dave's note to the recipient for a 0.1 ETH fee; carol
	// creates a contract with value; two
	// beacon withdrawals (one of 0 Gwei, which is omitted).
	send(s.relayer, devnode.Tx{To: &poolAddr, Data: call(poolC, "withdraw", secret, s.recipient.Address, s.relayer.Address, milliEther(100))}, true,
		want{".t0", eth, A(poolAddr), A(s.recipient.Address), milliEther(900), graph.KindInternal, false},
		want{".t1", eth, A(poolAddr), A(s.relayer.Address), milliEther(100), graph.KindInternal, false})
	// A contract creation with value: the top-level transfer goes to the new contract.
	childAddr, childTx := must2(t)(n.Deploy(ctx, s.carol, childC.Bytecode, milliEther(500)))
	s.txs[childTx.Hash()] = []want{{".0", eth, A(s.carol.Address), A(childAddr), milliEther(500), graph.KindCreate, false}}
	s.success[childTx.Hash()], s.order = true, append(s.order, childTx.Hash())
	if err := n.AddWithdrawal(ctx, 0, 42, s.eve.Address, 1_500_000_000); err != nil { // 1.5 ETH
		t.Fatal(err)
	}
	if err := n.AddWithdrawal(ctx, 1, 43, s.bob.Address, 0); err != nil {
		t.Fatal(err)
	}
	s.withdrawalBlock = need(n.Commit(ctx)).Hash()
	s.withdrawals = []want{{".w0", eth, graph.ZeroAddress, A(s.eve.Address), milliEther(1500), graph.KindWithdrawal, false}}

	// Block 10: empty.
	commit()

	// Receipts: success as planned, fees per sender.
	for _, h := range s.order {
		r := need(n.Receipt(ctx, h))
		if got := r.Status == types.ReceiptStatusSuccessful; got != s.success[h] {
			t.Fatalf("tx %s: status %d, the scenario expects success=%v", h, r.Status, s.success[h])
		}
	}
	return s
}

func poolContract(t testing.TB) *contracts.Contract { return need(contracts.Load(contracts.Pool)) }

func must2(t testing.TB) func(common.Address, *types.Transaction, error) (common.Address, *types.Transaction) {
	return func(a common.Address, tx *types.Transaction, err error) (common.Address, *types.Transaction) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, tx
	}
}

func startNode(t testing.TB, cfg devnode.Config) *devnode.Node {
	t.Helper()
	n, err := devnode.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// checkBlocks compares every normalized transaction with the scenario: index, sender,
// recipient, fee from the receipt, status, and every transfer field.
func checkBlocks(t *testing.T, ctx context.Context, s *scenario, blocks []*graph.Block) {
	t.Helper()
	seen := map[common.Hash]bool{}
	var withdrawalsSeen bool
	for _, b := range blocks {
		nb := need(s.node.Client().BlockByNumber(ctx, new(big.Int).SetUint64(b.Height)))
		if b.Hash != strings.ToLower(nb.Hash().Hex()) || b.Parent != strings.ToLower(nb.ParentHash().Hex()) || b.Time != int64(nb.Time()) {
			t.Errorf("block %d header: got %s parent %s time %d", b.Height, b.Hash, b.Parent, b.Time)
		}
		for i := range b.AccountTxs {
			tx := &b.AccountTxs[i]
			if strings.HasSuffix(tx.Hash, ".withdrawals") {
				withdrawalsSeen = true
				if tx.Hash != strings.ToLower(s.withdrawalBlock.Hex())+".withdrawals" || tx.Index != uint32(len(nb.Transactions())) || tx.From != graph.ZeroAddress || !tx.Fee.IsZero() {
					t.Errorf("withdrawal pseudo-tx %+v", tx)
				}
				compareTransfers(t, tx, strings.ToLower(s.withdrawalBlock.Hex()), s.withdrawals)
				continue
			}
			h := common.HexToHash(tx.Hash)
			ws, ok := s.txs[h]
			if !ok {
				t.Errorf("block %d: unexpected tx %s", b.Height, tx.Hash)
				continue
			}
			seen[h] = true
			r := need(s.node.Receipt(ctx, h))
			var fee big.Int
			fee.Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
			if got := tx.Fee.ToBig(); got.Cmp(&fee) != 0 {
				t.Errorf("tx %s fee %s, receipt gives %s", tx.Hash, got, &fee)
			}
			if tx.Success != s.success[h] || tx.Index != uint32(r.TransactionIndex) {
				t.Errorf("tx %s success %v index %d", tx.Hash, tx.Success, tx.Index)
			}
			ntx := nb.Transaction(h)
			from := need(types.Sender(types.LatestSignerForChainID(s.node.ChainID()), ntx))
			if tx.From != addr(from) {
				t.Errorf("tx %s from %s, want %s", tx.Hash, tx.From, addr(from))
			}
			if (ntx.To() == nil) != (tx.To == "") || (ntx.To() != nil && tx.To != addr(*ntx.To())) {
				t.Errorf("tx %s to %q", tx.Hash, tx.To)
			}
			compareTransfers(t, tx, tx.Hash, ws)
		}
	}
	for h := range s.txs {
		if !seen[h] {
			t.Errorf("tx %s was not ingested", h)
		}
	}
	if !withdrawalsSeen {
		t.Error("withdrawals were not ingested")
	}
}

func compareTransfers(t *testing.T, tx *graph.AccountTx, prefix string, ws []want) {
	t.Helper()
	if len(tx.Transfers) != len(ws) {
		t.Errorf("tx %s: %d transfers, want %d: %+v", tx.Hash, len(tx.Transfers), len(ws), tx.Transfers)
		return
	}
	for i, w := range ws {
		g := tx.Transfers[i]
		exp := graph.Transfer{ID: prefix + w.id, Asset: w.asset, From: w.from, To: w.to, Amount: amt(w.amount), Kind: w.kind, Reverted: w.reverted}
		if g != exp {
			t.Errorf("tx %s transfer %d:\n got  %+v\n want %+v", tx.Hash, i, g, exp)
		}
	}
}

// checkBalances replays the normalized blocks as balance changes and compares them with the
// node's state: every ETH balance (genesis + received − sent − fees) and every token balance.
// This is an independent check that nothing is missing or double-counted.
func checkBalances(t *testing.T, ctx context.Context, s *scenario, blocks []*graph.Block) {
	t.Helper()
	eth := map[graph.Address]*big.Int{}
	tok := map[graph.Address]*big.Int{}
	get := func(m map[graph.Address]*big.Int, a graph.Address) *big.Int {
		if m[a] == nil {
			m[a] = new(big.Int)
		}
		return m[a]
	}
	for _, a := range s.node.Accounts() {
		get(eth, addr(a.Address)).Set(devnode.Ether(1000))
	}
	for _, b := range blocks {
		for i := range b.AccountTxs {
			tx := &b.AccountTxs[i]
			get(eth, tx.From).Sub(get(eth, tx.From), tx.Fee.ToBig())
			if !tx.Success {
				continue
			}
			for _, x := range tx.Transfers {
				if x.Reverted {
					continue
				}
				m := eth
				if x.Asset != graph.ETH {
					m = tok
				}
				if x.From != graph.ZeroAddress {
					get(m, x.From).Sub(get(m, x.From), x.Amount.ToBig())
				}
				if x.To != graph.ZeroAddress {
					get(m, x.To).Add(get(m, x.To), x.Amount.ToBig())
				}
			}
		}
	}
	head := new(big.Int).SetUint64(blocks[len(blocks)-1].Height)
	for a, want := range eth {
		if a == graph.ZeroAddress {
			continue
		}
		got := need(s.node.Client().BalanceAt(ctx, common.HexToAddress(string(a)), head))
		if got.Cmp(want) != 0 {
			t.Errorf("ETH balance of %s: node %s, normalized transfers give %s", a, got, want)
		}
	}
	tokenC := need(contracts.Load(contracts.Token))
	for a, want := range tok {
		if a == graph.ZeroAddress {
			continue
		}
		data := need(tokenC.Call("balanceOf", common.HexToAddress(string(a))))
		out := need(s.node.Client().CallContract(ctx, geth.CallMsg{To: &s.token, Data: data}, head))
		if got := new(big.Int).SetBytes(out); got.Cmp(want) != 0 {
			t.Errorf("token balance of %s: contract %s, normalized transfers give %s", a, got, want)
		}
	}
}

func TestDevChainIngest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := startNode(t, devnode.Config{})
	s := playScenario(t, ctx, n)

	// Over loopback HTTP, batched, 3 parallel workers of 2 blocks: commits stay in order.
	c := need(ethereum.Dial(ctx, n.HTTPURL(), ethereum.Options{BlocksPerBatch: 2, RequireTraces: true}))
	defer c.Close()
	st := &memStore{}
	var progress []ethereum.Progress
	res, err := ethereum.Ingest(ctx, c, st, ethereum.IngestOptions{Workers: 3, Progress: func(p ethereum.Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	blocks := st.all()
	if len(blocks) != 11 || res.From != 0 || res.To != 10 || res.Blocks != 11 {
		t.Fatalf("ingested %d blocks, result %d..%d (%d)", len(blocks), res.From, res.To, res.Blocks)
	}
	if len(res.Warnings) != 0 || res.NoTraces || res.Degraded() != nil {
		t.Errorf("warnings on a node with traces: %v", res.Warnings)
	}
	if len(progress) == 0 || progress[len(progress)-1].Height != 10 || progress[len(progress)-1].Blocks != 11 {
		t.Errorf("progress reports %+v", progress)
	}
	checkBlocks(t, ctx, s, blocks)
	checkBalances(t, ctx, s, blocks)
	t.Run("trace", func(t *testing.T) { checkTrace(t, s, blocks) })

	// Resuming with nothing new writes nothing.
	res2, err := ethereum.Ingest(ctx, c, st, ethereum.IngestOptions{})
	if err != nil || res2.Blocks != 0 || st.writes != 11 {
		t.Errorf("second run: %+v, %v, %d writes", res2, err, st.writes)
	}
}

// checkTrace replays the ingested blocks with FIFO taint: dave (source "dprk") deposits into
// the pool; bob (source "bob") funds carol and the Forwarder. Every figure is hand-computed.
func checkTrace(t *testing.T, s *scenario, blocks []*graph.Block) {
	A := addr
	eng, err := trace.NewEngine(trace.Config{
		Model: graph.Account, Method: trace.FIFO,
		Seeds:     []trace.Seed{{Address: A(s.dave.Address), Source: "dprk"}, {Address: A(s.bob.Address), Source: "bob"}},
		Exchanges: map[string][]graph.Address{"ExchA": {A(s.recipient.Address)}},
		Params:    trace.DefaultParams(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.node.Accounts() {
		if err := eng.SetBalance(A(a.Address), graph.ETH, amt(devnode.Ether(1000))); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range blocks {
		if err := eng.ApplyBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	res := eng.Result()
	// Pool: FIFO lots [dave's 1 ETH (dprk, hop 1), eve's 1 ETH clean]; the withdrawal takes
	// the oldest 0.9 to the recipient (an exchange) and 0.1 to the relayer, both at hop 2.
	ex := res.Exposure["ExchA"].Assets[graph.ETH]
	if ex == nil {
		t.Fatal("no exposure for ExchA")
	}
	if ex.TaintedTotal != amt(milliEther(900)) || ex.Indirect != amt(milliEther(900)) || !ex.Direct.IsZero() {
		t.Errorf("ExchA exposure: tainted %s indirect %s direct %s, want 0.9 ETH indirect", ex.TaintedTotal.Dec(), ex.Indirect.Dec(), ex.Direct.Dec())
	}
	wantHolding := func(a common.Address, asset graph.Asset, source string, hop uint32, amount *big.Int) {
		t.Helper()
		h := res.Holdings[string(A(a))+"|"+string(asset)]
		if h == nil {
			t.Errorf("no tainted holding %s %s", A(a), asset)
			return
		}
		if len(h.Taint) != 1 || h.Taint[0].Source != source || h.Taint[0].Hop != hop || h.Taint[0].Amount != amt(amount) {
			t.Errorf("holding %s %s taint %+v, want %s hop %d %s", A(a), asset, h.Taint, source, hop, amount)
		}
	}
	wantHolding(s.relayer.Address, graph.ETH, "dprk", 2, milliEther(100))
	// carol: 0.25 ETH from bob at hop 1 (her fees came from her older, clean units); 300
	// tokens from bob minus the 100 she burned.
	wantHolding(s.carol.Address, graph.ETH, "bob", 1, milliEther(250))
	wantHolding(s.carol.Address, graph.Asset(A(s.token)), "bob", 1, tokens(200))
	// Forwarder after spawn: lots [7 clean, 5 bob@1]; the children took 3 clean; the sweep
	// moved [4 clean, 5 bob] to alice (hop 2).
	wantHolding(s.alice.Address, graph.ETH, "bob", 2, devnode.Ether(5))
	if got := *res.Sinks.Get(graph.Asset(A(s.token)), trace.SinkBurned, "bob"); got != amt(tokens(100)) {
		t.Errorf("burned by bob: %s", got.Dec())
	}
	// Every fee a seed paid is taint into the fee sink.
	var daveFees, bobFees big.Int
	for _, b := range blocks {
		for _, tx := range b.AccountTxs {
			switch tx.From {
			case A(s.dave.Address):
				daveFees.Add(&daveFees, tx.Fee.ToBig())
			case A(s.bob.Address):
				bobFees.Add(&bobFees, tx.Fee.ToBig())
			}
		}
	}
	if got := *res.Sinks.Get(graph.ETH, trace.SinkFees, "dprk"); got != amt(&daveFees) {
		t.Errorf("dprk fees sink %s, dave paid %s", got.Dec(), &daveFees)
	}
	if got := *res.Sinks.Get(graph.ETH, trace.SinkFees, "bob"); got != amt(&bobFees) {
		t.Errorf("bob fees sink %s, bob paid %s", got.Dec(), &bobFees)
	}
	// The withdrawal's internal transfers carry the taint, with their IDs as evidence.
	var ids []string
	for id := range res.Transfers {
		if strings.Contains(id, ".t") {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		t.Error("no tainted internal transfer in the result")
	}
}

func bigInt(n uint64) *big.Int { return new(big.Int).SetUint64(n) }
