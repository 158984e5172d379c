package blockgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
)

// Options configures Generate.
type Options struct {
	Net         *chaincfg.Params // network (magic, genesis); required
	Seed        uint64           // PRNG seed: same seed, same files
	Txs         int              // non-coinbase transactions to generate (required, > 0)
	TxsPerBlock int              // transactions per block once enough outputs exist (default 2000)
	Addresses   int              // size of the address pool outputs pay to (default 200,000)
	MaxFileSize int64            // start a new blk file past this size (default 128 MiB, as Bitcoin Core)
	XORKey      [8]byte          // obfuscation key; non-zero keys are written to xor.dat
	StartTime   time.Time        // time of block 1 (default 2020-01-01 UTC); blocks are 10 minutes apart
	// Undo also writes Bitcoin Core's undo files: rev00000.dat, … next to the blk file of
	// the same number, one record per block (the coins its inputs spend, CBlockUndo),
	// obfuscated with XORKey as Bitcoin Core does.
	Undo bool
}

// Summary describes what Generate wrote.
type Summary struct {
	Blocks  int    // blocks written (heights 1..Blocks)
	Txs     int    // transactions including coinbases
	Inputs  int    // non-coinbase inputs
	Outputs int    // outputs including coinbase outputs
	Bytes   int64  // serialized block bytes (without framing)
	Files   int    // blk files written
	TipHash string // hash of the last block
}

// ErrBadOptions is wrapped by option errors.
var ErrBadOptions = errors.New("blockgen: bad options")

type utxo struct {
	op       wire.OutPoint
	value    int64
	kind     uint8
	height   int32
	coinbase bool
	script   []byte
}

// Output kinds, with the share of the address pool each gets.
const (
	kindP2PKH uint8 = iota
	kindP2WPKH
	kindP2SHP2WPKH
	kindP2TR
)

const coinbaseOutputs = 50

// Generate writes the chain into dir (created if needed) as blk00000.dat, blk00001.dat, ….
func Generate(ctx context.Context, dir string, opts Options) (Summary, error) {
	var sum Summary
	if opts.Net == nil {
		return sum, fmt.Errorf("%w: Net is nil", ErrBadOptions)
	}
	if opts.Txs <= 0 {
		return sum, fmt.Errorf("%w: Txs must be positive, got %d", ErrBadOptions, opts.Txs)
	}
	if opts.TxsPerBlock <= 0 {
		opts.TxsPerBlock = 2000
	}
	if opts.Addresses <= 0 {
		opts.Addresses = 200_000
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 128 << 20
	}
	if opts.StartTime.IsZero() {
		opts.StartTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sum, fmt.Errorf("blockgen: %w", err)
	}
	if opts.XORKey != ([8]byte{}) {
		if err := os.WriteFile(filepath.Join(dir, "xor.dat"), opts.XORKey[:], 0o644); err != nil {
			return sum, fmt.Errorf("blockgen: %w", err)
		}
	}
	g := &gen{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))}
	g.makeAddresses()
	w := &blkWriter{dir: dir, net: opts.Net, key: opts.XORKey, max: opts.MaxFileSize}
	defer w.close()
	var rev *blkWriter // undo records, in the rev file numbered as the block's blk file
	if opts.Undo {
		rev = &blkWriter{dir: dir, net: opts.Net, key: opts.XORKey, prefix: "rev"}
		defer rev.close()
	}

	prev := *opts.Net.GenesisHash
	var mature []utxo // outputs of earlier blocks, spendable
	for height := int32(1); sum.Txs-sum.Blocks < opts.Txs; height++ {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		n := opts.TxsPerBlock
		if max := len(mature) / 3; n > max {
			n = max
		}
		if rest := opts.Txs - (sum.Txs - sum.Blocks); n > rest {
			n = rest
		}
		block, created, undo := g.block(height, prev, n, &mature)
		raw, err := serialize(block)
		if err != nil {
			return sum, err
		}
		if err := w.write(raw); err != nil {
			return sum, err
		}
		if rev != nil {
			if err := rev.writeUndo(w.files-1, prev, undo); err != nil {
				return sum, err
			}
		}
		mature = append(mature, created...)
		prev = block.Header.BlockHash()
		sum.Blocks++
		sum.Txs += len(block.Transactions)
		for _, tx := range block.Transactions[1:] {
			sum.Inputs += len(tx.TxIn)
		}
		for _, tx := range block.Transactions {
			sum.Outputs += len(tx.TxOut)
		}
		sum.Bytes += int64(len(raw))
	}
	if err := w.close(); err != nil {
		return sum, err
	}
	if rev != nil {
		if err := rev.close(); err != nil {
			return sum, err
		}
	}
	sum.Files = w.files
	sum.TipHash = prev.String()
	return sum, nil
}

type gen struct {
	opts  Options
	rng   *rand.Rand
	addrs [][]byte // output scripts of the address pool
	kinds []uint8
}

