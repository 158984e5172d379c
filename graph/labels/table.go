package labels

import (
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/chaintrace/chaintrace/graph"
)

// table is the one in-memory form of labels, shared by a Set and by the loaders that fill it
// while they read: a label is a rec of small numbers into tables of the strings, lists and
// dates it shares with other labels (entity, chain, category, document, URL, file, …: a
// list of a million rows has a handful of each), plus its address. Addresses and interned
// strings are copied into large byte chunks, so a label holds no pointer into the input it
// was read from (encoding/csv hands out fields that share one string per record) and the
// garbage collector sees few objects.
type table struct {
	recs   []rec
	strs   []string // strs[0] == ""
	strIDs map[string]uint32
	lists  [][]string // lists[0] == nil
	listID map[string]uint32
	times  []time.Time // times[0] is the zero time
	timeID map[time.Time]uint32
	profs  []profile
	profID map[profile]uint32
	// bigLines holds the lines of records whose Source.Line is negative or past 2³²−1
	// (never from a file; a Label built by hand may say anything).
	bigLines map[int]int
	arena    arena
}

// rec is one label: 32 bytes. The fields that vary from row to row in real lists (address,
// tag text, listing date, line) are its own; the rest, which a list's rows share (chain,
// category, entity, document, file, …), are one profile, interned.
type rec struct {
	addr   graph.Address // in table.arena
	prof   uint32        // table.profs
	name   uint32        // table.strs
	listed uint32        // table.times
	line   uint32        // Source.Line; bigLine when it does not fit (see table.bigLines)
}

const bigLine = ^uint32(0)

// profile is what labels share. Every field is an index into table.strs, .lists or .times.
type profile struct {
	chain, category, confidence             uint32
	entity, entityID, nexus, incident, role uint32
	programs, tags                          uint32 // table.lists
	withdrawn                               uint32 // table.times
	document, url, dateText, file           uint32
}

// arena holds string bytes in chunks that are never moved, so strings made over them stay
// valid; a string longer than a chunk gets a chunk of its own.
type arena struct {
	cur []byte
}

const arenaChunk = 256 << 10

func (a *arena) clone(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > cap(a.cur)-len(a.cur) {
		a.cur = make([]byte, 0, max(arenaChunk, len(s)))
	}
	start := len(a.cur)
	a.cur = append(a.cur, s...)
	b := a.cur[start:len(a.cur):len(a.cur)]
	return unsafe.String(&b[0], len(b))
}

func newTable() *table {
	return &table{
		strs: []string{""}, strIDs: map[string]uint32{},
		lists: [][]string{nil}, listID: map[string]uint32{},
		times: []time.Time{{}}, timeID: map[time.Time]uint32{},
		profID: map[profile]uint32{},
	}
}

func (t *table) str(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := t.strIDs[s]; ok {
		return id
	}
	c := t.arena.clone(s)
	id := uint32(len(t.strs))
	t.strs = append(t.strs, c)
	t.strIDs[c] = id
	return id
}

func (t *table) list(l []string) uint32 {
	if l == nil {
		return 0
	}
	var k strings.Builder
	for _, s := range l {
		k.WriteString(strconv.Itoa(len(s)))
		k.WriteByte(':')
		k.WriteString(s)
	}
	key := k.String()
	if id, ok := t.listID[key]; ok {
		return id
	}
	c := make([]string, len(l))
	for i, s := range l {
		c[i] = t.strs[t.str(s)]
	}
	id := uint32(len(t.lists))
	t.lists = append(t.lists, c)
	t.listID[key] = id
	return id
}

func (t *table) time(v time.Time) uint32 {
	if v == (time.Time{}) {
		return 0
	}
	if id, ok := t.timeID[v]; ok {
		return id
	}
	id := uint32(len(t.times))
	t.times = append(t.times, v)
	t.timeID[v] = id
	return id
}

