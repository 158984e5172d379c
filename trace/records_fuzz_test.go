package trace

import (
	"reflect"
	"testing"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/holiman/uint256"
)

// FuzzDecodeMovement: any bytes decode to a movement or an error, never a panic, and a
// movement that decodes encodes back to bytes that decode to the same movement.
func FuzzDecodeMovement(f *testing.F) {
	var big uint256.Int
	big.Lsh(uint256.NewInt(1), 200)
	for _, m := range []movement{
		{kind: movOutput, ref: "ab:1", tx: "ab", pos: graph.Position{Height: 7, TxIndex: 2}, to: "1A", asset: graph.BTC,
			value: *uint256.NewInt(5000), taint: packed{narrow: []cseg{{comp{1, 0}, 10}, {comp{1, 3}, 1 << 40}}}, parents: []int32{0, 4}},
		{kind: movTransfer, ref: "t1", tx: "0x1", from: "0xa", to: "0xb", asset: "ETH", value: big, taint: packed{wide: []seg{{c: comp{2, 1}, amt: big}}}},
		{kind: movSeed, seed: 3, ref: "addr"},
	} {
		b := encodeMov(nil, &m)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMov(b)
		if err != nil {
			return
		}
		enc := encodeMov(nil, &m)
		m2, err := decodeMov(enc[uvarintLen(uint64(len(enc)-1)):])
		if err != nil {
			t.Fatalf("re-decoding %x: %v", enc, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %+v != %+v", m, m2)
		}
	})
}

// TestEncodeMovRoundTrip: the record of each kind of movement decodes to it.
func TestEncodeMovRoundTrip(t *testing.T) {
	ms := []movement{
		{kind: movOutput, ref: "ab:1", tx: "ab", pos: graph.Position{Height: 7, TxIndex: 2}, to: "1A", asset: graph.BTC,
			value: *uint256.NewInt(5000), taint: packed{narrow: []cseg{{comp{1, 0}, 10}, {comp{1, 3}, 1<<64 - 1}}}, parents: []int32{0, 4, 1 << 30}},
		{kind: movFee, ref: "ab#fee", tx: "ab", to: FeeSink, value: *uint256.NewInt(1)},
		{kind: movTransfer, eng: 3, ref: "other", tx: "0x1", from: "0xa", to: "0xb", asset: "ETH"},
	}
	var buf []byte
	for i := range ms {
		buf = encodeMov(buf[:0], &ms[i])
		size, k := uvarintOf(buf)
		if int(size) != len(buf)-k {
			t.Fatalf("%d: size %d, body %d", i, size, len(buf)-k)
		}
		got, err := decodeMov(buf[k:])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, ms[i]) {
			t.Fatalf("%d: %+v != %+v", i, got, ms[i])
		}
		if _, err := decodeMov(buf[k : len(buf)-1]); err == nil {
			t.Fatalf("%d: a truncated record decodes", i)
		}
	}
}

// TestRecordsDuplicateRefs: a reference recorded twice counts once and gives its last
// record, on disk as in memory (Outputs keeps the last).
func TestRecordsDuplicateRefs(t *testing.T) {
	var l movList
	log, err := newRecordLog(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer log.close()
	l.log = log
	seed := l.add(movement{kind: movSeed, ref: "s"})
	out := func(ref string, v uint64) {
		l.add(movement{kind: movOutput, ref: ref, tx: "t", value: *uint256.NewInt(v), taint: packed{narrow: []cseg{{comp{1, 1}, v}}}, parents: []int32{seed}})
	}
	out("a:0", 1)
	out("b:0", 2)
	out("a:0", 3) // recorded again: this one counts
	l.add(movement{kind: movFee, ref: "t#fee", value: *uint256.NewInt(9)})
	r := &Result{Method: Haircut, movs: l.snapshot(), sources: []string{"", "x"}, seeds: []Seed{{Source: "x", Address: "s"}}}
	r.recErr = log.flush()
	n, err := r.Records()
	if err != nil || n != 2 {
		t.Fatalf("Records = %d, %v; want 2", n, err)
	}
	got := map[string]uint64{}
	if err := r.EachOutput(func(o *Output) error { got[o.Outpoint] = o.Value.Uint64(); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a:0"] != 3 || got["b:0"] != 2 {
		t.Fatalf("EachOutput: %v", got)
	}
	paths, err := r.Evidence("a:0")
	if err != nil || len(paths) != 1 || paths[0].Amount != "3" || !paths[0].Complete {
		t.Fatalf("Evidence: %+v, %v", paths, err)
	}
	if _, err := r.Evidence("t#fee"); err != nil {
		t.Fatalf("a fee's evidence: %v", err)
	}
}
