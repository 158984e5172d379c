package graph

import (
	"encoding/binary"
	"fmt"
)

// Key layout. Every key starts with a one-byte table tag; chain tables continue with the
// chain's one-byte id (assigned on first use, see chainKey), so every chain lives in its own
// key range. Heights are big-endian, so a prefix scan returns a chain's blocks, and an
// address's movements, in chain order.
//
//	'M' name                                  store metadata (format marker, chain ids)
//	'C' chain                                 cursor: tip height and hash, window start
//	'B' chain height(8)                       block record (store_codec.go)
//	'O' chain str(txid) vout(4)               outpoint: creator, address, value, spender
//	'A' chain str(address) height(8) tx(4) seq(4) dir(1)   address movement
//	'U' chain height(8) tx(4) vout(4)         outpoint record a coinbase at that position overwrote
//	'R' uvarint(len ns) ns key                generic records (labels, checkpoints, results)
//	'r' uvarint(len ns) ns uvarint(len key) key gen(8) i(4)   chunks of large record values
//
// str(s) is the tagged compact string form of store_codec.go; it is prefix-free, so the
// fields after it cannot run into it.
const (
	tagMeta     = 'M'
	tagCursor   = 'C'
	tagBlock    = 'B'
	tagOutpoint = 'O'
	tagAddress  = 'A'
	// tagOverwritten keeps the outpoint records that a coinbase with a duplicate transaction
	// id (Bitcoin before BIP 30 and 34) overwrote, so that a rewind can restore them.
	tagOverwritten = 'U'
	tagRecord      = 'R'
	// tagRecordChunk holds the chunks of large record values (store_records.go).
	tagRecordChunk = 'r'
)

var (
	metaFormatKey    = []byte{tagMeta, 'f', 'o', 'r', 'm', 'a', 't'}
	metaChainsPrefix = []byte{tagMeta, 'c', 'h', 'a', 'i', 'n', '/'}
	metaNoAddrKey    = []byte{tagMeta, 'n', 'o', 'a', 'd', 'd', 'r'}
)

func metaChainKey(c Chain) []byte { return append(append([]byte(nil), metaChainsPrefix...), c...) }

func cursorKey(id byte) []byte { return []byte{tagCursor, id} }

func blockPrefix(id byte) []byte { return []byte{tagBlock, id} }

func blockKey(dst []byte, id byte, height uint64) []byte {
	dst = append(dst, tagBlock, id)
	return binary.BigEndian.AppendUint64(dst, height)
}

// blockKeyHeight returns the height in a block key.
func blockKeyHeight(k []byte) (uint64, error) {
	if len(k) != 10 {
		return 0, fmt.Errorf("%w: block key of %d bytes", ErrCorruptStore, len(k))
	}
	return binary.BigEndian.Uint64(k[2:]), nil
}

func outpointKey(dst []byte, id byte, op Outpoint) []byte {
	dst = append(dst, tagOutpoint, id)
	dst = appendStr(dst, op.TxID)
	return binary.BigEndian.AppendUint32(dst, op.Index)
}

// overwrittenKey is the key of the record that output vout of the coinbase at (height,
// txIndex) overwrote.
func overwrittenKey(dst []byte, id byte, height uint64, txIndex, vout uint32) []byte {
	dst = append(dst, tagOverwritten, id)
	dst = binary.BigEndian.AppendUint64(dst, height)
	dst = binary.BigEndian.AppendUint32(dst, txIndex)
	return binary.BigEndian.AppendUint32(dst, vout)
}

func addressPrefix(dst []byte, id byte, a Address) []byte {
	dst = append(dst, tagAddress, id)
	return appendStr(dst, string(a))
}

