package trace

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"sort"
	"strconv"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// Sink identifies where taint leaves the tracked graph (spec §9.1).
type Sink uint8

// The sinks, in the order results list them.
const (
	SinkFees Sink = iota
	SinkBurned
	SinkExchangeAbsorbed
	SinkReturnedToSeed
	SinkPrunedDust
	SinkPrunedHops
	SinkOverridden
	SinkLinkedOut     // taint an in-leg carried into a link's buffer (spec §15.3)
	SinkVenueUnlinked // taint paid to a venue outside any link (spec §15.4)
	numSinks
)

var sinkNames = [numSinks]string{"fees", "burned", "exchange_absorbed", "returned_to_seed", "pruned_dust", "pruned_hops", "overridden", "linked_out", "venue_unlinked"}

func (s Sink) String() string {
	if s < numSinks {
		return sinkNames[s]
	}
	return "sink(" + strconv.Itoa(int(s)) + ")"
}

// addrInfo is what the engine knows about one address: its role and its receipts.
type addrInfo struct {
	seedSrc  uint32 // source of the first address seed; 0 = not a seed address
	seedIdx  int32  // that seed's index in Config.Seeds
	seedMov  int32  // evidence node of the seed (account model)
	exchange int32  // exchange label index; -1 = none
	venue    bool   // a venue (spec §15.1): it converts value and holds no taint
	received uint256.Int
	tainted  uint256.Int
	receives bool
}

// utxo is an unspent output. It holds no pointers, so the garbage collector never scans
// the (large) UTXO map: the address is an index into the address table, and a tainted
// output's state lives in the side table Engine.states.
//
// The value is kept in 64 bits, which every satoshi amount fits, so that a map slot is one
// cache line instead of two; the rare larger value (scenario files allow any uint256) is
// kept in Engine.wideValues and flagged.
type utxo struct {
	value uint64
	addr  int32
	mov   int32 // evidence node of the stored state; -1 when clean
	st    int32 // index into Engine.states; -1 when clean
	wide  bool  // the value exceeds 64 bits: it is Engine.wideValues[key]
}

// setValue stores v as u's value, using the side table when it exceeds 64 bits.
func (e *Engine) setValue(k opKey, u *utxo, v *uint256.Int) {
	if v.IsUint64() {
		u.value, u.wide = v.Uint64(), false
		return
	}
	if e.wideValues == nil {
		e.wideValues = map[opKey]uint256.Int{}
	}
	e.wideValues[k] = *v
	u.value, u.wide = 0, true
}

// valueOf returns u's value.
func (e *Engine) valueOf(k opKey, u *utxo) uint256.Int {
	if u.wide {
		return e.wideValues[k]
	}
	var v uint256.Int
	v.SetUint64(u.value)
	return v
}

// takeValue returns u's value and forgets its side-table entry: u is being spent.
func (e *Engine) takeValue(k opKey, u *utxo) uint256.Int {
	v := e.valueOf(k, u)
	if u.wide {
		delete(e.wideValues, k)
	}
	return v
}

// opKey is the UTXO map key: a canonical 64-hex-digit txid in binary, or the SHA-256 of
// any other txid text (scenario files), plus the output index. Binary keys hash faster
// than hex strings and keep the map free of pointers.
type opKey struct {
	h [32]byte
	i uint32
}

// taintedUTXO is the state of a tainted unspent output.
type taintedUTXO struct {
	op graph.Outpoint
	st packed
}

// holdKey is an account holding's index key: address index << 32 | asset index. Being
// a plain integer, it hashes fast and keeps the map free of pointers.
type holdKey uint64

func mkHoldKey(addr, asset int32) holdKey {
	return holdKey(uint64(uint32(addr))<<32 | uint64(uint32(asset)))
}

type contribution struct {
	c   comp
	mov int32
	amt uint256.Int
}

type holding struct {
	addr    int32 // index into Engine.addrs
	asset   int32 // index into Engine.assets
	bal     uint256.Int
	st      []seg
	contrib []contribution // largest tainted arrival per component, for evidence
	// What the address received of this asset and how much of it was tainted (spec
	// §10.3, per asset): the per-address totals add up every asset's units.
	received, tainted uint256.Int
	receives          bool
	// opened says the holding's opening balance was asked for (Config.OpeningBalances);
	// what clean pre-window funds covered of its debits is in Engine.implicit.
	opened bool
}

// Stats counts what the engine saw; it helps judge how complete a trace is.
type Stats struct {
	Blocks    uint64 `json:"blocks"`
	Txs       uint64 `json:"txs"`
	Transfers uint64 `json:"transfers"`
	// TaintedTxs counts transactions with at least one tainted input or debit.
	TaintedTxs uint64 `json:"tainted_txs"`
	// OutsideWindowInputs counts UTXO inputs that spent outputs created before the
	// replayed window; they are treated as clean initial holdings (spec §8.1, §3). Any
	// resolved input (graph.TxIn.Resolved) whose output the engine does not hold counts
	// as one: the engine cannot tell it from a second spend of an output spent earlier in
	// the window without remembering every spent output. The store and the chain
	// adapters resolve inputs from validated chains only, and scenario inputs are never
	// resolved, so a double spend there is ErrUnknownOutpoint.
	OutsideWindowInputs uint64 `json:"outside_window_inputs"`
	// ImplicitBalanceDebits counts account debits that exceeded the known balance and were
	// covered by clean pre-window funds (Params.ImplicitBalances).
	ImplicitBalanceDebits uint64 `json:"implicit_balance_debits"`
	// SkippedTransfers counts transfers of assets outside Params.Assets.
	SkippedTransfers uint64 `json:"skipped_transfers,omitempty"`
	// UnusedSeeds lists seeds that matched nothing in the replayed data.
	UnusedSeeds []string `json:"unused_seeds,omitempty"`
}

