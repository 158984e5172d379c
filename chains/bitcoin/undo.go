package bitcoin

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// This file reads and writes Bitcoin Core's undo data (blocks/rev*.dat): for every
// connected block, the outputs its transactions spent (CBlockUndo), which is what a trace
// that starts above the genesis block needs to know of the outputs created before it.
//
// The formats are Bitcoin Core's (src/undo.h, src/compressor.cpp, src/serialize.h):
//
//	CBlockUndo = CompactSize n, n × CTxUndo          (one per transaction but the coinbase)
//	CTxUndo    = CompactSize m, m × Coin             (one per input, in input order)
//	Coin       = VARINT(height*2 + coinbase), [VARINT(0) when height > 0], compressed TxOut
//	TxOut      = VARINT(CompressAmount(value)), compressed script
//
// and a rev file is a sequence of records: network magic, 4-byte little-endian size, the
// CBlockUndo, then SHA-256d(hash of the block's parent ‖ CBlockUndo).

// SpentCoin is one output spent by a block, as Bitcoin Core's undo data keeps it.
type SpentCoin struct {
	Height   uint32 // height of the block that created the output
	Coinbase bool   // created by a coinbase transaction
	Value    uint64 // satoshis
	Script   []byte // the output script (scriptPubKey), decompressed
}

// BlockUndo is the undo data of one block: for every transaction but the coinbase, in
// block order, the coins its inputs spent, in input order.
type BlockUndo [][]SpentCoin

// maxMoney is consensus MAX_MONEY in satoshis: no output may carry more.
const maxMoney = 21_000_000 * 100_000_000

// CompressAmount is Bitcoin Core's amount compression: trailing decimal zeros become an
// exponent, so round amounts take one or two bytes.
func CompressAmount(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	e := uint64(0)
	for n%10 == 0 && e < 9 {
		n /= 10
		e++
	}
	if e < 9 {
		d := n % 10
		n /= 10
		return 1 + (n*9+d-1)*10 + e
	}
	return 1 + (n-1)*10 + 9
}

// DecompressAmount inverts CompressAmount.
func DecompressAmount(x uint64) uint64 {
	if x == 0 {
		return 0
	}
	x--
	e := x % 10
	x /= 10
	var n uint64
	if e < 9 {
		d := x%9 + 1
		x /= 9
		n = x*10 + d
	} else {
		n = x + 1
	}
	for ; e > 0; e-- {
		n *= 10
	}
	return n
}

// coreVarInt reads Bitcoin Core's VARINT (serialize.h): base-128 digits, most significant
// first, the high bit marking continuation, each continuation adding one so that every
// number has exactly one encoding. Values beyond 64 bits are errors.
func (r *reader) coreVarInt() uint64 {
	var n uint64
	for {
		s := r.take(1)
		if s == nil {
			return 0
		}
		if n > (^uint64(0))>>7 {
			r.fail(errors.New("VARINT too large"))
			return 0
		}
		n = n<<7 | uint64(s[0]&0x7f)
		if s[0]&0x80 == 0 {
			return n
		}
		if n == ^uint64(0) {
			r.fail(errors.New("VARINT too large"))
			return 0
		}
		n++
	}
}

// appendCoreVarInt appends n as Bitcoin Core's VARINT.
func appendCoreVarInt(dst []byte, n uint64) []byte {
	var tmp [10]byte
	i := 0
	for {
		b := byte(n & 0x7f)
		if i > 0 {
			b |= 0x80
		}
		tmp[i] = b
		if n <= 0x7f {
			break
		}
		n = n>>7 - 1
		i++
	}
	for ; i >= 0; i-- {
		dst = append(dst, tmp[i])
	}
	return dst
}

// Compressed script forms (compressor.cpp): 0 P2PKH, 1 P2SH, 2–3 P2PK with a compressed
// key (the prefix byte), 4–5 P2PK with an uncompressed key stored as its x coordinate (4 +
// parity of y); any other script is VARINT(len+6) then its bytes.
const numSpecialScripts = 6

