package trace

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// ErrRecords is wrapped by the errors of an engine's record files (Engine.RecordTo): a
// failed write (a full disk), a failed read, a record that does not decode.
var ErrRecords = errors.New("trace records")

// recordLog keeps an engine's evidence movements on disk instead of in memory
// (Engine.RecordTo): on a long history they are nearly all of a replay's memory (every
// tainted output ever, each with its (source, hop) composition), while the live state
// (unspent tainted outputs, holdings) is a small part. Two append-only files:
//
//   - records: one varint-framed record per movement (encodeMov);
//   - index: 16 bytes per movement id, the record's offset (or, negative, the index of a
//     movement kept in memory: seeds and links, few and changed after they are made) and
//     a key, the movement's kind and a 56-bit hash of its reference, from which a Result
//     counts its records and builds a compact index for Evidence without reading them.
//
// Writes go through buffers; readers (a Result's Evidence, which may run on other
// goroutines while the engine goes on) read flushed bytes with ReadAt. The first write
// error is kept and fails the next ApplyBlock.
type recordLog struct {
	dir        string
	rec, idx   *os.File
	recW, idxW *bufio.Writer
	mu         sync.Mutex // guards the writers and the counters below
	recOff     int64      // bytes of records written (buffered or not)
	n          int64      // index entries written
	flushedN   int64      // index entries readable with ReadAt
	err        error
	buf        []byte
	closed     bool
	flushedRec int64 // bytes of records readable

	// Random reads (evidence walks) go through read-only mappings of the flushed files
	// where the system has them: a walk reads thousands of small records, and a pread
	// each was most of its time. rmu guards the mappings: readers copy out of them under
	// the read lock, and close unmaps them under the write lock.
	rmu     sync.RWMutex
	recMap  []byte
	idxMap  []byte
	oldMaps [][]byte // smaller mappings replaced by larger ones, unmapped at close
	noMap   bool     // mapping failed once: use ReadAt
}

const idxEntry = 16

func newRecordLog(dir string) (*recordLog, error) {
	d, err := os.MkdirTemp(dir, "chaintrace-records-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecords, err)
	}
	l := &recordLog{dir: d}
	if l.rec, err = os.Create(d + string(os.PathSeparator) + "movements"); err == nil {
		l.idx, err = os.Create(d + string(os.PathSeparator) + "index")
	}
	if err != nil {
		l.close()
		return nil, fmt.Errorf("%w: %w", ErrRecords, err)
	}
	l.recW, l.idxW = bufio.NewWriterSize(l.rec, 1<<20), bufio.NewWriterSize(l.idx, 1<<16)
	return l, nil
}

// append writes movement m's record and its index entry.
func (l *recordLog) append(m *movement) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		l.n++ // ids stay in step; the error fails the replay
		return
	}
	l.buf = encodeMov(l.buf[:0], m)
	var ent [idxEntry]byte
	binary.LittleEndian.PutUint64(ent[:8], uint64(l.recOff))
	binary.LittleEndian.PutUint64(ent[8:], entryKey(m))
	l.write(ent[:])
	l.recOff += int64(len(l.buf))
}

// pin writes the index entry of movement kept in memory at position i.
func (l *recordLog) pin(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		l.n++
		return
	}
	var ent [idxEntry]byte
	binary.LittleEndian.PutUint64(ent[:8], uint64(-1-int64(i)))
	l.buf = l.buf[:0]
	l.write(ent[:])
}

func (l *recordLog) write(ent []byte) {
	if _, err := l.recW.Write(l.buf); err != nil {
		l.err = err
	} else if _, err := l.idxW.Write(ent); err != nil {
		l.err = err
	}
	l.n++
}

// flush makes every entry written so far readable.
func (l *recordLog) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

func (l *recordLog) flushLocked() error {
	if l.err == nil && !l.closed && l.flushedN < l.n {
		if err := l.recW.Flush(); err != nil {
			l.err = err
		} else if err := l.idxW.Flush(); err != nil {
			l.err = err
		} else {
			l.flushedN, l.flushedRec = l.n, l.recOff
		}
	}
	return l.failed()
}

// failed returns the first write error, wrapped, or nil.
func (l *recordLog) failed() error {
	if l.err != nil {
		return fmt.Errorf("%w: writing %s: %w", ErrRecords, l.dir, l.err)
	}
	if l.closed {
		return fmt.Errorf("%w: %s: the engine was closed", ErrRecords, l.dir)
	}
	return nil
}