// Engine replays blocks under one taint method. Create it with NewEngine.
type Engine struct {
	cfg      Config
	model    graph.Model
	method   Method
	kind     stateKind
	sources  []string // sources[0] is "" (CLEAN)
	srcID    map[string]uint32
	exLabels []string

	addrTab addrTable // address ↔ index into addrs
	addrs   []addrInfo

	// UTXO state.
	utxos      map[opKey]utxo
	wideValues map[opKey]uint256.Int // values of utxos beyond 64 bits
	states     []taintedUTXO
	free       []int32
	opSeeds    map[opKey][]int

	// Account state.
	holdIdx   map[holdKey]int32
	assets    []graph.Asset         // asset names by index
	assetIdx  map[graph.Asset]int32 // asset name → index
	lastAsset int32
	holds     []holding
	xferSeeds map[string][]int

	seedUsed []bool
	// Per asset index (spec v2 A.1: every aggregate is per asset): the taint each source
	// brought in, and each sink's taint per source. A UTXO chain has one asset, index 0.
	injected [][]uint256.Int
	sinks    []sinkRow
	curAsset int32 // the asset of the movement being applied
	// linkedInTot is, per asset index and source, the taint links carried in (§15.5).
	linkedInTot [][]uint256.Int

	// Links (spec §15): the book, shared with the other chains' engines of a
	// multi-chain trace; this chain's in-legs and out-legs by reference; the legs met.
	links    *linkBook
	inLegs   map[string]int32
	outLegs  map[string]int32
	legSeen  map[string]bool
	anyVenue bool
	engID    uint16 // this engine's number among a multi-chain trace's engines
	ctx      context.Context
	// implicit is, by holding index, what clean pre-window funds covered of the holding's
	// debits above its known balance (Params.ImplicitBalances): rare, so kept aside.
	implicit map[int32]uint256.Int
	mv       move           // the account transfer being applied
	feeX     graph.Transfer // the fee pseudo-transfer being applied
	// openingUnknown lists the holdings whose opening balance the source could not give.
	openingUnknown []HoldingRef

	ev       *evidence // shared by the engines of a multi-chain trace
	exposure []exposureAcc

	started bool
	last    graph.Position
	stats   Stats

	sp       splitter
	fees     []feeEntry // TaintFee: this block's fees, for its coinbase
	feeBuf   []seg
	feeMovs  []int32
	pk       packer
	scratch  []seg
	compSlab []Component
	ins      []inState
	inMovs   []int32
	inAddrs  []int32
	inBuf    []seg
	values   []uint256.Int
	outs     [][]seg
	prep     *blockPrep // the running block's prep (nil: none, work inline)
	prepBuf  *blockPrep // kept between blocks for its memory
	prepOff  bool       // never prep on another goroutine (tests hold both ways equal)
	// keepComps, when set (by a Follower, which builds a Result after every Advance),
	// keeps each movement's taint as Components once a Result has converted it:
	// movements never change, so later Results convert only the movements added since.
	keepComps  bool
	comps      [][]Component        // by movement id, up to the last Result's length
	overflow   bool                 // a running total passed 2^256 (sum): the replay has failed
	txTainted  bool                 // the account transaction being applied has a tainted debit
	traced     map[graph.Asset]bool // Params.Assets as a set; nil = every asset
	moved      []seg
	srcTot     []uint256.Int
	parents    []int32
	parentsBuf []int32
}

// NewEngine validates cfg and returns an engine ready for ApplyBlock.
func NewEngine(cfg Config) (*Engine, error) {
	var lb *linkBook
	if len(cfg.Links) > 0 {
		var err error
		if lb, err = newLinkBook(cfg.Links, nil); err != nil {
			return nil, err
		}
	}
	return newEngine(cfg, lb, &evidence{}, nil)
}

// newEngine builds an engine whose links are lb's (nil: none) and whose evidence is ev;
// sources, when set, is the source table (a multi-chain trace shares one).
func newEngine(cfg Config, lb *linkBook, ev *evidence, sources []string) (*Engine, error) {
	if cfg.Model != graph.UTXO && cfg.Model != graph.Account {
		return nil, fmt.Errorf("%w: model %q (want utxo or account)", ErrBadConfig, cfg.Model)
	}
	m, err := MethodByName(cfg.Method)
	if err != nil {
		return nil, err
	}
	if !m.Supports(cfg.Model) {
		return nil, fmt.Errorf("%w: method %s is not defined for the %s model", ErrBadConfig, cfg.Method, cfg.Model)
	}
	if cfg.Params.MinFraction != nil && cfg.Params.MinFraction.Den.IsZero() {
		return nil, fmt.Errorf("%w: min_fraction has a zero denominator", ErrBadConfig)
	}
	if len(cfg.Params.Assets) > 0 && cfg.Model != graph.Account {
		return nil, fmt.Errorf("%w: an asset list needs the account model (a UTXO chain has one asset)", ErrBadConfig)
	}
	e := &Engine{
		cfg: cfg, model: cfg.Model, method: m, kind: m.kind(),
		srcID:   map[string]uint32{},
		ev:      ev,
		addrTab: newAddrTable(cfg.SizeHint),
		addrs:   make([]addrInfo, 0, cfg.SizeHint),
	}
	e.sp.pk = &e.pk
	if len(cfg.Params.Assets) > 0 {
		e.traced = map[graph.Asset]bool{}
		for _, a := range cfg.Params.Assets {
			e.traced[a] = true
		}
	}
	// Sources are numbered in bytewise name order so that comparing ids compares names,
	// as the rounding tie rule and the result order require.
	names := map[string]bool{}
	for i, s := range cfg.Seeds {
		if s.Source == "" {
			return nil, fmt.Errorf("%w: seed %d (%s) has no source", ErrBadConfig, i, s)
		}
		names[s.Source] = true
	}
	for _, s := range sources {
		names[s] = true
	}
	e.sources = append(e.sources, "")
	for n := range names {
		e.sources = append(e.sources, n)
	}
	sort.Strings(e.sources[1:])
	for i, n := range e.sources {
		if i > 0 {
			e.srcID[n] = uint32(i)
		}
	}
	e.seedUsed = make([]bool, len(cfg.Seeds))

	// Exchanges, in label order.
	for l := range cfg.Exchanges {
		e.exLabels = append(e.exLabels, l)
	}
	sort.Strings(e.exLabels)
	e.exposure = make([]exposureAcc, len(e.exLabels))
	for li, l := range e.exLabels {
		for _, a := range cfg.Exchanges[l] {
			ai := e.addr(a)
			if e.addrs[ai].exchange >= 0 && e.addrs[ai].exchange != int32(li) {
				return nil, fmt.Errorf("%w: address %s is in exchanges %s and %s", ErrBadConfig, a, e.exLabels[e.addrs[ai].exchange], l)
			}
			e.addrs[ai].exchange = int32(li)
		}
	}

	e.utxos = map[opKey]utxo{}
	e.opSeeds = map[opKey][]int{}
	e.holdIdx = map[holdKey]int32{}
	e.assetIdx = map[graph.Asset]int32{}
	if e.model == graph.UTXO {
		e.asset(graph.BTC) // a UTXO chain's one asset: index 0
	}
	e.xferSeeds = map[string][]int{}
	for _, v := range cfg.Venues {
		ai := e.addr(v)
		if e.addrs[ai].exchange >= 0 {
			return nil, &LinkError{Reason: fmt.Sprintf("address %s is both a venue and an exchange (%s)", v, e.exLabels[e.addrs[ai].exchange])}
		}
		e.addrs[ai].venue, e.anyVenue = true, true
	}
	if lb != nil {
		e.links = lb
		e.inLegs, e.outLegs = lb.legs(cfg.Chain)
		e.legSeen = map[string]bool{}
	}
	for i, s := range cfg.Seeds {
		if s.Chain != cfg.Chain {
			continue // another chain's seed (a multi-chain trace lists all in every engine)
		}
		n := 0
		if s.Address != "" {
			n++
		}
		if s.Outpoint != nil {
			n++
		}
		if s.Transfer != "" {
			n++
		}
		if n != 1 {
			return nil, fmt.Errorf("%w: seed %d must name exactly one of address, outpoint, transfer", ErrBadConfig, i)
		}
		src := e.srcID[s.Source]
		switch {
		case s.Address != "":
			ai := e.addr(s.Address)
			if e.addrs[ai].exchange >= 0 {
				return nil, fmt.Errorf("%w: seed %d: address %s is also an exchange (%s)", ErrBadConfig, i, s.Address, e.exLabels[e.addrs[ai].exchange])
			}
			if e.addrs[ai].venue {
				return nil, &LinkError{Reason: fmt.Sprintf("seed %d: address %s is both a venue and a seed", i, s.Address)}
			}
			if e.addrs[ai].seedSrc == 0 { // the first seed wins (spec §12.11)
				e.addrs[ai].seedSrc = src
				e.addrs[ai].seedIdx = int32(i)
				e.addrs[ai].seedMov = e.ev.seedNode(i, s, string(s.Address))
			}
		case s.Outpoint != nil:
			if e.model != graph.UTXO {
				return nil, fmt.Errorf("%w: seed %d: outpoint seeds need the utxo model", ErrBadConfig, i)
			}
			k := keyOf(*s.Outpoint)
			e.opSeeds[k] = append(e.opSeeds[k], i)
		default:
			if e.model != graph.Account {
				return nil, fmt.Errorf("%w: seed %d: transfer seeds need the account model", ErrBadConfig, i)
			}
			e.xferSeeds[s.Transfer] = append(e.xferSeeds[s.Transfer], i)
		}
	}
	return e, nil
}