func specialScriptSize(kind uint64) int {
	if kind < 2 {
		return 20
	}
	return 32
}

// undoCoin is one coin as an undo record stores it, its script still compressed: a window
// decompresses only the scripts of coins from before it.
type undoCoin struct {
	height   uint32
	coinbase bool
	value    uint64
	kind     uint64 // compressed script form: < numSpecialScripts, or the raw length + 6
	body     []byte // the form's bytes, a view into the record
}

// undoCoin reads one Coin without copying or decompressing its script.
func (r *reader) undoCoin(c *undoCoin) error {
	code := r.coreVarInt()
	if r.err == nil && code>>1 > 1<<31-1 {
		r.fail(fmt.Errorf("height %d out of range", code>>1))
	}
	c.height, c.coinbase = uint32(code>>1), code&1 == 1
	if c.height > 0 {
		r.coreVarInt() // the dummy transaction version of the old format
	}
	c.value = DecompressAmount(r.coreVarInt())
	if r.err == nil && c.value > maxMoney {
		r.fail(fmt.Errorf("value %d above the money supply", c.value))
	}
	c.kind = r.coreVarInt()
	if r.err != nil {
		return r.err
	}
	n := uint64(0)
	if c.kind < numSpecialScripts {
		n = uint64(specialScriptSize(c.kind))
	} else {
		n = c.kind - numSpecialScripts
	}
	if n > uint64(len(r.b)-r.pos) {
		r.fail(errShort)
		return r.err
	}
	c.body = r.take(int(n))
	return r.err
}

// script returns the coin's output script, decompressed.
func (c *undoCoin) script() ([]byte, error) {
	data := c.body
	switch c.kind {
	case 0:
		s := make([]byte, 0, 25)
		s = append(s, opDup, opHash160, 20)
		s = append(s, data...)
		return append(s, opEqualVerify, opCheckSig), nil
	case 1:
		s := make([]byte, 0, 23)
		s = append(s, opHash160, 20)
		s = append(s, data...)
		return append(s, opEqual), nil
	case 2, 3:
		s := make([]byte, 0, 35)
		s = append(s, 33, byte(c.kind))
		s = append(s, data...)
		return append(s, opCheckSig), nil
	case 4, 5: // the full key is recomputed from x and the parity of y
		var comp [33]byte
		comp[0] = byte(c.kind - 2)
		copy(comp[1:], data)
		pk, err := btcec.ParsePubKey(comp[:])
		if err != nil {
			return nil, fmt.Errorf("compressed uncompressed-key script: x %x is not on the curve: %v", data, err)
		}
		s := make([]byte, 0, 67)
		s = append(s, 65)
		s = append(s, pk.SerializeUncompressed()...)
		return append(s, opCheckSig), nil
	}
	if len(data) > maxScriptSize {
		return []byte{opReturn}, nil // Bitcoin Core keeps an overlong script as a short unspendable one
	}
	return append([]byte(nil), data...), nil
}

// walkBlockUndo reads a serialized CBlockUndo: tx(i, n) for each transaction's undo with
// its coin count, then coin(i, j, c) for each coin (c and its body are only valid during
// the call). Garbage is an error wrapping ErrBadUndo, never a panic.
func walkBlockUndo(data []byte, tx func(i, n int) error, coin func(i, j int, c *undoCoin) error) error {
	r := reader{b: data}
	// Each CTxUndo takes at least one byte, each Coin at least three.
	ntx := r.count(1)
	if r.err != nil {
		return fmt.Errorf("%w: transaction count: %v", ErrBadUndo, r.err)
	}
	var c undoCoin
	for i := 0; i < ntx; i++ {
		nin := r.count(3)
		if r.err != nil {
			return fmt.Errorf("%w: transaction %d: input count: %v", ErrBadUndo, i, r.err)
		}
		if err := tx(i, nin); err != nil {
			return err
		}
		for j := 0; j < nin; j++ {
			if err := r.undoCoin(&c); err != nil {
				return fmt.Errorf("%w: transaction %d input %d: %v", ErrBadUndo, i, j, err)
			}
			if err := coin(i, j, &c); err != nil {
				return err
			}
		}
	}
	if r.pos != len(data) {
		return fmt.Errorf("%w: %d bytes after the last transaction", ErrBadUndo, len(data)-r.pos)
	}
	return nil
}

