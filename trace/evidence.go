package trace

import (
	"errors"
	"fmt"
	"sort"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

type movKind uint8

const (
	movSeed movKind = iota
	movOutput
	movTransfer
	movFee // Params.TaintFee: a UTXO transaction's fee, on its way to the coinbase
	// movLink is a link's buffer (spec §15): its parents are the in-legs, and the out-legs
	// have it as their parent. ref is the link's id, to its kind and tx its evidence.
	movLink
)

// movement is one tainted arrival (an output or a transfer) or a seed, kept so that any
// figure can be explained. parents are the movements whose taint it carries on.
type movement struct {
	kind    movKind
	eng     uint16 // the engine (chain) that recorded it, in a multi-chain trace's shared evidence
	seed    int32  // seed index, for seed nodes
	ref     string
	tx      string
	pos     graph.Position
	from    graph.Address
	to      graph.Address
	asset   graph.Asset
	value   uint256.Int
	taint   packed
	parents []int32
}

type evidence struct {
	movs movList
	slab []int32
}

func (ev *evidence) add(m movement) int32 { return ev.movs.add(m) }

// addMov records a movement of this engine's chain.
func (e *Engine) addMov(m movement) int32 {
	m.eng = e.engID
	return e.ev.add(m)
}

// movList is an append-only list of movements in fixed-size chunks: growing it never
// copies what it holds (a replay can record millions of movements), and a copy of the
// list value is a snapshot of its first len() movements that later appends leave alone.
//
// With a record log (Engine.RecordTo) the movements of outputs, transfers and fees go to
// disk and the chunks hold only seeds and links (few, and a seed node is completed after
// it is made); ids still count every movement.
type movList struct {
	chunks [][]movement
	n      int        // movements in the chunks
	log    *recordLog // nil: every movement is in the chunks
	ids    int        // movements in all (= n without a log)
}

const movChunkBits = 12

func (l *movList) add(m movement) int32 {
	if l.log != nil && m.kind != movSeed && m.kind != movLink {
		l.log.append(&m)
		l.ids++
		return int32(l.ids - 1)
	}
	if l.n>>movChunkBits == len(l.chunks) {
		l.chunks = append(l.chunks, make([]movement, 0, 1<<movChunkBits))
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, m)
	l.n++
	if l.log != nil {
		l.log.pin(l.n - 1)
	}
	l.ids++
	return int32(l.ids - 1)
}

func (l *movList) len() int { return l.ids }

// mem returns the movement at position i of the chunks.
func (l *movList) mem(i int32) *movement {
	return &l.chunks[i>>movChunkBits][i&(1<<movChunkBits-1)]
}

// at returns movement i (0 ≤ i < len()) of a list without a record log.
func (l *movList) at(i int32) *movement { return l.mem(i) }

// get returns movement i, reading it from the record log when it is there. The returned
// movement of a log is a copy: changing it changes nothing.
func (l *movList) get(i int32) (*movement, error) {
	if l.log == nil {
		return l.mem(i), nil
	}
	off, _, err := l.log.entry(i)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return l.mem(int32(-1 - off)), nil
	}
	m, err := l.log.read(off)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// each calls fn with every movement of the list in id order; want, when not nil, may
// leave out movements of other kinds (records of those kinds on disk are not decoded).
func (l *movList) each(want func(movKind) bool, fn func(id int32, m *movement) error) error {
	if l.log == nil {
		for i := int32(0); i < int32(l.n); i++ {
			if err := fn(i, l.mem(i)); err != nil {
				return err
			}
		}
		return nil
	}
	return l.log.records(int32(l.ids), want, func(id int32, off int64, m *movement) error {
		if off < 0 {
			m = l.mem(int32(-1 - off)) // a pinned movement, kept in memory
		}
		return fn(id, m)
	})
}

// snapshot returns a view of the movements recorded so far.
func (l *movList) snapshot() movList {
	return movList{chunks: l.chunks[:len(l.chunks):len(l.chunks)], n: l.n, log: l.log, ids: l.ids}
}

func (ev *evidence) seedNode(i int, s Seed, ref string) int32 {
	return ev.add(movement{kind: movSeed, seed: int32(i), ref: ref, to: s.Address})
}

// seedNodeOf records the seed node of an output seed: what it paid and the taint seeded.
func (ev *evidence) seedNodeOf(i int, ref string, to graph.Address, value uint256.Int, taint packed) int32 {
	return ev.add(movement{kind: movSeed, seed: int32(i), ref: ref, to: to, value: value, taint: taint})
}

// parents copies ids (without -1 and duplicates) into slab memory.
func (ev *evidence) parents(ids []int32) []int32 {
	n := 0
	for _, id := range ids {
		if id >= 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if len(ev.slab)+n > cap(ev.slab) {
		c := 8192
		if n > c {
			c = n
		}
		ev.slab = make([]int32, 0, c)
	}
	start := len(ev.slab)
outer:
	for _, id := range ids {
		if id < 0 {
			continue
		}
		for _, p := range ev.slab[start:] {
			if p == id {
				continue outer
			}
		}
		ev.slab = append(ev.slab, id)
	}
	return ev.slab[start:len(ev.slab):len(ev.slab)]
}

// Step is one movement on an evidence path.
type Step struct {
	// Kind is "seed" for the path's origin, "output" (UTXO) or "transfer" (account).
	Kind string `json:"kind"`
	// Ref is the output ("txid:vout"), transfer id, or for a seed what it names (address,
	// outpoint or transfer).
	Ref    string        `json:"ref"`
	Tx     string        `json:"tx,omitempty"`
	Height uint64        `json:"height,omitempty"`
	From   graph.Address `json:"from,omitempty"`
	To     graph.Address `json:"to,omitempty"`
	Asset  graph.Asset   `json:"asset,omitempty"`
	Value  string        `json:"value,omitempty"`
	// Hop and Amount: the taint of the path's source this movement carried, at that hop.
	Hop    uint32 `json:"hop"`
	Amount string `json:"amount,omitempty"`
	// Seed describes the seed, for the origin step: its source and where it came from.
	Seed string `json:"seed,omitempty"`
	// Link names the link a "link" step passed through (spec §15): the taint of its
	// in-legs, carried onto the next step, an out-leg. Value is what went in.
	Link *StepLink `json:"link,omitempty"`
}

// StepLink identifies a link on an evidence path: its id, kind and evidence.
type StepLink struct {
	ID       string         `json:"id"`
	Kind     graph.LinkKind `json:"kind"`
	Evidence string         `json:"evidence,omitempty"`
}

// Path explains one component (source, hop) of a tainted movement: the chain of movements
// from a seed, each of which carried taint of Source at the preceding hop. Under haircut
// and poison taint mixes, so other paths may carry the same source; the path chosen
// follows, at each step back, the parent that carried the most.
type Path struct {
	Source string `json:"source"`
	Hop    uint32 `json:"hop"`
	Amount string `json:"amount"`
	Steps  []Step `json:"steps"` // from the seed to the explained movement
	// Complete is false if the chain could not be followed back to a seed (it then
	// starts at the earliest movement found).
	Complete bool `json:"complete"`
}

// ErrNoEvidence is returned by Evidence for a reference that carried no taint.
var ErrNoEvidence = errors.New("no tainted movement with that reference")

// movID returns the movement a reference names, building the index on first use.
func (r *Result) movID(ref string) (int32, bool, error) {
	if r.movs.log != nil {
		return r.diskMovID(ref)
	}
	r.movOnce.Do(func() {
		r.movIndex = make(map[string]int32, r.movs.len())
		for i := int32(0); i < int32(r.movs.len()); i++ {
			if m := r.movs.at(i); m.kind != movSeed && m.kind != movLink && m.eng == r.eng {
				r.movIndex[m.ref] = i
			}
		}
	})
	id, ok := r.movIndex[ref]
	return id, ok, nil
}

// Evidence explains a tainted output ("txid:vout"), transfer id or exchange deposit
// reference: one Path per (source, hop) component of its taint.
func (r *Result) Evidence(ref string) ([]Path, error) {
	id, ok, err := r.movID(ref)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoEvidence, ref)
	}
	m, err := r.movs.get(id)
	if err != nil {
		return nil, err
	}
	return r.paths(id, m.taint.unpack())
}

