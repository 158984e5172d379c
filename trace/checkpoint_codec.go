package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// The checkpoint encoding: the magic "CTCK", the version (uvarint), then the snapshot's
// fields in declaration order. Integers are varints, strings and lists are length-prefixed,
// amounts are a length byte and that many big-endian bytes (minimal). It replaced gob, which
// spent 80% of a checkpoint's time in reflection and sized decoded maps by an unchecked
// count. The reader checks every length against the bytes that remain, so damaged input is
// an error, never a huge allocation or a panic; the snapshot's indices are checked after
// (snapshot.check).

var checkpointMagic = []byte("CTCK")

type ckWriter struct{ b []byte }

func (w *ckWriter) uv(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *ckWriter) iv(v int64)  { w.b = binary.AppendVarint(w.b, v) }
func (w *ckWriter) str(s string) {
	w.uv(uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *ckWriter) flag(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *ckWriter) amt(a *uint256.Int) {
	n := (a.BitLen() + 7) / 8
	full := a.Bytes32()
	w.b = append(append(w.b, byte(n)), full[32-n:]...)
}
func (w *ckWriter) pos(p graph.Position) {
	w.uv(p.Height)
	w.uv(uint64(p.TxIndex))
	w.iv(int64(p.Seq))
}
func (w *ckWriter) segs(ss []snapSeg) {
	w.uv(uint64(len(ss)))
	for i := range ss {
		w.uv(uint64(ss[i].Src))
		w.uv(uint64(ss[i].Hop))
		w.amt(&ss[i].Amt)
	}
}
func (w *ckWriter) i32s(v []int32) {
	w.uv(uint64(len(v)))
	for _, x := range v {
		w.iv(int64(x))
	}
}

// encodeSnapshot appends the encoding of s to dst.
func encodeSnapshot(dst []byte, s *snapshot) []byte {
	w := &ckWriter{b: append(dst, checkpointMagic...)}
	w.uv(uint64(s.Version))
	w.b = append(w.b, s.Config[:]...)
	w.uv(uint64(len(s.Sources)))
	for _, src := range s.Sources {
		w.str(src)
	}
	w.uv(uint64(len(s.Assets)))
	for _, a := range s.Assets {
		w.str(string(a))
	}
	w.uv(uint64(len(s.Addrs)))
	for i := range s.Addrs {
		a := &s.Addrs[i]
		w.str(string(a.Name))
		w.uv(uint64(a.SeedSrc))
		w.iv(int64(a.SeedIdx))
		w.iv(int64(a.SeedMov))
		w.iv(int64(a.Exchange))
		w.amt(&a.Received)
		w.amt(&a.Tainted)
		w.flag(a.Receives)
	}
	w.uv(uint64(len(s.UTXOs)))
	for i := range s.UTXOs {
		u := &s.UTXOs[i]
		w.b = append(w.b, u.H[:]...)
		w.uv(uint64(u.I))
		w.amt(&u.Value)
		w.iv(int64(u.Addr))
		w.iv(int64(u.Mov))
		w.iv(int64(u.St))
	}
	w.uv(uint64(len(s.States)))
	for i := range s.States {
		w.str(s.States[i].TxID)
		w.uv(uint64(s.States[i].Index))
		w.segs(s.States[i].St)
	}
	w.i32s(s.Free)
	w.uv(uint64(len(s.Holdings)))
	for i := range s.Holdings {
		h := &s.Holdings[i]
		w.str(string(h.Addr))
		w.str(string(h.Asset))
		w.amt(&h.Bal)
		w.segs(h.St)
		w.uv(uint64(len(h.Contrib)))
		for j := range h.Contrib {
			c := &h.Contrib[j]
			w.uv(uint64(c.Src))
			w.uv(uint64(c.Hop))
			w.iv(int64(c.Mov))
			w.amt(&c.Amt)
		}
		w.amt(&h.Received)
		w.amt(&h.Tainted)
		w.flag(h.Receives)
	}
	w.uv(uint64(len(s.SeedUsed)))
	for _, u := range s.SeedUsed {
		w.flag(u)
	}
	w.uv(uint64(len(s.Injected)))
	for _, inj := range s.Injected {
		w.uv(uint64(len(inj)))
		for i := range inj {
			w.amt(&inj[i])
		}
	}
	w.uv(uint64(len(s.Sinks)))
	for _, row := range s.Sinks {
		w.uv(uint64(len(row)))
		for _, sk := range row {
			w.uv(uint64(len(sk)))
			for i := range sk {
				w.amt(&sk[i])
			}
		}
	}
	w.uv(uint64(len(s.Movs)))
	for i := range s.Movs {
		m := &s.Movs[i]
		w.b = append(w.b, m.Kind)
		w.iv(int64(m.Seed))
		w.str(m.Ref)
		w.str(m.Tx)
		w.pos(m.Pos)
		w.str(string(m.From))
		w.str(string(m.To))
		w.str(string(m.Asset))
		w.amt(&m.Value)
		w.segs(m.Taint)
		w.i32s(m.Parents)
	}
	w.uv(uint64(len(s.Exposure)))
	for i := range s.Exposure {
		w.uv(uint64(len(s.Exposure[i].Rows)))
		for j := range s.Exposure[i].Rows {
			x := &s.Exposure[i].Rows[j]
			w.iv(int64(x.Asset))
			w.amt(&x.Received)
			w.amt(&x.Tainted)
			w.amt(&x.Direct)
			w.amt(&x.Indirect)
			w.segs(x.BySource)
			w.flag(x.HasBySource)
			w.segs(x.BySourceHop)
			w.i32s(x.Deposits)
		}
	}
	w.flag(s.Started)
	w.pos(s.Last)
	st := &s.Stats
	for _, v := range []uint64{st.Blocks, st.Txs, st.Transfers, st.TaintedTxs, st.OutsideWindowInputs, st.ImplicitBalanceDebits} {
		w.uv(v)
	}
	w.uv(uint64(len(st.UnusedSeeds)))
	for _, u := range st.UnusedSeeds {
		w.str(u)
	}
	w.uv(st.SkippedTransfers) // since version 4
	w.uv(uint64(len(s.Links)))
	for i := range s.Links {
		l := &s.Links[i]
		w.amt(&l.Value)
		w.segs(l.Buf)
		w.str(string(l.AssetIn))
		w.iv(int64(l.Ins))
		w.i32s(l.InMovs)
		w.iv(int64(l.Node))
		w.uv(uint64(len(l.Outs)))
		for j := range l.Outs {
			o := &l.Outs[j]
			w.str(o.Ref)
			w.str(string(o.Asset))
			w.amt(&o.Value)
			w.segs(o.Taint)
		}
	}
	w.uv(uint64(len(s.LegsSeen)))
	for _, ref := range s.LegsSeen {
		w.str(ref)
	}
	w.uv(uint64(len(s.LinkedIn)))
	for _, li := range s.LinkedIn {
		w.uv(uint64(len(li)))
		for i := range li {
			w.amt(&li[i])
		}
	}
	w.uv(uint64(len(s.HoldOpen)))
	for i := range s.HoldOpen {
		w.amt(&s.HoldOpen[i].Implicit)
		w.flag(s.HoldOpen[i].Opened)
	}
	w.uv(uint64(len(s.OpeningUnknown)))
	for _, h := range s.OpeningUnknown {
		w.str(string(h.Address))
		w.str(string(h.Asset))
	}
	return w.b
}

type ckReader struct {
	b    []byte
	err  error
	slab []snapSeg // taint lists are carved from it
}

var errCkShort = errors.New("truncated")

func (r *ckReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *ckReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(errCkShort)
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *ckReader) uv() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errors.New("bad unsigned varint"))
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *ckReader) iv() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errors.New("bad varint"))
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *ckReader) u32() uint32 {
	v := r.uv()
	if v > math.MaxUint32 {
		r.fail(fmt.Errorf("%d does not fit 32 bits", v))
		return 0
	}
	return uint32(v)
}