// compressScript returns the special compressed form of script, or nil when it has none.
func compressScript(script []byte) []byte {
	switch c, _ := ClassifyScript(script); c {
	case PubKeyHash:
		return append([]byte{0}, script[3:23]...)
	case ScriptHash:
		return append([]byte{1}, script[2:22]...)
	case PubKey:
		key := script[1 : len(script)-1]
		if len(key) == 33 && (key[0] == 2 || key[0] == 3) {
			return append([]byte(nil), key...)
		}
		if len(key) == 65 && key[0] == 4 {
			// Only a fully valid key is compressed (CPubKey::IsFullyValid).
			pk, err := btcec.ParsePubKey(key)
			if err != nil {
				return nil
			}
			c := pk.SerializeCompressed()
			c[0] += 2 // 2 → 4, 3 → 5
			return c
		}
	}
	return nil
}

// appendCompressedScript appends script in Bitcoin Core's compressed form.
func appendCompressedScript(dst, script []byte) []byte {
	if c := compressScript(script); c != nil {
		return append(dst, c...)
	}
	dst = appendCoreVarInt(dst, uint64(len(script))+numSpecialScripts)
	return append(dst, script...)
}

// DecodeBlockUndo parses a serialized CBlockUndo. Garbage is an error, never a panic.
func DecodeBlockUndo(data []byte) (BlockUndo, error) {
	var u BlockUndo
	err := walkBlockUndo(data,
		func(_, n int) error {
			u = append(u, make([]SpentCoin, n))
			return nil
		},
		func(i, j int, c *undoCoin) error {
			script, err := c.script()
			if err != nil {
				return fmt.Errorf("%w: transaction %d input %d: %v", ErrBadUndo, i, j, err)
			}
			u[i][j] = SpentCoin{Height: c.height, Coinbase: c.coinbase, Value: c.value, Script: script}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if u == nil {
		u = BlockUndo{}
	}
	return u, nil
}

// AppendBlockUndo appends u serialized as Bitcoin Core's CBlockUndo.
func AppendBlockUndo(dst []byte, u BlockUndo) []byte {
	dst = wireAppendCompactSize(dst, uint64(len(u)))
	for _, coins := range u {
		dst = wireAppendCompactSize(dst, uint64(len(coins)))
		for _, c := range coins {
			code := uint64(c.Height) * 2
			if c.Coinbase {
				code++
			}
			dst = appendCoreVarInt(dst, code)
			if c.Height > 0 {
				dst = append(dst, 0)
			}
			dst = appendCoreVarInt(dst, CompressAmount(c.Value))
			dst = appendCompressedScript(dst, c.Script)
		}
	}
	return dst
}

// AppendUndoRecord appends one rev-file record: magic, size, the serialized CBlockUndo and
// its checksum, SHA-256d of the parent block's hash (internal byte order) and the data.
// Obfuscation (xor.dat) is applied to whole files, by the writer of the file.
func AppendUndoRecord(dst []byte, magic [4]byte, parent chainhash.Hash, undo []byte) []byte {
	dst = append(dst, magic[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(undo)))
	dst = append(dst, undo...)
	sum := undoChecksum(parent, undo)
	return append(dst, sum[:]...)
}

func undoChecksum(parent chainhash.Hash, undo []byte) chainhash.Hash {
	buf := make([]byte, 0, len(parent)+len(undo))
	buf = append(buf, parent[:]...)
	buf = append(buf, undo...)
	return chainhash.DoubleHashH(buf)
}

func wireAppendCompactSize(dst []byte, n uint64) []byte {
	switch {
	case n < 0xfd:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(dst, 0xfd), uint16(n))
	case n <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(dst, 0xfe), uint32(n))
	default:
		return binary.LittleEndian.AppendUint64(append(dst, 0xff), n)
	}
}