// failedNow is failed under the lock.
func (l *recordLog) failedNow() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed()
}

// close closes and removes the files.
func (l *recordLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	l.rmu.Lock()
	for _, m := range append(l.oldMaps, l.recMap, l.idxMap) {
		if m != nil {
			errs = append(errs, munmap(m))
		}
	}
	l.oldMaps, l.recMap, l.idxMap, l.noMap = nil, nil, nil, true
	l.rmu.Unlock()
	for _, f := range []*os.File{l.rec, l.idx} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	errs = append(errs, os.RemoveAll(l.dir))
	return errors.Join(errs...)
}

// mapRecords says whether random reads of the records file go through a mapping too, not
// only those of the index. Off: the pages of the records a walk touches would count in the
// process's resident memory (file-backed, reclaimable, but what an RSS limit sees), and
// the record file is the history's size.
const mapRecords = false

// readAt reads len(p) bytes at off of the records (idx false) or the index (idx true):
// from the mapping when it covers them, else after mapping what has been flushed, else
// with ReadAt.
func (l *recordLog) readAt(idx bool, p []byte, off int64) (int, error) {
	if !idx && !mapRecords {
		return l.rec.ReadAt(p, off)
	}
	if n, ok := l.fromMap(idx, p, off); ok {
		return n, nil
	}
	l.mu.Lock()
	size, closed := l.flushedRec, l.closed
	if idx {
		size = l.flushedN * idxEntry
	}
	l.mu.Unlock()
	if closed {
		return 0, l.failedNow()
	}
	l.rmu.Lock()
	cur := &l.recMap
	f := l.rec
	if idx {
		cur, f = &l.idxMap, l.idx
	}
	if !l.noMap && size > int64(len(*cur)) && size < 1<<46 {
		if m, err := mmapFile(f, int(size)); err == nil {
			if *cur != nil {
				l.oldMaps = append(l.oldMaps, *cur)
			}
			*cur = m
		} else {
			l.noMap = true
		}
	}
	l.rmu.Unlock()
	if n, ok := l.fromMap(idx, p, off); ok {
		return n, nil
	}
	if idx {
		return l.idx.ReadAt(p, off)
	}
	return l.rec.ReadAt(p, off)
}

// fromMap copies what the mapping holds of [off, off+len(p)); ok says it held the start
// and either all of p or the whole flushed file's rest (a short read at the end).
func (l *recordLog) fromMap(idx bool, p []byte, off int64) (int, bool) {
	l.rmu.RLock()
	defer l.rmu.RUnlock()
	m := l.recMap
	if idx {
		m = l.idxMap
	}
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, false
	}
	return copy(p, m[off:]), true
}

// entry returns index entry id: the record's offset (negative: a pinned movement) and
// the reference hash.
func (l *recordLog) entry(id int32) (int64, uint64, error) {
	if int64(id) >= l.readable() {
		if err := l.flush(); err != nil {
			return 0, 0, err
		}
	}
	var ent [idxEntry]byte
	if _, err := l.readAt(true, ent[:], int64(id)*idxEntry); err != nil {
		return 0, 0, fmt.Errorf("%w: %s: index entry %d: %w", ErrRecords, l.dir, id, err)
	}
	return int64(binary.LittleEndian.Uint64(ent[:8])), binary.LittleEndian.Uint64(ent[8:]), nil
}

func (l *recordLog) readable() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushedN
}

// read decodes the record at offset off.
func (l *recordLog) read(off int64) (movement, error) {
	var head [512]byte
	n, err := l.readAt(false, head[:], off)
	if err != nil && n == 0 {
		// Near the end of the file: read what there is.
		n, err = l.rec.ReadAt(head[:], off)
	}
	if n == 0 && err != nil {
		return movement{}, fmt.Errorf("%w: %s: record at %d: %w", ErrRecords, l.dir, off, err)
	}
	size, k := binary.Uvarint(head[:n])
	if k <= 0 || size > 1<<32 {
		return movement{}, fmt.Errorf("%w: %s: record at %d: bad length", ErrRecords, l.dir, off)
	}
	b := head[k:n]
	if uint64(len(b)) < size {
		b = make([]byte, size)
		if _, err := l.readAt(false, b, off+int64(k)); err != nil {
			return movement{}, fmt.Errorf("%w: %s: record at %d: %w", ErrRecords, l.dir, off, err)
		}
	}
	m, err := decodeMov(b[:size])
	if err != nil {
		return movement{}, fmt.Errorf("%w: %s: record at %d: %w", ErrRecords, l.dir, off, err)
	}
	return m, nil
}

