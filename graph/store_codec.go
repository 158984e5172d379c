package graph

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
)

// The store's binary record codec.
//
// Every value the store writes is a compact binary record, never gob or JSON: the block
// record is on the replay hot path, and its size is most of the store's bytes on disk.
// Block records begin with blockCodecVersion; a record of another version is reported as
// ErrIncompatibleStore, never guessed at.
//
// Building blocks:
//
//   - uvarint counts are written as n+1, with 0 meaning a nil slice, so that a decoded block
//     is reflect.DeepEqual to the block that was written (nil and empty slices both survive).
//   - strings (hashes, addresses, assets) carry a one-byte form tag: hex forms that dominate
//     real data (Bitcoin txids, 0x hashes, 0x addresses) are stored as raw bytes, everything
//     else (scenario names such as "H" or "p1", base58/bech32 addresses) verbatim.
//   - amounts are a length byte (0..32) and the minimal big-endian bytes of the integer.

// blockCodecVersion is the first byte of every block record. Version 2 adds the form
// byte and s2 compression (block records live in the value log, which badger does not
// compress).
const blockCodecVersion = 2

// Block record forms: the byte after the version.
const (
	blockRaw = 0 // the body as is
	blockS2  = 1 // the body compressed with s2 (klauspost/compress), at most maxBlockRatio times smaller
)

// maxBlockRatio bounds the compression ratio of an s2 block record, and so what a damaged
// record can make the decoder allocate: a body that compresses better is stored raw.
const maxBlockRatio = 64

// blockBufs recycles the buffers that hold an uncompressed block body while it is encoded
// or decoded (a few hundred KB for a full Bitcoin block, once per block on replay).
var blockBufs = sync.Pool{New: func() any { return new([]byte) }}

// errCodec is wrapped by every decoding error; decoders never panic on any input.
var errCodec = errors.New("malformed record")

// String form tags.
const (
	strEmpty   = 0 // ""
	strHex32   = 1 // 64 lower-case hex digits (Bitcoin txid / block hash): 32 bytes
	strHex32x  = 2 // "0x" + 64 lower-case hex digits (Ethereum hash): 32 bytes
	strHex20x  = 3 // "0x" + 40 lower-case hex digits (Ethereum address / token): 20 bytes
	strRaw     = 4 // uvarint length + bytes
	strBTC     = 5 // "BTC"
	strETH     = 6 // "ETH"
	strMaxForm = 6
)