// RecordTo makes the engine keep its per-output and per-transfer records (the evidence
// of every tainted movement, with its (source, hop) composition) in an append-only file
// in a new directory under dir ("" is the system's temporary directory) instead of in
// memory. On a long history those records are nearly all of a replay's memory, while the
// live state (unspent tainted outputs, holdings), which stays in memory, is a small part:
// with RecordTo, memory follows the live state and the records grow on disk. Call it
// before the first block. Results then read the records from the file: Evidence answers
// as before, and Result.Outputs and Result.Transfers are left nil — EachOutput,
// EachTransfer and Records give them, and the JSON encoding is the same. Close removes
// the file; the engine's Results cannot give evidence after it. An engine that records
// to disk cannot be checkpointed.
func (e *Engine) RecordTo(dir string) error {
	if e.started {
		return fmt.Errorf("%w: RecordTo after the first block", ErrBadConfig)
	}
	if e.ev.movs.log != nil {
		return fmt.Errorf("%w: RecordTo called twice", ErrBadConfig)
	}
	if e.links != nil || e.engID != 0 {
		return fmt.Errorf("%w: RecordTo on an engine with links (a multi-chain trace shares its records in memory)", ErrBadConfig)
	}
	l, err := newRecordLog(dir)
	if err != nil {
		return err
	}
	for i := 0; i < e.ev.movs.n; i++ { // the seed nodes made so far stay in memory
		l.pin(i)
	}
	e.ev.movs.log = l
	return nil
}

// Close releases what the engine holds outside memory: the record files of RecordTo,
// which it removes. It is safe to call more than once, and on an engine without them.
func (e *Engine) Close() error {
	if l := e.ev.movs.log; l != nil {
		return l.close()
	}
	return nil
}

// Method returns the engine's method.
func (e *Engine) Method() Method { return e.method }

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// addr returns the index of a's info, creating it.
func (e *Engine) addr(a graph.Address) int32 {
	e.prep.finish(false) // the table is the prep's while it runs
	i, _ := e.addrTab.intern(a)
	return e.addrAt(i)
}

// addrAt makes sure address number i, which the table has given out, has its addrInfo.
// A block's prep numbers addresses ahead of the engine, so several may be new at once.
func (e *Engine) addrAt(i int32) int32 {
	for int(i) >= len(e.addrs) {
		e.addrs = append(e.addrs, addrInfo{exchange: -1, seedMov: -1})
	}
	return i
}

func (e *Engine) lookup(a graph.Address) (int32, bool) {
	e.prep.finish(false)
	return e.addrTab.lookup(a)
}

// ---- initial state ----

// Fund declares an output that exists before the replayed window (a UTXO model initial
// holding). It is clean unless a seed names its outpoint or address.
func (e *Engine) Fund(op graph.Outpoint, addr graph.Address, value graph.Amount) error {
	if e.model != graph.UTXO {
		return fmt.Errorf("%w: Fund needs the utxo model", ErrModel)
	}
	if e.started {
		return fmt.Errorf("%w: Fund(%s) after blocks were applied", ErrBadConfig, op)
	}
	k := keyOf(op)
	if _, dup := e.utxos[k]; dup {
		return fmt.Errorf("funding %s: %w: declared twice", op, ErrDoubleSpend)
	}
	e.utxos[k] = e.fundingUTXO(k, op, addr, &value)
	return nil
}

// fundingUTXO builds an initial holding, applying address and outpoint seeds.
func (e *Engine) fundingUTXO(k opKey, op graph.Outpoint, addr graph.Address, value *uint256.Int) utxo {
	u := utxo{addr: e.addr(addr)}
	e.setValue(k, &u, value)
	st, mov := e.applyOutputSeeds(op, u.addr, addr, value, nil, -1)
	u.mov, u.st = mov, e.store(op, e.pk.pack(st))
	return u
}