// paths walks each component of segs (part of movement id's taint) back to a seed.
func (r *Result) paths(id int32, segs []seg) ([]Path, error) {
	var paths []Path
	for _, g := range segs {
		p := Path{Source: r.sources[g.c.src], Hop: g.c.hop, Amount: g.amt.Dec()}
		var err error
		if p.Steps, p.Complete, err = r.walk(id, g.c); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// EvidenceLargest is Evidence restricted to the n largest components of ref's taint
// (largest amount first; equal amounts in (source, hop) order), with the number of
// components there are in all. A deep haircut history spreads a movement's taint over
// hundreds of (source, hop) components, each with a path as long as its hop: the largest
// few say why a figure is what it is, and Evidence gives the rest.
func (r *Result) EvidenceLargest(ref string, n int) (paths []Path, total int, err error) {
	id, ok, err := r.movID(ref)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, fmt.Errorf("%w: %q", ErrNoEvidence, ref)
	}
	m, err := r.movs.get(id)
	if err != nil {
		return nil, 0, err
	}
	segs := m.taint.unpack()
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].amt.Gt(&segs[j].amt) })
	if n >= 0 && len(segs) > n {
		segs = segs[:n]
	}
	paths, err = r.paths(id, segs)
	return paths, m.taint.len(), err
}