// scan calls fn with every index entry of ids [0, n) in order, reading the index file
// sequentially.
func (l *recordLog) scan(n int32, fn func(id int32, off int64, hash uint64) error) error {
	if int64(n) > l.readable() {
		if err := l.flush(); err != nil {
			return err
		}
	}
	r := bufio.NewReaderSize(io.NewSectionReader(l.idx, 0, int64(n)*idxEntry), 1<<20)
	var ent [idxEntry]byte
	for id := int32(0); id < n; id++ {
		if _, err := io.ReadFull(r, ent[:]); err != nil {
			return fmt.Errorf("%w: %s: index entry %d: %w", ErrRecords, l.dir, id, err)
		}
		if err := fn(id, int64(binary.LittleEndian.Uint64(ent[:8])), binary.LittleEndian.Uint64(ent[8:])); err != nil {
			return err
		}
	}
	return nil
}

// records calls fn with every index entry of ids [0, n) in id order, with its record
// decoded when it is on disk (off ≥ 0; m is nil otherwise), reading the index and the
// records files sequentially in one pass.
//
// want, when not nil, says which kinds of record on disk to decode: the others are
// skipped undecoded (the index key has the kind), so a scan for one kind does not decode
// the rest. Pinned movements are always passed on.
func (l *recordLog) records(n int32, want func(movKind) bool, fn func(id int32, off int64, m *movement) error) error {
	if int64(n) > l.readable() {
		if err := l.flush(); err != nil {
			return err
		}
	}
	r := bufio.NewReaderSize(io.NewSectionReader(l.rec, 0, 1<<62), 1<<20)
	var pos int64
	var buf []byte
	return l.scan(n, func(id int32, off int64, key uint64) error {
		if off < 0 {
			return fn(id, off, nil) // pinned in memory; its entry has no key
		}
		if off != pos {
			return fmt.Errorf("%w: %s: record %d at %d, expected at %d", ErrRecords, l.dir, id, off, pos)
		}
		size, err := binary.ReadUvarint(r)
		if err != nil || size > 1<<32 {
			return fmt.Errorf("%w: %s: record %d: bad length", ErrRecords, l.dir, id)
		}
		if want != nil && !want(keyKind(key)) {
			if _, err := r.Discard(int(size)); err != nil {
				return fmt.Errorf("%w: %s: record %d: %w", ErrRecords, l.dir, id, err)
			}
			pos += int64(uvarintLen(size)) + int64(size)
			return nil
		}
		if uint64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("%w: %s: record %d: %w", ErrRecords, l.dir, id, err)
		}
		pos += int64(uvarintLen(size)) + int64(size)
		m, err := decodeMov(buf)
		if err != nil {
			return fmt.Errorf("%w: %s: record %d: %w", ErrRecords, l.dir, id, err)
		}
		return fn(id, off, &m)
	})
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// entryKey is an index entry's key: the movement's kind in the top byte, the low 56 bits
// of its reference's hash below (hashKey).
func entryKey(m *movement) uint64 { return uint64(m.kind)<<56 | hashKey(m.ref) }

// keyKind returns the movement kind of an index entry's key.
func keyKind(k uint64) movKind { return movKind(k >> 56) }

// hashKey is the low 56 bits of refHash.
func hashKey(ref string) uint64 { return refHash(ref) & (1<<56 - 1) }

// refHash is FNV-1a of a reference: the index entry's key for Evidence.
func refHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// ---- the record format ----
//
// uvarint size, then: kind, eng (uvarint), seed (varint), height, tx index (uvarint), tx,
// ref (a flag byte: 1 = ref is tx + the rest, 0 = whole), from, to, asset (uvarint length
// + bytes), value (length byte + big-endian bytes), taint (1 byte wide flag, uvarint
// count, per component src, hop, amount: uvarint when narrow, length byte + big-endian
// bytes when wide), parents (uvarint count, each id as a varint).