// movementKey orders one address's movements by position; dir (0 = debit, 1 = credit)
// separates the two sides of a self-transfer. Seq is stored with its sign bit flipped, so
// the fee (-1) sorts before transfer 0.
func movementKey(dst []byte, id byte, a Address, p Position, credit bool) []byte {
	dst = addressPrefix(dst, id, a)
	dst = binary.BigEndian.AppendUint64(dst, p.Height)
	dst = binary.BigEndian.AppendUint32(dst, p.TxIndex)
	dst = binary.BigEndian.AppendUint32(dst, uint32(p.Seq)^(1<<31))
	if credit {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// movementKeyPosition parses the fixed-size tail of a movement key.
func movementKeyPosition(k []byte) (Position, bool, error) {
	if len(k) < 2+1+17 {
		return Position{}, false, fmt.Errorf("%w: movement key of %d bytes", ErrCorruptStore, len(k))
	}
	t := k[len(k)-17:]
	p := Position{
		Height:  binary.BigEndian.Uint64(t),
		TxIndex: binary.BigEndian.Uint32(t[8:]),
		Seq:     int32(binary.BigEndian.Uint32(t[12:]) ^ (1 << 31)),
	}
	switch t[16] {
	case 0:
		return p, false, nil
	case 1:
		return p, true, nil
	}
	return p, false, fmt.Errorf("%w: movement key direction %d", ErrCorruptStore, t[16])
}

func recordPrefix(ns string) []byte {
	dst := []byte{tagRecord}
	dst = binary.AppendUvarint(dst, uint64(len(ns)))
	return append(dst, ns...)
}

func recordKey(ns string, key []byte) []byte { return append(recordPrefix(ns), key...) }

// prefixEnd returns the first key after every key starting with prefix (nil: none).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// cursor is a chain's ingest state, written in the same transaction as every block.
type cursor struct {
	HasTip      bool
	TipHeight   uint64
	TipHash     string
	HasWindow   bool
	WindowStart uint64
}

const (
	cursorHasTip    = 1 << 0
	cursorHasWindow = 1 << 1
)

func encodeCursor(c cursor) []byte {
	var f byte
	if c.HasTip {
		f |= cursorHasTip
	}
	if c.HasWindow {
		f |= cursorHasWindow
	}
	dst := []byte{f}
	dst = binary.AppendUvarint(dst, c.TipHeight)
	dst = appendStr(dst, c.TipHash)
	return binary.AppendUvarint(dst, c.WindowStart)
}

func decodeCursor(rec []byte) (cursor, error) {
	d := decoder{buf: rec}
	f := d.byte()
	c := cursor{HasTip: f&cursorHasTip != 0, HasWindow: f&cursorHasWindow != 0}
	if f&^(cursorHasTip|cursorHasWindow) != 0 {
		d.fail("unknown cursor flags %#x", f)
	}
	c.TipHeight = d.uvarint()
	c.TipHash = d.str()
	c.WindowStart = d.uvarint()
	return c, d.done()
}

// outpointRecord is the value under an outpoint key.
type outpointRecord struct {
	Created     bool // created by a stored block (false: it predates the window and is only known as spent)
	ValueKnown  bool // Address and Value are known
	Coinbase    bool
	Unspendable bool
	Spent       bool
	CreatedAt   Position // Seq is the output index
	Address     Address
	Value       Amount
	SpentAt     Position // Seq is the input index
	SpentBy     string   // spending transaction id
}

const (
	opCreated     = 1 << 0
	opValueKnown  = 1 << 1
	opCoinbase    = 1 << 2
	opUnspendable = 1 << 3
	opSpent       = 1 << 4
	opAllFlags    = opCreated | opValueKnown | opCoinbase | opUnspendable | opSpent
)

func encodeOutpoint(dst []byte, r *outpointRecord) []byte {
	var f byte
	if r.Created {
		f |= opCreated
	}
	if r.ValueKnown {
		f |= opValueKnown
	}
	if r.Coinbase {
		f |= opCoinbase
	}
	if r.Unspendable {
		f |= opUnspendable
	}
	if r.Spent {
		f |= opSpent
	}
	dst = append(dst, f)
	if r.Created {
		dst = binary.AppendUvarint(dst, r.CreatedAt.Height)
		dst = binary.AppendUvarint(dst, uint64(r.CreatedAt.TxIndex))
	}
	if r.ValueKnown {
		dst = appendStr(dst, string(r.Address))
		dst = appendAmount(dst, &r.Value)
	}
	if r.Spent {
		dst = binary.AppendUvarint(dst, r.SpentAt.Height)
		dst = binary.AppendUvarint(dst, uint64(r.SpentAt.TxIndex))
		dst = binary.AppendUvarint(dst, uint64(r.SpentAt.Seq))
		dst = appendStr(dst, r.SpentBy)
	}
	return dst
}

func decodeOutpoint(rec []byte, index uint32) (outpointRecord, error) {
	d := decoder{buf: rec}
	f := d.byte()
	if f&^opAllFlags != 0 {
		d.fail("unknown outpoint flags %#x", f)
	}
	r := outpointRecord{
		Created: f&opCreated != 0, ValueKnown: f&opValueKnown != 0, Coinbase: f&opCoinbase != 0,
		Unspendable: f&opUnspendable != 0, Spent: f&opSpent != 0,
	}
	if r.Created {
		r.CreatedAt = Position{Height: d.uvarint(), TxIndex: d.uint32v(), Seq: int32(index)}
	}
	if r.ValueKnown {
		r.Address = Address(d.str())
		r.Value = d.amount()
	}
	if r.Spent {
		r.SpentAt.Height = d.uvarint()
		r.SpentAt.TxIndex = d.uint32v()
		seq := d.uint32v()
		if seq > 1<<31-1 {
			d.fail("input index %d", seq)
		}
		r.SpentAt.Seq = int32(seq)
		r.SpentBy = d.str()
	}
	return r, d.done()
}

// Movement value: txid, asset, amount, then the reference — the outpoint (UTXO) or the
// transfer ID and counterparty (account).
func encodeMovement(dst []byte, m *Movement) []byte {
	dst = appendStr(dst, m.TxID)
	dst = appendStr(dst, string(m.Asset))
	dst = appendAmount(dst, &m.Amount)
	if m.TransferID == "" && m.Counterparty == "" {
		if m.Outpoint.TxID == m.TxID && m.TxID != "" { // an output of this transaction: do not repeat the id
			dst = append(dst, 2)
			return binary.AppendUvarint(dst, uint64(m.Outpoint.Index))
		}
		dst = append(dst, 0)
		dst = appendStr(dst, m.Outpoint.TxID)
		return binary.AppendUvarint(dst, uint64(m.Outpoint.Index))
	}
	dst = append(dst, 1)
	id := m.TransferID
	if m.TxID != "" && len(id) > len(m.TxID) && id[:len(m.TxID)] == m.TxID {
		dst = append(dst, 1)
		id = id[len(m.TxID):]
	} else {
		dst = append(dst, 0)
	}
	dst = appendStr(dst, id)
	return appendStr(dst, string(m.Counterparty))
}

func decodeMovement(rec []byte, m *Movement) error {
	d := decoder{buf: rec}
	m.TxID = d.str()
	m.Asset = Asset(d.str())
	m.Amount = d.amount()
	switch d.byte() {
	case 0:
		m.Outpoint.TxID = d.str()
		m.Outpoint.Index = d.uint32v()
	case 2:
		m.Outpoint.TxID = m.TxID
		m.Outpoint.Index = d.uint32v()
	case 1:
		rel := d.byte()
		m.TransferID = d.str()
		if rel == 1 {
			m.TransferID = m.TxID + m.TransferID
		}
		m.Counterparty = Address(d.str())
	default:
		d.fail("unknown movement form")
	}
	return d.done()
}