// applyOutputSeeds returns the seeded state of an output (address seed first if its
// address is a seed address, then outpoint seeds in listed order, capped at the value),
// or st and mov unchanged when no seed applies.
func (e *Engine) applyOutputSeeds(op graph.Outpoint, ai int32, addr graph.Address, value *uint256.Int, st []seg, mov int32) ([]seg, int32) {
	var list []int
	if e.addrs[ai].seedSrc != 0 {
		list = append(list, int(e.addrs[ai].seedIdx))
	}
	if len(e.opSeeds) > 0 {
		k := keyOf(op)
		if l := e.opSeeds[k]; len(l) > 0 {
			list = append(list, l...)
			// An outpoint is created once: forget its seeds, so that once every seeded
			// outpoint has appeared, outputs no longer pay for the lookup.
			delete(e.opSeeds, k)
		}
	}
	if len(list) == 0 {
		return st, mov
	}
	if value.IsZero() {
		// The seeds match an output that carries nothing: they were used, not mistyped.
		for _, si := range list {
			e.seedUsed[si] = true
		}
		return st, mov
	}
	var left uint256.Int
	left.Set(value)
	out := e.sp.alloc(len(list) + 1)
	var first = -1
	for _, si := range list {
		s := e.cfg.Seeds[si]
		e.seedUsed[si] = true
		if left.IsZero() {
			continue // the first seeds already cover the value; the rest are ignored
		}
		var n uint256.Int
		if s.Address != "" || s.Amount == nil || s.Amount.Gt(&left) {
			n.Set(&left)
		} else {
			n.Set(s.Amount)
		}
		if n.IsZero() {
			continue
		}
		src := e.srcID[s.Source]
		if e.kind == sourceSet {
			out = setAdd(out, comp{src: src})
		} else if e.kind == composition {
			out = compAdd(out, comp{src: src}, &n)
		} else {
			out = appendSeg(out, seg{c: comp{src: src}, amt: n})
		}
		e.sum(&e.injected[0][src], &n)
		left.Sub(&left, &n)
		if first < 0 {
			first = si
		}
	}
	if first < 0 {
		return st, mov
	}
	if e.kind == sequence && !left.IsZero() {
		out = appendSeg(out, seg{c: cleanComp, amt: left})
	}
	node := e.ev.seedNodeOf(first, op.String(), addr, *value, e.pk.pack(e.aggregate(out, value)))
	return out, node
}

// SetBalance declares an account's balance of an asset before the replayed window (an
// account model initial holding): clean, and the oldest units (spec §8.1).
func (e *Engine) SetBalance(addr graph.Address, asset graph.Asset, amount graph.Amount) error {
	if e.model != graph.Account {
		return fmt.Errorf("%w: SetBalance needs the account model", ErrModel)
	}
	if e.started {
		return fmt.Errorf("%w: SetBalance(%s, %s) after blocks were applied", ErrBadConfig, addr, asset)
	}
	h := e.holding(addr, asset)
	h.bal = amount
	h.st = h.st[:0]
	if e.kind == sequence && !amount.IsZero() {
		h.st = append(h.st, seg{c: cleanComp, amt: amount})
	}
	return nil
}

func (e *Engine) holding(addr graph.Address, asset graph.Asset) *holding {
	return e.holdingAt(e.addr(addr), asset)
}

// holdingAt returns the holding of address index ai in asset, creating it.
func (e *Engine) holdingAt(ai int32, asset graph.Asset) *holding {
	as := e.asset(asset)
	k := mkHoldKey(ai, as)
	i, ok := e.holdIdx[k]
	if !ok {
		i = int32(len(e.holds))
		e.holds = append(e.holds, holding{addr: ai, asset: as})
		e.holdIdx[k] = i
	}
	return &e.holds[i]
}

// asset returns the index of an asset name, adding it. A chain has few assets and runs
// of transfers in one asset, so the last one is checked first.
func (e *Engine) asset(a graph.Asset) int32 {
	if n := len(e.assets); n > 0 && e.assets[e.lastAsset] == a {
		return e.lastAsset
	}
	i, ok := e.assetIdx[a]
	if !ok {
		i = int32(len(e.assets))
		e.assets = append(e.assets, a)
		e.assetIdx[a] = i
		e.addAssetRows()
	}
	e.lastAsset = i
	return i
}

// sinkRow is one asset's sinks: per sink, the taint per source.
type sinkRow [numSinks][]uint256.Int

// addAssetRows gives the asset just added its sink and injected rows (exposure rows are
// made when something of the asset first reaches an exchange: exposureRow).
func (e *Engine) addAssetRows() {
	var row sinkRow
	for k := range row {
		row[k] = make([]uint256.Int, len(e.sources))
	}
	e.sinks = append(e.sinks, row)
	e.injected = append(e.injected, make([]uint256.Int, len(e.sources)))
	e.linkedInTot = append(e.linkedInTot, make([]uint256.Int, len(e.sources)))
}

// ---- replay ----

// ApplyBlockContext is ApplyBlock with the context of the I/O it may do: fetching opening
// balances (Config.OpeningBalances).
func (e *Engine) ApplyBlockContext(ctx context.Context, b *graph.Block) error {
	e.ctx = ctx
	defer func() { e.ctx = nil }()
	return e.ApplyBlock(b)
}

// ApplyBlock replays one block. Blocks must come in chain order; transactions inside a
// block in index order. On error the engine's state is undefined: start a new engine.
func (e *Engine) ApplyBlock(b *graph.Block) error {
	if b.Chain != "" && b.Chain.Model() != e.model {
		return fmt.Errorf("block %d: %w: %s block on a %s engine", b.Height, ErrModel, b.Chain, e.model)
	}
	if e.model == graph.UTXO && len(b.AccountTxs) > 0 || e.model == graph.Account && len(b.UTXOTxs) > 0 {
		return fmt.Errorf("block %d: %w", b.Height, ErrModel)
	}
	if l := e.ev.movs.log; l != nil {
		if err := l.failedNow(); err != nil {
			return fmt.Errorf("block %d: %w", b.Height, err)
		}
	}
	e.stats.Blocks++
	if e.model == graph.UTXO {
		e.prep = e.startPrep(b)
		err := e.applyUTXOBlock(b)
		// The prep ends with the block, failed or not: no goroutine may touch the
		// engine once ApplyBlock has returned.
		e.prep.finish(err != nil)
		e.prep = nil
		e.addrAt(int32(e.addrTab.len()) - 1)
		if err == nil {
			err = e.recordErr(b)
		}
		return err
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
	return e.recordErr(b)
}

// recordErr is the error of block b when writing its records failed (RecordTo).
func (e *Engine) recordErr(b *graph.Block) error {
	if l := e.ev.movs.log; l != nil {
		if err := l.failedNow(); err != nil {
			return fmt.Errorf("block %d: %w", b.Height, err)
		}
	}
	return nil
}

func (e *Engine) applyUTXOBlock(b *graph.Block) error {
	coinbase := -1
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		if err := e.order(b.Height, tx.Index, tx.TxID); err != nil {
			return err
		}
		if e.cfg.Params.TaintFee && tx.Coinbase && coinbase < 0 {
			coinbase = i // distributed at the end of the block, when every fee is known
			continue
		}
		if err := e.applyUTXOTx(b, tx, e.txPrep(i, tx)); err != nil {
			return err
		}
	}
	if e.cfg.Params.TaintFee {
		var err error
		ref := "(the block's fees)"
		if coinbase < 0 {
			err = e.applyFeeStream(b, nil, txPrep{})
		} else {
			cb := &b.UTXOTxs[coinbase]
			ref = cb.TxID
			err = e.applyFeeStream(b, cb, e.txPrep(coinbase, cb))
		}
		if err == nil && e.overflow {
			err = e.overflowErr(b, ref, nil)
		}
		return err
	}
	return nil
}

