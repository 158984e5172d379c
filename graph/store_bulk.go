package graph

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
)

// The bulk path: a first-time load of a sorted history through badger's StreamWriter,
// which writes sorted tables straight into the LSM tree — no memtables, no write-ahead
// log, no compactions. The result is byte-for-byte the same store WriteBlock would build
// (TestStoreBulkLoadEqualsWriteBlock checks it).
//
// Block records arrive in key order and are streamed out at once. The outpoint and address
// index entries arrive in random key order: they are collected in memory, sorted, and
// spilled as sorted runs to temporary files when they exceed BulkOptions.MemoryBudget; Finish
// merges the runs.
//
// The work is split over two goroutines, so that a load uses two cores: Add resolves the
// block's inputs and builds the outpoint index entries (both depend on the blocks before it,
// in order), then hands a copy of the resolved block to the loader's deriver, which encodes
// the block record and the address index entries (which depend on that block alone) while
// Add goes on with the next block. Prevouts are resolved from an in-memory map of the
// load's unspent outputs (about 120 bytes per unspent output), which also holds each one's
// creation record until it is spent or the load ends: an outpoint created and spent within
// the load then yields one index entry, the record WriteBlock would have written, instead
// of a creation and a spend for the sorter to carry and the merge to combine. Finish adds
// the creation entries of the outputs still unspent.
//
// StreamWriter requires an empty database and drops whatever it holds, so a bulk load
// needs a store without blocks or records, and holds the store's write lock from
// NewBulkLoader to Finish or Abort. Before it drops anything, the load records its intent
// (store_intent.go) with what the store held; the next OpenStore after a crash during the
// load rolls it back to that, window starts included, and says so (Store.Recovered).

// BulkOptions configures a bulk load.
type BulkOptions struct {
	// TempDir holds the sorted runs (default: os.TempDir()).
	TempDir string
	// MemoryBudget is the index bytes held in memory before a sorted run is spilled
	// (default 256 MB). The load's unspent outputs are held in memory besides (about 100
	// bytes each).
	MemoryBudget int
}

// BulkStats describes a finished bulk load.
type BulkStats struct {
	Blocks, Txs   int
	Resolved      int // inputs resolved from the load's own outputs
	OutsideWindow int // inputs spending outpoints from before the window
	Runs          int // sorted runs spilled to disk
}

// BulkLoader loads a chain's history, in chain order, into an empty store. Create it with
// Store.NewBulkLoader, Add the blocks, then Finish (or Abort).
type BulkLoader struct {
	s       *Store
	opts    BulkOptions
	chain   Chain
	id      byte
	cur     cursor
	started bool
	last    *Block
	stats   BulkStats

	sw      *badger.StreamWriter
	utxo    map[string]bulkCoin
	outs    *sorter // 'O' entries
	seq     uint64
	scratch []byte
	vbuf    []byte
	done    bool
	err     error // sticky failure of Add

	// The deriver goroutine (see deriveLoop) owns blocks and moves until it has stopped.
	derive     chan derivable // resolved copies of the added blocks, in order
	deriveDone chan struct{}  // closed when the deriver has stopped
	deriveErr  error          // the deriver's failure; read after deriveDone is closed
	deriveFail atomic.Bool    // the deriver has failed (so Add stops early)
	blocks     *z.Buffer      // pending block records
	moves      *sorter        // 'A' entries
	explicit   []bool         // per input of the block being added: its debit is an index entry

	pendingCursors []*pb.KV // other chains' cursors, rewritten at Finish
	// What the store held before the load (metadata and cursors, window starts included),
	// which Abort puts back after dropping what was streamed.
	before       []*pb.KV
	chainsBefore map[Chain]byte
	byIDBefore   map[byte]Chain
	overwritten  []*pb.KV // records overwritten by duplicate coinbase txids, found by the merge
	intent       bool     // the intent record is written (store_intent.go)
}

// derivable is a block for the deriver: a resolved copy, and which of its inputs' debits
// are index entries (those spending outpoints the load did not create; see forEachMovement),
// one flag per input of its non-coinbase transactions, in order.
type derivable struct {
	b        *Block
	explicit []bool
}

// bulkCoin is an output the load created and has not seen spent: what resolves a spend,
// and the creation half of its outpoint record.
type bulkCoin struct {
	addr        Address
	value       Amount
	height      uint64
	txIndex     uint32
	coinbase    bool
	unspendable bool
}

// record is the outpoint record of the coin created at output index.
func (c *bulkCoin) record(index uint32) outpointRecord {
	return outpointRecord{Created: true, ValueKnown: true, Coinbase: c.coinbase, Unspendable: c.unspendable,
		CreatedAt: Position{Height: c.height, TxIndex: c.txIndex, Seq: int32(index)}, Address: c.addr, Value: c.value}
}