func encodeMov(dst []byte, m *movement) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0) // room for the size, fixed up below
	body := len(dst)
	dst = append(dst, byte(m.kind))
	dst = binary.AppendUvarint(dst, uint64(m.eng))
	dst = binary.AppendVarint(dst, int64(m.seed))
	dst = binary.AppendUvarint(dst, m.pos.Height)
	dst = binary.AppendUvarint(dst, uint64(m.pos.TxIndex))
	dst = appendStr(dst, m.tx)
	if m.tx != "" && strings.HasPrefix(m.ref, m.tx) {
		dst = append(dst, 1)
		dst = appendStr(dst, m.ref[len(m.tx):])
	} else {
		dst = append(dst, 0)
		dst = appendStr(dst, m.ref)
	}
	dst = appendStr(dst, string(m.from))
	dst = appendStr(dst, string(m.to))
	dst = appendStr(dst, string(m.asset))
	dst = appendU256(dst, &m.value)
	if m.taint.wide != nil {
		dst = append(dst, 1)
		dst = binary.AppendUvarint(dst, uint64(len(m.taint.wide)))
		for i := range m.taint.wide {
			g := &m.taint.wide[i]
			dst = binary.AppendUvarint(dst, uint64(g.c.src))
			dst = binary.AppendUvarint(dst, uint64(g.c.hop))
			dst = appendU256(dst, &g.amt)
		}
	} else {
		dst = append(dst, 0)
		dst = binary.AppendUvarint(dst, uint64(len(m.taint.narrow)))
		for _, g := range m.taint.narrow {
			dst = binary.AppendUvarint(dst, uint64(g.c.src))
			dst = binary.AppendUvarint(dst, uint64(g.c.hop))
			dst = binary.AppendUvarint(dst, g.amt)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.parents)))
	for _, p := range m.parents {
		dst = binary.AppendVarint(dst, int64(p))
	}
	// Move the body so that the size prefix is exactly as long as it needs to be.
	size := uint64(len(dst) - body)
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], size)
	copy(dst[start+5-k:], pre[:k])
	return append(dst[:start], dst[start+5-k:]...)
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendU256(dst []byte, v *uint256.Int) []byte {
	b := v.Bytes() // big-endian, no leading zeros
	dst = append(dst, byte(len(b)))
	return append(dst, b...)
}

// movDecoder reads a record's fields, keeping the first error.
type movDecoder struct {
	b   []byte
	err error
}

func (d *movDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("truncated or malformed %s", what)
	}
}

func (d *movDecoder) byte1(what string) byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail(what)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *movDecoder) uvarint(what string, max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Uvarint(d.b)
	if k <= 0 || v > max {
		d.fail(what)
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *movDecoder) varint(what string, lo, hi int64) int64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Varint(d.b)
	if k <= 0 || v < lo || v > hi {
		d.fail(what)
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *movDecoder) str(what string) string {
	n := d.uvarint(what, 1<<32)
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail(what)
	}
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *movDecoder) u256(what string) uint256.Int {
	var v uint256.Int
	n := int(d.byte1(what))
	if d.err != nil || n > 32 || n > len(d.b) {
		d.fail(what)
		return v
	}
	v.SetBytes(d.b[:n])
	d.b = d.b[n:]
	return v
}