// txPrep returns the prep of transaction i of the running block, if there is a prep.
func (e *Engine) txPrep(i int, tx *graph.UTXOTx) txPrep {
	if e.prep == nil {
		return txPrep{}
	}
	return e.prep.tx(i, tx)
}

func (e *Engine) order(h uint64, idx uint32, ref string) error {
	p := graph.Position{Height: h, TxIndex: idx}
	if e.started && !e.last.Less(p) {
		return fmt.Errorf("block %d tx %s (index %d): %w: comes after %s", h, ref, idx, ErrOutOfOrder, e.last)
	}
	e.started = true
	e.last = p
	e.stats.Txs++
	return nil
}

func (e *Engine) applyUTXOTx(b *graph.Block, tx *graph.UTXOTx, tp txPrep) error {
	e.sp.reset()
	e.ins = e.ins[:0]
	e.inMovs = e.inMovs[:0]
	e.inAddrs = e.inAddrs[:0]
	e.inBuf = e.inBuf[:0]
	var inSum uint256.Int
	tainted := false
	for i := range tx.Inputs {
		in := &tx.Inputs[i]
		var k opKey
		if tp.ok {
			k = tp.inKeys[i]
		} else {
			k = keyOf(in.Prev)
		}
		u, ok := e.utxos[k]
		if !ok {
			if !in.Resolved {
				return fmt.Errorf("block %d tx %s input %d: %w %s", b.Height, tx.TxID, i, ErrUnknownOutpoint, in.Prev)
			}
			// Created before the window: a clean initial holding unless seeded.
			u = e.fundingUTXO(k, in.Prev, in.Address, &in.Value)
			e.stats.OutsideWindowInputs++
		} else {
			if in.Resolved && (u.wide || !in.Value.IsUint64() || in.Value.Uint64() != u.value) {
				if v := e.valueOf(k, &u); !in.Value.Eq(&v) {
					return fmt.Errorf("block %d tx %s input %d: %w: %s is %s, input says %s", b.Height, tx.TxID, i, ErrValueMismatch, in.Prev, v.Dec(), in.Value.Dec())
				}
			}
			delete(e.utxos, k)
		}
		value := e.takeValue(k, &u)
		if _, o := inSum.AddOverflow(&inSum, &value); o {
			return &OverflowError{Height: b.Height, Tx: tx.TxID, What: "input sum"}
		}
		is := inState{value: value}
		if u.st >= 0 {
			// Every tainted component moves one hop (spec §7.1). The stored state is
			// copied, not changed: a haircut output's evidence record shares it.
			if p := &e.states[u.st].st; e.kind == composition && p.wide == nil {
				is.narrow = p.narrow // haircut adds the hop itself
			} else {
				start := len(e.inBuf)
				e.inBuf = p.appendTo(e.inBuf, 1)
				is.st = e.inBuf[start:len(e.inBuf):len(e.inBuf)]
			}
			e.release(u.st)
			tainted = true
			e.inMovs = append(e.inMovs, u.mov)
		}
		e.ins = append(e.ins, is)
		e.inAddrs = append(e.inAddrs, u.addr) // for the self-change and internal-movement rules
	}
	if err := e.distributeUTXO(b, tx, &inSum, tainted, len(tx.Inputs) > 0, tp); err != nil {
		return err
	}
	if e.overflow {
		return e.overflowErr(b, tx.TxID, nil)
	}
	return nil
}

// sum adds v to the running total dst. Totals are 256 bits wide, as amounts are. Real
// chains never come near that, but input can: a token contract may log transfers of
// 2^255 units. A total that would wrap is recorded instead, and the transaction fails
// with ErrOverflow: a wrapped figure would be silently wrong.
func (e *Engine) sum(dst, v *uint256.Int) {
	if _, o := dst.AddOverflow(dst, v); o {
		e.overflow = true
	}
}

// overflowErr is the error of a transaction (and transfer x, when known) during which a
// total overflowed.
func (e *Engine) overflowErr(b *graph.Block, tx string, x *graph.Transfer) error {
	err := &OverflowError{Height: b.Height, Tx: tx}
	if x != nil {
		err.Transfer, err.Asset, err.Amount = x.ID, x.Asset, x.Amount
	}
	return err
}