// Stream ids: one per key range, since StreamWriter's streams must not overlap.
const (
	streamAddress = 1 + iota
	streamBlock
	streamCursor
	streamMeta
	streamOutpoint
	streamOverwritten
)

// NewBulkLoader starts a bulk load. The store must hold no blocks and no records
// (ErrStoreNotEmpty); a window start set before (SetWindowStart) is kept. Until Finish or
// Abort, WriteBlock, Rewind and SetWindowStart wait.
func (s *Store) NewBulkLoader(ctx context.Context, opts BulkOptions) (*BulkLoader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = 256 << 20
	}
	s.writeMu.Lock()
	ok := false
	defer func() {
		if !ok {
			s.writeMu.Unlock()
		}
	}()
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if k := it.Item().Key(); k[0] != tagMeta && k[0] != tagCursor {
				return fmt.Errorf("graph: store: bulk load: %w: it holds key %q (a bulk load needs a store without blocks or records)", ErrStoreNotEmpty, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ok = true
	l := &BulkLoader{s: s, opts: opts, utxo: map[string]bulkCoin{},
		outs: newSorter(opts.TempDir, opts.MemoryBudget/3), moves: newSorter(opts.TempDir, opts.MemoryBudget*2/3)}
	s.mu.Lock()
	s.bulk = l
	s.mu.Unlock()
	return l, nil
}

// Add appends the next block. Blocks must come in chain order, all of one chain, each
// extending the previous one (by height, and by parent hash when it is set). Unresolved
// Bitcoin inputs are resolved in place, as by WriteBlock.
func (l *BulkLoader) Add(ctx context.Context, b *Block) error {
	if l.done {
		return errors.New("graph: store: bulk load: Add after Finish or Abort")
	}
	if l.err != nil {
		return l.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validateBlock(b); err != nil {
		return err
	}
	if !l.started {
		if err := l.start(b.Chain); err != nil {
			l.err = err // half started: the load can only be aborted
			return err
		}
	}
	if b.Chain != l.chain {
		return fmt.Errorf("graph: store: bulk load of %s: block %d is of chain %s", l.chain, b.Height, b.Chain)
	}
	if p := l.last; p != nil {
		if b.Height <= p.Height {
			return fmt.Errorf("graph: store: bulk load of %s: %w: block %d after block %d (blocks must come in chain order)", l.chain, ErrGap, b.Height, p.Height)
		}
		if b.Parent != "" && p.Hash != "" && b.Parent != p.Hash {
			return fmt.Errorf("graph: store: bulk load of %s: block %d (%s): %w: parent %s, previous block %d (%s)", l.chain, b.Height, b.Hash, ErrParentMismatch, b.Parent, p.Height, p.Hash)
		}
	}

	// From here on a failure leaves part of the block in the sorters: it is sticky, and
	// the load can only be aborted.
	if err := l.addBlock(b); err != nil {
		l.err = err
		return err
	}
	return nil
}

func (l *BulkLoader) addBlock(b *Block) error {
	// Resolve and spend inputs, create outputs.
	l.explicit = l.explicit[:0]
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		if !tx.Coinbase {
			for j := range tx.Inputs {
				in := &tx.Inputs[j]
				key := outpointKey(l.scratch[:0], l.id, in.Prev)
				l.scratch = key
				coin, found := l.utxo[string(key)]
				l.explicit = append(l.explicit, !found)
				var r outpointRecord
				kind := byte(entrySpend)
				switch {
				case found:
					delete(l.utxo, string(key))
					if !in.Resolved {
						in.Address, in.Value, in.Resolved = coin.addr, coin.value, true
						l.stats.Resolved++
					} else if in.Address != coin.addr || in.Value != coin.value {
						return fmt.Errorf("graph: store: bulk load: block %d (%s) of %s: tx %s input %d: %w: it says %s pays %s to %q, the load has %s to %q",
							b.Height, b.Hash, b.Chain, tx.TxID, j, ErrPrevoutMismatch, in.Prev, in.Value.Dec(), in.Address, coin.value.Dec(), coin.addr)
					}
					// One entry for the whole life of the outpoint.
					r, kind = coin.record(in.Prev.Index), entryCreateSpent
				case in.Resolved:
					r = outpointRecord{ValueKnown: true, Address: in.Address, Value: in.Value}
				case l.cur.HasWindow:
					l.stats.OutsideWindow++
				default:
					return fmt.Errorf("graph: store: bulk load: block %d (%s) of %s: tx %s input %d: %w: %s is neither created earlier in the load nor spent already (declare the chain's window start if the history starts later)",
						b.Height, b.Hash, b.Chain, tx.TxID, j, ErrUnknownOutpoint, in.Prev)
				}
				r.Spent, r.SpentBy = true, tx.TxID
				r.SpentAt = Position{Height: b.Height, TxIndex: tx.Index, Seq: int32(j)}
				if err := l.addOutpointEntry(key, kind, &r); err != nil {
					return err
				}
			}
		}
		for j := range tx.Outputs {
			out := &tx.Outputs[j]
			key := outpointKey(l.scratch[:0], l.id, Outpoint{TxID: tx.TxID, Index: uint32(j)})
			l.scratch = key
			// A second creation of an unspent outpoint (a coinbase repeating a txid, Bitcoin
			// before BIP 30) replaces the first: the first goes to the sorter, where the
			// merge keeps it as the overwritten record (see mergeOutpoints).
			if old, ok := l.utxo[string(key)]; ok {
				r := old.record(uint32(j))
				if err := l.addOutpointEntry(key, entryCreate, &r); err != nil {
					return err
				}
			}
			l.utxo[string(key)] = bulkCoin{addr: out.Address, value: out.Value, height: b.Height, txIndex: tx.Index,
				coinbase: tx.Coinbase, unspendable: out.Unspendable}
		}
	}
	if l.deriveFail.Load() {
		return l.stopDeriver()
	}
	if l.stats.Blocks%64 == 63 {
		if err := l.s.checkSpace(); err != nil {
			return fmt.Errorf("bulk load: block %d: %w", b.Height, err)
		}
	}
	l.derive <- derivable{b: resolvedCopy(b), explicit: slices.Clone(l.explicit)}
	l.stats.Blocks++
	l.stats.Txs += b.TxCount()
	l.last = &Block{Height: b.Height, Hash: b.Hash}
	return nil
}

func (l *BulkLoader) nextSeq() uint64 { l.seq++; return l.seq }

// Outpoint entry kinds: the value carries a leading kind byte, dropped by the merge.
const (
	entryCreate      = 1
	entrySpend       = 2
	entryCreateSpent = entryCreate | entrySpend // created and spent within the load: the whole record
)

func (l *BulkLoader) addOutpointEntry(key []byte, kind byte, r *outpointRecord) error {
	l.vbuf = encodeOutpoint(append(l.vbuf[:0], kind), r)
	if err := l.outs.add(key, l.nextSeq(), l.vbuf); err != nil {
		return fmt.Errorf("graph: store: bulk load: %w", err)
	}
	return nil
}

// start prepares the stream writer for the first block's chain.
func (l *BulkLoader) start(c Chain) error {
	s := l.s
	var err error
	if l.cur, err = s.loadCursor(c); err != nil {
		return err
	}
	s.mu.RLock()
	id, known := s.chains[c]
	n := len(s.chains)
	s.mu.RUnlock()
	if !known {
		id = byte(n + 1)
	}
	l.chain, l.id, l.started = c, id, true

	// Everything the store holds (metadata, cursors) is rewritten through the stream,
	// because Prepare drops it.
	var meta, cursors []*pb.KV
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			kv := &pb.KV{Key: it.Item().KeyCopy(nil), Value: v, Version: 1}
			l.before = append(l.before, kv)
			if kv.Key[0] == tagMeta {
				kv.StreamId = streamMeta
				meta = append(meta, kv)
			} else if !bytes.Equal(kv.Key, cursorKey(id)) {
				kv.StreamId = streamCursor
				cursors = append(cursors, kv)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("graph: store: bulk load: %w", err)
	}
	if !known {
		meta = append(meta, &pb.KV{Key: metaChainKey(c), Value: []byte{id}, Version: 1, StreamId: streamMeta})
		slices.SortFunc(meta, func(a, b *pb.KV) int { return bytes.Compare(a.Key, b.Key) })
	}
	s.mu.RLock()
	l.chainsBefore, l.byIDBefore = maps.Clone(s.chains), maps.Clone(s.byID)
	s.mu.RUnlock()
	if err := s.checkSpace(); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	if !s.opts.InMemory {
		in := &bulkIntent{Chain: c, PID: os.Getpid(), Started: time.Now()}
		for _, kv := range l.before {
			in.Before = append(in.Before, kvPair{Key: kv.Key, Value: kv.Value})
		}
		if err := writeIntent(s.opts.Dir, in); err != nil {
			return fmt.Errorf("graph: store: bulk load: %w", err)
		}
		l.intent = true
	}
	l.sw = s.db.NewStreamWriter()
	if err := l.sw.Prepare(); err != nil {
		return fmt.Errorf("graph: store: bulk load: prepare stream writer: %w", err)
	}
	buf := z.NewBuffer(1<<20, "chaintrace.bulk.meta")
	defer buf.Release()
	for _, kv := range meta {
		badger.KVToBuffer(kv, buf)
	}
	if err := l.sw.Write(buf); err != nil {
		return fmt.Errorf("graph: store: bulk load: write metadata: %w", err)
	}
	l.pendingCursors = cursors
	l.blocks = z.NewBuffer(20<<20, "chaintrace.bulk.blocks")
	// A few blocks of slack let Add run ahead of the deriver without holding much memory.
	l.derive, l.deriveDone = make(chan derivable, 4), make(chan struct{})
	go l.deriveLoop()
	return nil
}

// deriveLoop encodes the block records and the address index entries of the blocks Add
// sends, in order, until the channel is closed. After a failure it only drains the channel.
func (l *BulkLoader) deriveLoop() {
	defer close(l.deriveDone)
	var kbuf, vbuf []byte
	var seq uint64
	add := func(m *Movement) bool {
		kbuf = movementKey(kbuf[:0], l.id, m.Address, m.Position, m.Credit)
		vbuf = encodeMovement(vbuf[:0], m)
		// Movement keys are unique, so seq only needs to increase.
		seq++
		if err := l.moves.add(kbuf, seq, vbuf); err != nil {
			l.deriveErr = fmt.Errorf("graph: store: bulk load: %w", err)
		}
		return l.deriveErr == nil
	}
	var m Movement
	for d := range l.derive {
		b := d.b
		if l.deriveErr != nil {
			continue
		}
		if !l.s.opts.NoAddressIndex {
			// The entries WriteBlock's apply writes: every credit, the debits of inputs
			// spending outpoints the load did not create, every account movement.
			k := 0
			for i := range b.UTXOTxs {
				tx := &b.UTXOTxs[i]
				nIn := 0
				if !tx.Coinbase {
					nIn = len(tx.Inputs)
					for j := range tx.Inputs {
						if l.deriveErr == nil && d.explicit[k] && tx.Inputs[j].Address != "" {
							utxoDebit(&m, b, tx, j)
							add(&m)
						}
						k++
					}
				}
				for j := range tx.Outputs {
					if l.deriveErr == nil && tx.Outputs[j].Address != "" {
						utxoCredit(&m, b, tx, nIn, j)
						add(&m)
					}
				}
			}
			if len(b.AccountTxs) > 0 {
				forEachMovement(b, add)
			}
		}
		if l.deriveErr == nil {
			vbuf = encodeBlock(vbuf[:0], b)
			badger.KVToBuffer(&pb.KV{Key: blockKey(kbuf[:0], l.id, b.Height), Value: vbuf, Version: 1, StreamId: streamBlock}, l.blocks)
			if l.blocks.LenNoPadding() > 16<<20 {
				l.deriveErr = l.flushBlocks()
			}
		}
		if l.deriveErr != nil {
			l.deriveFail.Store(true)
		}
	}
}

// stopDeriver lets the deriver finish the blocks sent so far, stops it and returns its
// failure. It may be called more than once.
func (l *BulkLoader) stopDeriver() error {
	if l.derive == nil {
		return nil
	}
	close(l.derive)
	<-l.deriveDone
	l.derive = nil
	return l.deriveErr
}

// resolvedCopy copies what the deriver reads of b (everything: the block record holds it
// all), so that the caller owns b again when Add returns. Strings are immutable and shared;
// inputs, outputs and transfers are copied into one slice each.
func resolvedCopy(b *Block) *Block {
	c := *b
	if b.UTXOTxs != nil {
		nIn, nOut := 0, 0
		for i := range b.UTXOTxs {
			nIn += len(b.UTXOTxs[i].Inputs)
			nOut += len(b.UTXOTxs[i].Outputs)
		}
		ins, outs := make([]TxIn, 0, nIn), make([]TxOut, 0, nOut)
		c.UTXOTxs = append([]UTXOTx(nil), b.UTXOTxs...)
		for i := range c.UTXOTxs {
			tx := &c.UTXOTxs[i]
			if tx.Inputs != nil {
				n := len(ins)
				ins = append(ins, tx.Inputs...)
				tx.Inputs = ins[n:len(ins):len(ins)]
			}
			if tx.Outputs != nil {
				n := len(outs)
				outs = append(outs, tx.Outputs...)
				tx.Outputs = outs[n:len(outs):len(outs)]
			}
		}
	}
	if b.AccountTxs != nil {
		nT := 0
		for i := range b.AccountTxs {
			nT += len(b.AccountTxs[i].Transfers)
		}
		ts := make([]Transfer, 0, nT)
		c.AccountTxs = append([]AccountTx(nil), b.AccountTxs...)
		for i := range c.AccountTxs {
			tx := &c.AccountTxs[i]
			if tx.Transfers != nil {
				n := len(ts)
				ts = append(ts, tx.Transfers...)
				tx.Transfers = ts[n:len(ts):len(ts)]
			}
		}
	}
	return &c
}

func (l *BulkLoader) flushBlocks() error {
	if l.blocks.LenNoPadding() == 0 {
		return nil
	}
	if err := l.s.checkSpace(); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	if err := l.sw.Write(l.blocks); err != nil {
		return fmt.Errorf("graph: store: bulk load: write blocks: %w", err)
	}
	l.blocks.Reset()
	return nil
}

// Abort abandons the load. The store is left as it was before the load: without blocks
// or records, with its metadata and cursors (window starts declared before the load
// included).
func (l *BulkLoader) Abort() {
	if l.done {
		return
	}
	l.done = true
	_ = l.stopDeriver() // the load is abandoned: its failure no longer matters
	if l.sw != nil {
		l.sw.Cancel()
		// Flush with nothing more written leaves a consistent database with what was
		// streamed; drop it, and put back what the store held before the load (its
		// metadata and cursors: a window start declared for the load survives it).
		err := l.s.db.DropAll()
		if err == nil {
			err = l.s.db.Update(func(txn *badger.Txn) error {
				for _, kv := range l.before {
					if err := txn.Set(kv.Key, kv.Value); err != nil {
						return err
					}
				}
				return txn.Set(metaFormatKey, formatMarker())
			})
		}
		if err == nil {
			err = l.s.db.Sync()
		}
		// Rolled back: the intent record has served. If the rollback failed (a full disk),
		// the record stays, and the next OpenStore rolls back from it.
		if err == nil && l.intent {
			_ = removeIntent(l.s.opts.Dir)
		}
		l.s.mu.Lock()
		l.s.chains, l.s.byID = l.chainsBefore, l.byIDBefore
		l.s.mu.Unlock()
		l.s.cursors = map[Chain]cursor{}
	}
	if l.blocks != nil {
		l.blocks.Release()
	}
	l.outs.close()
	l.moves.close()
	l.s.mu.Lock()
	l.s.bulk = nil
	l.s.mu.Unlock()
	l.s.writeMu.Unlock()
}

// Finish merges the sorted index runs into the store, writes the cursor and makes the
// store usable again.
func (l *BulkLoader) Finish(ctx context.Context) (BulkStats, error) {
	if l.done {
		return l.stats, errors.New("graph: store: bulk load: Finish after Finish or Abort")
	}
	if !l.started {
		l.Abort()
		return l.stats, nil
	}
	ok := false
	defer func() {
		if !ok {
			l.Abort()
		}
	}()
	if l.err != nil {
		return l.stats, l.err
	}
	if err := l.stopDeriver(); err != nil {
		return l.stats, err
	}
	if err := l.flushBlocks(); err != nil {
		return l.stats, err
	}
	l.blocks.Release()
	l.blocks = nil

	// Cursor(s).
	next := l.cur
	if l.last != nil {
		next.HasTip, next.TipHeight, next.TipHash = true, l.last.Height, l.last.Hash
	}
	cursors := append(l.pendingCursors, &pb.KV{Key: cursorKey(l.id), Value: encodeCursor(next), Version: 1, StreamId: streamCursor})
	slices.SortFunc(cursors, func(a, b *pb.KV) int { return bytes.Compare(a.Key, b.Key) })
	buf := z.NewBuffer(1<<20, "chaintrace.bulk.cursor")
	for _, kv := range cursors {
		badger.KVToBuffer(kv, buf)
	}
	err := l.sw.Write(buf)
	buf.Release()
	if err != nil {
		return l.stats, fmt.Errorf("graph: store: bulk load: write cursor: %w", err)
	}

	// The creation entries of the outputs still unspent. Their order does not matter: the
	// sorter orders by key, and by the order of addition within a key.
	for k, c := range l.utxo {
		r := c.record(binary.BigEndian.Uint32([]byte(k[len(k)-4:])))
		if err := l.addOutpointEntry([]byte(k), entryCreate, &r); err != nil {
			return l.stats, err
		}
	}
	l.utxo = nil

	// The two indexes are merged and streamed concurrently (StreamWriter.Write is safe
	// for concurrent use; each index is its own stream).
	var wg sync.WaitGroup
	var moveErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := newStreamBatcher(l.sw, streamAddress, l.s.checkSpace)
		defer w.release()
		if moveErr = l.moves.merge(ctx, w.add); moveErr == nil {
			moveErr = w.flush()
		}
	}()
	err = l.mergeOutpoints(ctx)
	wg.Wait()
	if err == nil {
		err = moveErr
	}
	if err != nil {
		return l.stats, err
	}
	if len(l.overwritten) > 0 {
		slices.SortFunc(l.overwritten, func(a, b *pb.KV) int { return bytes.Compare(a.Key, b.Key) })
		buf := z.NewBuffer(1<<20, "chaintrace.bulk.overwritten")
		for _, kv := range l.overwritten {
			badger.KVToBuffer(kv, buf)
		}
		err := l.sw.Write(buf)
		buf.Release()
		if err != nil {
			return l.stats, fmt.Errorf("graph: store: bulk load: write overwritten records: %w", err)
		}
	}
	l.stats.Runs = l.outs.runs + l.moves.runs
	if err := l.sw.Flush(); err != nil {
		return l.stats, fmt.Errorf("graph: store: bulk load: flush stream writer: %w", err)
	}
	if l.intent {
		// The tables are synced by Flush, the value log is not: sync it, then the load is
		// whole and its intent record is removed.
		if err := l.s.db.Sync(); err != nil {
			return l.stats, fmt.Errorf("graph: store: bulk load: sync: %w", err)
		}
		if err := removeIntent(l.s.opts.Dir); err != nil {
			return l.stats, fmt.Errorf("graph: store: bulk load: remove the intent record: %w", err)
		}
		l.intent = false
	}
	l.outs.close()
	l.moves.close()
	ok = true
	l.done = true
	l.s.mu.Lock()
	l.s.chains[l.chain], l.s.byID[l.id] = l.id, l.chain
	l.s.bulk = nil
	l.s.mu.Unlock()
	l.s.cursors[l.chain] = next
	l.s.writeMu.Unlock()
	return l.stats, nil
}