func (r *ckReader) i32() int32 {
	v := r.iv()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(fmt.Errorf("%d does not fit 32 bits", v))
		return 0
	}
	return int32(v)
}

// count reads a list length: each element takes at least minSize bytes, so a length the
// rest of the input cannot hold is an error before anything is allocated.
func (r *ckReader) count(minSize int) int {
	v := r.uv()
	if r.err == nil && v > uint64(len(r.b)/minSize) {
		r.fail(fmt.Errorf("a list of %d entries in %d bytes", v, len(r.b)))
		return 0
	}
	return int(v)
}

func (r *ckReader) str() string { return string(r.take(r.count(1))) }

func (r *ckReader) flag() bool {
	b := r.take(1)
	if b == nil {
		return false
	}
	if b[0] > 1 {
		r.fail(fmt.Errorf("flag byte %d", b[0]))
	}
	return b[0] == 1
}

func (r *ckReader) amt() (a uint256.Int) {
	n := r.take(1)
	if n == nil {
		return a
	}
	if n[0] > 32 {
		r.fail(fmt.Errorf("a %d-byte amount", n[0]))
		return a
	}
	a.SetBytes(r.take(int(n[0])))
	return a
}

func (r *ckReader) pos() graph.Position {
	return graph.Position{Height: r.uv(), TxIndex: r.u32(), Seq: r.i32()}
}