// distributeUTXO distributes the inputs gathered in e.ins (worth inSum; tainted when any
// carries taint) to tx's outputs and its fee, and creates the outputs. hasIns is false for
// a coinbase that has no inputs: it creates new money and pays no fee.
func (e *Engine) distributeUTXO(b *graph.Block, tx *graph.UTXOTx, inSum *uint256.Int, tainted, hasIns bool, tp txPrep) error {
	var outSum uint256.Int
	e.values = e.values[:0]
	for i := range tx.Outputs {
		if _, o := outSum.AddOverflow(&outSum, &tx.Outputs[i].Value); o {
			return &OverflowError{Height: b.Height, Tx: tx.TxID, What: "output sum"}
		}
		e.values = append(e.values, tx.Outputs[i].Value)
	}
	var fee uint256.Int
	if !tx.Coinbase || hasIns {
		if outSum.Gt(inSum) {
			return fmt.Errorf("block %d tx %s: %w (in %s, out %s)", b.Height, tx.TxID, ErrOverspend, inSum.Dec(), outSum.Dec())
		}
		fee.Sub(inSum, &outSum)
	}
	n := len(tx.Outputs)
	if cap(e.outs) < n+1 {
		e.outs = make([][]seg, n+1)
	}
	e.outs = e.outs[:n+1]
	for i := range e.outs {
		e.outs[i] = nil
	}
	e.sp.narrowOuts = false
	if tainted {
		e.method.split(&e.sp, e.ins, e.values, &fee, e.outs)
		e.stats.TaintedTxs++
	}
	pos := graph.Position{Height: b.Height, TxIndex: tx.Index}
	key := tp.txKey
	if !tp.ok {
		key = keyOf(graph.Outpoint{TxID: tx.TxID})
	}
	// Haircut's 64-bit split leaves its outputs narrow. An output that no rule below
	// changes (no pruning configured, not at an exchange or seed) is packed from them
	// directly; any other is widened and takes the general path.
	narrowOK := e.sp.narrowOuts && e.cfg.Params.MinTaint.IsZero() && e.cfg.Params.MinFraction == nil && e.links == nil && !e.anyVenue
	for i := range tx.Outputs {
		out := &tx.Outputs[i]
		op := graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}
		key.i = uint32(i)
		st := e.outs[i]
		var nst []cseg
		if e.sp.narrowOuts {
			nst = e.sp.outs64[i]
		}
		var ai int32
		if tp.ok {
			ai = e.addrAt(tp.outAddr[i])
		} else {
			ai = e.addr(out.Address)
		}
		a := &e.addrs[ai]
		isSeed := a.seedSrc != 0
		opSeeded := len(e.opSeeds) > 0 && len(e.opSeeds[key]) > 0
		if len(nst) > 0 && narrowOK && e.cfg.Params.MaxHops != nil {
			nst = e.pruneHops64(nst, *e.cfg.Params.MaxHops)
		}
		if len(nst) > 0 {
			if narrowOK && a.exchange < 0 && !isSeed && !opSeeded {
				sp := packed{narrow: nst} // split64 carved it from the packer's slab
				mov := e.addMov(movement{
					kind: movOutput, ref: op.String(), tx: tx.TxID, pos: pos, to: out.Address, asset: graph.BTC,
					value: out.Value, taint: sp, parents: e.ev.parents(e.inMovs),
				})
				taint := sp.taint()
				e.receive(ai, &out.Value, &taint)
				if err := e.createOutput(b, tx, key, op, utxo{addr: ai, mov: mov, st: e.store(op, sp)}, &out.Value); err != nil {
					return err
				}
				continue
			}
			st = widen(e.sp.alloc(len(nst)), nst)
		}
		parents := e.inMovs
		lk := legInfo{in: -1, out: -1}
		if e.links != nil {
			var err error
			if lk, err = e.utxoLeg(b, tx, op); err != nil {
				return err
			}
			if lk.out >= 0 {
				// An out-leg: what the venue's outputs paid (clean: a venue holds no
				// taint) is replaced by its link's buffer rescaled to the output's value,
				// one hop further (spec §15.5).
				rs, node, err := e.linkOutState(lk.out, op.String(), graph.BTC, &out.Value)
				if err != nil {
					return fmt.Errorf("block %d tx %s: %w", b.Height, tx.TxID, err)
				}
				st = e.sp.alloc(len(rs))
				for _, g := range rs {
					if !g.c.clean() {
						g.c.hop++
					}
					st = append(st, g)
				}
				if hasTaint(st) {
					e.linkedIn(st, &out.Value)
				}
				e.parentsBuf = append(e.parentsBuf[:0], node)
				parents = e.parentsBuf
			}
		}
		if len(st) > 0 && !hasTaint(st) {
			st = nil // an all-CLEAN sequence is stored as clean
		}
		if len(st) > 0 {
			st = e.prune(st, &out.Value)
		}
		var mov int32 = -1
		var taint uint256.Int
		var movTaint packed
		if len(st) > 0 {
			taint = e.taintAmount(st, &out.Value)
			movTaint = e.pk.pack(e.outputTaint(st, &out.Value))
			mov = e.addMov(movement{
				kind: movOutput, ref: op.String(), tx: tx.TxID, pos: pos, to: out.Address, asset: graph.BTC,
				value: out.Value, taint: movTaint, parents: e.ev.parents(parents),
			})
		}
		if lk.out >= 0 {
			e.recordLinkOut(lk.out, op.String(), graph.BTC, &out.Value, st)
		}
		if lk.in >= 0 || a.venue {
			if lk.in >= 0 {
				if !a.venue {
					return fmt.Errorf("block %d tx %s: %w", b.Height, tx.TxID, &LinkError{Link: e.links.links[lk.in].def.ID, Leg: graph.Leg{Chain: e.cfg.Chain, Ref: op.String()}.String(),
						Reason: fmt.Sprintf("an in-leg does not pay a venue (%s is none)", out.Address)})
				}
				// An in-leg: its taint goes into the link's buffer (spec §15.3).
				if err := e.linkIn(lk.in, op.String(), graph.BTC, &out.Value, st, mov); err != nil {
					return fmt.Errorf("block %d tx %s: %w", b.Height, tx.TxID, err)
				}
			} else if len(st) > 0 {
				e.sinkAll(SinkVenueUnlinked, st, &out.Value) // a venue holds no taint (§15.4)
			}
			e.receive(ai, &out.Value, &taint)
			// The venue's output is clean.
			if err := e.createOutput(b, tx, key, op, utxo{addr: ai, mov: -1, st: -1}, &out.Value); err != nil {
				return err
			}
			continue
		}
		evMov := mov
		internal := e.receive(ai, &out.Value, &taint)
		if a.exchange >= 0 && !out.Value.IsZero() {
			// Under stop semantics every taint that arrives is absorbed, also on an
			// output of a transaction that spends the exchange's own outputs (v2 A.2).
			e.arrive(a.exchange, mov, &out.Value, st, internal)
			if e.cfg.Params.StopAtExchanges && len(st) > 0 {
				e.sinkAll(SinkExchangeAbsorbed, st, &out.Value)
				st, mov = nil, -1
			}
		}
		if isSeed && len(st) > 0 {
			e.sinkAll(SinkReturnedToSeed, st, &out.Value)
			st, mov = nil, -1
		}
		if len(st) > 0 && !isSeed && opSeeded {
			e.sinkAll(SinkOverridden, st, &out.Value)
			st, mov = nil, -1
		}
		if isSeed || opSeeded {
			st, mov = e.applyOutputSeeds(op, ai, out.Address, &out.Value, st, mov)
		}
		if out.Unspendable && len(st) == 0 {
			continue // never spent, carries nothing: no need to keep it
		}
		var sp packed
		if len(st) > 0 && mov == evMov && e.kind == composition {
			// Unchanged since its evidence record was made: a haircut state is its own
			// composition, so the two share one packed copy.
			sp = movTaint
		} else {
			sp = e.pk.pack(st)
		}
		if err := e.createOutput(b, tx, key, op, utxo{addr: ai, mov: mov, st: e.store(op, sp)}, &out.Value); err != nil {
			return err
		}
	}
	if e.cfg.Params.TaintFee && !tx.Coinbase {
		e.deferFee(tx, pos, e.outs[n], &fee)
	} else if fst := e.outs[n]; len(fst) > 0 {
		e.sinkAll(SinkFees, fst, &fee)
	}
	return nil
}

// receive records an output of value (carrying taint) to address ai in the address's
// received statistics (spec §10.3), unless it is self-change, a movement inside ai's
// exchange label, or a payment to a seed address. It reports whether the output is such
// an internal movement, which is no exchange deposit either (§10.2).
func (e *Engine) receive(ai int32, value, taint *uint256.Int) (internal bool) {
	a := &e.addrs[ai]
	selfChange := false
	for _, in := range e.inAddrs {
		if in == ai {
			selfChange = true
		}
		if a.exchange >= 0 && e.addrs[in].exchange == a.exchange {
			internal = true
		}
	}
	if !value.IsZero() && a.seedSrc == 0 && !selfChange && !internal {
		a.receives = true
		e.sum(&a.received, value)
		e.sum(&a.tainted, taint)
	}
	return internal
}

