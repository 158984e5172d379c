package simcase

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/chains/bitcoin/regnode"
	"github.com/chaintrace/chaintrace/chains/ethereum/contracts"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace/report"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Source is the seed source (incident) name the case's exploiter carries.
const Source = "simulated-heist"

// Exchange names of the case.
const (
	ExchangeA = "SimEx A (simulated)"
	ExchangeB = "SimEx B (simulated)"
	ExchangeC = "SimEx C (simulated)"
	// ExchangeD takes Bitcoin only; SimEx B takes both.
	ExchangeD = "SimEx D (simulated)"
)

// ThorchainETH is the ETH the swapper sends through THORChain to Bitcoin.
const ThorchainETH = 150

// Notice is the sentence every output built from this case must carry.
const Notice = "SIMULATION: the bundled case is played on in-process Ethereum and Bitcoin chains; its addresses, attributions and amounts are invented for demonstration and are not real events."

// labelDocument is the source document of the case's labels.
const labelDocument = "chaintrace simulated case (examples/trace/simcase): invented attribution, NOT a real one"

// Case is a played simulation.
type Case struct {
	Node *devnode.Node
	// Roles maps a role name ("exploiter", "pool", "swap", "sETH", "relayer", "mule", …) to
	// its address.
	Roles map[string]graph.Address
	// Labels are the case's own attributions: the exploiter (actor, DPRK nexus), the
	// exchanges' deposit and hot-wallet addresses, the mixer pool, its relayer, the swap pool.
	Labels []labels.Label
	// Genesis holds the ETH every pre-funded account had at block 0, the replay's initial
	// balances (everything else starts empty).
	Genesis map[graph.Address]graph.Amount
	// Head is the last block of the case.
	Head uint64
	// Expect lists exposure figures computed by hand from the story (see Expected.Why).
	Expect []Expected
	// Tokens names the case's token contracts (symbol, decimals) for the report.
	Tokens report.Assets

	// BTC is the in-process Bitcoin regtest node the case's Bitcoin side is played on
	// (its JSON-RPC on a loopback port); BTCHead its last block.
	BTC     *regnode.Node
	BTCHead uint64
	// ThorchainInbound is the Ethereum transaction that sent ETH through THORChain (0x
	// hex); the Bitcoin outbound's memo names it.
	ThorchainInbound string
	// ThorchainOutbound is the Bitcoin transaction THORChain's vault paid the swap with.
	ThorchainOutbound string
}

// Expected is a hand-computed exposure figure of one exchange in one asset under one method.
type Expected struct {
	Exchange, Method string
	Asset            graph.Asset
	Received         graph.Amount
	Tainted          graph.Amount
	Direct           graph.Amount
	// Tolerance is how far the engine may be from Tainted: haircut rounds every transfer to
	// whole wei (Hamilton, spec §6) while the hand figure is the exact proportion.
	Tolerance graph.Amount
	Why       string
}

// Close stops both nodes.
func (c *Case) Close() error {
	var errs []error
	if c.BTC != nil {
		errs = append(errs, c.BTC.Close())
	}
	return errors.Join(append(errs, c.Node.Close())...)
}

// Options tune Play.
type Options struct {
	// Step, if set, is told the number of blocks sealed so far and the total (for a progress
	// display).
	Step func(done, total int)
	// HTTP serves the node's JSON-RPC on a loopback port too (Node.HTTPURL), for clients
	// outside the process; by default the node is reachable in-process only.
	HTTP bool
}

// Blocks is the number of Ethereum blocks the case seals.
const Blocks = 9

type player struct {
	ctx   context.Context
	n     *devnode.Node
	opts  Options
	done  int
	token *contracts.Contract
	pool  *contracts.Contract
	sent  int // transactions sent for the block being built
	err   error
	// lastTime is the time of the block sealed last.
	lastTime time.Time
}

// derive returns the account whose key is keccak256("chaintrace simcase " + name).
func derive(name string) (*devnode.Account, error) {
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte("chaintrace simcase " + name)))
	if err != nil {
		return nil, fmt.Errorf("simcase: key %s: %w", name, err)
	}
	return &devnode.Account{Key: key, Address: crypto.PubkeyToAddress(key.PublicKey)}, nil
}

func addr(a common.Address) graph.Address { return graph.Address(strings.ToLower(a.Hex())) }

func milli(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }

func amount(b *big.Int) graph.Amount {
	var a graph.Amount
	a.SetFromBig(b)
	return a
}

func (p *player) send(from *devnode.Account, tx devnode.Tx) *types.Transaction {
	if p.err != nil {
		return nil
	}
	t, err := p.n.Send(p.ctx, from, tx)
	if err != nil {
		p.err = err
		return nil
	}
	p.sent++
	return t
}

func (p *player) call(c *contracts.Contract, method string, args ...any) []byte {
	data, err := c.Call(method, args...)
	if err != nil && p.err == nil {
		p.err = err
	}
	return data
}

// commit seals the block once the pool holds every transaction sent for it (the pool
// admits transactions asynchronously; sealing earlier would move some to a later block and
// change the case), and checks that the block holds them all.
func (p *player) commit() {
	if p.err != nil {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var status struct{ Pending, Queued hexutil.Uint }
		if err := p.n.RPC().CallContext(p.ctx, &status, "txpool_status"); err != nil {
			p.err = fmt.Errorf("simcase: txpool status: %w", err)
			return
		}
		if int(status.Pending) >= p.sent {
			break
		}
		if time.Now().After(deadline) {
			p.err = fmt.Errorf("simcase: block %d: the pool holds %d of %d transactions after 30 s", p.done+1, status.Pending, p.sent)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	b, err := p.n.Commit(p.ctx)
	if err != nil {
		p.err = err
		return
	}
	p.lastTime = time.Unix(int64(b.Time()), 0)
	if len(b.Transactions()) != p.sent {
		p.err = fmt.Errorf("simcase: block %d holds %d transactions, %d were sent", b.NumberU64(), len(b.Transactions()), p.sent)
		return
	}
	p.sent = 0
	// The next transactions are estimated on the latest block and validated by the pool
	// against its own view of the chain, which it updates asynchronously: wait until the
	// head is this block and the pool has dropped the transactions it holds.
	for {
		h, err := p.n.Client().BlockNumber(p.ctx)
		if err != nil {
			p.err = err
			return
		}
		var status struct{ Pending, Queued hexutil.Uint }
		if err := p.n.RPC().CallContext(p.ctx, &status, "txpool_status"); err != nil {
			p.err = fmt.Errorf("simcase: txpool status: %w", err)
			return
		}
		if h >= b.NumberU64() && status.Pending == 0 && status.Queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			p.err = fmt.Errorf("simcase: block %d sealed but the head is still %d after 30 s", b.NumberU64(), h)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.done++
	if p.opts.Step != nil {
		p.opts.Step(p.done, Blocks)
	}
}

// fee returns gasUsed × effectiveGasPrice of a sealed transaction.
func (p *player) fee(tx *types.Transaction) *big.Int {
	if p.err != nil || tx == nil {
		return new(big.Int)
	}
	r, err := p.n.Receipt(p.ctx, tx.Hash())
	if err != nil {
		p.err = err
		return new(big.Int)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		p.err = fmt.Errorf("simcase: transaction %s failed", tx.Hash())
	}
	return new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
}

// Play starts an in-process dev chain (no HTTP endpoint) and plays the case on it. The caller
// closes the returned Case.
func Play(ctx context.Context, opts Options) (*Case, error) {
	n, err := devnode.Start(ctx, devnode.Config{Accounts: 6, Balance: devnode.Ether(5000), NoHTTP: !opts.HTTP})
	if err != nil {
		return nil, err
	}
	c, err := play(ctx, n, opts)
	if err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return c, nil
}

func play(ctx context.Context, n *devnode.Node, opts Options) (*Case, error) {
	p := &player{ctx: ctx, n: n, opts: opts}
	load := func(name string) *contracts.Contract {
		c, err := contracts.Load(name)
		if err != nil && p.err == nil {
			p.err = err
		}
		return c
	}
	p.token, p.pool = load(contracts.Token), load(contracts.Pool)
	weth, pair, router, thor := load(contracts.WETH9), load(contracts.PairV2), load(contracts.RouterV2), load(contracts.THORChainRouter)
	if p.err != nil {
		return nil, p.err
	}

	deployer, victim := n.Account(0), n.Account(1)
	clean := []*devnode.Account{n.Account(2), n.Account(3), n.Account(4), n.Account(5)}
	accs := map[string]*devnode.Account{}
	need := func(name string) *devnode.Account {
		if a, ok := accs[name]; ok {
			return a
		}
		a, err := derive(name)
		if err != nil && p.err == nil {
			p.err = err
		}
		if a == nil {
			a = &devnode.Account{}
		}
		accs[name] = a
		return a
	}
	X, S, R, M := need("exploiter"), need("swapper"), need("relayer"), need("mule")
	vault := need("thorchain-eth-vault")
	W := make([]*devnode.Account, 30)
	for i := range W {
		W[i] = need(fmt.Sprintf("wallet-%02d", i+1))
	}
	depA := make([]*devnode.Account, 6)
	depB := make([]*devnode.Account, 6)
	depC := make([]*devnode.Account, 3)
	for i := range depA {
		depA[i] = need(fmt.Sprintf("simex-a-deposit-%d", i+1))
	}
	for i := range depB {
		depB[i] = need(fmt.Sprintf("simex-b-deposit-%d", i+1))
	}
	for i := range depC {
		depC[i] = need(fmt.Sprintf("simex-c-deposit-%d", i+1))
	}
	hotA, hotB, hotC := need("simex-a-hot"), need("simex-b-hot"), need("simex-c-hot")
	peel := make([][3]*devnode.Account, 10)
	for k := range peel {
		for j := 0; j < 3; j++ {
			peel[k][j] = need(fmt.Sprintf("peel-%02d-%d", k+1, j+1))
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	btc := newBitcoinRoles()

	// Block 1: the deployer creates the token, the mixer pool, the wrapper (WETH9), an
	// sETH/WETH pair and its router (Uniswap V2 style) and a THORChain router.
	deploy := func(c *contracts.Contract, args ...any) common.Address {
		if p.err != nil {
			return common.Address{}
		}
		data, err := c.DeployData(args...)
		if err != nil {
			p.err = err
			return common.Address{}
		}
		a, _, err := n.Deploy(ctx, deployer, data, nil)
		if err != nil {
			p.err = err
			return common.Address{}
		}
		p.sent++
		return a
	}
	tokenAddr := deploy(p.token, "Simulated staked ETH", "sETH")
	poolAddr := deploy(p.pool)
	wethAddr := deploy(weth)
	pairAddr := deploy(pair, tokenAddr, wethAddr)
	routerAddr := deploy(router)
	thorAddr := deploy(thor)
	p.commit()

	// Block 2: liquidity for the pair (1000 sETH; 1000 ETH wrapped, which it gets in block
	// 3), tokens for the victim, clean traffic.
	p.send(deployer, devnode.Tx{To: &tokenAddr, Data: p.call(p.token, "mint", victim.Address, devnode.Ether(300))})
	p.send(deployer, devnode.Tx{To: &tokenAddr, Data: p.call(p.token, "mint", pairAddr, devnode.Ether(1000))})
	p.send(deployer, devnode.Tx{To: &wethAddr, Value: devnode.Ether(1000), Data: p.call(weth, "deposit")})
	note := 0
	secret := func(i int) [32]byte {
		return crypto.Keccak256Hash([]byte(fmt.Sprintf("chaintrace simcase note %d", i)))
	}
	commitment := func(i int) [32]byte { s := secret(i); return crypto.Keccak256Hash(s[:]) }
	for _, u := range clean[:2] {
		for j := 0; j < 5; j++ {
			p.send(u, devnode.Tx{To: &poolAddr, Value: devnode.Ether(1), Data: p.call(p.pool, "deposit", commitment(note))})
			note++
		}
	}
	p.send(clean[2], devnode.Tx{To: &depA[0].Address, Value: devnode.Ether(30)})
	p.send(clean[3], devnode.Tx{To: &depB[0].Address, Value: devnode.Ether(40)})
	p.send(clean[2], devnode.Tx{To: &depC[0].Address, Value: devnode.Ether(25)})
	p.send(clean[3], devnode.Tx{To: &M.Address, Value: devnode.Ether(6)})
	p.send(clean[0], devnode.Tx{To: &R.Address, Value: devnode.Ether(1)})
	p.commit()

	// Block 3: the pair's WETH and its reserves; the theft.
	p.send(deployer, devnode.Tx{To: &wethAddr, Data: p.call(weth, "transfer", pairAddr, devnode.Ether(1000))})
	p.send(deployer, devnode.Tx{To: &pairAddr, Data: p.call(pair, "sync")})
	p.send(victim, devnode.Tx{To: &X.Address, Value: devnode.Ether(400)})
	p.send(victim, devnode.Tx{To: &tokenAddr, Data: p.call(p.token, "transfer", X.Address, devnode.Ether(200))})
	p.commit()

	// Block 4: the fan-out into 30 wallets, a direct deposit, the swapper's tokens and gas.
	for _, w := range W {
		p.send(X, devnode.Tx{To: &w.Address, Value: devnode.Ether(10)})
	}
	p.send(X, devnode.Tx{To: &depC[2].Address, Value: devnode.Ether(2)})
	p.send(X, devnode.Tx{To: &S.Address, Value: devnode.Ether(1)})
	p.send(X, devnode.Tx{To: &tokenAddr, Data: p.call(p.token, "transfer", S.Address, devnode.Ether(200))})
	p.commit()

	// Block 5: mixer deposits (20 notes from W1..W4), the first peel hop, the mule's taint,
	// the swapper's approval of the router.
	firstTainted := note
	for _, w := range W[:4] {
		for j := 0; j < 5; j++ {
			p.send(w, devnode.Tx{To: &poolAddr, Value: devnode.Ether(1), Data: p.call(p.pool, "deposit", commitment(note))})
			note++
		}
	}
	for k := range peel {
		p.send(W[4+k], devnode.Tx{To: &peel[k][0].Address, Value: devnode.Ether(9)})
	}
	p.send(W[14], devnode.Tx{To: &M.Address, Value: devnode.Ether(4)})
	p.send(S, devnode.Tx{To: &tokenAddr, Data: p.call(p.token, "approve", routerAddr, devnode.Ether(200))})
	p.commit()

	// Block 6: the swap (200 sETH for WETH through the pair), the second peel hop, the
	// mule's deposit.
	p.send(S, devnode.Tx{To: &routerAddr, Data: p.call(router, "swapExactTokensForTokens", devnode.Ether(200), tokenAddr, []common.Address{pairAddr}, S.Address)})
	for k := range peel {
		p.send(peel[k][0], devnode.Tx{To: &depB[1+k%4].Address, Value: devnode.Ether(1)})
		p.send(peel[k][0], devnode.Tx{To: &peel[k][1].Address, Value: devnode.Ether(7)})
	}
	muleTx := p.send(M, devnode.Tx{To: &depB[5].Address, Value: devnode.Ether(5)})
	p.commit()
	wethOut := swapOut(devnode.Ether(200), devnode.Ether(1000), devnode.Ether(1000))

	// Block 7: the relayer withdraws 15 tainted depositors' notes into SimEx A's deposit
	// addresses; the third peel hop; the swapper unwraps its WETH.
	for i := 0; i < 15; i++ {
		to := depA[1+i%5].Address
		p.send(R, devnode.Tx{To: &poolAddr, Data: p.call(p.pool, "withdraw", secret(firstTainted+i), to, R.Address, milli(10))})
	}
	for k := range peel {
		p.send(peel[k][1], devnode.Tx{To: &depB[1+k%4].Address, Value: devnode.Ether(1)})
		p.send(peel[k][1], devnode.Tx{To: &peel[k][2].Address, Value: devnode.Ether(5)})
	}
	p.send(S, devnode.Tx{To: &wethAddr, Data: p.call(weth, "withdraw", wethOut)})
	p.commit()

	// Block 8: the swapper sends 150 ETH through THORChain to Bitcoin (the router's
	// deposit into the vault, memo "=:BTC.BTC:<address>"); the last peel; the exchanges
	// sweep their deposit addresses to their hot wallets (movements inside one exchange:
	// not received).
	memo := "=:BTC.BTC:" + btc.launder[0].P2PKH()
	thorIn := p.send(S, devnode.Tx{To: &thorAddr, Value: devnode.Ether(ThorchainETH), Data: p.call(thor, "deposit", vault.Address, common.Address{}, devnode.Ether(ThorchainETH), memo)})
	for k := range peel {
		p.send(peel[k][2], devnode.Tx{To: &depB[1+k%4].Address, Value: devnode.Ether(1)})
	}
	sweep := func(deps []*devnode.Account, hot *devnode.Account) {
		for _, d := range deps {
			if p.err != nil {
				return
			}
			bal, err := n.Client().BalanceAt(ctx, d.Address, nil)
			if err != nil {
				p.err = err
				return
			}
			if bal.Cmp(milli(1)) <= 0 {
				continue
			}
			p.send(d, devnode.Tx{To: &hot.Address, Value: new(big.Int).Sub(bal, milli(1))})
		}
	}
	sweep(depA, hotA)
	sweep(depB, hotB)
	sweep(depC, hotC)
	p.commit()
	thorTime := p.lastTime

	// Block 9: SimEx B pays a customer out of its hot wallet (clean: the exchange absorbed
	// the taint that reached it).
	p.send(hotB, devnode.Tx{To: &clean[1].Address, Value: devnode.Ether(10)})
	p.commit()
	if p.err != nil {
		return nil, p.err
	}
	head, err := n.Client().BlockNumber(ctx)
	if err != nil {
		return nil, err
	}

	c := &Case{Node: n, Roles: map[string]graph.Address{}, Genesis: map[graph.Address]graph.Amount{}, Head: head}
	for name, a := range accs {
		c.Roles[name] = addr(a.Address)
	}
	c.Roles["victim"], c.Roles["deployer"] = addr(victim.Address), addr(deployer.Address)
	c.Roles["pool"], c.Roles["sETH"], c.Roles["WETH"] = addr(poolAddr), addr(tokenAddr), addr(wethAddr)
	c.Roles["pair"], c.Roles["router"], c.Roles["thorchain-router"] = addr(pairAddr), addr(routerAddr), addr(thorAddr)
	c.Tokens = report.Assets{graph.Asset(addr(tokenAddr)): {Symbol: "sETH", Decimals: 18}, graph.Asset(addr(wethAddr)): {Symbol: "WETH (simulated)", Decimals: 18}}
	for i, a := range n.Accounts() {
		c.Genesis[addr(a.Address)] = amount(devnode.Ether(5000))
		if i >= 2 {
			c.Roles[fmt.Sprintf("customer-%d", i-1)] = addr(a.Address)
		}
	}
	if thorIn != nil {
		c.ThorchainInbound = strings.ToLower(thorIn.Hash().Hex())
	}
	c.Labels = caseLabels(c, depA, depB, depC, hotA, hotB, hotC, R)
	c.Expect = expectations(p, muleTx)
	if p.err != nil {
		return nil, p.err
	}
	// The Bitcoin side: THORChain's vault pays the swap out, and the launderers peel it
	// into exchange deposits.
	if err := playBitcoin(ctx, c, btc, thorIn, thorTime); err != nil {
		return nil, err
	}
	return c, nil
}

// swapOut is what a Uniswap V2 pair pays for amountIn at reserves rIn, rOut (0.3 % fee),
// as RouterV2.getAmountOut computes it.
func swapOut(amountIn, rIn, rOut *big.Int) *big.Int {
	withFee := new(big.Int).Mul(amountIn, big.NewInt(997))
	num := new(big.Int).Mul(withFee, rOut)
	den := new(big.Int).Add(new(big.Int).Mul(rIn, big.NewInt(1000)), withFee)
	return num.Div(num, den)
}

func caseLabels(c *Case, depA, depB, depC []*devnode.Account, hotA, hotB, hotC, relayer *devnode.Account) []labels.Label {
	src := labels.Source{Document: labelDocument}
	mk := func(a graph.Address, entity, name string, cat labels.Category) labels.Label {
		return labels.Label{Chain: graph.Ethereum, Address: a, Entity: entity, Name: name, Category: cat,
			Confidence: labels.ConfidenceOwnership, Source: src}
	}
	x := mk(c.Roles["exploiter"], "SIMULATED Lazarus Group", "exploiter (simulated)", labels.CategoryActor)
	x.Nexus, x.Incident, x.Role = labels.NexusDPRK, Source, "primary exploiter address (simulated)"
	ls := []labels.Label{x}
	ex := func(entity string, deps []*devnode.Account, hot *devnode.Account) {
		for i, d := range deps {
			ls = append(ls, mk(addr(d.Address), entity, fmt.Sprintf("deposit address %d", i+1), labels.CategoryExchange))
		}
		ls = append(ls, mk(addr(hot.Address), entity, "hot wallet", labels.CategoryExchange))
	}
	ex(ExchangeA, depA, hotA)
	ex(ExchangeB, depB, hotB)
	ex(ExchangeC, depC, hotC)
	ls = append(ls,
		mk(c.Roles["pool"], "SimMixer (simulated)", "1 ETH pool", labels.CategoryMixer),
		mk(addr(relayer.Address), "SimMixer (simulated)", "relayer", labels.CategoryService),
		mk(c.Roles["pair"], "SimSwap (simulated)", "sETH/WETH pair", labels.CategoryDEX),
		mk(c.Roles["router"], "SimSwap (simulated)", "router", labels.CategoryDeFi),
		mk(c.Roles["sETH"], "SimSwap (simulated)", "sETH token", labels.CategoryDeFi),
		mk(c.Roles["WETH"], "WETH (simulated)", "wrapper", labels.CategoryWrapper),
		mk(c.Roles["thorchain-router"], "THORChain (simulated)", "Ethereum router", labels.CategoryThorchain),
		mk(c.Roles["thorchain-eth-vault"], "THORChain (simulated)", "Ethereum vault", labels.CategoryThorchain),
		mk(c.Roles["victim"], "SimBit (simulated victim)", "cold wallet", labels.CategoryOther),
	)
	return ls
}

// expectations computes the Ethereum exchanges' exposure figures by hand from the story
// and the fees the receipts report. Units are wei. The reasoning for each is in Why.
func expectations(p *player, muleTx *types.Transaction) []Expected {
	eth := func(n int64) *big.Int { return devnode.Ether(n) }
	fM := p.fee(muleTx)
	sum := func(xs ...*big.Int) *big.Int {
		s := new(big.Int)
		for _, x := range xs {
			s.Add(s, x)
		}
		return s
	}
	sub := func(a *big.Int, bs ...*big.Int) *big.Int { return new(big.Int).Sub(a, sum(bs...)) }
	mk := func(ex, method string, received, tainted, direct, tol *big.Int, why string) Expected {
		return Expected{Exchange: ex, Method: method, Asset: graph.ETH, Received: amount(received), Tainted: amount(tainted),
			Direct: amount(direct), Tolerance: amount(tol), Why: why}
	}
	zero := new(big.Int)
	// SimEx A: 30 ETH clean + 15 withdrawals of 0.99 ETH; the pool held 10 clean notes
	// (older) and 20 tainted ones.
	recvA := sum(eth(30), milli(14850))
	// SimEx B: 40 ETH clean, 30 peels of 1 ETH from wallets holding only taint, and the
	// mule's 5 ETH out of 6 clean (older) + 4 tainted (newer), after its fee fM.
	recvB := eth(75)
	// SimEx C: 25 ETH clean and 2 ETH direct from the exploiter (the swapper's ETH went
	// through THORChain to Bitcoin instead).
	recvC := eth(27)
	var out []Expected
	for _, m := range []string{"fifo", "haircut", "lifo"} {
		out = append(out, mk(ExchangeC, m, recvC, eth(2), eth(2), zero, "2 ETH straight from the exploiter (hop 1); the rest is clean"))
	}
	return append([]Expected{
		mk(ExchangeA, "fifo", recvA, milli(4950), zero, zero,
			"pool lots: 10 clean notes, then 20 tainted; withdrawals 1-10 take the clean ones, 11-15 five tainted notes: 5 x 0.99 ETH at hop 3"),
		mk(ExchangeA, "haircut", recvA, milli(9900), zero, big.NewInt(30),
			"the pool is 2/3 tainted and stays so: 15 x 0.99 x 2/3 = 9.9 ETH, up to 1 wei of rounding per transfer"),
		mk(ExchangeA, "lifo", recvA, milli(14850), zero, zero, "the newest notes are the tainted ones: all 15 withdrawals"),
		mk(ExchangeB, "fifo", recvB, eth(30), zero, zero,
			"30 peels of 1 ETH, fully tainted; the mule's fee and 5 ETH come from its 6 older clean ETH"),
		mk(ExchangeB, "haircut", recvB, eth(32), zero, zero,
			"30 peels + the mule's 5 ETH at its 4/10 tainted share (its 21000-gas fee keeps the share exact): 2 ETH"),
		mk(ExchangeB, "lifo", recvB, sub(eth(34), fM), zero, zero,
			"30 peels + the mule's newest units: its fee, then 4 ETH less the fee, are tainted"),
	}, out...)
}