func (r *ckReader) segs() []snapSeg {
	n := r.count(3)
	if n == 0 {
		return nil
	}
	if len(r.slab)+n > cap(r.slab) {
		r.slab = make([]snapSeg, 0, max(n, 1<<14))
	}
	start := len(r.slab)
	r.slab = r.slab[:start+n]
	out := r.slab[start : start+n : start+n]
	for i := range out {
		out[i] = snapSeg{Src: r.u32(), Hop: r.u32(), Amt: r.amt()}
	}
	return out
}

func (r *ckReader) i32s() []int32 {
	n := r.count(1)
	if n == 0 {
		return nil
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = r.i32()
	}
	return out
}

// decodeSnapshot decodes a checkpoint. Its version is checked by the caller, after the
// magic: a checkpoint of another version is refused before its fields are read.
func decodeSnapshot(data []byte) (*snapshot, error) {
	if len(data) < len(checkpointMagic) || string(data[:len(checkpointMagic)]) != string(checkpointMagic) {
		return nil, errors.New("not a checkpoint of this library (no CTCK magic; checkpoints before version 3 were gob)")
	}
	r := &ckReader{b: data[len(checkpointMagic):]}
	s := &snapshot{}
	s.Version = int(r.u32())
	if r.err == nil && (s.Version < oldestCheckpointVersion || s.Version > checkpointVersion) {
		return s, nil
	}
	copy(s.Config[:], r.take(32))
	s.Sources = make([]string, r.count(1))
	for i := range s.Sources {
		s.Sources[i] = r.str()
	}
	s.Assets = make([]graph.Asset, r.count(1))
	for i := range s.Assets {
		s.Assets[i] = graph.Asset(r.str())
	}
	s.Addrs = make([]snapAddr, r.count(8))
	for i := range s.Addrs {
		s.Addrs[i] = snapAddr{Name: graph.Address(r.str()), SeedSrc: r.u32(), SeedIdx: r.i32(), SeedMov: r.i32(), Exchange: r.i32(),
			Received: r.amt(), Tainted: r.amt(), Receives: r.flag()}
	}
	s.UTXOs = make([]snapUTXO, r.count(37))
	for i := range s.UTXOs {
		u := &s.UTXOs[i]
		copy(u.H[:], r.take(32))
		u.I, u.Value, u.Addr, u.Mov, u.St = r.u32(), r.amt(), r.i32(), r.i32(), r.i32()
	}
	s.States = make([]snapState, r.count(3))
	for i := range s.States {
		s.States[i] = snapState{TxID: r.str(), Index: r.u32(), St: r.segs()}
	}
	s.Free = r.i32s()
	s.Holdings = make([]snapHolding, r.count(8))
	for i := range s.Holdings {
		h := &s.Holdings[i]
		h.Addr, h.Asset, h.Bal, h.St = graph.Address(r.str()), graph.Asset(r.str()), r.amt(), r.segs()
		if n := r.count(4); n > 0 {
			h.Contrib = make([]snapContrib, n)
			for j := range h.Contrib {
				h.Contrib[j] = snapContrib{Src: r.u32(), Hop: r.u32(), Mov: r.i32(), Amt: r.amt()}
			}
		}
		h.Received, h.Tainted, h.Receives = r.amt(), r.amt(), r.flag()
	}
	s.SeedUsed = make([]bool, r.count(1))
	for i := range s.SeedUsed {
		s.SeedUsed[i] = r.flag()
	}
	s.Injected = make([][]uint256.Int, r.count(1))
	for a := range s.Injected {
		s.Injected[a] = make([]uint256.Int, r.count(1))
		for i := range s.Injected[a] {
			s.Injected[a][i] = r.amt()
		}
	}
	s.Sinks = make([][][]uint256.Int, r.count(1))
	for a := range s.Sinks {
		s.Sinks[a] = make([][]uint256.Int, r.count(1))
		for k := range s.Sinks[a] {
			s.Sinks[a][k] = make([]uint256.Int, r.count(1))
			for i := range s.Sinks[a][k] {
				s.Sinks[a][k][i] = r.amt()
			}
		}
	}
	s.Movs = make([]snapMov, r.count(13))
	for i := range s.Movs {
		m := &s.Movs[i]
		if k := r.take(1); k != nil {
			m.Kind = k[0]
		}
		m.Seed, m.Ref, m.Tx, m.Pos = r.i32(), r.str(), r.str(), r.pos()
		m.From, m.To, m.Asset = graph.Address(r.str()), graph.Address(r.str()), graph.Asset(r.str())
		m.Value, m.Taint, m.Parents = r.amt(), r.segs(), r.i32s()
	}
	s.Exposure = make([]snapExposure, r.count(1))
	for i := range s.Exposure {
		rows := make([]snapExposureRow, r.count(10))
		for j := range rows {
			x := &rows[j]
			x.Asset, x.Received, x.Tainted, x.Direct, x.Indirect = r.i32(), r.amt(), r.amt(), r.amt(), r.amt()
			x.BySource, x.HasBySource, x.BySourceHop, x.Deposits = r.segs(), r.flag(), r.segs(), r.i32s()
		}
		if len(rows) > 0 {
			s.Exposure[i].Rows = rows
		}
	}
	s.Started, s.Last = r.flag(), r.pos()
	st := &s.Stats
	for _, p := range []*uint64{&st.Blocks, &st.Txs, &st.Transfers, &st.TaintedTxs, &st.OutsideWindowInputs, &st.ImplicitBalanceDebits} {
		*p = r.uv()
	}
	if n := r.count(1); n > 0 {
		st.UnusedSeeds = make([]string, n)
		for i := range st.UnusedSeeds {
			st.UnusedSeeds[i] = r.str()
		}
	}
	st.SkippedTransfers = r.uv()
	if n := r.count(8); n > 0 {
		s.Links = make([]snapLink, n)
		for i := range s.Links {
			l := &s.Links[i]
			l.Value, l.Buf, l.AssetIn, l.Ins, l.InMovs, l.Node = r.amt(), r.segs(), graph.Asset(r.str()), r.i32(), r.i32s(), r.i32()
			if m := r.count(4); m > 0 {
				l.Outs = make([]snapLinkOut, m)
				for j := range l.Outs {
					l.Outs[j] = snapLinkOut{Ref: r.str(), Asset: graph.Asset(r.str()), Value: r.amt(), Taint: r.segs()}
				}
			}
		}
	}
	if n := r.count(1); n > 0 {
		s.LegsSeen = make([]string, n)
		for i := range s.LegsSeen {
			s.LegsSeen[i] = r.str()
		}
	}
	if n := r.count(1); n > 0 {
		s.LinkedIn = make([][]uint256.Int, n)
		for a := range s.LinkedIn {
			s.LinkedIn[a] = make([]uint256.Int, r.count(1))
			for i := range s.LinkedIn[a] {
				s.LinkedIn[a][i] = r.amt()
			}
		}
	}
	if n := r.count(2); n > 0 {
		s.HoldOpen = make([]snapOpen, n)
		for i := range s.HoldOpen {
			s.HoldOpen[i] = snapOpen{Implicit: r.amt(), Opened: r.flag()}
		}
	}
	if n := r.count(2); n > 0 {
		s.OpeningUnknown = make([]HoldingRef, n)
		for i := range s.OpeningUnknown {
			s.OpeningUnknown[i] = HoldingRef{Address: graph.Address(r.str()), Asset: graph.Asset(r.str())}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("%d bytes after the checkpoint", len(r.b)))
	}
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}