// createOutput adds the new unspent output u (key, op) worth value to the UTXO set.
func (e *Engine) createOutput(b *graph.Block, tx *graph.UTXOTx, key opKey, op graph.Outpoint, u utxo, value *uint256.Int) error {
	if old, dup := e.utxos[key]; dup {
		// A coinbase repeating a transaction id (Bitcoin before BIP 30 and 34: the
		// coinbases of mainnet blocks 91842 and 91880) overwrites the unspent output,
		// as in Bitcoin Core, which makes those coins unspendable. A clean one can go;
		// taint would vanish with a tainted one, so that is an error.
		if !tx.Coinbase || old.st >= 0 {
			if u.st >= 0 {
				e.release(u.st)
			}
			return fmt.Errorf("block %d tx %s: %w: output %s created twice", b.Height, tx.TxID, ErrDoubleSpend, op)
		}
		e.takeValue(key, &old)
	}
	e.setValue(key, &u, value)
	e.utxos[key] = u
	return nil
}

// ---- Params.TaintFee: fees flow to the block's coinbase (spec §7.7, BlockSci) ----

// feeEntry is one transaction's fee waiting for the block's coinbase: its state (in
// Engine.feeBuf; empty when clean), its value, and its evidence node (in Engine.feeMovs).
type feeEntry struct {
	st0, st1   int
	mov0, mov1 int
	value      uint256.Int
}

// deferFee keeps tx's fee (state st, worth fee) for the block's coinbase. A tainted fee
// gets an evidence node ("<txid>#fee"), so that the coinbase's outputs can be explained.
func (e *Engine) deferFee(tx *graph.UTXOTx, pos graph.Position, st []seg, fee *uint256.Int) {
	if fee.IsZero() {
		return
	}
	f := feeEntry{st0: len(e.feeBuf), mov0: len(e.feeMovs), value: *fee}
	if hasTaint(st) {
		e.feeBuf = append(e.feeBuf, st...) // st is scratch of this transaction: copy it
		e.feeMovs = append(e.feeMovs, e.addMov(movement{
			kind: movFee, ref: tx.TxID + "#fee", tx: tx.TxID, pos: pos, to: FeeSink, asset: graph.BTC,
			value: *fee, taint: e.pk.pack(e.aggregate(st, fee)), parents: e.ev.parents(e.inMovs),
		}))
	}
	f.st1, f.mov1 = len(e.feeBuf), len(e.feeMovs)
	e.fees = append(e.fees, f)
}

// applyFeeStream ends a block under TaintFee. The coinbase cb (nil if the block has none)
// takes as inputs, as BlockSci does, an untainted subsidy input and then every
// transaction's fee in transaction order, and its outputs are distributed by the method.
// The subsidy is what the coinbase claims beyond the block's fees: no chain's reward
// schedule is needed, and it equals the protocol subsidy whenever the miner claims the
// whole reward. Without a coinbase the fees go to the fees sink, as without TaintFee.
func (e *Engine) applyFeeStream(b *graph.Block, cb *graph.UTXOTx, tp txPrep) error {
	defer func() { e.fees, e.feeBuf, e.feeMovs = e.fees[:0], e.feeBuf[:0], e.feeMovs[:0] }()
	if cb == nil {
		for _, f := range e.fees {
			if f.st1 > f.st0 {
				e.sinkAll(SinkFees, e.feeBuf[f.st0:f.st1], &f.value)
			}
		}
		return nil
	}
	e.sp.reset()
	e.ins, e.inMovs, e.inAddrs, e.inBuf = e.ins[:0], e.inMovs[:0], e.inAddrs[:0], e.inBuf[:0]
	var fees, claimed, subsidy uint256.Int
	for _, f := range e.fees {
		e.sum(&fees, &f.value)
	}
	for i := range cb.Outputs {
		if _, o := claimed.AddOverflow(&claimed, &cb.Outputs[i].Value); o {
			return &OverflowError{Height: b.Height, Tx: cb.TxID, What: "output sum"}
		}
	}
	if claimed.Gt(&fees) {
		subsidy.Sub(&claimed, &fees)
	}
	inSum := subsidy
	e.ins = append(e.ins, inState{value: subsidy})
	tainted := false
	for _, f := range e.fees {
		var st []seg
		if f.st1 > f.st0 {
			// The coinbase is one more transaction the taint passes through.
			start := len(e.inBuf)
			for _, g := range e.feeBuf[f.st0:f.st1] {
				g.c.hop++
				e.inBuf = append(e.inBuf, g)
			}
			st = e.inBuf[start:len(e.inBuf):len(e.inBuf)]
			tainted = true
			e.inMovs = append(e.inMovs, e.feeMovs[f.mov0:f.mov1]...)
		}
		e.ins = append(e.ins, inState{st: st, value: f.value})
		e.sum(&inSum, &f.value)
	}
	return e.distributeUTXO(b, cb, &inSum, tainted, true, tp)
}

// store keeps a tainted output's state in the side table and returns its index (-1 for
// a clean output).
func (e *Engine) store(op graph.Outpoint, st packed) int32 {
	if st.len() == 0 {
		return -1
	}
	if e.ev.movs.log != nil && st.narrow != nil {
		// The evidence records are on disk: the live state is all that keeps this
		// memory, so it gets its own, freed when the output is spent. (A slab shared
		// with other states would stay as long as its longest-lived state.)
		st.narrow = append([]cseg(nil), st.narrow...)
	}
	if n := len(e.free); n > 0 {
		i := e.free[n-1]
		e.free = e.free[:n-1]
		e.states[i] = taintedUTXO{op: op, st: st}
		return i
	}
	e.states = append(e.states, taintedUTXO{op: op, st: st})
	return int32(len(e.states) - 1)
}

func (e *Engine) release(i int32) {
	e.states[i] = taintedUTXO{}
	e.free = append(e.free, i)
}

// keyOf returns the UTXO map key of op.
func keyOf(op graph.Outpoint) opKey {
	k := opKey{i: op.Index}
	if len(op.TxID) == 64 && decodeLowerHex(k.h[:], op.TxID) {
		return k
	}
	// Not a canonical txid: a collision with a real one would need a SHA-256 preimage.
	k.h = sha256.Sum256([]byte("chaintrace/txid\x00" + op.TxID))
	return k
}

