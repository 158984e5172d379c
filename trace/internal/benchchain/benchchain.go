// Package benchchain generates the deterministic UTXO history that the engine's replay
// benchmarks (trace) and the screening benchmarks (trace/screen) both replay, so that the
// figures of both packages are of one history.
package benchchain

import (
	"fmt"
	"math/rand"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// Chain is a generated history: the outputs funded before its first block, the seeds
// (outpoints among them), and the blocks.
type Chain struct {
	Funding []Funding
	Seeds   []trace.Seed
	Blocks  []graph.Block
	Units   int // transactions
}

// Funding is a generated output from before the replayed blocks.
type Funding struct {
	Outpoint graph.Outpoint
	Address  graph.Address
	Value    uint64
}

func txid(n int) string { return fmt.Sprintf("%064x", uint64(n)*0x9e3779b97f4a7c15) }

// Address is the n-th generated address.
func Address(n int) graph.Address {
	return graph.Address(fmt.Sprintf("bc1q%038x", uint64(n)*0xbf58476d1ce4e5b9))
}

// Replay applies c to a fresh engine of method with one exchange, "ex", holding Address(7).
func Replay(c *Chain, method string) (*trace.Engine, error) {
	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method, Seeds: c.Seeds, Exchanges: map[string][]graph.Address{"ex": {Address(7)}}, Params: trace.DefaultParams(), SizeHint: 2*c.Units + len(c.Funding)})
	if err != nil {
		return nil, err
	}
	for _, f := range c.Funding {
		if err := eng.Fund(f.Outpoint, f.Address, graph.NewAmount(f.Value)); err != nil {
			return nil, err
		}
	}
	for i := range c.Blocks {
		if err := eng.ApplyBlock(&c.Blocks[i]); err != nil {
			return nil, err
		}
	}
	return eng, nil
}

// UTXO generates n transactions spending 1–3 and creating 1–3 outputs (each to a
// fresh address, as Bitcoin wallets do), 2,000 per block, with a fraction tainted of the
// flow seeded. Like real spending, it favours young outputs: 90% of inputs are among the
// population's 2,000 newest. Uniformly random spending mixes hop counts far more than real
// chains do and makes per-(source, hop) compositions grow without bound.
func UTXO(n int, tainted float64) *Chain {
	r := rand.New(rand.NewSource(42))
	c := &Chain{Units: n}
	type live struct {
		op    graph.Outpoint
		addr  graph.Address
		value uint64
	}
	pools := [2][]live{}
	nf := 50_000
	addrN := 0
	for i := 0; i < nf; i++ {
		op := graph.Outpoint{TxID: txid(1<<40 + i)}
		a := Address(addrN)
		addrN++
		l := live{op, a, 1_000_000 + uint64(r.Intn(100_000_000))}
		c.Funding = append(c.Funding, Funding{op, a, l.value})
		p := 1
		if float64(i) < tainted*float64(nf) {
			p = 0
			o := op
			c.Seeds = append(c.Seeds, trace.Seed{Outpoint: &o, Source: fmt.Sprintf("incident-%d", i%3)})
		}
		pools[p] = append(pools[p], l)
	}
	var blk *graph.Block
	for i := 0; i < n; i++ {
		if i%2000 == 0 {
			c.Blocks = append(c.Blocks, graph.Block{Chain: graph.Bitcoin, Height: uint64(len(c.Blocks) + 1)})
			blk = &c.Blocks[len(c.Blocks)-1]
			blk.UTXOTxs = make([]graph.UTXOTx, 0, 2000)
		}
		p := 1
		if r.Float64() < tainted {
			p = 0
		}
		if len(pools[p]) < 4 {
			p = 1 - p
		}
		tx := graph.UTXOTx{TxID: txid(i), Index: uint32(len(blk.UTXOTxs))}
		nin := 1 + r.Intn(3)
		var sum uint64
		tx.Inputs = make([]graph.TxIn, 0, nin)
		for k := 0; k < nin; k++ {
			// Most outputs are spent young: 90% of inputs come from the 2,000 most recent
			// outputs of the population, the rest from anywhere in it.
			j := r.Intn(len(pools[p]))
			if r.Intn(10) != 0 {
				j = len(pools[p]) - 1 - r.Intn(min(2000, len(pools[p])))
			}
			l := pools[p][j]
			pools[p][j] = pools[p][len(pools[p])-1]
			pools[p] = pools[p][:len(pools[p])-1]
			tx.Inputs = append(tx.Inputs, graph.TxIn{Prev: l.op, Address: l.addr, Value: graph.NewAmount(l.value), Resolved: true})
			sum += l.value
		}
		fee := uint64(200 + r.Intn(2000))
		if fee > sum {
			fee = sum
		}
		rest := sum - fee
		nout := 1 + r.Intn(3)
		tx.Outputs = make([]graph.TxOut, 0, nout)
		for k := 0; k < nout; k++ {
			v := rest
			if k < nout-1 {
				v = rest / 2
			}
			rest -= v
			a := Address(addrN)
			addrN++
			tx.Outputs = append(tx.Outputs, graph.TxOut{Address: a, Value: graph.NewAmount(v)})
			pools[p] = append(pools[p], live{graph.Outpoint{TxID: tx.TxID, Index: uint32(k)}, a, v})
		}
		blk.UTXOTxs = append(blk.UTXOTxs, tx)
	}
	return c
}

// genAccountChain generates n transfers: transactions of one ETH call transfer plus its
// gas fee (two transfers), 1,000 transactions per block, among 100,000 accounts of which a
