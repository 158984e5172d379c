package exact

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// sinks lists every sink in the order results list them.
var sinks = []trace.Sink{
	trace.SinkFees, trace.SinkBurned, trace.SinkExchangeAbsorbed, trace.SinkReturnedToSeed,
	trace.SinkPrunedDust, trace.SinkPrunedHops, trace.SinkOverridden, trace.SinkLinkedOut, trace.SinkVenueUnlinked,
}

// addrInfo is what the engine knows about one address: its role and its receipts.
type addrInfo struct {
	seedSrc  uint32 // source of the first address seed; 0 = not a seed address
	seedIdx  int    // that seed's index in Config.Seeds
	exchange int    // exchange label index; -1 = none
	received *big.Int
	tainted  *big.Rat
	receives bool
	venue    bool // a venue (spec §15.1): it converts value and holds no taint
}

// utxo is an unspent output.
type utxo struct {
	addr  graph.Address
	value graph.Amount
	st    composition // nil when clean
}

type holdKey struct {
	addr  graph.Address
	asset graph.Asset
}

// holding is an account's balance of one asset. The balance is a big.Int: exact mode has
// no width limit, so it never wraps.
type holding struct {
	addr     graph.Address
	asset    graph.Asset
	bal      *big.Int
	st       composition
	received *big.Int
	tainted  *big.Rat
	receives bool
}

// feeEntry is one transaction's fee waiting for the block's coinbase (Params.TaintFee).
type feeEntry struct {
	st    composition
	value graph.Amount
}

// Engine replays blocks under haircut or an ordered method in exact rational arithmetic.
// Create it with New.
// It is not safe for concurrent use.
type Engine struct {
	cfg      trace.Config
	sources  []string // sources[0] is "" (CLEAN)
	srcID    map[string]uint32
	exLabels []string

	addrs     map[graph.Address]*addrInfo
	utxos     map[graph.Outpoint]*utxo
	opSeeds   map[graph.Outpoint][]int
	holds     map[holdKey]*holding
	holdOrder []*holding // in order of creation, so that results are built deterministically
	xferSeeds map[string][]int

	seedUsed  []bool
	txTainted bool // the account transaction being applied has a tainted debit
	// Per asset (spec v2 A.1: every aggregate is per asset): the taint each source
	// brought in, and each sink's taint per source. A UTXO chain has one asset, graph.BTC.
	injected map[graph.Asset][]*big.Rat
	sinks    map[graph.Asset]map[trace.Sink][]*big.Rat
	curAsset graph.Asset // the asset of the movement being applied

	exposure []exposureAcc
	// Tainted movements as they arrived, by reference; a reference recorded twice keeps
	// its last record, as in trace.
	outputs   map[string]*Output
	transfers map[string]*TransferTaint

	// Links (spec §15): the book (shared by the engines of a Multi), this chain's legs
	// (reference → link index), the legs met, and the taint links carried in per asset.
	links    *linkBook
	inLegs   map[string]int
	outLegs  map[string]int
	legSeen  map[string]bool
	linkedIn map[graph.Asset][]*big.Rat

	// seq: the method keeps lot sequences (FIFO, LIFO, TIHO, seniority), CLEAN lots
	// included, instead of haircut's compositions (see sequence.go).
	seq bool

	started bool
	last    graph.Position
	stats   trace.Stats
	fees    []feeEntry // TaintFee: this block's fees, for its coinbase
}

// New returns an exact-mode engine for cfg. cfg.Method is trace.Haircut or one of the
// ordered methods (trace.FIFO, trace.LIFO, trace.Seniority, trace.TIHO), which keep lot
// sequences: they never round without links, but a link's exact rescaling (§15.5) makes
// their lots fractions of units. Poison never does arithmetic: use trace.NewEngine for it.
// The configuration is validated by trace.NewEngine itself, so both accept and refuse
// the same, with the same errors (wrapping trace.ErrBadConfig).
func New(cfg trace.Config) (*Engine, error) {
	if err := checkMethod(cfg.Method); err != nil {
		return nil, err
	}
	if _, err := trace.NewEngine(cfg); err != nil {
		return nil, err
	}
	var lb *linkBook
	if len(cfg.Links) > 0 {
		lb = newLinkBook(cfg.Links)
	}
	return newEngine(cfg, lb), nil
}