// decodeLowerHex decodes 2·len(dst) lower-case hex digits; upper case is rejected so that
// two spellings of one txid cannot name two outputs.
func decodeLowerHex(dst []byte, s string) bool {
	for i := range dst {
		hi, lo := hexVal[s[2*i]], hexVal[s[2*i+1]]
		if hi|lo == 0xff {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// hexVal maps a lower-case hex digit to its value and anything else to 0xff (a table is
// several times faster than branches on the UTXO hot path).
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
	}
	return t
}()

// prune applies max_hops and then the dust rule to the state of one output or transfer
// worth value (spec §9.2), converting pruned components to CLEAN in place.
func (e *Engine) prune(st []seg, value *uint256.Int) []seg {
	p := &e.cfg.Params
	if p.MaxHops != nil {
		changed := false
		for i := range st {
			if !st[i].c.clean() && st[i].c.hop > *p.MaxHops {
				amt := st[i].amt
				if e.kind == sourceSet {
					amt = *value
				}
				s := &e.sinks[e.curAsset][SinkPrunedHops][st[i].c.src]
				e.sum(s, &amt)
				st[i].c = cleanComp
				changed = true
			}
		}
		if changed {
			st = e.normalize(st)
		}
	}
	if p.MinTaint.IsZero() && p.MinFraction == nil {
		return st
	}
	// Per source totals t_s.
	tot := e.srcTotals(st, value)
	changed := false
	for src := 1; src < len(tot); src++ {
		t := &tot[src]
		if t.IsZero() {
			continue
		}
		prune := t.Lt(&p.MinTaint)
		if !prune && p.MinFraction != nil {
			// t/value < num/den  ⇔  t·den < num·value (exact, 512-bit safe via big-free compare)
			prune = fracLess(t, value, &p.MinFraction.Num, &p.MinFraction.Den)
		}
		if !prune {
			continue
		}
		s := &e.sinks[e.curAsset][SinkPrunedDust][src]
		e.sum(s, t)
		for i := range st {
			if st[i].c.src == uint32(src) {
				st[i].c = cleanComp
			}
		}
		changed = true
	}
	if changed {
		st = e.normalize(st)
	}
	return st
}

// pruneHops64 is prune's max_hops rule on a narrow composition: components beyond
// maxHops go to the pruned_hops sink and leave the composition, in place (it is not yet
// shared).
func (e *Engine) pruneHops64(ns []cseg, maxHops uint32) []cseg {
	j := 0
	for _, g := range ns {
		if g.c.hop > maxHops {
			s := &e.sinks[e.curAsset][SinkPrunedHops][g.c.src]
			var amt uint256.Int
			amt.SetUint64(g.amt)
			e.sum(s, &amt)
			continue
		}
		ns[j] = g
		j++
	}
	return ns[:j]
}

// normalize drops CLEAN entries from sets and compositions and merges CLEAN runs in
// sequences; a state that is all CLEAN becomes nil.
func (e *Engine) normalize(st []seg) []seg {
	if e.kind != sequence {
		j := 0
		for i := range st {
			if !st[i].c.clean() {
				st[j] = st[i]
				j++
			}
		}
		st = st[:j]
		if e.kind == composition {
			// Components pruned to clean may have left duplicates of nothing; keep sorted.
			sort.Slice(st, func(a, b int) bool { return st[a].c.less(st[b].c) })
		}
	} else {
		st = mergeRuns(st)
	}
	for i := range st {
		if !st[i].c.clean() {
			return st
		}
	}
	return nil
}

// srcTotals returns t_s per source for a state worth value (poison: the full value).
func (e *Engine) srcTotals(st []seg, value *uint256.Int) []uint256.Int {
	if cap(e.srcTot) < len(e.sources) {
		e.srcTot = make([]uint256.Int, len(e.sources))
	}
	tot := e.srcTot[:len(e.sources)]
	for i := range tot {
		tot[i].Clear()
	}
	for i := range st {
		c := st[i].c
		if c.clean() {
			continue
		}
		if e.kind == sourceSet {
			tot[c.src] = *value
		} else {
			tot[c.src].Add(&tot[c.src], &st[i].amt)
		}
	}
	return tot
}

// sinkAll moves the taint of a state worth value into sink k, per source.
func (e *Engine) sinkAll(k Sink, st []seg, value *uint256.Int) {
	tot := e.srcTotals(st, value)
	for src := 1; src < len(tot); src++ {
		if !tot[src].IsZero() {
			e.sum(&e.sinks[e.curAsset][k][src], &tot[src])
		}
	}
}

// taintAmount is the tainted part of a state worth value: for poison the whole value.
func (e *Engine) taintAmount(st []seg, value *uint256.Int) uint256.Int {
	return e.taintPacked(&packed{wide: st}, value)
}

// outputTaint is the evidence record's composition of a new output. A haircut state is
// already its own aggregate (and, packed, is shared with the stored state).
func (e *Engine) outputTaint(st []seg, value *uint256.Int) []seg {
	if e.kind == composition {
		return st
	}
	return e.aggregate(st, value)
}

// aggregate returns the tainted components of a state, summed per component and sorted by
// (source, hop); for poison each source's amount is the full value.
func (e *Engine) aggregate(st []seg, value *uint256.Int) []seg {
	if e.kind == composition {
		// Already sorted and without CLEAN: a copy (into slab memory) is the aggregate.
		return e.sp.clone(st)
	}
	var out []seg
	for i := range st {
		if st[i].c.clean() {
			continue
		}
		amt := st[i].amt
		if e.kind == sourceSet {
			amt = *value
			out = append(out, seg{c: st[i].c, amt: amt})
			continue
		}
		out = compAdd(out, st[i].c, &amt)
	}
	return out
}

// fracLess reports whether t/v < num/den, exactly.
func fracLess(t, v, num, den *uint256.Int) bool {
	if v.IsZero() {
		return false
	}
	var lhsHi, rhsHi uint256.Int
	lhs := mulFull(t, den, &lhsHi)
	rhs := mulFull(num, v, &rhsHi)
	if c := lhsHi.Cmp(&rhsHi); c != 0 {
		return c < 0
	}
	return lhs.Lt(&rhs)
}

// mulFull returns the low 256 bits of x·y and stores the high 256 bits in hi.
func mulFull(x, y, hi *uint256.Int) uint256.Int {
	var lo uint256.Int
	var full [8]uint64
	// Schoolbook 256×256 → 512.
	for i := 0; i < 4; i++ {
		var carry uint64
		for j := 0; j < 4; j++ {
			h, l := bits.Mul64(x[i], y[j])
			l, c1 := bits.Add64(l, full[i+j], 0)
			l, c2 := bits.Add64(l, carry, 0)
			full[i+j] = l
			carry = h + c1 + c2
		}
		full[i+4] = carry
	}
	lo = uint256.Int{full[0], full[1], full[2], full[3]}
	*hi = uint256.Int{full[4], full[5], full[6], full[7]}
	return lo
}

func hasTaint(st []seg) bool {
	for i := range st {
		if !st[i].c.clean() {
			return true
		}
	}
	return false
}