// mergeOutpoints streams the outpoint index, combining each outpoint's creation and spend.
//
// Almost every outpoint has one entry: its creation (unspent at the end of the load), its
// whole record (created and spent within the load), or a spend of an outpoint the load did
// not create. Entries hold the record encodeOutpoint would write and are streamed as they
// are. A creation followed by a plain spend (possible only through duplicate txids) is
// combined without decoding, since such a spend holds only the spend fields, which come
// last in the record. Anything else is decoded and combined field by field.
func (l *BulkLoader) mergeOutpoints(ctx context.Context) error {
	w := newStreamBatcher(l.sw, streamOutpoint, l.s.checkSpace)
	defer w.release()
	var (
		curKey []byte
		have   bool
		raw    []byte // the current outpoint's entry (kind byte first) while isRaw
		isRaw  bool   // raw holds the record; otherwise rec does
		rec    outpointRecord
		kinds  int
		out    []byte
	)
	emit := func() error {
		if !have {
			return nil
		}
		have = false
		if isRaw {
			return w.add(curKey, raw[1:])
		}
		out = encodeOutpoint(out[:0], &rec)
		return w.add(curKey, out)
	}
	decode := func(k, v []byte) (outpointRecord, error) {
		r, err := decodeOutpoint(v[1:], binary.BigEndian.Uint32(k[len(k)-4:]))
		if err != nil {
			return r, fmt.Errorf("graph: store: bulk load: %w", err)
		}
		return r, nil
	}
	err := l.outs.merge(ctx, func(k []byte, v []byte) error {
		if len(k) < 4 || len(v) < 2 || (v[0] != entryCreate && v[0] != entrySpend && v[0] != entryCreateSpent) || v[1]&^opAllFlags != 0 {
			return fmt.Errorf("graph: store: bulk load: %w: bulk entry %x = %x", ErrCorruptStore, k, v)
		}
		kind := v[0]
		if !have || !bytes.Equal(k, curKey) {
			if err := emit(); err != nil {
				return err
			}
			curKey, raw, isRaw, have, kinds = append(curKey[:0], k...), append(raw[:0], v...), true, true, int(kind)
			return nil
		}
		// Same outpoint again.
		if isRaw {
			if kinds == entryCreate && kind == entrySpend && v[1] == opSpent {
				out = append(append(append(out[:0], entryCreate, raw[1]|opSpent), raw[2:]...), v[2:]...)
				raw, out = out, raw
				kinds |= entrySpend
				return nil
			}
			var err error
			if rec, err = decode(curKey, raw); err != nil {
				return err
			}
			isRaw = false
		}
		r, err := decode(k, v)
		if err != nil {
			return err
		}
		switch {
		case kind == entrySpend && kinds&entrySpend == 0:
			rec.Spent, rec.SpentBy, rec.SpentAt = true, r.SpentBy, r.SpentAt
		case kind == entrySpend:
			return fmt.Errorf("graph: store: bulk load of %s: %w: an outpoint (key %x) is spent by tx %s in block %d and by tx %s in block %d",
				l.chain, ErrDoubleSpend, k, rec.SpentBy, rec.SpentAt.Height, r.SpentBy, r.SpentAt.Height)
		default: // a second creation (Bitcoin's duplicate coinbase txids before BIP 30): the later wins, as in Bitcoin Core
			if r.Coinbase { // as WriteBlock does, keep the overwritten record for a rewind
				l.overwritten = append(l.overwritten, &pb.KV{
					Key:   overwrittenKey(nil, l.id, r.CreatedAt.Height, r.CreatedAt.TxIndex, uint32(r.CreatedAt.Seq)),
					Value: encodeOutpoint(nil, &rec), Version: 1, StreamId: streamOverwritten,
				})
			}
			rec, kinds = r, int(kind)
			return nil
		}
		kinds |= int(kind)
		return nil
	})
	if err == nil {
		err = emit()
	}
	if err == nil {
		err = w.flush()
	}
	return err
}