// lowerHexVal maps '0'-'9' and 'a'-'f' to their value and every other byte to 0xff.
var lowerHexVal = func() (t [256]byte) {
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

// appendStr appends s in its most compact form.
func appendStr(dst []byte, s string) []byte {
	switch len(s) {
	case 0:
		return append(dst, strEmpty)
	case 64:
		if d, ok := appendLowerHex(append(dst, strHex32), s); ok {
			return d
		}
	case 66:
		if s[0] == '0' && s[1] == 'x' {
			if d, ok := appendLowerHex(append(dst, strHex32x), s[2:]); ok {
				return d
			}
		}
	case 42:
		if s[0] == '0' && s[1] == 'x' {
			if d, ok := appendLowerHex(append(dst, strHex20x), s[2:]); ok {
				return d
			}
		}
	case 3:
		switch s {
		case "BTC":
			return append(dst, strBTC)
		case "ETH":
			return append(dst, strETH)
		}
	}
	dst = append(dst, strRaw)
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendLowerHex decodes lower-case hex h onto dst in one pass; ok is false (and dst
// unusable beyond its original length) if h is anything else.
func appendLowerHex(dst []byte, h string) ([]byte, bool) {
	n := len(dst)
	for i := 0; i+1 < len(h); i += 2 {
		hi, lo := lowerHexVal[h[i]], lowerHexVal[h[i+1]]
		if hi|lo == 0xff || hi > 15 || lo > 15 {
			return dst[:n-1], false
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, true
}

func appendAmount(dst []byte, a *Amount) []byte {
	n := (a.BitLen() + 7) / 8
	dst = append(dst, byte(n))
	if n == 0 {
		return dst
	}
	b := a.Bytes32()
	return append(dst, b[32-n:]...)
}

// appendCount writes a slice length as n+1 (0 = nil slice).
func appendCount(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

// decoder reads a record; the first error sticks and every later read returns zero values.
type decoder struct {
	buf []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: at byte %d: %s", errCodec, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.buf) {
		d.fail("unexpected end")
		return 0
	}
	b := d.buf[d.off]
	d.off++
	return b
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.off {
		d.fail("length %d exceeds the %d bytes left", n, len(d.buf)-d.off)
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) uint32v() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail("value %d does not fit 32 bits", v)
		return 0
	}
	return uint32(v)
}

// count reads a slice length written by appendCount. Every element takes at least minSize
// bytes, which bounds the allocation a corrupt count could cause.
func (d *decoder) count(minSize int) (n int, isNil bool) {
	v := d.uvarint()
	if d.err != nil || v == 0 {
		return 0, true
	}
	v--
	if v > uint64(len(d.buf)-d.off)/uint64(minSize) {
		d.fail("count %d exceeds what the %d bytes left can hold", v, len(d.buf)-d.off)
		return 0, true
	}
	return int(v), false
}

func (d *decoder) str() string {
	switch tag := d.byte(); tag {
	case strEmpty:
		return ""
	case strHex32:
		return hex.EncodeToString(d.bytes(32))
	case strHex32x:
		return "0x" + hex.EncodeToString(d.bytes(32))
	case strHex20x:
		return "0x" + hex.EncodeToString(d.bytes(20))
	case strRaw:
		n := d.uvarint()
		if n > uint64(len(d.buf)) {
			d.fail("string length %d exceeds the record", n)
			return ""
		}
		return string(d.bytes(int(n)))
	case strBTC:
		return "BTC"
	case strETH:
		return "ETH"
	default:
		d.fail("unknown string form %d", tag)
		return ""
	}
}

func (d *decoder) amount() Amount {
	var a Amount
	n := int(d.byte())
	if n > 32 {
		d.fail("amount of %d bytes", n)
		return a
	}
	b := d.bytes(n)
	if d.err != nil {
		return a
	}
	if n > 0 && b[0] == 0 {
		d.fail("amount with a leading zero byte")
		return a
	}
	a.SetBytes(b)
	return a
}

func (d *decoder) done() error {
	if d.err == nil && d.off != len(d.buf) {
		d.fail("%d trailing bytes", len(d.buf)-d.off)
	}
	return d.err
}

// Transaction flag bits.
const (
	flagCoinbase    = 1 << 0 // UTXOTx.Coinbase
	flagResolved    = 1 << 0 // TxIn.Resolved
	flagUnspendable = 1 << 0 // TxOut.Unspendable
	flagSuccess     = 1 << 0 // AccountTx.Success
	flagReverted    = 1 << 0 // Transfer.Reverted
	flagIDRelative  = 1 << 1 // Transfer.ID is the transaction hash followed by the stored suffix
)

// Transfer kinds as bytes; kindOther is followed by the kind as a string. Append only: a
// stored record names its kind by position.
var kindCodes = []TransferKind{"", KindCall, KindInternal, KindCreate, KindSelfDestruct, KindERC20, KindReward, KindWithdrawal, KindWrap, KindUnwrap}

const kindOther = 255

func kindCode(k TransferKind) byte {
	for i, c := range kindCodes {
		if c == k {
			return byte(i)
		}
	}
	return kindOther
}

// encodeBlock appends the record of b (everything but Chain and Height, which are in the key):
// the version, the form, and the body, compressed when that helps (within maxBlockRatio).
func encodeBlock(dst []byte, b *Block) []byte {
	bp := blockBufs.Get().(*[]byte)
	defer blockBufs.Put(bp)
	body := appendBlockBody((*bp)[:0], b)
	*bp = body
	dst = append(dst, blockCodecVersion)
	if m := s2.MaxEncodedLen(len(body)); m > 0 {
		dst = slices.Grow(append(dst, blockS2), m)
		n := len(dst)
		enc := s2.Encode(dst[n:n+m], body)
		if len(enc) < len(body) && len(body) <= maxBlockRatio*len(enc) {
			return dst[:n+len(enc)]
		}
		dst = dst[:n-1]
	}
	return append(append(dst, blockRaw), body...)
}

// appendBlockBody appends the body of b's record.
func appendBlockBody(dst []byte, b *Block) []byte {
	dst = appendStr(dst, b.Hash)
	dst = appendStr(dst, b.Parent)
	dst = binary.AppendVarint(dst, b.Time)

	dst = appendCount(dst, len(b.UTXOTxs), b.UTXOTxs == nil)
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		dst = appendStr(dst, tx.TxID)
		dst = binary.AppendUvarint(dst, uint64(tx.Index))
		var f byte
		if tx.Coinbase {
			f |= flagCoinbase
		}
		dst = append(dst, f)
		dst = appendCount(dst, len(tx.Inputs), tx.Inputs == nil)
		for j := range tx.Inputs {
			in := &tx.Inputs[j]
			dst = appendStr(dst, in.Prev.TxID)
			dst = binary.AppendUvarint(dst, uint64(in.Prev.Index))
			var f byte
			if in.Resolved {
				f |= flagResolved
			}
			dst = append(dst, f)
			dst = appendStr(dst, string(in.Address))
			dst = appendAmount(dst, &in.Value)
		}
		dst = appendCount(dst, len(tx.Outputs), tx.Outputs == nil)
		for j := range tx.Outputs {
			out := &tx.Outputs[j]
			dst = appendStr(dst, string(out.Address))
			dst = appendAmount(dst, &out.Value)
			var f byte
			if out.Unspendable {
				f |= flagUnspendable
			}
			dst = append(dst, f)
		}
	}

	dst = appendCount(dst, len(b.AccountTxs), b.AccountTxs == nil)
	for i := range b.AccountTxs {
		tx := &b.AccountTxs[i]
		dst = appendStr(dst, tx.Hash)
		dst = binary.AppendUvarint(dst, uint64(tx.Index))
		dst = appendStr(dst, string(tx.From))
		dst = appendStr(dst, string(tx.To))
		dst = appendAmount(dst, &tx.Fee)
		var f byte
		if tx.Success {
			f |= flagSuccess
		}
		dst = append(dst, f)
		dst = appendCount(dst, len(tx.Transfers), tx.Transfers == nil)
		for j := range tx.Transfers {
			t := &tx.Transfers[j]
			var f byte
			if t.Reverted {
				f |= flagReverted
			}
			id := t.ID
			// Transfer IDs are usually "<tx hash>.<n>": store only the suffix.
			if tx.Hash != "" && len(id) > len(tx.Hash) && id[:len(tx.Hash)] == tx.Hash {
				f |= flagIDRelative
				id = id[len(tx.Hash):]
			}
			dst = append(dst, f)
			dst = appendStr(dst, id)
			dst = appendStr(dst, string(t.Asset))
			dst = appendStr(dst, string(t.From))
			dst = appendStr(dst, string(t.To))
			dst = appendAmount(dst, &t.Amount)
			code := kindCode(t.Kind)
			dst = append(dst, code)
			if code == kindOther {
				dst = appendStr(dst, string(t.Kind))
			}
		}
	}
	// The link parts are an optional trailing section: records of blocks without links
	// (every record written before links existed) end here, and decode with Links nil.
	if b.Links != nil {
		dst = appendCount(dst, len(b.Links), false)
		for i := range b.Links {
			p := &b.Links[i]
			dst = appendStr(dst, p.Key)
			dst = appendStr(dst, string(p.Kind))
			dst = appendStr(dst, string(p.Chain))
			for _, legs := range [][]Leg{p.In, p.Out} {
				dst = appendCount(dst, len(legs), legs == nil)
				for _, l := range legs {
					dst = appendStr(dst, string(l.Chain))
					dst = appendStr(dst, l.Ref)
				}
			}
			dst = appendCount(dst, len(p.Venues), p.Venues == nil)
			for _, v := range p.Venues {
				dst = appendStr(dst, string(v))
			}
			dst = appendStr(dst, p.Evidence)
		}
	}
	return dst
}

// decodeBlock decodes a block record into b (Chain and Height are set by the caller).
func decodeBlock(rec []byte, b *Block) error {
	if len(rec) == 0 {
		return fmt.Errorf("%w: empty block record", errCodec)
	}
	if v := rec[0]; v != blockCodecVersion {
		return fmt.Errorf("%w: block record of codec version %d (this build reads %d)", ErrIncompatibleStore, v, blockCodecVersion)
	}
	if len(rec) < 2 {
		return fmt.Errorf("%w: block record without a form", errCodec)
	}
	switch rec[1] {
	case blockRaw:
		return decodeBlockBody(rec[2:], b)
	case blockS2:
		enc := rec[2:]
		n, err := s2.DecodedLen(enc)
		if err != nil || n > maxBlockRatio*len(enc) || n <= len(enc) {
			return fmt.Errorf("%w: compressed block record of %d bytes claims %d bytes (%v)", errCodec, len(enc), n, err)
		}
		bp := blockBufs.Get().(*[]byte)
		defer blockBufs.Put(bp)
		body, err := s2.Decode((*bp)[:cap(*bp)], enc)
		if err != nil {
			return fmt.Errorf("%w: compressed block record: %w", errCodec, err)
		}
		*bp = body
		// decodeBlockBody copies every string it keeps out of body, so the buffer is reused.
		return decodeBlockBody(body, b)
	}
	return fmt.Errorf("%w: unknown block record form %d", errCodec, rec[1])
}

// decodeBlockBody decodes the body of a block record into b.
func decodeBlockBody(rec []byte, b *Block) error {
	d := decoder{buf: rec}
	b.Hash = d.str()
	b.Parent = d.str()
	b.Time = d.varint()

	if n, isNil := d.count(5); !isNil {
		b.UTXOTxs = make([]UTXOTx, n)
		for i := range b.UTXOTxs {
			tx := &b.UTXOTxs[i]
			tx.TxID = d.str()
			tx.Index = d.uint32v()
			f := d.byte()
			tx.Coinbase = f&flagCoinbase != 0
			if f&^flagCoinbase != 0 {
				d.fail("unknown transaction flags %#x", f)
			}
			if n, isNil := d.count(5); !isNil {
				tx.Inputs = make([]TxIn, n)
				for j := range tx.Inputs {
					in := &tx.Inputs[j]
					in.Prev.TxID = d.str()
					in.Prev.Index = d.uint32v()
					f := d.byte()
					in.Resolved = f&flagResolved != 0
					if f&^flagResolved != 0 {
						d.fail("unknown input flags %#x", f)
					}
					in.Address = Address(d.str())
					in.Value = d.amount()
				}
			}
			if n, isNil := d.count(3); !isNil {
				tx.Outputs = make([]TxOut, n)
				for j := range tx.Outputs {
					out := &tx.Outputs[j]
					out.Address = Address(d.str())
					out.Value = d.amount()
					f := d.byte()
					out.Unspendable = f&flagUnspendable != 0
					if f&^flagUnspendable != 0 {
						d.fail("unknown output flags %#x", f)
					}
				}
			}
			if d.err != nil {
				break
			}
		}
	}

	if n, isNil := d.count(7); !isNil {
		b.AccountTxs = make([]AccountTx, n)
		for i := range b.AccountTxs {
			tx := &b.AccountTxs[i]
			tx.Hash = d.str()
			tx.Index = d.uint32v()
			tx.From = Address(d.str())
			tx.To = Address(d.str())
			tx.Fee = d.amount()
			f := d.byte()
			tx.Success = f&flagSuccess != 0
			if f&^flagSuccess != 0 {
				d.fail("unknown transaction flags %#x", f)
			}
			if n, isNil := d.count(8); !isNil {
				tx.Transfers = make([]Transfer, n)
				for j := range tx.Transfers {
					t := &tx.Transfers[j]
					f := d.byte()
					if f&^(flagReverted|flagIDRelative) != 0 {
						d.fail("unknown transfer flags %#x", f)
					}
					t.Reverted = f&flagReverted != 0
					t.ID = d.str()
					if f&flagIDRelative != 0 {
						t.ID = tx.Hash + t.ID
					}
					t.Asset = Asset(d.str())
					t.From = Address(d.str())
					t.To = Address(d.str())
					t.Amount = d.amount()
					code := d.byte()
					switch {
					case int(code) < len(kindCodes):
						t.Kind = kindCodes[code]
					case code == kindOther:
						t.Kind = TransferKind(d.str())
					default:
						d.fail("unknown transfer kind code %d", code)
					}
				}
			}
			if d.err != nil {
				break
			}
		}
	}
	if d.err == nil && d.off < len(d.buf) {
		if n, isNil := d.count(6); !isNil {
			b.Links = make([]LinkPart, n)
			for i := range b.Links {
				p := &b.Links[i]
				p.Key = d.str()
				p.Kind = LinkKind(d.str())
				p.Chain = Chain(d.str())
				for _, legs := range []*[]Leg{&p.In, &p.Out} {
					if n, isNil := d.count(2); !isNil {
						*legs = make([]Leg, n)
						for j := range *legs {
							(*legs)[j] = Leg{Chain: Chain(d.str()), Ref: d.str()}
						}
					}
				}
				if n, isNil := d.count(1); !isNil {
					p.Venues = make([]Address, n)
					for j := range p.Venues {
						p.Venues[j] = Address(d.str())
					}
				}
				p.Evidence = d.str()
				if d.err != nil {
					break
				}
			}
		}
	}
	return d.done()
}
