package bitcoin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/chaintrace/chaintrace/graph"
)

// A window over block files (BlockFilesOptions.WindowStart) starts a trace above the first
// block: the inputs of its blocks that spend outputs created below the window start are
// resolved here, with the value and the address of the spent output, so that the engine
// and the store treat them as holdings from before the window (seeded when they pay a seed
// address) instead of failing on an unknown outpoint. Two ways, picked per window:
//
//   - undo data: Bitcoin Core's rev*.dat hold every connected block's spent outputs. When
//     every block of the window has its record, each block is resolved from its own
//     record, read next to the block; nothing is collected beforehand.
//   - a scan: otherwise one pass over the window collects the outpoints it spends that it
//     did not create, then one pass over the blocks below the window keeps exactly those
//     outputs. Memory is bounded by what the window spends, not by the UTXO set.

// PrevoutMethod says how a window's inputs from before the window are resolved.
type PrevoutMethod string

// Prevout methods.
const (
	PrevoutsNone PrevoutMethod = ""     // no window: the blocks start at the chain's first block
	PrevoutsUndo PrevoutMethod = "undo" // from Bitcoin Core's undo files (rev*.dat)
	PrevoutsScan PrevoutMethod = "scan" // from a pass over the block files below the window
)

// undoPos locates one block's undo record.
type undoPos struct {
	file int32 // index into BlockFiles.names (rev files share the number)
	off  int64 // offset of the CBlockUndo
	size uint32
}

// txKey is a txid as 32 bytes (internal byte order): the scan's sets hold one per window
// transaction and spent outpoint, so half the size of the hex text matters.
type txKey [32]byte

// outKey is an outpoint with a txKey.
type outKey struct {
	tx  txKey
	idx uint32
}

func txKeyOf(txid string) (txKey, error) {
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil || len(txid) != 2*chainhash.HashSize {
		return txKey{}, fmt.Errorf("txid %q is not 64 hex digits", txid)
	}
	return txKey(*h), nil
}

func outKeyOf(op graph.Outpoint) (outKey, error) {
	k, err := txKeyOf(op.TxID)
	return outKey{k, op.Index}, err
}

// prevCoin is an output created below the window that the window spends.
type prevCoin struct {
	addr  graph.Address
	value graph.Amount
	found bool
}

type windowResolver struct {
	start   uint64
	noUndo  bool
	mu      sync.RWMutex
	covered uint64 // resolution is ready for start..covered; covered < start: nothing yet
	method  PrevoutMethod
	// undo data
	undo     map[uint64]undoPos
	indexed  map[int32]bool // rev files indexed (present or not)
	byFile   map[int32][]uint64
	revFiles map[int32]*os.File
	// scan
	windowTxs map[txKey]struct{}  // txids created in the window so far
	coins     map[outKey]prevCoin // spent by the window, created below it
	scannedTo uint64              // the window's blocks scanned for spends: start..scannedTo
}

// PrevoutMethod reports how the window's inputs from before the window are resolved:
// PrevoutsNone without a window, otherwise the method chosen by the last Range (undo
// data when it covers every block of the range's window, else a scan).
func (bf *BlockFiles) PrevoutMethod() PrevoutMethod {
	if bf.win == nil {
		return PrevoutsNone
	}
	bf.win.mu.RLock()
	defer bf.win.mu.RUnlock()
	return bf.win.method
}