// streamBatcher writes KVs of one stream to the stream writer in batches.
type streamBatcher struct {
	sw     *badger.StreamWriter
	stream uint32
	buf    *z.Buffer
	kv     pb.KV        // reused: KVToBuffer copies it into buf
	space  func() error // the store's free-space check, before each batch
}

func newStreamBatcher(sw *badger.StreamWriter, stream uint32, space func() error) *streamBatcher {
	return &streamBatcher{sw: sw, stream: stream, buf: z.NewBuffer(16<<20, "chaintrace.bulk.index"), space: space}
}

func (w *streamBatcher) add(k, v []byte) error {
	w.kv.Key, w.kv.Value, w.kv.Version, w.kv.StreamId = k, v, 1, w.stream
	badger.KVToBuffer(&w.kv, w.buf)
	if w.buf.LenNoPadding() > 16<<20 {
		return w.flush()
	}
	return nil
}

func (w *streamBatcher) release() { w.buf.Release() }

func (w *streamBatcher) flush() error {
	defer w.buf.Reset()
	if w.buf.LenNoPadding() == 0 {
		return nil
	}
	if err := w.space(); err != nil {
		return fmt.Errorf("graph: store: bulk load: %w", err)
	}
	if err := w.sw.Write(w.buf); err != nil {
		return fmt.Errorf("graph: store: bulk load: write index: %w", err)
	}
	return nil
}