// newEngine builds the tables of an engine for a configuration trace has validated;
// lb is its link book (nil: none). cfg.Seeds may name other chains (a Multi lists every
// seed in every engine, so that all share one source table): only cfg.Chain's apply.
func newEngine(cfg trace.Config, lb *linkBook) *Engine {
	// cfg is valid: what follows only builds the tables.
	e := &Engine{
		cfg:       cfg,
		srcID:     map[string]uint32{},
		addrs:     map[graph.Address]*addrInfo{},
		utxos:     map[graph.Outpoint]*utxo{},
		opSeeds:   map[graph.Outpoint][]int{},
		holds:     map[holdKey]*holding{},
		xferSeeds: map[string][]int{},
		injected:  map[graph.Asset][]*big.Rat{},
		sinks:     map[graph.Asset]map[trace.Sink][]*big.Rat{},
		outputs:   map[string]*Output{},
		transfers: map[string]*TransferTaint{},
		linkedIn:  map[graph.Asset][]*big.Rat{},
	}
	// Sources in bytewise name order, so that comparing ids compares names.
	names := map[string]bool{}
	for _, s := range cfg.Seeds {
		names[s.Source] = true
	}
	e.sources = append(e.sources, "")
	for n := range names {
		e.sources = append(e.sources, n)
	}
	sort.Strings(e.sources[1:])
	for i, n := range e.sources[1:] {
		e.srcID[n] = uint32(i + 1)
	}
	if cfg.Model == graph.UTXO {
		e.curAsset = graph.BTC // a UTXO chain's one asset
	}
	e.seq = cfg.Method != trace.Haircut
	e.seedUsed = make([]bool, len(cfg.Seeds))

	// Exchanges, in label order.
	for l := range cfg.Exchanges {
		e.exLabels = append(e.exLabels, l)
	}
	sort.Strings(e.exLabels)
	e.exposure = make([]exposureAcc, len(e.exLabels))
	for li, l := range e.exLabels {
		for _, a := range cfg.Exchanges[l] {
			e.addr(a).exchange = li
		}
	}
	for _, v := range cfg.Venues {
		e.addr(v).venue = true
	}
	if lb != nil {
		e.links = lb
		e.inLegs, e.outLegs = lb.legs(cfg.Chain)
		e.legSeen = map[string]bool{}
	}
	for i, s := range cfg.Seeds {
		if s.Chain != cfg.Chain {
			continue // another chain's seed
		}
		switch {
		case s.Address != "":
			if ai := e.addr(s.Address); ai.seedSrc == 0 { // the first seed wins (spec §12.11)
				ai.seedSrc, ai.seedIdx = e.srcID[s.Source], i
			}
		case s.Outpoint != nil:
			e.opSeeds[*s.Outpoint] = append(e.opSeeds[*s.Outpoint], i)
		default:
			e.xferSeeds[s.Transfer] = append(e.xferSeeds[s.Transfer], i)
		}
	}
	return e
}

// checkMethod refuses a method exact mode does not replay, as New and NewMulti do.
func checkMethod(method string) error {
	switch method {
	case trace.Haircut, trace.FIFO, trace.LIFO, trace.TIHO, trace.Seniority:
		return nil
	}
	if _, err := trace.MethodByName(method); err != nil {
		return err
	}
	return fmt.Errorf("%w: exact mode does not replay method %s: it never does arithmetic, so trace.NewEngine gives its exact result", trace.ErrBadConfig, method)
}

