package trace

import (
	"runtime"
	"sync/atomic"

	"github.com/chaintrace/chaintrace/graph"
)

// blockPrep is the part of a UTXO block's replay that does not depend on taint: the
// binary UTXO keys of the inputs and of each transaction's outputs, and the numbers of
// the outputs' addresses in the address table. It is about a third of replaying a block
// whose transactions are mostly clean (hashing and cache misses in two big tables). With
// two or more cores ApplyBlock runs it on a goroutine of its own, ahead of the
// transactions it is for, while the engine applies them in order.
//
// While a prep runs it owns the address table: the engine reads only what the prep has
// published (ready) and waits for the prep to finish before it touches the table itself
// (an input from before the replayed window interns its address). Address numbers then
// follow the prep's order, not the engine's; nothing depends on them but the engine's own
// tables, and results are keyed by address text.
type blockPrep struct {
	inKeys   []opKey // per input of the block, in order
	inStart  []int32 // per transaction: its first entry in inKeys
	txKey    []opKey // per transaction: its txid's key (output index 0)
	outAddr  []int32 // per output of the block, in order
	outStart []int32 // per transaction: its first entry in outAddr

	ready    atomic.Int32 // transactions prepared and published
	stop     atomic.Bool  // the engine gave up on the block: stop early
	done     chan struct{}
	finished bool // done has been received (engine side)
}

// minPrepTxs is the smallest block worth a goroutine: below it the handoff costs more
// than the overlap gains.
const minPrepTxs = 64

// startPrep starts preparing b on its own goroutine when that can pay off (two or more
// cores, a big enough block), and returns nil otherwise: the engine then does the work
// inline, as one goroutine.
func (e *Engine) startPrep(b *graph.Block) *blockPrep {
	if e.prepOff || len(b.UTXOTxs) < minPrepTxs || runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	p := e.prepBuf
	if p == nil {
		p = &blockPrep{}
		e.prepBuf = p
	}
	nIn, nOut := 0, 0
	for i := range b.UTXOTxs {
		nIn += len(b.UTXOTxs[i].Inputs)
		nOut += len(b.UTXOTxs[i].Outputs)
	}
	// Sized before the goroutine starts and never grown while it runs, so that the
	// engine can read published entries while the prep writes later ones.
	n := len(b.UTXOTxs)
	p.inKeys = grow(p.inKeys, nIn)
	p.outAddr = grow(p.outAddr, nOut)
	p.inStart = grow(p.inStart, n)
	p.outStart = grow(p.outStart, n)
	p.txKey = grow(p.txKey, n)
	p.ready.Store(0)
	p.stop.Store(false)
	p.done = make(chan struct{})
	p.finished = false
	go p.run(&e.addrTab, b.UTXOTxs)
	return p
}

// grow returns s with length n, reusing its memory when it is big enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (p *blockPrep) run(tab *addrTable, txs []graph.UTXOTx) {
	defer close(p.done)
	in, out := int32(0), int32(0)
	for i := range txs {
		if p.stop.Load() {
			return
		}
		tx := &txs[i]
		p.inStart[i], p.outStart[i] = in, out
		for k := range tx.Inputs {
			p.inKeys[in] = keyOf(tx.Inputs[k].Prev)
			in++
		}
		p.txKey[i] = keyOf(graph.Outpoint{TxID: tx.TxID})
		for k := range tx.Outputs {
			p.outAddr[out], _ = tab.intern(tx.Outputs[k].Address)
			out++
		}
		p.ready.Store(int32(i + 1))
	}
}

// await waits until transaction i is prepared.
func (p *blockPrep) await(i int) {
	for int(p.ready.Load()) <= i {
		runtime.Gosched()
	}
}

// finish waits for the prep goroutine to end; afterwards the engine owns the address
// table again. stop makes it end early (the block failed).
func (p *blockPrep) finish(stop bool) {
	if p == nil || p.finished {
		return
	}
	if stop {
		p.stop.Store(true)
	}
	<-p.done
	p.finished = true
}

// txPrep is what the engine uses of one transaction's prep: nil fields when there is
// no prep (the engine computes them inline).
type txPrep struct {
	inKeys  []opKey
	txKey   opKey
	outAddr []int32
	ok      bool
}

// tx returns transaction i's prepared keys and address numbers, waiting for them.
func (p *blockPrep) tx(i int, tx *graph.UTXOTx) txPrep {
	p.await(i)
	a, o := p.inStart[i], p.outStart[i]
	return txPrep{
		inKeys:  p.inKeys[a : a+int32(len(tx.Inputs))],
		txKey:   p.txKey[i],
		outAddr: p.outAddr[o : o+int32(len(tx.Outputs))],
		ok:      true,
	}
}