// put appends l and returns its record number.
func (t *table) put(l *Label) int {
	p := profile{
		chain: t.str(string(l.Chain)), category: t.str(string(l.Category)), confidence: t.str(string(l.Confidence)),
		entity: t.str(l.Entity), entityID: t.str(l.EntityID), nexus: t.str(l.Nexus),
		incident: t.str(l.Incident), role: t.str(l.Role),
		programs: t.list(l.Programs), tags: t.list(l.Tags), withdrawn: t.time(l.Withdrawn),
		document: t.str(l.Source.Document), url: t.str(l.Source.URL), dateText: t.str(l.Source.DateText),
		file: t.str(l.Source.File),
	}
	pid, ok := t.profID[p]
	if !ok {
		pid = uint32(len(t.profs))
		t.profs = append(t.profs, p)
		t.profID[p] = pid
	}
	line := uint32(l.Source.Line)
	if l.Source.Line < 0 || int64(l.Source.Line) >= int64(bigLine) {
		line = bigLine
		if t.bigLines == nil {
			t.bigLines = map[int]int{}
		}
		t.bigLines[len(t.recs)] = l.Source.Line
	}
	t.recs = append(t.recs, rec{
		addr: graph.Address(t.arena.clone(string(l.Address))),
		prof: pid, name: t.str(l.Name), listed: t.time(l.Listed), line: line,
	})
	return len(t.recs) - 1
}

// p returns the profile of r.
func (t *table) p(r *rec) *profile { return &t.profs[r.prof] }

// lineOf returns r's Source.Line; i is r's record number.
func (t *table) lineOf(i int) int {
	if l := t.recs[i].line; l != bigLine {
		return int(l)
	}
	return t.bigLines[i]
}

// truncate forgets the records from n on (a file that failed half-way). Interned strings
// stay: they may be shared with earlier records.
func (t *table) truncate(n int) {
	for i := range t.bigLines {
		if i >= n {
			delete(t.bigLines, i)
		}
	}
	clear(t.recs[n:])
	t.recs = t.recs[:n]
}

func cloneList(l []string) []string {
	if l == nil {
		return nil
	}
	return append([]string(nil), l...)
}

// label returns record i as a Label; its slices are the caller's.
func (t *table) label(i int) Label {
	r := &t.recs[i]
	p := t.p(r)
	return Label{
		Chain: graph.Chain(t.strs[p.chain]), Address: r.addr,
		Entity: t.strs[p.entity], EntityID: t.strs[p.entityID], Name: t.strs[r.name],
		Category: Category(t.strs[p.category]), Nexus: t.strs[p.nexus],
		Programs: cloneList(t.lists[p.programs]), Incident: t.strs[p.incident], Role: t.strs[p.role],
		Tags: cloneList(t.lists[p.tags]), Confidence: Confidence(t.strs[p.confidence]),
		Listed: t.times[r.listed], Withdrawn: t.times[p.withdrawn],
		Source: Source{Document: t.strs[p.document], URL: t.strs[p.url], DateText: t.strs[p.dateText],
			File: t.strs[p.file], Line: t.lineOf(i)},
	}
}

// Accessors the queries use without building a Label.
func (t *table) chainOf(r *rec) graph.Chain     { return graph.Chain(t.strs[t.p(r).chain]) }
func (t *table) categoryOf(r *rec) Category     { return Category(t.strs[t.p(r).category]) }
func (t *table) confidenceOf(r *rec) Confidence { return Confidence(t.strs[t.p(r).confidence]) }
func (t *table) listedOf(r *rec) time.Time      { return t.times[r.listed] }
func (t *table) withdrawnOf(r *rec) time.Time   { return t.times[t.p(r).withdrawn] }
func (t *table) entityOf(r *rec) string         { return t.strs[t.p(r).entity] }
func (t *table) incidentOf(r *rec) string       { return t.strs[t.p(r).incident] }
func (t *table) level(r *rec) int               { return t.confidenceOf(r).Level() }
func (t *table) activeAt(r *rec, at time.Time) bool {
	if at.IsZero() {
		return true
	}
	if l := t.listedOf(r); !l.IsZero() && at.Before(l) {
		return false
	}
	w := t.withdrawnOf(r)
	return w.IsZero() || at.Before(w)
}

// seedSource is Label.SeedSource of a record.
func (t *table) seedSource(r *rec) string {
	if p := t.p(r); p.incident != 0 {
		return t.strs[p.incident]
	}
	return Slug(t.entityOf(r))
}

// origin is Label.Source.String of record i.
func (t *table) origin(i int) string {
	p := t.p(&t.recs[i])
	return Source{Document: t.strs[p.document], URL: t.strs[p.url], File: t.strs[p.file], Line: t.lineOf(i)}.String()
}