func zeros(n int) []*big.Rat {
	out := make([]*big.Rat, n)
	for i := range out {
		out[i] = new(big.Rat)
	}
	return out
}

// Config returns the engine's configuration.
func (e *Engine) Config() trace.Config { return e.cfg }

// addr returns a's info, creating it.
func (e *Engine) addr(a graph.Address) *addrInfo {
	ai := e.addrs[a]
	if ai == nil {
		ai = &addrInfo{exchange: -1, received: new(big.Int), tainted: new(big.Rat)}
		e.addrs[a] = ai
	}
	return ai
}

// exchangeOf returns a's exchange label index, or -1.
func (e *Engine) exchangeOf(a graph.Address) int {
	if ai := e.addrs[a]; ai != nil {
		return ai.exchange
	}
	return -1
}

// addInjected counts n units of source src as injected taint, in the current asset.
func (e *Engine) addInjected(src uint32, n *big.Rat) {
	row := e.injected[e.curAsset]
	if row == nil {
		row = zeros(len(e.sources))
		e.injected[e.curAsset] = row
	}
	row[src] = new(big.Rat).Add(row[src], n)
}

// ---- initial state ----

// Fund declares an output that exists before the replayed window (a UTXO model initial
// holding). It is clean unless a seed names its outpoint or address.
func (e *Engine) Fund(op graph.Outpoint, addr graph.Address, value graph.Amount) error {
	if e.cfg.Model != graph.UTXO {
		return fmt.Errorf("%w: Fund needs the utxo model", trace.ErrModel)
	}
	if e.started {
		return fmt.Errorf("%w: Fund(%s) after blocks were applied", trace.ErrBadConfig, op)
	}
	if _, dup := e.utxos[op]; dup {
		return fmt.Errorf("funding %s: %w: declared twice", op, trace.ErrDoubleSpend)
	}
	e.utxos[op] = e.fundingUTXO(op, addr, value)
	return nil
}

// fundingUTXO builds an initial holding, applying address and outpoint seeds.
func (e *Engine) fundingUTXO(op graph.Outpoint, addr graph.Address, value graph.Amount) *utxo {
	e.addr(addr)
	return &utxo{addr: addr, value: value, st: e.applyOutputSeeds(op, addr, &value, nil)}
}

// applyOutputSeeds returns the seeded state of an output (address seed first if its
// address is a seed address, then outpoint seeds in listed order, capped at the value),
// or st unchanged when no seed applies.
func (e *Engine) applyOutputSeeds(op graph.Outpoint, addr graph.Address, value *graph.Amount, st composition) composition {
	var list []int
	if ai := e.addrs[addr]; ai != nil && ai.seedSrc != 0 {
		list = append(list, ai.seedIdx)
	}
	if l := e.opSeeds[op]; len(l) > 0 {
		list = append(list, l...)
		delete(e.opSeeds, op) // an outpoint is created once
	}
	if len(list) == 0 {
		return st
	}
	if value.IsZero() {
		// The seeds match an output that carries nothing: they were used, not mistyped.
		for _, si := range list {
			e.seedUsed[si] = true
		}
		return st
	}
	left := *value
	var out composition
	seeded := false
	for _, si := range list {
		s := e.cfg.Seeds[si]
		e.seedUsed[si] = true
		if left.IsZero() {
			continue // the first seeds already cover the value; the rest are ignored
		}
		n := left
		if s.Address == "" && s.Amount != nil && !s.Amount.Gt(&left) {
			n = *s.Amount
		}
		if n.IsZero() {
			continue
		}
		src := e.srcID[s.Source]
		amt := ratAmount(&n)
		if e.seq {
			out = appendLot(out, seg{c: comp{src: src}, amt: amt})
		} else {
			out = out.add(comp{src: src}, amt)
		}
		e.addInjected(src, amt)
		left.Sub(&left, &n)
		seeded = true
	}
	if !seeded {
		return st
	}
	if e.seq {
		out = appendLot(out, seg{c: cleanComp, amt: ratAmount(&left)})
	}
	return out
}