func (g *gen) makeAddresses() {
	g.addrs = make([][]byte, g.opts.Addresses)
	g.kinds = make([]uint8, g.opts.Addresses)
	for i := range g.addrs {
		var s []byte
		k := g.rng.IntN(10)
		switch {
		case k < 4: // 40% P2PKH
			s = append([]byte{0x76, 0xa9, 20}, g.bytes(20)...)
			s = append(s, 0x88, 0xac)
			g.kinds[i] = kindP2PKH
		case k < 7: // 30% P2WPKH
			s = append([]byte{0x00, 20}, g.bytes(20)...)
			g.kinds[i] = kindP2WPKH
		case k < 9: // 20% P2SH (wrapping P2WPKH)
			s = append([]byte{0xa9, 20}, g.bytes(20)...)
			s = append(s, 0x87)
			g.kinds[i] = kindP2SHP2WPKH
		default: // 10% P2TR
			s = append([]byte{0x51, 32}, g.bytes(32)...)
			g.kinds[i] = kindP2TR
		}
		g.addrs[i] = s
	}
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], g.rng.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// block builds one block spending from *mature (spent outputs are removed) and returns the
// outputs it creates.
func (g *gen) block(height int32, prev chainhash.Hash, ntx int, mature *[]utxo) (*wire.MsgBlock, []utxo, bitcoin.BlockUndo) {
	var created []utxo
	var undo bitcoin.BlockUndo
	txs := make([]*wire.MsgTx, 0, ntx+1)
	var fees int64
	for t := 0; t < ntx; t++ {
		tx := wire.NewMsgTx(2)
		nin := 1 + g.rng.IntN(3)
		var in int64
		var spent []bitcoin.SpentCoin
		for k := 0; k < nin; k++ {
			pool := *mature
			j := g.rng.IntN(len(pool))
			u := pool[j]
			pool[j] = pool[len(pool)-1]
			*mature = pool[:len(pool)-1]
			in += u.value
			if g.opts.Undo {
				spent = append(spent, bitcoin.SpentCoin{Height: uint32(u.height), Coinbase: u.coinbase, Value: uint64(u.value), Script: u.script})
			}
			txin := wire.NewTxIn(&u.op, nil, nil)
			g.sign(txin, u.kind)
			tx.AddTxIn(txin)
		}
		fee := int64(200 + g.rng.IntN(5000))
		if fee >= in {
			fee = 0
		}
		nout := 1 + g.rng.IntN(3)
		g.pay(tx, in-fee, nout)
		fees += fee
		txs = append(txs, tx)
		if g.opts.Undo {
			undo = append(undo, spent)
		}
	}
	cb := wire.NewMsgTx(1)
	script := make([]byte, 0, 12)
	script = append(script, 4, byte(height), byte(height>>8), byte(height>>16), byte(height>>24), 4)
	script = append(script, g.bytes(4)...)
	cb.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), script, nil))
	g.pay(cb, blockchain.CalcBlockSubsidy(height, g.opts.Net)+fees, coinbaseOutputs)
	txs = append([]*wire.MsgTx{cb}, txs...)

	hashes := make([]chainhash.Hash, len(txs))
	for i, tx := range txs {
		hashes[i] = tx.TxHash()
		for o, out := range tx.TxOut {
			u := utxo{op: wire.OutPoint{Hash: hashes[i], Index: uint32(o)}, value: out.Value, kind: g.kindOf(out.PkScript)}
			if g.opts.Undo {
				u.height, u.coinbase, u.script = height, i == 0, out.PkScript
			}
			created = append(created, u)
		}
	}
	hdr := wire.NewBlockHeader(0x20000000, &prev, ptr(merkle(hashes)), g.opts.Net.PowLimitBits, uint32(height))
	hdr.Timestamp = g.opts.StartTime.Add(time.Duration(height-1) * 10 * time.Minute)
	block := wire.NewMsgBlock(hdr)
	for _, tx := range txs {
		_ = block.AddTransaction(tx)
	}
	return block, created, undo
}

func ptr[T any](v T) *T { return &v }

// pay splits value over n outputs to random pool addresses (random weights, exact sum).
func (g *gen) pay(tx *wire.MsgTx, value int64, n int) {
	left := value
	for k := 0; k < n; k++ {
		v := left
		if k < n-1 {
			v = left / int64(n-k)
			if v > 1 {
				v = v/2 + g.rng.Int64N(v)
			}
			if v > left {
				v = left
			}
		}
		left -= v
		a := g.rng.IntN(len(g.addrs))
		tx.AddTxOut(wire.NewTxOut(v, g.addrs[a]))
	}
}

func (g *gen) kindOf(script []byte) uint8 {
	switch {
	case len(script) == 25:
		return kindP2PKH
	case len(script) == 22:
		return kindP2WPKH
	case len(script) == 23:
		return kindP2SHP2WPKH
	}
	return kindP2TR
}