// walk follows component c of movement id back to a seed.
func (r *Result) walk(id int32, c comp) ([]Step, bool, error) {
	// A path back to a seed has one step per hop (and per link): sized once.
	rev := make([]Step, 0, min(int(c.hop)+2, 1024))
	complete := false
	for steps := 0; steps < 1_000_000; steps++ {
		m, err := r.mov(id)
		if err != nil {
			return nil, false, err
		}
		rev = append(rev, r.step(m, c))
		if m.kind == movSeed {
			complete = true
			break
		}
		// A link's buffer holds its in-legs' taint at the hop it arrived with: going back
		// from a link to an in-leg keeps the hop; every other step back is one hop less.
		sameHop := m.kind == movLink
		st, err := r.stepBack(id, m, c)
		if err != nil {
			return nil, false, err
		}
		if st.next < 0 {
			break
		}
		if !st.seed && !sameHop {
			c.hop--
		}
		id = st.next
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev, complete, nil
}

type walkKey struct {
	id int32
	c  comp
}

// walkStep is where a walk goes from a movement: next (-1: nowhere) and whether it is
// the seed node.
type walkStep struct {
	next int32
	seed bool
}

// maxWalkMemo bounds Result.walkNext (about 40 bytes an entry); past it the memo starts
// afresh.
const maxWalkMemo = 1 << 20

// stepBack chooses the parent of movement id (m) that carried component c: the seed
// node of c's source if there is one, else the parent holding the most of c one hop
// earlier (the same hop behind a link).
func (r *Result) stepBack(id int32, m *movement, c comp) (walkStep, error) {
	k := walkKey{id, c}
	r.walkMu.Lock()
	st, ok := r.walkNext[k]
	r.walkMu.Unlock()
	if ok {
		return st, nil
	}
	st = walkStep{next: -1}
	var best uint256.Int
	sameHop := m.kind == movLink
	for _, p := range m.parents {
		pm, err := r.mov(p)
		if err != nil {
			return walkStep{}, err
		}
		if pm.kind == movSeed {
			if r.seeds[pm.seed].Source == r.sources[c.src] {
				st = walkStep{next: p, seed: true}
				break
			}
			continue
		}
		want := c
		if !sameHop {
			if c.hop == 0 {
				continue
			}
			want.hop--
		}
		if g, ok := pm.taint.find(want); ok && (st.next < 0 || g.amt.Gt(&best)) {
			st.next, best = p, g.amt
		}
	}
	r.walkMu.Lock()
	if r.walkNext == nil || len(r.walkNext) >= maxWalkMemo {
		r.walkNext = make(map[walkKey]walkStep, 1024)
	}
	r.walkNext[k] = st
	r.walkMu.Unlock()
	return st, nil
}

func (r *Result) step(m *movement, c comp) Step {
	s := Step{Ref: m.ref, Tx: m.tx, Height: m.pos.Height, From: m.from, To: m.to, Asset: m.asset, Hop: c.hop}
	switch m.kind {
	case movSeed:
		s.Kind = "seed"
		s.Hop = 0
		sd := r.seeds[m.seed]
		s.Seed = sd.String()
		if sd.Origin != "" {
			s.Seed += "; " + sd.Origin
		}
		if !m.value.IsZero() {
			s.Value = m.value.Dec()
		}
		if g, ok := m.taint.find(comp{src: c.src}); ok { // seeded taint is at hop 0
			s.Amount = g.amt.Dec()
		}
		return s
	case movOutput:
		s.Kind = "output"
	case movFee:
		s.Kind = "fee"
	case movLink:
		s.Kind = "link"
		s.Link = &StepLink{ID: m.ref, Kind: graph.LinkKind(m.to), Evidence: m.tx}
		s.From, s.To, s.Tx = "", "", ""
	default:
		s.Kind = "transfer"
	}
	s.Value = m.value.Dec()
	if g, ok := m.taint.find(c); ok {
		s.Amount = g.amt.Dec()
	}
	return s
}