// SetBalance declares an account's balance of an asset before the replayed window (an
// account model initial holding): clean, and the oldest units (spec §8.1).
func (e *Engine) SetBalance(addr graph.Address, asset graph.Asset, amount graph.Amount) error {
	if e.cfg.Model != graph.Account {
		return fmt.Errorf("%w: SetBalance needs the account model", trace.ErrModel)
	}
	if e.started {
		return fmt.Errorf("%w: SetBalance(%s, %s) after blocks were applied", trace.ErrBadConfig, addr, asset)
	}
	h := e.holding(addr, asset)
	h.bal = amount.ToBig()
	h.st = nil
	if e.seq {
		h.st = appendLot(nil, seg{c: cleanComp, amt: ratInt(h.bal)})
	}
	return nil
}

// holding returns the holding of addr in asset, creating it.
func (e *Engine) holding(addr graph.Address, asset graph.Asset) *holding {
	e.addr(addr)
	k := holdKey{addr, asset}
	h := e.holds[k]
	if h == nil {
		h = &holding{addr: addr, asset: asset, bal: new(big.Int), received: new(big.Int), tainted: new(big.Rat)}
		e.holds[k] = h
		e.holdOrder = append(e.holdOrder, h)
	}
	return h
}

// ---- replay ----

// ApplyBlock replays one block. Blocks must come in chain order, transactions inside a
// block in index order. Errors wrap trace's sentinels (trace.ErrUnknownOutpoint,
// trace.ErrOverspend, trace.ErrOverdraft, …) and name the block and transaction, as
// trace.Engine's do. On error the engine's state is undefined: start a new engine.
func (e *Engine) ApplyBlock(b *graph.Block) error {
	if b == nil {
		return fmt.Errorf("nil block: %w", trace.ErrModel)
	}
	if b.Chain != "" && b.Chain.Model() != e.cfg.Model {
		return fmt.Errorf("block %d: %w: %s block on a %s engine", b.Height, trace.ErrModel, b.Chain, e.cfg.Model)
	}
	if e.cfg.Model == graph.UTXO && len(b.AccountTxs) > 0 || e.cfg.Model == graph.Account && len(b.UTXOTxs) > 0 {
		return fmt.Errorf("block %d: %w", b.Height, trace.ErrModel)
	}
	e.stats.Blocks++
	var coinbase *graph.UTXOTx
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		if err := e.order(b.Height, tx.Index, tx.TxID); err != nil {
			return err
		}
		if e.cfg.Params.TaintFee && tx.Coinbase && coinbase == nil {
			coinbase = tx // distributed at the end of the block, when every fee is known
			continue
		}
		if err := e.applyUTXOTx(b, tx); err != nil {
			return err
		}
	}
	if e.cfg.Params.TaintFee && e.cfg.Model == graph.UTXO {
		if err := e.applyFeeStream(b, coinbase); err != nil {
			return err
		}
	}
	for i := range b.AccountTxs {
		tx := &b.AccountTxs[i]
		if err := e.order(b.Height, tx.Index, tx.Hash); err != nil {
			return err
		}
		if err := e.applyAccountTx(b, tx); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) order(h uint64, idx uint32, ref string) error {
	p := graph.Position{Height: h, TxIndex: idx}
	if e.started && !e.last.Less(p) {
		return fmt.Errorf("block %d tx %s (index %d): %w: comes after %s", h, ref, idx, trace.ErrOutOfOrder, e.last)
	}
	e.started = true
	e.last = p
	e.stats.Txs++
	return nil
}

