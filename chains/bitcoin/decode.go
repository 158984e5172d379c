package bitcoin

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"time"
	"unsafe"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/chaintrace/chaintrace/graph"
)

// This file is the hot path: serialized block → graph.Block without building btcd's
// wire.MsgBlock. It reads the consensus serialization in place (scripts and outpoints are
// sub-slices of the input), hashes txids from the raw bytes (for segwit transactions, the
// version, input/output and locktime ranges, skipping marker, flag and witnesses), and
// writes every hex txid and every address of the block into one byte buffer per block,
// from which the strings are cut (one allocation for all of them instead of one each).
// It accepts exactly what btcd's wire decoder accepts (canonical CompactSize, witness flag
// 0x01, no superfluous witness record); the tests and a differential fuzz target check it
// against wire.MsgBlock.

var errShort = errors.New("unexpected end of data")

// reader is a bounds-checked cursor over serialized bytes.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.pos {
		r.fail(errShort)
		r.pos = len(r.b)
		return nil
	}
	s := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return s
}

func (r *reader) u32() uint32 {
	if s := r.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

// varint reads a CompactSize, rejecting non-canonical encodings as btcd does.
func (r *reader) varint() uint64 {
	s := r.take(1)
	if s == nil {
		return 0
	}
	var v, min uint64
	switch s[0] {
	case 0xfd:
		if t := r.take(2); t != nil {
			v, min = uint64(binary.LittleEndian.Uint16(t)), 0xfd
		}
	case 0xfe:
		if t := r.take(4); t != nil {
			v, min = uint64(binary.LittleEndian.Uint32(t)), 0x10000
		}
	case 0xff:
		if t := r.take(8); t != nil {
			v, min = binary.LittleEndian.Uint64(t), 0x100000000
		}
	default:
		return uint64(s[0])
	}
	if r.err == nil && v < min {
		r.fail(fmt.Errorf("non-canonical varint %x", v))
	}
	return v
}

// count reads a CompactSize count of items at least minSize bytes each: a count that
// cannot fit in the rest of the data is an error before anything is allocated.
func (r *reader) count(minSize int) int {
	n := r.varint()
	// A count that failed to decode (non-canonical, short) is 0, never the raw value: the
	// caller sizes allocations by it.
	if r.err != nil {
		return 0
	}
	if n > uint64((len(r.b)-r.pos)/minSize) {
		r.fail(errShort)
		return 0
	}
	return int(n)
}

// rawTx locates one transaction inside the block bytes.
type rawTx struct {
	start, end int // the whole serialization
	segwit     bool
	ioStart    int // after version (and marker+flag): input count
	ioEnd      int // end of outputs (start of witnesses)
	lockStart  int
	ins        []rawIn
	outs       []rawOut
}

type rawIn struct {
	prev  []byte // 32-byte hash, internal byte order
	index uint32
}

type rawOut struct {
	value  int64
	script []byte
}

// Decoder decodes serialized blocks; it reuses its scratch space, so each goroutine needs
// its own. The zero value is not usable: call NewDecoder.
type Decoder struct {
	net  *chaincfg.Params
	txs  []rawTx
	ins  []rawIn
	outs []rawOut
	ids  []chainhash.Hash
	h    hash.Hash
	sum  [32]byte
	// THORChain memos of the block being decoded, and the warnings of the last Decode.
	memo     memoReader
	memos    []TxMemo
	warnings []Warning
}

// NewDecoder returns a Decoder for blocks of net.
func NewDecoder(net *chaincfg.Params) *Decoder {
	return &Decoder{net: net, h: sha256.New()}
}

// minimum serialized sizes, for count sanity checks
const (
	minTxSize    = 10 // version, 1-byte counts, locktime (an empty tx; real ones are longer)
	minTxInSize  = 41
	minTxOutSize = 9
)

func (d *Decoder) parse(raw []byte) (hdr []byte, err error) {
	r := &reader{b: raw}
	hdr = r.take(80)
	n := r.count(minTxSize)
	d.txs, d.ins, d.outs = d.txs[:0], d.ins[:0], d.outs[:0]
	// First pass: positions only; the slices of ins/outs are cut after the loop because
	// d.ins and d.outs may be reallocated while growing.
	type span struct{ in0, in1, out0, out1 int }
	spans := make([]span, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		t := rawTx{start: r.pos}
		r.take(4) // version
		t.ioStart = r.pos
		var sp span
		nin := r.count(minTxInSize)
		if r.err == nil && nin == 0 { // segwit marker, then the flag must be 1
			if f := r.take(1); f != nil && f[0] != 1 {
				r.fail(fmt.Errorf("witness tx but flag byte is %x", f[0]))
			}
			t.segwit = true
			t.ioStart = r.pos
			nin = r.count(minTxInSize)
		}
		sp.in0 = len(d.ins)
		for j := 0; j < nin && r.err == nil; j++ {
			in := rawIn{prev: r.take(32), index: r.u32()}
			r.take(int(r.varint())) // signature script
			r.take(4)               // sequence
			d.ins = append(d.ins, in)
		}
		sp.in1 = len(d.ins)
		nout := r.count(minTxOutSize)
		sp.out0 = len(d.outs)
		for j := 0; j < nout && r.err == nil; j++ {
			v := int64(r.u64())
			d.outs = append(d.outs, rawOut{value: v, script: r.take(int(r.varint()))})
		}
		sp.out1 = len(d.outs)
		t.ioEnd = r.pos
		if t.segwit {
			any := false
			for j := 0; j < nin && r.err == nil; j++ {
				items := r.count(1)
				for k := 0; k < items && r.err == nil; k++ {
					r.take(int(r.varint()))
				}
				any = any || items > 0
			}
			if r.err == nil && !any {
				r.fail(errors.New("superfluous witness record"))
			}
		}
		t.lockStart = r.pos
		r.take(4)
		t.end = r.pos
		d.txs = append(d.txs, t)
		spans = append(spans, sp)
	}
	if r.err != nil {
		return nil, r.err
	}
	for i := range d.txs {
		d.txs[i].ins = d.ins[spans[i].in0:spans[i].in1]
		d.txs[i].outs = d.outs[spans[i].out0:spans[i].out1]
	}
	if r.pos != len(raw) {
		return nil, fmt.Errorf("%d trailing bytes after %d transactions", len(raw)-r.pos, len(d.txs))
	}
	return hdr, nil
}

// txid hashes a transaction's non-witness serialization.
func (d *Decoder) txid(raw []byte, t *rawTx) chainhash.Hash {
	d.h.Reset()
	if !t.segwit {
		d.h.Write(raw[t.start:t.end])
	} else {
		d.h.Write(raw[t.start : t.start+4])
		d.h.Write(raw[t.ioStart:t.ioEnd])
		d.h.Write(raw[t.lockStart:t.end])
	}
	first := d.h.Sum(d.sum[:0])
	return chainhash.Hash(sha256.Sum256(first))
}

// Decode decodes one serialized block at the given height; see DecodeBlock. Its
// THORChain detection's warnings are then in Warnings.
func (d *Decoder) Decode(raw []byte, height uint64) (*graph.Block, error) {
	b, err := d.decode(raw, height)
	if err != nil {
		return nil, err
	}
	d.warnings = DetectThorchain(b, d.memos, nil)
	return b, nil
}

// Warnings are the warnings of the last Decode: THORChain memos that gave no link (see
// Warning). The slice is the caller's.
func (d *Decoder) Warnings() []Warning {
	w := d.warnings
	d.warnings = nil
	return w
}

// decode is Decode without link detection; d.memos holds the block's THORChain memos.
func (d *Decoder) decode(raw []byte, height uint64) (*graph.Block, error) {
	d.memos, d.warnings = d.memos[:0], nil
	hdr, err := d.parse(raw)
	if err != nil {
		if errors.Is(err, errShort) {
			return nil, fmt.Errorf("%w: block at height %d: %v", ErrTruncated, height, err)
		}
		return nil, fmt.Errorf("%w: block at height %d: %v", ErrBadBlock, height, err)
	}
	blockHash := chainhash.DoubleHashH(hdr)
	if len(d.txs) == 0 {
		return nil, fmt.Errorf("%w: block %s at height %d has no transactions", ErrBadBlock, blockHash, height)
	}
	d.ids = d.ids[:0]
	for i := range d.txs {
		d.ids = append(d.ids, d.txid(raw, &d.txs[i]))
	}
	var root chainhash.Hash
	copy(root[:], hdr[36:68])
	if got := merkleRoot(d.ids); got != root {
		return nil, fmt.Errorf("%w: block %s at height %d: merkle root %s does not match its transactions (%s)",
			ErrBadBlock, blockHash, height, root, got)
	}
	var prev chainhash.Hash
	copy(prev[:], hdr[4:36])
	b := &graph.Block{
		Chain:   graph.Bitcoin,
		Height:  height,
		Hash:    blockHash.String(),
		Time:    time.Unix(int64(binary.LittleEndian.Uint32(hdr[68:72])), 0).Unix(),
		UTXOTxs: make([]graph.UTXOTx, len(d.txs)),
	}
	if height != 0 {
		b.Parent = prev.String()
	}
	// One text buffer for the block: 64 hex digits per txid and per spent outpoint, and
	// about 48 bytes per address (P2PKH 34, P2WPKH 42, P2WSH/P2TR 62). Should it still fill
	// up, append moves on to a new array; the strings already cut keep viewing the old one,
	// which is never written again, so they stay valid and immutable.
	text := make([]byte, 0, 64*(len(d.txs)+len(d.ins))+48*len(d.outs))
	ins := make([]graph.TxIn, 0, len(d.ins))
	outs := make([]graph.TxOut, 0, len(d.outs))
	for i := range d.txs {
		t := &d.txs[i]
		tx := &b.UTXOTxs[i]
		text, tx.TxID = appendHashText(text, d.ids[i][:])
		tx.Index = uint32(i)
		coinbase := len(t.ins) == 1 && t.ins[0].index == 0xffffffff && allZero(t.ins[0].prev)
		if i == 0 {
			if !coinbase {
				return nil, fmt.Errorf("%w: block %s: first transaction %s is not a coinbase", ErrBadBlock, blockHash, tx.TxID)
			}
			tx.Coinbase = true
		} else {
			start := len(ins)
			for j := range t.ins {
				in := &t.ins[j]
				if in.index == 0xffffffff && allZero(in.prev) {
					return nil, fmt.Errorf("%w: block %s: tx %s input %d spends the null outpoint outside the coinbase",
						ErrBadBlock, blockHash, tx.TxID, j)
				}
				var id string
				text, id = appendHashText(text, in.prev)
				ins = append(ins, graph.TxIn{Prev: graph.Outpoint{TxID: id, Index: in.index}})
			}
			tx.Inputs = ins[start:len(ins):len(ins)]
		}
		start := len(outs)
		d.memo.reset()
		for j := range t.outs {
			o := &t.outs[j]
			d.memo.add(j, o.script)
			if o.value < 0 || o.value > btcutil.MaxSatoshi {
				return nil, fmt.Errorf("%w: block %s: tx %s output %d has value %d outside 0..%d satoshi",
					ErrBadBlock, blockHash, tx.TxID, j, o.value, int64(btcutil.MaxSatoshi))
			}
			var addr string
			var unspendable bool
			text, addr, unspendable = appendScriptAddress(text, o.script, d.net)
			outs = append(outs, graph.TxOut{Address: graph.Address(addr), Value: graph.NewAmount(uint64(o.value)), Unspendable: unspendable})
		}
		tx.Outputs = outs[start:len(outs):len(outs)]
		if m, ok := d.memo.memo(i); ok {
			d.memos = append(d.memos, m)
		}
	}
	return b, nil
}

// appendHashText appends the display hex (reversed byte order) of a 32-byte hash to text
// and returns the string viewing it.
func appendHashText(text []byte, h []byte) ([]byte, string) {
	const digits = "0123456789abcdef"
	start := len(text)
	for i := 31; i >= 0; i-- {
		text = append(text, digits[h[i]>>4], digits[h[i]&15])
	}
	return text, bytesString(text[start:])
}

// bytesString views b as a string without copying. The callers only append to the block's
// text buffer after the viewed range and never modify a written byte, so the strings are
// immutable; the buffer lives as long as any of its strings (the text of one block).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// DecodeBlock decodes one serialized block (the bytes of a blk-file frame or of
// getblock <hash> 0) at the given height into a graph.Block: txids, inputs with their spent
// outpoints (unresolved: the store fills in value and address), outputs with canonical
// addresses. It checks the merkle root against the transactions, so a corrupted block is an
// error wrapping ErrBadBlock or ErrTruncated, never a silently wrong record. For many
// blocks, a Decoder per goroutine avoids re-allocating scratch space.
//
// THORChain memos become Block.Links (DetectThorchain) as far as the block itself tells
// the addresses its inputs spend; a Decoder's Warnings say which memos gave no link.
func DecodeBlock(raw []byte, height uint64, net *chaincfg.Params) (*graph.Block, error) {
	return NewDecoder(net).Decode(raw, height)
}