// sign fills an input with data of the size a real signature has for its kind.
func (g *gen) sign(in *wire.TxIn, kind uint8) {
	switch kind {
	case kindP2PKH: // <72-byte DER sig> <33-byte key>
		in.SignatureScript = append(append([]byte{72}, g.bytes(72)...), append([]byte{33}, g.bytes(33)...)...)
	case kindP2WPKH:
		in.Witness = wire.TxWitness{g.bytes(72), g.bytes(33)}
	case kindP2SHP2WPKH: // push of the 22-byte P2WPKH redeem script
		in.SignatureScript = append([]byte{22, 0x00, 20}, g.bytes(20)...)
		in.Witness = wire.TxWitness{g.bytes(72), g.bytes(33)}
	default: // key-path taproot spend: one 64-byte Schnorr signature
		in.Witness = wire.TxWitness{g.bytes(64)}
	}
	in.Sequence = wire.MaxTxInSequenceNum - 2
}

func merkle(h []chainhash.Hash) chainhash.Hash {
	level := append([]chainhash.Hash(nil), h...)
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			j := i + 1
			if j == len(level) {
				j = i
			}
			var pair [64]byte
			copy(pair[:32], level[i][:])
			copy(pair[32:], level[j][:])
			next = append(next, chainhash.DoubleHashH(pair[:]))
		}
		level = next
	}
	return level[0]
}

func serialize(b *wire.MsgBlock) ([]byte, error) {
	buf := make([]byte, 0, b.SerializeSize())
	w := &sliceWriter{buf}
	if err := b.Serialize(w); err != nil {
		return nil, fmt.Errorf("blockgen: serialize block: %w", err)
	}
	return w.b, nil
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// blkWriter writes framed, optionally obfuscated blocks into numbered files.
type blkWriter struct {
	prefix string // file name prefix: "blk" (default) or "rev"
	dir    string
	net    *chaincfg.Params
	key    [8]byte
	max    int64
	f      *os.File
	bw     *bufio.Writer
	size   int64
	files  int
}

func (w *blkWriter) write(raw []byte) error {
	if w.f == nil || w.size+int64(len(raw))+8 > w.max && w.size > 0 {
		if err := w.close(); err != nil {
			return err
		}
		prefix := w.prefix
		if prefix == "" {
			prefix = "blk"
		}
		f, err := os.Create(filepath.Join(w.dir, fmt.Sprintf("%s%05d.dat", prefix, w.files)))
		if err != nil {
			return fmt.Errorf("blockgen: %w", err)
		}
		w.f, w.bw, w.size = f, bufio.NewWriterSize(f, 1<<20), 0
		w.files++
	}
	frame := make([]byte, 8+len(raw))
	m := uint32(w.net.Net)
	binary.LittleEndian.PutUint32(frame[0:], m)
	binary.LittleEndian.PutUint32(frame[4:], uint32(len(raw)))
	copy(frame[8:], raw)
	if w.key != ([8]byte{}) {
		for i := range frame {
			frame[i] ^= w.key[(w.size+int64(i))%8]
		}
	}
	if _, err := w.bw.Write(frame); err != nil {
		return fmt.Errorf("blockgen: %w", err)
	}
	w.size += int64(len(frame))
	return nil
}

// writeUndo appends one block's undo record to rev file number file (opened when the blk
// writer moves to a new file), checksummed with the parent's hash.
func (w *blkWriter) writeUndo(file int, parent chainhash.Hash, undo bitcoin.BlockUndo) error {
	if w.f == nil || w.files-1 != file {
		if err := w.close(); err != nil {
			return err
		}
		w.files = file
		w.f = nil
		name := filepath.Join(w.dir, fmt.Sprintf("rev%05d.dat", file))
		f, err := os.Create(name)
		if err != nil {
			return fmt.Errorf("blockgen: %w", err)
		}
		w.f, w.bw, w.size = f, bufio.NewWriterSize(f, 1<<20), 0
		w.files++
	}
	m := uint32(w.net.Net)
	magic := [4]byte{byte(m), byte(m >> 8), byte(m >> 16), byte(m >> 24)}
	rec := bitcoin.AppendUndoRecord(nil, magic, parent, bitcoin.AppendBlockUndo(nil, undo))
	if w.key != ([8]byte{}) {
		for i := range rec {
			rec[i] ^= w.key[(w.size+int64(i))%8]
		}
	}
	if _, err := w.bw.Write(rec); err != nil {
		return fmt.Errorf("blockgen: %w", err)
	}
	w.size += int64(len(rec))
	return nil
}

func (w *blkWriter) close() error {
	if w.f == nil {
		return nil
	}
	err := w.bw.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f, w.bw = nil, nil
	if err != nil {
		return fmt.Errorf("blockgen: %w", err)
	}
	return nil
}