// applyUTXOTx gathers a transaction's inputs and distributes them.
func (e *Engine) applyUTXOTx(b *graph.Block, tx *graph.UTXOTx) error {
	var inSum graph.Amount
	var pool composition
	tainted := false
	inAddrs := make([]graph.Address, 0, len(tx.Inputs))
	for i := range tx.Inputs {
		in := &tx.Inputs[i]
		u, ok := e.utxos[in.Prev]
		if !ok {
			if !in.Resolved {
				return fmt.Errorf("block %d tx %s input %d: %w %s", b.Height, tx.TxID, i, trace.ErrUnknownOutpoint, in.Prev)
			}
			// Created before the window: a clean initial holding unless seeded.
			u = e.fundingUTXO(in.Prev, in.Address, in.Value)
			e.stats.OutsideWindowInputs++
		} else {
			if in.Resolved && !in.Value.Eq(&u.value) {
				return fmt.Errorf("block %d tx %s input %d: %w: %s is %s, input says %s", b.Height, tx.TxID, i, trace.ErrValueMismatch, in.Prev, u.value.Dec(), in.Value.Dec())
			}
			delete(e.utxos, in.Prev)
		}
		if _, o := inSum.AddOverflow(&inSum, &u.value); o {
			return &trace.OverflowError{Height: b.Height, Tx: tx.TxID, What: "input sum"}
		}
		switch {
		case e.seq:
			// The unit stream: the inputs' sequences in input order, a clean input one
			// CLEAN lot (spec §7.4); every tainted lot moves one hop.
			if len(u.st) > 0 {
				pool = appendLots(pool, hopSeq(u.st))
				tainted = true
			} else {
				pool = appendLot(pool, seg{c: cleanComp, amt: ratAmount(&u.value)})
			}
		case len(u.st) > 0:
			// Every tainted component moves one hop (spec §7.1).
			pool = merge(pool, u.st.shifted())
			tainted = true
		}
		inAddrs = append(inAddrs, u.addr) // for the self-change and internal-movement rules
	}
	return e.distribute(b, tx, &inSum, pool, tainted, inAddrs, len(tx.Inputs) > 0)
}