// prepareWindow makes the resolution of heights start..to ready.
func (bf *BlockFiles) prepareWindow(ctx context.Context, to uint64) error {
	w := bf.win
	if w == nil || to < w.start {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.covered >= w.start && to <= w.covered {
		return nil
	}
	if !w.noUndo && w.method != PrevoutsScan {
		ok, err := bf.indexUndo(ctx, to)
		if err != nil {
			return err
		}
		if ok {
			w.method, w.covered = PrevoutsUndo, to
			return nil
		}
	}
	w.method = PrevoutsScan
	if err := bf.scanPrevouts(ctx, to); err != nil {
		return err
	}
	w.covered = to
	return nil
}

// resolveBlock fills the inputs of b (at or above the window start) that spend outputs
// created below it, from the block's undo record or the scan's outputs.
func (bf *BlockFiles) resolveBlock(b *graph.Block) error {
	w := bf.win
	if w == nil || b.Height < w.start {
		return nil
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if b.Height > w.covered || w.covered < w.start {
		return fmt.Errorf("bitcoin: block %d: prevouts of the window prepared only up to %d", b.Height, w.covered)
	}
	if w.method == PrevoutsUndo {
		return bf.resolveFromUndo(b)
	}
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		for j := range tx.Inputs {
			in := &tx.Inputs[j]
			if in.Resolved {
				continue
			}
			k, err := outKeyOf(in.Prev)
			if err != nil {
				return fmt.Errorf("%w: block %d tx %s input %d: %v", ErrBadBlock, b.Height, tx.TxID, j, err)
			}
			if _, inWindow := w.windowTxs[k.tx]; inWindow {
				continue
			}
			c, ok := w.coins[k]
			if !ok || !c.found {
				return fmt.Errorf("%w: block %d tx %s input %d spends %s, which no block from %d to the window start %d creates",
					graph.ErrUnknownOutpoint, b.Height, tx.TxID, j, in.Prev, bf.first, w.start)
			}
			in.Address, in.Value, in.Resolved = c.addr, c.value, true
		}
	}
	return nil
}

func (bf *BlockFiles) resolveFromUndo(b *graph.Block) error {
	w := bf.win
	pos, ok := w.undo[b.Height]
	if !ok {
		return fmt.Errorf("%w: block %d (%s) has no undo record", ErrBadUndo, b.Height, b.Hash)
	}
	data, _, err := bf.readUndo(pos, false)
	if err != nil {
		return err
	}
	first := 0
	if len(b.UTXOTxs) > 0 && b.UTXOTxs[0].Coinbase {
		first = 1
	}
	ntx := 0
	err = walkBlockUndo(data,
		func(i, n int) error {
			ntx++
			if first+i >= len(b.UTXOTxs) {
				return fmt.Errorf("%w: the block has %d transactions besides the coinbase, its undo record more",
					ErrBadUndo, len(b.UTXOTxs)-first)
			}
			if tx := &b.UTXOTxs[first+i]; n != len(tx.Inputs) {
				return fmt.Errorf("%w: tx %s has %d inputs, its undo record %d", ErrBadUndo, tx.TxID, len(tx.Inputs), n)
			}
			return nil
		},
		func(i, j int, c *undoCoin) error {
			in := &b.UTXOTxs[first+i].Inputs[j]
			if uint64(c.height) >= w.start || in.Resolved {
				return nil // created inside the window: the engine or the store knows it
			}
			script, err := c.script()
			if err != nil {
				return fmt.Errorf("%w: tx %s input %d: %v", ErrBadUndo, b.UTXOTxs[first+i].TxID, j, err)
			}
			addr, _, _ := ScriptAddress(script, bf.net)
			in.Address, in.Value, in.Resolved = addr, graph.NewAmount(c.value), true
			return nil
		})
	if err == nil && ntx != len(b.UTXOTxs)-first {
		err = fmt.Errorf("%w: the block has %d transactions besides the coinbase, its undo record %d",
			ErrBadUndo, len(b.UTXOTxs)-first, ntx)
	}
	if err != nil {
		return fmt.Errorf("%s offset %d, block %d (%s): %w", bf.revName(pos.file), pos.off, b.Height, b.Hash, err)
	}
	return nil
}

func (bf *BlockFiles) revName(file int32) string {
	dir, base := filepath.Split(bf.names[file])
	return filepath.Join(dir, "rev"+strings.TrimPrefix(base, "blk"))
}

func (bf *BlockFiles) revFile(file int32) (*os.File, bool, error) {
	w := bf.win
	if f, ok := w.revFiles[file]; ok {
		return f, f != nil, nil
	}
	f, err := os.Open(bf.revName(file))
	if errors.Is(err, os.ErrNotExist) {
		w.revFiles[file] = nil
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("bitcoin: open undo file: %w", err)
	}
	w.revFiles[file] = f
	return f, true, nil
}

// readUndo reads one record's CBlockUndo (and, with sum, the checksum after it),
// deobfuscated.
func (bf *BlockFiles) readUndo(pos undoPos, sum bool) ([]byte, []byte, error) {
	f := bf.win.revFiles[pos.file]
	n := int(pos.size)
	if sum {
		n += chainhash.HashSize
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, pos.off); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: undo record at offset %d: %v", ErrTruncated, bf.revName(pos.file), pos.off, err)
	}
	bf.key.apply(buf, pos.off)
	return buf[:pos.size], buf[pos.size:], nil
}