// dedup finds, among the records one file added, a record with the same
// chain, address, category and source document: an open-addressing hash table of record
// numbers, 8 bytes a label, instead of a map of string keys.
type dedup struct {
	t      *table
	file   string
	slots  []uint32 // record number + 1; 0 is empty
	n      int
	seed   maphash.Seed
	shared bool // see check
}

func newDedup(t *table, file string) *dedup {
	return &dedup{t: t, file: file, seed: maphash.MakeSeed()}
}

func (d *dedup) hash(r *rec) uint64 {
	p := d.t.p(r)
	h := maphash.String(d.seed, string(r.addr))
	// The chain, category and document numbers are mixed in (splitmix64's finalizer).
	x := h ^ (uint64(p.chain) | uint64(p.category)<<20 | uint64(p.document)<<40)
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func (d *dedup) sameKey(a, b *rec) bool {
	if a.addr != b.addr {
		return false
	}
	pa, pb := d.t.p(a), d.t.p(b)
	return pa.chain == pb.chain && pa.category == pb.category && pa.document == pb.document
}

// find returns the slot of r's key: holding an earlier record with that key, or empty.
func (d *dedup) find(r *rec) int {
	mask := len(d.slots) - 1
	for i := int(d.hash(r)) & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 || d.sameKey(&d.t.recs[s-1], r) {
			return i
		}
	}
}

func (d *dedup) grow() {
	old := d.slots
	d.slots = make([]uint32, max(64, 2*len(old)))
	for _, s := range old {
		if s != 0 {
			d.slots[d.find(&d.t.recs[s-1])] = s
		}
	}
}

// check decides about the record just put (the table's last): the same address in the same
// category from the same source document with the same entity again is a warning and the
// record is dropped; with another entity it is an error naming both lines (or, with
// shared, a WarnShared warning and both kept). Category is part of the key: one source may
// say an address is both an exchange and sanctioned; that is reported by Set.Conflicts,
// not here.
func (d *dedup) check(b *Batch, line int) error {
	t := d.t
	i := len(t.recs) - 1
	r := &t.recs[i]
	if 2*(d.n+1) > len(d.slots) {
		d.grow()
	}
	slot := d.find(r)
	if d.slots[slot] == 0 {
		d.slots[slot] = uint32(i + 1)
		d.n++
		return nil
	}
	prevI := int(d.slots[slot] - 1)
	prev := &t.recs[prevI]
	chain, addr, entity, prevEntity := t.chainOf(r), r.addr, t.entityOf(r), t.entityOf(prev)
	if strings.EqualFold(prevEntity, entity) {
		b.warn(WarnDuplicate, d.file, line, string(addr), "%s %s again (first on line %d); kept the first", chain, addr, t.lineOf(prevI))
		t.truncate(i)
		return nil
	}
	if d.shared {
		b.warn(WarnShared, d.file, line, string(addr), "%s %s is listed for %q and for %q (line %d); both kept", chain, addr, entity, prevEntity, t.lineOf(prevI))
		return nil
	}
	err := errAt(d.file, line, fmtConflict(chain, addr, entity, prevEntity, t.lineOf(prevI)))
	t.truncate(i)
	return err
}

func fmtConflict(c graph.Chain, a graph.Address, entity, prev string, prevLine int) error {
	return fmt.Errorf("%w: %s %s is %q here but %q on line %d", ErrConflictingEntity, c, a, entity, prev, prevLine)
}

// validFrom checks the records from n on as Set.Add checks labels, but for the address,
// which the loaders have canonicalized.
func (t *table) validFrom(n int) error {
	for i := n; i < len(t.recs); i++ {
		r := &t.recs[i]
		bad := strings.TrimSpace(t.entityOf(r)) == "" || !categories[t.categoryOf(r)]
		if _, ok := confidenceLevels[t.confidenceOf(r)]; !ok {
			bad = true
		}
		if w, l := t.withdrawnOf(r), t.listedOf(r); !w.IsZero() && !l.IsZero() && w.Before(l) {
			bad = true
		}
		if bad {
			l := t.label(i)
			return validFields(&l, fmt.Sprintf("label %s %.100s", l.Chain, l.Address))
		}
	}
	return nil
}