// distribute splits the pool of a transaction's inputs (worth inSum, tainted when any
// input carries taint) over its outputs and fee in exact proportion (spec §7.3), and
// creates the outputs. hasIns is false for a coinbase that has no inputs: it creates new
// money and pays no fee.
func (e *Engine) distribute(b *graph.Block, tx *graph.UTXOTx, inSum *graph.Amount, pool composition, tainted bool, inAddrs []graph.Address, hasIns bool) error {
	var outSum graph.Amount
	for i := range tx.Outputs {
		if _, o := outSum.AddOverflow(&outSum, &tx.Outputs[i].Value); o {
			return &trace.OverflowError{Height: b.Height, Tx: tx.TxID, What: "output sum"}
		}
	}
	var fee graph.Amount
	if !tx.Coinbase || hasIns {
		if outSum.Gt(inSum) {
			return fmt.Errorf("block %d tx %s: %w (in %s, out %s)", b.Height, tx.TxID, trace.ErrOverspend, inSum.Dec(), outSum.Dec())
		}
		fee.Sub(inSum, &outSum)
	}
	outs := make([]composition, len(tx.Outputs))
	var feeSt composition
	if tainted {
		e.stats.TaintedTxs++
		total := inSum.ToBig()
		if e.seq {
			values := make([]*big.Int, len(tx.Outputs))
			for i := range tx.Outputs {
				values[i] = tx.Outputs[i].Value.ToBig()
			}
			outs, feeSt = e.splitSeq(pool, values, fee.ToBig())
			for i := range outs {
				outs[i] = orNil(outs[i]) // an all-CLEAN sequence is stored as clean
			}
			feeSt = orNil(feeSt)
		} else {
			for i := range tx.Outputs {
				outs[i] = pool.share(tx.Outputs[i].Value.ToBig(), total)
			}
			// The fee is the last recipient and takes what is left, which in exact
			// arithmetic is its proportional share.
			feeSt = pool.share(fee.ToBig(), total)
		}
	}
	for i := range tx.Outputs {
		out := &tx.Outputs[i]
		op := graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}
		ref := op.String()
		st := outs[i]
		a := e.addr(out.Address)
		isSeed := a.seedSrc != 0
		opSeeded := len(e.opSeeds[op]) > 0
		value := out.Value.ToBig()
		lin, lout := -1, -1
		if e.links != nil {
			if li, ok := e.inLegs[ref]; ok {
				lin = li
				e.legSeen[ref] = true
			}
			if li, ok := e.outLegs[ref]; ok {
				lout = li
				e.legSeen[ref] = true
				// An out-leg's transaction spends only outputs venues held (spec §15.1).
				ok := len(inAddrs) > 0
				for _, in := range inAddrs {
					if !e.isVenue(in) {
						ok = false
					}
				}
				if !ok {
					return fmt.Errorf("block %d tx %s: %w", b.Height, tx.TxID, e.legErr(lout, ref, "an out-leg is not paid by a venue (its transaction spends an output no venue held)"))
				}
				// What the venue's outputs paid (clean) is replaced by the link's buffer
				// rescaled exactly to the output's value, one hop further (spec §15.5).
				rs, err := e.linkOutState(lout, ref, value)
				if err != nil {
					return fmt.Errorf("block %d tx %s: %w", b.Height, tx.TxID, err)
				}
				if e.seq {
					st = hopSeq(rs)
				} else {
					st = rs.shifted()
				}
				if len(st) > 0 {
					e.addLinkedIn(st)
				}
			}
		}
		if len(st) > 0 {
			st = e.prune(st, value)
		}
		taint := new(big.Rat)
		if len(st) > 0 {
			taint = st.taint()
			e.outputs[ref] = &Output{Outpoint: ref, Address: out.Address, Value: ratInt(value), Taint: e.components(st), Tainted: taint}
		}
		if lout >= 0 {
			e.recordLinkOut(lout, ref, graph.BTC, value, st)
		}
		if lin >= 0 || a.venue {
			if lin >= 0 {
				if !a.venue {
					return fmt.Errorf("block %d tx %s: %w", b.Height, tx.TxID, e.legErr(lin, ref, fmt.Sprintf("an in-leg does not pay a venue (%s is none)", out.Address)))
				}
				// An in-leg: its taint goes into the link's buffer (spec §15.3).
				if err := e.linkIn(lin, ref, graph.BTC, value, st); err != nil {
					return fmt.Errorf("block %d tx %s: %w", b.Height, tx.TxID, err)
				}
			} else {
				e.sinkAll(trace.SinkVenueUnlinked, st) // a venue holds no taint (§15.4)
			}
			e.receive(a, out.Address, value, taint, inAddrs)
			// The venue's output is clean.
			if old, dup := e.utxos[op]; dup && (!tx.Coinbase || len(old.st) > 0) {
				return fmt.Errorf("block %d tx %s: %w: output %s created twice", b.Height, tx.TxID, trace.ErrDoubleSpend, op)
			}
			e.utxos[op] = &utxo{addr: out.Address, value: out.Value}
			continue
		}
		internal := e.receive(a, out.Address, value, taint, inAddrs)
		if a.exchange >= 0 && value.Sign() != 0 {
			// Under stop semantics every taint that arrives is absorbed, also on an
			// output of a transaction that spends the exchange's own outputs (v2 A.2).
			e.arrive(a.exchange, graph.BTC, ref, out.Address, value, st, internal)
			if e.cfg.Params.StopAtExchanges && len(st) > 0 {
				e.sinkAll(trace.SinkExchangeAbsorbed, st)
				st = nil
			}
		}
		if isSeed && len(st) > 0 {
			e.sinkAll(trace.SinkReturnedToSeed, st)
			st = nil
		}
		if len(st) > 0 && !isSeed && opSeeded {
			e.sinkAll(trace.SinkOverridden, st)
			st = nil
		}
		if isSeed || opSeeded {
			st = e.applyOutputSeeds(op, out.Address, &out.Value, st)
		}
		if out.Unspendable && len(st) == 0 {
			continue // never spent, carries nothing: no need to keep it
		}
		if old, dup := e.utxos[op]; dup {
			// A coinbase repeating a transaction id overwrites a clean unspent output, as
			// in Bitcoin Core; taint would vanish with a tainted one, so that is an error.
			if !tx.Coinbase || len(old.st) > 0 {
				return fmt.Errorf("block %d tx %s: %w: output %s created twice", b.Height, tx.TxID, trace.ErrDoubleSpend, op)
			}
		}
		e.utxos[op] = &utxo{addr: out.Address, value: out.Value, st: st}
	}
	switch {
	case e.cfg.Params.TaintFee && !tx.Coinbase:
		if !fee.IsZero() {
			e.fees = append(e.fees, feeEntry{st: feeSt, value: fee})
		}
	case len(feeSt) > 0:
		e.sinkAll(trace.SinkFees, feeSt)
	}
	return nil
}