// sorter is an external sort of (key, seq, value) entries by key, then seq. Entries live in
// fixed-size slabs (no copying as it grows); sorted runs beyond the memory budget are spilled
// to unlinked temporary files and merged at the end.
type sorter struct {
	dir    string
	budget int
	slabs  [][]byte
	used   int // bytes of slabs and entries
	ents   []sortEntry
	files  []*os.File
	runs   int
}

const slabSize = 8 << 20

type sortEntry struct {
	// prefix and prefix2 are the key's 16 bytes after the table tag and chain id (which
	// all keys of a sorter share), big-endian: most comparisons end with them.
	prefix, prefix2 uint64
	seq             uint64
	slab            uint32
	off             uint32
	klen, vlen      uint32
}

func newSorter(dir string, budget int) *sorter {
	// Entries take 40 bytes and a typical key and value 80: size the index for that.
	return &sorter{dir: dir, budget: budget, ents: make([]sortEntry, 0, budget/120)}
}

func keyPrefix(k []byte) (uint64, uint64) {
	var b [16]byte
	if len(k) > 2 {
		copy(b[:], k[2:])
	}
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

func (s *sorter) add(k []byte, seq uint64, v []byte) error {
	n := len(k) + len(v)
	if s.used+n+40 > s.budget && len(s.ents) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if len(s.slabs) == 0 || len(s.slabs[len(s.slabs)-1])+n > cap(s.slabs[len(s.slabs)-1]) {
		size := max(min(slabSize, s.budget/4), n)
		s.slabs = append(s.slabs, make([]byte, 0, size))
		s.used += size
	}
	i := len(s.slabs) - 1
	off := len(s.slabs[i])
	s.slabs[i] = append(append(s.slabs[i], k...), v...)
	p1, p2 := keyPrefix(k)
	s.ents = append(s.ents, sortEntry{prefix: p1, prefix2: p2, seq: seq, slab: uint32(i), off: uint32(off), klen: uint32(len(k)), vlen: uint32(len(v))})
	s.used += 40
	return nil
}

func (s *sorter) entry(e *sortEntry) (k, v []byte) {
	b := s.slabs[e.slab][e.off:]
	return b[:e.klen], b[e.klen : e.klen+e.vlen]
}

func (s *sorter) sort() {
	slices.SortFunc(s.ents, func(a, b sortEntry) int {
		if a.prefix != b.prefix {
			if a.prefix < b.prefix {
				return -1
			}
			return 1
		}
		if a.prefix2 != b.prefix2 {
			if a.prefix2 < b.prefix2 {
				return -1
			}
			return 1
		}
		ka, _ := s.entry(&a)
		kb, _ := s.entry(&b)
		if c := bytes.Compare(ka, kb); c != 0 {
			return c
		}
		if a.seq < b.seq {
			return -1
		}
		if a.seq > b.seq {
			return 1
		}
		return 0
	})
}

// spill writes the sorted in-memory entries as a run file.
func (s *sorter) spill() error {
	if len(s.ents) == 0 {
		return nil
	}
	s.sort()
	f, err := os.CreateTemp(s.dir, "chaintrace-bulk-run-*")
	if err != nil {
		return fmt.Errorf("bulk load: create sorted run: %w", err)
	}
	_ = os.Remove(f.Name()) // unlinked: the file disappears with the process, whatever happens
	bw := bufio.NewWriterSize(f, 1<<20)
	var hdr []byte
	for i := range s.ents {
		e := &s.ents[i]
		k, v := s.entry(e)
		hdr = binary.AppendUvarint(hdr[:0], uint64(len(k)))
		hdr = binary.BigEndian.AppendUint64(hdr, e.seq)
		hdr = binary.AppendUvarint(hdr, uint64(len(v)))
		bw.Write(hdr)
		bw.Write(k)
		if _, err := bw.Write(v); err != nil {
			f.Close()
			return fmt.Errorf("bulk load: write sorted run: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("bulk load: write sorted run: %w", err)
	}
	s.files = append(s.files, f)
	s.runs++
	if len(s.files) >= maxOpenRuns {
		if err := s.compactRuns(); err != nil {
			return err
		}
	}
	for i := range s.slabs {
		s.slabs[i] = nil
	}
	s.slabs, s.ents, s.used = s.slabs[:0], s.ents[:0], 0 // ents keeps its capacity for the next run
	return nil
}

// maxOpenRuns bounds the open run files: reaching it merges them into one run.
const maxOpenRuns = 32

// compactRuns merges all run files into one.
func (s *sorter) compactRuns() error {
	f, err := os.CreateTemp(s.dir, "chaintrace-bulk-run-*")
	if err != nil {
		return fmt.Errorf("bulk load: create sorted run: %w", err)
	}
	_ = os.Remove(f.Name())
	bw := bufio.NewWriterSize(f, 1<<20)
	var hdr []byte
	err = s.mergeFiles(context.Background(), func(k, v []byte, seq uint64) error {
		hdr = binary.AppendUvarint(hdr[:0], uint64(len(k)))
		hdr = binary.BigEndian.AppendUint64(hdr, seq)
		hdr = binary.AppendUvarint(hdr, uint64(len(v)))
		bw.Write(hdr)
		bw.Write(k)
		_, err := bw.Write(v)
		return err
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("bulk load: merge sorted runs: %w", err)
	}
	for _, old := range s.files {
		old.Close()
	}
	s.files = []*os.File{f}
	return nil
}

// merge calls fn with every entry in (key, seq) order.
func (s *sorter) merge(ctx context.Context, fn func(k, v []byte) error) error {
	if len(s.files) == 0 {
		s.sort()
		for i := range s.ents {
			if i%65536 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := fn(s.entry(&s.ents[i])); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.spill(); err != nil {
		return err
	}
	return s.mergeFiles(ctx, func(k, v []byte, _ uint64) error { return fn(k, v) })
}

// mergeFiles merges the run files in (key, seq) order.
func (s *sorter) mergeFiles(ctx context.Context, fn func(k, v []byte, seq uint64) error) error {
	h := &runHeap{}
	for _, f := range s.files {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("bulk load: rewind sorted run: %w", err)
		}
		r := &runReader{r: bufio.NewReaderSize(f, 1<<20)}
		if ok, err := r.next(); err != nil {
			return err
		} else if ok {
			h.rs = append(h.rs, r)
		}
	}
	heap.Init(h)
	n := 0
	for h.Len() > 0 {
		if n++; n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r := h.rs[0]
		if err := fn(r.k, r.v, r.seq); err != nil {
			return err
		}
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return nil
}

func (s *sorter) close() {
	for _, f := range s.files {
		f.Close()
	}
	s.files, s.slabs, s.ents = nil, nil, nil
}

type runReader struct {
	r   *bufio.Reader
	k   []byte
	v   []byte
	seq uint64
}

func (r *runReader) next() (bool, error) {
	n, err := binary.ReadUvarint(r.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bulk load: read sorted run: %w", err)
	}
	var seq [8]byte
	if _, err := io.ReadFull(r.r, seq[:]); err != nil {
		return false, fmt.Errorf("bulk load: read sorted run: %w", err)
	}
	r.seq = binary.BigEndian.Uint64(seq[:])
	vn, err := binary.ReadUvarint(r.r)
	if err != nil {
		return false, fmt.Errorf("bulk load: read sorted run: %w", err)
	}
	r.k = slices.Grow(r.k[:0], int(n))[:n]
	r.v = slices.Grow(r.v[:0], int(vn))[:vn]
	if _, err := io.ReadFull(r.r, r.k); err != nil {
		return false, fmt.Errorf("bulk load: read sorted run: %w", err)
	}
	if _, err := io.ReadFull(r.r, r.v); err != nil {
		return false, fmt.Errorf("bulk load: read sorted run: %w", err)
	}
	return true, nil
}

type runHeap struct{ rs []*runReader }

func (h *runHeap) Len() int { return len(h.rs) }
func (h *runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h.rs[i].k, h.rs[j].k); c != 0 {
		return c < 0
	}
	return h.rs[i].seq < h.rs[j].seq
}
func (h *runHeap) Swap(i, j int) { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *runHeap) Push(x any)    { h.rs = append(h.rs, x.(*runReader)) }
func (h *runHeap) Pop() any {
	x := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return x
}