// indexUndo finds the undo records of the blocks start..to. It reports false when one of
// them has none (no rev file, or no record in it).
func (bf *BlockFiles) indexUndo(ctx context.Context, to uint64) (bool, error) {
	w := bf.win
	if w.byFile == nil {
		w.byFile = make(map[int32][]uint64)
		for i := range bf.chain {
			h := bf.first + uint64(i)
			if h > 0 {
				w.byFile[bf.chain[i].file] = append(w.byFile[bf.chain[i].file], h)
			}
		}
	}
	from := w.start
	if w.covered >= w.start {
		from = w.covered + 1
	}
	for h := from; h <= to; h++ {
		if _, ok := w.undo[h]; ok {
			continue
		}
		file := bf.chain[h-bf.first].file
		if w.indexed[file] {
			return false, nil // its rev file was read and has no record of it
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		w.indexed[file] = true
		f, ok, err := bf.revFile(file)
		if err != nil || !ok {
			return false, err
		}
		if err := bf.indexRevFile(f, file); err != nil {
			return false, err
		}
		if _, ok := w.undo[h]; !ok {
			return false, nil
		}
	}
	return true, nil
}

// indexRevFile matches the records of one rev file to the best chain's blocks stored in
// the blk file of the same number. Bitcoin Core appends a block's undo record when it
// connects the block, so the records of chain blocks come in height order, mixed with
// records of blocks connected and later disconnected. A record belongs to a block when its
// transaction count is the block's less the coinbase and its checksum covers the block's
// parent hash.
func (bf *BlockFiles) indexRevFile(f *os.File, file int32) error {
	w := bf.win
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("bitcoin: stat %s: %w", bf.revName(file), err)
	}
	s := frameScanner{r: f, size: st.Size(), name: bf.revName(file), magic: magicBytes(bf.net), key: bf.key}
	cands := w.byFile[file]
	matched := make([]bool, len(cands))
	txCounts := make([]int64, len(cands))
	for i := range txCounts {
		txCounts[i] = -1
	}
	cursor := 0
	for {
		off, n, err := s.nextUndo()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		pos := undoPos{file: file, off: off, size: n}
		data, sum, err := bf.readUndo(pos, true)
		if err != nil {
			return err
		}
		r := reader{b: data}
		ntx := int64(r.varint())
		if r.err != nil {
			return fmt.Errorf("%w: %s at offset %d: transaction count: %v", ErrBadUndo, s.name, off, r.err)
		}
		for k := cursor; k < len(cands); k++ {
			if matched[k] {
				continue
			}
			if txCounts[k] < 0 {
				if txCounts[k], err = bf.txCount(cands[k]); err != nil {
					return err
				}
			}
			if txCounts[k]-1 != ntx {
				continue
			}
			e := &bf.chain[cands[k]-bf.first]
			if undoChecksum(e.parent, data) != chainhash.Hash(sum) {
				continue
			}
			matched[k] = true
			w.undo[cands[k]] = pos
			for cursor < len(cands) && matched[cursor] {
				cursor++
			}
			break
		}
	}
}

// txCount reads the transaction count of the block at height h.
func (bf *BlockFiles) txCount(h uint64) (int64, error) {
	e := &bf.chain[h-bf.first]
	f, err := bf.file(e.file)
	if err != nil {
		return 0, err
	}
	var buf [9]byte
	n := min(len(buf), int(e.size)-80)
	if n <= 0 {
		return 0, fmt.Errorf("%w: %s: block %s at offset %d has no transactions", ErrBadBlock, bf.names[e.file], e.hash, e.off)
	}
	if _, err := f.ReadAt(buf[:n], e.off+80); err != nil {
		return 0, fmt.Errorf("%w: %s: block %s at offset %d: %v", ErrTruncated, bf.names[e.file], e.hash, e.off, err)
	}
	bf.key.apply(buf[:n], e.off+80)
	r := reader{b: buf[:n]}
	c := r.varint()
	if r.err != nil {
		return 0, fmt.Errorf("%w: %s: block %s: transaction count: %v", ErrBadBlock, bf.names[e.file], e.hash, r.err)
	}
	return int64(c), nil
}

// maxUndoRecord bounds one undo record: far above any real block's (each spent output is
// at most a 10,000-byte script plus a few bytes), low enough to refuse garbage sizes.
const maxUndoRecord = 1 << 30

// undoFrames are undo records: framed like blocks, with a 32-byte checksum after the data.
var undoFrames = frameKind{min: 1, max: maxUndoRecord, trailer: chainhash.HashSize, badSize: ErrBadUndo,
	header: "record header", sizeName: "record size", left: "undo record of %d bytes and its checksum, only %d bytes left in the file"}

// nextUndo returns the offset and size of the next undo record's CBlockUndo, or io.EOF.
func (s *frameScanner) nextUndo() (int64, uint32, error) {
	return s.nextFrame(undoFrames)
}