// receive records an output of value (carrying taint) to address a (info ai) in the
// address's received statistics (spec §10.3), unless it is self-change, a movement inside
// a's exchange label, or a payment to a seed address. It reports whether the output is
// such an internal movement, which counts in the exchange's received_total only when it
// carries taint (v2 A.2).
func (e *Engine) receive(ai *addrInfo, a graph.Address, value *big.Int, taint *big.Rat, inAddrs []graph.Address) (internal bool) {
	selfChange := false
	for _, in := range inAddrs {
		if in == a {
			selfChange = true
		}
		if ai.exchange >= 0 && e.exchangeOf(in) == ai.exchange {
			internal = true
		}
	}
	if value.Sign() != 0 && ai.seedSrc == 0 && !selfChange && !internal {
		ai.receives = true
		ai.received = new(big.Int).Add(ai.received, value)
		ai.tainted = new(big.Rat).Add(ai.tainted, taint)
	}
	return internal
}

// applyFeeStream ends a block under Params.TaintFee, as trace's engine does: the coinbase
// cb (nil if the block has none) takes an untainted subsidy input (what it claims beyond
// the block's fees) and then every transaction's fee in transaction order, one hop
// further, and its outputs are distributed like any transaction's. Without a coinbase the
// fees go to the fees sink.
func (e *Engine) applyFeeStream(b *graph.Block, cb *graph.UTXOTx) error {
	fees := e.fees
	e.fees = nil
	if cb == nil {
		for _, f := range fees {
			e.sinkAll(trace.SinkFees, f.st)
		}
		return nil
	}
	var sum, claimed, subsidy graph.Amount
	for _, f := range fees {
		sum.Add(&sum, &f.value)
	}
	for i := range cb.Outputs {
		if _, o := claimed.AddOverflow(&claimed, &cb.Outputs[i].Value); o {
			return &trace.OverflowError{Height: b.Height, Tx: cb.TxID, What: "output sum"}
		}
	}
	if claimed.Gt(&sum) {
		subsidy.Sub(&claimed, &sum)
	}
	inSum := subsidy
	var pool composition
	if e.seq {
		pool = appendLot(pool, seg{c: cleanComp, amt: ratAmount(&subsidy)})
	}
	tainted := false
	for _, f := range fees {
		if e.seq {
			if len(f.st) > 0 {
				pool = appendLots(pool, hopSeq(f.st))
				tainted = true
			} else {
				pool = appendLot(pool, seg{c: cleanComp, amt: ratAmount(&f.value)})
			}
			inSum.Add(&inSum, &f.value)
			continue
		}
		if len(f.st) > 0 {
			pool = merge(pool, f.st.shifted()) // the coinbase is one more transaction
			tainted = true
		}
		inSum.Add(&inSum, &f.value)
	}
	return e.distribute(b, cb, &inSum, pool, tainted, nil, true)
}