// decodeMov decodes a record body (without its size prefix).
func decodeMov(b []byte) (movement, error) {
	d := movDecoder{b: b}
	var m movement
	kind := d.byte1("kind")
	if kind > byte(movLink) {
		d.fail("kind")
	}
	m.kind = movKind(kind)
	m.eng = uint16(d.uvarint("engine", 1<<16-1))
	m.seed = int32(d.varint("seed", -1<<31, 1<<31-1))
	m.pos.Height = d.uvarint("height", 1<<63)
	m.pos.TxIndex = uint32(d.uvarint("tx index", 1<<32-1))
	m.tx = d.str("tx")
	switch d.byte1("ref flag") {
	case 0:
		m.ref = d.str("ref")
	case 1:
		m.ref = m.tx + d.str("ref")
	default:
		d.fail("ref flag")
	}
	m.from = graph.Address(d.str("from"))
	m.to = graph.Address(d.str("to"))
	m.asset = graph.Asset(d.str("asset"))
	m.value = d.u256("value")
	wide := d.byte1("taint flag")
	n := d.uvarint("taint length", uint64(len(d.b))) // every component takes at least 3 bytes
	switch {
	case d.err != nil:
	case wide == 0 && n > 0:
		m.taint.narrow = make([]cseg, n)
		for i := range m.taint.narrow {
			g := &m.taint.narrow[i]
			g.c.src = uint32(d.uvarint("source", 1<<32-1))
			g.c.hop = uint32(d.uvarint("hop", 1<<32-1))
			g.amt = d.uvarint("amount", 1<<64-1)
		}
	case wide == 1:
		m.taint.wide = make([]seg, n)
		for i := range m.taint.wide {
			g := &m.taint.wide[i]
			g.c.src = uint32(d.uvarint("source", 1<<32-1))
			g.c.hop = uint32(d.uvarint("hop", 1<<32-1))
			g.amt = d.u256("amount")
		}
	case wide > 1:
		d.fail("taint flag")
	}
	if np := d.uvarint("parents", uint64(len(d.b))); np > 0 && d.err == nil {
		m.parents = make([]int32, np)
		for i := range m.parents {
			m.parents[i] = int32(d.varint("parent", -1<<31, 1<<31-1))
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("record (bytes left over)")
	}
	if d.err != nil {
		return movement{}, d.err
	}
	return m, nil
}

// uvarintOf decodes a record's size prefix.
func uvarintOf(b []byte) (uint64, int) { return binary.Uvarint(b) }

// ---- a Result's reads of the records on disk ----

// diskIndex is a Result's index of its records on disk, built on the first Evidence call:
// the references' hashes, sorted, with their movement ids — 12 bytes per record instead
// of a map of every reference string.
type diskIndex struct {
	hashes []uint64
	ids    []int32
}

func (x *diskIndex) Len() int { return len(x.hashes) }
func (x *diskIndex) Less(i, j int) bool {
	return x.hashes[i] < x.hashes[j] || x.hashes[i] == x.hashes[j] && x.ids[i] < x.ids[j]
}
func (x *diskIndex) Swap(i, j int) {
	x.hashes[i], x.hashes[j] = x.hashes[j], x.hashes[i]
	x.ids[i], x.ids[j] = x.ids[j], x.ids[i]
}

// diskMovID is movID for records on disk: the last record of ref (as the in-memory index
// keeps), found by its hash and checked against the record.
func (r *Result) diskMovID(ref string) (int32, bool, error) {
	if r.recErr != nil {
		return 0, false, r.recErr
	}
	r.movOnce.Do(func() {
		n := r.movs.len() // an upper bound (seeds and links are in memory), sized once
		x := &diskIndex{hashes: make([]uint64, 0, n), ids: make([]int32, 0, n)}
		r.idxErr = r.movs.log.scan(int32(r.movs.len()), func(id int32, off int64, h uint64) error {
			if off >= 0 {
				x.hashes = append(x.hashes, h&(1<<56-1))
				x.ids = append(x.ids, id)
			}
			return nil
		})
		sort.Sort(x)
		r.diskIdx = x
	})
	if r.idxErr != nil {
		return 0, false, r.idxErr
	}
	x := r.diskIdx
	h := hashKey(ref)
	i := sort.Search(len(x.hashes), func(i int) bool { return x.hashes[i] >= h })
	found := int32(-1)
	for ; i < len(x.hashes) && x.hashes[i] == h; i++ {
		m, err := r.mov(x.ids[i])
		if err != nil {
			return 0, false, err
		}
		if m.ref == ref && m.kind != movSeed && m.kind != movLink && m.eng == r.eng {
			found = x.ids[i] // ids ascend within a hash: the last one wins
		}
	}
	return found, found >= 0, nil
}

// Close removes the records on disk that a Result of an engine with RecordTo reads
// (they are the engine's: its Close does the same, and either may come first); reading
// the records afterwards fails. It lets a program that keeps the Result for a report
// drop the engine, and the engine's live state with it, before reading the records.
func (r *Result) Close() error {
	if r.movs.log == nil {
		return nil
	}
	return r.movs.log.close()
}

// movCacheSize bounds a Result's cache of movements read from disk.
const movCacheSize = 1 << 16

// mov returns movement id, from the Result's cache when it was read recently: an
// evidence walk reads the same ancestors for every (source, hop) component it explains.
func (r *Result) mov(id int32) (*movement, error) {
	if r.movs.log == nil {
		return r.movs.at(id), nil
	}
	r.cacheMu.Lock()
	m, ok := r.movCache[id]
	r.cacheMu.Unlock()
	if ok {
		return m, nil
	}
	m, err := r.movs.get(id)
	if err != nil {
		return nil, err
	}
	r.cacheMu.Lock()
	if r.movCache == nil || len(r.movCache) >= movCacheSize {
		r.movCache = make(map[int32]*movement, 1024)
	}
	r.movCache[id] = m
	r.cacheMu.Unlock()
	return m, nil
}