// scanPrevouts collects what blocks start..to spend from below the window: first the
// spends of the window's blocks not yet scanned, then, if any are new, one pass over the
// blocks below the window that keeps exactly those outputs.
func (bf *BlockFiles) scanPrevouts(ctx context.Context, to uint64) error {
	w := bf.win
	if w.windowTxs == nil {
		w.windowTxs = make(map[txKey]struct{})
		w.coins = make(map[outKey]prevCoin)
		w.scannedTo = w.start - 1
	}
	if to <= w.scannedTo {
		return nil
	}
	// The window's transactions and what they spend, in chain order: an outpoint of a
	// transaction seen earlier in the window is the window's own.
	newNeeds := make(map[txKey]struct{})
	err := bf.scanRange(ctx, w.scannedTo+1, to, func(_ int, d *Decoder, ids []chainhash.Hash) (scanned, error) {
		var sc scanned
		for i := range d.txs {
			if i > 0 {
				for _, in := range d.txs[i].ins {
					sc.ins = append(sc.ins, outKey{txKey(in.prev), in.index})
				}
			}
			sc.txs = append(sc.txs, txKey(ids[i]))
			sc.nins = append(sc.nins, len(sc.ins))
		}
		return sc, nil
	}, func(sc scanned) error {
		first := 0
		for i, id := range sc.txs {
			for _, p := range sc.ins[first:sc.nins[i]] {
				if _, ok := w.windowTxs[p.tx]; ok {
					continue
				}
				if _, ok := w.coins[p]; ok {
					continue
				}
				w.coins[p] = prevCoin{}
				newNeeds[p.tx] = struct{}{}
			}
			first = sc.nins[i]
			w.windowTxs[id] = struct{}{}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.scannedTo = to
	if len(newNeeds) == 0 || w.start == bf.first {
		return nil
	}
	// The blocks below the window: the outputs of the transactions the window spends from
	// (newNeeds is only read while the workers run).
	return bf.scanRange(ctx, bf.first, w.start-1, func(h int, d *Decoder, ids []chainhash.Hash) (scanned, error) {
		var sc scanned
		for i := range d.txs {
			k := txKey(ids[i])
			if _, ok := newNeeds[k]; !ok {
				continue
			}
			for j, o := range d.txs[i].outs {
				if o.value < 0 || o.value > maxMoney {
					return sc, fmt.Errorf("%w: block at height %d: tx %s output %d has value %d outside 0..%d satoshi",
						ErrBadBlock, h, ids[i], j, o.value, int64(maxMoney))
				}
				addr, _, _ := ScriptAddress(o.script, bf.net)
				sc.outs = append(sc.outs, outKey{k, uint32(j)})
				sc.coins = append(sc.coins, prevCoin{addr: addr, value: graph.NewAmount(uint64(o.value)), found: true})
			}
		}
		return sc, nil
	}, func(sc scanned) error {
		for i, op := range sc.outs {
			if _, ok := w.coins[op]; ok {
				// A later creation of the same txid (BIP 30) replaces the earlier.
				w.coins[op] = sc.coins[i]
			}
		}
		return nil
	})
}

// scanned is what a scan worker keeps of one block.
type scanned struct {
	txs   []txKey  // pass 1: the block's txids
	nins  []int    // pass 1: end of each transaction's inputs in ins
	ins   []outKey // pass 1: the outpoints the block spends
	outs  []outKey // pass 2: outputs of transactions the window spends from
	coins []prevCoin
}

// scanRange parses blocks from..to on the workers, without the text (addresses, hex) a
// full decode builds, and with the merkle root checked: work sees each block's parsed
// transactions and txids (internal byte order) and returns what apply, called in height
// order on the calling goroutine, needs.
func (bf *BlockFiles) scanRange(ctx context.Context, from, to uint64,
	work func(height int, d *Decoder, ids []chainhash.Hash) (scanned, error), apply func(scanned) error) error {
	decoders := make([]*Decoder, bf.workers)
	for i := range decoders {
		decoders[i] = NewDecoder(bf.net)
	}
	return orderedMap(ctx, int(to-from+1), bf.workers,
		func(wk, i int) (scanned, error) {
			h := from + uint64(i)
			raw, err := bf.ReadRaw(h)
			if err != nil {
				return scanned{}, err
			}
			e := &bf.chain[h-bf.first]
			d := decoders[wk]
			hdr, err := d.parse(raw)
			if err == nil && len(d.txs) == 0 {
				err = errors.New("no transactions")
			}
			if err != nil {
				return scanned{}, fmt.Errorf("%s offset %d: %w: block at height %d: %v", bf.names[e.file], e.off, ErrBadBlock, h, err)
			}
			d.ids = d.ids[:0]
			for k := range d.txs {
				d.ids = append(d.ids, d.txid(raw, &d.txs[k]))
			}
			if got := merkleRoot(d.ids); !bytes.Equal(got[:], hdr[36:68]) {
				return scanned{}, fmt.Errorf("%s offset %d: %w: block %s at height %d: merkle root does not match its transactions",
					bf.names[e.file], e.off, ErrBadBlock, e.hash, h)
			}
			return work(int(h), d, d.ids)
		},
		func(_ int, sc scanned) error { return apply(sc) })
}

// closeWindow releases the undo files.
func (bf *BlockFiles) closeWindow() error {
	if bf.win == nil {
		return nil
	}
	bf.win.mu.Lock()
	defer bf.win.mu.Unlock()
	var first error
	for k, f := range bf.win.revFiles {
		if f != nil {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
		}
		delete(bf.win.revFiles, k)
	}
	return first
}
